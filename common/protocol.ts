// Custom messages between the extension and the language server, one namespace per message
// (method and type together), imported by both sides and never copied.
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

/** Initialization options the extension passes to the server. */
export interface FieldtraceInitializationOptions {
  /** bpftrace version whose dialect is the default for documents (e.g. "0.17"); empty: detect/latest. */
  bpftraceVersion?: string;
  /** `fieldtrace.format.indentSize` and `.width`; the editor's tab size never replaces them. */
  formatIndentSize?: number;
  formatWidth?: number;
  /** fieldtrace.bpftrace.unsafe: scripts run with `bpftrace --unsafe`. */
  bpftraceUnsafe?: boolean;
}

export interface ServerStatus {
  serverVersion: string;
  /** The dialect documents are checked in by default. */
  defaultBpftraceVersion: string;
  /** Where the default version came from: the setting, the local bpftrace, or the latest known. */
  versionSource: 'setting' | 'local' | 'latest';
  openDocuments: number;
  /** `bpftrace --version` of this machine, when found. */
  localBpftraceVersion?: string;
  /** The default tracepoint catalog: its kernel and where it came from. */
  catalog?: { kernel: string; origin: 'bundled' | 'node' };
}

export namespace ServerStatusRequest {
  export const method = 'fieldtrace/serverStatus';
  export const type = new RequestType0<ServerStatus, void>(method);
}

/** A node's bpftrace version and tracepoint catalog, pushed by the extension after probing it. */
export interface NodeTarget {
  /** Stable id of the node (host alias, or "local"). */
  nodeId: string;
  bpftraceVersion?: string;
  kernelRelease?: string;
  /** Output of `bpftrace -lv 'tracepoint:*'`, when known. */
  tracepointListing?: string;
}

export namespace SetNodeTargetNotification {
  export const method = 'fieldtrace/setNodeTarget';
  export const type = new NotificationType<NodeTarget>(method);
}

/** Binds documents to the node they will run on, so they are checked in that node's dialect. */
export interface DocumentTarget {
  uri: string;
  nodeId: string | null;
}

export namespace SetDocumentTargetNotification {
  export const method = 'fieldtrace/setDocumentTarget';
  export const type = new NotificationType<DocumentTarget>(method);
}

/**
 * Replaces a tracepoint/type catalog at runtime (server/catalog/catalog.ts builds it): the default
 * catalog when nodeId is absent, else the catalog of that node's documents.
 */
export interface SetCatalogParams {
  nodeId?: string;
  /** Kernel release the catalog describes. */
  kernel: string;
  /** Output of `bpftrace -lv 'tracepoint:*'` on the node. */
  tracepointListing?: string;
  /** Or a whole catalog file as written by `npm run gen:catalog`. */
  catalogData?: unknown;
}

export interface SetCatalogResult {
  categories: number;
  tracepoints: number;
}

export namespace SetCatalogRequest {
  export const method = 'fieldtrace/setCatalog';
  export const type = new RequestType<SetCatalogParams, SetCatalogResult, void>(method);
}

/** One node's verdict on a script: what its bpftrace (dialect, catalog) would reject. */
export interface NodeVerdict {
  nodeId: string;
  /** The dialect the script was checked in (the node's bpftrace, else the default). */
  bpftraceVersion: string;
  /** false: the node was never pushed (setNodeTarget), so the default target was used. */
  known: boolean;
  errors: { line: number; character: number; message: string; code?: string }[];
  warnings: number;
}

export interface CheckOnNodesParams {
  /** An open document, or `text` for a script that is not one (a generated listener trace). */
  uri?: string;
  text?: string;
  nodeIds: string[];
}

/** Checks one script against several nodes at once, before a fleet run fans out. */
export namespace CheckOnNodesRequest {
  export const method = 'fieldtrace/checkOnNodes';
  export const type = new RequestType<CheckOnNodesParams, { nodes: NodeVerdict[] }, void>(method);
}

/**
 * What a node's bpftrace will find there (core/nodes/facts.ts reads it once per node and
 * kernel): the documents bound to that node get bpftrace's errors for what it lacks. A part that
 * could not be read carries the reason instead of its data.
 */
export interface NodeFacts {
  nodeId: string;
  kernelRelease: string;
  bpftraceVersion?: string;
  /** `bpftrace --info`: `kfunc`, `iter:task`, `send_signal`… -> supported. */
  features?: Record<string, boolean>;
  infoProblem?: string;
  /** tracefs `available_filter_functions`, one `function` or `function [module]` per line. */
  kprobeFunctions?: string;
  kprobeProblem?: string;
  /** Names from `/proc/kallsyms`, one per line. */
  kernelSymbols?: string;
  kernelSymbolsProblem?: string;
}

export namespace SetNodeFactsNotification {
  export const method = 'fieldtrace/setNodeFacts';
  export const type = new NotificationType<NodeFacts>(method);
}

/** A binary a script names (uprobe/usdt target, as written), as found on a node. */
export interface BinaryFacts {
  target: string;
  /** False: bpftrace there says the target "does not exist or is not executable". */
  exists: boolean;
  /** The file bpftrace resolves the target to (one, also for a glob that matches one). */
  path?: string;
  /** How many binaries a glob target matches when it matches several (path is then unset). */
  matched?: number;
  /**
   * For a glob over several binaries: the symbol-cache key of each one's functions, when every
   * one was read (bpftrace matches the function in each, core/nodes/facts.ts GLOB_TABLES_MAX).
   */
  symbolKeys?: string[];
  /** Key of its function symbols in the local symbol cache (build-id, or a stand-in). */
  symbolKey?: string;
  /** Why the binary has no function symbols at all, in plain words. */
  noSymbols?: string;
  symbolsProblem?: string;
  /** USDT probes of its stapsdt notes, `provider:name`. */
  usdt?: string[];
}

export interface BinaryFactsParams {
  nodeId: string;
  targets: string[];
}

/**
 * Asked by the server for binaries its bound documents name and that it has no facts for yet;
 * answered by the side that holds the node's connection (once per binary, never per keystroke).
 */
export namespace BinaryFactsRequest {
  export const method = 'fieldtrace/binaryFacts';
  export const type = new RequestType<BinaryFactsParams, BinaryFacts[], void>(method);
}
