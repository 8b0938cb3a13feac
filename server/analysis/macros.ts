// bpftrace macros (0.24+): definitions, their parameters (`$var`, `@map`, identifier), hygiene
// inside the body, and calls matched against the definitions of that name. Rules from bpftrace's
// src/ast/passes/macro_expansion.cpp (v0.24.0, v0.25.0) and src/parser.cpp (v0.26.1).
import type { CallExpr, Expr, MacroDef } from '../syntax/ast';
import type { Checker } from './checker';
import { expr } from './expressions';
import { mapRef } from './maps';
import { define, lookup, withScope } from './scopes';
import { block } from './statements';
import { UNKNOWN, type Ty } from './types';

/** What the body of the macro being walked may name besides its own variables. */
export interface MacroFrame {
  maps: Set<string>;
  idents: Set<string>;
  vars: Set<string>;
}

/** Registers every definition before the walk: a macro may be called above its definition. */
export function collectMacros(cx: Checker): void {
  for (const item of cx.parsed.program.items) {
    if (item.kind !== 'macro') continue;
    const same = cx.macros.get(item.name.name) ?? [];
    const clash = same.find((m) =>
      cx.dialect.has('macroOverloads') ? sameShape(m.params, item.params) : true,
    );
    if (clash && cx.dialect.has('macro'))
      cx.report(item.name, 'error', 'macro', `Redefinition of macro: ${item.name.name}`, {
        related: [{ ...clash.name, message: 'This is the original definition.' }],
      });
    else same.push(item);
    cx.macros.set(item.name.name, same);
  }
}

export function macroDefinition(cx: Checker, item: MacroDef): void {
  cx.needs(item.name, 'macro', '`macro`');
  const frame: MacroFrame = { maps: new Set(), idents: new Set(), vars: new Set() };
  for (const p of item.params) {
    if (p.kind === 'map') frame.maps.add(p.name);
    else if (p.kind === 'var') frame.vars.add(p.name);
    else if (p.kind === 'ident') {
      if (cx.dialect.builtin(p.name) && cx.dialect.has('macro'))
        cx.report(p, 'error', 'macro', `builtin '${p.name}' can't be used as a macro argument`);
      frame.idents.add(p.name);
    } else cx.report(p, 'error', 'syntax', 'expected macro argument ($var, @map, or identifier)');
  }
  const saved = cx.macroFrame;
  cx.macroFrame = frame;
  withScope(cx, item.body, () => {
    for (const p of item.params) if (p.kind === 'var') define(cx, p.name, p, UNKNOWN);
    block(cx, item.body, false);
  });
  cx.macroFrame = saved;
}

/** A call of a name that has macro definitions. */
export function macroCall(cx: Checker, e: CallExpr, defs: MacroDef[]): Ty {
  for (const a of e.args) macroArgument(cx, a);
  const exact = defs.find((m) => distance(m.params, e.args) === 0);
  if (exact) return UNKNOWN;
  const closest = [...defs].sort((a, b) => distance(a.params, e.args) - distance(b.params, e.args))[0];
  if (closest.params.length !== e.args.length) {
    cx.report(
      e,
      'error',
      'arity',
      `Call to ${e.callee.name}() has ${e.args.length} arguments, but the macro takes ${closest.params.length}`,
      { related: [{ ...closest.name, message: `macro ${e.callee.name} defined here` }] },
    );
    return UNKNOWN;
  }
  closest.params.forEach((p, i) => {
    const a = e.args[i];
    if (p.kind !== 'map' && p.kind !== 'var') return;
    if (argKind(a) === p.kind) return;
    const want = p.kind === 'map' ? 'a map' : 'a variable';
    const got = argKind(a) === 'map' ? 'a map' : argKind(a) === 'var' ? 'a variable' : 'an expression';
    cx.report(
      a,
      'error',
      'macro',
      `Mismatched arg. ${e.callee.name}() expects ${want} for arg ${p.name} but got ${got}.`,
      {
        related: [{ ...p, message: 'This is the argument in the closest definition.' }],
      },
    );
  });
  return UNKNOWN;
}

/**
 * A map passed whole may be read or written by the macro, a variable passed may be assigned
 * there: neither is reported as undefined here.
 */
function macroArgument(cx: Checker, a: Expr): void {
  if (a.kind === 'map' && !a.keys) {
    mapRef(cx, a, true, true);
    return;
  }
  if (a.kind === 'var') {
    const v = lookup(cx, a.name);
    if (v) v.refs.push(a);
    else define(cx, a.name, a, UNKNOWN);
    return;
  }
  expr(cx, a);
}

function argKind(a: Expr): 'map' | 'var' | 'expr' {
  if (a.kind === 'map' && !a.keys) return 'map';
  if (a.kind === 'var') return 'var';
  return 'expr';
}

/** bpftrace's closeness: 1024 per missing or extra argument, 1 per `$`/`@` parameter not matched. */
function distance(params: Expr[], args: Expr[]): number {
  let d = 1024 * Math.abs(params.length - args.length);
  for (let i = 0; i < Math.min(params.length, args.length); i++) {
    const p = params[i].kind;
    if ((p === 'map' || p === 'var') && argKind(args[i]) !== p) d++;
  }
  return d;
}

function sameShape(a: Expr[], b: Expr[]): boolean {
  return a.length === b.length && a.every((p, i) => paramKind(p) === paramKind(b[i]));
}

function paramKind(p: Expr): string {
  return p.kind === 'map' || p.kind === 'var' ? p.kind : 'ident';
}
