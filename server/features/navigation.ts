// Go to definition, find references and rename for maps and scratch variables.
import { type Location, ResponseError, ErrorCodes, type WorkspaceEdit } from 'vscode-languageserver';
import type { BpftraceLanguageServer } from '../server';
import { symbolAt, uniqueSpans } from './locate';
import { toRange } from './util';

const MAP_NAME = /^@[A-Za-z_]\w*$|^@$/;
const VAR_NAME = /^\$[A-Za-z_]\w*$/;

export function registerNavigation(server: BpftraceLanguageServer): void {
  const hitAt = (uri: string, position: { line: number; character: number }) => {
    const doc = server.documents.get(uri);
    const analysis = server.analysis(uri);
    if (!doc || !analysis) return undefined;
    const hit = symbolAt(analysis, doc.offsetAt(position));
    return hit ? { doc, hit } : undefined;
  };

  server.connection.onDefinition((params) => {
    const found = hitAt(params.textDocument.uri, params.position);
    if (!found) return null;
    const { doc, hit } = found;
    const defs = uniqueSpans(hit.symbol.defs);
    // A map's first assignment is its definition (bpftrace fixes its types there).
    const targets = hit.kind === 'map' ? defs.slice(0, 1) : defs.slice(0, 1);
    return targets.map((s): Location => ({ uri: doc.uri, range: toRange(doc, s) }));
  });

  server.connection.onReferences((params) => {
    const found = hitAt(params.textDocument.uri, params.position);
    if (!found) return [];
    const { doc, hit } = found;
    let spans = uniqueSpans(hit.symbol.refs);
    if (!params.context.includeDeclaration) {
      const first = uniqueSpans(hit.symbol.defs)[0];
      spans = spans.filter((s) => s.start !== first?.start);
    }
    return spans.map((s): Location => ({ uri: doc.uri, range: toRange(doc, s) }));
  });

  server.connection.onPrepareRename((params) => {
    const found = hitAt(params.textDocument.uri, params.position);
    if (!found) return null;
    return { range: toRange(found.doc, found.hit.span), placeholder: found.hit.symbol.name };
  });

  server.connection.onRenameRequest((params): WorkspaceEdit | null => {
    const found = hitAt(params.textDocument.uri, params.position);
    if (!found) return null;
    const { doc, hit } = found;
    let newName = params.newName.trim();
    if (hit.kind === 'map' && !newName.startsWith('@')) newName = '@' + newName;
    if (hit.kind === 'var' && !newName.startsWith('$')) newName = '$' + newName;
    const valid = hit.kind === 'map' ? MAP_NAME : VAR_NAME;
    if (!valid.test(newName)) {
      throw new ResponseError(
        ErrorCodes.InvalidParams,
        `'${params.newName}' is not a valid ${hit.kind === 'map' ? 'map' : 'variable'} name`,
      );
    }
    return {
      changes: {
        [doc.uri]: uniqueSpans(hit.symbol.refs).map((s) => ({ range: toRange(doc, s), newText: newName })),
      },
    };
  });
}
