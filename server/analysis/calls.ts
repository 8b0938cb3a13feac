// Calls: macros, functions per dialect (arity and version from dialects.ts's FUNCTIONS rows,
// argument rules from the declarative table of signatures.ts), the value a call returns, and the
// deprecated and unsafe forms.
import type { CallExpr, Expr } from '../syntax/ast';
import type { Checker } from './checker';
import { typeinfo } from './compile-time';
import { FUNCTIONS, type FunctionRow, versionName, versionNote } from './dialects';
import { literalDefine } from './defines';
import { expr } from './expressions';
import { ident } from './identifiers';
import { machineCall } from './machine';
import { macroCall } from './macros';
import { mapRef } from './maps';
import { printfFormat } from './printf';
import {
  type ArgPosition,
  type ArgRule,
  SIGNATURES,
  STACK_MODES,
  SIGNALS,
  STANDALONE_CALLS,
  STANDALONE_RULES_UNTIL,
} from './signatures';
import { isIPv4, isIPv6 } from 'node:net';
import { UNSAFE_PRAGMA } from '../../common/pragmas';
import { typeKind } from './operands';
import { closest } from './suggest';
import { display, INT, NONE, STRING, type Ty, UNKNOWN } from './types';

/** Where a call stands: alone, as the whole value of an assignment, or as a whole map key. */
export type CallPlace = 'statement' | 'map' | 'var' | 'key';

// Set by the statement or map key that holds the call, read when the call itself is checked.
// It lives on the node, like inferred types: a WeakMap of calls costs more in GC (bench:lsp).
type PlacedCall = CallExpr & { place?: CallPlace };

/** Says where a call stands (any other expression is ignored). */
export function placeCall(e: Expr, place: CallPlace): void {
  if (e.kind === 'call') (e as PlacedCall).place = place;
}

/**
 * Aggregations stand directly as a map's value; the calls of STANDALONE_CALLS stand alone (both
 * rules of bpftrace's check_assignment). From 0.24 on only the forms certain in every version are
 * reported: an aggregation alone or into a variable, an async call into a map, variable or key.
 */
function placement(cx: Checker, e: CallExpr, row: FunctionRow): void {
  const place = (e as PlacedCall).place;
  const all = cx.dialect.minor <= STANDALONE_RULES_UNTIL;
  if (row.aggregate) {
    if (place === 'map') return;
    if (all || place === 'statement' || place === 'var' || place === 'key')
      cx.report(e, 'error', 'aggregate-not-assigned', `${row.name}() should be directly assigned to a map`);
    return;
  }
  if (place === undefined || place === 'statement') return;
  if ((all && STANDALONE_CALLS.has(row.name)) || (row.async && row.returns === 'none'))
    cx.report(
      e,
      'error',
      'async-in-assignment',
      `${row.name}() should not be used in an assignment or as a map key`,
    );
}

/** A call: macros, known functions per dialect (arity, argument rules), builtins called as functions. */
export function call(cx: Checker, e: CallExpr, statement: boolean): Ty {
  const name = e.callee.name;
  if (name === 'typeinfo' && cx.dialect.has('typeinfo')) return typeinfo(cx, e);
  const macros = cx.macros.get(name);
  if (macros?.length && cx.dialect.has('macro')) return macroCall(cx, e, macros);
  const row = cx.dialect.func(name);
  if (!row) {
    // Unknown function: a bare map argument says nothing about the map's keys.
    for (const a of e.args) {
      if (a.kind === 'map' && !a.keys) mapRef(cx, a, false, true);
      else expr(cx, a);
    }
    const builtin = cx.dialect.builtin(name);
    if (builtin) {
      if (cx.dialect.has('builtinCalls'))
        return ident(cx, { kind: 'ident', name, start: e.callee.start, end: e.callee.end });
      cx.report(
        e.callee,
        'error',
        'unknown-function',
        `Unknown function: ${name} (${name} is a builtin variable: write it without parentheses)`,
        {
          fixes: [{ start: e.callee.end, end: e.end, newText: '', title: `Use \`${name}\`` }],
        },
      );
      return UNKNOWN;
    }
    const other = FUNCTIONS.find((f) => f.name === name);
    if (other) {
      cx.report(
        e.callee,
        'error',
        'unknown-function',
        `Unknown function: ${name} (${versionNote(other, cx.dialect)})`,
      );
      return UNKNOWN;
    }
    const s = closest(
      name,
      cx.dialect.funcs().map((f) => f.name),
    );
    cx.report(
      e.callee,
      'error',
      'unknown-function',
      `Unknown function: ${name}`,
      s ? cx.didYouMean(e.callee, s) : {},
    );
    return UNKNOWN;
  }
  void statement;
  placement(cx, e, row);
  if (
    name === 'delete' &&
    e.args.length === 1 &&
    e.args[0].kind === 'map' &&
    e.args[0].keys &&
    cx.dialect.has('delete2')
  ) {
    const m = e.args[0];
    const keys = m.keys!.map((k) => cx.text.slice(k.start, k.end));
    const key = keys.length === 1 ? keys[0] : `(${keys.join(', ')})`;
    cx.report(
      e,
      'hint',
      'deprecated',
      `delete(${m.name}[key]) is the old form; bpftrace ${cx.dialect.name} writes delete(${m.name}, key)`,
      {
        deprecated: true,
        fixes: [
          {
            start: m.start,
            end: m.end,
            newText: `${m.name}, ${key}`,
            title: `Use \`delete(${m.name}, ${key})\``,
          },
        ],
      },
    );
  }
  if (row.unsafe && !cx.unsafe) unsafeCall(cx, e);
  const [min, max] = cx.dialect.arity(row);
  const n = e.args.length;
  if (n < min || n > max) {
    let msg: string;
    if (min === max)
      msg =
        min === 0
          ? `${name}() requires no arguments (${n} provided)`
          : `${name}() requires ${min === 1 ? 'one argument' : `${min} arguments`} (${n} provided)`;
    else if (n < min)
      msg = `${name}() requires at least ${min === 1 ? 'one argument' : `${min} arguments`} (${n} provided)`;
    else msg = `${name}() takes up to ${max} argument${max === 1 ? '' : 's'} (${n} provided)`;
    const later = row.arity.find(([since, lo, hi]) => since > cx.dialect.minor && n >= lo && n <= hi);
    if (later) msg += `; bpftrace ${versionName(later[0])} accepts ${n}`;
    cx.report(e, 'error', 'arity', msg);
  }
  const tys: Ty[] = [];
  e.args.forEach((a, i) => {
    if (a.kind === 'map' && (row.argKinds?.[0] === 'map' || name === 'print' || name === 'len') && i === 0) {
      // bpftrace 0.17's delete(@m[key]) is an ordinary access: a keyed map without its key is an
      // argument mismatch (verified); only delete(@m, key) names the whole map.
      mapRef(cx, a, false, !(name === 'delete' && e.args.length === 1));
      if (!cx.mapAssigned.has(a.name) && !cx.macroFrame) cx.pendingMapReads.push({ name: a.name, span: a });
      const sym = cx.maps.get(a.name);
      tys.push(sym?.value ?? UNKNOWN);
      if (name === 'print' && a.keys && !cx.dialect.has('forMap')) {
        cx.report(e, 'error', 'argument-kind', 'The map passed to print() should not be indexed by a key');
      }
      return;
    }
    if ((name === 'kstack' || name === 'ustack') && a.kind === 'ident') {
      const modes = STACK_MODES.filter(([since]) => cx.dialect.minor >= since).map(([, mode]) => mode);
      if (!modes.includes(a.name)) {
        const s = closest(a.name, modes);
        cx.report(
          a,
          'error',
          'argument-kind',
          `${name}(): unknown stack mode '${a.name}' (expected ${modes.join(', ')})`,
          s ? cx.didYouMean(a, s) : {},
        );
      }
      tys.push(UNKNOWN);
      return;
    }
    // A member name (container_of's third argument) is a name, not a value.
    if (row.names?.includes(i) && a.kind === 'ident') tys.push(UNKNOWN);
    else tys.push(expr(cx, a));
  });
  checkArguments(cx, e, row, tys);
  machineCall(cx, e);
  if (row.aggregate) return { k: 'agg', fn: row.name };
  switch (row.returns) {
    case 'string':
      return STRING;
    case 'int':
      return INT;
    case 'stack':
      return { k: 'stack', name };
    case 'pointer':
      // container_of(ptr, T, member) points to a T.
      if (name === 'container_of') return tys[1]?.k === 'struct' ? { k: 'ptr', to: tys[1].name } : UNKNOWN;
      return tys[0] ?? UNKNOWN;
    case 'sym':
      return { k: 'other', name: name === 'ksym' ? 'ksym' : 'usym' };
    case 'none':
      return NONE;
    default:
      // Types of their own, which bpftrace compares with nothing but themselves (Binop: GetTy()).
      if (name === 'strerror' && cx.dialect.has('strerrorString')) return STRING;
      return { k: 'other', name: name === 'ntop' ? 'inet' : name === 'buf' ? 'buffer' : name };
  }
}

/** Applies the function's rules of signatures.ts, then the value kinds of its FUNCTIONS row. */
function checkArguments(cx: Checker, e: CallExpr, row: FunctionRow, tys: Ty[]): void {
  const name = row.name;
  const first = e.args[0];
  for (const rule of SIGNATURES[name] ?? []) {
    if ('until' in rule && rule.until !== undefined && cx.dialect.minor > rule.until) continue;
    if (rule.rule === 'format') {
      // A format function without arguments is an arity error, reported already.
      if (!first) return;
      // A macro's identifier parameter: the literal is whatever the caller passes.
      if (first.kind === 'ident' && cx.macroFrame?.idents.has(first.name)) return;
      if (first.kind !== 'string') {
        cx.report(
          e,
          'error',
          'argument-kind',
          `${name}() expects a string literal (${describeKind(tys[0])} provided)`,
        );
        return;
      }
      if (rule.conversions) printfFormat(cx, e, first.value, tys.slice(1));
      return;
    }
    if (applyRule(cx, e, row, tys, rule) && !('continues' in rule && rule.continues)) return;
  }
  if (row.argKinds?.[0] === 'map' && first && first.kind !== 'map') {
    cx.report(first, 'error', 'argument-kind', `${name}() expects a map to be provided`);
    return;
  }
  row.argKinds?.forEach((kind, i) => {
    const t = tys[i];
    if (!t || kind === '*' || t.k === 'unknown') return;
    if (kind === 'int' && t.k === 'string')
      cx.report(
        e.args[i],
        'error',
        'argument-kind',
        `${name}() expects an integer argument ${i + 1} (string provided)`,
      );
    if (kind === 'string' && (t.k === 'int' || t.k === 'ptr') && e.args[i].kind !== 'param')
      cx.report(
        e.args[i],
        'error',
        'argument-kind',
        `${name}() expects a string argument ${i + 1} (integer provided)`,
      );
  });
}

function positions(at: ArgPosition, count: number): number[] {
  if (typeof at === 'number') return at < count ? [at] : [];
  if (at === 'last') return count ? [count - 1] : [];
  const all: number[] = [];
  for (let i = at.from; i < count; i++) all.push(i);
  return all;
}

/** One rule of a signature; true when it reported. */
function applyRule(
  cx: Checker,
  e: CallExpr,
  row: FunctionRow,
  tys: Ty[],
  rule: Exclude<ArgRule, { rule: 'format' }>,
): boolean {
  const say = (message: string, i?: number, value = '') =>
    message
      .replace('{fn}', row.name)
      .replace('{provided}', describeKind(i === undefined ? undefined : tys[i]))
      .replace('{value}', value);
  let reported = false;
  switch (rule.rule) {
    case 'literal':
      for (const i of positions(rule.at, e.args.length)) {
        const a = e.args[i];
        const ok =
          a.kind === rule.kind ||
          literalDefine(cx, a, rule.kind) ||
          // str($1) of a positional parameter is a literal (known when bpftrace starts).
          (rule.kind === 'string' &&
            a.kind === 'call' &&
            a.callee.name === 'str' &&
            a.args.length === 1 &&
            a.args[0].kind === 'param') ||
          (rule.allowParam && a.kind === 'param') ||
          (rule.allowIdent && a.kind === 'ident');
        if (ok) continue;
        cx.report(rule.onCall ? e : a, 'error', 'argument-kind', say(rule.message, i));
        reported = true;
      }
      return reported;
    case 'notString':
      for (const i of positions(rule.at, e.args.length)) {
        if (tys[i]?.k !== 'string') continue;
        cx.report(rule.onCall ? e : e.args[i], 'error', 'argument-kind', say(rule.message, i));
        reported = true;
      }
      return reported;
    case 'oneOf': {
      const a = e.args[rule.at];
      if (a?.kind !== 'string' || rule.values.includes(a.value)) return false;
      const s = closest(a.value, [...rule.values]);
      cx.report(
        a,
        'error',
        'argument-kind',
        say(rule.message, rule.at, a.value),
        s ? cx.didYouMean(a, s) : {},
      );
      return true;
    }
    case 'range': {
      const a = e.args[rule.at];
      if (a?.kind !== 'int' || (a.value >= rule.min && a.value <= rule.max)) return false;
      cx.report(a, 'error', 'argument-kind', say(rule.message, rule.at));
      return true;
    }
    case 'kind': {
      const kind = tys[rule.at] && typeKind(tys[rule.at]);
      if (!kind || rule.kinds.includes(kind)) return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message.replace('{provided}', kind)));
      return true;
    }
    case 'nonNegative': {
      const a = e.args[rule.at];
      const negative =
        (a?.kind === 'int' && a.value < 0) ||
        (a?.kind === 'unary' && a.op === '-' && a.operand.kind === 'int' && a.operand.value > 0);
      if (!negative) return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message));
      return true;
    }
    case 'needsLength': {
      const kind = tys[0] && typeKind(tys[0]);
      if (e.args.length !== 1 || !kind || kind === 'array') return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message.replace('{provided}', kind)));
      return true;
    }
    case 'bytes': {
      const t = tys[rule.at];
      const size = t && byteSize(t);
      if (!t || (t.k !== 'string' && (size === undefined || rule.sizes.includes(size)))) return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message));
      return true;
    }
    case 'address': {
      const a = e.args[rule.at];
      if (a?.kind !== 'string') return false;
      const message = addressProblem(a.value);
      if (!message) return false;
      cx.report(e, 'error', 'argument-kind', `${row.name}() ${message}`);
      return true;
    }
    case 'stackMode':
      if (e.args.length !== 2 || e.args[0].kind === 'ident') return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message));
      return true;
    case 'atMost':
      for (const i of positions(rule.at, e.args.length)) {
        const a = e.args[i];
        if (a.kind !== 'int' || a.value <= rule.max) continue;
        cx.report(e, 'error', 'argument-kind', `${say(rule.message)}, ${a.value} given`);
        reported = true;
      }
      return reported;
    case 'printArgs': {
      const first = e.args[0];
      if (!first) return false;
      if (first.kind !== 'map') {
        const kind = tys[0] && typeKind(tys[0]);
        if (kind === 'none' || kind === 'pointer') {
          cx.report(e, 'error', 'argument-kind', `${kind} type passed to print() is not printable`);
          return true;
        }
        if (e.args.length === 1) return false;
        cx.report(e, 'error', 'arity', `Non-map print() only takes 1 argument, ${e.args.length} found`);
        return true;
      }
      for (const a of e.args.slice(1)) {
        if (a.kind === 'int' || a.kind === 'param') continue;
        cx.report(e, 'error', 'argument-kind', 'print() expects integer literals for top and div');
        return true;
      }
      return false;
    }
    case 'signal': {
      const a = e.args[0];
      if (!a) return false;
      let message: string | undefined;
      if (a.kind === 'string') {
        const upper = a.value.toUpperCase();
        const name = upper.startsWith('S') ? upper.replace(/^SIG/, '') : upper;
        if (!(upper.startsWith('S') ? upper.startsWith('SIG') : true) || !SIGNALS.includes(name))
          message = `${a.value} is not a valid signal`;
      } else if (a.kind === 'int' || (a.kind === 'unary' && a.op === '-' && a.operand.kind === 'int')) {
        const n = a.kind === 'int' ? a.value : -(a.operand as { value: number }).value;
        if (n < 1 || n > 64) message = `${n} is not a valid signal, allowed range: [1,64]`;
      } else if (tys[0] && typeKind(tys[0]) && typeKind(tys[0]) !== 'integer') {
        message = 'signal only accepts string literals or integers';
      }
      if (!message) return false;
      cx.report(e, 'error', 'argument-kind', message);
      return true;
    }
    case 'pattern': {
      const a = e.args[rule.at];
      if (a?.kind !== 'string' || rule.pattern.test(a.value)) return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message));
      return true;
    }
    case 'wholeMap': {
      const a = e.args[0];
      if (a?.kind !== 'map' || !a.keys) return false;
      cx.report(e, 'error', 'argument-kind', say(rule.message));
      return true;
    }
    case 'probes': {
      const rows = cx.ctx?.info.rows;
      if (!rows) return false;
      const bad = rows.find((r) => r && !rule.only.includes(r.name));
      if (!bad || !rows.every((r) => r)) return false;
      cx.report(
        e,
        'error',
        'builtin-unavailable',
        say(rule.message).replace('{probe}', cx.dialect.probeName(bad)),
      );
      return true;
    }
  }
}

function describeKind(t: Ty | undefined): string {
  if (!t || t.k === 'unknown') return 'none';
  if (t.k === 'string') return 'string';
  if (t.k === 'int' || t.k === 'ptr') return 'integer';
  return display(t);
}

/** The size in bytes of a byte array type (`__u8[4]`), when the server knows it. */
function byteSize(t: Ty): number | undefined {
  if (t.k !== 'other') return undefined;
  const m = /^(?:unsigned )?(?:char|u8|__u8|uint8|s8|__s8|int8)\s*\[(\d+)\]$/.exec(t.name);
  return m ? Number(m[1]) : undefined;
}

/** What bpftrace's pton() says of a literal: the family comes from a '.' or a ':'. */
function addressProblem(text: string): string | undefined {
  if (text.includes('.')) return isIPv4(text) ? undefined : `expects a valid IPv4/IPv6 address, got ${text}`;
  if (text.includes(':')) return isIPv6(text) ? undefined : `expects a valid IPv4/IPv6 address, got ${text}`;
  return `expects an string argument of an IPv4/IPv6 address, got ${text}`;
}

/** An unsafe call in a script that does not say it runs with `--unsafe`: the fix says so. */
function unsafeCall(cx: Checker, e: CallExpr): void {
  // After a shebang line, which must stay first.
  const at = cx.text.startsWith('#!') ? cx.text.indexOf('\n') + 1 || cx.text.length : 0;
  cx.report(
    e,
    'error',
    'unsafe',
    `${e.callee.name}() is an unsafe function being used in safe mode (it needs \`bpftrace --unsafe\`: add \`${UNSAFE_PRAGMA}\` to the script, or set fieldtrace.bpftrace.unsafe)`,
    {
      fixes: [
        {
          start: at,
          end: at,
          newText: `${UNSAFE_PRAGMA}\n`,
          title: `Run this script with --unsafe (add \`${UNSAFE_PRAGMA}\`)`,
        },
      ],
    },
  );
}
