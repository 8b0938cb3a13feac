// Envoy's own counters beside a listener trace: when a traced process listens on the Envoy admin
// address (127.0.0.1:15000 in an Istio sidecar), its admin API is read at the start (what the
// per-worker counters held when the trace began), now and then while it runs, and once at the
// stop. Each read becomes an `admin` event of the session, so the log replays the comparison.
// Only a process whose start snapshot shows it listening on that address is asked: a GET to any
// other port of a production process would be a request to the application behind it.
import type { SnapshotRecord, TraceEvent } from '../../common/events';
import type { CommandRunner } from '../nodes/commands';
import { commandAdminGet, readAdmin } from './admin';

export interface AdminAddress {
  host: string;
  port: number;
}

/** Where an Istio sidecar's Envoy serves its admin API (its pod's loopback). */
export const DEFAULT_ENVOY_ADMIN: AdminAddress = { host: '127.0.0.1', port: 15000 };
/** How often a running trace reads the admin API again. */
export const ADMIN_READ_INTERVAL_MS = 10_000;

/** More Envoys than this in one trace are not read (a name target can match many). */
export const MAX_ADMIN_TARGETS = 8;
/** A read at the stop waits this long at most: the stop must not hang on a stuck admin port. */
const FINAL_READ_MS = 3000;

/** `127.0.0.1:15000`, `[::1]:15000`; undefined for anything else (and for `none` or empty). */
export function parseAdminAddress(text: string): AdminAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  return port > 0 && port <= 65535 ? { host: m[1] ?? m[2], port } : undefined;
}

/** The snapshotted processes that listen on the admin address themselves. */
export function adminTargets(snapshots: TraceEvent[], address: AdminAddress): number[] {
  const wildcard = address.host.includes(':') ? '::' : '0.0.0.0';
  const pids: number[] = [];
  for (const e of snapshots) {
    if (e.type !== 'snapshot') continue;
    const record: SnapshotRecord = e.snapshot;
    const listens = record.listeners.some(
      (l) =>
        l.state === 'LISTEN' &&
        l.local.port === address.port &&
        (l.local.address === address.host || l.local.address === wildcard) &&
        l.users.some((u) => u.pid === record.pid),
    );
    if (listens && !pids.includes(record.pid)) pids.push(record.pid);
  }
  return pids.slice(0, MAX_ADMIN_TARGETS);
}

export interface AdminWatchOptions {
  node: string;
  pids: number[];
  address: AdminAddress;
  /** Runs commands on the node with the trace's privilege (nsenter into the pod's network). */
  run: CommandRunner;
  intervalMs: number;
}

export interface AdminWatch {
  /**
   * Starts the reads once the trace is attached: the first is the baseline (bpftrace can take
   * seconds to attach, an admin read milliseconds, so a baseline taken before would count
   * connections the trace never saw), then one every interval. Each becomes an event through
   * `emit`.
   */
  start(emit: (event: TraceEvent) => void): void;
  /** One last read (bounded in time), then no more. */
  finish(): Promise<void>;
  /** No more reads (the trace ended by itself). */
  cancel(): void;
}

export function watchAdmin(options: AdminWatchOptions): AdminWatch {
  const { node, address, run } = options;
  const label = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  const readers = options.pids.map((pid) => {
    const get = commandAdminGet(run, pid, address.host, address.port);
    return async (): Promise<TraceEvent> => ({
      type: 'admin',
      node,
      pid,
      report: await readAdmin(get, { label: `${label} (netns of pid ${pid})`, port: address.port }),
    });
  });
  const readAll = async (): Promise<TraceEvent[]> => {
    const events: TraceEvent[] = [];
    for (const read of readers) events.push(await read());
    return events;
  };
  let emit: ((event: TraceEvent) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | undefined;
  const readNow = (): Promise<void> => {
    reading ??= readAll()
      .then((events) => events.forEach((e) => emit?.(e)))
      .finally(() => (reading = undefined));
    return reading;
  };
  return {
    start(sink) {
      if (readers.length === 0) return;
      emit = sink;
      void readNow();
      timer = setInterval(() => void readNow(), options.intervalMs);
      timer.unref();
    },
    async finish() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (!emit) return;
      // A read still under way is waited for, then one more; all of it within FINAL_READ_MS.
      const last = (async () => {
        await reading;
        await readNow();
      })();
      let cut: NodeJS.Timeout | undefined;
      await Promise.race([last, new Promise<void>((resolve) => (cut = setTimeout(resolve, FINAL_READ_MS)))]);
      clearTimeout(cut);
      emit = undefined;
    },
    cancel() {
      if (timer) clearInterval(timer);
      timer = undefined;
      emit = undefined;
    },
  };
}
