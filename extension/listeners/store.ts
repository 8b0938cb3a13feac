// The listener state of this window, in one place: the events of every trace session (from the
// event bus), the logs opened, node snapshots and Envoy admin reports, all folded by one
// ListenerReducer. The view and the copy commands read it; nothing they do writes back.
import type { SessionTraceEvent } from '../../common/events';
import type { ListenerState } from '../../common/listeners-protocol';
import type { AdminReport } from '../../core/listeners/admin';
import type { ReadLog } from '../../core/listeners/readers';
import { ListenerReducer } from '../../core/listeners/reducer';
import type { ProcessSnapshot } from '../../core/listeners/snapshot';

export class ListenerStore {
  private reducer = new ListenerReducer();
  private readonly sessions = new Set<string>();
  private readonly nodes = new Set<string>();
  private readonly listeners = new Set<() => void>();

  /** Called after every change (a live trace changes it thousands of times a second). */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** An event of a trace session; a session's first event names it as a source. */
  applyEvent(e: SessionTraceEvent): void {
    if (!this.sessions.has(e.sessionId)) {
      this.sessions.add(e.sessionId);
      this.nodes.add(e.nodeId);
      this.reducer.addSource(`session ${e.sessionId} on ${e.nodeId}`);
    }
    this.reducer.apply(e);
    this.changed();
  }

  /** A log read from a file; its unreadable lines count as malformed unless bpftrace's parser counted them. */
  applyLog(name: string, log: ReadLog): void {
    this.reducer.addSource(`${name} (${log.format})`);
    if (log.format !== 'bpftrace-json') this.reducer.countMalformed(log.problems.length);
    for (const e of log.events) this.reducer.apply(e);
    this.changed();
  }

  applySnapshot(snapshot: ProcessSnapshot): void {
    this.reducer.applySnapshot(snapshot);
    this.changed();
  }

  applyAdmin(nodeId: string, pid: number, report: AdminReport): void {
    this.reducer.applyAdmin(nodeId, pid, report);
    this.changed();
  }

  clear(): void {
    this.reducer = new ListenerReducer();
    this.sessions.clear();
    this.nodes.clear();
    this.changed();
  }

  state(): ListenerState {
    return this.reducer.state();
  }

  /** The nodes traces came from. */
  tracedNodes(): string[] {
    return [...this.nodes];
  }

  /** The processes of a node the state knows. */
  knownPids(nodeId: string): Set<number> {
    return new Set(
      this.state()
        .processes.filter((p) => p.node === nodeId)
        .map((p) => p.pid),
    );
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
