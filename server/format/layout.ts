// A layout under construction: lines of text and comment pieces, relative to the column where
// the layout will be placed. The printer builds small layouts and joins them; widths are measured
// on the rendered lines (trailing spaces included, as bpftrace's `--fmt` measures them), and the
// output drops trailing spaces.

type Piece = { text: string } | { comment: string };

class Line {
  /** The line while it holds text only (the common case): no piece objects at all. */
  private plain = '';
  /** Pieces, once a comment arrives. */
  private pieces?: Piece[];
  private cached = -1;

  isEmpty(): boolean {
    return this.pieces ? this.pieces.length === 0 : this.plain === '';
  }

  pushText(text: string): void {
    if (this.pieces) {
      this.pieces.push({ text });
      this.cached = -1;
    } else this.plain += text;
  }

  pushComment(comment: string): void {
    this.pieces ??= this.plain === '' ? [] : [{ text: this.plain }];
    this.pieces.push({ comment });
    this.cached = -1;
  }

  pushLine(other: Line): void {
    if (!other.pieces) this.pushText(other.plain);
    else
      for (const p of other.pieces)
        if ('text' in p) this.pushText(p.text);
        else this.pushComment(p.comment);
  }

  columns(): number {
    if (!this.pieces) return this.plain.length;
    if (this.cached < 0) this.cached = this.render().length;
    return this.cached;
  }

  /** A comment that ends its line is written `// text`; one followed by more text `/* text *\/`. */
  render(): string {
    if (!this.pieces) return this.plain;
    let out = '';
    let onlySpace = true;
    const last = this.pieces.length - 1;
    for (let i = 0; i <= last; i++) {
      const p = this.pieces[i];
      if ('text' in p) {
        out += p.text;
        if (onlySpace && p.text.trim() !== '') onlySpace = false;
      } else {
        if (!onlySpace) out += ' ';
        if (i === last) out += p.comment === '' ? '//' : `// ${p.comment}`;
        else out += `/* ${p.comment} */`;
      }
    }
    return out;
  }
}

/** Runs of spaces by length, made once: every line of a nested block is padded with one. */
const PADS: string[] = [];
function pad(columns: number): string {
  return (PADS[columns] ??= ' '.repeat(columns));
}

/** Emulates size_t arithmetic of the reference printer: a width that would go below zero is unlimited. */
export function narrower(width: number, by: number): number {
  return width >= by ? width - by : Number.MAX_SAFE_INTEGER;
}

export class Layout {
  private readonly lines: Line[] = [new Line()];

  text(s: string): this {
    this.last().pushText(s);
    return this;
  }

  /** A comment piece on the current line. */
  comment(s: string): this {
    this.last().pushComment(s);
    return this;
  }

  /** A comment on a line of its own, and a new line after it. */
  commentLine(s: string): this {
    this.last().pushComment(s);
    this.lines.push(new Line());
    return this;
  }

  lineBreak(): this {
    this.lines.push(new Line());
    return this;
  }

  /**
   * Joins another layout. Without indent, its first line continues the current line and its
   * other lines start at the current column (`call(a,` / `     b)`); with indent, it starts on a
   * new line, every line indented, and a new line follows it (a block body between braces).
   */
  append(other: Layout, indent = 0): this {
    const count = other.lineCount();
    if (count === 0) return this;
    let col = this.last().columns();
    if (indent > 0) {
      this.lines.push(new Line());
      col = indent;
    }
    const all = other.lines.length;
    for (let i = 0; i < all; i++) {
      const current = this.last();
      if (col !== 0 && current.isEmpty()) current.pushText(pad(col));
      current.pushLine(other.lines[i]);
      if (indent > 0 || i < all - 1) this.lines.push(new Line());
    }
    return this;
  }

  width(): number {
    let max = 0;
    for (const line of this.lines) max = Math.max(max, line.columns());
    return max;
  }

  /** Lines with content; a trailing empty line (the place for more text) does not count. */
  lineCount(): number {
    return this.last().isEmpty() ? this.lines.length - 1 : this.lines.length;
  }

  /** The lines as text, without trailing spaces, each ended by a newline. */
  render(): string {
    const count = this.lineCount();
    if (count === 0) return '';
    // Joined in one go: a flat string (`+=` per line left a tree of 5,000 pieces on a big script
    // for the first comparison to walk).
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = this.lines[i].render().trimEnd();
    return out.join('\n') + '\n';
  }

  private last(): Line {
    return this.lines[this.lines.length - 1];
  }
}
