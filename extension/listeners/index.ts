// The Listeners view: folds every trace event of the event bus into the listener state reducer and
// shows the state in a webview, at most 10 renders a second. The state lives here, not in the page,
// so it survives the view being hidden or closed; the page only keeps which items are open.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { SessionTraceEvent } from '../../common/events';
import { type ToWebviewMessage, parseFromWebview } from '../../common/listeners-protocol';
import { listenersHtml } from '../../webview/html';
import { type AdminGet, commandAdminGet, netnsAdminGet, readAdmin } from '../../core/listeners/admin';
import { bpftraceParserFactory } from '../../core/listeners/bpftrace-json';
import { stateToJson, stateToMarkdown } from '../../core/listeners/format';
import { readTraceLog } from '../../core/listeners/readers';
import { listProcesses } from '../../core/nodes/processes';
import { ListenerReducer } from '../../core/listeners/reducer';
import { takeLocalSnapshot, takeRemoteSnapshot } from '../../core/listeners/snapshot';
import { type CommandRunner, transportRunner } from '../../core/nodes/commands';
import { createThrottle } from '../../core/listeners/throttle';
import type { TraceEventBus } from '../../core/trace/session';
import type { FieldtraceContext } from '../context';
import { LOCAL_NODE, type NodeManager } from '../ssh/index';
import { pickNodeProcess } from '../ssh/process-picker';

export const LISTENERS_VIEW_ID = 'fieldtrace.listeners';
const RENDER_INTERVAL_MS = 100;

class ListenersViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private reducer = new ListenerReducer();
  private view: vscode.WebviewView | undefined;
  private readonly viewDisposables: vscode.Disposable[] = [];
  private readonly throttle = createThrottle(() => this.render(), RENDER_INTERVAL_MS);
  private readonly sessions = new Set<string>();
  private readonly nodeIds = new Set<string>();

  constructor(
    private readonly ctx: FieldtraceContext,
    private readonly nodes: NodeManager,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    const root = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [root] };
    view.webview.html = listenersHtml({
      cspSource: view.webview.cspSource,
      baseUri: view.webview.asWebviewUri(root).toString().replace(/\/$/, ''),
      nonce: randomBytes(18).toString('base64'),
    });
    this.viewDisposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      view.onDidChangeVisibility(() => {
        if (view.visible) this.render();
      }),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
        this.disposeView();
      }),
    );
  }

  onEvent(e: SessionTraceEvent): void {
    if (!this.sessions.has(e.sessionId)) {
      this.sessions.add(e.sessionId);
      this.nodeIds.add(e.nodeId);
      this.reducer.addSource(`session ${e.sessionId} on ${e.nodeId}`);
    }
    this.reducer.apply(e);
    this.throttle.request();
  }

  private post(message: ToWebviewMessage): void {
    void this.view?.webview.postMessage(message);
  }

  private render(): void {
    // A hidden view gets the state when it shows again (onDidChangeVisibility).
    if (this.view?.visible) this.post({ type: 'state', state: this.reducer.state() });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseFromWebview(raw);
    if (!message) {
      this.ctx.log.warn('Listeners view: ignored a malformed message from the webview');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.render();
        return;
      case 'command':
        await vscode.commands.executeCommand(`fieldtrace.listeners.${message.command}`);
        return;
      case 'showStack':
        await this.callStacks('fieldtrace.showStack', [message.frames, message.title], () =>
          this.showFramesAsText(message.title, message.frames),
        );
        return;
      case 'openFrame':
        await this.callStacks('fieldtrace.openFrame', [message.frame, message.calleeFrame], () =>
          vscode.window.showInformationMessage(
            `Fieldtrace: frame links need the Stacks view (fieldtrace.openFrame is not available): ${message.frame}`,
          ),
        );
        return;
    }
  }

  /** Calls a command of the Stacks capability, or falls back when it is not there. */
  private async callStacks(command: string, args: unknown[], fallback: () => unknown): Promise<void> {
    const available = (await vscode.commands.getCommands(true)).includes(command);
    if (!available) {
      await fallback();
      return;
    }
    try {
      await vscode.commands.executeCommand(command, ...args);
    } catch (error) {
      this.ctx.log.warn(`${command}: ${error instanceof Error ? error.message : String(error)}`);
      await fallback();
    }
  }

  private async showFramesAsText(title: string, frames: string[]): Promise<void> {
    const doc = await vscode.workspace.openTextDocument({ content: `${title}\n\n${frames.join('\n')}\n` });
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async openLog(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: true,
      openLabel: 'Open Trace Log',
      filters: { 'Trace logs': ['jsonl', 'json', 'txt', 'log'], 'All files': ['*'] },
    });
    if (!picked?.length) return;
    for (const uri of picked) {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      let log;
      try {
        log = readTraceLog(text, bpftraceParserFactory);
      } catch (error) {
        this.post({
          type: 'error',
          message: `${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`,
        });
        throw error;
      }
      this.reducer.addSource(`${vscode.workspace.asRelativePath(uri)} (${log.format})`);
      if (log.format !== 'bpftrace-json') this.reducer.countMalformed(log.problems.length);
      for (const e of log.events) this.reducer.apply(e);
      for (const p of log.problems.slice(0, 20)) this.ctx.log.warn(`${uri.fsPath}: ${p}`);
      if (log.problems.length)
        void vscode.window.showWarningMessage(
          `Fieldtrace: ${log.problems.length} line(s) of ${uri.fsPath} could not be read (see the Fieldtrace log).`,
        );
    }
    await this.reveal();
    this.throttle.flush();
    this.render();
  }

  /** Which process on the node: picked from its processes, or its pid typed. */
  private async pickProcess(
    node: { nodeId: string; run?: CommandRunner },
    title: string,
  ): Promise<number | undefined> {
    const traced = new Set(
      this.reducer
        .state()
        .processes.filter((p) => p.node === node.nodeId)
        .map((p) => p.pid),
    );
    const picked = await pickNodeProcess<number>({
      title,
      placeholder: 'Filter by name, or type a process id',
      processes: listProcesses(node.run, traced),
      traced,
      typed: (text, processes) => {
        if (!/^\d{1,7}$/.test(text)) return undefined;
        const known = processes.find((p) => p.pid === Number(text));
        return {
          label: `pid ${text}`,
          description: known ? known.name : 'typed process id',
          value: Number(text),
        };
      },
    });
    return picked === undefined ? undefined : 'typed' in picked ? picked.typed : picked.pid;
  }

  /**
   * Which node, and a runner on it (this machine: this process; else the node's transport). Only
   * nodes this view has seen traces from are offered: a snapshot is asked for beside a trace.
   */
  private async pickNode(): Promise<{ nodeId: string; run?: CommandRunner } | undefined> {
    const remote = [...this.nodeIds].filter((n) => n !== LOCAL_NODE);
    let nodeId = LOCAL_NODE;
    if (remote.length > 0) {
      const picked = await vscode.window.showQuickPick(
        [{ label: 'This machine', id: LOCAL_NODE }, ...remote.map((id) => ({ label: id, id }))],
        { placeHolder: 'Node the process runs on' },
      );
      if (!picked) return undefined;
      nodeId = picked.id;
    }
    if (nodeId === LOCAL_NODE) return { nodeId };
    const { transport, probe } = await this.nodes.probe(nodeId);
    if (!probe.privilege)
      throw new Error(`${nodeId}: neither root nor password-less sudo, which nsenter and /proc need`);
    return { nodeId, run: transportRunner(transport, probe.privilege) };
  }

  async snapshot(): Promise<void> {
    const node = await this.pickNode();
    if (!node) return;
    const pid = await this.pickProcess(
      node,
      'Snapshot of which process? (ss in its network namespace, its fds and threads from /proc)',
    );
    if (pid === undefined) return;
    this.post({ type: 'busy', message: `Taking a snapshot of pid ${pid} on ${node.nodeId}…` });
    try {
      this.reducer.applySnapshot(
        node.run ? await takeRemoteSnapshot(pid, node.nodeId, node.run) : await takeLocalSnapshot(pid),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.post({
        type: 'error',
        message: `Snapshot of pid ${pid} on ${node.nodeId} failed: ${message}. It needs root (nsenter) and a running process.`,
      });
      throw error;
    }
    await this.reveal();
    this.render();
  }

  async adminCheck(): Promise<void> {
    const node = await this.pickNode();
    if (!node) return;
    const pid = await this.pickProcess(
      node,
      'Which Envoy? (its admin API is reached inside its network namespace)',
    );
    if (pid === undefined) return;
    const address = await vscode.window.showInputBox({
      prompt: 'Envoy admin address inside the pod',
      value: '127.0.0.1:15000',
      validateInput: (v) =>
        /^[0-9.]+:\d{1,5}$/.test(v.trim()) ? undefined : 'IPv4 address and port, e.g. 127.0.0.1:15000',
    });
    if (address === undefined) return;
    const [host, port] = address.trim().split(':');
    this.post({ type: 'busy', message: `Reading the Envoy admin API of pid ${pid}…` });
    const get: AdminGet = node.run
      ? commandAdminGet(node.run, pid, host, Number(port))
      : netnsAdminGet(pid, host, Number(port));
    const report = await readAdmin(get, `${address.trim()} (netns of pid ${pid} on ${node.nodeId})`);
    this.reducer.applyAdmin(node.nodeId, pid, report);
    if (report.summary.error)
      void vscode.window.showWarningMessage(`Fieldtrace: Envoy admin: ${report.summary.error}`);
    await this.reveal();
    this.render();
  }

  async copy(format: 'markdown' | 'json'): Promise<void> {
    const state = this.reducer.state();
    await vscode.env.clipboard.writeText(format === 'json' ? stateToJson(state) : stateToMarkdown(state));
    void vscode.window.showInformationMessage(
      `Fieldtrace: listener state copied as ${format === 'json' ? 'JSON' : 'Markdown'}.`,
    );
  }

  clear(): void {
    this.reducer = new ListenerReducer();
    this.sessions.clear();
    this.nodeIds.clear();
    this.render();
  }

  private async reveal(): Promise<void> {
    if (!this.view?.visible) await vscode.commands.executeCommand(`${LISTENERS_VIEW_ID}.focus`);
  }

  private disposeView(): void {
    for (const d of this.viewDisposables.splice(0)) d.dispose();
  }

  dispose(): void {
    this.throttle.dispose();
    this.disposeView();
  }
}

export function registerListeners(
  ctx: FieldtraceContext,
  { nodes, bus }: { nodes: NodeManager; bus: TraceEventBus },
): void {
  const provider = ctx.track(new ListenersViewProvider(ctx, nodes));
  ctx.track(vscode.window.registerWebviewViewProvider(LISTENERS_VIEW_ID, provider));
  ctx.track(bus.subscribe((e) => provider.onEvent(e)));
  ctx.registerCommand('fieldtrace.listeners.openLog', () => provider.openLog());
  ctx.registerCommand('fieldtrace.listeners.snapshot', () => provider.snapshot());
  ctx.registerCommand('fieldtrace.listeners.adminCheck', () => provider.adminCheck());
  ctx.registerCommand('fieldtrace.listeners.copyMarkdown', () => provider.copy('markdown'));
  ctx.registerCommand('fieldtrace.listeners.copyJson', () => provider.copy('json'));
  ctx.registerCommand('fieldtrace.listeners.clear', () => provider.clear());
}
