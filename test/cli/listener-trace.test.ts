// The listener trace as users run it, `fieldtrace run --listener-trace` and `fieldtrace state`
// on its session log, against Debian's nginx (master + forked workers, one SO_REUSEPORT socket
// per worker) and the mini-Envoy, with the trace started before or after the target. The state
// must group fds into sockets as `ss -ltnp` does, count every connection the test made exactly
// (counted in the kernel), and the log must grow with listeners and intervals, not connections.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { localRunner } from '../../core/nodes/commands';
import { parseSs } from '../../core/listeners/snapshot';
import { kernelGroups, tracedGroups } from '../helpers/listener-groups';
import { burst, freePort } from '../helpers/net';
import { listenerTraceSkip, waitFor } from '../helpers/listener-trace';
import { listenerOf, replay, startCliTrace } from '../helpers/cli-trace';
import { startMiniEnvoy } from '../targets/mini-envoy';
import { startNginx, type Nginx } from '../targets/nginx';

const skip = listenerTraceSkip('nginx', 'ss');

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
      const trace = await startCliTrace(t, { target: 'nginx', logDir: dir });
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
      const trace = await startCliTrace(t, { target: String(envoy.pid), logDir: dir });
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
