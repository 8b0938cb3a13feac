// Comments and blank lines between the nodes of a script, for the printer. Each comment is taken
// exactly once (by the node it precedes, the statement it sits in, or the line it ends), so none
// is lost or doubled. A block comment becomes one comment line per text line, the way
// bpftrace's `--fmt` writes them: `//` comments, the leading ` * ` of each line dropped.

export interface CommentRange {
  start: number;
  end: number;
  block: boolean;
}

export interface TriviaComment {
  start: number;
  end: number;
  /** The comment's text lines, without `//`, `/*`, `*\/` and leading stars. */
  lines: string[];
  /** Code precedes it on its line: it ends that line's statement rather than starting a new one. */
  trailing: boolean;
}

export type GapItem = { kind: 'blank' } | { kind: 'comment'; comment: TriviaComment };

const BLANK: GapItem = { kind: 'blank' };
const NONE: never[] = [];

function commentLines(text: string, block: boolean): string[] {
  if (!block) return [text.slice(2).replace(/^ /, '').trimEnd()];
  const body = text.slice(2, text.endsWith('*/') ? -2 : undefined);
  const raw = body.split('\n');
  const out: string[] = [];
  raw.forEach((line, i) => {
    let l = line.replace(/\r$/, '');
    if (i === 0) {
      if (text.startsWith('/**')) l = l.slice(1);
      l = l.replace(/^ /, '');
    } else {
      l = l.replace(/^[ \t]*/, '');
      if (l.startsWith('*')) l = l.replace(/^\*+ ?/, '');
    }
    l = l.trimEnd();
    // The first and last lines of a `/*` ... `*/` frame carry no text.
    if (l === '' && (i === 0 || i === raw.length - 1) && raw.length > 1) return;
    out.push(l);
  });
  return out.length ? out : [''];
}

export class Trivia {
  readonly comments: TriviaComment[];
  private readonly taken: boolean[];
  /** Index of the first comment not yet taken (comments are mostly taken in order). */
  private low = 0;

  constructor(
    private readonly text: string,
    ranges: readonly CommentRange[],
    /** Spans whose comments belong to verbatim text (preprocessor lines, C definitions). */
    verbatim: ReadonlyArray<{ start: number; end: number }>,
  ) {
    const inVerbatim = (c: CommentRange) => verbatim.some((v) => c.start >= v.start && c.start < v.end);
    this.comments = ranges
      .filter((c) => !inVerbatim(c))
      .map((c) => {
        const lineStart = text.lastIndexOf('\n', c.start - 1) + 1;
        return {
          start: c.start,
          end: c.end,
          lines: commentLines(text.slice(c.start, c.end), c.block),
          trailing: text.slice(lineStart, c.start).trim() !== '',
        };
      });
    this.taken = this.comments.map(() => false);
  }

  /** Takes the comments that start in [from, to), in order. */
  take(from: number, to: number): readonly TriviaComment[] {
    let i = this.firstAtOrAfter(from);
    if (i >= this.comments.length || this.comments[i].start >= to) return NONE;
    const out: TriviaComment[] = [];
    for (; i < this.comments.length && this.comments[i].start < to; i++) {
      if (this.taken[i]) continue;
      this.taken[i] = true;
      out.push(this.comments[i]);
    }
    while (this.low < this.taken.length && this.taken[this.low]) this.low++;
    return out;
  }

  /**
   * Takes what lies between two nodes, in order: comments and blank lines. A blank line is a
   * line with nothing on it; the newline that ends a line with code or a comment is not one.
   */
  gap(from: number, to: number): GapItem[] {
    const items: GapItem[] = [];
    let pos = from;
    for (const c of this.take(from, to)) {
      this.blanks(items, pos, c.start);
      items.push({ kind: 'comment', comment: c });
      pos = c.end;
    }
    this.blanks(items, pos, to);
    return items;
  }

  /** Whole lines with nothing on them (a line holding only a stray `;` is not one). */
  private blanks(items: GapItem[], a: number, b: number): void {
    let counting = a === 0;
    let empty = true;
    for (let i = a; i < b; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 10) {
        if (counting && empty) items.push(BLANK);
        counting = true;
        empty = true;
      } else if (c !== 32 && c !== 9 && c !== 13) empty = false;
    }
  }

  /** Whether every comment has been taken (the printer's own check before its output is used). */
  allTaken(): boolean {
    return this.low >= this.taken.length;
  }

  private firstAtOrAfter(offset: number): number {
    let lo = this.low;
    let hi = this.comments.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.comments[mid].start < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
