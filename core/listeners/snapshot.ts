// A node snapshot of one process without tracing: the listening sockets of its network namespace
// (/proc/<pid>/net/tcp{,6}, backlogs from `ss -ltnH`), its fd table (/proc/<pid>/fd) and its
// thread names (/proc/<pid>/task/*/comm). It seeds
// the listener state when the trace attaches after start, and shows where trace and kernel disagree.
import { isFiniteNumber, isRecord } from '../../common/guards';
import { readdir, readFile, readlink } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import type { SnapshotListener, SnapshotRecord, SocketAddress } from '../../common/events';
import { type CommandRunner, localRunner } from '../nodes/commands';
import { LOCAL_NODE } from '../../common/nodes';

export type SsListener = SnapshotListener;
export type SsUser = SnapshotListener['users'][number];

export interface ProcessSnapshot {
  node: string;
  pid: number;
  /** ISO time the snapshot was taken. */
  takenAt: string;
  listeners: SsListener[];
  /** fd → socket inode, for the fds of the process that are sockets. */
  fdInodes: Map<number, number>;
  threads: { tid: number; comm: string }[];
  /** The parent process (`PPid` of /proc/PID/status), when it could be read. */
  ppid?: number;
}

/** `PPid:` of /proc/PID/status. */
export function parsePpid(status: string): number | undefined {
  const m = /^PPid:\s*(\d{1,10})\s*$/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

const NETIDS = new Set(['tcp', 'udp', 'raw', 'u_str', 'u_dgr', 'u_seq', 'sctp', 'mptcp', 'tcp6', 'udp6']);

/** Parses `HOST:PORT`, `[V6]:PORT`, `*:PORT`, `ADDR%IFACE:PORT` as ss prints them. */
export function parseSsAddress(text: string, netid?: string): SocketAddress | undefined {
  if (netid?.startsWith('u_')) return { family: 'unix', address: text === '*' ? '' : text, port: 0 };
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  host = host.replace(/%[^\]]*$/, '').replace(/%[^\]]*(?=\])/, '');
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(inner);
    return v4 ? { family: 'inet', address: v4[1], port } : { family: 'inet6', address: inner, port };
  }
  if (host === '*') return { family: 'inet6', address: '::', port };
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return { family: 'inet', address: host, port };
  if (host.includes(':')) return { family: 'inet6', address: host, port };
  return undefined;
}

/** `users:(("envoy",pid=2062496,fd=37),("envoy",pid=2062496,fd=38))` → its entries. */
export function parseSsUsers(text: string): SsUser[] {
  const users: SsUser[] = [];
  const re = /\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)/g;
  for (let m = re.exec(text); m; m = re.exec(text))
    users.push({ comm: m[1], pid: Number(m[2]), fd: Number(m[3]) });
  return users;
}

/**
 * Parses the output of `ss -ltnpe` (or `-lnp`, `-ltnp`, with or without the Netid column). Lines
 * it cannot read are returned in `skipped` with nothing guessed.
 */
export function parseSs(output: string): { listeners: SsListener[]; skipped: string[] } {
  const listeners: SsListener[] = [];
  const skipped: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line || /^(Netid\s+)?State\s+Recv-Q/.test(line)) continue;
    const fields = line.split(/\s+/);
    let i = 0;
    let netid: string | undefined;
    if (NETIDS.has(fields[0])) netid = fields[i++];
    const state = fields[i++];
    const recvQ = Number(fields[i++]);
    const sendQ = Number(fields[i++]);
    const localText = fields[i++];
    i++; // peer
    if (
      !state ||
      !/^[A-Z-]+$/.test(state) ||
      !Number.isFinite(recvQ) ||
      !Number.isFinite(sendQ) ||
      !localText
    ) {
      skipped.push(raw);
      continue;
    }
    const local = parseSsAddress(localText, netid);
    if (!local) {
      skipped.push(raw);
      continue;
    }
    const rest = fields.slice(i).join(' ');
    const inode = /\bino:(\d+)/.exec(rest);
    const entry: SsListener = { state, backlog: sendQ, local, users: parseSsUsers(rest) };
    if (netid) entry.netid = netid;
    if (inode) entry.inode = Number(inode[1]);
    listeners.push(entry);
  }
  return { listeners, skipped };
}

/** `N socket:[INODE]` lines (or the targets of /proc/<pid>/fd links) → fd → inode. */
export function parseFdLinks(entries: Iterable<[number, string]>): Map<number, number> {
  const map = new Map<number, number>();
  for (const [fd, target] of entries) {
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) map.set(fd, Number(m[1]));
  }
  return map;
}

// Bounds on what one snapshot holds, whatever the node sends.
const MAX_FDS = 1 << 20;
const MAX_THREADS = 1 << 16;
const MAX_SOCKETS = 1 << 16;

/** A 32-bit word of /proc/net/tcp: the kernel prints the network-order bytes as a host-order word. */
function wordBytes(hex: string): number[] {
  const word = parseInt(hex, 16);
  const bytes = [(word >>> 24) & 255, (word >>> 16) & 255, (word >>> 8) & 255, word & 255];
  return os.endianness() === 'LE' ? bytes.reverse() : bytes;
}

/**
 * The listening sockets of `/proc/<pid>/net/tcp` and `tcp6` (the kernel's fixed hex table of the
 * process's network namespace): address, port and inode. Nothing in it is text a process chose,
 * unlike `ss -p` (process names printed raw) or `ss -e` (cgroup paths printed raw).
 */
export function parseProcNetTcp(text: string): { local: SocketAddress; inode: number }[] {
  const out: { local: SocketAddress; inode: number }[] = [];
  for (const line of text.split('\n')) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = line.trim().split(/\s+/);
    const local = /^([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})$/.exec(f[1] ?? '');
    if (!/^\d+:$/.test(f[0] ?? '') || !local || f[3] !== '0A' || !/^\d{1,12}$/.test(f[9] ?? '')) continue;
    const [, hex, portHex] = local;
    const inodeText = f[9] ?? '';
    const bytes = (hex.match(/.{8}/g) ?? []).flatMap(wordBytes);
    const port = parseInt(portHex, 16);
    let address: SocketAddress;
    if (bytes.length === 4) address = { family: 'inet', address: bytes.join('.'), port };
    else {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
      const text6 = new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
      const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text6);
      address = v4 ? { family: 'inet', address: v4[1], port } : { family: 'inet6', address: text6, port };
    }
    out.push({ local: address, inode: Number(inodeText) });
    if (out.length >= MAX_SOCKETS) break;
  }
  return out;
}

/**
 * The snapshot from trusted shapes only: listening sockets from the kernel's hex table, their fds
 * from the process's own fd links (by inode), the backlog from `ss -ltnH` (numbers only, no -p or
 * -e), joined by address.
 */
function snapshotOf(
  node: string,
  pid: number,
  ssNumeric: string,
  procNet: string,
  links: [number, string][],
  threads: { tid: number; comm: string }[],
  ppid: number | undefined,
): ProcessSnapshot {
  const fdInodes = parseFdLinks(links);
  const fdsByInode = new Map<number, number[]>();
  for (const [fd, inode] of fdInodes) fdsByInode.set(inode, [...(fdsByInode.get(inode) ?? []), fd]);
  const backlogs = new Map<string, number>();
  for (const l of parseSs(ssNumeric).listeners) backlogs.set(`${l.local.address}|${l.local.port}`, l.backlog);
  const comm = threads.find((t) => t.tid === pid)?.comm ?? '';
  const listeners: SsListener[] = parseProcNetTcp(procNet).map(({ local, inode }) => ({
    netid: 'tcp',
    state: 'LISTEN',
    backlog: backlogs.get(`${local.address}|${local.port}`) ?? -1,
    local,
    users: (fdsByInode.get(inode) ?? []).map((fd) => ({ comm, pid, fd })),
    inode,
  }));
  const snap: ProcessSnapshot = {
    node,
    pid,
    takenAt: new Date().toISOString(),
    listeners,
    fdInodes,
    threads,
  };
  if (ppid !== undefined) snap.ppid = ppid;
  return snap;
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 4194304) throw new Error(`not a process id: ${pid}`);
}

const ssNumericArgv = (pid: number) => ['nsenter', '-t', String(pid), '-n', 'ss', '-ltnH'];

/**
 * Takes a snapshot of a process on this machine: the listening sockets of its network namespace
 * (as a pod's), then its fds and thread names, all from /proc.
 */
export async function takeLocalSnapshot(
  pid: number,
  node = LOCAL_NODE,
  run: CommandRunner = localRunner,
): Promise<ProcessSnapshot> {
  checkPid(pid);
  const ss = await run(ssNumericArgv(pid));
  const procNet = (
    await Promise.all(['tcp', 'tcp6'].map((n) => readFile(`/proc/${pid}/net/${n}`, 'latin1').catch(() => '')))
  ).join('');
  const fdDir = `/proc/${pid}/fd`;
  const links: [number, string][] = [];
  for (const name of (await readdir(fdDir)).slice(0, MAX_FDS)) {
    const target = await readlink(`${fdDir}/${name}`).catch(() => '');
    links.push([Number(name), target]);
  }
  const threads: { tid: number; comm: string }[] = [];
  for (const name of (await readdir(`/proc/${pid}/task`)).slice(0, MAX_THREADS)) {
    const comm = await readFile(`/proc/${pid}/task/${name}/comm`, 'utf8').catch(() => undefined);
    if (comm !== undefined) threads.push({ tid: Number(name), comm: comm.replace(/\n$/, '') });
  }
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return snapshotOf(node, pid, ss, procNet, links, threads, parsePpid(status));
}

// One record per fd, thread and socket table, every field ended by a NUL: file names and thread
// names may hold newlines (or anything but NUL and, for names, `/`), so no line format can carry
// them. $1 is the pid (a checked integer), passed as an argument, never pasted in.
const REMOTE_SNAPSHOT = [
  'cd "/proc/$1" || exit 1',
  `for f in fd/*; do printf 'fd\\0%s\\0' "\${f#fd/}"; readlink -n -- "$f"; printf '\\0'; done`,
  `for t in task/*; do printf 'task\\0%s\\0' "\${t#task/}"; cat -- "$t/comm"; printf '\\0'; done`,
  `for n in tcp tcp6; do printf 'net\\0%s\\0' "$n"; cat -- "net/$n" 2>/dev/null; printf '\\0'; done`,
  `printf 'status\\0%s\\0' "$1"; grep -m1 '^PPid:' status; printf '\\0'`,
].join('\n');

/** The records of REMOTE_SNAPSHOT: `kind\0key\0value\0` each; a cut last record is dropped. */
export function parseSnapshotRecords(out: string): {
  links: [number, string][];
  threads: { tid: number; comm: string }[];
  procNet: string;
  ppid?: number;
} {
  const fields = out.split('\0');
  const links: [number, string][] = [];
  const threads: { tid: number; comm: string }[] = [];
  let procNet = '';
  let ppid: number | undefined;
  for (let i = 0; i + 3 < fields.length; i += 3) {
    const [kind, key, value] = [fields[i], fields[i + 1], fields[i + 2]];
    if (kind === 'net' && (key === 'tcp' || key === 'tcp6')) {
      if (procNet.length < 16 * 1024 * 1024) procNet += value;
      continue;
    }
    if (!/^\d{1,10}$/.test(key)) continue;
    if (kind === 'status') ppid = parsePpid(value);
    else if (kind === 'fd' && links.length < MAX_FDS) links.push([Number(key), value]);
    else if (kind === 'task' && threads.length < MAX_THREADS)
      threads.push({ tid: Number(key), comm: value.replace(/\n$/, '') });
  }
  return ppid === undefined ? { links, threads, procNet } : { links, threads, procNet, ppid };
}

/** The same snapshot on a remote node through a command runner (e.g. SSH). */
export async function takeRemoteSnapshot(
  pid: number,
  node: string,
  run: CommandRunner,
): Promise<ProcessSnapshot> {
  checkPid(pid);
  const ss = await run(ssNumericArgv(pid));
  const { links, threads, procNet, ppid } = parseSnapshotRecords(
    await run(['sh', '-c', REMOTE_SNAPSHOT, 'snapshot', String(pid)]),
  );
  return snapshotOf(node, pid, ss, procNet, links, threads, ppid);
}

/**
 * The JSON form of a snapshot, as a session log carries it, keeping only the listeners that one
 * of `pids` holds (a node's network namespace may list many more).
 */
export function snapshotRecord(
  snap: ProcessSnapshot,
  pids: ReadonlySet<number> = new Set([snap.pid]),
): SnapshotRecord {
  const record: SnapshotRecord = {
    pid: snap.pid,
    takenAt: snap.takenAt,
    listeners: snap.listeners.filter((l) => l.users.some((u) => pids.has(u.pid))),
    fdInodes: [...snap.fdInodes],
    threads: snap.threads,
  };
  if (snap.ppid !== undefined) record.ppid = snap.ppid;
  return record;
}

/** A snapshot read back from its JSON form. */
export function snapshotFromRecord(node: string, record: SnapshotRecord): ProcessSnapshot {
  const snap: ProcessSnapshot = {
    node,
    pid: record.pid,
    takenAt: record.takenAt,
    listeners: record.listeners,
    fdInodes: new Map(record.fdInodes),
    threads: record.threads,
  };
  if (record.ppid !== undefined) snap.ppid = record.ppid;
  return snap;
}

/** Whether a value read from a log is a snapshot record (every field the reducer reads). */
export function isSnapshotRecord(v: unknown): v is SnapshotRecord {
  if (!isRecord(v) || !isFiniteNumber(v.pid) || typeof v.takenAt !== 'string') return false;
  if (v.ppid !== undefined && !(isFiniteNumber(v.ppid) && Number.isInteger(v.ppid))) return false;
  if (!Array.isArray(v.listeners) || !Array.isArray(v.fdInodes) || !Array.isArray(v.threads)) return false;
  const listener = (l: unknown) =>
    isRecord(l) &&
    typeof l.state === 'string' &&
    isFiniteNumber(l.backlog) &&
    (l.inode === undefined || isFiniteNumber(l.inode)) &&
    isRecord(l.local) &&
    typeof l.local.family === 'string' &&
    typeof l.local.address === 'string' &&
    isFiniteNumber(l.local.port) &&
    Array.isArray(l.users) &&
    l.users.every(
      (u) => isRecord(u) && typeof u.comm === 'string' && isFiniteNumber(u.pid) && isFiniteNumber(u.fd),
    );
  return (
    v.listeners.every(listener) &&
    v.fdInodes.every(
      (p) => Array.isArray(p) && p.length === 2 && isFiniteNumber(p[0]) && isFiniteNumber(p[1]),
    ) &&
    v.threads.every((t) => isRecord(t) && isFiniteNumber(t.tid) && typeof t.comm === 'string')
  );
}
