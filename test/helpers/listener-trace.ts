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

/**
 * Accepts of `pid` seen so far: the kernel's running total per (thread, listening fd) where one
 * was printed, else the first-accept events (each total includes its first accept).
 */
export function acceptsOf(events: TraceEvent[], pid: number): number {
  const perKey = new Map<string, number>();
  for (const e of events) {
    if ((e.type !== 'accept' && e.type !== 'accepts') || e.pid !== pid) continue;
    const key = `${e.tid}/${e.listenFd}`;
    const seen = e.type === 'accepts' ? e.total : 1;
    perKey.set(key, Math.max(perKey.get(key) ?? 0, seen));
  }
  return [...perKey.values()].reduce((a, b) => a + b, 0);
}
