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
  SetNodeFactsNotification,
  SetNodeTargetNotification,
} from '../common/protocol';
import type { SymbolCache } from '../core/symbols/cache';
import { AnalysisCache } from './analysis-cache';
import { MachineFactsService } from './machine-facts';
import { catalogFromParams, catalogSize } from './catalog/catalog';
import { Targets } from './targets';
import { registerDiagnostics, type DiagnosticsFeature } from './features/diagnostics';
import type { FeatureServer } from './features/feature-server';
import { registerCompletion } from './features/completion';
import { registerHover } from './features/hover';
import { registerSignatureHelp } from './features/signatureHelp';
import { registerSymbols } from './features/symbols';
import { registerNavigation } from './features/navigation';
import { registerFolding } from './features/folding';
import { registerCodeActions } from './features/codeActions';
import { LEGEND as SEMANTIC_TOKENS_LEGEND, registerSemanticTokens } from './features/semanticTokens';
import { registerNodeCompatibility } from './features/node-compatibility';
import { ON_TYPE_TRIGGERS, registerFormatting } from './features/formatting';
import { DEFAULT_FORMAT, type FormatSettings, formatSettings } from './format/format';

export const SERVER_VERSION = '0.1.0';

export interface ServerOptions {
  /** Detect the local bpftrace when no version is configured (default true). */
  detectLocalBpftrace?: boolean;
  /**
   * When the dialect comes from the local bpftrace, read this machine's facts (probe types,
   * kernel functions and symbols, binaries) so that what it lacks is an error (default true).
   */
  localMachineFacts?: boolean;
  /** The symbol cache by build-id (default: ~/.cache/fieldtrace/symbols, shared with the extension). */
  symbols?: SymbolCache;
}

/**
 * The bpftrace language server: owns the open documents and registers one handler per
 * feature (server/features/*). No `vscode` import, no root, no local bpftrace required.
 */
export class BpftraceLanguageServer {
  readonly documents = new TextDocuments(TextDocument);
  readonly targets = new Targets();
  private options: FieldtraceInitializationOptions = {};
  private readonly analyses: AnalysisCache;
  private format: FormatSettings = DEFAULT_FORMAT;
  private diagnostics?: DiagnosticsFeature;
  /** Resolves when the local bpftrace version detection (if any) has finished. */
  localDetection: Promise<string> = Promise.resolve('');
  private shutDown = false;
  /** Resolves when this machine's facts were read (or could not be), when they are read. */
  localFacts: Promise<void> = Promise.resolve();
  readonly machineFacts: MachineFactsService;

  constructor(
    readonly connection: Connection,
    private readonly serverOptions: ServerOptions = {},
  ) {
    this.machineFacts = new MachineFactsService(
      connection,
      this.targets,
      () => this.revalidateAll(),
      serverOptions.symbols,
    );
    this.analyses = new AnalysisCache(this.documents, this.targets, connection.console, (target) =>
      this.machineFacts.fetchWanted(target),
    );
  }

  listen(): void {
    this.connection.onInitialize((params) => this.initialize(params));
    // Once per server, never per keystroke; it matters only while no version is configured,
    // but the setting may be cleared later.
    if (this.serverOptions.detectLocalBpftrace !== false) {
      this.localDetection = this.targets.detectLocal().then((v) => {
        if (v && !this.options.bpftraceVersion) {
          try {
            this.connection.console.info(`bpftrace ${v} found locally; checking scripts in its dialect`);
          } catch {
            // `bpftrace --version` answered after the client went away: nothing to tell.
          }
          this.revalidateAll();
        }
        // Only while the dialect is the local bpftrace's: a configured version may be another machine's.
        if (v && !this.options.bpftraceVersion && this.serverOptions.localMachineFacts !== false)
          this.localFacts = this.machineFacts.readLocal();
        return v;
      });
    }
    this.connection.onRequest(ServerStatusRequest.type, () => this.status());
    this.connection.onShutdown(() => {
      this.shutDown = true;
      this.machineFacts.stop();
    });
    this.connection.onNotification(DidChangeConfigurationNotification.type, (params) => {
      const settings = params.settings as
        | {
            fieldtrace?: {
              bpftrace?: { version?: unknown; unsafe?: unknown };
              format?: { indentSize?: unknown; width?: unknown };
            };
          }
        | undefined;
      const format = settings?.fieldtrace?.format;
      if (format) this.format = formatSettings(format.indentSize, format.width);
      const unsafe = settings?.fieldtrace?.bpftrace?.unsafe;
      if (unsafe !== undefined) {
        this.targets.setUnsafe(unsafe);
        this.revalidateAll();
      }
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
    this.connection.onNotification(SetNodeFactsNotification.type, (facts) => {
      this.targets.setNodeFacts(facts);
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
    // Each feature gets what it answers with, not this class.
    const features: FeatureServer = {
      connection: this.connection,
      documents: this.documents,
      analysis: (uri) => this.analyses.get(uri),
      facts: (uri) => this.targets.forDocument(uri).facts,
    };
    this.diagnostics = registerDiagnostics(features);
    registerCompletion(features);
    registerHover(features);
    registerSignatureHelp(features);
    registerSymbols(features);
    registerNavigation(features);
    registerFolding(features);
    registerCodeActions(features);
    registerSemanticTokens(features);
    registerFormatting({
      ...features,
      dialectOf: (uri) => this.targets.forDocument(uri).dialect,
      settings: () => this.format,
    });
    registerNodeCompatibility({ ...features, targets: this.targets });
    this.documents.onDidClose((e) => this.analyses.forget(e.document.uri));
    this.documents.listen(this.connection);
    this.connection.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    const options = (params.initializationOptions ?? {}) as {
      bpftraceVersion?: unknown;
      formatIndentSize?: unknown;
      formatWidth?: unknown;
      bpftraceUnsafe?: unknown;
    };
    const version = options.bpftraceVersion;
    this.format = formatSettings(options.formatIndentSize, options.formatWidth);
    this.targets.setUnsafe(options.bpftraceUnsafe);
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
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        documentOnTypeFormattingProvider: ON_TYPE_TRIGGERS,
      },
      serverInfo: { name: 'fieldtrace-bpftrace', version: SERVER_VERSION },
    };
  }

  revalidateAll(): void {
    // Late answers (the local `bpftrace --version`, a node's facts) may come after shutdown.
    if (this.shutDown) return;
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
