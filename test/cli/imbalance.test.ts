// "Why is one worker doing all the work?" answered on real targets: the mini-Envoy in both socket
// layouts, with and without exact balance, and Debian's nginx with an inherited socket, each
// traced by `fieldtrace run --listener-trace` (with Envoy's admin API read beside it), stopped as a
// user stops it and replayed by `fieldtrace state`. The balance figures must be those of the
// per-worker accepts the state shows, the cause must follow from them and the layout, the finding
// must quote them, and Envoy's own per-worker counters must agree with the traced accepts. How
// skewed the kernel makes a run is its choice: the figures are recorded, never demanded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { ImbalanceCause, ListenerView, SpreadFigures } from '../../common/listeners-protocol';
import { listenerOf, replay, startCliTrace } from '../helpers/cli-trace';
import { workerStats } from '../helpers/envoy-admin';
import { listenerTraceSkip, waitFor } from '../helpers/listener-trace';
import { burst, freePorts, httpGetAndClose, openIdle } from '../helpers/net';
import { startMiniEnvoy, type MiniEnvoy } from '../targets/mini-envoy';
import { startNginx } from '../targets/nginx';

const skip = listenerTraceSkip('nginx');

// The finding's threshold: a coefficient of variation under it reads as balanced.
const BALANCED_CV = 0.25;
const WORKERS = 3;
const IDLE_CLIENTS = 24;
const SHORT_REQUESTS = 2000;
const NGINX_REQUESTS = 300;
// Accept totals print every 0.2 s, so the wait for the trace to catch up stays short.
const COUNT_INTERVAL = ['--count-interval', '0.2'];

interface Traced {
  listener: ListenerView;
  markdown: string;
  /** Admin reads in the session log (the start, every 10 s, the stop). */
  adminReads: number;
}

/** One request that must get the target's `200`. */
async function okRequest(port: number): Promise<void> {
  const response = await httpGetAndClose(port);
  assert.match(response, /^HTTP\/1\.1 200 /, `answer: ${JSON.stringify(response.slice(0, 80))}`);
}

/**
 * Traces the target until `made` accepts are counted on `port`, stops the CLI with SIGINT (the last
 * admin read happens then) and returns the listener as `fieldtrace state` replays it.
 */
async function traceTraffic(
  t: TestContext,
  start: { target: string; pid: number; port: number; args: string[]; admin: boolean },
  traffic: () => Promise<number>,
): Promise<Traced> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-imbalance-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const trace = await startCliTrace(t, {
    target: start.target,
    logDir: dir,
    args: [...start.args, ...COUNT_INTERVAL],
  });
  if (start.admin) {
    // Envoy's counters are compared from the first admin read on, which comes once the trace is
    // attached: connections made before it are traced but not in the growth.
    const attached = Date.now();
    await waitFor(
      'the first admin read',
      () => (trace.lines().some((l) => l.includes('"type":"admin"')) ? true : undefined),
      { timeoutMs: 30_000, everyMs: 50 },
    );
    t.diagnostic(`the first admin read came ${Date.now() - attached} ms after attached`);
  }
  const made = await traffic();
  await waitFor(
    `${made} accepts in the trace`,
    () => (listenerOf(trace.state(), start.pid, start.port)?.totalAccepts === made ? true : undefined),
    {
      timeoutMs: 30_000,
      detail: () => JSON.stringify(listenerOf(trace.state(), start.pid, start.port)?.accepts),
      everyMs: 200,
    },
  );
  await trace.stop();
  const { state, markdown } = replay(trace.logPath());
  assert.equal(state.lostEvents, 0);
  const listener = listenerOf(state, start.pid, start.port);
  assert.ok(listener, `no listener on port ${start.port} of pid ${start.pid}`);
  assert.equal(listener.totalAccepts, made);
  const adminReads = trace.lines().filter((l) => l.includes('"type":"admin"')).length;
  return { listener, markdown, adminReads };
}

async function traceMiniEnvoy(
  t: TestContext,
  options: { reusePort: boolean; exactBalance: boolean },
  traffic: (envoy: MiniEnvoy) => Promise<number>,
): Promise<Traced & { envoy: MiniEnvoy }> {
  const [adminPort, port] = await freePorts(2);
  const envoy = await startMiniEnvoy({
    ...options,
    concurrency: WORKERS,
    adminPort,
    listeners: [`127.0.0.1:${port}`],
  });
  t.after(() => envoy.stop());
  const traced = await traceTraffic(
    t,
    {
      target: String(envoy.pid),
      pid: envoy.pid,
      port,
      args: ['--envoy-admin', `127.0.0.1:${adminPort}`],
      admin: true,
    },
    () => traffic(envoy),
  );
  // The start's read is the baseline, the stop's the end: the growth between is the trace's span.
  assert.ok(traced.adminReads >= 2, `${traced.adminReads} admin reads`);
  return { ...traced, envoy };
}

/**
 * `count` connections that send nothing and stay open, one at a time: the next one only once
 * Envoy has counted the last one, so every accept finds the workers idle again.
 */
async function idleClients(t: TestContext, envoy: MiniEnvoy, count: number): Promise<number> {
  const port = envoy.ports[0];
  for (let i = 1; i <= count; i++) {
    await openIdle(t, port);
    await waitFor(
      `Envoy to count ${i} connections`,
      async () => {
        const totals = await workerStats(envoy, port, 'downstream_cx_total');
        return totals.reduce((a, b) => a + b, 0) === i ? true : undefined;
      },
      { timeoutMs: 10_000 },
    );
  }
  return count;
}

/** The traced accepts of each Envoy worker (`wrk:worker_N`), in worker order, 0 for none. */
function envoyAccepts(l: ListenerView): number[] {
  const counts = new Array<number>(WORKERS).fill(0);
  for (const a of l.accepts) {
    const index = /^wrk:worker_(\d+)$/.exec(a.name)?.[1];
    assert.ok(index !== undefined && Number(index) < WORKERS, `accepted by ${a.name}`);
    counts[Number(index)] += a.count;
  }
  return counts;
}

/** Envoy's downstream_cx_total growth per worker from the trace's first admin read to its last. */
function adminGrowth(l: ListenerView): number[] {
  const admin = l.admin;
  assert.ok(admin, 'the listener has Envoy admin counters');
  assert.ok(admin.baseline, 'the admin counters have a baseline from the trace start');
  const growth = new Array<number>(WORKERS).fill(0);
  for (const w of admin.workers) {
    const before = admin.baseline.find((b) => b.worker === w.worker)?.total ?? 0;
    growth[w.worker] = w.total - before;
  }
  return growth;
}

/** max/mean and the coefficient of variation (population) of per-worker counts. */
function figuresOf(counts: number[]): SpreadFigures {
  const total = counts.reduce((a, b) => a + b, 0);
  const mean = total / counts.length;
  const sd = Math.sqrt(counts.reduce((n, c) => n + (c - mean) ** 2, 0) / counts.length);
  return { workers: counts.length, total, maxOverMean: Math.max(...counts) / mean, cv: sd / mean };
}

function assertFigures(actual: SpreadFigures, counts: number[], what: string): SpreadFigures {
  const expected = figuresOf(counts);
  assert.equal(actual.workers, expected.workers, `${what}: workers`);
  assert.equal(actual.total, expected.total, `${what}: total`);
  assert.ok(
    Math.abs(actual.maxOverMean - expected.maxOverMean) < 1e-9,
    `${what}: max/mean ${actual.maxOverMean}, from ${counts.join('/')} ${expected.maxOverMean}`,
  );
  assert.ok(
    Math.abs(actual.cv - expected.cv) < 1e-9,
    `${what}: cv ${actual.cv}, from ${counts.join('/')} ${expected.cv}`,
  );
  return expected;
}

/** The finding quotes the traced figures, and `fieldtrace state` prints it. */
function assertQuoted(traced: Traced, expected: SpreadFigures): void {
  const { finding } = traced.listener.balance!;
  for (const quote of [
    `max/mean ${expected.maxOverMean.toFixed(2)}`,
    `coefficient of variation ${expected.cv.toFixed(2)}`,
    `${expected.total} accepts`,
  ])
    assert.ok(finding.includes(quote), `"${quote}" in the finding: ${finding}`);
  // Markdown escapes what it would read as markup (a backquoted `listen … reuseport`).
  const markdown = traced.markdown.replace(/\\([\\`*[\]|<>])/g, '$1');
  assert.ok(markdown.includes(`Balance: ${finding}`), traced.markdown);
}

/**
 * The figures are those of `counts`, the cause follows from them (`skewed` at a coefficient of
 * variation from BALANCED_CV up, else balanced) and the finding quotes them.
 */
function assertJudged(traced: Traced, counts: number[], skewed: ImbalanceCause): SpreadFigures {
  const b = traced.listener.balance!;
  const figures = assertFigures(b, counts, 'traced');
  assert.equal(b.cause, figures.cv >= BALANCED_CV ? skewed : 'balanced', b.finding);
  assertQuoted(traced, figures);
  return figures;
}

/** Envoy's own counters grew per worker as the trace counted accepts, over the trace's span. */
function assertAdminAgrees(l: ListenerView, counts: number[]): void {
  assert.deepEqual(adminGrowth(l), counts, "Envoy's counters per worker against the traced accepts");
  assert.equal(l.balance!.admin?.since, 'trace');
  assertFigures(l.balance!.admin!, counts, 'admin');
}

/** The chart's data: one row per accepting worker, in the order of `accepts`, summing to its count. */
function assertSeries(l: ListenerView): void {
  const series = l.acceptSeries;
  assert.ok(series, 'accepts over time');
  assert.ok(series.bucketSec >= 1);
  assert.deepEqual(
    series.workers.map((w) => `${w.pid}/${w.tid}/${w.name}`),
    l.accepts.map((a) => `${a.pid}/${a.tid}/${a.name}`),
  );
  series.workers.forEach((w, i) => {
    assert.ok(w.counts.every((n) => Number.isInteger(n) && n >= 0));
    assert.equal(
      w.counts.reduce((a, b) => a + b, 0),
      l.accepts[i].count,
      `${w.name}: ${w.counts.join(' ')}`,
    );
  });
}

/** What a run produced, said before anything is asserted: the kernel's choices differ per run. */
function record(t: TestContext, what: string, counts: number[], l: ListenerView): void {
  const b = l.balance;
  const admin = l.admin?.baseline
    ? `, admin growth ${l.admin.workers.map((w) => w.total - (l.admin!.baseline!.find((x) => x.worker === w.worker)?.total ?? 0)).join('/')}`
    : '';
  t.diagnostic(
    `${what}: accepts ${counts.join('/')}` +
      (b
        ? `, max/mean ${b.maxOverMean.toFixed(2)}, cv ${b.cv.toFixed(2)}, cause ${b.cause}`
        : ', no balance') +
      (b?.admin ? `, admin cv ${b.admin.cv.toFixed(2)} (${b.admin.since})` : '') +
      admin,
  );
}

describe('the balance finding on real targets', { skip }, () => {
  it('mini-Envoy, dup layout (1.19), 24 idle clients one at a time: a shared queue or balanced, as the figures say', async (t) => {
    const traced = await traceMiniEnvoy(t, { reusePort: false, exactBalance: false }, (envoy) =>
      idleClients(t, envoy, IDLE_CLIENTS),
    );
    const l = traced.listener;
    // Envoy runs every listener on every worker: one that never accepted counts as 0.
    const counts = envoyAccepts(l);
    record(t, 'dup', counts, l);
    assert.equal(l.layout, 'shared-dup');
    assertJudged(traced, counts, 'shared-queue');
    assertAdminAgrees(l, counts);
    assert.equal(l.balance!.config?.balancer, undefined);
    assert.equal(l.balance!.config?.reusePort, false);
    assertSeries(l);
  });

  for (const reusePort of [false, true])
    it(`mini-Envoy, ${reusePort ? 'reuse_port (1.20)' : 'dup layout (1.19)'} with exact_balance, 24 idle clients: the connections even, the cause exact-balance`, async (t) => {
      const traced = await traceMiniEnvoy(t, { reusePort, exactBalance: true }, (envoy) =>
        idleClients(t, envoy, IDLE_CLIENTS),
      );
      const l = traced.listener;
      const counts = envoyAccepts(l);
      record(t, `${reusePort ? 'reuse_port' : 'dup'} + exact_balance`, counts, l);
      const b = l.balance!;
      assert.equal(b.config?.balancer, 'exact_balance');
      const figures = assertFigures(b, counts, 'traced');
      // The accepting thread hands each connection to the worker with the fewest open: the owners'
      // counters are even whoever accepted.
      const growth = adminGrowth(l);
      assert.ok(Math.max(...growth) - Math.min(...growth) <= 1, `admin growth ${growth.join('/')}`);
      assert.equal(
        growth.reduce((a, c) => a + c, 0),
        counts.reduce((a, c) => a + c, 0),
      );
      assert.equal(b.admin?.since, 'trace');
      assertFigures(b.admin, growth, 'admin');
      assert.equal(b.cause, 'exact-balance', b.finding);
      assertQuoted(traced, figures);
      assert.match(b.finding, /exact_balance/);
      assertSeries(l);
    });

  it('mini-Envoy, reuse_port (1.20), 24 idle clients: the 4-tuple hash or balanced, as the figures say', async (t) => {
    const traced = await traceMiniEnvoy(t, { reusePort: true, exactBalance: false }, (envoy) =>
      idleClients(t, envoy, IDLE_CLIENTS),
    );
    const l = traced.listener;
    const counts = envoyAccepts(l);
    record(t, 'reuse_port idle', counts, l);
    assert.equal(l.layout, 'reuse-port');
    assert.equal(l.balance!.config?.reusePort, true);
    assertJudged(traced, counts, 'reuse-port-hash');
    assertAdminAgrees(l, counts);
    assertSeries(l);
  });

  it('mini-Envoy, reuse_port, 2000 short requests: balanced, and Envoy agrees per worker', async (t) => {
    const traced = await traceMiniEnvoy(t, { reusePort: true, exactBalance: false }, async (envoy) => {
      await burst(envoy.ports[0], SHORT_REQUESTS, 50, okRequest);
      return SHORT_REQUESTS;
    });
    const l = traced.listener;
    const counts = envoyAccepts(l);
    record(t, 'reuse_port short', counts, l);
    assertJudged(traced, counts, 'reuse-port-hash');
    // Thousands of source ports hash evenly: the coefficient of variation is near 1/sqrt(n/3).
    assert.equal(l.balance!.cause, 'balanced', l.balance!.finding);
    assertAdminAgrees(l, counts);
    assert.match(l.balance!.finding, /they agree/);
    assertSeries(l);
  });

  it('Debian nginx, 2 workers sharing one inherited socket, 300 short requests: inherited or balanced', async (t) => {
    const [port] = await freePorts(1);
    // Started before the trace: its readiness connection is not in the trace's counts.
    const nginx = await startNginx({ port, workers: 2 });
    t.after(() => nginx.stop());
    const workers = nginx.workerPids();
    assert.equal(workers.length, 2);
    // The workers are forked processes: a name target follows them all, a pid only the master.
    const traced = await traceTraffic(
      t,
      { target: 'nginx', pid: nginx.pid, port, args: [], admin: false },
      async () => {
        await burst(port, NGINX_REQUESTS, 20, okRequest);
        return NGINX_REQUESTS;
      },
    );
    const l = traced.listener;
    const counts = workers.map((pid) =>
      l.accepts.filter((a) => a.pid === pid).reduce((n, a) => n + a.count, 0),
    );
    record(t, 'nginx inherited', counts, l);
    assert.equal(l.layout, 'inherited');
    assert.ok(
      l.accepts.every((a) => workers.includes(a.pid)),
      JSON.stringify(l.accepts),
    );
    assert.equal(
      counts.reduce((a, c) => a + c, 0),
      NGINX_REQUESTS,
    );
    assertJudged(traced, counts, 'inherited');
    assert.equal(l.balance!.admin, undefined);
    assertSeries(l);
  });

  it('Debian nginx with one worker stopped: the other takes every connection, and the stopped one is named', async (t) => {
    const [port] = await freePorts(1);
    const nginx = await startNginx({ port, workers: 2 });
    t.after(() => nginx.stop());
    const [stuck, working] = nginx.workerPids();
    // A stopped worker holds the inherited socket and never accepts: what a stuck worker looks like.
    process.kill(stuck, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(stuck, 'SIGCONT');
      } catch {
        // already gone
      }
    });
    const requests = 60;
    const traced = await traceTraffic(
      t,
      { target: 'nginx', pid: nginx.pid, port, args: [], admin: false },
      async () => {
        await burst(port, requests, 4, okRequest);
        return requests;
      },
    );
    const l = traced.listener;
    record(t, 'nginx one worker stopped', [requests, 0], l);
    assert.equal(l.layout, 'inherited');
    assert.deepEqual(
      l.accepts.map((a) => [a.pid, a.count]),
      [[working, requests]],
    );
    // The master (parent of both, from the start snapshot's PPid) is not a worker; the stopped one is.
    assert.equal(l.balance!.workers, 2, l.balance!.finding);
    assert.equal(l.balance!.cause, 'inherited', l.balance!.finding);
    assert.equal(l.balance!.maxOverMean.toFixed(2), '2.00');
    assert.match(l.balance!.finding, new RegExp(`pid ${stuck} accepted none during the trace`));
  });
});
