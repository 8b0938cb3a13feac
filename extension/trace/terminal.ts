// The trace terminal of one session: output only, fed from the event bus (the session's events,
// rendered like bpftrace's text mode). Ctrl+C stops the session; closing the terminal stops it too.
import * as vscode from 'vscode';
import type { TraceEventBus } from '../../core/trace/session';
import type { FoldedStacks } from './folded-stacks';
import { stackTitle } from '../../core/trace/render-text';
import { eventText, noteText, sayText, TerminalHistory, type TerminalStacks } from './terminal-text';

/** How the terminal prints stacks: folded into one link line (kept in `folded`), or in full. */
export interface TerminalStackOptions {
  mode(): TerminalStacks;
  folded: FoldedStacks;
}

export class TraceTerminal implements vscode.Pseudoterminal, vscode.Disposable {
  private readonly writer = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writer.event;
  private opened = false;
  private backlog: string[] = [];
  private readonly history = new TerminalHistory();
  private terminal: vscode.Terminal | undefined;
  private subscription: { dispose(): void } | undefined;

  // A folded stack's line waits for its count of frames in source: later lines queue behind it,
  // so the terminal keeps the events' order.
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly onStop: () => void,
    private readonly stacks?: TerminalStackOptions,
  ) {}

  /** Prints the session's events from the first one on: call before the session starts. */
  follow(bus: TraceEventBus, sessionId: string): void {
    this.subscription = bus.subscribe((e) => {
      const event = e.event;
      const stack = 'stack' in event ? event.stack : undefined;
      if (stack?.length && this.stacks && this.stacks.mode() === 'folded') {
        const line = this.stacks.folded.fold(stack, stackTitle(event));
        this.enqueue(async () => eventText(event, await line));
      } else {
        const text = eventText(event);
        if (text) this.enqueue(() => text);
      }
      // Nothing follows a session's end.
      if (event.type === 'ended') this.subscription?.dispose();
    }, sessionId);
  }

  private enqueue(text: () => string | undefined | Promise<string | undefined>): void {
    this.queue = this.queue
      .then(text)
      .then((t) => {
        if (t) this.print(t);
      })
      .catch(() => undefined);
  }

  show(): void {
    if (!this.terminal || this.terminal.exitStatus) {
      this.opened = false;
      // A reopened terminal starts with what was printed so far (bounded).
      this.backlog = this.history.replay();
      this.terminal = vscode.window.createTerminal({ name: this.name, pty: this });
    }
    this.terminal.show(true);
  }

  open(): void {
    this.opened = true;
    for (const text of this.backlog.splice(0)) this.writer.fire(text);
  }

  close(): void {
    this.opened = false;
    this.terminal = undefined;
    this.onStop();
  }

  handleInput(data: string): void {
    if (data === '\x03') this.onStop();
  }

  /** A line of ours (dimmed, after `#`). */
  note(text: string): void {
    this.enqueue(() => noteText(text));
  }

  /** A line of ours that must stand out as bpftrace's own lines do. */
  say(text: string): void {
    this.enqueue(() => sayText(text));
  }

  private print(text: string): void {
    this.history.push(text);
    if (this.opened) this.writer.fire(text);
    else this.backlog.push(text);
  }

  dispose(): void {
    this.subscription?.dispose();
    this.writer.dispose();
    this.terminal?.dispose();
  }
}
