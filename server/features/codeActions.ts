// Quick fixes for what a diagnostic can repair: the edits the semantic pass attached to it
// ("did you mean", `args->` vs `args.` for the dialect, a missing #include, old probe names).
import { type CodeAction, CodeActionKind, type Diagnostic } from 'vscode-languageserver';
import type { FeatureServer } from './feature-server';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { toRange } from './util';

export function registerCodeActions(server: FeatureServer): void {
  server.connection.onCodeAction((params) => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return [];
    const actions: CodeAction[] = [];
    for (const diagnostic of params.context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const d = findDiag(diagnostic, analysis.diagnostics, doc.version, (s) => toRange(doc, s));
      for (const fix of d?.fixes ?? []) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [diagnostic],
          isPreferred: (d?.fixes?.length ?? 0) === 1,
          edit: {
            changes: {
              [doc.uri]: [fix, ...(fix.more ?? [])].map((e) => ({
                range: toRange(doc, e),
                newText: e.newText,
              })),
            },
          },
        });
      }
    }
    return actions;
  });
}

function findDiag<T extends { start: number; end: number; message: string; code: string }>(
  diagnostic: Diagnostic,
  all: T[],
  version: number,
  range: (s: T) => { start: { line: number; character: number }; end: { line: number; character: number } },
): T | undefined {
  const data = diagnostic.data as { index?: number; version?: number } | undefined;
  if (
    data?.version === version &&
    data.index !== undefined &&
    all[data.index]?.message === diagnostic.message
  )
    return all[data.index];
  return all.find((d) => {
    const r = range(d);
    return (
      d.message === diagnostic.message &&
      r.start.line === diagnostic.range.start.line &&
      r.start.character === diagnostic.range.start.character
    );
  });
}
