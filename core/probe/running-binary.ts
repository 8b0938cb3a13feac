// Which file a process on a node really runs: /proc/PID/exe read there through the command
// runner. A process in a container sees its own mount namespace, so its binary is named through
// /proc/PID/root (which bpftrace and readelf on the host can open); a host process by its path.
import type { CommandRunner } from '../nodes/commands';

export interface RunningBinary {
  /** The path to attach uprobes to and read symbols from, on the node. */
  path: string;
  /** The path inside the process's own root (the same as `path` for a host process). */
  inProcess: string;
  /** Set when the file was replaced or removed after the process started. */
  deleted?: boolean;
}

export async function runningBinary(run: CommandRunner, pid: number): Promise<RunningBinary> {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a process id: ${pid}`);
  const link = (p: string) => run(['readlink', '--', p], { timeoutMs: 10_000, maxBytes: 64 * 1024 });
  const exe = (await link(`/proc/${pid}/exe`)).replace(/\n$/, '');
  const root = (await link(`/proc/${pid}/root`)).replace(/\n$/, '');
  const deleted = exe.endsWith(' (deleted)');
  const inProcess = deleted ? exe.slice(0, -' (deleted)'.length) : exe;
  if (!inProcess.startsWith('/'))
    throw new Error(`/proc/${pid}/exe is not a path: ${inProcess.slice(0, 200)}`);
  const path = root === '/' ? inProcess : `/proc/${pid}/root${inProcess}`;
  return { path, inProcess, ...(deleted ? { deleted } : {}) };
}
