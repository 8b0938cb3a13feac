import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import type { SessionTraceEvent } from '../common/events';
import { type FieldtraceInitializationOptions, ServerStatusRequest } from '../common/protocol';
import type { FieldtraceApi } from './extension';
import { registerListeners } from './listeners/index';
import { NodeManager } from './ssh/index';
import { registerStacks } from './stacks/index';
import { registerTrace } from './trace/index';

/**
 * Owns everything the extension creates: the language client, the capability modules and
 * their disposables. Commands stay safe while the server is down: they say so instead of throwing.
 */
export class FieldtraceContext implements vscode.Disposable {
  readonly log = vscode.window.createOutputChannel('Fieldtrace', { log: true });
  private readonly disposables: vscode.Disposable[] = [this.log];
  private client: LanguageClient | undefined;
  private clientStarting: Promise<LanguageClient> | undefined;
  /**
   * The one-way event bus: trace sessions fire every parsed event here; the session log,
   * the listener state and the views subscribe. Nothing flows back.
   */
  readonly traceEvents = this.track(new vscode.EventEmitter<SessionTraceEvent>());

  private nodeManager: NodeManager | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {}

  /**
   * The one node manager: traces, snapshots and debug-binary lookups share one SSH connection
   * (and one host-key decision) per node.
   */
  get nodes(): NodeManager {
    return (this.nodeManager ??= this.track(new NodeManager(this)));
  }

  async start(): Promise<void> {
    this.registerCommand('fieldtrace.showServerStatus', () => this.showServerStatus());
    this.registerCommand('fieldtrace.restartServer', () => this.restartServer());
    // Capabilities register here, one line each (extension/<capability>/index.ts).
    registerListeners(this);
    registerStacks(this);
    registerTrace(this);
    await this.startClient();
  }

  registerCommand(id: string, handler: (...args: never[]) => unknown): void {
    this.disposables.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.log.error(`${id}: ${message}`);
          void vscode.window.showErrorMessage(`Fieldtrace: ${message}`);
          return undefined;
        }
      }),
    );
  }

  track<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  /** The running language client, or undefined while the server is down. */
  get languageClient(): LanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  private startClient(): Promise<LanguageClient> {
    const serverModule = this.extension.asAbsolutePath(path.join('dist', 'server.js'));
    const serverOptions: ServerOptions = {
      // A larger young generation halves the GC share of validating long scripts (bench:lsp).
      run: {
        module: serverModule,
        transport: TransportKind.ipc,
        options: { execArgv: ['--max-semi-space-size=64'] },
      },
      debug: {
        module: serverModule,
        transport: TransportKind.ipc,
        options: { execArgv: ['--nolazy', '--inspect=6019', '--max-semi-space-size=64'] },
      },
    };
    const settings = vscode.workspace.getConfiguration('fieldtrace');
    const initializationOptions: FieldtraceInitializationOptions = {
      bpftraceVersion: settings.get<string>('bpftrace.version') ?? '',
      formatIndentSize: settings.get<number>('format.indentSize'),
      formatWidth: settings.get<number>('format.width'),
      bpftraceUnsafe: settings.get<boolean>('bpftrace.unsafe') ?? false,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: 'bpftrace' }],
      initializationOptions,
      outputChannel: this.log,
      synchronize: { configurationSection: 'fieldtrace' },
    };
    const client = new LanguageClient(
      'fieldtrace',
      'Fieldtrace bpftrace Language Server',
      serverOptions,
      clientOptions,
    );
    this.client = client;
    this.clientStarting = client.start().then(() => {
      const info = client.initializeResult?.serverInfo;
      this.log.info(`Language server ready: ${info?.name ?? 'unknown'} ${info?.version ?? ''}`);
      return client;
    });
    return this.clientStarting;
  }

  private async restartServer(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old)
      await old.stop().catch((error: unknown) => this.log.warn(`Stopping the server: ${String(error)}`));
    await this.startClient();
    void vscode.window.showInformationMessage('Fieldtrace: language server restarted.');
  }

  private async showServerStatus(): Promise<void> {
    const client = this.languageClient;
    if (!client) {
      void vscode.window.showWarningMessage(
        'Fieldtrace: the language server is not running. Try "Fieldtrace: Restart Language Server".',
      );
      return;
    }
    const status = await client.sendRequest(ServerStatusRequest.type);
    void vscode.window.showInformationMessage(
      `Fieldtrace language server ${status.serverVersion}: bpftrace ${status.defaultBpftraceVersion} (${status.versionSource}), ${status.openDocuments} open document(s).`,
    );
  }

  api(): FieldtraceApi {
    return {
      serverReady: async () => {
        const client = await (this.clientStarting ??
          Promise.reject(new Error('language client not started')));
        const info = client.initializeResult?.serverInfo;
        return { serverName: info?.name ?? '', serverVersion: info?.version ?? '' };
      },
    };
  }

  async dispose(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.stop().catch(() => undefined);
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
