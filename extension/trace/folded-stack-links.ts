// The folded stack lines of the trace terminals as links: a click shows that stack in the Stacks view.
import * as vscode from 'vscode';
import type { FoldedStacks } from './folded-stacks';
import { findFoldedStack } from './terminal-text';

interface FoldedStackLink extends vscode.TerminalLink {
  id: number;
}

/** The folded stack lines of terminals named "Fieldtrace…" as links to the Stacks view. */
export class FoldedStackLinks implements vscode.TerminalLinkProvider<FoldedStackLink> {
  constructor(private readonly stacks: FoldedStacks) {}

  provideTerminalLinks(context: vscode.TerminalLinkContext): FoldedStackLink[] {
    if (!context.terminal.name.startsWith('Fieldtrace')) return [];
    const found = findFoldedStack(context.line);
    if (!found || !this.stacks.get(found.id)) return [];
    return [
      {
        id: found.id,
        startIndex: found.start,
        length: found.length,
        tooltip: 'Show this stack in the Stacks view',
      },
    ];
  }

  async handleTerminalLink(link: FoldedStackLink): Promise<void> {
    const stack = this.stacks.get(link.id);
    if (stack) await vscode.commands.executeCommand('fieldtrace.showStack', stack.frames, stack.title);
  }
}
