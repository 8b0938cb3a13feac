// Which dialect and catalog each document is checked in: the default (setting, else the local
// `bpftrace --version`, else the latest), or the node a document is bound to.
import { execFile } from 'node:child_process';
import { bundledCatalog, catalogFromListing, type Catalog } from './catalog/catalog';
import { parseBpftraceVersion } from '../common/bpftrace-version';
import { Dialect, LATEST_NAME } from './analysis/dialects';
import type { NodeFacts, NodeTarget } from '../common/protocol';
import { type BinaryEntry, TargetFacts } from './facts';
import { LOCAL_NODE } from '../common/nodes';

export interface Target {
  dialect: Dialect;
  catalog: Catalog;
  /** Scripts run with `bpftrace --unsafe` (the setting; a script may also say so itself). */
  unsafe: boolean;
  /** Changes whenever the target changes, for cache keys. */
  key: string;
  /** The machine the document will run on, when known: its facts make absences errors. */
  nodeId?: string;
  facts?: TargetFacts;
}

interface NodeEntry {
  version?: string;
  catalog?: Catalog;
  facts?: TargetFacts;
}

export class Targets {
  private settingVersion = '';
  private unsafeSetting = false;
  private localVersionFound = '';
  private defaultCatalog: Catalog = bundledCatalog();
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly documentNodes = new Map<string, string>();
  private generation = 0;
  private cache = new Map<string, Target>();

  setSetting(version: unknown): void {
    // Other editors' configs may give a number (`bpftraceVersion = 0.17` in Lua).
    this.settingVersion =
      typeof version === 'string' || typeof version === 'number' ? String(version).trim() : '';
    this.bump();
  }

  /** fieldtrace.bpftrace.unsafe: every script runs with `bpftrace --unsafe`. */
  setUnsafe(unsafe: unknown): void {
    this.unsafeSetting = unsafe === true;
    this.bump();
  }

  setDefaultCatalog(catalog: Catalog): void {
    this.defaultCatalog = catalog;
    this.bump();
  }

  setNodeCatalog(nodeId: string, catalog: Catalog): void {
    const entry = this.nodes.get(nodeId) ?? {};
    entry.catalog = catalog;
    this.nodes.set(nodeId, entry);
    this.bump();
  }

  setNode(node: NodeTarget): void {
    const entry = this.nodes.get(node.nodeId) ?? {};
    if (node.bpftraceVersion) entry.version = node.bpftraceVersion;
    if (node.tracepointListing)
      entry.catalog = catalogFromListing(node.tracepointListing, node.kernelRelease ?? 'unknown');
    this.nodes.set(node.nodeId, entry);
    this.bump();
  }

  /** A node's machine facts (replacing earlier ones: a new kernel, a new bpftrace). */
  setNodeFacts(facts: NodeFacts): void {
    const entry = this.nodes.get(facts.nodeId) ?? {};
    const previous = entry.facts;
    entry.facts = new TargetFacts(facts);
    // The same kernel keeps its binaries: pushed again, the facts must not start the asking over.
    if (previous && previous.node.kernelRelease === facts.kernelRelease) entry.facts.adoptBinaries(previous);
    if (facts.bpftraceVersion) entry.version = facts.bpftraceVersion;
    this.nodes.set(facts.nodeId, entry);
    this.bump();
  }

  setBinaryFacts(nodeId: string, entries: BinaryEntry[]): void {
    const facts = this.nodes.get(nodeId)?.facts;
    if (!facts) return;
    for (const e of entries) facts.setBinary(e);
    this.bump();
  }

  bindDocument(uri: string, nodeId: string | null): void {
    if (nodeId) this.documentNodes.set(uri, nodeId);
    else this.documentNodes.delete(uri);
    this.bump();
  }

  /**
   * Runs `bpftrace --version` once (never per keystroke). Resolves with the version found, or ''
   * when bpftrace is missing or fails; the default changes only when no setting is given.
   */
  detectLocal(command = 'bpftrace'): Promise<string> {
    return new Promise((resolve) => {
      execFile(command, ['--version'], { timeout: 5000 }, (err, stdout) => {
        const v = err ? undefined : parseBpftraceVersion(stdout);
        this.localVersionFound = v ? `${v.major}.${v.minor}` : '';
        this.bump();
        resolve(this.localVersionFound);
      });
    });
  }

  localVersion(): string {
    return this.localVersionFound;
  }

  defaultCatalogInfo(): { kernel: string; origin: 'bundled' | 'node' } {
    return { kernel: this.defaultCatalog.kernel, origin: this.defaultCatalog.origin };
  }

  defaultVersion(): { version: string; source: 'setting' | 'local' | 'latest' } {
    if (this.settingVersion) return { version: this.settingVersion, source: 'setting' };
    if (this.localVersionFound) return { version: this.localVersionFound, source: 'local' };
    return { version: LATEST_NAME, source: 'latest' };
  }

  /** A node's own target; `known` is false when the node was never pushed (defaults used). */
  forNode(nodeId: string): Target & { known: boolean; version: string } {
    const node = this.nodes.get(nodeId);
    const version = node?.version ?? this.defaultVersion().version;
    const catalog = node?.catalog ?? this.defaultCatalog;
    return {
      dialect: new Dialect(version),
      catalog,
      unsafe: this.unsafeSetting,
      key: `${this.generation}:${nodeId}:${version}`,
      nodeId,
      facts: node?.facts,
      known: node !== undefined,
      version,
    };
  }

  forDocument(uri: string): Target {
    // A document bound to no node whose dialect is this machine's bpftrace runs here: this
    // machine's facts apply (when the server could read them).
    const nodeId =
      this.documentNodes.get(uri) ??
      (this.defaultVersion().source === 'local' && this.nodes.get(LOCAL_NODE)?.facts
        ? LOCAL_NODE
        : undefined);
    const node = nodeId ? this.nodes.get(nodeId) : undefined;
    const version = node?.version ?? this.defaultVersion().version;
    const catalog = node?.catalog ?? this.defaultCatalog;
    const key = `${this.generation}:${nodeId ?? ''}`;
    const cacheKey = `${key}:${version}`;
    let t = this.cache.get(cacheKey);
    if (!t) {
      t = {
        dialect: new Dialect(version),
        catalog,
        unsafe: this.unsafeSetting,
        key: cacheKey,
        nodeId,
        facts: node?.facts,
      };
      this.cache.set(cacheKey, t);
    }
    return t;
  }

  private bump(): void {
    this.generation++;
    this.cache.clear();
  }
}
