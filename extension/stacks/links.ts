// Frames as links: in terminals named "Fieldtrace…" (the trace terminals), and, when
// `fieldtrace.stacks.documentLinks` is on, in plain-text and log files.
import * as vscode from 'vscode';
import { findFrameInLine } from '../../core/stacks/frames';
import type { Configuration } from '../configuration';

interface FrameLink extends vscode.TerminalLink {
  frame: string;
  callee?: string;
}

/** Links in terminals named "Fieldtrace…". bpftrace prints the innermost frame first, so the frame line above is the callee. */
export class FrameTerminalLinks implements vscode.TerminalLinkProvider<FrameLink> {
  private previous = new WeakMap<vscode.Terminal, string>();

  constructor(private readonly open: (frame: string, callee?: string) => Promise<unknown>) {}

  provideTerminalLinks(context: vscode.TerminalLinkContext): FrameLink[] {
    if (!context.terminal.name.startsWith('Fieldtrace')) return [];
    const m = findFrameInLine(context.line);
    const callee = this.previous.get(context.terminal);
    if (!m) {
      this.previous.delete(context.terminal);
      return [];
    }
    this.previous.set(context.terminal, m.frame.raw);
    return [
      {
        startIndex: m.start,
        length: m.length,
        tooltip: 'Open the frame’s C++ source',
        frame: m.frame.raw,
        callee,
      },
    ];
  }

  async handleTerminalLink(link: FrameLink): Promise<void> {
    await this.open(link.frame, link.callee);
  }
}

/** Opt-in (`fieldtrace.stacks.documentLinks`): stack traces pasted into plain-text and log files. */
export class FrameDocumentLinks implements vscode.DocumentLinkProvider {
  constructor(private readonly configuration: Configuration) {}

  provideDocumentLinks(document: vscode.TextDocument): vscode.DocumentLink[] {
    if (!this.configuration.settings.stacks.documentLinks) return [];
    const links: vscode.DocumentLink[] = [];
    let previous: string | undefined;
    const max = Math.min(document.lineCount, 20000);
    for (let i = 0; i < max; i++) {
      const m = findFrameInLine(document.lineAt(i).text);
      if (!m) {
        previous = undefined;
        continue;
      }
      const args = encodeURIComponent(JSON.stringify(previous ? [m.frame.raw, previous] : [m.frame.raw]));
      const link = new vscode.DocumentLink(
        new vscode.Range(i, m.start, i, m.start + m.length),
        vscode.Uri.parse(`command:fieldtrace.openFrame?${args}`),
      );
      link.tooltip = 'Open the frame’s C++ source';
      links.push(link);
      previous = m.frame.raw;
    }
    return links;
  }
}
