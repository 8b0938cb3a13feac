// The listeners page in Debian's Chromium: the real built HTML and bundle (dist/webview) served on
// 127.0.0.1, a stubbed acquireVsCodeApi that records what the page posts, state pushed through
// messages as the extension pushes it. Asserts the DOM, the posted messages, the CSP, and saves a
// screenshot in test-results/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TraceEvent } from '../../common/events';
import type { ListenerState, ListenerView, ToWebviewMessage } from '../../common/listeners-protocol';
import { reduceEvents } from '../../core/listeners/reducer';
import { importSeedOutput } from '../../core/listeners/seed-import';
import { listenersHtml } from '../../webview/html';
import { chromiumPath, launchChromium } from '../e2e/rig';

const root = path.resolve(__dirname, '../..');
const dist = path.join(root, 'dist/webview');
const skip = !existsSync(chromiumPath) && process.env.CI !== 'true' ? 'Chromium is not installed' : false;
const seedDir = path.resolve(root, '../shared/seed');
const seedState = reduceEvents(
  importSeedOutput(
    readFileSync(
      path.join(
        seedDir,
        readdirSync(seedDir).find((f) => /^000_.*\.txt$/.test(f))!,
      ),
      'utf8',
    ),
  ).events,
);

/** Rebuilds when the bundle is missing or older than its sources. */
function ensureBuilt(): void {
  const sources = [
    ...readdirSync(path.join(root, 'webview')).map((f) => `webview/${f}`),
    'common/listeners-protocol.ts',
    'common/listener-states.ts',
  ];
  const built = path.join(dist, 'main.js');
  const stale =
    !existsSync(built) ||
    !existsSync(path.join(dist, 'codicon.ttf')) ||
    sources.some((s) => statSync(path.join(root, s)).mtimeMs > statSync(built).mtimeMs);
  if (!stale) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

let server: http.Server;
let origin = '';
let browser: Browser | undefined;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

before(async () => {
  if (skip) return;
  ensureBuilt();
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        listenersHtml({ cspSource: origin, baseUri: origin, nonce: randomBytes(18).toString('base64') }),
      );
      return;
    }
    const file = path.join(dist, path.basename(url.pathname));
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

interface Recorded {
  posted: unknown[];
  state: unknown;
  violations: string[];
}

/** Opens the page with a stubbed VS Code API (and optionally the state it saved before). */
async function openPage(savedState?: unknown): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 420, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // A string, not a function: tsx's transform would add helpers the page does not have.
  await page.addInitScript({
    content: `(() => {
      const rec = { posted: [], state: ${JSON.stringify(savedState ?? null)} ?? undefined, violations: [] };
      window.__rec = rec;
      document.addEventListener('securitypolicyviolation', (e) => rec.violations.push(e.violatedDirective + ' ' + e.blockedURI));
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => rec.posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => rec.state,
        setState: (s) => { rec.state = JSON.parse(JSON.stringify(s)); },
      });
    })();`,
  });
  await page.goto(origin);
  await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 0);
  return { page, errors };
}

const recorded = (page: Page) => page.evaluate(() => (window as unknown as { __rec: Recorded }).__rec);

async function send(page: Page, message: ToWebviewMessage | unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message as object);
}

test(
  'empty state, then the seed state as a tree with layout, fds, threads and options',
  { skip, timeout: 60_000 },
  async () => {
    const { page, errors } = await openPage();
    try {
      assert.deepEqual((await recorded(page)).posted, [{ type: 'ready' }]);
      await page.getByText('No listener state yet').waitFor();
      await page.locator('vscode-button[data-command="openLog"]').click();
      assert.deepEqual((await recorded(page)).posted.at(-1), { type: 'command', command: 'openLog' });

      await send(page, { type: 'state', state: seedState });
      const outbound = page.locator('[role="treeitem"][data-id$="/inet 0.0.0.0:15001"]');
      await outbound.waitFor();
      assert.match(
        (await outbound.getAttribute('aria-label')) ?? '',
        /^0\.0\.0\.0:15001, virtual outbound, layout shared-dup$/,
      );
      const fds = await outbound.locator('[role="treeitem"][data-id*="/fd"] > .row .label').allTextContents();
      assert.deepEqual(fds, ['fd 31', 'fd 37', 'fd 38']);
      const fd37 = (await outbound.locator('[data-id$="/fd2062496:37"]').getAttribute('aria-label')) ?? '';
      assert.match(
        fd37,
        /dup of fd 31 · by wrk:worker_1 · fd: listen\(\)ed on this fd by wrk:worker_1 · socket: LISTEN/,
      );
      assert.match(
        (await outbound.locator('.reason').first().textContent()) ?? '',
        /One socket, 3 fds in this process/,
      );
      assert.equal(
        await outbound.locator('[data-id$="/opt1:2"] .label').textContent(),
        'SOL_SOCKET/SO_REUSEADDR',
      );
      assert.equal(await page.locator('[role="tree"] > [role="treeitem"]').count(), 1, 'one process');
      assert.equal(await page.locator('[role="treeitem"][aria-level="2"].listener').count(), 5);
      // Codicons come from the codicon font under the CSP.
      const font = await page.evaluate(
        () => getComputedStyle(document.querySelector('.codicon')!).fontFamily,
      );
      assert.match(font, /codicon/);
      await page.evaluate(() => document.fonts.ready);
      assert.equal(await page.evaluate(() => document.fonts.check('16px codicon')), true);
      const rec = await recorded(page);
      assert.deepEqual(rec.violations, [], 'no CSP violations');
      assert.deepEqual(errors, []);
      mkdirSync(path.join(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: path.join(root, 'test-results/listeners-webview.png'), fullPage: true });
    } finally {
      await page.close();
    }
  },
);

test(
  'keyboard: timeline steps post showStack, frames post openFrame with their callee',
  { skip, timeout: 60_000 },
  async () => {
    const { page } = await openPage();
    try {
      await send(page, { type: 'state', state: seedState });
      const first = page.locator('[role="treeitem"]').first();
      await first.waitFor();
      await first.focus();
      // Walk down with the keyboard to the 15001 listener's timeline and open it with ArrowRight.
      const timelineId = await page
        .locator('[data-id$="/inet 0.0.0.0:15001/timeline"]')
        .getAttribute('data-id');
      for (let i = 0; i < 200; i++) {
        if ((await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id)) === timelineId)
          break;
        await page.keyboard.press('ArrowDown');
      }
      assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id), timelineId);
      await page.keyboard.press('ArrowRight');
      const timeline = page.locator(`[data-id="${timelineId}"]`);
      assert.equal(await timeline.getAttribute('aria-expanded'), 'true');
      // Focus stays on the timeline after the re-render; the next item is its first step.
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      const step = await page.evaluate(() =>
        (document.activeElement as HTMLElement).getAttribute('aria-label'),
      );
      assert.match(step ?? '', /^bind\(fd 31, 0\.0\.0\.0:15001\), envoy/);
      await page.keyboard.press('Enter');
      const shown = (await recorded(page)).posted.at(-1) as { type: string; title: string; frames: string[] };
      assert.equal(shown.type, 'showStack');
      assert.match(shown.title, /^bind\(fd 31, 0\.0\.0\.0:15001\) — envoy/);
      assert.equal(shown.frames[0], 'bind+11');
      assert.ok(shown.frames.length > 5);
      // Open the step's frames and activate the second one.
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press(' ');
      assert.deepEqual((await recorded(page)).posted.at(-1), {
        type: 'openFrame',
        frame: shown.frames[1],
        calleeFrame: 'bind+11',
      });
      // ArrowLeft on a frame goes to its step; Left again closes it.
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      assert.equal(
        await page.evaluate(() => (document.activeElement as HTMLElement).getAttribute('aria-expanded')),
        'false',
      );
    } finally {
      await page.close();
    }
  },
);

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
      // A series the extension never makes (the message's validator does not look inside it): drawn
      // as no chart, the rest of the state as usual.
      const bad = { pid: 50, tid: 51, name: 'x', counts: [1, 'two'] } as unknown as { counts: number[] };
      const malformed = withListener(state, (l) => ({
        ...l,
        acceptSeries: { ...l.acceptSeries!, workers: [{ ...l.acceptSeries!.workers[0], ...bad }] },
      }));
      await send(page, { type: 'state', state: { ...malformed, events: 999 } });
      await page.getByText(/^999 events/).waitFor();
      assert.equal(await page.locator('.chart-item').count(), 0);
      assert.equal(await page.locator('.worker').count(), 2);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  },
);

test(
  'open and closed items survive the view being hidden (saved UI state)',
  { skip, timeout: 60_000 },
  async () => {
    const first = await openPage();
    let saved: unknown;
    try {
      await send(first.page, { type: 'state', state: seedState });
      const admin = first.page.locator('[data-id$="/inet 127.0.0.1:15000"] > .row');
      await admin.click();
      assert.equal(
        await first.page.locator('[data-id$="/inet 127.0.0.1:15000"]').getAttribute('aria-expanded'),
        'false',
      );
      saved = (await recorded(first.page)).state;
    } finally {
      await first.page.close();
    }
    const second = await openPage(saved);
    try {
      await send(second.page, { type: 'state', state: seedState });
      const item = second.page.locator('[data-id$="/inet 127.0.0.1:15000"]');
      await item.waitFor();
      assert.equal(await item.getAttribute('aria-expanded'), 'false');
      assert.equal(
        await second.page.locator('[data-id$="/inet 0.0.0.0:15001"]').getAttribute('aria-expanded'),
        'true',
      );
    } finally {
      await second.page.close();
    }
  },
);

test(
  'a fleet groups by node, then process; one node shows no node level',
  { skip, timeout: 60_000 },
  async () => {
    const { page, errors } = await openPage();
    try {
      const onNode = (node: string) =>
        seedState.processes.map((p) => ({ ...p, node, pid: p.pid + (node === 'node-b' ? 1 : 0) }));
      const fleet: ListenerState = { ...seedState, processes: [...onNode('node-a'), ...onNode('node-b')] };
      await send(page, { type: 'state', state: fleet });
      const nodeA = page.locator('[role="treeitem"][data-id="node:node-a"]');
      await nodeA.waitFor();
      assert.equal(await nodeA.getAttribute('aria-level'), '1');
      const nodes = await page.locator('[role="treeitem"][aria-level="1"] > .row .label').allTextContents();
      assert.deepEqual(nodes, ['node-a', 'node-b']);
      const processes = nodeA.locator('[role="treeitem"].process');
      assert.equal(await processes.count(), seedState.processes.length);
      assert.equal(await processes.first().getAttribute('aria-level'), '2');
      // The listener rows sit one level below their process, as without a fleet.
      const listener = nodeA.locator('[role="treeitem"][data-id$="/inet 0.0.0.0:15001"]');
      assert.equal(await listener.getAttribute('aria-level'), '3');
      assert.equal(
        await page.locator('[role="tree"]').getAttribute('aria-label'),
        'Listeners by node and process',
      );
      await page.screenshot({
        path: path.join(root, 'test-results/listeners-webview-fleet.png'),
        fullPage: true,
      });

      await send(page, { type: 'state', state: seedState });
      await page.locator('[role="treeitem"][data-id="node:node-a"]').waitFor({ state: 'detached' });
      assert.equal(await page.locator('[role="treeitem"].process').first().getAttribute('aria-level'), '1');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  },
);

/** An Envoy ≤ 1.19 shape: bound on the main thread, listen() on each worker's dup; `exit` ends it. */
function dupLayoutEvents(pid: number, port: number, exit: boolean): TraceEvent[] {
  const at = (tid: number, comm: string, n: number) => ({ timeNs: n * 1000, pid, tid, comm });
  const events: TraceEvent[] = [
    { type: 'socket', ...at(pid, 'envoy', 1), fd: 5, family: 'inet', socketType: 1 },
    {
      type: 'bind',
      ...at(pid, 'envoy', 2),
      fd: 5,
      address: { family: 'inet', address: '127.0.0.1', port },
      result: 0,
    },
    { type: 'dup', ...at(pid + 1, 'wrk:worker_0', 3), oldFd: 5, newFd: 6, via: 'dup' },
    { type: 'listen', ...at(pid + 1, 'wrk:worker_0', 4), fd: 6, backlog: 128, result: 0 },
  ];
  if (exit) events.push({ type: 'exit', ...at(pid, 'envoy', 5), processExit: true });
  return events;
}

test(
  'an ended process folds into the "ended" group with what it held; fd and socket states are named apart',
  { skip, timeout: 60_000 },
  async () => {
    const state = reduceEvents([...dupLayoutEvents(100, 10000, true), ...dupLayoutEvents(200, 10000, false)]);
    const { page, errors } = await openPage();
    try {
      await send(page, { type: 'state', state });
      const top = page.locator('ul.tree > li[role="treeitem"]');
      await top.first().waitFor();
      // The running process first, then one "ended" group, closed.
      assert.deepEqual(await top.evaluateAll((lis) => lis.map((li) => li.dataset.id)), [
        'local/200',
        'processes/ended',
      ]);
      const ended = page.locator('[data-id="processes/ended"]');
      assert.equal(await ended.getAttribute('aria-expanded'), 'false');
      assert.match(
        (await ended.getAttribute('aria-label')) ?? '',
        /1 process\(es\) that exited · 1 listener/,
      );
      await ended.locator('.row').first().click();
      const gone = page.locator('[data-id="local/100"]');
      await gone.waitFor();
      assert.match((await gone.getAttribute('aria-label')) ?? '', /ended · held inet 127\.0\.0\.1:10000/);
      // The running one: the main thread's fd never called listen(), its socket is LISTEN.
      const fds = await page
        .locator('[data-id^="local/200/"][data-id*="/fd200:"]')
        .evaluateAll((lis) => lis.map((li) => li.getAttribute('aria-label') ?? ''));
      const main = fds.find((l) => l.startsWith('fd 5'));
      const worker = fds.find((l) => l.startsWith('fd 6'));
      assert.match(main ?? '', /fd: not listen\(\)ed on this fd · socket: LISTEN/, fds.join('\n'));
      assert.match(worker ?? '', /fd: listen\(\)ed on this fd by wrk:worker_0 \(201\) · socket: LISTEN/);
      assert.ok(!fds.some((l) => /(^|· )(not )?listening/.test(l)), 'no bare "listening" on an fd');
      mkdirSync(path.join(root, 'test-results'), { recursive: true });
      await page.screenshot({
        path: path.join(root, 'test-results', 'listeners-ended-group.png'),
        fullPage: true,
      });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  },
);
