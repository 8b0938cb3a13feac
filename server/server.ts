import {
  type Connection,
  type InitializeParams,
  type InitializeResult,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  type FieldtraceInitializationOptions,
  type ServerStatus,
  ServerStatusRequest,
} from '../common/protocol';

export const SERVER_VERSION = '0.1.0';
export const LATEST_BPFTRACE_VERSION = '0.26';

/**
 * The bpftrace language server: owns the open documents and registers one handler per
 * feature (server/features/*). No `vscode` import, no root, no local bpftrace required.
 */
export class BpftraceLanguageServer {
  readonly documents = new TextDocuments(TextDocument);
  private options: FieldtraceInitializationOptions = {};

  constructor(readonly connection: Connection) {}

  listen(): void {
    this.connection.onInitialize((params) => this.initialize(params));
    this.connection.onRequest(ServerStatusRequest.type, () => this.status());
    this.documents.listen(this.connection);
    this.connection.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    this.options = (params.initializationOptions ?? {}) as FieldtraceInitializationOptions;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
      },
      serverInfo: { name: 'fieldtrace-bpftrace', version: SERVER_VERSION },
    };
  }

  private status(): ServerStatus {
    const fromSetting = this.options.bpftraceVersion?.trim();
    return {
      serverVersion: SERVER_VERSION,
      defaultBpftraceVersion: fromSetting || LATEST_BPFTRACE_VERSION,
      versionSource: fromSetting ? 'setting' : 'latest',
      openDocuments: this.documents.all().length,
    };
  }
}
