// What a node's bpftrace will find when a script starts there, read once per node and kernel
// (never per keystroke): `bpftrace --info` (probe types and helpers this bpftrace and kernel
// support), the kprobe-able functions (tracefs `available_filter_functions`, modules too), the
// kernel symbols (`/proc/kallsyms`, for kaddr), and, per binary a script names, whether it
// exists and is an executable or shared object there and what functions it has (the symbol
// cache by build-id). The language server turns these into the errors bpftrace would print.
import type { BinaryFacts, NodeFacts } from '../../common/protocol';
import { SymbolCache } from '../symbols/cache';
import type { SymbolTable } from '../symbols/table';
import { streamLines } from './commands';
import type { NodeProbe } from './probe';
import { shellCommand } from './shell';
import { execOnNode, type NodeTransport } from './transport';
import { nodeInText } from '../../common/nodes';

/** `bpftrace --info` lines `  name: yes|no`, by name (sections do not repeat names). */
export function parseBpftraceInfo(text: string): Record<string, boolean> {
  const features: Record<string, boolean> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([\w:. -]+?):\s+(yes|no)\b/.exec(line);
    if (m) features[m[1].trim()] = m[2] === 'yes';
  }
  return features;
}

const LIST_LIMITS = { timeoutMs: 60_000, maxBytes: 256 * 1024 * 1024 };

/** The node-wide facts; each part that cannot be read says why instead. */
export async function readNodeFacts(transport: NodeTransport, probe: NodeProbe): Promise<NodeFacts> {
  const facts: NodeFacts = {
    nodeId: transport.nodeId,
    kernelRelease: probe.kernelRelease,
    bpftraceVersion: probe.bpftraceVersion,
  };
  const where = nodeInText(transport.nodeId);
  if (!probe.privilege || !probe.bpftracePath) {
    const why = probe.problems.join(' ') || `bpftrace cannot run as root on ${where}`;
    facts.infoProblem = facts.kprobeProblem = facts.kernelSymbolsProblem = why;
    return facts;
  }
  const asRoot = (argv: string[]) => (probe.privilege === 'sudo' ? ['sudo', '-n', '--', ...argv] : argv);

  // --info prints on stderr.
  const info = await execOnNode(transport, shellCommand(asRoot([probe.bpftracePath, '--info'])), {
    timeoutMs: 30_000,
    maxBytes: 1024 * 1024,
  }).catch((error: Error) => ({ code: 1, stdout: '', stderr: error.message }));
  const features = parseBpftraceInfo(info.stderr + '\n' + info.stdout);
  if (Object.keys(features).length) facts.features = features;
  else facts.infoProblem = `\`bpftrace --info\` on ${where} printed no features: ${firstLine(info.stderr)}`;

  if (!probe.tracefs) facts.kprobeProblem = `tracefs is not mounted on ${where}`;
  else {
    const file = `${probe.tracefs}/available_filter_functions`;
    const names: string[] = [];
    const r = await streamLines(transport, ['cat', '--', file], (l) => l && names.push(l), {
      ...LIST_LIMITS,
      privilege: probe.privilege,
    }).catch((error: Error) => ({ code: 1, stderr: error.message, truncated: false }));
    if (r.code === 0 && names.length) facts.kprobeFunctions = names.join('\n');
    else
      facts.kprobeProblem = `${file} is not readable on ${where} (${firstLine(r.stderr) || `exit ${r.code}`})`;
  }

  const symbols: string[] = [];
  const k = await streamLines(
    transport,
    ['cat', '/proc/kallsyms'],
    (line) => {
      // "ffffffff816dbaf0 T vfs_read" or "... t fn\t[module]": the name is the third word.
      const name = line.split(/\s+/, 3)[2];
      if (name) symbols.push(name);
    },
    { ...LIST_LIMITS, privilege: probe.privilege },
  ).catch((error: Error) => ({ code: 1, stderr: error.message, truncated: false }));
  if (k.code === 0 && symbols.length) facts.kernelSymbols = symbols.join('\n');
  else facts.kernelSymbolsProblem = `/proc/kallsyms is not readable on ${where}: ${firstLine(k.stderr)}`;
  return facts;
}

/** Node facts once per node and kernel release, as the tracepoint catalog. */
export class NodeFactsCache {
  private readonly facts = new Map<string, Promise<NodeFacts>>();

  get(transport: NodeTransport, probe: NodeProbe): Promise<NodeFacts> {
    const key = `${transport.nodeId}\n${probe.kernelRelease}`;
    let facts = this.facts.get(key);
    if (!facts) {
      facts = readNodeFacts(transport, probe);
      this.facts.set(key, facts);
      facts.catch(() => this.facts.delete(key));
    }
    return facts;
  }
}

// Fixed text; the targets arrive as "$@". For each target, every candidate path bpftrace would
// try (a `libNAME` through ld.so.cache first, then the word, then PATH when it has no '/'), with
// whether it is ELF, its ELF type and whether it is executable. Nothing is decided here. A target
// with `*` is a glob, as bpftrace's resolve_binary_path expands it (utils.cpp of 0.17,
// util/paths.cpp of 0.26: glob(3) with GLOB_NOCHECK over the same candidates, no ld.so.cache):
// the shell's pathname expansion, with IFS empty so that a path is never split at blanks, keeps
// an unmatched pattern as it is, as GLOB_NOCHECK does.
const RESOLVE = `i=0
for t in "$@"; do
  i=$((i+1))
  set --
  case "$t" in
    *'*'*) ;;
    lib*) so=$(ldconfig -p 2>/dev/null | awk -v w="$t.so" 'index($1, w) != 1 { next }
            /x86-64/ { print $NF; found = 1; exit } !first { first = $NF }
            END { if (!found && first) print first }')
          [ -n "$so" ] && set -- "$so" ;;
  esac
  case "$t" in
    */*) set -- "$@" "$t" ;;
    *) IFS=:; for d in $PATH; do set -- "$@" "$d/$t"; done; unset IFS ;;
  esac
  case "$t" in
    *'*'*) g=$#; IFS=; for c in "$@"; do set -- "$@" $c; done; unset IFS; shift "$g" ;;
  esac
  for c in "$@"; do
    elf=- type=- x=-
    if [ -f "$c" ] && [ -r "$c" ]; then
      if [ "$(od -An -tx1 -N4 -- "$c" 2>/dev/null | tr -d ' \\n')" = 7f454c46 ]; then
        elf=E; type=$(od -An -tu2 -j16 -N2 -- "$c" 2>/dev/null | tr -d ' \\n')
      fi
      [ -x "$c" ] && x=x
    fi
    printf 'C\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$i" "$elf" "$type" "$x" "$c"
  done
done`;

/**
 * The binaries a target resolves to as bpftrace resolves it: the first ELF executable (or
 * shared object) candidate, or for a glob every one it matches (bpftrace keeps them all and
 * matches the function in each). Empty: bpftrace says the target does not exist.
 */
export async function resolveBinaries(
  transport: NodeTransport,
  probe: Pick<NodeProbe, 'privilege'>,
  targets: string[],
): Promise<Map<string, string[]>> {
  const resolved = new Map<string, string[]>(targets.map((t) => [t, []]));
  if (!targets.length) return resolved;
  const argv = ['/bin/sh', '-c', RESOLVE, 'resolve', ...targets];
  await streamLines(
    transport,
    argv,
    (line) => {
      const [tag, index, elf, type, x, ...rest] = line.split('\t');
      const target = targets[Number(index) - 1];
      const paths = target === undefined ? undefined : resolved.get(target);
      if (tag !== 'C' || !paths || (paths.length && !isGlob(target!))) return;
      // bcc: an ELF file that is executable, or a shared object (ET_DYN) even when it is not.
      if (elf === 'E' && (x === 'x' || type === '3')) paths.push(rest.join('\t'));
    },
    { timeoutMs: 30_000, maxBytes: 4 * 1024 * 1024, privilege: probe.privilege },
  );
  return resolved;
}

/** bpftrace expands a binary target as a glob only when it has a `*`. */
export function isGlob(target: string): boolean {
  return target.includes('*');
}

/**
 * Facts of the binaries a script names (as written: a path, a PATH name or `libNAME`): where
 * they resolve, and their function symbols through the symbol cache by build-id. A binary whose
 * symbols cannot be read is still reported as existing, with the reason.
 */
export async function readBinaryFacts(
  transport: NodeTransport,
  probe: Pick<NodeProbe, 'privilege'>,
  targets: string[],
  symbols: SymbolCache,
): Promise<Array<{ facts: BinaryFacts; table?: SymbolTable; tables?: SymbolTable[] }>> {
  const resolved = await resolveBinaries(transport, probe, targets);
  const where = nodeInText(transport.nodeId);
  return Promise.all(
    targets.map(async (target) => {
      const paths = resolved.get(target) ?? [];
      if (!paths.length) return { facts: { target, exists: false } };
      if (paths.length > 1)
        return globFacts({ transport, privilege: probe.privilege }, target, paths, symbols);
      const path = paths[0];
      try {
        const table = await symbols.tableFor({ transport, privilege: probe.privilege }, path);
        return {
          table,
          facts: {
            target,
            exists: true,
            path,
            symbolKey: table.meta.key,
            noSymbols: table.meta.noSymbols,
            usdt: table.meta.usdt,
          },
        };
      } catch (error) {
        return {
          facts: {
            target,
            exists: true,
            path,
            symbolsProblem: `the symbols of ${path} could not be read on ${where}: ${(error as Error).message}`,
          },
        };
      }
    }),
  );
}

/**
 * Binaries of one glob whose functions are read: bpftrace lists every matched binary's function
 * symbols and matches `target:function` in them (probe_matcher.cpp get_func_symbols_from_file of
 * 0.17, func_symbols_for_path of 0.26). Past this many the functions are not checked.
 */
export const GLOB_TABLES_MAX = 16;

/** A glob over several binaries: the function tables of each, when all of them can be read. */
async function globFacts(
  access: { transport: NodeTransport; privilege: NodeProbe['privilege'] },
  target: string,
  paths: string[],
  symbols: SymbolCache,
): Promise<{ facts: BinaryFacts; tables?: SymbolTable[] }> {
  const facts: BinaryFacts = { target, exists: true, matched: paths.length };
  if (paths.length > GLOB_TABLES_MAX) return { facts };
  try {
    const tables: SymbolTable[] = [];
    // One at a time: each read is a command on the node, bounded by the symbol cache's limits.
    for (const path of paths) tables.push(await symbols.tableFor(access, path));
    // USDT probes likewise: every matched binary's notes (probe_matcher.cpp get_symbols_from_usdt).
    const usdt = [...new Set(tables.flatMap((t) => t.meta.usdt))];
    return { facts: { ...facts, symbolKeys: tables.map((t) => t.meta.key), usdt }, tables };
  } catch (error) {
    const where = nodeInText(access.transport.nodeId);
    return {
      facts: {
        ...facts,
        symbolsProblem: `a binary it matches could not be read on ${where}: ${(error as Error).message}`,
      },
    };
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}
