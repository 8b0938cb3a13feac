// What bpftrace 0.25 evaluates while compiling: `comptime expr`, `typeof(x)` in type positions,
// `typeinfo(x)` (unstable: an error unless the config enables it), and types written as call
// arguments (container_of(p, struct T, member), macros taking types). Rules from v0.25.0
// src/parser.yy (comptime_expr, typeof_expr, typeinfo_expr), src/config.h (unstable_typeinfo =
// error) and src/ast/passes/unstable_feature.cpp; v0.26.1 and main keep them.
import type { CallExpr, ComptimeExpr, TypeRef } from '../syntax/ast';
import type { Checker } from './checker';
import { castType, expr, typeRefTy } from './expressions';
import { UNKNOWN, type Ty } from './types';

export function comptime(cx: Checker, e: ComptimeExpr): Ty {
  cx.needs(e.keyword, 'comptime', '`comptime`');
  return expr(cx, e.operand);
}

/** The type a `typeof(...)` names: its operand's. */
export function typeofType(cx: Checker, t: TypeRef): Ty {
  cx.needs(t.nameSpan, 'typeofType', '`typeof`');
  const of = t.of!;
  return of.kind === 'type' ? castType(cx, of) : expr(cx, of);
}

/** The type of a declaration (`let $x: T`), typeof included. */
export function declaredType(cx: Checker, t: TypeRef): Ty {
  return t.of ? typeofType(cx, t) : typeRefTy(t);
}

export function typeinfo(cx: Checker, e: CallExpr): Ty {
  for (const a of e.args)
    if (a.kind === 'type') castType(cx, a);
    else expr(cx, a);
  if (e.args.length !== 1)
    cx.report(e, 'error', 'arity', `typeinfo() requires one argument (${e.args.length} provided)`);
  const setting = cx.parsed.program.config?.entries.find((x) => x.key.name === 'unstable_typeinfo');
  const value = setting?.value?.kind === 'ident' ? setting.value.name : undefined;
  if (value !== 'enable' && value !== 'warn')
    cx.report(
      e.callee,
      'error',
      'unstable',
      'typeinfo is an unstable feature: enable it with config = { unstable_typeinfo = enable }',
    );
  return UNKNOWN;
}
