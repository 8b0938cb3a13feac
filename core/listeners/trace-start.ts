// The node as it is when a listener trace starts. A trace attached to a running proxy (the usual
// case in the field) never sees the socket(), bind() and fork() that made its listeners, so the
// processes it targets are snapshotted first (`ss` in their network namespace, /proc): the
// session log then starts with what was already there, each listening fd has its address, and
// fds of one socket across threads and forked processes are known to be one socket (same inode).
// The same listening fds are handed to the script, which follows them from BEGIN.
import type { SnapshotRecord, TraceEvent } from '../../common/events';
import type { CommandRunner } from '../nodes/commands';
import { snapshotRecord, takeRemoteSnapshot } from './snapshot';

/** More processes than this are not snapshotted at start (a name target can match many). */
export const MAX_SNAPSHOT_PROCESSES = 32;

export interface TraceStartSnapshot {
  /** One `snapshot` event per process, to go into the session before the trace's own events. */
  events: TraceEvent[];
  /** Listening fds of those processes, for the script to follow from BEGIN. */
  knownListeners: { pid: number; fd: number }[];
  /** Processes that could not be read (exited meanwhile, no nsenter, …), one sentence each. */
  problems: string[];
}

/** The listening fds a snapshot shows for its own process. */
export function listeningFds(record: SnapshotRecord): { pid: number; fd: number }[] {
  const out: { pid: number; fd: number }[] = [];
  for (const l of record.listeners) {
    if (l.state !== 'LISTEN') continue;
    for (const u of l.users) if (u.pid === record.pid) out.push({ pid: u.pid, fd: u.fd });
  }
  return out;
}

/**
 * Snapshots `pids` on the node through `run` (this machine or SSH, with the trace's privilege):
 * one after the other, so the node sees one `ss` at a time.
 */
export async function snapshotAtTraceStart(
  pids: number[],
  node: string,
  run: CommandRunner,
): Promise<TraceStartSnapshot> {
  const unique = [...new Set(pids)].slice(0, MAX_SNAPSHOT_PROCESSES);
  const all = new Set(unique);
  const result: TraceStartSnapshot = { events: [], knownListeners: [], problems: [] };
  if (pids.length > unique.length)
    result.problems.push(
      `${new Set(pids).size} processes match; only the first ${MAX_SNAPSHOT_PROCESSES} were snapshotted at the start`,
    );
  for (const pid of unique) {
    try {
      const record = snapshotRecord(await takeRemoteSnapshot(pid, node, run), all);
      result.events.push({ type: 'snapshot', node, snapshot: record });
      result.knownListeners.push(...listeningFds(record));
    } catch (error) {
      result.problems.push(
        `no snapshot of pid ${pid} at the start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
  return result;
}
