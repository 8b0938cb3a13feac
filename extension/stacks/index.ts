// Stack frames as links to C++ source: in Fieldtrace terminals, in an opt-in way in plain-text
// and log files, in the Stacks view, and through `fieldtrace.openFrame(frame, calleeFrame?)`
// that the other views call.
import * as vscode from 'vscode';
import { findFrameInLine } from '../../core/stacks/frames';
import type { Resolution } from '../../core/stacks/resolution';
import type { Configuration } from '../configuration';
import type { FieldtraceContext } from '../context';
import type { NodeManager } from '../ssh/index';
import { StackService } from './service';

export function registerStacks(
  ctx: FieldtraceContext,
  { nodes, configuration }: { nodes: NodeManager; configuration: Configuration },
): StackService {
  const service = ctx.track(new StackService(ctx, nodes, configuration));
  const tree = new StacksTree(service);
  ctx.track(
    vscode.window.createTreeView('fieldtrace.stacks', { treeDataProvider: tree, showCollapseAll: true }),
  );

  // Registered first and synchronously: other views call it as soon as they show a frame.
  ctx.registerCommand('fieldtrace.openFrame', (frame: string, calleeFrame?: string) =>
    openFrame(service, frame, calleeFrame),
  );
  ctx.registerCommand('fieldtrace.showStack', async (frames: string[], title?: string) => {
    if (!Array.isArray(frames) || frames.some((f) => typeof f !== 'string')) {
      throw new Error('fieldtrace.showStack expects an array of frame strings');
    }
    await tree.show(frames, typeof title === 'string' ? title : 'Stack');
    await vscode.commands.executeCommand('fieldtrace.stacks.focus');
  });
  ctx.registerCommand('fieldtrace.openFrameSource', () => openFrameSource(service));
  ctx.registerCommand('fieldtrace.reindexSources', () => service.rebuild());
  ctx.registerCommand('fieldtrace.stacks.openResolution', (r: Resolution) => openResolution(r));

  ctx.track(vscode.window.registerTerminalLinkProvider(new FrameTerminalLinks(service)));
  ctx.track(
    vscode.languages.registerDocumentLinkProvider(
      [{ language: 'plaintext' }, { language: 'log' }],
      new FrameDocumentLinks(configuration),
    ),
  );
  // Index in the background once there is something to index; links wait for it when clicked.
  if (service.roots().length) {
    setTimeout(() => void service.ready().catch((e: unknown) => ctx.log.error(`Stacks: ${String(e)}`)), 1000);
  }
  return service;
}

async function openFrame(
  service: StackService,
  frame: string,
  calleeFrame?: string,
): Promise<Resolution | undefined> {
  if (typeof frame !== 'string' || !frame.trim())
    throw new Error('fieldtrace.openFrame expects a frame string');
  const r = await service.resolve(frame, typeof calleeFrame === 'string' ? calleeFrame : undefined);
  await openResolution(r);
  return r;
}

async function openResolution(r: Resolution): Promise<void> {
  if (r.location) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(r.location.file));
    const pos = new vscode.Position(r.location.line - 1, r.location.column);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
    if (r.reason) vscode.window.setStatusBarMessage(`Fieldtrace: ${r.reason}`, 8000);
    return;
  }
  const reason = r.reason ?? 'not found';
  if (r.candidates?.length) {
    const pick = await vscode.window.showWarningMessage(`Fieldtrace: ${reason}`, 'Show Near Matches');
    if (pick) {
      const item = await vscode.window.showQuickPick(
        r.candidates.map((c) => ({
          label: c.definition,
          description: `${vscode.workspace.asRelativePath(c.file)}:${c.line}`,
          c,
        })),
        { placeHolder: 'Near matches: none of them is the frame’s function' },
      );
      if (item) await openResolution({ ...r, location: item.c, candidates: undefined, reason: undefined });
    }
  } else {
    void vscode.window.showWarningMessage(`Fieldtrace: ${r.frame} — ${reason}`);
  }
}

/** "Open Frame Source": the selection, else the frame on the cursor's line, else the clipboard. */
async function openFrameSource(service: StackService): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const candidates: string[] = [];
  if (editor) {
    const sel = editor.document.getText(editor.selection);
    if (sel.trim()) candidates.push(...sel.split(/\r?\n/));
    else candidates.push(editor.document.lineAt(editor.selection.active.line).text);
  }
  candidates.push(...(await vscode.env.clipboard.readText()).split(/\r?\n/));
  for (const line of candidates) {
    const m = findFrameInLine(line);
    if (m) {
      await openFrame(service, m.frame.raw);
      return;
    }
  }
  void vscode.window.showInformationMessage(
    'Fieldtrace: no stack frame in the selection, on this line or in the clipboard.',
  );
}

interface FrameLink extends vscode.TerminalLink {
  frame: string;
  callee?: string;
}

/** Links in terminals named "Fieldtrace…". bpftrace prints the innermost frame first, so the frame line above is the callee. */
class FrameTerminalLinks implements vscode.TerminalLinkProvider<FrameLink> {
  private previous = new WeakMap<vscode.Terminal, string>();

  constructor(private readonly service: StackService) {}

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
    await openFrame(this.service, link.frame, link.callee);
  }
}

/** Opt-in (`fieldtrace.stacks.documentLinks`): stack traces pasted into plain-text and log files. */
class FrameDocumentLinks implements vscode.DocumentLinkProvider {
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

type Node =
  { kind: 'stack'; title: string; frames: Resolution[] } | { kind: 'frame'; r: Resolution; index: number };

/** The Stacks view: the stacks shown last, each frame resolved or not, with the reason. */
class StacksTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private stacks: Array<Extract<Node, { kind: 'stack' }>> = [];

  constructor(private readonly service: StackService) {}

  async show(frames: string[], title: string): Promise<void> {
    const resolved = await this.service.resolveStack(frames);
    this.stacks = [{ kind: 'stack' as const, title, frames: resolved }, ...this.stacks].slice(0, 10);
    this.changed.fire();
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.stacks;
    if (node.kind === 'stack') return node.frames.map((r, index) => ({ kind: 'frame', r, index }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'stack') {
      const ok = node.frames.filter((f) => f.location).length;
      const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${ok}/${node.frames.length} frames resolved`;
      return item;
    }
    const r = node.r;
    const name = r.parsed ? shortName(r) : r.frame;
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

function shortName(r: Resolution): string {
  const p = r.parsed!;
  const offset = /\+(0x[0-9a-f]+|\d+)/i.exec(r.frame)?.[0] ?? '';
  if (p.kind === 'lambda' && p.lambda) {
    return `lambda in ${p.lambda.enclosing.scope.slice(-1).concat(p.lambda.enclosing.name).join('::')}${offset}`;
  }
  return `${p.scope.slice(-2).concat(p.name).join('::')}${p.params ? '()' : ''}${offset}`;
}
