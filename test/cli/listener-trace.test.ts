// The listener trace as users run it, `fieldtrace run --listener-trace` and `fieldtrace state`
// on its session log, against Debian's nginx (master + forked workers, one SO_REUSEPORT socket
// per worker) and the mini-Envoy, with the trace started before or after the target. The state
// must group fds into sockets as `ss -ltnp` does, count every connection the test made exactly
// (counted in the kernel), and the log must grow with listeners and intervals, not connections.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { SessionTraceEvent } from '../../common/events';
import type { ListenerState } from '../../common/listeners-protocol';
import { localRunner } from '../../core/nodes/commands';
import { ListenerReducer } from '../../core/listeners/reducer';
import { parseSs } from '../../core/listeners/snapshot';
import { kernelGroups, tracedGroups } from '../helpers/listener-groups';
import { connectAndClose, freePort } from '../helpers/net';
import { interrupt, listenerTraceSkip, waitFor } from '../helpers/listener-trace';
import { REPO_ROOT } from '../helpers/cli';
import { startMiniEnvoy } from '../targets/mini-envoy';
import { startNginx, type Nginx } from '../targets/nginx';

const skip = listenerTraceSkip('nginx', 'ss');

interface CliTrace {
  /** The session log's lines so far. */
  lines(): string[];
  state(): ListenerState;
  logPath(): string;
  /** Wall time from `attached` to the end of stop(), in seconds (after stop). */
  seconds(): number;
  stop(): Promise<void>;
}

/** `fieldtrace run --listener-trace --target TARGET`, through tsx, until stop(). */
async function startCliTrace(t: TestContext, target: string, dir: string): Promise<CliTrace> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'cli/main.ts'),
      'run',
      '--listener-trace',
      '--target',
      target,
      '--log-dir',
      dir,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let attachedAt = 0;
  let stoppedAt = 0;
  const stop = async () => {
    await interrupt(child, exited);
    stoppedAt ||= Date.now();
  };
  t.after(stop);
  const logPath = () => {
    const file = readdirSync(dir).find((f) => f.endsWith('.jsonl'));
    return file ? path.join(dir, file) : '';
  };
  const lines = () => (logPath() ? readFileSync(logPath(), 'utf8').split('\n').filter(Boolean) : []);
  await waitFor(
    'the trace to attach',
    () => {
      if (child.exitCode !== null) throw new Error(`fieldtrace run exited: ${stderr}`);
      return lines().some((l) => l.includes('"type":"attached"')) ? true : undefined;
    },
    { timeoutMs: 90_000, detail: () => stderr, everyMs: 100 },
  );
  attachedAt = Date.now();
  return {
    lines,
    logPath,
    state: () => {
      const reducer = new ListenerReducer();
      for (const l of lines()) reducer.apply(JSON.parse(l) as SessionTraceEvent);
      return reducer.state();
    },
    seconds: () => ((stoppedAt || Date.now()) - attachedAt) / 1000,
    stop,
  };
}

/** `count` connections, `parallel` at a time, each accepted and closed by the target. */
async function burst(port: number, count: number, parallel = 50): Promise<void> {
  for (let done = 0; done < count; done += parallel)
    await Promise.all(Array.from({ length: Math.min(parallel, count - done) }, () => connectAndClose(port)));
}

function listenerOf(state: ListenerState, pid: number, port: number) {
  return state.processes.find((p) => p.pid === pid)?.listeners.find((l) => l.port === port && !l.closed);
}

/** `fieldtrace state` on the log, as JSON and as Markdown. */
function replay(log: string): { state: ListenerState; markdown: string } {
  const run = (format: string) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'cli/main.ts'), 'state', '--format', format, log],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
  const json = run('json');
  assert.equal(json.status, 0, json.stderr);
  return { state: JSON.parse(json.stdout) as ListenerState, markdown: run('markdown').stdout };
}

const CONNECTIONS = 2000;

describe('fieldtrace run --listener-trace on real targets', { skip }, () => {
  for (const order of ['trace first', 'nginx first'] as const) {
    it(`Debian nginx, fork + reuseport, ${order}: ss groups, exact accepts, a log bounded by time`, async (t) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-cli-nginx-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const port = await freePort();
      let nginx: Nginx | undefined;
      const startTarget = async () => {
        nginx = await startNginx({ port, workers: 2, reusePort: true });
        t.after(() => nginx!.stop());
      };
      if (order === 'nginx first') await startTarget();
      const trace = await startCliTrace(t, 'nginx', dir);
      if (order === 'trace first') await startTarget();
      const master = nginx!.pid;
      const workers = nginx!.workerPids();
      assert.equal(workers.length, 2);
      const pids = [master, ...workers];

      await burst(port, CONNECTIONS);
      // Started under the trace, nginx's readiness check made connections of its own.
      const made = CONNECTIONS + (order === 'trace first' ? nginx!.readinessConnections : 0);
      const expected = kernelGroups(parseSs(await localRunner(['ss', '-ltnp'])).listeners, pids, port);
      assert.equal(expected.length, 2, 'one socket per worker');
      const state = await waitFor(
        `${made} accepts and the kernel's grouping`,
        () => {
          const s = trace.state();
          const l = listenerOf(s, master, port);
          return l?.totalAccepts === made &&
            JSON.stringify(tracedGroups(s, master, port)) === JSON.stringify(expected)
            ? s
            : undefined;
        },
        {
          timeoutMs: 30_000,
          detail: () => {
            const s = trace.state();
            return JSON.stringify({
              expected,
              traced: tracedGroups(s, master, port),
              total: listenerOf(s, master, port)?.totalAccepts,
            });
          },
          everyMs: 100,
        },
      );
      const l = listenerOf(state, master, port)!;
      assert.equal(l.address, '127.0.0.1');
      // Every connection accepted by a worker process, exactly once.
      assert.ok(
        l.accepts.every((a) => workers.includes(a.pid)),
        JSON.stringify(l.accepts),
      );
      assert.equal(
        l.accepts.reduce((n, a) => n + a.count, 0),
        made,
      );
      assert.equal(state.lostEvents, 0);
      await trace.stop();

      // The log grows with listeners, accepting threads and intervals, not with connections.
      const bound = 2 * 2 * (trace.seconds() / 1 + 2) + 100;
      assert.ok(
        trace.lines().length <= bound,
        `${trace.lines().length} lines > ${bound} (${trace.seconds()} s)`,
      );
      const { state: replayed, markdown } = replay(trace.logPath());
      assert.deepEqual(tracedGroups(replayed, master, port), expected);
      assert.equal(listenerOf(replayed, master, port)?.totalAccepts, made);
      assert.doesNotMatch(markdown, /unknown address/);
    });
  }

  for (const reusePort of [false, true])
    it(`mini-Envoy (${reusePort ? 'reuse-port' : 'dup per worker'}) attached late: addresses and sockets from the start snapshot`, async (t) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-cli-envoy-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const envoy = await startMiniEnvoy({
        reusePort,
        concurrency: 2,
        adminPort: await freePort(),
        listeners: [`127.0.0.1:${await freePort()}`],
      });
      t.after(() => envoy.stop());
      const trace = await startCliTrace(t, String(envoy.pid), dir);
      const port = envoy.ports[0]!;
      await burst(port, 500);
      const ports = [port, envoy.adminPort];
      const ss = parseSs(await localRunner(['ss', '-ltnp'])).listeners;
      const expected = ports.map((p) => kernelGroups(ss, [envoy.pid], p));
      const state = await waitFor(
        'the state to match ss with 500 accepts',
        () => {
          const s = trace.state();
          return listenerOf(s, envoy.pid, port)?.totalAccepts === 500 &&
            JSON.stringify(ports.map((p) => tracedGroups(s, envoy.pid, p))) === JSON.stringify(expected)
            ? s
            : undefined;
        },
        {
          timeoutMs: 30_000,
          detail: () =>
            JSON.stringify({ expected, traced: ports.map((p) => tracedGroups(trace.state(), envoy.pid, p)) }),
          everyMs: 100,
        },
      );
      const l = listenerOf(state, envoy.pid, port)!;
      assert.equal(l.layout, reusePort ? 'reuse-port' : 'shared-dup');
      assert.ok(
        l.accepts.every((a) => /^wrk:worker_\d$/.test(a.name)),
        JSON.stringify(l.accepts),
      );
      await trace.stop();
      assert.doesNotMatch(replay(trace.logPath()).markdown, /unknown address/);
    });
});
