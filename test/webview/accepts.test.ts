// The "Accepts per worker" item in Debian's Chromium (test/webview/page.ts): a bar per worker,
// the accepts over time as a chart (one line per worker in its row's colour), Envoy's counters and
// balancing config beside the finding, error and busy states, and hostile thread names.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TraceEvent } from '../../common/events';
import type { ListenerState, ListenerView } from '../../common/listeners-protocol';
import { reduceEvents } from '../../core/listeners/reducer';
import { openPage, recorded, root, send, servePage, skip } from './page';

servePage();

/** A listener on port 15006 accepted by wrk:worker_0 (30) and a thread with a hostile name (10). */
function twoWorkerEvents(hostile: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const at = (tid: number, comm: string) => ({ timeNs: 1e9 + events.length * 1e6, pid: 50, tid, comm });
  events.push({ type: 'socket', ...at(50, 'envoy'), fd: 3, family: 'inet', socketType: 1 });
  events.push({
    type: 'bind',
    ...at(50, 'envoy'),
    fd: 3,
    address: { family: 'inet', address: '0.0.0.0', port: 15006 },
  });
  events.push({ type: 'listen', ...at(50, 'envoy'), fd: 3, backlog: 128 });
  for (let i = 0; i < 30; i++)
    events.push({ type: 'accept', ...at(51, 'wrk:worker_0'), listenFd: 3, fd: 10 });
  for (let i = 0; i < 10; i++) events.push({ type: 'accept', ...at(52, hostile), listenFd: 3, fd: 11 });
  return events;
}

test(
  'accept bars per worker, error and busy states, malformed messages and hostile names',
  { skip, timeout: 60_000 },
  async () => {
    const { page, errors } = await openPage();
    try {
      const events = twoWorkerEvents('<img src=x onerror=alert(1)>');
      const at = (tid: number, comm: string) => ({ timeNs: 1e9 + events.length * 1e6, pid: 50, tid, comm });
      const state: ListenerState = reduceEvents(events);
      await send(page, { type: 'state', state });
      const bars = page.locator('.worker .bar');
      await bars.first().waitFor();
      const widths = await bars.evaluateAll((els) => els.map((e) => (e as HTMLElement).style.width));
      // Sorted by name: the hostile name sorts before wrk:worker_0; the longest bar is the busiest worker.
      assert.deepEqual(widths, ['33.3333%', '100%']);
      const drawn = await Promise.all([0, 1].map(async (i) => (await bars.nth(i).boundingBox())?.width ?? 0));
      assert.ok(
        drawn[1] > 40 && Math.abs(drawn[0] * 3 - drawn[1]) < 3,
        `bars drawn ${drawn.join(', ')} px wide`,
      );
      const labels = await page
        .locator('.worker')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      assert.match(labels[1] ?? '', /^wrk:worker_0: 30 accepts, 75\.0% of the listener/);
      assert.equal(await page.locator('img').count(), 0, 'a traced name is text, never markup');
      await page.screenshot({
        path: path.join(root, 'test-results/listeners-webview-accepts.png'),
        fullPage: true,
      });
      assert.match(labels[0] ?? '', /^<img src=x onerror=alert\(1\)>: 10 accepts/);

      // A trace that counts in the kernel: running totals, and a warning when bpftrace lost events.
      events.push({ type: 'accepts', ...at(51, ''), listenFd: 3, total: 90 }, { type: 'lost', count: 5 });
      await send(page, { type: 'state', state: reduceEvents(events) });
      await page
        .getByRole('alert')
        .getByText(/bpftrace lost 5 events: .*stay exact/)
        .waitFor();
      await page.locator('.worker[aria-label^="wrk:worker_0: 90 accepts, 90.0%"]').waitFor();

      await send(page, { type: 'state', state: { version: 1, processes: 'nope' } });
      await send(page, { type: 'showStack', frames: [] });
      assert.equal(await page.locator('.worker').count(), 2, 'malformed messages change nothing');

      await send(page, { type: 'busy', message: 'Taking a snapshot of pid 50…' });
      await page.getByRole('status').getByText('Taking a snapshot of pid 50…').waitFor();
      await send(page, { type: 'error', message: 'Snapshot of pid 50 failed: no such process.' });
      await page.getByRole('alert').getByText('no such process').waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  },
);

/** `state` with its one listener changed by `change`. */
function withListener(state: ListenerState, change: (l: ListenerView) => ListenerView): ListenerState {
  return {
    ...state,
    processes: state.processes.map((p) => ({ ...p, listeners: p.listeners.map(change) })),
  };
}

/** The points of a polyline as numbers. */
function points(attr: string | null): [number, number][] {
  return (attr ?? '')
    .trim()
    .split(/\s+/)
    .map((p) => p.split(',').map(Number) as [number, number]);
}

test(
  'accepts over time: one step line per worker in its row colour, Envoy counters and config; no chart for one bucket',
  { skip, timeout: 60_000 },
  async () => {
    const hostile = '<svg onload=alert(1)>';
    const base = reduceEvents(twoWorkerEvents(hostile));
    // Rows are sorted by name: the hostile thread (row 0, first colour), then wrk:worker_0 (row 1).
    const counts: Record<string, number[]> = { [hostile]: [5, 0, 5], 'wrk:worker_0': [0, 10, 20] };
    const state = withListener(base, (l) => ({
      ...l,
      admin: { name: 'listener_0', workers: [{ worker: 0, total: 1234, active: 7 }] },
      acceptSeries: {
        startNs: 1e9,
        bucketSec: 1,
        // Not in row order: each line still takes its row's colour.
        workers: [...l.accepts]
          .reverse()
          .map((a) => ({ pid: a.pid, tid: a.tid, name: a.name, counts: counts[a.name] })),
      },
      balance: {
        ...(l.balance ?? {
          workers: 2,
          total: 40,
          maxOverMean: 1.5,
          cv: 0.5,
          cause: 'shared-queue',
          finding: 'x',
        }),
        admin: { workers: 2, total: 1234, maxOverMean: 1.9, cv: 0.875, since: 'trace' },
        config: {
          name: '<b>listener_0</b>',
          balancer: 'exact_balance',
          reusePort: true,
          reusePortFrom: 'default',
        },
      },
    }));
    const { page, errors } = await openPage();
    try {
      await page.setViewportSize({ width: 300, height: 900 });
      await send(page, { type: 'state', state });
      const chart = page.locator('.chart-item svg');
      await chart.waitFor();
      const lines = chart.locator('polyline');
      assert.equal(await lines.count(), 2, 'one line per worker');
      const rows = await page.locator('.worker').evaluateAll((els) =>
        els.map((e) => ({
          id: e.getAttribute('data-id')!.split('/').pop()!,
          name: e.querySelector('.label')!.textContent,
          colour: getComputedStyle(e.querySelector('.bar')!).backgroundColor,
        })),
      );
      assert.deepEqual(
        rows.map((r) => r.name),
        [hostile, 'wrk:worker_0'],
      );
      assert.notEqual(rows[0].colour, rows[1].colour, 'each worker its own colour');
      const worker0 = page.locator('.worker').nth(1);
      assert.match((await worker0.locator('.description').textContent()) ?? '', / · admin 1234, 7 open$/);
      assert.match(
        (await worker0.getAttribute('aria-label')) ?? '',
        /, Envoy admin counts 1234, 7 open now$/,
      );
      // viewBox units: 200 wide, 48 tall; the highest bucket (20) at the top, 0 on the axis.
      const expected: Record<string, [number, number][]> = {
        'wrk:worker_0': [
          [0, 48],
          [66.67, 48],
          [66.67, 24],
          [133.33, 24],
          [133.33, 0],
          [200, 0],
        ],
        [hostile]: [
          [0, 36],
          [66.67, 36],
          [66.67, 48],
          [133.33, 48],
          [133.33, 36],
          [200, 36],
        ],
      };
      for (const row of rows) {
        const line = chart.locator(`polyline[data-worker="${row.id}"]`);
        assert.deepEqual(points(await line.getAttribute('points')), expected[row.name!], row.name!);
        assert.equal(await line.locator('title').textContent(), row.name);
        const stroke = await line.evaluate((e) => getComputedStyle(e).stroke);
        assert.equal(stroke, row.colour, `${row.name}: the line in its row's colour`);
      }
      const summary = (await chart.getAttribute('aria-label')) ?? '';
      assert.match(
        summary,
        /^Chart of the accepts per worker over time, one line per worker: 3 s from the first accept, 1 s buckets; the highest bucket holds 20\./,
      );
      assert.match(summary, / wrk:worker_0 at most 20; <svg onload=alert\(1\)> at most 5\.$/);
      assert.equal(await chart.locator('> title').textContent(), summary);
      assert.match(
        (await page.locator('.chart-caption').textContent()) ?? '',
        /3 s from the first accept, 1 s buckets.*max 20 per bucket/,
      );
      // Untrusted names are text: no element came from them.
      assert.equal(await page.locator('#app svg svg, #app b, [onload]').count(), 0);
      // It fits the sidebar: nothing wider than the page, the chart inside it.
      const box = await chart.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 300 && box.width > 100, JSON.stringify(box));
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 300);
      assert.deepEqual((await recorded(page)).violations, [], 'no CSP violations');

      const line = (name: string) =>
        page.locator(`.accepts [data-id$="/accepts/${name}"] > .row .label`).textContent();
      assert.match(
        (await line('admin')) ?? '',
        /^Envoy's counters: max\/mean 1\.90, CV 0\.88 over 1234 connections \(since the trace began\); traced: max\/mean \d+\.\d\d, CV \d+\.\d\d over 40 accepts\.$/,
      );
      assert.equal(
        await line('config'),
        'Envoy listener <b>listener_0</b>: connection_balance_config: exact_balance · reuse_port on (default)',
      );
      await page.screenshot({
        path: path.join(root, 'test-results/listeners-webview-chart.png'),
        fullPage: true,
      });

      // One bucket: no chart; the rows stay.
      const oneBucket = withListener(state, (l) => ({
        ...l,
        acceptSeries: {
          ...l.acceptSeries!,
          workers: l.acceptSeries!.workers.map((w) => ({ ...w, counts: [w.counts[0]] })),
        },
      }));
      await send(page, { type: 'state', state: oneBucket });
      await page.locator('.chart-item').waitFor({ state: 'detached' });
      assert.equal(await page.locator('#app svg').count(), 0);
      assert.equal(await page.locator('.worker').count(), 2);
      // A series the extension never makes: the message's validator refuses the whole state, so
      // the page keeps what it had until the next good one.
      const bad = { pid: 50, tid: 51, name: 'x', counts: [1, 'two'] } as unknown as { counts: number[] };
      const malformed = withListener(state, (l) => ({
        ...l,
        acceptSeries: { ...l.acceptSeries!, workers: [{ ...l.acceptSeries!.workers[0], ...bad }] },
      }));
      await send(page, { type: 'state', state: { ...malformed, events: 999 } });
      await send(page, { type: 'state', state: { ...state, events: 1000 } });
      await page.getByText(/^1000 events/).waitFor();
      assert.equal(await page.getByText(/^999 events/).count(), 0);
      assert.equal(await page.locator('.chart-item').count(), 1);
      assert.equal(await page.locator('.worker').count(), 2);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  },
);
