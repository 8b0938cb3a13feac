// The Listeners view: a webview that shows the listener state (extension/listeners/store.ts), at
// most 10 renders a second. The state lives in the store, not in the page, so it survives the view
// being hidden or closed; the page only keeps which items are open. What the page asks for
// (a command, a stack, a frame) goes to the commands of the other capabilities.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { type ToWebviewMessage, parseFromWebview } from '../../common/listeners-protocol';
import { createThrottle } from '../../core/listeners/throttle';
import { listenersHtml } from '../../webview/html';
import type { FieldtraceContext } from '../context';
import type { ListenerStore } from './store';
import { notify } from '../notify';

export const LISTENERS_VIEW_ID = 'fieldtrace.listeners';
const RENDER_INTERVAL_MS = 100;

export class ListenersView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly viewDisposables: vscode.Disposable[] = [];
  private readonly throttle = createThrottle(() => this.render(), RENDER_INTERVAL_MS);
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly ctx: FieldtraceContext,
    private readonly store: ListenerStore,
  ) {
    this.subscription = store.onDidChange(() => this.throttle.request());
  }

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

  /** Says in the page what is under way (a snapshot, an admin read). */
  busy(message: string): void {
    this.post({ type: 'busy', message });
  }

  /** Says in the page what went wrong. */
  error(message: string): void {
    this.post({ type: 'error', message });
  }

  /** Brings the view to the front with the state as it is now (after a command fed the store). */
  async showNow(): Promise<void> {
    if (!this.view?.visible) await vscode.commands.executeCommand(`${LISTENERS_VIEW_ID}.focus`);
    this.throttle.flush();
    this.render();
  }

  private post(message: ToWebviewMessage): void {
    void this.view?.webview.postMessage(message);
  }

  private render(): void {
    // A hidden view gets the state when it shows again (onDidChangeVisibility).
    if (this.view?.visible) this.post({ type: 'state', state: this.store.state() });
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
          notify.info(
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

  private disposeView(): void {
    for (const d of this.viewDisposables.splice(0)) d.dispose();
  }

  dispose(): void {
    this.subscription.dispose();
    this.throttle.dispose();
    this.disposeView();
  }
}
