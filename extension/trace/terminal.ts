// The trace terminal of one session: output only, fed from the event bus (the session's events,
// rendered like bpftrace's text mode). Ctrl+C stops the session; closing the terminal stops it too.
import * as vscode from 'vscode';
import type { TraceEventBus } from '../../core/trace/session';
import { eventText, noteText, sayText, TerminalHistory } from './terminal-text';

export class TraceTerminal implements vscode.Pseudoterminal, vscode.Disposable {
  private readonly writer = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writer.event;
  private opened = false;
  private backlog: string[] = [];
  private readonly history = new TerminalHistory();
  private terminal: vscode.Terminal | undefined;
  private subscription: { dispose(): void } | undefined;

  constructor(
    private readonly name: string,
    private readonly onStop: () => void,
  ) {}

  /** Prints the session's events from the first one on: call before the session starts. */
  follow(bus: TraceEventBus, sessionId: string): void {
    this.subscription = bus.subscribe((e) => {
      const text = eventText(e.event);
      if (text) this.print(text);
      // Nothing follows a session's end.
      if (e.event.type === 'ended') this.subscription?.dispose();
    }, sessionId);
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
    this.print(noteText(text));
  }

  /** A line of ours that must stand out as bpftrace's own lines do. */
  say(text: string): void {
    this.print(sayText(text));
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
