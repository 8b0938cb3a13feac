// Hand-written bpftrace lexer. It is pull-based and purely position-driven so that the parser
// can switch to raw attach-point scanning at any token boundary. It never throws: malformed
// input becomes a token plus a problem with an exact range.

export type TokenKind =
  | 'ident' // identifiers and keywords
  | 'var' // $name
  | 'param' // $1, $#
  | 'map' // @name or @
  | 'int'
  | 'string'
  | 'punct'
  | 'preproc' // a whole `#...` line
  | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Decoded string value, or the identifier/variable name without its sigil. */
  value?: string;
  /** Numeric value of an int token (durations in nanoseconds). */
  num?: number;
  /** Suffix of an int token as written (`ul`, `ms`, ...). */
  suffix?: string;
  /** The token begins a new line (only whitespace/comments before it on its line). */
  lineStart?: boolean;
}

export interface SyntaxProblem {
  start: number;
  end: number;
  message: string;
  code: string;
  /** Where the unterminated construct began, for relatedInformation. */
  openedAt?: number;
}

const PUNCT = [
  '<<=',
  '>>=',
  '..',
  '->',
  '++',
  '--',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '<<',
  '>>',
];
const SINGLE = new Set('{}()[];,.:?+-*/%&|^!~<>='.split(''));
/** Punctuators by first character, longest first. */
const PUNCT_BY_FIRST: Array<string[] | undefined> = [];
for (const p of [...PUNCT, ...SINGLE]) (PUNCT_BY_FIRST[p.charCodeAt(0)] ??= []).push(p);
for (const list of PUNCT_BY_FIRST) list?.sort((a, b) => b.length - a.length);

const MAX_U64 = (1n << 64n) - 1n;

export const INTEGER_SUFFIXES = new Set(['u', 'l', 'ul', 'lu', 'll', 'ull', 'llu']);
export const DURATION_SUFFIXES: Record<string, number> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86400e9,
};

/**
 * Every token is built here, with all its fields in one order: tokens of one shape keep the
 * parser's reads of them monomorphic (a literal per kind gave each kind its own hidden class).
 */
function token(
  kind: TokenKind,
  text: string,
  start: number,
  end: number,
  lineStart: boolean,
  value?: string,
  num?: number,
  suffix?: string,
): Token {
  return { kind, text, start, end, value, num, suffix, lineStart };
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

export class Lexer {
  pos = 0;
  readonly problems: SyntaxProblem[] = [];
  /** Block/line comment ranges, for folding. */
  readonly comments: Array<{ start: number; end: number; block: boolean }> = [];
  private reported = new Set<number>();
  private commentHigh = 0;

  constructor(readonly text: string) {
    // A shebang is only meaningful on line 1.
    if (text.startsWith('#!')) {
      const nl = text.indexOf('\n');
      this.pos = nl < 0 ? text.length : nl;
    }
  }

  private problem(start: number, end: number, message: string, code: string, openedAt?: number): void {
    // The parser may re-lex after backtracking; report each problem once.
    if (this.reported.has(start)) return;
    this.reported.add(start);
    this.problems.push(
      openedAt === undefined ? { start, end, message, code } : { start, end, message, code, openedAt },
    );
  }

  private comment(start: number, end: number, block: boolean): void {
    // Re-lexing after a look-ahead must not record a comment twice.
    if (start < this.commentHigh) return;
    this.commentHigh = end;
    this.comments.push({ start, end, block });
  }

  /** Skips whitespace and comments; returns whether a newline was crossed or we are at line start. */
  skipTrivia(): boolean {
    const t = this.text;
    let lineStart = this.pos === 0 || t.charCodeAt(this.pos - 1) === 10;
    if (!lineStart) {
      // Whitespace-only prefix on the line also counts as line start.
      let i = this.pos - 1;
      while (i >= 0 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i--;
      lineStart = i < 0 || t.charCodeAt(i) === 10;
    }
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (isSpace(c)) {
        if (c === 10) lineStart = true;
        this.pos++;
      } else if (c === 47 && t.charCodeAt(this.pos + 1) === 47) {
        const nl = t.indexOf('\n', this.pos);
        const end = nl < 0 ? t.length : nl;
        this.comment(this.pos, end, false);
        this.pos = end;
      } else if (c === 47 && t.charCodeAt(this.pos + 1) === 42) {
        const close = t.indexOf('*/', this.pos + 2);
        if (close < 0) {
          this.problem(
            t.length,
            t.length,
            'unterminated comment: end of file during comment',
            'unterminated-comment',
            this.pos,
          );
          this.comment(this.pos, t.length, true);
          this.pos = t.length;
        } else {
          this.comment(this.pos, close + 2, true);
          this.pos = close + 2;
        }
      } else {
        return lineStart;
      }
    }
  }

  next(): Token {
    const lineStart = this.skipTrivia();
    const t = this.text;
    const start = this.pos;
    if (start >= t.length) return token('eof', '', start, start, lineStart);
    const c = t.charCodeAt(start);

    if (isIdentStart(c)) {
      let i = start + 1;
      while (isIdentPart(t.charCodeAt(i))) i++;
      this.pos = i;
      const text = t.slice(start, i);
      return token('ident', text, start, i, lineStart, text);
    }
    if (isDigit(c)) return this.number(start, lineStart);
    if (c === 34) return this.string(start, lineStart);
    if (c === 36) {
      // `$`
      const d = t.charCodeAt(start + 1);
      let kind: TokenKind = 'var';
      let i = start + 1;
      if (d === 35) {
        kind = 'param';
        i = start + 2;
      } else if (isDigit(d)) {
        kind = 'param';
        while (isDigit(t.charCodeAt(i))) i++;
      } else if (isIdentStart(d)) {
        while (isIdentPart(t.charCodeAt(i))) i++;
      } else {
        this.problem(
          start,
          start + 1,
          "'$' must be followed by a variable name or a parameter number",
          'invalid-token',
        );
      }
      this.pos = i;
      return token(kind, t.slice(start, i), start, i, lineStart, t.slice(start + 1, i));
    }
    if (c === 64) {
      // `@`
      let i = start + 1;
      while (isIdentPart(t.charCodeAt(i))) i++;
      this.pos = i;
      return token('map', t.slice(start, i), start, i, lineStart, t.slice(start + 1, i));
    }
    if (c === 35) return this.preprocessor(start, lineStart);
    const candidates = PUNCT_BY_FIRST[c];
    if (candidates) {
      for (const p of candidates) {
        if (p.length === 1 || t.startsWith(p, start)) {
          this.pos = start + p.length;
          return token('punct', p, start, this.pos, lineStart);
        }
      }
    }
    // Unknown character: report and skip a whole run of them so one typo gives one problem.
    let i = start + 1;
    while (i < t.length && !isSpace(t.charCodeAt(i)) && !SINGLE.has(t[i]) && !isIdentPart(t.charCodeAt(i)))
      i++;
    this.problem(start, i, `invalid character '${t.slice(start, i)}'`, 'invalid-token');
    this.pos = i;
    return this.next();
  }

  /** `#...` up to the end of the line, with backslash continuations. */
  private preprocessor(start: number, lineStart: boolean): Token {
    const t = this.text;
    let i = start;
    for (;;) {
      const nl = t.indexOf('\n', i);
      if (nl < 0) {
        i = t.length;
        break;
      }
      let j = nl - 1;
      if (t.charCodeAt(j) === 13) j--;
      if (t.charCodeAt(j) === 92) {
        i = nl + 1;
        continue;
      }
      i = nl;
      break;
    }
    let end = i;
    if (t.charCodeAt(end - 1) === 13) end--;
    this.pos = i;
    return token('preproc', t.slice(start, end), start, end, lineStart);
  }

  private number(start: number, lineStart: boolean): Token {
    const t = this.text;
    let i = start;
    let digits: string;
    let radix = 10;
    if (t.charCodeAt(i) === 48 && (t[i + 1] === 'x' || t[i + 1] === 'X')) {
      i += 2;
      const s = i;
      while (/[0-9a-fA-F_]/.test(t[i] ?? '')) i++;
      digits = t.slice(s, i);
      radix = 16;
    } else {
      const s = i;
      while (isDigit(t.charCodeAt(i)) || t.charCodeAt(i) === 95) i++;
      digits = t.slice(s, i);
      if (digits.length > 1 && digits[0] === '0' && radix === 10) radix = 8;
    }
    let exponent = 0;
    if (radix !== 16 && (t[i] === 'e' || t[i] === 'E') && isDigit(t.charCodeAt(i + 1))) {
      let j = i + 1;
      while (isDigit(t.charCodeAt(j))) j++;
      exponent = Number(t.slice(i + 1, j));
      if (!/^[1-9]$/.test(digits)) {
        this.problem(
          start,
          j,
          `Coefficient part of scientific literal must be in range (0,9), got: ${digits}`,
          'invalid-number',
        );
      }
      i = j;
    }
    const suffixStart = i;
    while (isIdentPart(t.charCodeAt(i))) i++;
    const suffix = t.slice(suffixStart, i);
    let num = parseInt(digits.replace(/_/g, ''), radix);
    if (digits.endsWith('_') || digits === '') {
      this.problem(start, i, `invalid integer literal '${t.slice(start, i)}'`, 'invalid-number');
      num = 0;
    }
    if (exponent) num *= 10 ** exponent;
    else if (
      num > Number.MAX_SAFE_INTEGER &&
      BigInt((radix === 16 ? '0x' : radix === 8 ? '0o' : '') + digits.replace(/_/g, '')) > MAX_U64
    ) {
      this.problem(
        start,
        i,
        `integer literal ${t.slice(start, i)} is too large (the maximum is 2^64 - 1)`,
        'invalid-number',
      );
    }
    const lower = suffix.toLowerCase();
    if (suffix && !INTEGER_SUFFIXES.has(lower) && !(suffix in DURATION_SUFFIXES)) {
      this.problem(suffixStart, i, `invalid suffix '${suffix}' on integer literal`, 'invalid-number');
    } else if (suffix in DURATION_SUFFIXES) {
      num *= DURATION_SUFFIXES[suffix];
    }
    this.pos = i;
    return token('int', t.slice(start, i), start, i, lineStart, undefined, num, suffix || undefined);
  }

  private string(start: number, lineStart: boolean): Token {
    const t = this.text;
    let i = start + 1;
    let value = '';
    for (;;) {
      if (i >= t.length || t.charCodeAt(i) === 10) {
        this.problem(start, i, 'unterminated string', 'unterminated-string');
        break;
      }
      const c = t[i];
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const e = t[i + 1];
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
        if (e !== undefined && e in simple) {
          value += simple[e];
          i += 2;
        } else if (e === 'x' && /^[0-9a-fA-F]{1,2}/.test(t.slice(i + 2, i + 4))) {
          const m = /^[0-9a-fA-F]{1,2}/.exec(t.slice(i + 2, i + 4))![0];
          value += String.fromCharCode(parseInt(m, 16));
          i += 2 + m.length;
        } else if (e !== undefined && /[0-7]/.test(e)) {
          const m = /^[0-7]{1,3}/.exec(t.slice(i + 1, i + 4))![0];
          value += String.fromCharCode(parseInt(m, 8) & 0xff);
          i += 1 + m.length;
        } else {
          this.problem(i, i + 2, `invalid escape character '\\${e ?? ''}'`, 'invalid-escape');
          i += e === undefined || e === '\n' ? 1 : 2;
        }
        continue;
      }
      value += c;
      i++;
    }
    this.pos = i;
    return token('string', t.slice(start, i), start, i, lineStart, value);
  }

  /**
   * Raw scan of one attach point from the current position: everything up to whitespace, ',',
   * '{' or a comment, with quoted parts kept whole. Returns undefined if nothing is there. After
   * the first ':' a `/*` or `//` is part of the path, not a comment (`uprobe:/usr/bin/*sh:f`):
   * bpftrace's lexer takes `:` and what follows as one path token up to 0.25 (lexer.l `path`),
   * and its parser from 0.26 treats '/' after a ':' as part of the path (parse_attach_point).
   */
  attachPoint(): { text: string; start: number; end: number } | undefined {
    this.skipTrivia();
    const t = this.text;
    const start = this.pos;
    let i = start;
    let colon = false;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (isSpace(c) || c === 44 || c === 123 || c === 125 || c === 59) break;
      if (c === 58) colon = true;
      if (c === 47 && !colon && (t.charCodeAt(i + 1) === 47 || t.charCodeAt(i + 1) === 42)) break;
      if (c === 34) {
        const close = t.indexOf('"', i + 1);
        const nl = t.indexOf('\n', i + 1);
        if (close < 0 || (nl >= 0 && nl < close)) {
          this.problem(i, nl < 0 ? t.length : nl, 'unterminated string', 'unterminated-string');
          i = nl < 0 ? t.length : nl;
          break;
        }
        i = close + 1;
        continue;
      }
      i++;
    }
    if (i === start) return undefined;
    this.pos = i;
    return { text: t.slice(start, i), start, end: i };
  }
}
