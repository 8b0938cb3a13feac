// Accepts per worker over the trace: equal buckets from one origin per node, doubled when the
// trace outgrows the bucket count, and re-bucketed to one width per listener for the chart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addToSeries,
  newAcceptSeries,
  SERIES_BUCKETS,
  seriesView,
} from '../../../core/listeners/accept-series';

describe('accept series', () => {
  it('one-second buckets until the trace outgrows them, then wider, the sum kept', () => {
    const s = newAcceptSeries();
    for (let sec = 100; sec < 100 + SERIES_BUCKETS; sec++) addToSeries(s, 100, sec, 1);
    assert.equal(s.widthSec, 1);
    assert.equal(s.counts.length, SERIES_BUCKETS);
    addToSeries(s, 100, 100 + SERIES_BUCKETS, 5);
    assert.equal(s.widthSec, 2);
    assert.ok(s.counts.length <= SERIES_BUCKETS);
    assert.deepEqual(s.counts.slice(0, 3), [2, 2, 2]);
    assert.equal(
      s.counts.reduce((a, b) => a + b),
      SERIES_BUCKETS + 5,
    );
    addToSeries(s, 100, 100 + 10 * SERIES_BUCKETS, 1);
    assert.equal(s.widthSec, 16, 'doubled until the second fits');
    assert.equal(
      s.counts.reduce((a, b) => a + b),
      SERIES_BUCKETS + 6,
    );
  });

  it('an accept a little before the origin (per-CPU order) lands in the first bucket', () => {
    const s = newAcceptSeries();
    addToSeries(s, 50, 49, 3);
    assert.deepEqual(s.counts, [3]);
  });

  it("the listener's workers share one width and start at the first bucket with an accept", () => {
    const busy = newAcceptSeries();
    const idle = newAcceptSeries();
    for (let sec = 10; sec < 10 + 3 * SERIES_BUCKETS; sec++) addToSeries(busy, 0, sec, 1);
    addToSeries(idle, 0, 12, 7);
    const view = seriesView(0, [
      { pid: 1, tid: 2, name: 'wrk:worker_0', parts: [busy] },
      { pid: 1, tid: 3, name: 'wrk:worker_1', parts: [idle] },
    ]);
    assert.ok(view);
    assert.equal(view.bucketSec, 4);
    assert.equal(view.startNs, 8e9, 'buckets before the first accept are left out');
    assert.equal(view.workers[0].counts.length, view.workers[1].counts.length);
    assert.deepEqual(view.workers[1].counts.slice(0, 2), [0, 7], 'second 12 is in the bucket from 12 to 15');
    assert.equal(
      view.workers[0].counts.reduce((a, b) => a + b),
      3 * SERIES_BUCKETS,
    );
  });

  it('a worker on two sockets (a listener re-made) has its parts added', () => {
    const a = newAcceptSeries();
    const b = newAcceptSeries();
    addToSeries(a, 0, 1, 2);
    addToSeries(b, 0, 1, 3);
    const view = seriesView(0, [{ pid: 1, tid: 2, name: 'w', parts: [a, b] }]);
    assert.deepEqual(view?.workers[0].counts, [5]);
    assert.equal(
      seriesView(undefined, [{ pid: 1, tid: 2, name: 'w', parts: [a] }]),
      undefined,
      'no time, no chart',
    );
  });
});
