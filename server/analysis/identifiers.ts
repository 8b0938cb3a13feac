// Identifiers: builtin variables per dialect (and their deprecations), `arg0`..`arg9`,
// constants from #define, C enums and #include tables, parameterless macros, kernel enum
// constants; and the messages for names known only in another version or from a header.
import type { Expr } from '../syntax/ast';
import type { Checker } from './checker';
import { BUILTINS, type BuiltinRow, versionNote } from './dialects';
import { defineUse } from './defines';
import { builtinUse } from './probes';
import type { Diag } from './results';
import { closest } from './suggest';
import { INT, STRING, type Ty, UNKNOWN } from './types';

/** Which header brings a common constant, for the "missing #include" quick fix. */
const HEADER_HINTS: Array<[RegExp, string]> = [
  [/^(AF|PF|SOCK|SOL|MSG|SOMAXCONN)_?/, 'linux/socket.h'],
  [/^(IPPROTO|INADDR|IP)_/, 'linux/in.h'],
  [/^(O|F|AT)_/, 'linux/fcntl.h'],
  [/^(E[A-Z]+)$/, 'linux/errno.h'],
  [/^SIG/, 'linux/signal.h'],
  [/^(CLONE)_/, 'linux/sched.h'],
  [/^(PROT|MAP)_/, 'linux/mman.h'],
];

export function ident(cx: Checker, e: Extract<Expr, { kind: 'ident' }>): Ty {
  const b = cx.dialect.builtin(e.name);
  if (b) {
    builtinUse(cx, e, b.name);
    if (b.deprecated !== undefined && cx.dialect.minor >= b.deprecated) {
      cx.report(e, 'warning', 'deprecated', `${e.name} is deprecated since bpftrace 0.${b.deprecated}`, {
        deprecated: true,
      });
    }
    if (b.name === 'probe' && !cx.dialect.has('probeString')) return PROBE;
    // func is a usym in uprobes (semantic_analyser.cpp visit(Builtin)), a ksym elsewhere.
    if (b.name === 'func' && cx.ctx && (cx.ctx.kinds.has('uprobe') || cx.ctx.kinds.has('uretprobe')))
      return cx.ctx.kinds.size === 1 ? USYM : UNKNOWN;
    return builtinType(b);
  }
  if (/^arg\d+$/.test(e.name) || /^sarg\d+$/.test(e.name)) {
    const row = BUILTINS.find((x) => x.name === e.name);
    if (row && !cx.dialect.available(row)) {
      cx.report(e, 'error', 'unknown-identifier', `${e.name} is ${versionNote(row, cx.dialect)}`);
      return UNKNOWN;
    }
    if (!row)
      cx.report(
        e,
        'error',
        'unknown-identifier',
        `Unknown identifier: '${e.name}' (bpftrace ${cx.dialect.name} knows arg0 to arg9)`,
      );
    return INT;
  }
  const c = cx.constants.get(e.name);
  if (c) return c.origin === '#define' ? defineUse(cx, e) : INT;
  if (cx.macroFrame?.idents.has(e.name)) return UNKNOWN;
  if (cx.dialect.has('macro') && cx.macros.get(e.name)?.some((m) => m.params.length === 0)) return UNKNOWN;
  if (cx.catalog.enumConstant(e.name) !== undefined) return INT;
  // Names the target knows in another version.
  const row = BUILTINS.find((x) => x.name === e.name);
  if (row) {
    cx.report(e, 'error', 'unknown-identifier', `${e.name} is ${versionNote(row, cx.dialect)}`);
    return UNKNOWN;
  }
  const extra: Partial<Diag> = {};
  const candidates = [...cx.dialect.builtins().map((x) => x.name), ...cx.constants.keys()];
  const s = closest(e.name, candidates);
  if (s) Object.assign(extra, cx.didYouMean(e, s));
  const header = HEADER_HINTS.find(([re]) => re.test(e.name))?.[1];
  const headerConst =
    header &&
    [header, 'linux/in.h', 'linux/in6.h', 'linux/socket.h'].find((h) => cx.catalog.constants(h)?.has(e.name));
  if (cx.opaqueHeaders.length && /^[A-Z_][A-Z0-9_]*$/.test(e.name)) {
    // A header the project has no table for may define it (TASK_RUNNING in <linux/sched.h>).
    cx.report(
      e,
      'warning',
      'unknown-identifier',
      `Unknown identifier: '${e.name}', unless it comes from ${cx.opaqueHeaders.map((h) => `<${h}>`).join(', ')} (headers the catalog does not describe)`,
    );
    return INT;
  }
  let message = `Unknown identifier: '${e.name}'`;
  if (headerConst) {
    message += ` (it is defined in <${headerConst}>; add \`#include <${headerConst}>\`)`;
    extra.fixes = [
      ...(extra.fixes ?? []),
      { start: 0, end: 0, newText: `#include <${headerConst}>\n`, title: `Add #include <${headerConst}>` },
    ];
    if (cx.text.startsWith('#!')) {
      const nl = cx.text.indexOf('\n') + 1;
      extra.fixes[extra.fixes.length - 1].start = extra.fixes[extra.fixes.length - 1].end = nl;
    }
  }
  cx.report(e, 'error', 'unknown-identifier', message, extra);
  return UNKNOWN;
}

const builtinTypes = new Map<BuiltinRow, Ty>();
const PROBE: Ty = { k: 'other', name: 'probe' };
const USYM: Ty = { k: 'other', name: 'usym' };

/** The type of a builtin variable (one shared object per builtin: types are never mutated). */
function builtinType(b: BuiltinRow): Ty {
  let ty = builtinTypes.get(b);
  if (!ty) {
    if (b.name === 'args') ty = { k: 'args' };
    // username (and up to 0.22 probe, see ident()) is a type of its own: `username == "root"` is a type
    // mismatch in every version (Binop compares GetTy(); verified on 0.17).
    else if (b.name === 'username') ty = { k: 'other', name: 'username' };
    else if (b.kind === 'string') ty = STRING;
    else if (b.kind === 'stack') ty = { k: 'stack', name: b.name };
    else if (b.kind === 'sym') ty = { k: 'other', name: b.type };
    else if (b.name === 'curtask') ty = { k: 'ptr', to: 'struct task_struct' };
    else if (b.kind === 'pointer') ty = { k: 'ptr', to: b.type.replace(/\s*\*$/, '') };
    else ty = { k: 'int', name: b.type };
    builtinTypes.set(b, ty);
  }
  return ty;
}
