// Exact lines from DWARF: `symbol+offset` -> address (symbol table of the binary) -> file:line
// and the inline chain (addr2line). Runs through the one CommandRunner (core/nodes/commands.ts),
// so the same code works on this machine and on a node over SSH; arguments are passed as a list,
// never through a shell.
// Caller frames are looked up at return address - 1: the return address is the instruction
// after the call and may belong to the next line (or to no line at all after a noreturn call).
import * as path from 'node:path';
import { type CommandLimits, type CommandRunner, localRunner } from '../nodes/commands';
import { confinedPath, confineResolution, realFile, type RealFile } from './confine';
import type { Frame } from './frames';
import type { Location, Resolution } from './resolution';

/**
 * `nm` of a large binary (Envoy: hundreds of MB of symbols) and `addr2line` over its DWARF need
 * far more time and output than the short commands on a node.
 */
export const SYMBOL_TOOL_LIMITS: CommandLimits = { timeoutMs: 120_000, maxBytes: 512 * 1024 * 1024 };

export interface PathMapping {
  from: string;
  to: string;
}

/**
 * Maps a path written by the compiler onto a file of the workspace: user prefix maps first,
 * then bazel's `/proc/self/cwd/`, istio-proxy's `external/envoy/`, and finally the longest
 * tail of the path that exists under a source root. `..` is resolved first, and every candidate
 * must pass confinedPath() (a real file under a root, or under a mapping's target): a path
 * outside them maps to nothing, so it is never opened.
 */
export function mapBuildPath(
  file: string,
  roots: string[],
  mappings: PathMapping[] = [],
  real: RealFile = realFile,
): string | undefined {
  const normalised = path.posix.normalize(file);
  for (const m of mappings) {
    if (m.from && normalised.startsWith(m.from)) {
      const mapped = confinedPath(path.join(m.to, normalised.slice(m.from.length)), [m.to, ...roots], real);
      if (mapped) return mapped;
    }
  }
  let rel = normalised.replace(/^\/proc\/self\/cwd\//, '').replace(/^(\.\/)+/, '');
  if (path.isAbsolute(rel)) {
    const inside = confinedPath(rel, roots, real);
    if (inside) return inside;
  }
  rel = rel.replace(/^external\/envoy\//, '');
  const parts = rel.split('/').filter((p) => p && p !== '.' && p !== '..');
  for (let i = 0; i < parts.length; i++) {
    const tail = parts.slice(i).join('/');
    for (const root of roots) {
      const candidate = confinedPath(path.join(root, tail), roots, real);
      if (candidate) return candidate;
    }
  }
  return undefined;
}

interface SymbolEntry {
  address: bigint;
}

export class DwarfResolver {
  private symbols: Promise<Map<string, SymbolEntry>> | undefined;

  constructor(
    readonly binary: string,
    readonly roots: string[],
    readonly options: {
      runner?: CommandRunner;
      pathMappings?: PathMapping[];
      addr2line?: string;
      nm?: string;
    } = {},
  ) {}

  private get runner(): CommandRunner {
    return this.options.runner ?? localRunner;
  }

  /** Demangled name -> address, from the binary's symbol table. */
  private loadSymbols(): Promise<Map<string, SymbolEntry>> {
    this.symbols ??= (async () => {
      const stdout = await this.runner(
        // `--`: a binary path starting with `-` must not be read as an option (`--plugin=…`).
        [this.options.nm ?? 'nm', '--defined-only', '-C', '--', this.binary],
        SYMBOL_TOOL_LIMITS,
      );
      const map = new Map<string, SymbolEntry>();
      for (const line of stdout.split('\n')) {
        const m = /^([0-9a-fA-F]+) [TtWi] (.+)$/.exec(line);
        if (!m) continue;
        const entry = { address: BigInt(`0x${m[1]}`) };
        if (!map.has(m[2])) map.set(m[2], entry);
        const squeezed = squeeze(m[2]);
        if (!map.has(squeezed)) map.set(squeezed, entry);
      }
      return map;
    })();
    return this.symbols;
  }

  /**
   * Resolves frames of one stack, innermost first. `frames[0]` is taken as the interrupted
   * instruction (no -1) unless `allCallers` says every frame is a return address.
   */
  async resolveStack(frames: Frame[], allCallers = false): Promise<Array<Resolution | undefined>> {
    const symbols = await this.loadSymbols();
    const addrs: Array<bigint | undefined> = frames.map((f, i) => {
      if (!f.symbol || f.offset === undefined) return undefined;
      const s = symbols.get(f.symbol) ?? symbols.get(squeeze(f.symbol));
      if (!s) return undefined;
      const pc = s.address + BigInt(f.offset);
      return i > 0 || allCallers ? pc - 1n : pc;
    });
    const wanted = addrs.filter((a): a is bigint => a !== undefined);
    if (!wanted.length) return frames.map(() => undefined);
    const stdout = await this.runner(
      [
        this.options.addr2line ?? 'addr2line',
        // -e takes the next word as its value, whatever it starts with.
        '-e',
        this.binary,
        '-a',
        '-f',
        '-i',
        '-C',
        ...wanted.map((a) => `0x${a.toString(16)}`),
      ],
      SYMBOL_TOOL_LIMITS,
    );
    const chains = parseAddr2line(stdout);
    const confineTo = [...this.roots, ...(this.options.pathMappings ?? []).map((m) => m.to)];
    return this.locate(frames, addrs, chains).map((r) => r && confineResolution(r, confineTo));
  }

  private locate(
    frames: Frame[],
    addrs: Array<bigint | undefined>,
    chains: ReturnType<typeof parseAddr2line>,
  ): Array<Resolution | undefined> {
    return frames.map((f, i) => {
      const a = addrs[i];
      if (a === undefined) return undefined;
      const chain = chains.get(a);
      if (!chain?.length || chain[0].line === 0) return undefined;
      const located = chain.map((c) => ({
        ...c,
        mapped: mapBuildPath(c.file, this.roots, this.options.pathMappings),
      }));
      const inner = located[0];
      if (!inner.mapped) {
        return {
          frame: f.raw,
          symbol: f.symbol,
          resolvedBy: 'dwarf',
          reason: `DWARF says ${inner.file}:${inner.line}, which is not under the source roots: add a path mapping`,
        } satisfies Resolution;
      }
      const location: Location = { file: inner.mapped, line: inner.line, column: 0 };
      return {
        frame: f.raw,
        symbol: f.symbol,
        location,
        resolvedBy: 'dwarf',
        definition: inner.function,
        inlined:
          located.length > 1
            ? located.map((c) => ({
                file: c.mapped ?? c.file,
                line: c.line,
                column: 0,
                function: c.function,
              }))
            : undefined,
        reason:
          located.length > 1
            ? `inlined: ${located.map((c) => c.function.replace(/\(.*$/, '')).join(' <- ')}`
            : undefined,
      } satisfies Resolution;
    });
  }
}

function squeeze(s: string): string {
  return s.replace(/\s+/g, '');
}

/** `addr2line -a -f -i` output: an address line, then function/file:line pairs, innermost first. */
export function parseAddr2line(
  out: string,
): Map<bigint, Array<{ function: string; file: string; line: number }>> {
  const map = new Map<bigint, Array<{ function: string; file: string; line: number }>>();
  const lines = out.split('\n');
  let current: Array<{ function: string; file: string; line: number }> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^0x[0-9a-fA-F]+$/.test(l)) {
      current = [];
      map.set(BigInt(l), current);
      continue;
    }
    if (!current || !l) continue;
    const loc = lines[i + 1] ?? '';
    const m = /^(.*):(\d+|\?)(?: \(discriminator \d+\))?$/.exec(loc);
    current.push({ function: l, file: m ? m[1] : '??', line: m && m[2] !== '?' ? Number(m[2]) : 0 });
    i++;
  }
  return map;
}
