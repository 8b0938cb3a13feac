// Semantic tokens: what a TextMate grammar cannot know (builtins of the target dialect, maps vs
// scratch variables, struct fields, constants from #includes), and full highlighting for
// editors without a grammar (Neovim, Helix).
import type { SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from '../analysis/analyzer';
import { Lexer, type Token } from '../syntax/lexer';
import { STATEMENT_KEYWORDS } from '../syntax/parser';
import type { FeatureServer } from './feature-server';

export const TOKEN_TYPES = [
  'namespace',
  'type',
  'function',
  'variable',
  'parameter',
  'property',
  'enumMember',
  'event',
  'keyword',
  'comment',
  'string',
  'number',
  'macro',
  'operator',
] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary', 'static'] as const;

export const LEGEND: SemanticTokensLegend = {
  tokenTypes: [...TOKEN_TYPES],
  tokenModifiers: [...TOKEN_MODIFIERS],
};

type TokenType = (typeof TOKEN_TYPES)[number];
type Modifier = (typeof TOKEN_MODIFIERS)[number];

const KEYWORDS = new Set([
  ...STATEMENT_KEYWORDS,
  'config',
  'import',
  'macro',
  'struct',
  'union',
  'enum',
  'sizeof',
  'offsetof',
]);

interface Raw {
  start: number;
  end: number;
  type: TokenType;
  modifiers: Modifier[];
}

export function semanticTokens(doc: TextDocument, analysis: Analysis): SemanticTokens {
  const text = analysis.text;
  const raw: Raw[] = [];
  const push = (start: number, end: number, type: TokenType, ...modifiers: Modifier[]) => {
    if (end > start) raw.push({ start, end, type, modifiers });
  };
  // Attach points are not tokens of the expression lexer: take them from the AST.
  const headers: Array<{ start: number; end: number }> = [];
  for (const info of analysis.probes) {
    for (const ap of info.probe.attachPoints) {
      headers.push(ap);
      push(ap.provider.start, ap.provider.end, 'namespace');
      for (const p of ap.parts) push(p.start, p.end, 'event');
    }
  }
  headers.sort((a, b) => a.start - b.start);
  const lexer = new Lexer(text);
  let previous: Token | undefined;
  let h = 0;
  for (let t = lexer.next(); t.kind !== 'eof'; t = lexer.next()) {
    while (h < headers.length && headers[h].end <= t.start) h++;
    if (h < headers.length && t.start >= headers[h].start && t.start < headers[h].end) {
      // Skip what the lexer makes of an attach point, resuming after it.
      lexer.pos = headers[h].end;
      previous = undefined;
      continue;
    }
    switch (t.kind) {
      case 'string':
        push(t.start, t.end, 'string');
        break;
      case 'int':
        push(t.start, t.end, 'number');
        break;
      case 'preproc':
        push(t.start, t.end, 'macro');
        break;
      case 'param':
        push(t.start, t.end, 'parameter', 'readonly');
        break;
      case 'var':
        push(t.start, t.end, 'variable');
        break;
      case 'map':
        push(t.start, t.end, 'variable', 'static');
        break;
      case 'ident':
        classifyIdent(analysis, t, previous, text, push);
        break;
      default:
        break;
    }
    previous = t;
  }
  for (const c of lexer.comments) push(c.start, c.end, 'comment');
  return { data: encode(doc, raw) };
}

function classifyIdent(
  analysis: Analysis,
  t: Token,
  previous: Token | undefined,
  text: string,
  push: (start: number, end: number, type: TokenType, ...modifiers: Modifier[]) => void,
): void {
  const name = t.text;
  if (previous && (previous.text === '.' || previous.text === '->')) return push(t.start, t.end, 'property');
  if (previous && ['struct', 'union', 'enum'].includes(previous.text)) return push(t.start, t.end, 'type');
  if (KEYWORDS.has(name)) return push(t.start, t.end, 'keyword');
  let i = t.end;
  while (text[i] === ' ' || text[i] === '\t') i++;
  const called = text[i] === '(';
  const dialect = analysis.dialect;
  if (
    called &&
    (dialect.func(name) || analysis.program.items.some((x) => x.kind === 'macro' && x.name.name === name))
  ) {
    return push(
      t.start,
      t.end,
      'function',
      ...(dialect.func(name) ? (['defaultLibrary'] as Modifier[]) : []),
    );
  }
  if (dialect.builtin(name)) return push(t.start, t.end, 'variable', 'readonly', 'defaultLibrary');
  if (analysis.constants.has(name) || analysis.catalog.enumConstant(name) !== undefined) {
    return push(t.start, t.end, 'enumMember', 'readonly');
  }
  if (/^(u?int(8|16|32|64)|bool|string)$/.test(name)) push(t.start, t.end, 'type');
}

/** LSP relative encoding; multi-line tokens (block comments) are split per line. */
function encode(doc: TextDocument, raw: Raw[]): number[] {
  raw.sort((a, b) => a.start - b.start);
  const data: number[] = [];
  let lastLine = 0;
  let lastChar = 0;
  let covered = 0;
  for (const r of raw) {
    if (r.start < covered) continue; // overlapping (e.g. a comment inside an attach point)
    covered = r.end;
    const type = TOKEN_TYPES.indexOf(r.type);
    const mods = r.modifiers.reduce((m, x) => m | (1 << TOKEN_MODIFIERS.indexOf(x)), 0);
    let start = doc.positionAt(r.start);
    const end = doc.positionAt(r.end);
    for (let line = start.line; line <= end.line; line++) {
      const from = line === start.line ? start.character : 0;
      const lineEnd =
        line === end.line
          ? end.character
          : doc.offsetAt({ line: line + 1, character: 0 }) - doc.offsetAt({ line, character: 0 }) - 1;
      const length = lineEnd - from;
      if (length > 0) {
        data.push(line - lastLine, line === lastLine ? from - lastChar : from, length, type, mods);
        lastLine = line;
        lastChar = from;
      }
      start = { line: line + 1, character: 0 };
    }
  }
  return data;
}

export function registerSemanticTokens(server: FeatureServer): void {
  server.connection.languages.semanticTokens.on((params) => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return { data: [] };
    return semanticTokens(doc, analysis);
  });
}
