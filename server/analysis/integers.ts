// Integer types a scratch variable keeps, by version, where the script says them outright: casts
// to a sized integer (`$a = (uint64)1; $a = (int64)2;`) and literals where their type is plain
// (0.22-0.24: int64, v0.24.0 src/ast/ast.h Integer, v0.22.0 semantic_analyser.cpp
// visit(Integer); 0.25: the smallest unsigned type that holds it, a negative one the smallest
// signed, v0.25.0 src/ast/integer_types.cpp). Builtins and fields are typed by rules that moved
// in every release, and 0.26 made literals signed and sign-flexible (bpftrace PR #5138), so a
// variable given anything else is not judged here.
//
// 0.17-0.21: any integer fits any integer variable (semantic_analyser.cpp compares kinds:
//   `IsSameType`; `$a = (uint64)1; $a = (int64)2;` verified on 0.17).
// 0.22-0.24: the variable keeps its first type: another sign is "Type mismatch for $a: trying to
//   assign value of type 'int64' when variable already contains a value of type 'uint64'", a
//   wider one of the same sign "Integer size mismatch"; a literal is cast to it when it fits
//   ("... which does not fit into the variable of type ..."; a negative one into an unsigned
//   type is a type mismatch) (v0.24.0 semantic_analyser.cpp visit(AssignVarStatement),
//   3545-3630).
// 0.25: the type is promoted (v0.25.0 src/types.cpp get_promoted_int): the same sign takes the
//   wider; another sign takes the signed side when it is wider, else a signed type twice the
//   wider size, which for 64 bits does not exist: "... when variable already has a type ..."
//   (types/type_resolver.cpp get_var_type).
// 0.26 on: never an error, an implicit cast with a warning (bpftrace PR #5148).
import type { CastExpr, Expr, Span } from '../syntax/ast';
import type { Checker } from './checker';
import type { IntType } from './types';

const SIZED = /^(u?)int(8|16|32|64)$/;

/** The smallest of `bits` that holds `n` (a magnitude below 2^bits). */
export function smallest(n: number, signed: boolean): IntType {
  for (const bits of [8, 16, 32]) if (n < 2 ** (signed ? bits - 1 : bits)) return { signed, bits };
  return { signed, bits: 64 };
}

/** An integer whose type the script says outright; `literal` is the value of a literal. */
export interface Explicit {
  ty: IntType;
  literal?: number;
}

/** A literal integer's value (`-N` too), durations aside. */
export function literalValue(e: Expr): number | undefined {
  if (e.kind === 'int' && !e.suffix) return e.value;
  if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'int' && !e.operand.suffix)
    return -e.operand.value;
  return undefined;
}

/**
 * A cast to a sized integer; a literal where its type is known: 0.22-0.24 give it int64 (up to
 * int32's maximum in 0.22, past it uint64: larger ones are left alone), 0.25 the smallest type.
 */
export function explicitInteger(cx: Checker, e: Expr): Explicit | undefined {
  const literal = literalValue(e);
  if (literal !== undefined) {
    if (cx.dialect.has('integerVariablesPromote'))
      return { ty: literal < 0 ? smallest(-literal - 1, true) : smallest(literal, false), literal };
    if (cx.dialect.has('integerVariablesKeepType') && literal <= 2 ** 31 - 1)
      return { ty: { signed: true, bits: 64 }, literal };
    return undefined;
  }
  if (e.kind !== 'cast') return undefined;
  const t = (e as CastExpr).type;
  if (t.pointer || t.array !== undefined || t.tag) return undefined;
  const m = SIZED.exec(t.name);
  return m ? { ty: { signed: m[1] === '', bits: Number(m[2]) } } : undefined;
}

const name = (t: IntType) => `${t.signed ? '' : 'u'}int${t.bits}`;

/** Whether a literal fits an integer type (0.22-0.24 `getIntTypeRange`/`getUIntTypeRange`). */
export function fits(value: number, t: IntType): boolean {
  if (value < 0) return t.signed && -value <= 2 ** (t.bits - 1);
  return value <= 2 ** (t.signed ? t.bits - 1 : t.bits) - 1;
}

/**
 * Checks an integer assigned to a variable whose values so far were explicit ones; returns the
 * type the variable has after it.
 */
export function assignInteger(
  cx: Checker,
  span: Span,
  variable: string,
  had: IntType,
  value: Explicit,
): IntType {
  const ty = value.ty;
  const mismatch = () =>
    cx.report(
      span,
      'error',
      'type-mismatch',
      `Type mismatch for ${variable}: trying to assign value of type '${name(ty)}' when variable already ${
        cx.dialect.has('integerVariablesPromote') ? 'has a type' : 'contains a value of type'
      } '${name(had)}'`,
    );
  if (cx.dialect.has('integerVariablesKeepType')) {
    if (had.signed === ty.signed && had.bits === ty.bits) return had;
    if (value.literal !== undefined) {
      // A literal is cast to the variable's type when it fits.
      if (value.literal < 0 && !had.signed) mismatch();
      else if (!fits(value.literal, had))
        cx.report(
          span,
          'error',
          'type-mismatch',
          `Type mismatch for ${variable}: trying to assign value '${value.literal}' which does not fit into the variable of type '${name(had)}'`,
        );
    } else if (had.signed !== ty.signed) mismatch();
    else if (ty.bits > had.bits)
      cx.report(
        span,
        'error',
        'type-mismatch',
        `Integer size mismatch. Assignment type '${name(ty)}' is larger than the variable type '${name(had)}'.`,
      );
    return had;
  }
  if (!cx.dialect.has('integerVariablesPromote')) return had;
  const promoted = promoteInteger(had, ty);
  if (!promoted) mismatch();
  return promoted ?? had;
}

/** 0.25's type that holds both (v0.25.0 src/types.cpp get_promoted_int), none past 64 bits. */
export function promoteInteger(had: IntType, ty: IntType): IntType | undefined {
  if (had.signed === ty.signed) return { signed: had.signed, bits: Math.max(had.bits, ty.bits) };
  const signed = had.signed ? had : ty;
  const unsigned = had.signed ? ty : had;
  if (signed.bits > unsigned.bits) return signed;
  const bits = Math.max(had.bits, ty.bits) * 2;
  return bits <= 64 ? { signed: true, bits } : undefined;
}

/**
 * 0.22-0.24: the first value of a variable declared with an integer type is checked against it,
 * then the variable has the value's type (v0.24.0 semantic_analyser.cpp visit(AssignVarStatement):
 * `foundVar.type = assignTy` while `!was_assigned`); a literal is cast to the declared type from
 * 0.24, and up to 0.23 left the variable int64 (bpftrace commit 7cdf36013, PR #4180, "There was a
 * bug where we were automatically up-casting declared variables").
 */
export function firstDeclaredValue(
  cx: Checker,
  span: Span,
  variable: string,
  declared: IntType,
  value: Explicit | undefined,
): IntType | undefined {
  if (!value) return undefined;
  assignInteger(cx, span, variable, declared, value);
  if (value.literal === undefined) return value.ty;
  return cx.dialect.has('declaredLiteralUpcast') ? { signed: true, bits: 64 } : declared;
}
