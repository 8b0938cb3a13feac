// The built-in listener trace on this machine's real bpftrace, for tests that watch its events:
// started with the runner's environment, read by the one stream parser, stopped with SIGINT when
// the test ends (a bpftrace that ignores SIGINT fails the test instead of hanging the suite). Also
// what every listener-trace test sets up the same way: the skip gate, waits, the stop.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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

/**
 * The `skip` of a suite that runs the listener trace: it needs root, bpftrace and `tools`, and is
 * never skipped when CI=true (there a missing tool fails the suite).
 */
export function listenerTraceSkip(...tools: string[]): string | false {
  const ready =
    process.getuid?.() === 0 &&
    localBpftraceVersion !== undefined &&
    tools.every((t) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', t]).status === 0);
  const needs = ['root', 'bpftrace', ...tools];
  return process.env.CI !== 'true' && !ready
    ? `needs ${needs.slice(0, -1).join(', ')} and ${needs.at(-1)} (required when CI=true)`
    : false;
}

/**
 * Waits until `probe()` gives (or resolves to) a value, which it returns, checking every `everyMs`
 * (default 25); after `timeoutMs` the error names `what` and `detail()`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs: number; detail?: () => string; everyMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${what}${options.detail ? `: ${options.detail()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, options.everyMs ?? 25));
  }
}

/** Waits until `ok()`; on timeout the error shows the last events. */
export async function untilEvents(
  what: string,
  ok: () => boolean,
  events: TraceEvent[],
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(what, () => (ok() ? true : undefined), {
    timeoutMs,
    detail: () => JSON.stringify(events.slice(-20)),
    everyMs: 20,
  });
}

/**
 * Stops a trace as a user does: SIGINT (bpftrace runs END and exits), SIGKILL only when it has not
 * exited within 30 s; resolves once `exited` has. `ms`: how long that took (detaching waits on the
 * kernel, which a loaded machine slows down).
 */
export async function interrupt(
  child: ChildProcess,
  exited: Promise<unknown>,
): Promise<{ killed: boolean; ms: number }> {
  const started = performance.now();
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGINT');
    timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 30_000);
  }
  await exited;
  clearTimeout(timer);
  return { killed, ms: performance.now() - started };
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
    const { killed } = await interrupt(bpftrace, closed);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(killed, false, 'bpftrace ends on SIGINT');
    assert.equal(await closed, 0, 'bpftrace exits 0 on SIGINT');
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
