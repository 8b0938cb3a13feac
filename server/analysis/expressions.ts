// Expression typing: the type of every expression (literals, variables, maps, operators,
// fields of args and structs, tuples and records, casts, sizeof/offsetof, block expressions),
// and the operand rules bpftrace's semantic analyser applies to them.
import type { Expr, FieldExpr, TypeRef } from '../syntax/ast';
import { call } from './calls';
import { comptime, typeofType } from './compile-time';
import type { Checker } from './checker';
import { INTEGER_TYPES } from './dialects';
import { ident } from './identifiers';
import { mapRead } from './maps';
import { binaryOperands, castOperand, indexOperands, ternaryOperands, unaryOperand } from './operands';
import type { Severity } from './results';
import { readVar } from './scopes';
import { block, incDec } from './statements';
import { closest } from './suggest';
import { display, fromCType, INT, STRING, structName, type Ty, UNKNOWN, VALUE_TYPES } from './types';

/** Kernel typedefs every BTF has; casts to them need no check. */
const COMMON_TYPEDEFS =
  /^((__)?[us](8|16|32|64)|__(be|le)(16|32|64)|u?int(8|16|32|64)_t|s?size_t|pid_t|uid_t|gid_t|[lk]?off_t|loff_t|dev_t|ino_t|u?mode_t|umode_t|time64_t|ktime_t|sector_t|gfp_t|uintptr_t|clockid_t|key_t|phys_addr_t|dma_addr_t|fmode_t|blkcnt_t|nlink_t|pgoff_t|atomic_t|atomic64_t|refcount_t|spinlock_t|wait_queue_head_t|__kernel_\w+_t)$/;

const BOOLEAN_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '&&', '||']);
/** Aggregations whose map value reads as an integer in kernel code (from 0.21). */
export const READABLE_AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg']);

const TRACEPOINT_ARGS_STRUCT = (c: string, e: string) => `struct _tracepoint_${c}_${e}`;

export function expr(cx: Checker, e: Expr): Ty {
  const ty = exprInner(cx, e);
  // Only what hover and member completion read is kept: field accesses, their objects, casts.
  // Writing a property onto every node costs more GC than the rest of the pass.
  if (e.kind === 'field' || e.kind === 'cast') cx.types.set(e, ty);
  return ty;
}

function exprInner(cx: Checker, e: Expr): Ty {
  switch (e.kind) {
    case 'int':
      if (e.suffix && !/^[ul]+$/i.test(e.suffix)) cx.needs(e, 'durations', `The duration literal ${e.text}`);
      return INT;
    case 'string':
      return STRING;
    case 'param':
      if (e.name === '$0') cx.report(e, 'error', 'invalid-param', 'Positional parameters start at $1');
      return UNKNOWN;
    case 'var':
      return readVar(cx, e);
    case 'map': {
      const sym = mapRead(cx, e);
      if (sym.value?.k === 'agg' && !cx.dialect.has('mapValueRead')) return sym.value;
      return sym.value?.k === 'agg' && READABLE_AGGREGATES.has(sym.value.fn) ? INT : (sym.value ?? UNKNOWN);
    }
    case 'ident':
      return ident(cx, e);
    case 'call':
      return call(cx, e, false);
    case 'binary': {
      const l = expr(cx, e.left);
      const r = expr(cx, e.right);
      if (binaryOperands(cx, e, l, r))
        return BOOLEAN_OPS.has(e.op) ? INT : l.k === 'ptr' ? l : r.k === 'ptr' ? r : INT;
      for (const [side, t] of [
        [e.left, l],
        [e.right, r],
      ] as const) {
        if (t.k === 'agg') {
          cx.report(
            e,
            'error',
            'type-mismatch',
            `Type mismatch for '${e.op}': '${t.fn}' map values cannot be used in expressions in bpftrace ${cx.dialect.name}`,
          );
          void side;
        }
      }
      if (
        (l.k === 'string') !== (r.k === 'string') &&
        l.k !== 'unknown' &&
        r.k !== 'unknown' &&
        l.k !== 'agg' &&
        r.k !== 'agg' &&
        (l.k === 'string' || r.k === 'string')
      ) {
        const other = l.k === 'string' ? r : l;
        const hint =
          other.k === 'ptr' && /char$/.test(other.to)
            ? `; read the string first: str(${cx.text.slice((l.k === 'string' ? e.right : e.left).start, (l.k === 'string' ? e.right : e.left).end)})`
            : '';
        cx.report(
          e,
          'error',
          'type-mismatch',
          `Type mismatch for '${e.op}': comparing '${display(l)}' with '${display(r)}'${hint}`,
        );
      }
      if (BOOLEAN_OPS.has(e.op)) return INT;
      return l.k === 'ptr' ? l : INT;
    }
    case 'unary': {
      if (e.op === '++' || e.op === '--') {
        incDec(cx, e.operand, e.op);
        return INT;
      }
      const t = expr(cx, e.operand);
      unaryOperand(cx, e, t);
      if (e.op === '*') {
        if (t.k === 'ptr') return fromCType(t.to);
        if (t.k === 'struct') {
          cx.report(
            e,
            'error',
            'invalid-operand',
            `Can not dereference struct/union of type '${t.name}'. It is not a pointer.`,
          );
          return UNKNOWN;
        }
        return INT;
      }
      if (e.op === '&') {
        cx.needs(e, 'addressOf', 'The address-of operator');
        return { k: 'ptr', to: display(t) };
      }
      return INT;
    }
    case 'ternary': {
      const c = expr(cx, e.cond);
      if (!e.then) cx.needs(e, 'shortTernary', 'The short ternary `?:`');
      const a = e.then ? expr(cx, e.then) : UNKNOWN;
      const b = expr(cx, e.else);
      ternaryOperands(cx, e, c, a, b);
      return a.k !== 'unknown' ? a : b;
    }
    case 'field':
      return field(cx, e);
    case 'index': {
      const t = expr(cx, e.object);
      expr(cx, e.index);
      if (t.k !== 'string' && indexOperands(cx, e, t)) return UNKNOWN;
      if (t.k === 'string' && !cx.dialect.has('stringIndex')) {
        cx.report(
          e,
          'error',
          'index',
          `The array index operator [] can only be used on arrays and pointers, found string (string indexing needs bpftrace 0.25)`,
        );
        return UNKNOWN;
      }
      if (t.k === 'ptr') return fromCType(t.to);
      if (t.k === 'tuple') return e.index.kind === 'int' ? (t.elements[e.index.value] ?? UNKNOWN) : UNKNOWN;
      if (t.k === 'other') {
        const m = /^(.*?)\s*\[(\d*)\]$/.exec(t.name);
        if (m) {
          const size = m[2] ? Number(m[2]) : undefined;
          if (size !== undefined && e.index.kind === 'int' && e.index.value >= size) {
            cx.report(
              e.index,
              'error',
              'index',
              `the index ${e.index.value} is out of bounds for array of size ${size}`,
            );
          }
          return fromCType(m[1]);
        }
      }
      return UNKNOWN;
    }
    case 'cast': {
      castOperand(cx, e, expr(cx, e.operand));
      return castType(cx, e.type, true);
    }
    case 'tuple': {
      if (e.names) {
        cx.needs(e, 'records', 'A record');
        return {
          k: 'tuple',
          elements: e.elements.map((x) => expr(cx, x)),
          names: e.names.map((n) => n.name),
        };
      }
      if (e.elements.length < 2) cx.needs(e, 'emptyTuples', 'An empty or one-element tuple');
      return { k: 'tuple', elements: e.elements.map((x) => expr(cx, x)) };
    }
    case 'sizeof':
      if (e.arg.kind === 'type') castType(cx, e.arg);
      else expr(cx, e.arg);
      return INT;
    case 'offsetof':
      cx.needs(e.keyword, 'offsetof', '`offsetof`');
      return INT;
    case 'blockexpr':
      cx.needs({ start: e.start, end: e.start + 1 }, 'blockExpressions', 'A block expression');
      block(cx, e.block, true);
      return UNKNOWN;
    case 'comptime':
      return comptime(cx, e);
    case 'type':
      return castType(cx, e);
    case 'error':
      return UNKNOWN;
  }
}

export function castType(cx: Checker, t: TypeRef, isCast = false): Ty {
  if (t.of) return typeofType(cx, t);
  if (t.array !== undefined) cx.needs(t, 'arrayCast', 'A cast to an array');
  if (isCast && (t.tag === 'struct' || t.tag === 'union') && t.pointer === 0 && t.array === undefined) {
    cx.report(
      t,
      'error',
      'invalid-cast',
      `Cannot cast to struct type "${t.tag} ${t.name}": cast to a pointer (${t.tag} ${t.name} *)`,
      {
        fixes: [
          {
            start: t.nameSpan.end,
            end: t.nameSpan.end,
            newText: ' *',
            title: `Cast to \`${t.tag} ${t.name} *\``,
          },
        ],
      },
    );
  }
  const scalar =
    isCast && !t.tag && t.pointer === 0 && t.array === undefined ? scalarType(cx, t.name) : 'known';
  if (scalar !== 'known') {
    const s = closest(t.name, INTEGER_TYPES);
    cx.report(
      t,
      scalar === 'unknown' ? 'error' : 'warning',
      'unknown-type',
      scalar === 'unknown'
        ? `Unknown type in cast: '${t.name}'${cx.dialect.has('typedefCasts') ? '' : ` (bpftrace ${cx.dialect.name} casts to ${INTEGER_TYPES.join(', ')} and to pointers)`}`
        : `Unknown type in cast: '${t.name}' is neither a bpftrace integer type nor a common kernel typedef; bpftrace fails unless the target kernel's BTF has it`,
      s ? cx.didYouMean(t.nameSpan, s) : {},
    );
  }
  if (t.tag === 'struct' || t.tag === 'union') {
    if (!cx.structMembers(t.name) && t.name) {
      const s = closest(
        t.name,
        cx.parsed.program.cDefinitions.map((d) => d.name?.name ?? ''),
      );
      // The catalog carries the layouts of common structs only, not the target's whole BTF: an
      // unknown name is certain only as a typo of a struct the script defines.
      cx.report(
        t,
        s ? 'error' : 'warning',
        'unknown-struct',
        s
          ? `Unknown struct/union: '${t.tag} ${t.name}'`
          : `Unknown struct/union: '${t.tag} ${t.name}' is not in the catalog (kernel ${cx.catalog.kernel}); bpftrace fails unless the target kernel's BTF has it`,
        s ? cx.didYouMean(t.nameSpan, s) : {},
      );
    }
  }
  return typeRefTy(t);
}

/** 'maybe': a typedef-looking name the catalog cannot confirm (it has no typedef list). */
function scalarType(cx: Checker, name: string): 'known' | 'maybe' | 'unknown' {
  if (INTEGER_TYPES.includes(name)) return 'known';
  // Verified on 0.17: (pid_t), (u64), (int), (bool) are all "Unknown struct/union".
  if (!cx.dialect.has('typedefCasts'))
    return name === 'bool' && cx.dialect.has('booleans') ? 'known' : 'unknown';
  if (name === 'bool') return cx.dialect.has('booleans') ? 'known' : 'unknown';
  if (COMMON_TYPEDEFS.test(name) || /^(unsigned |signed )?(char|short|int|long)( int| long)*$/.test(name))
    return 'known';
  return /_t$/.test(name) ? 'maybe' : 'unknown';
}

export function field(cx: Checker, e: FieldExpr): Ty {
  const obj = expr(cx, e.object);
  cx.types.set(e.object, obj);
  const name = e.field.name;
  if (!name) return UNKNOWN;
  if (obj.k === 'args') {
    const info = cx.ctx?.info;
    const dialect = cx.dialect;
    if (e.op === '.' && !dialect.has('argsDot')) {
      cx.report(
        e.opSpan,
        'error',
        'args-dot',
        `args is a pointer in bpftrace ${dialect.name}: write args->${name} (args.${name} needs bpftrace 0.19)`,
        {
          fixes: [{ ...e.opSpan, newText: '->', title: `Use \`args->${name}\`` }],
        },
      );
    } else if (e.op === '->' && dialect.minor >= 25) {
      cx.report(
        e.opSpan,
        'hint',
        'args-arrow',
        `args is a struct in bpftrace ${dialect.name}: args.${name} is the preferred form`,
        {
          fixes: [{ ...e.opSpan, newText: '.', title: `Use \`args.${name}\`` }],
        },
      );
    }
    if (!info || !info.rows.every((r) => r?.name === 'tracepoint')) return UNKNOWN;
    if (name.startsWith('common_')) {
      cx.report(e, 'error', 'common-field', 'BPF does not support accessing common tracepoint fields');
      return INT;
    }
    const fields = cx.argsFields(info);
    if (!fields) return UNKNOWN;
    const f = fields.find((x) => x.name === name);
    if (f) return fromCType(f.isArray && !/\[/.test(f.type) ? `${f.type}[]` : f.type);
    // Report against the tracepoint lacking the field, as bpftrace does.
    const lacking = info.tracepoints.find(
      (tp) => !cx.catalog.fields(tp.category, tp.event)?.some((x) => x.name === name),
    );
    const where = lacking ? `${lacking.category}:${lacking.event}` : 'this tracepoint';
    const s = closest(
      name,
      fields.map((x) => x.name),
    );
    const severity: Severity = cx.catalog.origin === 'node' ? 'error' : 'error';
    cx.report(
      e.field,
      severity,
      'unknown-field',
      `${lacking ? TRACEPOINT_ARGS_STRUCT(lacking.category, lacking.event) : 'args'} does not contain a field named '${name}' (tracepoint ${where})`,
      {
        ...(s ? cx.didYouMean(e.field, s) : {}),
      },
    );
    return UNKNOWN;
  }
  if (obj.k === 'tuple') {
    const named = obj.names?.indexOf(name) ?? -1;
    if (named >= 0) return obj.elements[named];
    if (obj.names) {
      const s = closest(name, obj.names);
      cx.report(
        e.field,
        'error',
        'field-access',
        `The record has no field '${name}' (fields: ${obj.names.join(', ')})`,
        s ? cx.didYouMean(e.field, s) : {},
      );
      return UNKNOWN;
    }
    if (/^\d+$/.test(name)) {
      const i = Number(name);
      if (i >= obj.elements.length)
        cx.report(
          e.field,
          'error',
          'tuple-index',
          `Invalid tuple index: ${i}. Found ${obj.elements.length} elements in tuple.`,
        );
      return obj.elements[i] ?? UNKNOWN;
    }
    cx.report(e.field, 'error', 'field-access', `Can not access field '${name}' on a tuple`);
    return UNKNOWN;
  }
  if (obj.k === 'ptr' || obj.k === 'struct') {
    const sname = structName(obj);
    if (obj.k === 'struct' && e.op === '->' && cx.dialect.minor < 25) {
      cx.report(
        e.opSpan,
        'error',
        'field-access',
        `Can not dereference struct/union of type '${obj.name}'. It is not a pointer: use '.'`,
        {
          fixes: [{ ...e.opSpan, newText: '.', title: `Use \`.${name}\`` }],
        },
      );
    }
    if (obj.k === 'ptr' && e.op === '.' && cx.dialect.minor < 25 && sname) {
      cx.report(
        e.opSpan,
        'error',
        'field-access',
        `Can not access field '${name}' on type '${display(obj)}'. Try dereferencing it first, or using '->'`,
        {
          fixes: [{ ...e.opSpan, newText: '->', title: `Use \`->${name}\`` }],
        },
      );
    }
    if (!sname) return UNKNOWN;
    const members = cx.structMembers(sname);
    if (!members) return UNKNOWN;
    const m = members.find((x) => x.name === name);
    if (m) return fromCType(m.type);
    const s = closest(
      name,
      members.map((x) => x.name),
    );
    cx.report(
      e.field,
      'error',
      'unknown-field',
      `Struct/union of type '${display(obj).replace(/ \*$/, '')}' does not contain a field named '${name}'`,
      s ? cx.didYouMean(e.field, s) : {},
    );
    return UNKNOWN;
  }
  // fexit's retval has the traced function's BTF return type, which the catalog does not hold.
  const btfRetval = e.object.kind === 'ident' && e.object.name === 'retval' && cx.ctx?.kinds.has('fexit');
  if (
    (obj.k === 'int' && !btfRetval) ||
    obj.k === 'string' ||
    obj.k === 'stack' ||
    (obj.k === 'other' && VALUE_TYPES.has(obj.name))
  ) {
    cx.report(
      e,
      'error',
      'field-access',
      `Can not access field '${name}' on expression of type '${display(obj)}'`,
    );
  }
  return UNKNOWN;
}

export function typeRefTy(t: TypeRef): Ty {
  const base = `${t.tag ? t.tag + ' ' : ''}${t.name}`;
  if (t.array !== undefined) return fromCType(`${base}[${t.array === 'unsized' ? '' : t.array}]`);
  if (t.pointer === 1) return { k: 'ptr', to: base };
  if (t.pointer > 1) return { k: 'ptr', to: base + ' ' + '*'.repeat(t.pointer - 1) };
  if (t.tag === 'struct' || t.tag === 'union') return { k: 'struct', name: base };
  if (t.name === 'string') return STRING;
  return { k: 'int', name: t.name };
}
