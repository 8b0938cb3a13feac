// The operand rules of bpftrace's semantic analyser up to 0.22 (src/ast/passes/semantic_analyser.cpp
// of v0.17.0 .. v0.22.x: visit(Binop), binop_ptr, visit(Unop), visit(Ternary), visit(ArrayAccess),
// visit(If), visit(Predicate)): which types each operator, condition and index accepts. From 0.24
// the type checker was rewritten; there these checks stay off rather than guess.
// Types are named as bpftrace names them in its messages (integer, pointer, string, none, tuple,
// record, kstack, ...); an expression whose type the server does not know is never reported.
import type {
  BinaryExpr,
  CastExpr,
  Expr,
  IndexExpr,
  Program,
  Span,
  TernaryExpr,
  UnaryExpr,
} from '../syntax/ast';
import type { Checker } from './checker';
import { display, type Ty } from './types';

/** The last minor version whose operand rules this file describes. */
const OPERAND_RULES_UNTIL = 22;
/** Until 0.19 an index had to be an integer literal (0.20 accepts any integer expression). */
const LITERAL_INDEX_UNTIL = 19;

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
/** Values bpftrace types by the function that made them. */
const OTHER_TYPES: Record<string, string> = {
  ksym: 'ksym',
  usym: 'usym',
  inet: 'inet',
  buffer: 'buffer',
  strftime: 'timestamp',
  cgroup_path: 'cgroup_path',
  macaddr: 'mac_address',
  strerror: 'strerror',
  username: 'username',
  probe: 'probe',
};

export function operandRules(cx: Checker): boolean {
  return cx.dialect.minor <= OPERAND_RULES_UNTIL;
}

/** bpftrace's name of a type's kind, or undefined when the server cannot tell. */
export function typeKind(ty: Ty): string | undefined {
  switch (ty.k) {
    case 'int':
      return 'integer';
    case 'ptr':
      return 'pointer';
    case 'string':
      return 'string';
    case 'none':
      return 'none';
    case 'tuple':
      return 'tuple';
    case 'struct':
      return 'record';
    case 'stack':
      return ty.name === 'ustack' ? 'ustack' : 'kstack';
    case 'agg':
      return ty.fn;
    case 'other':
      if (/\[\d*\]$/.test(ty.name) && !ty.name.startsWith('__data_loc')) return 'array';
      return OTHER_TYPES[ty.name];
    default:
      return undefined;
  }
}

/** Binary operators: true when the rules here decided (reported or accepted) the operands. */
export function binaryOperands(cx: Checker, e: BinaryExpr, l: Ty, r: Ty): boolean {
  if (!operandRules(cx)) return false;
  const lk = typeKind(l);
  const rk = typeKind(r);
  if (!lk || !rk || l.k === 'agg' || r.k === 'agg') return false;
  const invalid = () =>
    cx.report(
      e.opSpan,
      'error',
      'invalid-operand',
      `The ${e.op} operator can not be used on expressions of types ${display(l)}, ${display(r)}`,
    );
  if (lk === 'pointer' || rk === 'pointer') {
    const other = lk === 'pointer' ? rk : lk;
    const compare = COMPARISONS.has(e.op);
    if (other === 'pointer') {
      if (!compare) invalid();
    } else if (other === 'integer') {
      if (e.op === '-' && lk !== 'pointer') invalid();
      else if (e.op !== '+' && e.op !== '-' && !compare) invalid();
    } else invalid();
    return true;
  }
  if (lk === 'integer' && rk === 'integer') return true;
  if (lk === 'array' && rk === 'array') return true;
  if (lk !== rk) {
    cx.report(
      e,
      'error',
      'type-mismatch',
      `Type mismatch for '${e.op}': comparing '${display(l)}' with '${display(r)}'`,
    );
    return true;
  }
  if (e.op !== '==' && e.op !== '!=') invalid();
  return true;
}

/** `-x`, `~x`, `!x` take integers; `*x` integers and pointers. */
export function unaryOperand(cx: Checker, e: UnaryExpr, t: Ty): void {
  if (!operandRules(cx)) return;
  const kind = typeKind(t);
  if (!kind || kind === 'integer') return;
  if (e.op === '*') {
    if (kind === 'pointer' || kind === 'record') return;
    cx.report(
      e,
      'error',
      'invalid-operand',
      `The dereference operator can not be used on expressions of type '${display(t)}'`,
    );
    return;
  }
  if (e.op === '-' || e.op === '~' || e.op === '!')
    cx.report(
      e,
      'error',
      'invalid-operand',
      `The ${e.op} operator can not be used on expressions of type '${display(t)}'`,
    );
}

/** `++`/`--` on a variable or map holding something else than an integer or a pointer. */
export function incDecOperand(cx: Checker, target: Span, op: string, t: Ty): void {
  if (!operandRules(cx)) return;
  const kind = typeKind(t);
  if (!kind || kind === 'integer' || kind === 'pointer') return;
  cx.report(
    target,
    'error',
    'invalid-operand',
    `The ${op} operator can not be used on expressions of type '${display(t)}'`,
  );
}

/** Both arms of the same kind, an integer condition, and arms bpftrace can return. */
export function ternaryOperands(cx: Checker, e: TernaryExpr, cond: Ty, a: Ty, b: Ty): void {
  if (!operandRules(cx) || !e.then) return;
  const ck = typeKind(cond);
  const ak = typeKind(a);
  const bk = typeKind(b);
  if (ak && bk && ak !== bk) {
    cx.report(
      e,
      'error',
      'type-mismatch',
      `Ternary operator must return the same type: have '${ak}' and '${bk}'`,
    );
    return;
  }
  if (ck && ck !== 'integer') {
    cx.report(e, 'error', 'invalid-condition', `Invalid condition in ternary: ${ck}`);
    return;
  }
  if (ak && ak !== 'integer' && ak !== 'string' && ak !== 'none')
    cx.report(e, 'error', 'invalid-operand', `Ternary return type unsupported ${ak}`);
}

/** `[]` takes arrays and pointers to sized types (and, until 0.19, integer literal indices). */
export function indexOperands(cx: Checker, e: IndexExpr, t: Ty): boolean {
  if (!operandRules(cx)) return false;
  const kind = typeKind(t);
  if (!kind) return false;
  if (kind !== 'array' && kind !== 'pointer') {
    cx.report(
      e,
      'error',
      'index',
      `The array index operator [] can only be used on arrays and pointers, found ${kind}.`,
    );
    return true;
  }
  if (t.k === 'ptr' && t.to === 'void') {
    cx.report(
      e,
      'error',
      'index',
      'The array index operator [] cannot be used on a pointer to an unsized type (void *).',
    );
    return true;
  }
  if (cx.dialect.minor <= LITERAL_INDEX_UNTIL && !isLiteralInt(e.index)) {
    cx.report(e, 'error', 'index', 'The array index operator [] only accepts literal integer indices.');
    return true;
  }
  return false;
}

/** An integer literal, a negative one (`-1`, verified on 0.17) or a positional parameter. */
function isLiteralInt(e: Expr): boolean {
  if (e.kind === 'unary' && e.op === '-') return isLiteralInt(e.operand);
  return e.kind === 'int' || e.kind === 'param';
}

/** A predicate is an integer or a pointer; an `if` condition an integer. */
export function conditionType(cx: Checker, where: 'predicate' | 'if', at: Span, t: Ty): void {
  if (!operandRules(cx)) return;
  const kind = typeKind(t);
  if (!kind || kind === 'integer' || (kind === 'pointer' && where === 'predicate')) return;
  if (where === 'predicate')
    cx.report(at, 'error', 'invalid-condition', `Invalid type for predicate: ${kind}`);
  else cx.report(at, 'error', 'invalid-condition', `Invalid condition in if(): ${kind}`);
}

/** A value nothing can hold: `none` (a call that returns nothing), alone or inside a tuple. */
export function assignedValue(cx: Checker, value: Expr, t: Ty): void {
  if (!operandRules(cx)) return;
  const none = t.k === 'none' || (t.k === 'tuple' && t.elements.some((x) => x.k === 'none'));
  if (none)
    cx.report(value, 'error', 'invalid-assignment', `Invalid expression for assignment: ${display(t)}`);
}

/** `x op= v` is `x = x op v`: the same operand rules as the binary operator. */
export function compoundOperands(
  cx: Checker,
  s: { op: string; opSpan: Span; target: Expr; value: Expr; start: number; end: number },
  had: Ty | undefined,
  value: Ty,
): void {
  if (!had || s.op === '=') return;
  const op = s.op.slice(0, -1);
  binaryOperands(
    cx,
    { kind: 'binary', op, opSpan: s.opSpan, left: s.target, right: s.value, start: s.start, end: s.end },
    had,
    value,
  );
}

/** Casts read integers and pointers; a cast to an integer type reads no string or tuple. */
export function castOperand(cx: Checker, e: CastExpr, t: Ty): void {
  if (!operandRules(cx)) return;
  const kind = typeKind(t);
  if (!kind) return;
  if (kind === 'none') {
    cx.report(e, 'error', 'invalid-cast', 'Cannot cast from "none" type');
    return;
  }
  // A struct value, whatever the target (visit(Cast): IsRecordTy(); verified on 0.17).
  if (kind === 'record') {
    cx.report(e, 'error', 'invalid-cast', `Cannot cast from struct type "${display(t)}"`);
    return;
  }
  const toInteger = !e.type.tag && e.type.pointer === 0 && e.type.array === undefined;
  if (toInteger && kind !== 'integer' && kind !== 'pointer' && kind !== 'record')
    cx.report(e, 'error', 'invalid-cast', `Casts are not supported for type: "${display(t)}"`);
}

/**
 * bpftrace types in several passes, so a predicate that reads a map assigned only further down
 * (`/@last/ { @last = comm; }`) is still checked: after the walk, with the map's final type.
 */
export function laterTypedPredicates(cx: Checker, program: Program): void {
  if (!operandRules(cx)) return;
  for (const item of program.items) {
    const pred = item.kind === 'probe' ? item.predicate : undefined;
    if (pred?.kind !== 'map' || pred.keys) continue;
    const value = cx.maps.get(pred.name)?.value;
    // From 0.21 a count/sum/min/max/avg map reads as an integer in kernel code.
    if (value?.k === 'agg' && cx.dialect.has('mapValueRead')) continue;
    if (!value || cx.diags.some((d) => d.start === pred.start && d.code === 'invalid-condition')) continue;
    conditionType(cx, 'predicate', pred, value);
  }
}
