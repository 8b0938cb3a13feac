// Drives the real language server over an in-memory pair of streams, as a client would.
import { PassThrough } from 'node:stream';
import { createConnection as createServerConnection, type Connection } from 'vscode-languageserver/node';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  InitializeRequest,
  InitializedNotification,
  type InitializeResult,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  ShutdownRequest,
} from 'vscode-languageserver-protocol/node';
import { BpftraceLanguageServer } from '../../server/server';
import type { FieldtraceInitializationOptions } from '../../common/protocol';

export interface ServerHarness {
  client: ProtocolConnection;
  server: BpftraceLanguageServer;
  initializeResult: InitializeResult;
  /** Opens a document and returns its uri. */
  open(name: string, text: string, languageId?: string): string;
  change(uri: string, text: string): void;
  /** The next diagnostics published for uri with a version >= the one last sent. */
  diagnostics(uri: string, timeoutMs?: number): Promise<PublishDiagnosticsParams>;
  close(): Promise<void>;
}

export async function startServer(options: FieldtraceInitializationOptions = {}): Promise<ServerHarness> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection: Connection = createServerConnection(
    new StreamMessageReader(toServer),
    new StreamMessageWriter(toClient),
  );
  const server = new BpftraceLanguageServer(serverConnection);
  server.listen();
  const client = createProtocolConnection(
    new StreamMessageReader(toClient),
    new StreamMessageWriter(toServer),
  );
  const published = new Map<string, PublishDiagnosticsParams[]>();
  const waiters: Array<() => void> = [];
  client.onNotification(PublishDiagnosticsNotification.type, (params) => {
    const list = published.get(params.uri) ?? [];
    list.push(params);
    published.set(params.uri, list);
    for (const w of waiters.splice(0)) w();
  });
  client.listen();
  const initializeResult = await client.sendRequest(InitializeRequest.type, {
    // No processId: the library would poll it with a never-cleared interval that keeps tests alive.
    processId: null,
    rootUri: null,
    capabilities: {
      textDocument: {
        publishDiagnostics: { relatedInformation: true, versionSupport: true },
        completion: {
          completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] },
        },
        hover: { contentFormat: ['markdown', 'plaintext'] },
      },
      workspace: { configuration: false },
    },
    initializationOptions: options,
  });
  await client.sendNotification(InitializedNotification.type, {});
  const versions = new Map<string, number>();
  let consumed = new Map<string, number>();

  return {
    client,
    server,
    initializeResult,
    open(name, text, languageId = 'bpftrace') {
      const uri = `file:///test/${name}`;
      versions.set(uri, 1);
      void client.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: { uri, languageId, version: 1, text },
      });
      return uri;
    },
    change(uri, text) {
      const version = (versions.get(uri) ?? 1) + 1;
      versions.set(uri, version);
      void client.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version },
        contentChanges: [{ text }],
      });
    },
    async diagnostics(uri, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const list = published.get(uri) ?? [];
        const seen = consumed.get(uri) ?? 0;
        const wanted = versions.get(uri) ?? 1;
        for (let i = seen; i < list.length; i++) {
          const p = list[i];
          if (p.version === undefined || p.version >= wanted) {
            consumed = new Map(consumed).set(uri, i + 1);
            return p;
          }
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no diagnostics for ${uri} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async close() {
      await client.sendRequest(ShutdownRequest.type);
      // No exit notification and no end of the streams: vscode-languageserver answers either with
      // process.exit(), which would end the test process (and every test after this one).
      client.dispose();
      serverConnection.dispose();
    },
  };
}

/** Position of the first occurrence of needle (plus offset characters) in text. */
export function positionOf(text: string, needle: string, offset = 0): { line: number; character: number } {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`'${needle}' not found in fixture`);
  const before = text.slice(0, index + offset);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}
