// Integer types a scratch variable keeps, by version, where the script says them outright: the
// first value and a later one are both casts to a sized integer (`$a = (uint64)1; ...
// $a = (int64)2;`). Literals, builtins and fields are typed by rules that moved in every release
// (literals became int8 in 0.26, bpftrace PR #5138), so nothing else is judged here.
//
// 0.17-0.21: any integer fits any integer variable (semantic_analyser.cpp compares kinds:
//   `IsSameType`; `$a = (uint64)1; $a = (int64)2;` verified on 0.17).
// 0.22-0.24: the variable keeps its first type: another sign is "Type mismatch for $a: trying to
//   assign value of type 'int64' when variable already contains a value of type 'uint64'", a
//   wider one of the same sign "Integer size mismatch" (v0.24.0 semantic_analyser.cpp
//   visit(AssignVarStatement), 3590-3630).
// 0.25: the type is promoted (v0.25.0 src/types.cpp get_promoted_int): the same sign takes the
//   wider; another sign takes the signed side when it is wider, else a signed type twice the
//   wider size, which for 64 bits does not exist: "... when variable already has a type ..."
//   (types/type_resolver.cpp get_var_type).
// 0.26 on: never an error, an implicit cast with a warning (bpftrace PR #5148).
import type { CastExpr, Expr, Span } from '../syntax/ast';
import type { Checker } from './checker';
import type { IntType } from './types';

const SIZED = /^(u?)int(8|16|32|64)$/;

/** The sized integer an expression is cast to, when it is such a cast. */
export function castInteger(e: Expr): IntType | undefined {
  if (e.kind !== 'cast') return undefined;
  const t = (e as CastExpr).type;
  if (t.pointer || t.array !== undefined || t.tag) return undefined;
  const m = SIZED.exec(t.name);
  return m ? { signed: m[1] === '', bits: Number(m[2]) } : undefined;
}

const name = (t: IntType) => `${t.signed ? '' : 'u'}int${t.bits}`;

/**
 * Checks a cast integer assigned to a variable whose first value was one; returns the type the
 * variable has after it.
 */
export function assignInteger(cx: Checker, span: Span, variable: string, had: IntType, ty: IntType): IntType {
  if (cx.dialect.has('integerVariablesKeepType')) {
    if (had.signed !== ty.signed)
      cx.report(
        span,
        'error',
        'type-mismatch',
        `Type mismatch for ${variable}: trying to assign value of type '${name(ty)}' when variable already contains a value of type '${name(had)}'`,
      );
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
  if (had.signed === ty.signed) return { signed: had.signed, bits: Math.max(had.bits, ty.bits) };
  const signed = had.signed ? had : ty;
  const unsigned = had.signed ? ty : had;
  if (signed.bits > unsigned.bits) return signed;
  const bits = Math.max(had.bits, ty.bits) * 2;
  if (bits <= 64) return { signed: true, bits };
  cx.report(
    span,
    'error',
    'type-mismatch',
    `Type mismatch for ${variable}: trying to assign value of type '${name(ty)}' when variable already has a type '${name(had)}'`,
  );
  return had;
}
