// Typed declarations `let $x: T`, `let $x: T = value` (0.22 on): the type names of the version
// (dialects.ts DECLARATION_TYPES), and the declared type against the values the variable gets.
//
// A value of another kind is "Type mismatch for $x: trying to assign value of type 'int64' when
// variable already has a type 'string'" in every version (v0.22.0 semantic_analyser.cpp
// visit(AssignVarStatement), v0.25.0 types/cast_creator.cpp try_expression_cast). Integers:
// 0.22-0.24: the declared type is the variable's first type (integers.ts: sign, size, literals
//   that do not fit).
// 0.25: the declared type stays (types/type_resolver.cpp sized_decl_vars_); a literal must fit
//   it, another integer FitsInto it (types/cast_creator.cpp try_int_cast).
// 0.26 on: only a literal that does not fit is an error (v0.26.1 cast_creator.cpp try_int_cast;
//   another integer is cast with a warning).
import type { Expr, Span, TypeRef } from '../syntax/ast';
import type { Checker } from './checker';
import { declaredType } from './compile-time';
import { INTEGER_TYPES } from './dialects';
import { explicitInteger, fits, literalValue, smallest } from './integers';
import { valueMismatch } from './maps';
import type { VarSymbol } from './results';
import { STRING, type IntType, type Ty, UNKNOWN } from './types';

const name = (t: IntType) => `${t.signed ? '' : 'u'}int${t.bits}`;

/**
 * The type a declaration gives its variable, where its kind is known (integers, strings, structs,
 * pointers, stacks); UNKNOWN otherwise, so that the first value decides.
 */
export function declarationType(cx: Checker, t: TypeRef): Ty {
  if (t.of) return declaredType(cx, t);
  if (t.tag || t.pointer) return declaredType(cx, t);
  const row = cx.dialect.declarationType(t.name);
  if (!row) {
    if (!cx.dialect.has('anyDeclarationTypeName'))
      cx.report(
        t.nameSpan,
        'error',
        'syntax',
        `syntax error: unexpected identifier '${t.name}', expecting a type`,
      );
    return UNKNOWN;
  }
  if (t.array !== undefined && !row.sized && !INTEGER_TYPES.includes(t.name)) {
    cx.report(t, 'error', 'syntax', `syntax error: '${t.name}' takes no size in bpftrace ${cx.dialect.name}`);
    return UNKNOWN;
  }
  if (row.invalid) {
    cx.report(t, 'error', 'invalid-declaration', `Invalid variable declaration type: ${t.name}`);
    return UNKNOWN;
  }
  if (t.array !== undefined) return t.name === 'string' ? STRING : UNKNOWN;
  if (t.name === 'string') return STRING;
  if (t.name === 'kstack_t' || t.name === 'ustack_t') return { k: 'stack', name: t.name.slice(0, -2) };
  if (INTEGER_TYPES.includes(t.name)) return { k: 'int', name: t.name };
  return UNKNOWN;
}

/** The sized integer a declaration names, when it names one. */
export function declaredInteger(t: TypeRef | undefined): IntType | undefined {
  const m =
    t && !t.of && !t.tag && !t.pointer && t.array === undefined ? /^(u?)int(8|16|32|64)$/.exec(t.name) : null;
  return m ? { signed: m[1] === '', bits: Number(m[2]) } : undefined;
}

/** A `let`'s value against the declared type: its kind, then as any later value. */
export function declaredValue(
  cx: Checker,
  span: Span,
  v: VarSymbol,
  declared: Ty,
  value: Expr,
  ty: Ty,
): void {
  if (declared.k === 'unknown' || ty.k === 'unknown') return;
  valueMismatch(cx, span, 'type-mismatch', v.name, 'variable', declared, ty);
  if (v.declaredInt && cx.dialect.has('declaredIntegerKept')) declaredIntegerValue(cx, span, v, value);
}

/** 0.25 on: a value of a variable declared with an integer type (kept), where it is said outright. */
export function declaredIntegerValue(cx: Checker, span: Span, v: VarSymbol, value: Expr): void {
  const int = v.declaredInt;
  if (!int) return;
  const literal = literalValue(value);
  const mismatch = (had: string) =>
    cx.report(
      span,
      'error',
      'type-mismatch',
      `Type mismatch for ${v.name}: trying to assign value of type '${had}' when variable already has a type '${name(int)}'`,
    );
  if (literal !== undefined) {
    if (!fits(literal, int))
      mismatch(name(literal < 0 ? smallest(-literal - 1, true) : smallest(literal, false)));
    return;
  }
  const cast = cx.dialect.has('declaredIntegerStrict') ? explicitInteger(cx, value) : undefined;
  if (cast && !fitsInto(cast.ty, int)) mismatch(name(cast.ty));
}

/** v0.25.0 src/types.cpp SizedType::FitsInto for integers. */
function fitsInto(t: IntType, into: IntType): boolean {
  if (t.signed === into.signed) return t.bits <= into.bits;
  return !t.signed && t.bits < into.bits;
}
