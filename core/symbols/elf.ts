// Reading a binary's identity and function symbols on a node with binutils' readelf, streamed
// through the node's transport (this machine or SSH): the binary never travels, only its names.
// Which names count follows bpftrace (through bcc): defined FUNC and IFUNC symbols of .symtab and
// .dynsym, and of the separate debug file when the binary is stripped (`.gnu_debuglink`,
// `/usr/lib/debug/.build-id/xx/…`).
import * as path from 'node:path';
import { streamLines, type StreamLimits } from '../nodes/commands';
import type { NodeTransport } from '../nodes/transport';

export interface ElfIdentity {
  binary: string;
  buildId?: string;
  /** Section names (`.symtab`, `.gnu_debuglink`, …). */
  sections: Set<string>;
  /** stapsdt notes as `provider:name`. */
  usdt: string[];
  /** `size:mtime` of the file, the cache key of binaries without a build-id. */
  stamp?: string;
}

/** How symbol reading reaches a node: its transport and how commands get root there. */
export interface NodeAccess {
  transport: NodeTransport;
  privilege?: 'root' | 'sudo';
}

const LIMITS: StreamLimits = { timeoutMs: 120_000, maxBytes: 2 * 1024 * 1024 * 1024 };

async function lines(access: NodeAccess, argv: string[], onLine: (line: string) => void) {
  return streamLines(access.transport, argv, onLine, { ...LIMITS, privilege: access.privilege });
}

/** Build-id, sections and USDT notes from one `readelf -n -S`; throws when it is not ELF. */
export async function identify(access: NodeAccess, binary: string): Promise<ElfIdentity> {
  const id: ElfIdentity = { binary, sections: new Set(), usdt: [] };
  let provider: string | undefined;
  const r = await lines(access, ['readelf', '-W', '-n', '-S', '--', binary], (line) => {
    const section = /^\s*\[\s*\d+\]\s+(\S+)/.exec(line);
    if (section) id.sections.add(section[1]);
    // With -W the value shares the line with the note's header.
    const build = /\bBuild ID:\s*([0-9a-fA-F]+)/.exec(line);
    if (build) id.buildId = build[1].toLowerCase();
    const prov = /\bProvider:\s*(\S+)/.exec(line);
    if (prov) provider = prov[1];
    const name = /^\s*Name:\s*(\S+)/.exec(line);
    if (name && provider !== undefined) {
      id.usdt.push(`${provider}:${name[1]}`);
      provider = undefined;
    }
  });
  if (r.code !== 0 && id.sections.size === 0)
    throw new Error(
      `${binary} on ${access.transport.nodeId}: ${firstLine(r.stderr) || `readelf exit ${r.code}`}`,
    );
  if (!id.buildId) {
    let stamp = '';
    await lines(access, ['stat', '-L', '-c', '%s:%Y', '--', binary], (line) => (stamp ||= line.trim()));
    id.stamp = stamp;
  }
  return id;
}

/**
 * Where the separate debug file of a stripped binary is, as gdb and bcc look: by build-id under
 * /usr/lib/debug/.build-id, then the `.gnu_debuglink` name beside the binary, in its `.debug/`
 * folder and under /usr/lib/debug. Undefined when none exists.
 */
export async function findDebugFile(access: NodeAccess, id: ElfIdentity): Promise<string | undefined> {
  const candidates: string[] = [];
  if (id.buildId && id.buildId.length > 2)
    candidates.push(`/usr/lib/debug/.build-id/${id.buildId.slice(0, 2)}/${id.buildId.slice(2)}.debug`);
  if (id.sections.has('.gnu_debuglink')) {
    let link = '';
    await lines(access, ['readelf', '-W', '-p', '.gnu_debuglink', '--', id.binary], (line) => {
      const m = /^\s*\[\s*0\]\s+(.+)$/.exec(line);
      if (m && !link) link = m[1].trim();
    });
    // A debug link is a file name, never a path: anything else is not followed.
    if (link && !link.includes('/')) {
      const dir = path.posix.dirname(id.binary);
      candidates.push(
        path.posix.join(dir, link),
        path.posix.join(dir, '.debug', link),
        path.posix.join('/usr/lib/debug', dir, link),
      );
    }
  }
  const found = new Set<string>();
  if (candidates.length)
    await lines(access, ['stat', '-L', '-c', '%n', '--', ...candidates], (line) => found.add(line));
  return candidates.find((c) => c !== id.binary && found.has(c));
}

// Fixed text; the files arrive as "$@". The node filters readelf's tables down to defined
// names (versions like `malloc@@GLIBC_2.2.5` cut to the bare name, as bpftrace names them):
// functions (FUNC, IFUNC) as `F name`, data (OBJECT) as `O name`, sorted in byte order without
// duplicates, so functions and data arrive as two sorted runs; a third of the bytes over SSH,
// and the sort runs where the tools are.
const SYMBOL_NAMES = `for f in "$@"; do readelf -W --syms -- "$f"; done |
awk '$7 != "UND" && NF >= 8 && ($4 == "FUNC" || $4 == "IFUNC" || $4 == "OBJECT") {
  n = $8; sub(/@.*/, "", n); if (n != "") print ($4 == "OBJECT" ? "O " : "F ") n }' |
LC_ALL=C sort -u`;

/**
 * Streams the defined function and data names of the .symtab and .dynsym of files (a binary
 * and its debug file), each sorted and unique; an unreadable file is an error only when nothing
 * was listed.
 */
export async function readSymbolNames(
  access: NodeAccess,
  files: string[],
  onFunction: (name: string) => void,
  onData: (name: string) => void,
): Promise<void> {
  let count = 0;
  const r = await lines(access, ['/bin/sh', '-c', SYMBOL_NAMES, 'symbols', ...files], (line) => {
    if (line.length < 3) return;
    count++;
    if (line.startsWith('F ')) onFunction(line.slice(2));
    else if (line.startsWith('O ')) onData(line.slice(2));
  });
  if (count === 0 && r.stderr.trim())
    throw new Error(
      `readelf --syms ${files.join(' ')} on ${access.transport.nodeId}: ${firstLine(r.stderr)}`,
    );
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}
