// Scopes and scratch variables: where a `$name` is visible, its definitions and references, and
// the reads of names nothing defines (deferred to the end of the probe from 0.23, where a read
// may come before the assignment).
import type { Expr, Span } from '../syntax/ast';
import type { Checker, Scope } from './checker';
import type { VarSymbol } from './results';
import { closest } from './suggest';
import { UNKNOWN, type Ty } from './types';

export function withScope(cx: Checker, block: Span, fn: () => void): void {
  const saved = cx.scope;
  cx.scope = { parent: saved, vars: new Map(), span: block };
  try {
    fn();
  } finally {
    cx.scope = saved;
  }
}

export function lookup(
  cx: Checker,
  name: string,
  scope: Scope | undefined = cx.scope,
): VarSymbol | undefined {
  for (let s = scope; s; s = s.parent) {
    const v = s.vars.get(name);
    if (v) return v;
  }
  return undefined;
}

export function define(cx: Checker, name: string, span: Span, ty: Ty): VarSymbol {
  const existing = lookup(cx, name);
  if (existing) {
    existing.defs.push(span);
    existing.refs.push(span);
    if (existing.ty.k === 'unknown') existing.ty = ty;
    return existing;
  }
  const v: VarSymbol = {
    name,
    probe: cx.ctx?.info.probe,
    refs: [span],
    defs: [span],
    ty,
    scope: cx.scope?.span ?? span,
  };
  cx.scope?.vars.set(name, v);
  cx.vars.push(v);
  return v;
}

export function undefinedVar(cx: Checker, name: string, span: Span): void {
  const visible: string[] = [];
  for (let s = cx.scope; s; s = s.parent) visible.push(...s.vars.keys());
  const sug = closest(name, visible);
  cx.report(
    span,
    'error',
    'undefined-variable',
    `Undefined or undeclared variable: ${name}`,
    sug ? cx.didYouMean(span, sug) : {},
  );
}

export function readVar(cx: Checker, e: Extract<Expr, { kind: 'var' }>): Ty {
  const v = lookup(cx, e.name);
  if (v) {
    v.refs.push(e);
    return v.ty;
  }
  if (cx.dialect.has('useBeforeAssign') && cx.ctx) {
    cx.ctx.pendingReads.push({ scope: cx.scope!, name: e.name, span: e });
  } else {
    undefinedVar(cx, e.name, e);
  }
  return UNKNOWN;
}

/** Reads that waited for the end of their probe: an error only if still undefined there. */
export function settlePendingReads(cx: Checker): void {
  for (const r of cx.ctx?.pendingReads ?? []) {
    if (!lookup(cx, r.name, r.scope)) undefinedVar(cx, r.name, r.span);
  }
}
