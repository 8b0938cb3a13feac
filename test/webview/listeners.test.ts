// The listeners page in Debian's Chromium (test/webview/page.ts): the seed state as a tree, the
// keyboard, the saved UI state, a fleet and an ended process. Asserts the DOM, the posted
// messages, the CSP, and saves screenshots in test-results/.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TraceEvent } from '../../common/events';
import type { ListenerState } from '../../common/listeners-protocol';
import { reduceEvents } from '../../core/listeners/reducer';
import { importSeedOutput } from '../../core/listeners/seed-import';
import { openPage, recorded, root, send, servePage, skip } from './page';

servePage();
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

test(
  'a state that arrives between a press and its release does not lose the click',
  { skip, timeout: 60_000 },
  async () => {
    const { page, errors } = await openPage();
    try {
      await send(page, { type: 'state', state: seedState });
      const item = page.locator('[role="treeitem"][data-id$="/inet 0.0.0.0:15001"]');
      await item.waitFor();
      assert.equal(await item.getAttribute('aria-expanded'), 'true');
      // Another item has the focus: the press moves it (a blur inside the page, not of the page).
      await page.locator('[role="treeitem"][data-id$="/inet 127.0.0.1:15000"] > .row').click();
      // Counts the messages the page has handled (its own listener was added first).
      await page.evaluate(() => {
        const w = window as unknown as { handled: number };
        w.handled = 0;
        window.addEventListener('message', () => w.handled++);
      });
      const box = (await item.locator('> .row').boundingBox())!;
      await page.mouse.move(box.x + 40, box.y + box.height / 2);
      await page.mouse.down();
      // A live trace's next state, handled while the button is down.
      await send(page, { type: 'state', state: { ...seedState, events: seedState.events + 1 } });
      await page.waitForFunction(() => (window as unknown as { handled: number }).handled > 0);
      await page.mouse.up();
      await page.getByText(new RegExp(`^${seedState.events + 1} events`)).waitFor();
      assert.equal(await item.getAttribute('aria-expanded'), 'false', 'the click folded the listener');
      // A release the page never sees holds the renders only for a while.
      await page.mouse.down();
      await send(page, { type: 'state', state: { ...seedState, events: seedState.events + 2 } });
      await page.getByText(new RegExp(`^${seedState.events + 2} events`)).waitFor({ timeout: 10_000 });
      await page.mouse.up();
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
