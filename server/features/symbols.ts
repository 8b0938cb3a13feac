// Document symbols: probes (with their maps), macros, map declarations, config, C definitions.
import { type DocumentSymbol, SymbolKind } from 'vscode-languageserver';
import type { FeatureServer } from './feature-server';
import { toRange } from './util';

export function registerSymbols(server: FeatureServer): void {
  server.connection.onDocumentSymbol((params) => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return [];
    const symbols: DocumentSymbol[] = [];
    const program = analysis.program;
    for (const def of program.cDefinitions) {
      symbols.push({
        name: `${def.keyword} ${def.name?.name ?? ''}`,
        kind: def.keyword === 'enum' ? SymbolKind.Enum : SymbolKind.Struct,
        range: toRange(doc, def),
        selectionRange: toRange(doc, def.name ?? def),
      });
    }
    if (program.config) {
      symbols.push({
        name: 'config',
        kind: SymbolKind.Namespace,
        range: toRange(doc, program.config),
        selectionRange: toRange(doc, { start: program.config.start, end: program.config.start + 6 }),
      });
    }
    for (const item of program.items) {
      if (item.kind === 'probe') {
        const name =
          item.attachPoints.map((a) => (a.label ? a.label.name + a.label.sign : '') + a.raw).join(', ') ||
          '(probe)';
        const children: DocumentSymbol[] = [];
        const seen = new Set<string>();
        for (const m of analysis.maps.values()) {
          const def = m.defs.find((d) => d.start >= item.start && d.end <= item.end);
          if (def && !seen.has(m.name)) {
            seen.add(m.name);
            children.push({
              name: m.name,
              kind: SymbolKind.Variable,
              range: toRange(doc, def),
              selectionRange: toRange(doc, def),
            });
          }
        }
        const head = item.attachPoints.length
          ? { start: item.attachPoints[0].start, end: item.attachPoints[item.attachPoints.length - 1].end }
          : item;
        symbols.push({
          name,
          detail: item.predicate
            ? analysis.text.slice(
                item.predicateSpan?.start ?? item.predicate.start,
                item.predicateSpan?.end ?? item.predicate.end,
              )
            : undefined,
          kind: SymbolKind.Event,
          range: toRange(doc, item),
          selectionRange: toRange(doc, head),
          children,
        });
      } else if (item.kind === 'macro') {
        symbols.push({
          name: item.name.name,
          kind: SymbolKind.Function,
          range: toRange(doc, item),
          selectionRange: toRange(doc, item.name),
        });
      } else {
        symbols.push({
          name: item.map.name,
          detail: item.type.name,
          kind: SymbolKind.Variable,
          range: toRange(doc, item),
          selectionRange: toRange(doc, item.map.nameSpan),
        });
      }
    }
    return symbols;
  });
}
