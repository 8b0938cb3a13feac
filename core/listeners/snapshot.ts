// A node snapshot of one process without tracing: `ss -ltnpe` run inside the process's network
// namespace, its fd table (/proc/<pid>/fd) and its thread names (/proc/<pid>/task/*/comm). It seeds
// the listener state when the trace attaches after start, and shows where trace and kernel disagree.
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { SocketAddress } from '../../common/events';
import { type CommandRunner, localRunner } from '../nodes/commands';

export interface SsUser {
  comm: string;
  pid: number;
  fd: number;
}

export interface SsListener {
  netid?: string;
  state: string;
  /** Send-Q of a listening socket: its backlog. */
  backlog: number;
  local: SocketAddress;
  users: SsUser[];
  inode?: number;
}

export interface ProcessSnapshot {
  node: string;
  pid: number;
  /** ISO time the snapshot was taken. */
  takenAt: string;
  listeners: SsListener[];
  /** fd → socket inode, for the fds of the process that are sockets. */
  fdInodes: Map<number, number>;
  threads: { tid: number; comm: string }[];
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

function snapshotOf(
  node: string,
  pid: number,
  ss: string,
  links: [number, string][],
  threads: { tid: number; comm: string }[],
): ProcessSnapshot {
  return {
    node,
    pid,
    takenAt: new Date().toISOString(),
    listeners: parseSs(ss).listeners,
    fdInodes: parseFdLinks(links),
    threads,
  };
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 4194304) throw new Error(`not a process id: ${pid}`);
}

/**
 * Takes a snapshot of a process on this machine: `nsenter -t PID -n ss -ltnpe` (its network
 * namespace, as a pod's), then its fds and thread names from /proc.
 */
export async function takeLocalSnapshot(
  pid: number,
  node = 'local',
  run: CommandRunner = localRunner,
): Promise<ProcessSnapshot> {
  checkPid(pid);
  const ss = await run(['nsenter', '-t', String(pid), '-n', 'ss', '-ltnpe']);
  const fdDir = `/proc/${pid}/fd`;
  const links: [number, string][] = [];
  for (const name of await readdir(fdDir)) {
    const target = await readlink(`${fdDir}/${name}`).catch(() => '');
    links.push([Number(name), target]);
  }
  const threads: { tid: number; comm: string }[] = [];
  for (const name of await readdir(`/proc/${pid}/task`)) {
    const comm = await readFile(`/proc/${pid}/task/${name}/comm`, 'utf8').catch(() => undefined);
    if (comm !== undefined) threads.push({ tid: Number(name), comm: comm.replace(/\n$/, '') });
  }
  return snapshotOf(node, pid, ss, links, threads);
}

/**
 * The same snapshot on a remote node through a command runner (e.g. SSH). The pid is a checked
 * integer, so the one shell line below carries no user text.
 */
export async function takeRemoteSnapshot(
  pid: number,
  node: string,
  run: CommandRunner,
): Promise<ProcessSnapshot> {
  checkPid(pid);
  const ss = await run(['nsenter', '-t', String(pid), '-n', 'ss', '-ltnpe']);
  const script =
    `cd /proc/${pid} || exit 1; for f in fd/*; do printf 'fd %s %s\\n' "\${f#fd/}" "$(readlink "$f")"; done; ` +
    `for t in task/*; do printf 'task %s %s\\n' "\${t#task/}" "$(cat "$t/comm")"; done`;
  const out = await run(['sh', '-c', script]);
  const links: [number, string][] = [];
  const threads: { tid: number; comm: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^(fd|task) (\d+) (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'fd') links.push([Number(m[2]), m[3]]);
    else threads.push({ tid: Number(m[2]), comm: m[3] });
  }
  return snapshotOf(node, pid, ss, links, threads);
}
