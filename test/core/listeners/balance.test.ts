// The imbalance finding per listener from folded trace events: the figures (max/mean, coefficient
// of variation) and the cause the layout supports, in the dup and reuse_port layouts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../../common/events';
import { stateToMarkdown } from '../../../core/listeners/format';
import { reduceEvents } from '../../../core/listeners/reducer';

const PID = 500;
let clock = 0;
const at = (tid: number, comm: string) => ({ timeNs: ++clock * 1_000_000, pid: PID, tid, comm });

/** Envoy ≤ 1.19: the main thread binds fd 5, each worker dups it and listens on its dup. */
function dupLayout(accepts: number[]): TraceEvent[] {
  const events: TraceEvent[] = [
    { type: 'socket', ...at(PID, 'envoy'), fd: 5, family: 'inet', socketType: 1 },
    {
      type: 'bind',
      ...at(PID, 'envoy'),
      fd: 5,
      address: { family: 'inet', address: '0.0.0.0', port: 10000 },
      result: 0,
    },
  ];
  accepts.forEach((_, i) => {
    const tid = PID + 1 + i;
    events.push(
      { type: 'dup', ...at(tid, `wrk:worker_${i}`), oldFd: 5, newFd: 10 + i, via: 'dup' },
      { type: 'listen', ...at(tid, `wrk:worker_${i}`), fd: 10 + i, backlog: 128, result: 0 },
    );
  });
  accepts.forEach((n, i) => {
    if (n > 0)
      events.push({ type: 'accepts', ...at(PID + 1 + i, `wrk:worker_${i}`), listenFd: 10 + i, total: n });
  });
  return events;
}

/** Envoy ≥ 1.20 with reuse_port: one socket per worker, SO_REUSEPORT set before its bind. */
function reusePortLayout(accepts: number[]): TraceEvent[] {
  const events: TraceEvent[] = [];
  accepts.forEach((n, i) => {
    const fd = 20 + i;
    events.push(
      { type: 'socket', ...at(PID, 'envoy'), fd, family: 'inet', socketType: 1 },
      { type: 'setsockopt', ...at(PID, 'envoy'), fd, level: 1, optname: 15, value: 1, optlen: 4 },
      {
        type: 'bind',
        ...at(PID, 'envoy'),
        fd,
        address: { family: 'inet', address: '0.0.0.0', port: 10001 },
        result: 0,
      },
      { type: 'listen', ...at(PID, 'envoy'), fd, backlog: 128, result: 0 },
    );
    if (n > 0)
      events.push({ type: 'accepts', ...at(PID + 1 + i, `wrk:worker_${i}`), listenFd: fd, total: n });
  });
  return events;
}

function balanceOf(events: TraceEvent[]) {
  const [proc] = reduceEvents(events).processes;
  const [listener] = proc.listeners;
  return { layout: listener.layout, balance: listener.balance };
}

describe('accept balance per listener', () => {
  it('dup layout, one busy worker: names the shared accept queue and quotes the figures', () => {
    const { layout, balance } = balanceOf(dupLayout([90, 10, 0]));
    assert.equal(layout, 'shared-dup');
    assert.ok(balance);
    assert.equal(balance.workers, 3, 'a listening worker that never accepted counts as 0');
    assert.equal(balance.total, 100);
    assert.equal(balance.maxOverMean.toFixed(2), '2.70');
    assert.ok(balance.cv > 1, String(balance.cv));
    assert.match(balance.finding, /wrk:worker_0 took 90 of 100/);
    assert.match(balance.finding, /max\/mean 2\.70, coefficient of variation 1\.\d\d/);
    assert.match(balance.finding, /one shared accept queue/);
    assert.match(balance.finding, /exact_balance/);
  });

  it('dup layout, even accepts: balanced; few accepts: too few to judge', () => {
    const even = balanceOf(dupLayout([50, 48, 52])).balance;
    assert.match(even?.finding ?? '', /^Balanced: max\/mean 1\.04/);
    const few = balanceOf(dupLayout([6, 1, 0])).balance;
    assert.match(few?.finding ?? '', /^Too few connections to judge/);
  });

  it('reuse_port, skewed: names the 4-tuple hash', () => {
    const { layout, balance } = balanceOf(reusePortLayout([70, 5]));
    assert.equal(layout, 'reuse-port');
    assert.match(balance?.finding ?? '', /reuse_port the kernel hashes each connection's 4-tuple/);
    assert.match(balance?.finding ?? '', /max\/mean 1\.87/);
  });

  it('fieldtrace state prints the same finding', () => {
    const markdown = stateToMarkdown(reduceEvents(dupLayout([90, 10, 0])));
    assert.match(markdown, /Balance: wrk:worker_0 took 90 of 100 \(max\/mean 2\.70/);
  });
});

/** One admin read of the process: per-worker downstream_cx_total of the listener on `port`. */
function adminRead(
  port: number,
  totals: number[],
  config?: { balancer?: 'exact_balance'; reusePort?: boolean },
  active?: number[],
): TraceEvent {
  return {
    type: 'admin',
    node: 'local',
    pid: PID,
    report: {
      summary: { address: '127.0.0.1:15000', version: 'abc/1.19.1/Clean/RELEASE/BoringSSL' },
      listeners: [
        {
          name: `listener_${port}`,
          address: '0.0.0.0',
          port,
          statPrefix: `0.0.0.0_${port}`,
          workers: totals.map((total, worker) =>
            active ? { worker, total, active: active[worker] } : { worker, total },
          ),
          ...(config ? { config: { name: `listener_${port}`, ...config } } : {}),
        },
      ],
    },
  };
}

describe("accept balance beside Envoy's own counters", () => {
  it('the admin growth since the first read is compared with the traced accepts, and agrees', () => {
    const events = [
      adminRead(10000, [1000, 1000, 1000]),
      ...dupLayout([90, 10, 0]),
      adminRead(10000, [1090, 1010, 1000], {}),
    ];
    const { balance } = balanceOf(events);
    assert.equal(balance?.cause, 'shared-queue');
    assert.equal(balance?.admin?.since, 'trace');
    assert.equal(balance?.admin?.total, 100, 'the growth, not the totals since Envoy started');
    assert.equal(balance?.admin?.maxOverMean.toFixed(2), '2.70');
    assert.match(
      balance?.finding ?? '',
      /Envoy's own counters \(downstream_cx_total per worker, from the first read after the trace attached\): max\/mean 2\.70.*: they agree/,
    );
    assert.match(
      balance?.finding ?? '',
      /connection_balance_config is not set on listener listener_10000: exact_balance/,
    );
  });

  it('one admin read only: compared since Envoy started, and a disagreement is said', () => {
    const { balance } = balanceOf([...dupLayout([90, 10, 0]), adminRead(10000, [500, 510, 490])]);
    assert.equal(balance?.admin?.since, 'start');
    assert.match(balance?.finding ?? '', /since Envoy started\): max\/mean 1\.02.*they disagree/);
  });

  it('exact_balance: skewed accepts, even connections: the balancer hands them on', () => {
    const events = [
      adminRead(10000, [0, 0, 0]),
      ...dupLayout([60, 30, 0]),
      adminRead(10000, [30, 30, 30], { balancer: 'exact_balance' }, [4, 4, 3]),
    ];
    const { balance } = balanceOf(events);
    assert.equal(balance?.cause, 'exact-balance');
    assert.equal(balance?.config?.balancer, 'exact_balance');
    assert.match(
      balance?.finding ?? '',
      /Open at the last read \(downstream_cx_active\): worker_0 4, worker_1 4, worker_2 3\./,
    );
    assert.match(
      stateToMarkdown(reduceEvents(events)),
      /downstream_cx_total worker_0=30 \(\+30 in the trace, 4 open\)/,
    );
    assert.match(
      balance?.finding ?? '',
      /^The connections are balanced, the accepts are not \(max\/mean 2\.00/,
    );
    assert.match(balance?.finding ?? '', /hands each connection to the worker with the fewest open/);
    assert.match(
      balance?.finding ?? '',
      /from the first read after the trace attached\): max\/mean 1\.00, coefficient of variation 0\.00 over 90 connections/,
    );
  });

  it('exact_balance with short connections: the first worker with none wins each tie', () => {
    const events = [
      adminRead(10000, [0, 0, 0]),
      ...dupLayout([40, 30, 20]),
      adminRead(10000, [85, 3, 2], { balancer: 'exact_balance' }),
    ];
    const { balance } = balanceOf(events);
    assert.equal(balance?.cause, 'exact-balance');
    assert.match(balance?.finding ?? '', /evens the connections open at once \(downstream_cx_active\)/);
  });

  it("a worker the trace never saw accept still counts, by Envoy's own worker list", () => {
    // As a real trace has them: each worker's first accept (with its name) before its totals.
    const firstAccepts: TraceEvent[] = [0, 1].map((i) => ({
      type: 'accept',
      ...at(PID + 1 + i, `wrk:worker_${i}`),
      listenFd: 20 + i,
      fd: 100 + i,
    }));
    const layout = reusePortLayout([33, 6]);
    const events = [
      adminRead(10001, [0, 0, 0]),
      ...layout.slice(0, 8),
      ...firstAccepts,
      ...layout.slice(8),
      adminRead(10001, [33, 6, 0]),
    ];
    const { balance } = balanceOf(events);
    assert.equal(balance?.workers, 3);
    assert.match(balance?.finding ?? '', /over 39 accepts by 3 worker\(s\)/);
  });

  it('reuse_port off in a dup layout: enable_reuse_port named only where the version has it', () => {
    const old = balanceOf([
      ...dupLayout([90, 10, 0]),
      adminRead(10000, [90, 10, 0], { reusePort: false }),
    ]).balance;
    assert.match(
      old?.finding ?? '',
      / reuse_port is off on listener listener_10000/,
      'Envoy 1.19 calls it reuse_port',
    );
  });

  it('state markdown: the admin line with the growth and the settings, and a chart row per worker', () => {
    clock = 0;
    const events: TraceEvent[] = [adminRead(10000, [5, 5, 5]), ...dupLayout([1, 1, 0])];
    // Three more totals, two seconds apart: the chart has buckets.
    for (const [sec, totals] of [
      [2, [10, 2]],
      [4, [30, 2]],
      [6, [31, 9]],
    ] as const)
      totals.forEach((total, i) =>
        events.push({
          type: 'accepts',
          timeNs: sec * 1e9,
          pid: PID,
          tid: PID + 1 + i,
          comm: `wrk:worker_${i}`,
          listenFd: 10 + i,
          total,
        }),
      );
    events.push(adminRead(10000, [36, 14, 5], {}));
    const markdown = stateToMarkdown(reduceEvents(events));
    assert.match(
      markdown,
      /downstream_cx_total worker_0=36 \(\+31 in the trace\), worker_1=14 \(\+9 in the trace\), worker_2=5 \(\+0 in the trace\); connection_balance_config: not set/,
    );
    assert.match(markdown, /\| over time \(1 s a step\) \|/);
    const row0 = /\| wrk:worker_0 \|.*`([^`]*)` \|/.exec(markdown)?.[1] ?? '';
    const row2 = /\| wrk:worker_2 \|.*`([^`]*)` \|/.exec(markdown)?.[1] ?? '';
    assert.equal(row0.length, 7, row0);
    assert.equal(row0[4], '█', 'the biggest bucket: 20 accepts at second 4');
    assert.equal(row2.trim(), '', 'a worker that never accepted has no bars');
  });
});

describe('the admin listener itself', () => {
  it('says its accepts include our reads, by the admin port the read went to', () => {
    const notesFor = (adminPort: number | undefined) => {
      const read = adminRead(10000, [5, 5, 0]);
      if (read.type !== 'admin') throw new Error('not an admin event');
      read.report.summary = { address: 'the node, netns of pid 500', port: adminPort };
      const state = reduceEvents([...dupLayout([5, 5, 0]), read]);
      return state.processes[0].listeners.find((l) => l.port === 10000)!.notes;
    };
    assert.ok(notesFor(10000).some((n) => n.includes('its accepts include those reads')));
    assert.ok(!notesFor(15000).some((n) => n.includes('its accepts include those reads')));
    assert.ok(!notesFor(undefined).some((n) => n.includes('its accepts include those reads')));
  });
});
