// The Stacks view: the last stacks shown (up to 10), each frame resolved or not, with the reason.
import * as vscode from 'vscode';
import type { Resolution } from '../../core/stacks/resolution';
import { frameLabel } from './frame-label';
import type { StackService } from './service';

type StackNode = { kind: 'stack'; title: string; frames: Resolution[] };
type Node = StackNode | { kind: 'frame'; r: Resolution; index: number; stack: StackNode };

/** The Stacks view: the stacks shown last, each frame resolved or not, with the reason. */
export class StacksTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private stacks: Array<Extract<Node, { kind: 'stack' }>> = [];

  constructor(private readonly service: StackService) {}

  /** Shows a stack on top; answers its node (to reveal it: the view may be scrolled down). */
  async show(frames: string[], title: string): Promise<StackNode> {
    const resolved = await this.service.resolveStack(frames);
    const stack: StackNode = { kind: 'stack', title, frames: resolved };
    this.stacks = [stack, ...this.stacks].slice(0, 10);
    this.changed.fire();
    return stack;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.stacks;
    if (node.kind === 'stack')
      return node.frames.map((r, index) => ({ kind: 'frame', r, index, stack: node }));
    return [];
  }

  getParent(node: Node): Node | undefined {
    return node.kind === 'frame' ? node.stack : undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'stack') {
      const ok = node.frames.filter((f) => f.location).length;
      const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${ok}/${node.frames.length} frames resolved`;
      return item;
    }
    const r = node.r;
    const name = frameLabel(r);
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
    item.description = r.location
      ? `${vscode.workspace.asRelativePath(r.location.file)}:${r.location.line}`
      : `unresolved${r.module ? ` — ${r.module}` : ''}`;
    const tip = new vscode.MarkdownString();
    tip.appendText(r.frame);
    if (r.definition) tip.appendMarkdown('\n\n').appendText(`Definition: ${r.definition}`);
    if (r.reason) tip.appendMarkdown('\n\n').appendText(r.reason);
    item.tooltip = tip;
    item.iconPath = new vscode.ThemeIcon(r.location ? 'symbol-method' : 'warning');
    item.command = { command: 'fieldtrace.stacks.openResolution', title: 'Open', arguments: [r] };
    item.contextValue = r.location ? 'resolvedFrame' : 'unresolvedFrame';
    return item;
  }
}
