// Error-tolerant recursive-descent parser for the union of bpftrace dialects 0.17..0.26.
// It accepts every construct of any version; whether a construct exists in the target
// version is decided later by the semantic pass against the dialect table. Syntax errors are
// recorded with exact ranges and the parser resynchronises at `;`, `}` or the next probe, so
// one script yields several errors and a complete-as-possible AST. It never throws.
import type {
  AttachPoint,
  Block,
  CDefinition,
  ConfigBlock,
  Expr,
  Import,
  MacroDef,
  MapDecl,
  MapExpr,
  Name,
  Preprocessor,
  Probe,
  Program,
  RangeExpr,
  Span,
  Stmt,
  TopItem,
  TypeRef,
  VarExpr,
} from './ast';
import { Lexer, type SyntaxProblem, type Token } from './lexer';

export interface ParseResult {
  program: Program;
  problems: SyntaxProblem[];
  comments: Array<{ start: number; end: number; block: boolean }>;
}

const MAX_DEPTH = 200;
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']);
const BINARY_LEVELS: string[][] = [
  ['||'],
  ['&&'],
  ['|'],
  ['^'],
  ['&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '%'],
];
/** Binding strength of each binary operator (higher binds tighter); the formatter shares it. */
export const BINARY_PRECEDENCE = new Map<string, number>();
BINARY_LEVELS.forEach((ops, level) => ops.forEach((op) => BINARY_PRECEDENCE.set(op, level)));

/** Names that are integer types when written in a cast. */
/** bpftrace's own integer type names. */
const INTEGER_TYPE_NAMES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

export const CAST_TYPE_NAMES = new Set([
  ...INTEGER_TYPE_NAMES,
  'string',
  'inet',
  'buffer',
  'void',
  'char',
  'int',
  'long',
  'short',
  'unsigned',
  'u8',
  'u16',
  'u32',
  'u64',
  's8',
  's16',
  's32',
  's64',
]);
const UNARY_OPS = new Set(['-', '!', '~', '*', '&', '++', '--', '+']);
/** Words that start a statement; never an identifier in statement position. */
export const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set([
  'if',
  'else',
  'unroll',
  'while',
  'for',
  'return',
  'break',
  'continue',
  'let',
]);

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'string') return 'string';
  if (t.kind === 'preproc') return 'preprocessor directive';
  return `'${t.text}'`;
}

/**
 * Parses a script. With `onItem`, each top-level item (probe, macro, map declaration) is handed
 * over as soon as it is whole and `program.items` stays empty: a reader that looks at one item at a
 * time never holds the whole tree (the formatter's check of its output). Nothing else changes.
 */
export function parse(text: string, onItem?: (item: TopItem) => void): ParseResult {
  return new Parser(text, onItem).parseProgram();
}

class Parser {
  private lx: Lexer;
  private tok: Token;
  private prevEnd = 0;
  private depth = 0;
  private inPredicate = false;
  private problems: SyntaxProblem[] = [];
  /** Offsets already reported, so that recovery loops cannot flood the list. */
  private reportedAt = new Set<number>();
  /**
   * Tokens already lexed ahead (peek) from lexer position aheadFrom, with the position after each:
   * advance() takes them instead of lexing them again. The lexer reads a token from its position
   * alone, so they stay right for as long as the lexer is back at aheadFrom, however it got there
   * (the raw scan of attach points moves it).
   */
  private ahead: Token[] = [];
  private aheadPos: number[] = [];
  /** The lookahead is ahead[aheadHead..aheadTail). */
  private aheadHead = 0;
  private aheadTail = 0;
  private aheadFrom = -1;

  /** Top-level items parsed so far, and whether one is a probe (whether or not onItem took them). */
  private itemCount = 0;
  private sawProbe = false;

  constructor(
    private readonly text: string,
    private readonly onItem?: (item: TopItem) => void,
  ) {
    this.lx = new Lexer(text);
    this.tok = this.lx.next();
  }

  // ---- token helpers ----

  private advance(): Token {
    const t = this.tok;
    this.prevEnd = t.end;
    if (this.aheadFrom === this.lx.pos && this.aheadTail > this.aheadHead) {
      this.tok = this.ahead[this.aheadHead];
      this.lx.pos = this.aheadPos[this.aheadHead++];
      this.aheadFrom = this.lx.pos;
    } else this.tok = this.lx.next();
    return t;
  }

  private atEnd(): boolean {
    return this.tok.kind === 'eof';
  }

  private isIdent(text: string): boolean {
    return this.tok.kind === 'ident' && this.tok.text === text;
  }

  private is(text: string): boolean {
    return (this.tok.kind === 'punct' || this.tok.kind === 'ident') && this.tok.text === text;
  }

  private isPunct(text: string): boolean {
    return this.tok.kind === 'punct' && this.tok.text === text;
  }

  private accept(text: string): Token | undefined {
    if (this.isPunct(text)) return this.advance();
    return undefined;
  }

  /** Tokens after the current one, without consuming anything. */
  private peek(n: number): Token[] {
    this.lookAhead(n);
    return this.ahead.slice(this.aheadHead, Math.min(this.aheadTail, this.aheadHead + n));
  }

  /** The token after the current one (peek(1) without the array). */
  private peekToken(): Token {
    this.lookAhead(1);
    return this.ahead[this.aheadHead];
  }

  /** Lexes until the lookahead holds n tokens, or up to the end. */
  private lookAhead(n: number): void {
    const saved = this.lx.pos;
    if (this.aheadFrom !== saved || this.aheadHead === this.aheadTail) {
      this.aheadHead = this.aheadTail = 0;
      this.aheadFrom = saved;
    }
    const ahead = this.ahead;
    if (this.aheadTail > this.aheadHead) this.lx.pos = this.aheadPos[this.aheadTail - 1];
    while (
      this.aheadTail - this.aheadHead < n &&
      (this.aheadTail === this.aheadHead || ahead[this.aheadTail - 1].kind !== 'eof')
    ) {
      ahead[this.aheadTail] = this.lx.next();
      this.aheadPos[this.aheadTail++] = this.lx.pos;
    }
    this.lx.pos = saved;
  }

  private error(start: number, end: number, message: string, code = 'syntax', openedAt?: number): void {
    if (this.reportedAt.has(start)) return;
    this.reportedAt.add(start);
    const problem: SyntaxProblem = { start, end: Math.max(end, start), message, code };
    if (openedAt !== undefined) problem.openedAt = openedAt;
    this.problems.push(problem);
  }

  private unexpected(expecting: string): void {
    const t = this.tok;
    if (t.kind === 'eof') {
      this.error(t.start, t.start, `syntax error: unexpected end of file, expecting ${expecting}`, 'syntax');
    } else {
      this.error(t.start, t.end, `syntax error: unexpected ${describe(t)}, expecting ${expecting}`, 'syntax');
    }
  }

  private expect(text: string): Token | undefined {
    const t = this.accept(text);
    if (!t) this.unexpected(`'${text}'`);
    return t;
  }

  /** Skips to just after the next `;` or to the next `}` of the current nesting level. */
  private recoverStatement(): void {
    let depth = 0;
    const startPos = this.tok.start;
    while (!this.atEnd()) {
      if (this.isPunct('{') || this.isPunct('(') || this.isPunct('[')) depth++;
      else if (this.isPunct(')') || this.isPunct(']')) depth = Math.max(0, depth - 1);
      else if (this.isPunct('}')) {
        if (depth === 0) return;
        depth--;
      } else if (this.isPunct(';') && depth === 0) {
        this.advance();
        return;
      }
      this.advance();
    }
    void startPos;
  }

  // ---- program ----

  parseProgram(): ParseResult {
    const program: Program = {
      kind: 'program',
      start: 0,
      end: this.text.length,
      preprocessor: [],
      cDefinitions: [],
      imports: [],
      items: [],
    };
    while (!this.atEnd()) {
      const before = this.tok.start;
      this.topLevel(program);
      if (this.tok.start === before && !this.atEnd()) {
        // Guarantee progress whatever the input.
        this.unexpected('a probe');
        this.advance();
      }
    }
    return { program, problems: [...this.lx.problems, ...this.problems], comments: this.lx.comments };
  }

  private topLevel(program: Program): void {
    const t = this.tok;
    if (t.kind === 'preproc') {
      program.preprocessor.push(this.preprocessor(this.advance()));
      return;
    }
    if (t.kind === 'punct' && t.text === ';') {
      this.advance();
      return;
    }
    if (t.kind === 'ident') {
      const [n1, n2] = this.peek(2);
      if (
        (t.text === 'struct' || t.text === 'union' || t.text === 'enum') &&
        n1?.kind === 'ident' &&
        n2?.text === '{'
      ) {
        // bpftrace reads C definitions in the preamble only (its grammar's c_definitions).
        if (this.itemCount)
          this.error(t.start, t.end, 'C definitions must appear before probes and functions', 'syntax');
        program.cDefinitions.push(this.cDefinition());
        return;
      }
      if (t.text === 'config' && n1?.text === '=') {
        // bpftrace's grammar takes the config block only in the preamble, before any probe.
        if (this.sawProbe) {
          this.error(t.start, t.end, 'the config block must come before the first probe', 'syntax');
        }
        program.config = this.configBlock();
        return;
      }
      if (t.text === 'import' && n1?.kind === 'string') {
        // v0.25.0 src/parser.yy reads imports in the preamble only; v0.26.1 says so.
        if (this.itemCount)
          this.error(t.start, t.end, 'root imports must appear before probes and functions', 'syntax');
        program.imports.push(this.importStmt());
        return;
      }
      if (t.text === 'macro' && n1?.kind === 'ident' && n2?.text === '(') {
        this.addItem(program, this.macroDef());
        return;
      }
      if (t.text === 'let' && n1?.kind === 'map') {
        this.addItem(program, this.mapDecl());
        return;
      }
    }
    if (t.kind === 'punct' && t.text !== '*' && t.text !== '/') {
      this.unexpected('a probe');
      this.skipTopLevel();
      return;
    }
    this.addItem(program, this.probe());
  }

  private addItem(program: Program, item: TopItem): void {
    this.itemCount++;
    if (item.kind === 'probe') this.sawProbe = true;
    if (this.onItem) this.onItem(item);
    else program.items.push(item);
  }

  /** After a top-level error: skip past the next balanced `{...}` group. */
  private skipTopLevel(): void {
    let depth = 0;
    while (!this.atEnd()) {
      if (this.isPunct('{')) depth++;
      else if (this.isPunct('}')) {
        depth--;
        if (depth <= 0) {
          this.advance();
          return;
        }
      }
      this.advance();
    }
  }

  private preprocessor(t: Token): Preprocessor {
    const m = /^#\s*(\w*)\s*(.*)$/s.exec(t.text);
    const directive = m?.[1] ?? '';
    const rest = m?.[2] ?? '';
    const restStart = t.start + t.text.length - rest.length;
    const node: Preprocessor = {
      kind: 'preprocessor',
      start: t.start,
      end: t.end,
      directive,
      argument: rest.trim(),
    };
    if (directive === 'include') {
      const inc = /^([<"])([^>"]*)[>"]?/.exec(rest);
      if (inc) {
        node.argument = inc[2];
        node.argumentSpan = { start: restStart + 1, end: restStart + 1 + inc[2].length };
      }
    } else if (directive === 'define') {
      const def = /^([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)$/s.exec(rest);
      if (def) {
        node.argument = def[1];
        node.argumentSpan = { start: restStart, end: restStart + def[1].length };
        // The C preprocessor drops comments before it expands: `#define AF_INET 2 /* IPv4 */` is 2.
        if (!def[2])
          node.value = def[3]
            .replace(/\\\r?\n/g, ' ')
            .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ' ')
            .trim();
      }
    }
    return node;
  }

  private cDefinition(): CDefinition {
    const kw = this.advance();
    const nameTok = this.advance();
    const open = this.tok;
    // The body is C, handed to clang by bpftrace: collect it brace-balanced without parsing.
    let depth = 0;
    let end = open.end;
    while (!this.atEnd()) {
      if (this.isPunct('{')) depth++;
      if (this.isPunct('}')) {
        depth--;
        if (depth === 0) {
          end = this.advance().end;
          break;
        }
      }
      this.advance();
    }
    if (depth !== 0)
      this.error(open.start, open.end, "unterminated C definition: missing '}'", 'unterminated-block');
    const body = this.text.slice(open.end, Math.max(open.end, end - 1));
    // `__attribute__((...))` and the trailing `;`
    if (this.tok.kind === 'ident' && this.tok.text === '__attribute__') {
      this.advance();
      if (this.isPunct('(')) this.skipBalanced('(', ')');
    }
    // bpftrace's lexer (and the 0.26 parser) takes `}` with or without a `;` after it.
    this.accept(';');
    const members: Array<{ name: string; type: string }> = [];
    for (const decl of body.split(';')) {
      const m = /^\s*(.*?)\s*\b([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/s.exec(decl.replace(/\s+/g, ' '));
      if (m && m[1]) members.push({ name: m[2], type: m[1] + (m[3] ?? '') });
    }
    return {
      kind: 'cdef',
      keyword: kw.text as CDefinition['keyword'],
      name: { name: nameTok.text, start: nameTok.start, end: nameTok.end },
      body,
      members,
      start: kw.start,
      end: this.prevEnd,
    };
  }

  private skipBalanced(open: string, close: string): void {
    let depth = 0;
    while (!this.atEnd()) {
      if (this.isPunct(open)) depth++;
      if (this.isPunct(close)) {
        depth--;
        if (depth === 0) {
          this.advance();
          return;
        }
      }
      this.advance();
    }
  }

  private configBlock(): ConfigBlock {
    const kw = this.advance();
    this.advance(); // '='
    const node: ConfigBlock = { kind: 'config', start: kw.start, end: kw.end, entries: [] };
    if (!this.expect('{')) {
      this.recoverStatement();
      node.end = this.prevEnd;
      return node;
    }
    while (!this.atEnd() && !this.isPunct('}')) {
      if (this.accept(';')) continue;
      if (this.tok.kind !== 'ident') {
        this.unexpected('a config key');
        this.recoverStatement();
        continue;
      }
      const k = this.advance();
      const entry: ConfigBlock['entries'][number] = { key: { name: k.text, start: k.start, end: k.end } };
      if (this.expect('=')) entry.value = this.expression();
      node.entries.push(entry);
      if (!this.isPunct('}') && !this.expect(';')) this.recoverStatement();
    }
    this.expect('}');
    this.accept(';');
    node.end = this.prevEnd;
    return node;
  }

  private importStmt(): Import {
    const kw = this.advance();
    const path = this.advance();
    this.expect(';');
    return { kind: 'import', path: path.value ?? '', start: kw.start, end: this.prevEnd };
  }

  private macroDef(): MacroDef {
    const kw = this.advance();
    const nameTok = this.advance();
    const params: Expr[] = [];
    this.advance(); // '('
    while (!this.atEnd() && !this.isPunct(')') && !this.isPunct('{')) {
      params.push(this.expression());
      if (!this.accept(',')) break;
    }
    this.expect(')');
    const body = this.block();
    return {
      kind: 'macro',
      name: { name: nameTok.text, start: nameTok.start, end: nameTok.end },
      params,
      body,
      start: kw.start,
      end: body.end,
    };
  }

  private mapDecl(): MapDecl {
    const kw = this.advance();
    const mapTok = this.advance();
    const map: MapExpr = {
      kind: 'map',
      name: '@' + (mapTok.value ?? ''),
      nameSpan: { start: mapTok.start, end: mapTok.end },
      start: mapTok.start,
      end: mapTok.end,
    };
    let type: Name = { name: '', start: this.tok.start, end: this.tok.start };
    const args: Expr[] = [];
    if (this.expect('=')) {
      if (this.tok.kind === 'ident') {
        const t = this.advance();
        type = { name: t.text, start: t.start, end: t.end };
        if (this.expect('(')) {
          while (!this.atEnd() && !this.isPunct(')')) {
            args.push(this.expression());
            if (!this.accept(',')) break;
          }
          this.expect(')');
        }
      } else {
        this.unexpected('a map type');
      }
    }
    if (!this.expect(';')) this.recoverStatement();
    return { kind: 'mapdecl', map, type, args, start: kw.start, end: this.prevEnd };
  }

  // ---- probes ----

  private probe(): Probe {
    const start = this.tok.start;
    // Attach points are lexed raw from the text, not as tokens.
    this.lx.pos = this.tok.start;
    const attachPoints: AttachPoint[] = [];
    for (;;) {
      const raw = this.lx.attachPoint();
      if (!raw) {
        const t = this.lx.next();
        this.lx.pos = t.start;
        this.error(t.start, t.end, `syntax error: unexpected ${describe(t)}, expecting an attach point`);
        break;
      }
      const pieces = [raw];
      for (;;) {
        const gap = this.lx.pos;
        this.lx.skipTrivia();
        if (this.lx.pos === gap || !continuesAttachPoint(this.text, this.lx.pos)) break;
        pieces.push(this.lx.attachPoint()!);
      }
      attachPoints.push(this.attachPoint(pieces));
      this.lx.skipTrivia();
      if (this.text[this.lx.pos] === ',') {
        this.lx.pos++;
        continue;
      }
      break;
    }
    this.prevEnd = attachPoints.length ? attachPoints[attachPoints.length - 1].end : this.prevEnd;
    this.tok = this.lx.next();
    const node: Probe = {
      kind: 'probe',
      attachPoints,
      start,
      end: this.prevEnd,
      body: { kind: 'block', statements: [], closed: false, start: this.tok.start, end: this.tok.start },
    };
    if (this.isPunct('/')) {
      const open = this.advance();
      this.inPredicate = true;
      node.predicate = this.expression();
      this.inPredicate = false;
      const close = this.expect('/');
      node.predicateSpan = { start: open.start, end: close ? close.end : this.prevEnd };
      if (!close) {
        // Resynchronise on the action block.
        while (!this.atEnd() && !this.isPunct('{')) this.advance();
      }
    }
    if (!this.isPunct('{')) {
      this.unexpected("'{'");
      // Skip to a plausible action block; if none before the next line-start word, give up on it.
      while (!this.atEnd() && !this.isPunct('{') && !(this.tok.lineStart && this.tok.kind === 'ident')) {
        this.advance();
      }
      if (!this.isPunct('{')) {
        node.end = this.prevEnd;
        return node;
      }
    }
    node.body = this.block();
    node.end = node.body.end;
    return node;
  }

  /** One attach point from the pieces the lexer read (several when spaces lie inside it). */
  private attachPoint(pieces: Array<{ text: string; start: number; end: number }>): AttachPoint {
    // The joined text, and for each of its characters the offset in the document.
    let text = '';
    for (const p of pieces) text += p.text;
    const first = pieces[0];
    const last = pieces[pieces.length - 1];
    const at = (index: number): number => {
      let rest = index;
      for (const p of pieces) {
        if (rest < p.text.length) return p.start + rest;
        rest -= p.text.length;
      }
      return last.end;
    };
    const endAt = (from: number, to: number): number => (to > from ? at(to - 1) + 1 : at(from));

    const parts: Name[] = [];
    let partStart = 0;
    let inQuote = false;
    let label: AttachPoint['label'];
    let rawStart = 0;
    for (let i = 0; i <= text.length; i++) {
      const c = text[i];
      if (c === '"') inQuote = !inQuote;
      // `name=provider` / `name==provider` (bpftrace splits the name off the first part at its
      // first '=', unless that '=' ends the part).
      if (c === '=' && !inQuote && !parts.length && !label) {
        const sign = text[i + 1] === '=' ? '==' : '=';
        const after = i + sign.length;
        if (after < text.length && text[after] !== ':') {
          label = { name: text.slice(0, i), sign, start: at(0), end: endAt(0, i) };
          i = after - 1;
          partStart = rawStart = after;
          continue;
        }
      }
      if (i === text.length || (c === ':' && !inQuote)) {
        parts.push({ name: text.slice(partStart, i), start: at(partStart), end: endAt(partStart, i) });
        partStart = i + 1;
      }
    }
    const node: AttachPoint = {
      kind: 'attach',
      raw: text.slice(rawStart),
      provider: parts[0],
      parts: parts.slice(1),
      start: first.start,
      end: last.end,
    };
    if (label) node.label = label;
    if (pieces.length > 1)
      node.gaps = pieces.slice(1).map((p, i) => ({ start: pieces[i].end, end: p.start }));
    return node;
  }

  // ---- statements ----

  private block(): Block {
    const open = this.tok;
    const node: Block = { kind: 'block', statements: [], closed: false, start: open.start, end: open.end };
    if (!this.expect('{')) return node;
    if (++this.depth > MAX_DEPTH) {
      this.error(open.start, open.end, 'blocks nested too deeply', 'syntax');
      this.skipBalancedFrom(1);
      this.depth--;
      node.end = this.prevEnd;
      return node;
    }
    while (!this.atEnd() && !this.isPunct('}')) {
      const before = this.tok.start;
      if (this.probeStartsHere()) {
        // The user is typing: a probe header at column 0 means this block was left open. Stop
        // here so that the probe below is parsed as a probe, not as statements of this one.
        this.error(
          this.tok.start,
          this.tok.end,
          `syntax error: unexpected ${describe(this.tok)}, expecting '}' (a block above is not closed)`,
          'unterminated-block',
          open.start,
        );
        this.depth--;
        node.end = this.prevEnd;
        return node;
      }
      const semi = this.accept(';');
      if (semi) {
        (node.empty ??= []).push({ start: semi.start, end: semi.end });
        continue;
      }
      const s = this.statement();
      if (s) node.statements.push(s);
      if (this.isPunct('}') || this.atEnd()) break;
      if (s && isCompound(s)) continue;
      if (!this.accept(';')) {
        this.unexpected("';' or '}'");
        if (this.tok.start === before || !this.tok.lineStart) this.recoverStatement();
      }
      if (this.tok.start === before) this.advance();
    }
    this.depth--;
    node.statements = fitted(node.statements);
    if (this.isPunct('}')) {
      node.end = this.advance().end;
      node.closed = true;
    } else {
      this.error(
        this.tok.start,
        this.tok.start,
        "syntax error: unexpected end of file, expecting '}'",
        'unterminated-block',
        open.start,
      );
      node.end = this.text.length;
    }
    return node;
  }

  /** A token at column 0 that reads like a probe header: `provider:...`, `BEGIN {`, `END`. */
  private probeStartsHere(): boolean {
    const t = this.tok;
    if (t.kind !== 'ident' || (t.start > 0 && this.text[t.start - 1] !== '\n')) return false;
    const after = this.text[t.end];
    if (after === ':' && /[\w/*"$]/.test(this.text[t.end + 1] ?? '')) return true;
    return (t.text === 'BEGIN' || t.text === 'END') && /^\s*[{,/]/.test(this.text.slice(t.end, t.end + 40));
  }

  private skipBalancedFrom(depth: number): void {
    while (!this.atEnd() && depth > 0) {
      if (this.isPunct('{')) depth++;
      if (this.isPunct('}')) depth--;
      this.advance();
    }
  }

  private statement(): Stmt | undefined {
    const t = this.tok;
    if (t.kind === 'ident' && STATEMENT_KEYWORDS.has(t.text)) {
      switch (t.text) {
        case 'if':
          return this.ifStmt();
        case 'unroll': {
          this.advance();
          const { cond: count, parenthesized } = this.condition();
          const body = this.block();
          return { kind: 'unroll', count, parenthesized, body, start: t.start, end: body.end };
        }
        case 'while': {
          this.advance();
          const { cond, parenthesized } = this.condition();
          const body = this.block();
          return {
            kind: 'while',
            keyword: { start: t.start, end: t.end },
            cond,
            parenthesized,
            body,
            start: t.start,
            end: body.end,
          };
        }
        case 'for':
          return this.forStmt();
        case 'return': {
          this.advance();
          const value = this.isPunct(';') || this.isPunct('}') ? undefined : this.expression();
          return { kind: 'return', value, start: t.start, end: this.prevEnd };
        }
        case 'break':
        case 'continue':
          this.advance();
          return { kind: t.text, start: t.start, end: t.end };
        case 'let':
          return this.letStmt();
        case 'else':
          this.error(t.start, t.end, "syntax error: 'else' without a matching 'if'");
          this.advance();
          return undefined;
      }
    }
    if (this.isPunct('{')) {
      const block = this.block();
      return { kind: 'blockstmt', block, start: block.start, end: block.end };
    }
    if (this.tok.kind === 'preproc') {
      this.error(
        t.start,
        t.end,
        'syntax error: preprocessor directives are only allowed before the first probe',
      );
      this.advance();
      return undefined;
    }
    const target = this.expression();
    if (this.tok.kind === 'punct' && ASSIGN_OPS.has(this.tok.text)) {
      const op = this.advance();
      if (
        target.kind !== 'var' &&
        target.kind !== 'map' &&
        !(target.kind === 'ident' && target.name === '_')
      ) {
        this.error(
          op.start,
          op.end,
          `syntax error: unexpected '${op.text}': only maps and scratch variables can be assigned to`,
        );
      }
      const value = this.expression();
      return {
        kind: 'assign',
        target,
        op: op.text,
        opSpan: { start: op.start, end: op.end },
        value,
        start: target.start,
        end: value.end,
      };
    }
    return { kind: 'exprstmt', expr: target, start: target.start, end: target.end };
  }

  /**
   * The condition of `if`/`while`/`unroll`, with or without parentheses (the dialect decides).
   * Parenthesized means as a whole: `($a && $b)`, not `($a) && ($b)`.
   */
  private condition(): { cond: Expr; parenthesized: boolean } {
    const open = this.isPunct('(') ? this.tok.start : -1;
    const cond = this.expression();
    return { cond, parenthesized: open >= 0 && closingParen(this.text, open) === this.prevEnd - 1 };
  }

  private ifStmt(): Stmt {
    const kw = this.advance();
    const { cond, parenthesized } = this.condition();
    const then = this.block();
    const node: Stmt = { kind: 'if', cond, parenthesized, then, start: kw.start, end: then.end };
    if (this.tok.kind === 'ident' && this.tok.text === 'else') {
      this.advance();
      if (this.isIdent('if')) {
        const elseIf = this.ifStmt();
        if (elseIf.kind === 'if') node.else = elseIf;
      } else {
        node.else = this.block();
      }
      node.end = this.prevEnd;
    }
    return node;
  }

  /** `$name` where a statement needs one; a `$` placeholder (and an error) otherwise. */
  private scratchVariable(): VarExpr {
    const v = this.tok;
    if (v.kind === 'var') {
      this.advance();
      return { kind: 'var', name: '$' + (v.value ?? ''), start: v.start, end: v.end };
    }
    this.unexpected('a scratch variable');
    return { kind: 'var', name: '$', start: v.start, end: v.start };
  }

  private forStmt(): Stmt {
    const kw = this.advance();
    // `for $x : @m {` without parentheses: bpftrace 0.25's grammar (the dialect decides).
    const parenthesized = !!this.accept('(');
    const variable = this.scratchVariable();
    this.expect(':');
    const from = this.expression();
    let iterable: Expr | RangeExpr = from;
    if (this.accept('..')) {
      const to = this.expression();
      iterable = { kind: 'range', from, to, start: from.start, end: to.end };
    }
    if (parenthesized) this.expect(')');
    const body = this.block();
    return {
      kind: 'for',
      keyword: { start: kw.start, end: kw.end },
      parenthesized,
      variable,
      iterable,
      body,
      start: kw.start,
      end: body.end,
    };
  }

  private letStmt(): Stmt {
    const kw = this.advance();
    const variable = this.scratchVariable();
    if (variable.name === '$') {
      this.recoverStatement();
      return {
        kind: 'let',
        keyword: { start: kw.start, end: kw.end },
        variable,
        start: kw.start,
        end: this.prevEnd,
      };
    }
    let type: TypeRef | undefined;
    if (this.accept(':')) type = this.typeRef();
    let value: Expr | undefined;
    if (this.accept('=')) value = this.expression();
    return {
      kind: 'let',
      keyword: { start: kw.start, end: kw.end },
      variable,
      type,
      value,
      start: kw.start,
      end: this.prevEnd,
    };
  }

  // ---- expressions ----

  expression(): Expr {
    if (++this.depth > MAX_DEPTH) {
      const t = this.tok;
      this.error(t.start, t.end, 'expression nested too deeply', 'syntax');
      this.depth--;
      this.recoverStatement();
      return { kind: 'error', start: t.start, end: t.end };
    }
    const e = this.ternary();
    this.depth--;
    return e;
  }

  private ternary(): Expr {
    const cond = this.binary(0);
    if (!this.isPunct('?')) return cond;
    this.advance();
    let then: Expr | undefined;
    if (!this.isPunct(':')) then = this.expression();
    this.expect(':');
    const otherwise = this.expression();
    return { kind: 'ternary', cond, then, else: otherwise, start: cond.start, end: otherwise.end };
  }

  /** Is the current `/` the end of a predicate (followed by `{` or the end of input)? */
  private predicateEnds(): boolean {
    if (!this.inPredicate || !this.isPunct('/')) return false;
    const n = this.peekToken();
    return n.kind === 'eof' || n.text === '{';
  }

  /** Precedence climbing over the binary operators (higher binds tighter). */
  private binary(minPrec: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'punct') return left;
      const prec = BINARY_PRECEDENCE.get(t.text);
      if (prec === undefined || prec < minPrec || this.predicateEnds()) return left;
      this.advance();
      const right = this.binary(prec + 1);
      left = {
        kind: 'binary',
        op: t.text,
        opSpan: { start: t.start, end: t.end },
        left,
        right,
        start: left.start,
        end: right.end,
      };
    }
  }

  private unary(): Expr {
    const t = this.tok;
    if (t.kind === 'punct' && UNARY_OPS.has(t.text)) {
      this.advance();
      if (++this.depth > MAX_DEPTH) {
        this.depth--;
        this.error(t.start, t.end, 'expression nested too deeply', 'syntax');
        return { kind: 'error', start: t.start, end: t.end };
      }
      const operand = this.unary();
      this.depth--;
      return { kind: 'unary', op: t.text, operand, postfix: false, start: t.start, end: operand.end };
    }
    if (t.kind === 'punct' && t.text === '(') {
      const cast = this.tryCast();
      if (cast) return cast;
    }
    return this.postfix(this.primary());
  }

  /** `(type) expr` where type is `struct x *`, `int8`, `T *`, `T[N]`... */
  private tryCast(): Expr | undefined {
    // Cheap test first: a cast starts with an identifier after the parenthesis.
    let i = this.tok.end;
    while (i < this.text.length && /\s/.test(this.text[i])) i++;
    if (!/[A-Za-z_]/.test(this.text[i] ?? '')) return undefined;
    const ahead = this.peek(6);
    const [a, b] = ahead;
    let isCast = false;
    if (
      a?.kind === 'ident' &&
      (((a.text === 'struct' || a.text === 'union' || a.text === 'enum') && b?.kind === 'ident') ||
        (a.text === 'typeof' && b?.text === '('))
    ) {
      isCast = true;
    } else if (a?.kind === 'ident' && !STATEMENT_KEYWORDS.has(a.text)) {
      // T followed by stars/array then ')'
      let i = 1;
      while (ahead[i]?.text === '*') i++;
      if (ahead[i]?.text === '[') {
        i++;
        if (ahead[i]?.kind === 'int') i++;
        if (ahead[i]?.text === ']') i++;
      }
      if (ahead[i]?.text === ')') {
        if (i > 1 || CAST_TYPE_NAMES.has(a.text)) isCast = true;
        else {
          const after = ahead[i + 1];
          isCast =
            !!after &&
            (after.kind === 'var' ||
              after.kind === 'map' ||
              after.kind === 'int' ||
              after.kind === 'param' ||
              after.kind === 'string' ||
              (after.kind === 'ident' && !['if', 'else'].includes(after.text)) ||
              (after.kind === 'punct' && ['(', '!', '~'].includes(after.text))) &&
            /^(u|s)(8|16|32|64)$|_t$|^[a-z_]+\d*$/.test(a.text) &&
            !BUILTIN_VARIABLE_HINT.has(a.text);
        }
      }
    }
    if (!isCast) return undefined;
    const open = this.advance();
    const type = this.typeRef();
    this.expect(')');
    const operand = this.unary();
    return { kind: 'cast', type, operand, start: open.start, end: operand.end };
  }

  private typeRef(): TypeRef {
    const start = this.tok.start;
    let tag: TypeRef['tag'];
    if (
      this.tok.kind === 'ident' &&
      (this.tok.text === 'struct' || this.tok.text === 'union' || this.tok.text === 'enum')
    ) {
      tag = this.advance().text as TypeRef['tag'];
    }
    let name = '';
    let nameSpan: Span = { start: this.tok.start, end: this.tok.start };
    let of: Expr | undefined;
    if (this.tok.kind === 'ident' && this.tok.text === 'typeof' && this.peekToken().text === '(') {
      // `typeof(expr)` or `typeof(type)` in a type position (0.25).
      const t = this.advance();
      name = t.text;
      nameSpan = { start: t.start, end: t.end };
      this.advance();
      of = this.typeOrExpression();
      this.expect(')');
    } else if (this.tok.kind === 'ident') {
      const t = this.advance();
      name = t.text;
      nameSpan = { start: t.start, end: t.end };
      // `unsigned int`, `long long`
      while (
        this.tok.kind === 'ident' &&
        /^(int|long|short|char)$/.test(this.tok.text) &&
        /^(unsigned|signed|long|short)$/.test(name.split(' ').pop()!)
      ) {
        const u = this.advance();
        name += ' ' + u.text;
        nameSpan.end = u.end;
      }
    } else {
      this.unexpected('a type name');
    }
    let pointer = 0;
    while (this.accept('*')) pointer++;
    let array: TypeRef['array'];
    if (this.accept('[')) {
      if (this.tok.kind === 'int') array = this.advance().num ?? 0;
      else array = 'unsized';
      this.expect(']');
    }
    const node: TypeRef = { kind: 'type', tag, name, nameSpan, pointer, array, start, end: this.prevEnd };
    if (of) {
      node.of = of;
      node.ofText = this.text.slice(of.start, of.end);
    }
    return node;
  }

  /** A type where one reads like a type (`struct x *`, `uint64`), else an expression. */
  private typeOrExpression(): Expr {
    const a = this.tok;
    if (a.kind !== 'ident') return this.expression();
    const b = this.peekToken();
    const looksType =
      ((a.text === 'struct' || a.text === 'union' || a.text === 'enum') && b.kind === 'ident') ||
      (INTEGER_TYPE_NAMES.includes(a.text) && b.text !== '(') ||
      (a.text === 'typeof' && b.text === '(');
    return looksType ? this.typeRef() : this.expression();
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isPunct('.') || this.isPunct('->')) {
        const op = this.advance();
        const f = this.tok;
        let field: Name;
        if (f.kind === 'ident' || f.kind === 'int') {
          this.advance();
          field = { name: f.text, start: f.start, end: f.end };
        } else {
          this.unexpected('a field name');
          field = { name: '', start: op.end, end: op.end };
        }
        e = {
          kind: 'field',
          object: e,
          op: op.text as '.' | '->',
          opSpan: { start: op.start, end: op.end },
          field,
          start: e.start,
          end: field.end > op.end ? field.end : op.end,
        };
      } else if (this.isPunct('[') && e.kind !== 'map') {
        this.advance();
        const index = this.expression();
        this.expect(']');
        e = { kind: 'index', object: e, index, start: e.start, end: this.prevEnd };
      } else if ((this.isPunct('++') || this.isPunct('--')) && !this.tok.lineStart) {
        const op = this.advance();
        e = { kind: 'unary', op: op.text, operand: e, postfix: true, start: e.start, end: op.end };
      } else {
        return e;
      }
    }
  }

  private callArgs(callee: Name): Expr {
    const open = this.advance();
    const args: Expr[] = [];
    const commas: number[] = [];
    while (!this.atEnd() && !this.isPunct(')')) {
      const before = this.tok.start;
      // A type as an argument: container_of(p, struct task_struct, tasks), typeinfo(uint64).
      args.push(this.typeOrExpression());
      const comma = this.accept(',');
      if (comma) {
        commas.push(comma.start);
        continue;
      }
      if (!this.isPunct(')')) {
        this.unexpected("')' or ','");
        // Skip the rest of the argument list, staying inside the statement.
        while (!this.atEnd() && !this.isPunct(')') && !this.isPunct(';') && !this.isPunct('}'))
          this.advance();
        if (this.tok.start === before) break;
      }
      break;
    }
    const close = this.expect(')');
    const end = close ? close.end : this.prevEnd;
    return {
      kind: 'call',
      callee,
      args: fitted(args),
      argsSpan: { start: open.start, end },
      commas: fitted(commas),
      start: callee.start,
      end,
    };
  }

  private primary(): Expr {
    const t = this.tok;
    switch (t.kind) {
      case 'int':
        this.advance();
        return { kind: 'int', value: t.num ?? 0, text: t.text, suffix: t.suffix, start: t.start, end: t.end };
      case 'string':
        this.advance();
        return { kind: 'string', value: t.value ?? '', start: t.start, end: t.end };
      case 'param':
        this.advance();
        return { kind: 'param', name: t.text, start: t.start, end: t.end };
      case 'var':
        this.advance();
        return { kind: 'var', name: t.text, start: t.start, end: t.end };
      case 'map': {
        this.advance();
        const node: MapExpr = {
          kind: 'map',
          name: t.text,
          nameSpan: { start: t.start, end: t.end },
          start: t.start,
          end: t.end,
        };
        if (this.isPunct('[')) {
          this.advance();
          node.keys = [];
          while (!this.atEnd() && !this.isPunct(']')) {
            const before = this.tok.start;
            node.keys.push(this.expression());
            if (!this.accept(',')) break;
            if (this.tok.start === before) break;
          }
          this.expect(']');
          node.keys = fitted(node.keys);
          node.end = this.prevEnd;
        }
        return node;
      }
      case 'ident': {
        if (t.text === 'sizeof' || t.text === 'offsetof') return this.sizeofLike();
        if (t.text === 'comptime' && this.startsOperand(this.peekToken())) {
          // `comptime expr` (0.25): a keyword applied to a unary expression.
          this.advance();
          const operand = this.unary();
          return {
            kind: 'comptime',
            keyword: { start: t.start, end: t.end },
            operand,
            start: t.start,
            end: operand.end,
          };
        }
        this.advance();
        const name: Name = { name: t.text, start: t.start, end: t.end };
        if (this.isPunct('(')) return this.callArgs(name);
        return { kind: 'ident', name: t.text, start: t.start, end: t.end };
      }
      case 'punct':
        if (t.text === '(') return this.parenthesised();
        if (t.text === '{') {
          const block = this.block();
          return { kind: 'blockexpr', block, start: block.start, end: block.end };
        }
        break;
      default:
        break;
    }
    this.unexpected('an expression');
    // Do not consume a token that closes an enclosing construct.
    if (
      !(t.kind === 'punct' && [')', ']', '}', ';', ','].includes(t.text)) &&
      t.kind !== 'eof' &&
      !this.predicateEnds()
    ) {
      this.advance();
    }
    return { kind: 'error', start: t.start, end: t.end };
  }

  /** Can this token begin an operand (after a prefix keyword such as `comptime`)? */
  private startsOperand(t: Token | undefined): boolean {
    if (!t) return false;
    if (t.kind === 'punct') return ['(', '!', '-', '~', '*', '&', '{'].includes(t.text);
    return t.kind !== 'eof' && t.kind !== 'preproc';
  }

  private sizeofLike(): Expr {
    const kw = this.advance();
    const keyword: Span = { start: kw.start, end: kw.end };
    if (!this.expect('(')) return { kind: 'error', start: kw.start, end: kw.end };
    if (kw.text === 'offsetof') {
      const type = this.typeRef();
      const fields: Name[] = [];
      if (this.expect(',')) {
        do {
          const f = this.tok;
          if (f.kind !== 'ident') {
            this.unexpected('a field name');
            break;
          }
          this.advance();
          fields.push({ name: f.text, start: f.start, end: f.end });
        } while (this.accept('.'));
      }
      this.expect(')');
      return { kind: 'offsetof', keyword, type, fields, start: kw.start, end: this.prevEnd };
    }
    const [n1, n2] = this.peek(2);
    const a = this.tok;
    const looksType =
      a.kind === 'ident' &&
      (['struct', 'union', 'enum'].includes(a.text) ||
        CAST_TYPE_NAMES.has(a.text) ||
        (n1?.text === '*' && (n2?.text === ')' || n2?.text === '*')));
    void n1;
    const arg = looksType ? this.typeRef() : this.expression();
    this.expect(')');
    return { kind: 'sizeof', keyword, arg, start: kw.start, end: this.prevEnd };
  }

  /** `(name = e, size = e)` records (0.25): a tuple whose elements carry names. */
  private record(open: Token): Expr {
    const elements: Expr[] = [];
    const names: Name[] = [];
    while (this.tok.kind === 'ident') {
      const n = this.advance();
      names.push({ name: n.text, start: n.start, end: n.end });
      this.expect('=');
      elements.push(this.expression());
      if (!this.accept(',')) break;
    }
    this.expect(')');
    return { kind: 'tuple', elements, names, start: open.start, end: this.prevEnd };
  }

  private parenthesised(): Expr {
    const open = this.advance();
    if (this.isPunct(')')) {
      this.advance();
      return { kind: 'tuple', elements: [], start: open.start, end: this.prevEnd };
    }
    if (this.tok.kind === 'ident' && this.peekToken().text === '=') return this.record(open);
    const first = this.expression();
    if (this.isPunct(',')) {
      const elements = [first];
      while (this.accept(',')) {
        if (this.isPunct(')')) break;
        elements.push(this.expression());
      }
      this.expect(')');
      return { kind: 'tuple', elements, start: open.start, end: this.prevEnd };
    }
    this.expect(')');
    return first;
  }
}

/** Builtin variable names that must not be mistaken for a cast type in `(name) x`. */
const BUILTIN_VARIABLE_HINT = new Set([
  'pid',
  'tid',
  'uid',
  'gid',
  'nsecs',
  'elapsed',
  'cpu',
  'comm',
  'kstack',
  'ustack',
  'arg0',
  'retval',
  'func',
  'probe',
  'curtask',
  'rand',
  'cgroup',
  'args',
]);

/**
 * The list in an array of its own size: an array filled by push() keeps room for 16 entries
 * (most lists of a script hold 1 to 3), and the tree keeps every one of them alive.
 */
function fitted<T>(list: T[]): T[] {
  return list.length > 0 && list.length < 16 ? list.slice() : list;
}

function isCompound(s: Stmt): boolean {
  return (
    s.kind === 'if' || s.kind === 'while' || s.kind === 'for' || s.kind === 'unroll' || s.kind === 'blockstmt'
  );
}

/** Offset of the `)` that closes the `(` at `open` (strings and character literals skipped). */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Whether what follows a space still belongs to the attach point before it, as bpftrace's
 * grammar up to 0.25 reads it: an identifier, number, string, `:`-path, `.`, `+`, `*`, `[`, `]`,
 * `$N` or `=` continues it (`,`, `{` and a predicate's `/` end it).
 */
function continuesAttachPoint(text: string, pos: number): boolean {
  const c = text[pos];
  return c !== undefined && /[\w"$:.+*[\]=]/.test(c);
}
