// The facts of one target machine as the analysis asks them: built from what the extension (or
// the CLI, or the server itself for this machine) read there (common/protocol.ts NodeFacts and
// BinaryFacts), with the long lists turned into sets on first use and binaries' symbols taken
// from the symbol cache by build-id. Binaries a document names that are not known yet are
// collected, so that the server fetches them once and checks again.
import type { BinaryFacts, NodeFacts } from '../common/protocol';
import { type SymbolTable, wildcardRegExp } from '../core/symbols/table';
import { LOCAL_NODE, nodeInText } from '../common/nodes';

export interface BinaryEntry {
  facts: BinaryFacts;
  /** Function symbols, when they were read. */
  table?: SymbolTable;
  /** Those of each binary a glob matches, when it matches several and all were read. */
  tables?: SymbolTable[];
}

export class TargetFacts {
  /** For messages: "node web-1" or "this machine". */
  readonly where: string;
  private kprobeIndex?: Map<string, string[]>;
  private kernelSymbolSet?: Set<string>;
  private readonly binaries = new Map<string, BinaryEntry>();
  private readonly wanted = new Set<string>();
  private readonly patternMemo = new Map<string, boolean>();

  constructor(readonly node: NodeFacts) {
    const name = nodeInText(node.nodeId);
    this.where = node.nodeId === LOCAL_NODE ? name : `node ${name}`;
  }

  /** `bpftrace --info` says yes/no; undefined when it does not name the feature. */
  feature(name: string): boolean | undefined {
    return this.node.features?.[name];
  }

  get kprobeProblem(): string | undefined {
    return this.node.kprobeFunctions === undefined ? this.node.kprobeProblem : undefined;
  }

  /** Function -> modules it is listed in ('' for the kernel itself); undefined when unknown. */
  private kprobes(): Map<string, string[]> | undefined {
    if (this.node.kprobeFunctions === undefined) return undefined;
    if (!this.kprobeIndex) {
      this.kprobeIndex = new Map();
      for (const line of this.node.kprobeFunctions.split('\n')) {
        // "vfs_read", "ext4_file_open [ext4]", "fn [mod]\t..." (some kernels add an address column).
        const m = /^(\S+)(?:\s+\[([^\]]+)\])?/.exec(line);
        if (!m) continue;
        const list = this.kprobeIndex.get(m[1]) ?? [];
        list.push(m[2] ?? '');
        this.kprobeIndex.set(m[1], list);
      }
    }
    return this.kprobeIndex;
  }

  /**
   * Whether `kprobe:[module:]fn` can attach (wildcards `*` allowed); undefined when the listing
   * was not readable. Parts of functions (`fn.part.N`) never count, as in bpftrace.
   */
  kprobeFunction(fn: string, module?: string): boolean | undefined {
    const index = this.kprobes();
    if (!index) return undefined;
    const inModule = (mods: string[] | undefined) =>
      !!mods && (module === undefined || module === 'vmlinux' ? true : mods.includes(module));
    if (!fn.includes('*')) return inModule(index.get(fn));
    const key = `k\n${module ?? ''}\n${fn}`;
    let found = this.patternMemo.get(key);
    if (found === undefined) {
      const re = wildcardRegExp(fn);
      found = false;
      for (const [name, mods] of index)
        if (!name.includes('.part.') && re.test(name) && inModule(mods)) {
          found = true;
          break;
        }
      this.patternMemo.set(key, found);
    }
    return found;
  }

  /** Whether any listed function comes from `module`. */
  kernelModule(module: string): boolean | undefined {
    const index = this.kprobes();
    if (!index) return undefined;
    const key = `m\n${module}`;
    let found = this.patternMemo.get(key);
    if (found === undefined) {
      found = [...index.values()].some((mods) => mods.includes(module));
      this.patternMemo.set(key, found);
    }
    return found;
  }

  /** A name in /proc/kallsyms; undefined when it was not readable. */
  kernelSymbol(name: string): boolean | undefined {
    if (this.node.kernelSymbols === undefined) return undefined;
    this.kernelSymbolSet ??= new Set(this.node.kernelSymbols.split('\n'));
    return this.kernelSymbolSet.has(name);
  }

  get kernelSymbolsProblem(): string | undefined {
    return this.node.kernelSymbols === undefined ? this.node.kernelSymbolsProblem : undefined;
  }

  /** What is known of a binary target; undefined (and remembered as wanted) when nothing yet. */
  binary(target: string): BinaryEntry | undefined {
    const entry = this.binaries.get(target);
    if (!entry) this.wanted.add(target);
    return entry;
  }

  setBinary(entry: BinaryEntry): void {
    this.binaries.set(entry.facts.target, entry);
    this.wanted.delete(entry.facts.target);
  }

  /** Takes over what another instance (earlier facts of the same machine) knew of binaries. */
  adoptBinaries(other: TargetFacts): void {
    for (const entry of other.binaries.values()) this.binaries.set(entry.facts.target, entry);
  }

  /** Targets asked for and not known yet, each handed out once. */
  takeWanted(): string[] {
    const out = [...this.wanted].filter((t) => !this.binaries.has(t));
    this.wanted.clear();
    return out;
  }

  /**
   * Whether a uprobe function can attach in a binary's symbols, as bpftrace matches it: the
   * symbol itself, a wildcard over the names, or (for C++) text inside a demangled name, which is
   * how bpftrace finds overloads of a function written without its mangling.
   */
  functionIn(table: SymbolTable, fn: string): boolean {
    if (!fn.includes('*')) return table.has(fn) || table.demangledContaining(fn, 1).length > 0;
    const key = `u\n${table.meta.key}\n${fn}`;
    let found = this.patternMemo.get(key);
    if (found === undefined) {
      found = table.matching(fn, 1).length > 0 || table.displayMatching(fn);
      this.patternMemo.set(key, found);
    }
    return found;
  }
}
