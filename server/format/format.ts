// Formatting of whole scripts, of ranges and of the statement just typed, as text edits. The
// printer lays out the syntax tree; this module decides what may be formatted (only what parsed
// cleanly) and checks every result before it is used (check.ts): the edited text must parse to
// the same tree with the same comments, or the node is left as written.
import type { Dialect } from '../analysis/dialects';
import type { Block, Program, Stmt, TopItem } from '../syntax/ast';
import { parse, type ParseResult } from '../syntax/parser';
import { dialectForms } from './dialect-forms';
import { Layout } from './layout';
import { Printer } from './printer';
import { parsesToSameProgram } from './check';
import { sameTree } from './same-tree';
import { Trivia } from './trivia';

export interface FormatSettings {
  /** Spaces per level (bpftrace's `--fmt`: 2). */
  indent: number;
  /** Line width the layout aims for (bpftrace's `--fmt`: 90). */
  width: number;
}

export const DEFAULT_FORMAT: FormatSettings = { indent: 2, width: 90 };

/** Settings as a client sends them (numbers, maybe strings or junk): sane values or the defaults. */
export function formatSettings(indent?: unknown, width?: unknown): FormatSettings {
  const num = (v: unknown, min: number, max: number, fallback: number) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : fallback;
  };
  return {
    indent: num(indent, 1, 16, DEFAULT_FORMAT.indent),
    width: num(width, 20, 1000, DEFAULT_FORMAT.width),
  };
}

export interface Edit {
  start: number;
  end: number;
  newText: string;
}

export interface FormatResult {
  edits: Edit[];
  /** Why nothing (or not everything) was formatted, for a CLI message or a log line. */
  skipped?: string;
}

type Item =
  TopItem | { kind: 'verbatim' | 'cdef'; start: number; end: number } | NonNullable<Program['config']>;

function topLevel(program: Program): Item[] {
  const items: Item[] = [
    ...program.items,
    ...program.preprocessor.map((p) => ({ kind: 'verbatim' as const, start: p.start, end: p.end })),
    ...program.cDefinitions.map((c) => ({ kind: 'cdef' as const, start: c.start, end: c.end })),
    ...program.imports.map((i) => ({ kind: 'verbatim' as const, start: i.start, end: i.end })),
  ];
  if (program.config) items.push(program.config);
  return items.sort((a, b) => a.start - b.start);
}

class Session {
  readonly parsed: ParseResult;
  readonly trivia: Trivia;
  readonly printer: Printer;

  constructor(
    readonly text: string,
    dialect: Dialect,
    readonly settings: FormatSettings,
    parsed?: ParseResult,
  ) {
    this.parsed = parsed ?? parse(text);
    const program = this.parsed.program;
    const verbatim = [...program.preprocessor, ...program.cDefinitions];
    this.trivia = new Trivia(text, this.parsed.comments, verbatim);
    this.printer = new Printer(text, this.trivia, dialectForms(dialect), settings);
  }

  item(item: Item, asWritten: boolean): Layout {
    if (asWritten) {
      this.trivia.take(item.start, item.end);
      return new Layout().text(this.text.slice(item.start, item.end));
    }
    switch (item.kind) {
      case 'probe':
        return this.printer.probe(item);
      case 'macro':
        return this.printer.macro(item);
      case 'mapdecl':
        return this.printer.mapDecl(item);
      case 'config':
        return this.printer.config(item.entries, item.start, item.end);
      case 'verbatim':
        return this.printer.verbatim(item.start, item.end);
      case 'cdef': {
        // bpftrace takes a C definition with or without its `;`; `--fmt` writes it.
        const out = this.printer.verbatim(item.start, item.end);
        return this.text.slice(item.start, item.end).trimEnd().endsWith(';') ? out : out.text(';');
      }
    }
  }

  /** The whole script; items whose start is in asWritten are copied unchanged. */
  program(asWritten: ReadonlySet<number>): string {
    const out = new Layout();
    let pos = 0;
    if (this.text.startsWith('#!')) {
      const nl = this.text.indexOf('\n');
      pos = nl < 0 ? this.text.length : nl;
      out.text(this.text.slice(0, pos).trimEnd()).lineBreak();
    }
    const items = topLevel(this.parsed.program);
    items.forEach((item, i) => {
      const piece = this.printer.leading(out, this.trivia.gap(pos, item.start));
      piece.append(this.item(item, asWritten.has(item.start)));
      out.append(piece);
      const limit = i + 1 < items.length ? items[i + 1].start : this.text.length;
      pos = this.printer.trailing(out, item.end, limit);
      out.lineBreak();
    });
    out.append(this.printer.leading(out, this.trivia.gap(pos, this.text.length)));
    return out.render();
  }
}

// ---- edits ----

function applyEdits(text: string, edits: Edit[]): string {
  let out = '';
  let pos = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    out += text.slice(pos, e.start) + e.newText;
    pos = e.end;
  }
  return out + text.slice(pos);
}

/** One edit covering only what changed (keeps the editor's cursor and undo steps small). */
function minimalEdit(text: string, formatted: string): Edit[] {
  if (text === formatted) return [];
  let a = 0;
  const max = Math.min(text.length, formatted.length);
  while (a < max && text.charCodeAt(a) === formatted.charCodeAt(a)) a++;
  let b = 0;
  while (
    b < max - a &&
    text.charCodeAt(text.length - 1 - b) === formatted.charCodeAt(formatted.length - 1 - b)
  )
    b++;
  return [{ start: a, end: text.length - b, newText: formatted.slice(a, formatted.length - b) }];
}

function hasProblemIn(parsed: ParseResult, start: number, end: number): boolean {
  // [start, end): a problem reported at the end (an unclosed block at the end of the file) is
  // outside; an empty one right at the start is inside.
  return parsed.problems.some((p) => p.start < end && Math.max(p.end, p.start + 1) > start);
}

// ---- whole documents ----

/** The formatted script, or undefined (with the reason) when it has syntax errors. */
export function formatText(
  text: string,
  dialect: Dialect,
  settings: FormatSettings = DEFAULT_FORMAT,
): { text?: string; skipped?: string } {
  // A Windows-edited script keeps its line ends (an editor converts edits to the document's own).
  const crlf = /^[^\n]*\r\n/.test(text);
  const source = crlf ? text.replace(/\r\n/g, '\n') : text;
  const result = formatDocument(source, dialect, settings);
  if (result.skipped && result.edits.length === 0) return { skipped: result.skipped };
  const formatted = applyEdits(source, result.edits);
  return { text: crlf ? formatted.replace(/\n/g, '\r\n') : formatted, skipped: result.skipped };
}

export function formatDocument(
  text: string,
  dialect: Dialect,
  settings: FormatSettings = DEFAULT_FORMAT,
): FormatResult {
  const parsed = parse(text);
  if (parsed.problems.length) return formatItemsOnly(text, dialect, settings, parsed, 0, text.length);
  const asWritten = new Set<number>();
  for (let attempt = 0; attempt < 2; attempt++) {
    const formatted = new Session(text, dialect, settings, parsed).program(asWritten);
    // Already in form (format on save, mostly): nothing changes, nothing to check.
    if (formatted === text) return { edits: [] };
    if (parsesToSameProgram(parsed, text, formatted)) {
      const skipped = asWritten.size
        ? `${asWritten.size} top-level item(s) left as written: formatting them would change the syntax tree`
        : undefined;
      return { edits: minimalEdit(text, formatted), skipped };
    }
    // Keep as written the items whose tree changed, and try once more.
    const reparsed = parse(formatted);
    const before = topLevel(parsed.program);
    const after = topLevel(reparsed.program);
    if (before.length !== after.length) break;
    before.forEach((item, i) => {
      if (!sameTree(item, after[i])) asWritten.add(item.start);
    });
    if (!asWritten.size) break;
  }
  return { edits: [], skipped: 'formatting would change the syntax tree; the script is left as written' };
}

/**
 * Formats the top-level items inside [from, to] that contain no syntax error, each on its own;
 * everything else stays as written.
 */
function formatItemsOnly(
  text: string,
  dialect: Dialect,
  settings: FormatSettings,
  parsed: ParseResult,
  from: number,
  to: number,
): FormatResult {
  const session = new Session(text, dialect, settings, parsed);
  const edits: Edit[] = [];
  let dirty = 0;
  for (const item of topLevel(parsed.program)) {
    if (item.start < from || item.end > to) continue;
    if (
      hasProblemIn(parsed, item.start, item.end) ||
      ('body' in item && typeof item.body === 'object' && !item.body.closed)
    ) {
      dirty++;
      continue;
    }
    const newText = session.item(item, false).render().replace(/\n$/, '');
    if (newText !== text.slice(item.start, item.end))
      edits.push({ start: item.start, end: item.end, newText });
  }
  const checked = checkedEdits(text, parsed, edits);
  const skipped = parsed.problems.length
    ? `syntax errors: ${dirty ? `${dirty} top-level item(s) left as written, ` : ''}only the parts that parse cleanly were formatted`
    : undefined;
  return { edits: checked, skipped };
}

/** The edits if the text they give parses to the same tree; else the ones that do, one by one. */
function checkedEdits(text: string, parsed: ParseResult, edits: Edit[]): Edit[] {
  if (!edits.length) return edits;
  const all = applyEdits(text, edits);
  if (parsesToSameProgram(parsed, text, all)) return edits;
  return edits.filter((e) => parsesToSameProgram(parsed, text, applyEdits(text, [e])));
}

// ---- ranges and typing ----

interface Located {
  stmt: Stmt;
  depth: number;
}

/** Statements of every block under the items, with their nesting depth (a probe body is 1). */
function statements(program: Program): Located[] {
  const out: Located[] = [];
  const block = (b: Block, depth: number) => {
    for (const s of b.statements) {
      out.push({ stmt: s, depth });
      switch (s.kind) {
        case 'if':
          block(s.then, depth + 1);
          for (let e = s.else; e; e = e.kind === 'if' ? e.else : undefined) {
            if (e.kind === 'if') block(e.then, depth + 1);
            else block(e, depth + 1);
          }
          break;
        case 'while':
        case 'for':
        case 'unroll':
          block(s.body, depth + 1);
          break;
        case 'blockstmt':
          block(s.block, depth + 1);
          break;
        default:
          break;
      }
    }
  };
  for (const item of program.items) if (item.kind === 'probe' || item.kind === 'macro') block(item.body, 1);
  return out;
}

/** End of a statement with its `;` (when one follows on the same stretch of whitespace). */
function statementEnd(text: string, s: Stmt): number {
  let i = s.end;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return text[i] === ';' ? i + 1 : s.end;
}

/**
 * Formats what lies wholly inside [from, to]: whole top-level items, or else whole statements
 * (the outermost ones in the range). Edits never reach outside the range.
 */
export function formatRange(
  text: string,
  dialect: Dialect,
  settings: FormatSettings,
  from: number,
  to: number,
): FormatResult {
  const parsed = parse(text);
  const items = topLevel(parsed.program).filter((i) => i.start >= from && i.end <= to);
  if (items.length) return formatItemsOnly(text, dialect, settings, parsed, from, to);
  const session = new Session(text, dialect, settings, parsed);
  const edits: Edit[] = [];
  let coveredTo = -1;
  for (const { stmt, depth } of statements(parsed.program)) {
    const end = statementEnd(text, stmt);
    if (stmt.start < from || end > to || stmt.start < coveredTo) continue;
    if (hasProblemIn(parsed, stmt.start, end)) continue;
    coveredTo = end;
    const lineStart = text.lastIndexOf('\n', stmt.start - 1) + 1;
    const atLineStart = lineStart >= from && text.slice(lineStart, stmt.start).trim() === '';
    const pad = ' '.repeat(depth * settings.indent);
    const width = Math.max(1, settings.width - depth * settings.indent);
    const valueAtEnd = stmt.kind === 'exprstmt' && end === stmt.end && isLastInBlock(text, end);
    const lines = session.printer.stmt(stmt, width, valueAtEnd).render().replace(/\n$/, '').split('\n');
    const newText = lines.map((l, i) => (l === '' || (i === 0 && !atLineStart) ? l : pad + l)).join('\n');
    const start = atLineStart ? lineStart : stmt.start;
    if (newText !== text.slice(start, end)) edits.push({ start, end, newText });
  }
  return { edits: checkedEdits(text, parsed, edits) };
}

function isLastInBlock(text: string, offset: number): boolean {
  return /^\s*\}/.test(text.slice(offset, offset + 200));
}

/**
 * After typing `}` or `;` at offset (just after the character): the statement or top-level
 * item that character ends, formatted.
 */
export function formatOnType(
  text: string,
  dialect: Dialect,
  settings: FormatSettings,
  offset: number,
): FormatResult {
  const parsed = parse(text);
  // The statement the character ends, else the top-level item: while a probe is still open, its
  // recovered end is where the typing is, and only the statement is whole.
  const located = statements(parsed.program)
    .filter(({ stmt }) => statementEnd(text, stmt) === offset)
    .sort((a, b) => a.depth - b.depth)[0];
  if (located) {
    const lineStart = text.lastIndexOf('\n', located.stmt.start - 1) + 1;
    return formatRange(text, dialect, settings, lineStart, offset);
  }
  const item = topLevel(parsed.program).find((i) => i.end === offset);
  if (item) return formatRange(text, dialect, settings, item.start, item.end);
  return { edits: [] };
}
