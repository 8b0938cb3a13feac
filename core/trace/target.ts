// What the user types to say which process the listener trace follows, and how a container is
// turned into the cgroup id bpftrace's `cgroup` builtin compares with:
//   envoy                      every process whose main thread is named envoy
//   4242                       the process 4242
//   container:4242             every process in the container (cgroup v2) of process 4242
//   envoy@container:4242       the processes named envoy in that container (a pod's sidecar)
import type { CommandRunner } from '../nodes/commands';
import { pidsNamed } from '../nodes/processes';
import type { ListenerTraceTarget } from './listener-script';

export interface TargetSpec {
  comm?: string;
  pid?: number;
  /** A process whose cgroup v2 (its container) selects the traced processes. */
  containerOf?: number;
}

export const TARGET_SYNTAX = 'a process name (envoy), a pid, container:PID or NAME@container:PID';

const PID = /^[1-9]\d{0,9}$/;

/** Reads a target as typed; a message saying what is wrong otherwise. */
export function parseTargetSpec(text: string): TargetSpec | { error: string } {
  const t = text.trim();
  if (!t) return { error: `give ${TARGET_SYNTAX}` };
  const container = /^(?:(.*)@)?container:(.*)$/.exec(t);
  if (container) {
    const [, comm, pid = ''] = container;
    if (!PID.test(pid))
      return { error: `container: wants the pid of a process in the container, got '${pid}'` };
    if (comm !== undefined && !comm.trim()) return { error: 'the name before @container: is empty' };
    return { ...(comm !== undefined ? { comm: comm.trim() } : {}), containerOf: Number(pid) };
  }
  if (/^\d+$/.test(t)) return PID.test(t) ? { pid: Number(t) } : { error: `not a process id: ${t}` };
  return { comm: t };
}

/** How a target reads in session titles: `envoy in the container of 4242`. */
export function describeTarget(spec: TargetSpec): string {
  const who = spec.comm ?? (spec.pid !== undefined ? `pid ${spec.pid}` : 'all processes');
  return spec.containerOf !== undefined ? `${who} in the container of ${spec.containerOf}` : who;
}

/** The cgroup v2 path of a process from its `/proc/PID/cgroup` (the `0::` line). */
export function cgroupV2Path(procCgroup: string): string | undefined {
  for (const line of procCgroup.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim() || undefined;
  }
  return undefined;
}

/** Where the cgroup v2 hierarchy is mounted, from `/proc/self/mounts` (unified or hybrid). */
export function cgroupV2Mount(mounts: string): string | undefined {
  const points = mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup2' && f[1])
    .map((f) => (f[1] as string).replace(/\\040/g, ' '));
  // A unified system mounts it on /sys/fs/cgroup, a hybrid one on /sys/fs/cgroup/unified.
  return (
    points.find((p) => p === '/sys/fs/cgroup') ??
    points.find((p) => p.startsWith('/sys/fs/cgroup')) ??
    points[0]
  );
}

export interface ResolvedContainer {
  /** The cgroup v2 path, e.g. `/kubepods.slice/…/cri-containerd-<id>.scope`. */
  path: string;
  /** Its id, what bpftrace's `cgroup` builtin returns for the processes inside. */
  id: number;
}

/**
 * The container (cgroup v2) of `pid` on the node: its path from /proc, its id from the inode of
 * its directory in the cgroup2 mount, as the kernel numbers cgroups.
 */
export async function resolveContainer(run: CommandRunner, pid: number): Promise<ResolvedContainer> {
  const procCgroup = await run(['cat', `/proc/${pid}/cgroup`]).catch((error: unknown) => {
    throw new Error(
      `process ${pid} on the node cannot be read (${error instanceof Error ? error.message : String(error)}): is it running?`,
    );
  });
  const cgroupPath = cgroupV2Path(procCgroup);
  if (!cgroupPath) throw new Error(`process ${pid} has no cgroup v2 entry: this kernel runs cgroup v1 only`);
  if (cgroupPath === '/')
    throw new Error(`process ${pid} is in the root cgroup, not in a container: trace it by pid or by name`);
  if (cgroupPath.split('/').includes('..') || /[\n\0]/.test(cgroupPath))
    throw new Error(`process ${pid} has an unexpected cgroup path: ${JSON.stringify(cgroupPath)}`);
  const mount = cgroupV2Mount(await run(['cat', '/proc/self/mounts']));
  if (!mount) throw new Error('no cgroup2 file system is mounted on the node');
  const inode = (await run(['stat', '-c', '%i', `${mount}${cgroupPath}`])).trim();
  if (!/^\d+$/.test(inode)) throw new Error(`cannot read the id of cgroup ${cgroupPath}: '${inode}'`);
  return { path: cgroupPath, id: Number(inode) };
}

export interface ResolvedTarget {
  target: ListenerTraceTarget;
  /** Processes of a name target already running: the script adopts them at BEGIN. */
  runningPids: number[];
  container?: ResolvedContainer;
}

/** The listener trace target of a spec: the container and the running processes looked up on the node. */
export async function resolveTarget(spec: TargetSpec, run: CommandRunner): Promise<ResolvedTarget> {
  const runningPids =
    spec.comm !== undefined && spec.pid === undefined ? await pidsNamed(run, spec.comm) : [];
  if (spec.containerOf === undefined) return { target: { comm: spec.comm, pid: spec.pid }, runningPids };
  const container = await resolveContainer(run, spec.containerOf);
  return { target: { comm: spec.comm, cgroupId: container.id }, runningPids, container };
}

/** What the pickers need to offer for one process: its main thread's name and its container. */
export async function describeProcess(
  run: CommandRunner,
  pid: number,
): Promise<{ pid: number; comm: string; container?: ResolvedContainer }> {
  const comm = (await run(['cat', `/proc/${pid}/comm`])).trim();
  // Not in a container (root cgroup, cgroup v1 only, gone): the pid is the target.
  const container = await resolveContainer(run, pid).catch(() => undefined);
  return { pid, comm, ...(container ? { container } : {}) };
}

/** The processes of a resolved target that already run on the node (a pid, or a name's matches). */
export function targetPids(resolved: ResolvedTarget): number[] {
  return resolved.target.pid !== undefined ? [resolved.target.pid] : resolved.runningPids;
}
