// The view's render throttle with real timers: a burst of requests gives one render now, one per
// interval while it lasts, and always a last one after the final request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createThrottle } from '../../../core/listeners/throttle';

test('at most one run per interval, the latest request always served', async () => {
  const runs: number[] = [];
  const start = Date.now();
  const throttle = createThrottle(() => runs.push(Date.now() - start), 100);
  // 10k requests a second for 350 ms.
  while (Date.now() - start < 350) {
    for (let i = 0; i < 10; i++) throttle.request();
    await new Promise((r) => setTimeout(r, 1));
  }
  const requestsEnded = Date.now() - start;
  const deadline = Date.now() + 2000;
  while (runs.at(-1)! < requestsEnded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  throttle.dispose();
  // 350 ms of requests: at most 5 runs (0, 100, 200, 300, trailing); fewer if the loop stalls.
  assert.ok(runs.length >= 2 && runs.length <= 5, `runs at ${runs.join(', ')} ms`);
  assert.ok(runs[0] < 50, 'the first request renders at once');
  for (let i = 1; i < runs.length; i++)
    assert.ok(runs[i] - runs[i - 1] >= 95, `gap before run ${i}: ${runs.join(', ')}`);
  assert.ok(runs.at(-1)! >= requestsEnded, 'a run after the last request');
});

test('flush runs a pending request now; dispose drops it', async () => {
  let runs = 0;
  const throttle = createThrottle(() => runs++, 10_000);
  throttle.request();
  throttle.request();
  assert.equal(runs, 1);
  throttle.flush();
  assert.equal(runs, 2);
  throttle.flush();
  assert.equal(runs, 2, 'nothing pending');
  throttle.request();
  throttle.dispose();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(runs, 2);
});
