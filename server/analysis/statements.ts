// Statements: blocks and their scopes, assignments (variables and maps), `let`, `if`, loops
// (`while`, `unroll`, `for` over maps and ranges) with `break`/`continue`, `++`/`--`.
import type { Block, Expr, Span, Stmt } from '../syntax/ast';
import type { Edit } from './results';
import { call, placeCall } from './calls';
import type { Checker } from './checker';
import { declarationType, declaredInteger, declaredIntegerValue, declaredValue } from './declarations';
import { FEATURES } from './dialects';
import { expr } from './expressions';
import { assignInteger, explicitInteger, firstDeclaredValue } from './integers';
import { mapRef, mapValue, valueMismatch } from './maps';
import { assignedValue, compoundOperands, conditionType, incDecOperand } from './operands';
import { define, lookup, readVar, withScope } from './scopes';
import { INT, kindOf, type Ty, UNKNOWN } from './types';

export function block(cx: Checker, body: Block, scoped: boolean): void {
  if (body.empty && !cx.dialect.has('blockStatements')) {
    for (const e of body.empty)
      cx.report(
        e,
        'error',
        'syntax',
        `syntax error: unexpected ';' (empty statements need bpftrace 0.${FEATURES.blockStatements.since})`,
      );
  }
  const run = () => {
    for (const s of body.statements) stmt(cx, s);
  };
  if (scoped) withScope(cx, body, run);
  else run();
}

export function stmt(cx: Checker, s: Stmt): void {
  const scoped = cx.dialect.has('blockScoping');
  switch (s.kind) {
    case 'exprstmt': {
      const e = s.expr;
      if (e.kind === 'unary' && (e.op === '++' || e.op === '--')) {
        incDec(cx, e.operand, e.op);
        return;
      }
      if (e.kind === 'call') {
        placeCall(e, 'statement');
        call(cx, e, true);
        return;
      }
      expr(cx, e);
      return;
    }
    case 'assign':
      assign(cx, s);
      return;
    case 'if':
      conditionParentheses(cx, s.cond, s.parenthesized, 'if');
      conditionType(cx, 'if', s.cond, expr(cx, s.cond));
      block(cx, s.then, scoped);
      if (s.else) {
        if (s.else.kind === 'block') block(cx, s.else, scoped);
        else stmt(cx, s.else);
      }
      return;
    case 'unroll': {
      conditionParentheses(cx, s.count, s.parenthesized, 'unroll');
      const c = s.count;
      if (c.kind === 'int') {
        if (c.value > 100) cx.report(s, 'error', 'unroll-range', 'unroll maximum value is 100');
        else if (c.value < 1) cx.report(s, 'error', 'unroll-range', 'unroll minimum value is 1');
      } else if (c.kind !== 'param') {
        cx.report(
          c,
          'error',
          'unroll-range',
          'unroll count must be an integer literal or a positional parameter',
        );
      }
      block(cx, s.body, scoped);
      return;
    }
    case 'while':
      conditionParentheses(cx, s.cond, s.parenthesized, 'while');
      if (cx.dialect.deprecated('whileLoop'))
        cx.report(
          s.keyword,
          'warning',
          'deprecated',
          '`while` loops are deprecated; use `for` with a range',
          { deprecated: true },
        );
      expr(cx, s.cond);
      cx.loops.depth++;
      block(cx, s.body, scoped);
      cx.loops.depth--;
      return;
    case 'for': {
      const isRange = s.iterable.kind === 'range';
      if (
        !cx.needs(s.keyword, isRange ? 'forRange' : 'forMap', isRange ? 'A range `for` loop' : 'A `for` loop')
      ) {
        return;
      }
      if (!s.parenthesized && !cx.dialect.has('forWithoutParens')) {
        cx.report(
          s.variable,
          'error',
          'syntax',
          `syntax error: \`for\` needs parentheses in bpftrace ${cx.dialect.name}: for (${s.variable.name} : ...)`,
          { fixes: [parenthesize({ start: s.variable.start, end: s.iterable.end })] },
        );
      }
      let ty: Ty = UNKNOWN;
      if (s.iterable.kind === 'range') {
        expr(cx, s.iterable.from);
        expr(cx, s.iterable.to);
        ty = INT;
      } else if (s.iterable.kind === 'map') {
        mapRef(cx, s.iterable, false, true);
        const m = cx.maps.get(s.iterable.name);
        const key: Ty =
          m?.keys && m.keys.length > 1 ? { k: 'tuple', elements: m.keys } : (m?.keys?.[0] ?? UNKNOWN);
        ty = { k: 'tuple', elements: [key, m?.value ?? UNKNOWN] };
        if (s.iterable.keys)
          cx.report(s.iterable, 'error', 'for-map', 'A `for` loop iterates over a whole map: drop the key');
      } else {
        expr(cx, s.iterable);
        cx.report(
          s.iterable,
          'error',
          'for-map',
          'A `for` loop iterates over a map (`@m`) or a range (`a..b`)',
        );
      }
      cx.loops.depth++;
      cx.loops.forDepth++;
      withScope(cx, s.body, () => {
        define(cx, s.variable.name, s.variable, ty);
        block(cx, s.body, false);
      });
      cx.loops.depth--;
      cx.loops.forDepth--;
      return;
    }
    case 'return':
      if (s.value) expr(cx, s.value);
      return;
    case 'break':
    case 'continue':
      if (cx.loops.depth === 0)
        cx.report(s, 'error', 'jump-outside-loop', `${s.kind} used outside of a loop`);
      else if (cx.loops.forDepth > 0 && !cx.dialect.has('breakInFor'))
        cx.report(
          s,
          'error',
          'dialect',
          `${s.kind} in a \`for\` loop needs bpftrace 0.24 (target ${cx.dialect.name})`,
        );
      return;
    case 'let': {
      if (!cx.needs(s.keyword, 'let', '`let`')) {
        if (s.value) expr(cx, s.value);
        define(cx, s.variable.name, s.variable, UNKNOWN);
        return;
      }
      const declared = s.type ? declarationType(cx, s.type) : UNKNOWN;
      const valueTy = s.value ? expr(cx, s.value) : UNKNOWN;
      const earlier = lookup(cx, s.variable.name);
      if (earlier) {
        // bpftrace has no shadowing: an inner `let` of a visible name is an error too.
        cx.report(
          s.variable,
          'error',
          'redeclared-variable',
          `Variable ${s.variable.name} is already declared; bpftrace does not allow shadowing`,
          {
            related: earlier.defs[0]
              ? [{ ...earlier.defs[0], message: `${s.variable.name} first declared here` }]
              : undefined,
          },
        );
      }
      const v = define(cx, s.variable.name, s.variable, declared.k !== 'unknown' ? declared : valueTy);
      if (earlier) return;
      v.declaredInt = declaredInteger(s.type);
      v.castInt = v.declaredInt;
      if (s.value) {
        declaredValue(cx, s, v, declared, s.value, valueTy);
        const cast = explicitInteger(cx, s.value);
        if (!s.type) v.castInt = cast?.ty;
        else if (v.declaredInt && !cx.dialect.has('declaredIntegerKept'))
          v.castInt = firstDeclaredValue(cx, s, v.name, v.declaredInt, cast);
      } else v.declaredPending = v.declaredInt !== undefined;
      return;
    }
    case 'blockstmt':
      cx.needs({ start: s.start, end: s.start + 1 }, 'blockStatements', 'A nested block');
      block(cx, s.block, scoped);
      return;
  }
}

export function incDec(cx: Checker, target: Expr, op: string): void {
  if (target.kind === 'var') {
    const known = lookup(cx, target.name);
    if (!known) readVar(cx, target);
    else {
      known.refs.push(target);
      // What `++`/`--` make of an integer's type moved between releases: no longer judged.
      known.castInt = undefined;
      incDecOperand(cx, target, op, known.ty);
    }
  } else if (target.kind === 'map') {
    mapRef(cx, target, true);
    mapValue(cx, target, INT);
  } else {
    expr(cx, target);
    cx.report(target, 'error', 'invalid-operand', `The ${op} operator must be applied to a map or variable`);
  }
}

export function assign(cx: Checker, s: Extract<Stmt, { kind: 'assign' }>): void {
  const value = s.value;
  placeCall(value, s.target.kind === 'map' ? 'map' : 'var');
  let ty: Ty;
  if (value.kind === 'call' && cx.dialect.func(value.callee.name)?.aggregate) {
    const row = cx.dialect.func(value.callee.name)!;
    call(cx, value, false);
    if (s.target.kind === 'map' && s.op !== '=') {
      cx.report(
        s.opSpan,
        'error',
        'aggregate-not-assigned',
        `${row.name}() must be assigned with '=', not '${s.op}'`,
      );
    }
    ty = { k: 'agg', fn: row.name };
  } else {
    ty = expr(cx, value);
    if (value.kind !== 'call') assignedValue(cx, value, ty);
  }
  const target = s.target;
  const had =
    target.kind === 'var'
      ? lookup(cx, target.name)?.ty
      : target.kind === 'map'
        ? cx.maps.get(target.name)?.value
        : undefined;
  compoundOperands(cx, s, had, ty);
  if (target.kind === 'var') {
    if (s.op !== '=' && !lookup(cx, target.name)) readVar(cx, target);
    const existing = lookup(cx, target.name);
    if (existing && s.op === '=' && ty.k !== 'unknown' && existing.ty.k !== 'unknown') {
      valueMismatch(
        cx,
        s.opSpan,
        'type-mismatch',
        target.name,
        'variable',
        existing.ty,
        ty,
        existing.defs[0],
      );
    }
    const cast = explicitInteger(cx, value);
    const before = existing?.castInt;
    const v = define(cx, target.name, target, ty);
    if (s.op !== '=') v.castInt = undefined;
    else if (existing?.declaredInt && cx.dialect.has('declaredIntegerKept'))
      declaredIntegerValue(cx, s, existing, value);
    else if (!existing) v.castInt = cast?.ty;
    else if (existing.declaredPending && existing.declaredInt) {
      existing.declaredPending = false;
      v.castInt = firstDeclaredValue(cx, s, target.name, existing.declaredInt, cast);
    } else if (before) v.castInt = cast ? assignInteger(cx, s, target.name, before, cast) : undefined;
    if (ty.k !== 'unknown' && (v.ty.k === 'unknown' || s.op === '='))
      v.ty = kindOf(v.ty) === kindOf(ty) || v.ty.k === 'unknown' ? ty : v.ty;
  } else if (target.kind === 'map') {
    mapRef(cx, target, true);
    if (ty.k === 'args' && !cx.dialect.has('argsDot')) {
      cx.report(
        value,
        'error',
        'args-unavailable',
        `args (the probe context) cannot be assigned to a map in bpftrace ${cx.dialect.name}; store a field, e.g. args->fd`,
      );
    } else mapValue(cx, target, ty, s.op === '=' ? value : undefined, s);
  }
  // Other targets were reported by the parser; `_` discards (0.25).
}

/** The quick fix that wraps a condition or loop header in parentheses. */
function parenthesize(span: Span): Edit {
  return {
    start: span.start,
    end: span.start,
    newText: '(',
    title: 'Add parentheses',
    more: [{ start: span.end, end: span.end, newText: ')' }],
  };
}

/**
 * Before 0.25 the condition of `if`/`while`/`unroll` is parenthesized; from 0.25 bpftrace reads an
 * unparenthesized one as a single unary expression (v0.25.0 src/parser.yy cond_expr).
 */
function conditionParentheses(cx: Checker, cond: Expr, parenthesized: boolean, keyword: string): void {
  if (parenthesized) return;
  const bare = cx.dialect.has('ifWithoutParens');
  if (bare && cond.kind !== 'binary' && cond.kind !== 'ternary') return;
  cx.report(
    cond,
    'error',
    'syntax',
    bare
      ? `syntax error: without parentheses the condition of \`${keyword}\` is a single operand; write ${keyword} (...)`
      : `syntax error: the condition of \`${keyword}\` needs parentheses in bpftrace ${cx.dialect.name}`,
    { fixes: [parenthesize(cond)] },
  );
}
