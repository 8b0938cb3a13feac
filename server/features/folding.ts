// Folding ranges: probe bodies and nested blocks, C definitions, config, block comments and
// runs of #include lines.
import { type FoldingRange, FoldingRangeKind } from 'vscode-languageserver';
import type { FeatureServer } from './feature-server';
import type { Block, Stmt } from '../syntax/ast';

export function registerFolding(server: FeatureServer): void {
  server.connection.onFoldingRanges((params) => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return [];
    const ranges: FoldingRange[] = [];
    const add = (start: number, end: number, kind?: FoldingRangeKind) => {
      const a = doc.positionAt(start).line;
      // Leave the closing brace line visible.
      const b = doc.positionAt(end).line - (kind ? 0 : 1);
      if (b > a) ranges.push({ startLine: a, endLine: b, kind });
    };
    const block = (b: Block) => {
      add(b.start, b.end);
      for (const s of b.statements) stmt(s);
    };
    const stmt = (s: Stmt) => {
      switch (s.kind) {
        case 'if':
          block(s.then);
          if (s.else) {
            if (s.else.kind === 'block') block(s.else);
            else stmt(s.else);
          }
          break;
        case 'while':
        case 'for':
        case 'unroll':
          block(s.body);
          break;
        case 'blockstmt':
          block(s.block);
          break;
        default:
          break;
      }
    };
    const p = analysis.program;
    for (const item of p.items) {
      if (item.kind === 'probe' || item.kind === 'macro') {
        add(item.start, item.body.end);
        for (const s of item.body.statements) stmt(s);
      }
    }
    for (const d of p.cDefinitions) add(d.start, d.end);
    if (p.config) add(p.config.start, p.config.end);
    for (const c of analysis.parse.comments) if (c.block) add(c.start, c.end, FoldingRangeKind.Comment);
    const includes = p.preprocessor.filter((x) => x.directive === 'include');
    if (includes.length > 1)
      add(includes[0].start, includes[includes.length - 1].end, FoldingRangeKind.Imports);
    return ranges;
  });
}
