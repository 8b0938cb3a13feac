// The semantic analysis: one walk over the AST in source order, in the target dialect, against
// the catalog (and, when a document is bound to a machine, that machine's facts). The passes
// mirror bpftrace's own: preamble.ts (includes, defines, C definitions, config), probes.ts
// (probe types and attach points), scopes.ts (variables), statements.ts, expressions.ts (types),
// identifiers.ts (builtins, constants), macros.ts, maps.ts, calls.ts with the signature table of
// signatures.ts, printf.ts, and machine.ts (facts of the target machine).
import type { Span } from '../syntax/ast';
import type { Catalog } from '../catalog/catalog';
import { type AnalysisOptions, Checker } from './checker';
import type { Dialect } from './dialects';
import type { MachineFacts } from './machine';
import { collectMacros, macroDefinition } from './macros';
import { mapDeclaration, undefinedMaps } from './maps';
import { laterTypedPredicates } from './operands';
import { preamble, trailingComment } from './preamble';
import { probe } from './probes';
import type { Analysis } from './results';

export type { Analysis, Diag, Edit, MapSymbol, ProbeInfo, Severity, VarSymbol } from './results';
export type { AnalysisOptions } from './checker';

export function analyze(
  text: string,
  dialect: Dialect,
  catalog: Catalog,
  facts?: MachineFacts,
  options?: AnalysisOptions,
): Analysis {
  const cx = new Checker(text, dialect, catalog, facts, options);
  const program = cx.parsed.program;
  for (const p of cx.parsed.problems) {
    const comment = p.openedAt !== undefined && text.startsWith('/*', p.openedAt);
    const related =
      p.openedAt !== undefined
        ? [
            {
              start: p.openedAt,
              end: p.openedAt + (comment ? 2 : 1),
              message: comment ? 'comment opened here' : 'block opened here',
            },
          ]
        : undefined;
    cx.report(p, 'error', p.code, p.message, related ? { related } : {});
  }
  trailingComment(cx);
  preamble(cx, program);
  const beginEnd = new Map<string, Span>();
  collectMacros(cx);
  for (const item of program.items) {
    if (item.kind === 'probe') probe(cx, item, beginEnd);
    else if (item.kind === 'macro') macroDefinition(cx, item);
    else if (item.kind === 'mapdecl') mapDeclaration(cx, item);
  }
  undefinedMaps(cx);
  laterTypedPredicates(cx, program);
  if (
    !program.items.some((i) => i.kind === 'probe') &&
    !dialect.has('macro') &&
    cx.parsed.problems.length === 0
  ) {
    cx.report(
      { start: text.length, end: text.length },
      'error',
      'syntax',
      'syntax error: unexpected end of file, expecting a probe (a script needs at least one probe)',
    );
  }
  if (dialect.unsupported) {
    cx.report(
      { start: 0, end: Math.min(text.indexOf('\n') >>> 0, text.length) },
      'warning',
      'unsupported-version',
      dialect.unsupported,
    );
  }
  return {
    text,
    parse: cx.parsed,
    program,
    dialect,
    catalog,
    diagnostics: cx.diags,
    maps: cx.maps,
    vars: cx.vars,
    probes: cx.probes,
    types: cx.types,
    constants: cx.constants,
    argsFields: (info) => cx.argsFields(info),
    structMembers: (name) => cx.structMembers(name),
  };
}
