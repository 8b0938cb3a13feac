// Folded stacks of the trace terminals: each event's stack printed as one line
// ("stack: 23 frames, 15 in source [#7: open in Stacks]") whose link opens it in the Stacks view.
// The frames stay here (bounded), keyed by the number on the line; no `vscode` import, so it is
// tested without an editor (folded-stack-links.ts makes the lines links).
import { foldedStackLine } from './terminal-text';

/** How many frames of a stack resolve to source; undefined when nothing is indexed. */
export type CountInSource = (frames: string[]) => Promise<number | undefined>;

// The count waits for the source index; a terminal line never waits longer than this for it.
const COUNT_WAIT_MS = 3000;

export class FoldedStacks {
  private readonly stacks = new Map<number, { frames: string[]; title: string }>();
  private next = 1;

  constructor(
    private readonly countInSource: CountInSource,
    private readonly maxKept = 5000,
  ) {}

  /** Keeps the stack and answers its folded line. */
  async fold(frames: string[], title: string): Promise<string> {
    const id = this.next++;
    this.stacks.set(id, { frames, title });
    // Oldest first in a Map: beyond the bound the oldest links stop opening anything.
    for (const old of this.stacks.keys()) {
      if (this.stacks.size <= this.maxKept) break;
      this.stacks.delete(old);
    }
    let timer: NodeJS.Timeout | undefined;
    const inSource = await Promise.race([
      this.countInSource(frames).catch(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), COUNT_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return foldedStackLine(id, frames.length, inSource);
  }

  get(id: number): { frames: string[]; title: string } | undefined {
    return this.stacks.get(id);
  }
}
