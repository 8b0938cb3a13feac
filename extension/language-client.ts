// The client of the bpftrace language server (dist/server.js over IPC): start, restart, status,
// and the commands for them. Commands stay safe while the server is down: they say so.
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  Trace,
  TransportKind,
} from 'vscode-languageclient/node';
import {
  type BinaryFacts,
  BinaryFactsRequest,
  type BinaryFactsParams,
  type FieldtraceInitializationOptions,
  ServerStatusRequest,
} from '../common/protocol';
import type { FieldtraceApi } from './api';
import type { Configuration } from './configuration';
import type { FieldtraceContext } from './context';
import { LANGUAGE_CLIENT_ID } from './settings';
import { notify } from './notify';

export class LanguageServerClient {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly subscription: vscode.Disposable;
  private binaryFacts: (params: BinaryFactsParams) => Promise<BinaryFacts[]> = async () => [];

  constructor(
    private readonly serverModule: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly configuration: Configuration,
  ) {
    // The client applies fieldtrace.languageServer.trace.server itself on every change; the
    // deprecated key only counts through Configuration, so its value is set after the client's.
    this.subscription = configuration.onDidChange(['languageServer'], () =>
      setImmediate(() => void this.applyTrace()),
    );
  }

  /** Who answers the server's questions about binaries on a node (the node manager). */
  answerBinaryFacts(handler: (params: BinaryFactsParams) => Promise<BinaryFacts[]>): void {
    this.binaryFacts = handler;
  }

  /** The running client, or undefined while the server is down. */
  get running(): LanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  start(): Promise<LanguageClient> {
    const serverOptions: ServerOptions = {
      // A larger young generation halves the GC share of validating long scripts (bench:lsp).
      run: {
        module: this.serverModule,
        transport: TransportKind.ipc,
        options: { execArgv: ['--max-semi-space-size=64'] },
      },
      debug: {
        module: this.serverModule,
        transport: TransportKind.ipc,
        options: { execArgv: ['--nolazy', '--inspect=6019', '--max-semi-space-size=64'] },
      },
    };
    const settings = this.configuration.settings;
    const initializationOptions: FieldtraceInitializationOptions = {
      bpftraceVersion: settings.bpftrace.version,
      formatIndentSize: settings.format.indentSize,
      formatWidth: settings.format.width,
      bpftraceUnsafe: settings.bpftrace.unsafe,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: 'bpftrace' }],
      initializationOptions,
      outputChannel: this.log,
      synchronize: { configurationSection: 'fieldtrace' },
    };
    const client = new LanguageClient(
      LANGUAGE_CLIENT_ID,
      'Fieldtrace bpftrace Language Server',
      serverOptions,
      clientOptions,
    );
    client.onRequest(BinaryFactsRequest.type, (params) => this.binaryFacts(params));
    this.client = client;
    this.starting = client.start().then(async () => {
      const info = client.initializeResult?.serverInfo;
      this.log.info(`Language server ready: ${info?.name ?? 'unknown'} ${info?.version ?? ''}`);
      await this.applyTrace();
      return client;
    });
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old)
      await old.stop().catch((error: unknown) => this.log.warn(`Stopping the server: ${String(error)}`));
  }

  api(): FieldtraceApi {
    return {
      serverReady: async () => {
        const client = await (this.starting ?? Promise.reject(new Error('language client not started')));
        const info = client.initializeResult?.serverInfo;
        return { serverName: info?.name ?? '', serverVersion: info?.version ?? '' };
      },
    };
  }

  private async applyTrace(): Promise<void> {
    const client = this.running;
    if (client) await client.setTrace(Trace.fromString(this.configuration.settings.languageServer.trace));
  }

  async dispose(): Promise<void> {
    this.subscription.dispose();
    await this.stop();
  }
}

export function registerLanguageServerCommands(ctx: FieldtraceContext, server: LanguageServerClient): void {
  ctx.registerCommand('fieldtrace.restartServer', async () => {
    await server.restart();
    void notify.info('Fieldtrace: language server restarted.');
  });
  ctx.registerCommand('fieldtrace.showServerStatus', async () => {
    const client = server.running;
    if (!client) {
      void notify.warning(
        'Fieldtrace: the language server is not running. Try "Fieldtrace: Restart Language Server".',
      );
      return;
    }
    const status = await client.sendRequest(ServerStatusRequest.type);
    void notify.info(
      `Fieldtrace language server ${status.serverVersion}: bpftrace ${status.defaultBpftraceVersion} (${status.versionSource}), ${status.openDocuments} open document(s).`,
    );
  });
}
