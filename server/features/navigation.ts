// Go to definition, find references, highlights and rename for maps and scratch variables.
import {
  DocumentHighlightKind,
  ErrorCodes,
  type Location,
  ResponseError,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import type { FeatureServer } from './feature-server';
import type { Span } from '../syntax/ast';
import { exprAt, symbolAt, uniqueSpans } from './locate';
import { contains, toRange } from './util';

/** Definitions of names the script itself defines: macros, and structs/unions/enums in C definitions. */
function definitionOfName(
  server: FeatureServer,
  uri: string,
  position: { line: number; character: number },
): Location[] | null {
  const doc = server.documents.get(uri);
  const analysis = server.analysis(uri);
  if (!doc || !analysis) return null;
  const offset = doc.offsetAt(position);
  const e = exprAt(analysis, offset);
  let target: Span | undefined;
  if (e?.kind === 'call' && contains(e.callee, offset)) {
    const macro = analysis.program.items.find((i) => i.kind === 'macro' && i.name.name === e.callee.name);
    if (macro?.kind === 'macro') target = macro.name;
  } else if (e?.kind === 'ident') {
    const macro = analysis.program.items.find((i) => i.kind === 'macro' && i.name.name === e.name);
    if (macro?.kind === 'macro') target = macro.name;
  } else if (e?.kind === 'cast' && contains(e.type.nameSpan, offset)) {
    target = analysis.program.cDefinitions.find((d) => d.name?.name === e.type.name)?.name;
  }
  return target ? [{ uri, range: toRange(doc, target) }] : null;
}

const MAP_NAME = /^@[A-Za-z_]\w*$|^@$/;
const VAR_NAME = /^\$[A-Za-z_]\w*$/;

export function registerNavigation(server: FeatureServer): void {
  const hitAt = (uri: string, position: { line: number; character: number }) => {
    const doc = server.documents.get(uri);
    const analysis = server.analysis(uri);
    if (!doc || !analysis) return undefined;
    const hit = symbolAt(analysis, doc.offsetAt(position));
    return hit ? { doc, hit } : undefined;
  };

  server.connection.onDefinition((params) => {
    const found = hitAt(params.textDocument.uri, params.position);
    if (!found) return definitionOfName(server, params.textDocument.uri, params.position);
    const { doc, hit } = found;
    // A map's declaration, else its first assignment, is its definition (bpftrace fixes its
    // types there); a variable's is its first assignment or `let`.
    const decl =
      hit.kind === 'map'
        ? server
            .analysis(doc.uri)
            ?.program.items.find((i) => i.kind === 'mapdecl' && i.map.name === hit.symbol.name)
        : undefined;
    const targets =
      decl && decl.kind === 'mapdecl' ? [decl.map.nameSpan] : uniqueSpans(hit.symbol.defs).slice(0, 1);
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

  server.connection.onDocumentHighlight((params) => {
    const found = hitAt(params.textDocument.uri, params.position);
    if (!found) return [];
    const defs = new Set(found.hit.symbol.defs.map((d) => d.start));
    return uniqueSpans(found.hit.symbol.refs).map((s) => ({
      range: toRange(found.doc, s),
      kind: defs.has(s.start) ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
    }));
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
