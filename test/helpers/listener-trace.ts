// The built-in listener trace on this machine's real bpftrace, for tests that watch its events:
// started with the runner's environment, read by the one stream parser, stopped with SIGINT when
// the test ends (a bpftrace that ignores SIGINT fails the test instead of hanging the suite).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import type { TraceEvent } from '../../common/events';
import {
  listenerTraceEnvironment,
  listenerTraceScript,
  type ListenerTraceOptions,
} from '../../core/trace/listener-script';
import { TraceStreamParser } from '../../core/trace/stream-parser';

/** `bpftrace --version` of this machine, undefined without bpftrace. */
export const localBpftraceVersion: string | undefined =
  spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).stdout?.trim() || undefined;

/** Waits until `ok()`; on timeout the error shows the last events. */
export async function untilEvents(
  what: string,
  ok: () => boolean,
  events: TraceEvent[],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events.slice(-20))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts the listener trace and resolves once every probe is attached, with the live event list. */
export async function traceListeners(
  t: TestContext,
  options: Omit<ListenerTraceOptions, 'bpftraceVersion'>,
): Promise<TraceEvent[]> {
  const version = localBpftraceVersion ?? '0.17';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-listeners-'));
  const file = path.join(dir, 'listeners.bt');
  writeFileSync(file, listenerTraceScript({ ...options, bpftraceVersion: version }));
  const bpftrace = spawn('bpftrace', ['-f', 'json', file], {
    env: { ...process.env, ...listenerTraceEnvironment(version) },
  });
  const closed = new Promise<number | null>((resolve) => bpftrace.once('close', resolve));
  t.after(async () => {
    bpftrace.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      closed,
      new Promise<'ignored'>((resolve) => (timer = setTimeout(() => resolve('ignored'), 30_000))),
    ]);
    clearTimeout(timer);
    if (code === 'ignored') bpftrace.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, 'bpftrace ends on SIGINT');
  });
  const parser = new TraceStreamParser({ attachedWhen: 'begin' });
  const events: TraceEvent[] = [];
  bpftrace.stdout.on('data', (c: Buffer) => events.push(...parser.pushStdout(c)));
  bpftrace.stderr.on('data', (c: Buffer) => events.push(...parser.pushStderr(c)));
  await untilEvents('attached', () => events.some((e) => e.type === 'attached'), events);
  return events;
}

export interface AcceptTotal {
  tid: number;
  listenFd: number;
  /** The accepting thread's name, from the first accept (totals carry none). */
  comm: string;
  total: number;
  /** The first accept's stack, when the trace takes stacks. */
  stack?: string[];
}

/** Accepts of `pid` per (thread, listening fd): the first-accept event joined with the running total. */
export function acceptTotals(events: TraceEvent[], pid: number): AcceptTotal[] {
  const byKey = new Map<string, AcceptTotal>();
  for (const e of events) {
    if ((e.type !== 'accept' && e.type !== 'accepts') || e.pid !== pid) continue;
    if (e.type === 'accept' && e.fd < 0) continue;
    const key = `${e.tid}/${e.listenFd}`;
    const entry = byKey.get(key) ?? { tid: e.tid, listenFd: e.listenFd, comm: '', total: 0 };
    if (e.type === 'accept') {
      entry.comm ||= e.comm;
      entry.stack ??= e.stack;
      entry.total = Math.max(entry.total, 1);
    } else entry.total = Math.max(entry.total, e.total);
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

/** Accepts of `pid` seen so far, over all its threads and listening fds. */
export function acceptsOf(events: TraceEvent[], pid: number): number {
  return acceptTotals(events, pid).reduce((sum, a) => sum + a.total, 0);
}
