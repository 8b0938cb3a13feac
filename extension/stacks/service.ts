// Owns the source index inside the extension host: builds it in the background with a
// cancellable progress notification, persists it in globalStorage (reused per file by size
// and mtime), keeps it current from a file watcher, and answers frame resolutions.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { demangle } from '../../core/stacks/demangle';
import { type CommandRunner, transportRunner } from '../../core/nodes/commands';
import { DwarfResolver } from '../../core/stacks/dwarf';
import { parseFrameLine } from '../../core/stacks/frames';
import type { Resolution } from '../../core/stacks/resolution';
import { Resolver } from '../../core/stacks/resolver';
import { CancelledError, SOURCE_EXTENSIONS, SourceIndex } from '../../core/stacks/sourceIndex';
import type { Configuration } from '../configuration';
import type { FieldtraceContext } from '../context';
import { resolvePathMappings, resolveSourceRoots } from '../settings';
import type { NodeManager } from '../ssh/index';
import { notify } from '../notify';

export class StackService implements vscode.Disposable {
  private index: SourceIndex | undefined;
  private resolver: Resolver | undefined;
  private building: Promise<SourceIndex | undefined> | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: FieldtraceContext,
    private readonly nodes: NodeManager,
    private readonly configuration: Configuration,
  ) {
    this.disposables.push(
      configuration.onDidChange(['sourceRoots'], () => void this.rebuild()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rebuild()),
    );
  }

  /** Source roots: the setting (workspace-relative paths allowed), else the workspace folders. */
  roots(): string[] {
    const folders = vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath) ?? [];
    return resolveSourceRoots(this.configuration.settings.sourceRoots, folders, process.cwd());
  }

  /** The index, building it first if needed (with progress). Undefined when cancelled or no roots. */
  ready(): Promise<SourceIndex | undefined> {
    if (this.index) return Promise.resolve(this.index);
    this.building ??= this.build().finally(() => (this.building = undefined));
    return this.building;
  }

  async resolve(frame: string, callee?: string): Promise<Resolution> {
    const index = await this.ready();
    if (!index || !this.resolver) {
      return {
        frame,
        symbol: frame,
        reason: 'no C++ source indexed: set fieldtrace.sourceRoots or open an Envoy checkout',
      };
    }
    if (index.definitionCount === 0) {
      return {
        frame,
        symbol: frame,
        reason: `no C++ definitions under ${index.roots.join(', ')}: point fieldtrace.sourceRoots at your Envoy checkout`,
      };
    }
    const byIndex = await this.resolver.resolveText(frame, callee);
    const [exact] = await this.dwarf([frame]);
    return exact?.location ? { ...byIndex, ...exact, parsed: byIndex.parsed } : byIndex;
  }

  private dwarfResolver: DwarfResolver | undefined;
  private dwarfKey = '';

  /**
   * The resolver of `fieldtrace.stacks.debugBinary`, when one is set: on this machine when the
   * file is there, or on `fieldtrace.stacks.debugBinaryNode` over SSH (only addresses and lines
   * travel; the binary stays on the node).
   */
  private async dwarfFor(): Promise<DwarfResolver | undefined> {
    const stacks = this.configuration.settings.stacks;
    const binary = stacks.debugBinary;
    const node = stacks.debugBinaryNode;
    if (!binary || (!node && !existsSync(binary))) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const mappings = resolvePathMappings(stacks.pathMappings, folder);
    const key = JSON.stringify([binary, node, this.roots(), mappings]);
    if (!this.dwarfResolver || this.dwarfKey !== key) {
      this.dwarfResolver = undefined;
      this.dwarfKey = key;
      let runner: CommandRunner | undefined;
      if (node) runner = transportRunner(await this.nodes.connect(node));
      this.dwarfResolver = new DwarfResolver(binary, this.roots(), { pathMappings: mappings, runner });
    }
    return this.dwarfResolver;
  }

  /**
   * Exact lines from the debug binary for frames of one stack (one addr2line run), undefined
   * where it has none. Every frame is a return address (a syscall's user frame too): pc − 1.
   */
  private async dwarf(texts: string[]): Promise<Array<Resolution | undefined>> {
    const none = texts.map(() => undefined);
    let resolver: DwarfResolver | undefined;
    try {
      resolver = await this.dwarfFor();
    } catch (e) {
      this.dwarfFailed(e);
      return none;
    }
    if (!resolver) return none;
    const frames = texts.map((t) => parseFrameLine(t));
    const symbols = await demangle(frames.map((f) => f?.symbol ?? ''));
    const located = frames.map((f, i) =>
      f?.symbol && f.offset !== undefined
        ? { ...f, symbol: symbols[i] ?? f.symbol, mangled: false }
        : undefined,
    );
    const wanted = located.filter((f) => f !== undefined);
    if (!wanted.length) return none;
    let resolved: Array<Resolution | undefined>;
    try {
      resolved = await resolver.resolveStack(wanted, true);
    } catch (e) {
      this.dwarfFailed(e);
      return none;
    }
    let next = 0;
    return located.map((f) => (f ? resolved[next++] : undefined));
  }

  private dwarfWarned = '';

  /**
   * Frames fall back to their definitions; the user hears once per setting why, and the next
   * lookup starts afresh (a dropped connection is made again).
   */
  private dwarfFailed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.ctx.log.warn(`Stacks: DWARF lookup failed: ${message}`);
    if (this.dwarfWarned !== this.dwarfKey) {
      this.dwarfWarned = this.dwarfKey;
      void notify.warning(
        `Fieldtrace: no exact lines from the debug binary (${message}); frames open their definitions.`,
      );
    }
    this.dwarfResolver = undefined;
  }

  async resolveStack(frames: string[]): Promise<Resolution[]> {
    const index = await this.ready();
    if (!index || !this.resolver) {
      return frames.map((f) => ({
        frame: f,
        symbol: f,
        reason: 'no C++ source indexed: set fieldtrace.sourceRoots',
      }));
    }
    const exact = await this.dwarf(frames);
    const out: Resolution[] = [];
    for (let i = 0; i < frames.length; i++) {
      const byIndex = await this.resolver.resolveText(frames[i], i > 0 ? frames[i - 1] : undefined);
      const line = exact[i];
      out.push(line?.location ? { ...byIndex, ...line, parsed: byIndex.parsed } : byIndex);
    }
    return out;
  }

  /** How many frames resolve to a source line; undefined when no source is indexed. */
  async countInSource(frames: string[]): Promise<number | undefined> {
    if (!this.roots().length) return undefined;
    const resolved = await this.resolveStack(frames);
    return resolved.filter((r) => r.location).length;
  }

  async rebuild(): Promise<void> {
    this.index = undefined;
    this.resolver = undefined;
    await this.ready();
  }

  private cacheFile(roots: string[]): vscode.Uri {
    const key = createHash('sha256').update(roots.join('\0')).digest('hex').slice(0, 16);
    return vscode.Uri.joinPath(this.ctx.extension.globalStorageUri, 'stacks', `index-${key}.json`);
  }

  private async build(): Promise<SourceIndex | undefined> {
    const roots = this.roots();
    if (!roots.length) return undefined;
    const cache = this.cacheFile(roots).fsPath;
    const previous = await SourceIndex.load(cache);
    try {
      const index = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Fieldtrace: indexing C++ sources',
          cancellable: true,
        },
        async (progress, token) => {
          let last = 0;
          return SourceIndex.build(roots, {
            previous,
            isCancelled: () => token.isCancellationRequested,
            onProgress: (done, total) => {
              const pct = (done / Math.max(total, 1)) * 100;
              progress.report({ increment: pct - last, message: `${done}/${total} files` });
              last = pct;
            },
          });
        },
      );
      const s = index.stats;
      this.ctx.log.info(
        `Stacks: indexed ${s.files} files (${s.scanned} scanned, ${s.reused} reused) with ${s.definitions} definitions in ${Math.round(s.ms)} ms`,
      );
      this.index = index;
      this.resolver = new Resolver(index);
      this.watch(roots);
      await index
        .save(cache)
        .catch((e: unknown) => this.ctx.log.warn(`Stacks: cannot save the index: ${String(e)}`));
      return index;
    } catch (error) {
      if (error instanceof CancelledError) {
        this.ctx.log.info('Stacks: indexing cancelled');
        return undefined;
      }
      throw error;
    }
  }

  private watch(roots: string[]): void {
    this.watcher?.dispose();
    const exts = [...SOURCE_EXTENSIONS].map((e) => e.slice(1)).join(',');
    // One watcher for all roots: the glob is absolute-path agnostic, updates are filtered by root.
    this.watcher = vscode.workspace.createFileSystemWatcher(`**/*.{${exts}}`);
    const onChange = (uri: vscode.Uri) => {
      if (!roots.some((r) => uri.fsPath.startsWith(r + path.sep))) return;
      this.pending.add(uri.fsPath);
      clearTimeout(this.flushTimer);
      this.flushTimer = setTimeout(() => void this.flush(), 300);
    };
    this.watcher.onDidChange(onChange);
    this.watcher.onDidCreate(onChange);
    this.watcher.onDidDelete(onChange);
  }

  private async flush(): Promise<void> {
    const index = this.index;
    if (!index) return;
    const files = [...this.pending];
    this.pending.clear();
    for (const f of files) await index.updateFile(f).catch(() => index.removeFile(f));
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(
      () => void index.save(this.cacheFile(index.roots).fsPath).catch(() => undefined),
      2000,
    );
  }

  dispose(): void {
    clearTimeout(this.flushTimer);
    clearTimeout(this.saveTimer);
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
