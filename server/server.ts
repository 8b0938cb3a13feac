import {
  type Connection,
  DidChangeConfigurationNotification,
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
  SetCatalogRequest,
  SetDocumentTargetNotification,
  SetNodeTargetNotification,
} from '../common/protocol';
import { analyze, type Analysis } from './analysis/analyzer';
import { catalogFromParams, catalogSize } from './catalog/catalog';
import { Targets } from './targets';
import { registerDiagnostics, type DiagnosticsFeature } from './features/diagnostics';
import { registerCompletion } from './features/completion';
import { registerHover } from './features/hover';
import { registerSignatureHelp } from './features/signatureHelp';
import { registerSymbols } from './features/symbols';
import { registerNavigation } from './features/navigation';
import { registerFolding } from './features/folding';
import { registerCodeActions } from './features/codeActions';
import { LEGEND as SEMANTIC_TOKENS_LEGEND, registerSemanticTokens } from './features/semanticTokens';

export const SERVER_VERSION = '0.1.0';
export const LATEST_BPFTRACE_VERSION = '0.26';
const SLOW_MS = 100;

export interface ServerOptions {
  /** Detect the local bpftrace when no version is configured (default true). */
  detectLocalBpftrace?: boolean;
}

/**
 * The bpftrace language server: owns the open documents and registers one handler per
 * feature (server/features/*). No `vscode` import, no root, no local bpftrace required.
 */
export class BpftraceLanguageServer {
  readonly documents = new TextDocuments(TextDocument);
  readonly targets = new Targets();
  private options: FieldtraceInitializationOptions = {};
  private readonly cache = new Map<string, { version: number; key: string; analysis: Analysis }>();
  private diagnostics?: DiagnosticsFeature;
  /** Resolves when the local bpftrace version detection (if any) has finished. */
  localDetection: Promise<string> = Promise.resolve('');

  constructor(
    readonly connection: Connection,
    private readonly serverOptions: ServerOptions = {},
  ) {}

  listen(): void {
    this.connection.onInitialize((params) => this.initialize(params));
    // Once per server, never per keystroke; it matters only while no version is configured,
    // but the setting may be cleared later.
    if (this.serverOptions.detectLocalBpftrace !== false) {
      this.localDetection = this.targets.detectLocal().then((v) => {
        if (v && !this.options.bpftraceVersion) {
          this.connection.console.info(`bpftrace ${v} found locally; checking scripts in its dialect`);
          this.revalidateAll();
        }
        return v;
      });
    }
    this.connection.onRequest(ServerStatusRequest.type, () => this.status());
    this.connection.onNotification(DidChangeConfigurationNotification.type, (params) => {
      const settings = params.settings as { fieldtrace?: { bpftrace?: { version?: unknown } } } | undefined;
      const version = settings?.fieldtrace?.bpftrace?.version;
      if (version !== undefined) {
        this.options.bpftraceVersion = String(version);
        this.targets.setSetting(version);
        this.revalidateAll();
      }
    });
    this.connection.onNotification(SetNodeTargetNotification.type, (node) => {
      this.targets.setNode(node);
      this.revalidateAll();
    });
    this.connection.onNotification(SetDocumentTargetNotification.type, (t) => {
      this.targets.bindDocument(t.uri, t.nodeId);
      this.revalidateAll();
    });
    this.connection.onRequest(SetCatalogRequest.type, (params) => {
      const catalog = catalogFromParams(params);
      if (params.nodeId) this.targets.setNodeCatalog(params.nodeId, catalog);
      else this.targets.setDefaultCatalog(catalog);
      this.revalidateAll();
      return catalogSize(catalog);
    });
    this.diagnostics = registerDiagnostics(this);
    registerCompletion(this);
    registerHover(this);
    registerSignatureHelp(this);
    registerSymbols(this);
    registerNavigation(this);
    registerFolding(this);
    registerCodeActions(this);
    registerSemanticTokens(this);
    this.documents.onDidClose((e) => this.cache.delete(e.document.uri));
    this.documents.listen(this.connection);
    this.connection.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    const options = (params.initializationOptions ?? {}) as { bpftraceVersion?: unknown };
    const version = options.bpftraceVersion;
    this.options = {
      bpftraceVersion:
        typeof version === 'number' ? String(version) : typeof version === 'string' ? version : '',
    };
    this.targets.setSetting(version);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: [':', '>', '.', '@', '$'], resolveProvider: false },
        hoverProvider: true,
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
        documentSymbolProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        renameProvider: { prepareProvider: true },
        foldingRangeProvider: true,
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true },
        codeActionProvider: { codeActionKinds: ['quickfix'] },
      },
      serverInfo: { name: 'fieldtrace-bpftrace', version: SERVER_VERSION },
    };
  }

  /** The analysis of a document's current text in its target dialect (cached by version). */
  analysis(uri: string): Analysis | undefined {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const target = this.targets.forDocument(uri);
    const cached = this.cache.get(uri);
    if (cached && cached.version === doc.version && cached.key === target.key) return cached.analysis;
    const started = performance.now();
    let analysis: Analysis;
    try {
      analysis = analyze(doc.getText(), target.dialect, target.catalog);
    } catch (err) {
      // A bug must cost the features of one document version, never the server.
      this.connection.console.error(`analysis of ${uri} failed: ${(err as Error).stack ?? String(err)}`);
      analysis = analyze('', target.dialect, target.catalog);
      analysis.diagnostics.length = 0;
      analysis.diagnostics.push({
        start: 0,
        end: 0,
        severity: 'warning',
        code: 'internal-error',
        message: `The bpftrace language server could not analyse this text: ${(err as Error).message}`,
      });
    }
    const ms = performance.now() - started;
    if (ms > SLOW_MS) {
      this.connection.console.warn(`analysis of ${uri} (${doc.lineCount} lines) took ${ms.toFixed(0)} ms`);
    }
    this.cache.set(uri, { version: doc.version, key: target.key, analysis });
    return analysis;
  }

  revalidateAll(): void {
    for (const doc of this.documents.all()) this.diagnostics?.validate(doc.uri);
  }

  private status(): ServerStatus {
    const { version, source } = this.targets.defaultVersion();
    return {
      serverVersion: SERVER_VERSION,
      defaultBpftraceVersion: version,
      versionSource: source,
      openDocuments: this.documents.all().length,
      localBpftraceVersion: this.targets.localVersion() || undefined,
      catalog: {
        kernel: this.targets.defaultCatalogInfo().kernel,
        origin: this.targets.defaultCatalogInfo().origin,
      },
    };
  }
}
