// Envoy's admin API read beside a listener trace: only a traced process that listens on the admin
// address is asked, the first read is the baseline, later reads come as events, and the stop's
// last read is bounded even when the admin port never answers.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../../common/events';
import { adminTargets, parseAdminAddress, watchAdmin } from '../../../core/listeners/admin-watch';
import { snapshotAtTraceStart } from '../../../core/listeners/trace-start';
import { localRunner } from '../../../core/nodes/commands';
import { buildMiniEnvoy, startMiniEnvoy } from '../../targets/mini-envoy';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'nsenter and the snapshot need root' : false;

function snapshotEvent(pid: number, address: string, port: number, holder = pid): TraceEvent {
  return {
    type: 'snapshot',
    node: 'local',
    snapshot: {
      pid,
      takenAt: '2026-01-01T00:00:00Z',
      listeners: [
        {
          state: 'LISTEN',
          backlog: 128,
          local: { family: 'inet', address, port },
          users: [{ comm: 'envoy', pid: holder, fd: 3 }],
        },
      ],
      fdInodes: [],
      threads: [],
    },
  };
}

async function until(ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('admin reads beside a listener trace', () => {
  it('the admin address as users type it', () => {
    assert.deepEqual(parseAdminAddress('127.0.0.1:15000'), { host: '127.0.0.1', port: 15000 });
    assert.deepEqual(parseAdminAddress(' [::1]:9901 '), { host: '::1', port: 9901 });
    for (const bad of [
      '',
      'none',
      'localhost:15000',
      '127.0.0.1',
      '127.0.0.1:0',
      '127.0.0.1:70000',
      '1.2.3.4:80;rm',
    ])
      assert.equal(parseAdminAddress(bad), undefined, bad);
  });

  it('only a process listening on the admin address itself is asked', () => {
    const admin = { host: '127.0.0.1', port: 15000 };
    const events = [
      snapshotEvent(10, '127.0.0.1', 15000),
      snapshotEvent(11, '0.0.0.0', 15000),
      snapshotEvent(12, '127.0.0.1', 15001),
      snapshotEvent(13, '127.0.0.1', 15000, 99),
    ];
    assert.deepEqual(adminTargets(events, admin), [10, 11]);
  });

  it(
    'a real mini-Envoy: the start read is the baseline, the stop read has the new connections',
    { skip, timeout: 60_000 },
    async (t) => {
      const { gcc } = await buildMiniEnvoy();
      const envoy = await startMiniEnvoy({ binary: gcc, concurrency: 2 });
      t.after(() => envoy.stop());
      const start = await snapshotAtTraceStart([envoy.pid], 'local', localRunner);
      const address = { host: '127.0.0.1', port: envoy.adminPort };
      const pids = adminTargets(start.events, address);
      assert.deepEqual(pids, [envoy.pid]);
      const watch = watchAdmin({ node: 'local', pids, address, run: localRunner, intervalMs: 60_000 });
      const reads: TraceEvent[] = [];
      watch.start((e) => reads.push(e));
      await until(() => reads.length === 1);
      const [first] = reads;
      assert.ok(first.type === 'admin');
      assert.equal(first.report.summary.error, undefined);
      const listener = first.report.listeners.find((l) => l.port === envoy.ports[0]);
      assert.ok(listener, JSON.stringify(first.report));
      assert.equal(listener.config?.reusePort, false, 'the 1.19 default, from the masked config_dump');
      assert.equal(listener.config?.balancer, undefined);
      const before = listener.workers.reduce((n, w) => n + w.total, 0);
      for (let i = 0; i < 5; i++)
        await new Promise<void>((resolve, reject) => {
          const c = net.connect(envoy.ports[0], '127.0.0.1', () =>
            c.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
          );
          c.setTimeout(10_000, () => c.destroy(new Error('no answer from the mini-Envoy in 10 s')));
          c.on('data', () => {});
          c.on('close', () => resolve());
          c.on('error', reject);
        });
      await watch.finish();
      assert.equal(reads.length, 2, 'one read at the start, one at the stop');
      const last = reads[1];
      assert.ok(last.type === 'admin');
      const after = last.report.listeners
        .find((l) => l.port === envoy.ports[0])!
        .workers.reduce((n, w) => n + w.total, 0);
      assert.equal(after - before, 5);
    },
  );

  it(
    'an admin port that never answers: a read ends in an error, and the stop is not held by one',
    { skip, timeout: 60_000 },
    async (t) => {
      const sockets: net.Socket[] = [];
      const silent = net.createServer((s) => sockets.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      t.after(() => {
        for (const s of sockets) s.destroy();
        silent.close();
      });
      const port = (silent.address() as net.AddressInfo).port;
      const watch = watchAdmin({
        node: 'local',
        pids: [process.pid],
        address: { host: '127.0.0.1', port },
        run: localRunner,
        intervalMs: 60_000,
      });
      const reads: TraceEvent[] = [];
      watch.start((e) => reads.push(e));
      await until(() => reads.length === 1);
      const [first] = reads;
      assert.ok(first.type === 'admin' && first.report.summary.error, 'an error in the read, not a hang');
      // The last read hangs like the first; the stop goes on without it, and its late answer is dropped.
      await watch.finish();
      assert.equal(reads.length, 1);
      await until(() => sockets.length >= 2);
      await new Promise((r) => setTimeout(r, 6000));
      assert.equal(reads.length, 1, 'nothing is emitted after the stop');
    },
  );
});
