// Splits a byte stream into lines: chunks may end anywhere (inside a line or a UTF-8 sequence),
// and a line longer than the cap is cut (its start kept, the rest skipped up to its newline) and
// flagged, so that one runaway line cannot exhaust memory or stall the session.
import { StringDecoder } from 'node:string_decoder';

export interface SplitLine {
  text: string;
  /** Set when the line was longer than the cap: `text` holds its first `maxLineLength` characters. */
  truncated?: { originalLength: number };
}

export const DEFAULT_MAX_LINE_LENGTH = 8 * 1024 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Characters of the current over-long line that were dropped (-1: not in an over-long line). */
  private skipped = -1;

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {
    if (!(maxLineLength > 0)) throw new Error(`maxLineLength must be positive, got ${maxLineLength}`);
  }

  push(chunk: Buffer | string): SplitLine[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines: SplitLine[] = [];
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      this.finishLine(text, start, newline, lines);
      start = newline + 1;
    }
    this.keep(text, start);
    return lines;
  }

  /** The last line if it had no newline. */
  end(): SplitLine[] {
    const rest = this.decoder.end();
    if (rest) this.keep(rest, 0);
    const lines: SplitLine[] = [];
    if (this.skipped >= 0) {
      lines.push(this.cut(this.pending, this.pending.length + this.skipped));
    } else if (this.pending.length > 0) {
      lines.push({ text: stripCr(this.pending) });
    }
    this.pending = '';
    this.skipped = -1;
    return lines;
  }

  private finishLine(text: string, start: number, newline: number, out: SplitLine[]): void {
    if (this.skipped >= 0) {
      const total = this.pending.length + this.skipped + (newline - start);
      out.push(this.cut(this.pending, total));
      this.pending = '';
      this.skipped = -1;
      return;
    }
    const length = this.pending.length + (newline - start);
    if (length > this.maxLineLength) {
      const head = (this.pending + text.slice(start, start + this.maxLineLength)).slice(
        0,
        this.maxLineLength,
      );
      out.push(this.cut(head, length));
      this.pending = '';
      return;
    }
    const line =
      this.pending.length > 0 ? this.pending + text.slice(start, newline) : text.slice(start, newline);
    this.pending = '';
    out.push({ text: stripCr(line) });
  }

  /** Keeps the unterminated rest, up to the cap; beyond it only counts characters. */
  private keep(text: string, start: number): void {
    if (start >= text.length) return;
    if (this.skipped >= 0) {
      this.skipped += text.length - start;
      return;
    }
    const room = this.maxLineLength - this.pending.length;
    if (text.length - start <= room) {
      this.pending += text.slice(start);
    } else {
      this.pending += text.slice(start, start + room);
      this.skipped = text.length - start - room;
    }
  }

  private cut(head: string, originalLength: number): SplitLine {
    return { text: head, truncated: { originalLength } };
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
