// Generates server/catalog/kernel-catalog.json from this machine's kernel: the tracepoints with
// their fields (`bpftrace -lv 'tracepoint:*'`, or tracefs format files when bpftrace is missing),
// struct layouts and enum constants from BTF (`bpftool btf dump ... format c`).
// Usage: npm run gen:catalog [-- --out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { parseListing } from '../server/catalog/listing';
import { type CatalogData, CATALOG_FORMAT } from '../server/catalog/data';

/** Structs a script commonly casts to; every struct named by a tracepoint field is added. */
const WANTED_STRUCTS = [
  'sockaddr',
  'sockaddr_in',
  'sockaddr_in6',
  'sockaddr_un',
  'sockaddr_storage',
  'in_addr',
  'in6_addr',
  'sock',
  'sock_common',
  'socket',
  'inet_sock',
  'tcp_sock',
  'inet_connection_sock',
  'request_sock',
  'task_struct',
  'mm_struct',
  'file',
  'path',
  'dentry',
  'qstr',
  'inode',
  'super_block',
  'vfsmount',
  'sk_buff',
  'msghdr',
  'user_msghdr',
  'iovec',
  'iov_iter',
  'kiocb',
  'linger',
  'timespec64',
  '__kernel_timespec',
  'pt_regs',
  'cred',
  'nsproxy',
  'pid_namespace',
  'net',
  'net_device',
  'files_struct',
  'fdtable',
  'bio',
  'request',
  'page',
  'vm_area_struct',
  'filename',
  'linux_binprm',
  'rq',
  'cgroup',
  'css_set',
  'kernfs_node',
  'signal_struct',
  'epoll_event',
  'pollfd',
  'rusage',
  'stat',
  'statx',
  'open_how',
  'sched_param',
  'rlimit64',
  'sigaction',
  'utsname',
  'new_utsname',
];

function tracepointListing(): string {
  try {
    return execFileSync('bpftrace', ['-lv', 'tracepoint:*'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return listingFromTracefs('/sys/kernel/tracing/events');
  }
}

/** The same text `bpftrace -lv` prints, built from tracefs format files (common_* dropped). */
function listingFromTracefs(root: string): string {
  if (!existsSync(root) || readdirSync(root).length === 0) {
    throw new Error(`neither bpftrace nor ${root} is available (mount tracefs as root)`);
  }
  const out: string[] = [];
  for (const category of readdirSync(root).sort()) {
    // ftrace's own events are not tracepoints: bpftrace does not list them either.
    if (category === 'ftrace') continue;
    const dir = join(root, category);
    let events: string[];
    try {
      events = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const event of events) {
      const format = join(dir, event, 'format');
      if (!existsSync(format)) continue;
      out.push(`tracepoint:${category}:${event}`);
      for (const m of readFileSync(format, 'utf8').matchAll(/^\s*field:([^;]+);\s*offset:(\d+);/gm)) {
        if (Number(m[2]) < 8 && /\bcommon_/.test(m[1])) continue;
        out.push(`    ${m[1].trim()}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

interface ParsedStruct {
  members: Array<[string, string]>;
}

/** Parses the struct/union definitions and enumerators out of bpftool's C dump. */
function parseBtfDump(text: string): { structs: Map<string, ParsedStruct>; enums: Map<string, number> } {
  const lines = text.split('\n');
  const structs = new Map<string, ParsedStruct>();
  const enums = new Map<string, number>();
  let i = 0;
  // Reads members until the closing brace of the current record; returns the closing line.
  const readBody = (owner: string, into: ParsedStruct): string => {
    for (; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line.startsWith('}')) return line;
      const nested = /^(struct|union)\s*\{$/.exec(line);
      if (nested) {
        i++;
        const inner: ParsedStruct = { members: [] };
        const close = readBody(`${owner}.?`, inner);
        const name = /^\}(?:\s*__attribute__\(\(.*?\)\))?\s*(\w+)?((?:\[\d*\])*)\s*;/.exec(close);
        if (name?.[1]) {
          const synthetic = `${owner}.${name[1]}`;
          structs.set(synthetic, inner);
          into.members.push([name[1], `${nested[1]} ${synthetic}${name[2] ?? ''}`]);
        } else {
          // Members of an anonymous struct/union are reached as if they were the parent's.
          into.members.push(...inner.members);
        }
        continue;
      }
      const member = parseMember(line);
      if (member) into.members.push(member);
    }
    return '};';
  };
  for (; i < lines.length; i++) {
    const line = lines[i];
    const record = /^(struct|union) (\w+) \{$/.exec(line);
    if (record) {
      i++;
      const parsed: ParsedStruct = { members: [] };
      readBody(record[2], parsed);
      if (!structs.has(record[2])) structs.set(record[2], parsed);
      continue;
    }
    const enumerator = /^\t(\w+) = (-?\d+),?$/.exec(line);
    if (enumerator) enums.set(enumerator[1], Number(enumerator[2]));
  }
  return { structs, enums };
}

function parseMember(line: string): [string, string] | undefined {
  let decl = line
    .replace(/;$/, '')
    .replace(/\s*__attribute__\(\(.*\)\)/, '')
    .trim();
  if (!decl || decl.startsWith('#')) return undefined;
  decl = decl.replace(/\s*:\s*\d+$/, '');
  const fnPointer = /\(\*\s*(\w+)\)/.exec(decl);
  if (fnPointer) return [fnPointer[1], decl.replace(fnPointer[0], '(*)').replace(/\s+/g, ' ')];
  const m = /^(.*?)\s*(\**)\s*(\w+)((?:\[\d*\])*)$/.exec(decl);
  if (!m || !m[1]) return undefined;
  const type = `${m[1]}${m[2] ? ` ${m[2]}` : ''}${m[4]}`;
  return [m[3], type];
}

function structNamesIn(type: string): string[] {
  return [...type.matchAll(/\b(?:struct|union) ([\w.]+)/g)].map((m) => m[1]);
}

function main(): void {
  const outIndex = process.argv.indexOf('--out');
  const out =
    outIndex > 0 ? process.argv[outIndex + 1] : join(__dirname, '../server/catalog/kernel-catalog.json');
  const kernel = release();
  const tracepoints = parseListing(tracepointListing());
  const dump = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const btf = parseBtfDump(dump);

  // Field lists repeat a lot (every sys_enter_* with one fd): store each distinct list once.
  const fieldSets: string[] = [];
  const setIndex = new Map<string, number>();
  const tp: Record<string, Record<string, number>> = {};
  const wanted = new Set(WANTED_STRUCTS);
  for (const [key, fields] of tracepoints) {
    const [category, event] = key.split(':');
    const joined = fields.map((f) => f.line).join(';');
    let index = setIndex.get(joined);
    if (index === undefined) {
      index = fieldSets.push(joined) - 1;
      setIndex.set(joined, index);
    }
    (tp[category] ??= {})[event] = index;
    for (const f of fields) for (const s of structNamesIn(f.type)) wanted.add(s);
  }
  // Nested named records (`in6_addr.in6_u`) travel with their parent.
  const structs: Record<string, Array<[string, string]>> = {};
  const queue = [...wanted];
  while (queue.length) {
    const name = queue.shift()!;
    if (structs[name]) continue;
    const parsed = btf.structs.get(name);
    if (!parsed) continue;
    structs[name] = parsed.members;
    for (const [, type] of parsed.members)
      for (const s of structNamesIn(type)) if (s.includes('.')) queue.push(s);
  }
  const enums = [...btf.enums].map(([n, v]) => `${n}=${v}`).join(',');
  const data: CatalogData = {
    format: CATALOG_FORMAT,
    kernel,
    source: "bpftrace -lv 'tracepoint:*' + bpftool btf dump file /sys/kernel/btf/vmlinux format c",
    fieldSets,
    tracepoints: tp,
    structs,
    enums,
  };
  const json = JSON.stringify(data);
  writeFileSync(out, json + '\n');
  const count = Object.values(tp).reduce((n, e) => n + Object.keys(e).length, 0);
  console.log(
    `${out}: kernel ${kernel}, ${count} tracepoints (${fieldSets.length} distinct field lists), ` +
      `${Object.keys(structs).length} structs, ${btf.enums.size} enum constants, ${(json.length / 1024).toFixed(0)} KiB`,
  );
}

main();
