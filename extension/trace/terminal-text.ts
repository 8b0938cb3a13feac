// What the trace terminal prints, without the terminal: each event as bpftrace's text mode renders
// it, with the CRLF line ends a pseudoterminal needs, and a bounded history for reopening.
import type { TraceEvent } from '../../common/events';
import { foldedStackText, renderText } from '../../core/trace/render-text';
import { terminalText } from '../../core/text/untrusted';

/** A pseudoterminal moves to column 0 only on CR: every line end becomes CRLF. */
export function toTerminal(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** The terminal's text for one event (a whole line), or undefined when it prints nothing. */
export function eventText(event: TraceEvent, stackLine?: string): string | undefined {
  const rendered = renderText(event, stackLine === undefined ? {} : { stackLine });
  if (!rendered) return undefined;
  return toTerminal(rendered.endsWith('\n') ? rendered : `${rendered}\n`);
}

/** How the trace terminal prints an event's stack (`fieldtrace.trace.terminalStacks`). */
export type TerminalStacks = 'folded' | 'full';

/**
 * A folded stack: one line in place of its frames, `#id` naming it for the link that opens it in
 * the Stacks view. `inSource` is how many frames resolve to a source line, when that is known.
 */
export function foldedStackLine(id: number, frames: number, inSource?: number): string {
  return `${foldedStackText(frames, inSource)} [#${id}: open in Stacks]`;
}

/** The id of the folded stack on a terminal line, with where its link starts and its length. */
export function findFoldedStack(line: string): { id: number; start: number; length: number } | undefined {
  const m = /stack: \d+ frames?(?:, \d+ in source)? \[#(\d+): open in Stacks\]/.exec(line);
  return m ? { id: Number(m[1]), start: m.index, length: m[0].length } : undefined;
}

/**
 * A line of our own among bpftrace's output: dimmed and marked with `#`. The note names nodes,
 * scripts and errors from outside, so its text is rendered safe; only our dimming is raw.
 */
export function noteText(note: string): string {
  return toTerminal(`\x1b[2m# ${terminalText(note)}\x1b[0m\n`);
}

/** A line of our own that stands out like bpftrace's lines (its text from outside, rendered safe). */
export function sayText(text: string): string {
  return toTerminal(`${terminalText(text)}\n`);
}

/** What was printed so far, cut from the front beyond `maxChars` (a reopened terminal replays it). */
export class TerminalHistory {
  private readonly chunks: string[] = [];
  private chars = 0;

  constructor(private readonly maxChars = 2_000_000) {}

  push(text: string): void {
    this.chunks.push(text);
    this.chars += text.length;
    while (this.chars > this.maxChars && this.chunks.length > 1)
      this.chars -= this.chunks.shift()?.length ?? 0;
  }

  replay(): string[] {
    return [...this.chunks];
  }
}
