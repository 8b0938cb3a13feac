// One symbol cache by build-id, for every feature that needs a binary's function names (machine
// facts of the language server, source -> probe): a binary's symbols are read on its node once
// per build-id, demangled once, and kept as a compact table in memory and on local disk
// (~/.cache/fieldtrace/symbols by default), so that the same Envoy on ten nodes, or in the next
// session, is read once.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { demangleTable, isMangled } from '../stacks/demangle';
import { findDebugFile, identify, type NodeAccess, readSymbolNames } from './elf';
import { SymbolTable } from './table';

export interface SymbolCacheOptions {
  /** Folder of the cache files; null keeps tables in memory only. */
  dir?: string | null;
  /** Demangles a table's C++ names (default: binutils' c++filt here); undefined result: keep mangled. */
  demangle?: (names: string[]) => Promise<string[] | undefined>;
}

export interface SymbolCacheStats {
  /** Symbol tables read on a node (the expensive step). */
  listings: number;
  diskHits: number;
  memoryHits: number;
}

export function defaultSymbolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'fieldtrace', 'symbols');
}

export class SymbolCache {
  readonly stats: SymbolCacheStats = { listings: 0, diskHits: 0, memoryHits: 0 };
  private readonly tables = new Map<string, Promise<SymbolTable>>();
  private readonly dir: string | null;
  private readonly demangle: (names: string[]) => Promise<string[] | undefined>;

  constructor(options: SymbolCacheOptions = {}) {
    this.dir = options.dir === undefined ? defaultSymbolCacheDir() : options.dir;
    this.demangle = options.demangle ?? demangleTable;
  }

  /**
   * The function symbols of `binary` on a node: identified by build-id (one cheap `readelf -n`),
   * then taken from memory, the disk, or read on the node in that order.
   */
  async tableFor(access: NodeAccess, binary: string): Promise<SymbolTable> {
    const id = await identify(access, binary);
    const key = id.buildId ?? `${access.transport.nodeId}:${binary}:${id.stamp ?? ''}`;
    let table = this.tables.get(key);
    if (table) {
      this.stats.memoryHits++;
      return table;
    }
    table = (async () => {
      const stored = await this.load(key);
      if (stored) {
        this.stats.diskHits++;
        return stored;
      }
      this.stats.listings++;
      const names: string[] = [];
      const debugFile = id.sections.has('.symtab') ? undefined : await findDebugFile(access, id);
      const files = debugFile ? [binary, debugFile] : [binary];
      const data: string[] = [];
      await readSymbolNames(
        access,
        files,
        (n) => names.push(n),
        (n) => data.push(n),
      );
      const sources = files.flatMap((f) => {
        const tables = f === binary ? ['.symtab', '.dynsym'].filter((t) => id.sections.has(t)) : ['.symtab'];
        return tables.map((t) => `${t} of ${f}`);
      });
      const built = SymbolTable.build(
        {
          key,
          buildId: id.buildId,
          binary,
          debugFile,
          sources,
          usdt: id.usdt,
          noSymbols: names.length ? undefined : noSymbolsReason(binary, id.buildId, id.sections),
        },
        names,
        await this.demangled(names),
        data,
      );
      await this.store(built);
      return built;
    })();
    this.tables.set(key, table);
    table.catch(() => this.tables.delete(key));
    return table;
  }

  /** A table already read (this process or an earlier one), by its key; no node is asked. */
  async byKey(key: string): Promise<SymbolTable | undefined> {
    const table = this.tables.get(key);
    if (table) return table.catch(() => undefined);
    const stored = await this.load(key);
    if (stored) this.tables.set(key, Promise.resolve(stored));
    return stored;
  }

  private async demangled(names: string[]): Promise<Map<string, string> | undefined> {
    const mangled = [...new Set(names.filter(isMangled))];
    if (!mangled.length) return undefined;
    const texts = await this.demangle(mangled).catch(() => undefined);
    if (!texts) return undefined;
    return new Map(mangled.map((n, i) => [n, texts[i] ?? '']));
  }

  private file(key: string): string | undefined {
    if (!this.dir) return undefined;
    const name = /^[0-9a-f]{8,128}$/.test(key) ? key : createHash('sha256').update(key).digest('hex');
    return path.join(this.dir, `${name}.ftsym`);
  }

  private async load(key: string): Promise<SymbolTable | undefined> {
    const file = this.file(key);
    if (!file) return undefined;
    try {
      const table = SymbolTable.deserialize(await readFile(file));
      return table.meta.key === key ? table : undefined;
    } catch {
      return undefined; // absent or unreadable: read the node again
    }
  }

  private async store(table: SymbolTable): Promise<void> {
    const file = this.file(table.meta.key);
    if (!file) return;
    try {
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      // Written aside then renamed: a reader never sees half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, table.serialize(), { mode: 0o600 });
      await rename(tmp, file);
    } catch {
      // A cache that cannot be written costs a re-read next time, nothing else.
    }
  }
}

function noSymbolsReason(binary: string, buildId: string | undefined, sections: Set<string>): string {
  const stripped = !sections.has('.symtab');
  const where = buildId
    ? `/usr/lib/debug/.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}.debug`
    : 'a debug file beside it';
  return stripped
    ? `${binary} has no function symbols: it is stripped, exports none, and no debug file was found (looked for ${where}${sections.has('.gnu_debuglink') ? ' and its .gnu_debuglink' : ''})`
    : `${binary} has no function symbols`;
}
