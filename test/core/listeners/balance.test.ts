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
