// Scenarios 2-4 in the workbench, on the installed .vsix: "Run Listener Trace" on a node reached
// over SSH (a real sshd on 127.0.0.1; the workbench's HOME holds its ~/.ssh/config and
// known_hosts), the mini-Envoy started after the trace attached, the trace terminal's events,
// the sidebar's fds per thread and accepts per worker, a step's stack in the Stacks view and a
// frame opened from it and from the terminal; Stop leaves no bpftrace; a node's compile error
// lands in Problems; a changed host key is refused with OpenSSH's warning.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { sshdAvailable, type SshdHarness, startSshd } from '../helpers/sshd';
import {
  buildMiniEnvoy,
  type MiniEnvoy,
  type MiniEnvoyBinaries,
  startMiniEnvoy,
  TARGETS_DIR,
} from '../targets/mini-envoy';
import { freePort, skipReason, waitFor } from './rig';
import {
  expectEditorAt,
  openCommandPalette,
  openFile,
  openWorkbench,
  pickMany,
  positionOf,
  runCommand,
  setPaneExpanded,
  type Workbench,
} from './workbench';

const skip = skipReason() ?? (sshdAvailable() ? undefined : 'sshd is missing or not root');
const node = 'loopback-node';
const listenerSession = 'listeners of envoy';
let wb: Workbench | undefined;
let page: Page;
let sshd: SshdHarness | undefined;
let envoy: MiniEnvoy | undefined;
let binaries: MiniEnvoyBinaries;

before(async () => {
  if (skip) return;
  binaries = await buildMiniEnvoy();
  sshd = await startSshd({ alias: node });
  wb = await openWorkbench(
    'demo',
    {
      'fieldtrace.bpftrace.version': '0.17',
      'fieldtrace.trace.stopTimeoutSeconds': 5,
      // Stacks make long output: keep all of it searchable (the default keeps 1,000 lines).
      'terminal.integrated.scrollback': 20_000,
    },
    // The extension reads ~/.ssh from HOME; no agent: the harness's key file is the identity.
    { HOME: sshd.home, SSH_AUTH_SOCK: undefined },
  );
  page = wb.page;
});

after(async () => {
  await wb?.close('trace');
  await envoy?.stop();
  await sshd?.stop();
});

/**
 * Brings a session's trace terminal to the front and opens its find widget: the Sessions tree
 * lists the session first (its terminal exists from then on), "Show Trace Output" shows it
 * (asking which session when there are several), "Terminal: Focus Terminal" focuses it.
 */
async function focusTraceTerminal(session: string): Promise<Locator> {
  await runCommand(page, 'View: Show Fieldtrace');
  await page
    .getByRole('treeitem', { name: new RegExp(`^${node} · ${session}`) })
    .first()
    .waitFor({ timeout: 60_000 });
  await openCommandPalette(page);
  await page.locator('.quick-input-widget input.input').fill('>Fieldtrace: Show Trace Output');
  await page
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: 'Show Trace Output' })
    .first()
    .click();
  // With several sessions a quick pick asks which one; with one, the terminal just shows.
  const picker = page
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: `${node} · ${session}` });
  await waitFor(
    'the trace terminal or the session pick',
    async () => (await picker.count()) > 0 || !(await page.locator('.quick-input-widget').isVisible()),
  );
  if ((await picker.count()) > 0) await picker.first().click();
  const find = page.locator('.simple-find-part.visible').filter({ visible: true }).first();
  // A terminal that has just been made may not take the focus at once: try again until it does.
  await waitFor(
    'the terminal find widget',
    async () => {
      await runCommand(page, 'Terminal: Focus Terminal');
      await page.keyboard.press('Control+F');
      return find.waitFor({ timeout: 2_000 }).then(
        () => true,
        () => false,
      );
    },
    20_000,
  );
  const regex = find.locator('.codicon-regex');
  if ((await regex.getAttribute('aria-checked')) !== 'true') await regex.click();
  return find;
}

/**
 * Searches the whole trace terminal of `session` (not only the rows on screen) with its find
 * widget, as a user would, until `pattern` (a regex) matches.
 */
async function terminalShows(
  session: string,
  what: string,
  pattern: string,
  timeoutMs = 60_000,
): Promise<number> {
  const find = await focusTraceTerminal(session);
  const input = find.locator('input');
  const count = find.locator('.matchesCount');
  const matches = async (): Promise<number | undefined> => {
    const text = (await count.innerText({ timeout: 2_000 })).trim();
    if (!text || /no results/i.test(text)) return undefined;
    return Number(/of (\d+)/.exec(text)?.[1] ?? /(\d+)/.exec(text)?.[1] ?? 0) || undefined;
  };
  return waitFor(
    what,
    async () => {
      // A new query on each look (the count is computed when the query changes, not when output
      // arrives), then time for the search: a long buffer takes a while.
      await input.fill('', { timeout: 2_000 });
      await input.fill(pattern, { timeout: 2_000 });
      return waitFor(`matches of ${pattern}`, matches, 3_000, 200).catch(() => undefined);
    },
    timeoutMs,
    250,
  );
}

/**
 * "Run Listener Trace" on one node: the node pick takes several nodes (a fleet), so the node is
 * ticked and the pick accepted.
 */
async function runListenerTrace(nodeName: string): Promise<void> {
  await runCommand(page, 'Fieldtrace: Run Listener Trace', undefined, 'opens another');
  const widget = page.locator('.quick-input-widget');
  await widget
    .locator('.quick-input-title')
    .filter({ hasText: 'Run on which nodes?' })
    .waitFor({ timeout: 15_000 });
  const row = widget.locator('.monaco-list-row').filter({ hasText: nodeName }).first();
  await row.click({ timeout: 15_000 });
  await waitFor(`${nodeName} ticked`, async () => (await row.getAttribute('aria-checked')) === 'true', 5_000);
  await page.keyboard.press('Enter');
}

async function answerInput(text: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  // The listener trace connects to its node before it asks for the process; the node pick may
  // still be closing, so the process pick is known by its title.
  await widget
    .locator('.quick-input-title')
    .filter({ hasText: 'which process?' })
    .waitFor({ timeout: 30_000 });
  await widget.locator('input.input').fill(text);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

function sidebar(): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

function treeItem(scope: FrameLocator | Locator, ariaPrefix: string): Locator {
  return scope.locator(`li[role="treeitem"][aria-label^="${ariaPrefix}"]`);
}

async function connect(port: number, count: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1', () => socket.end());
          socket.once('close', () => resolve());
          socket.once('error', reject);
        }),
    ),
  );
}

/** bpftrace processes started under the harness's sshd, i.e. ours on the node. */
function bpftraceUnderSshd(): number[] {
  assert.ok(sshd);
  return sshd.processesNamed('bpftrace');
}

/** Every line of the session logs (`*.jsonl`) under `root`, for a failure's message. */
function sessionLogLines(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, depth + 1);
      else if (entry.name.endsWith('.jsonl')) lines.push(...readFileSync(full, 'utf8').split('\n'));
    }
  };
  walk(root, 0);
  return lines;
}

test(
  'Run Listener Trace over SSH streams the mini-Envoy start into the trace terminal',
  { skip, timeout: 120_000 },
  async () => {
    await runListenerTrace(node);
    await answerInput('envoy');
    // Showing the Fieldtrace container also keeps the sidebar (rendered only while visible) live.
    await terminalShows(listenerSession, 'the trace to attach', 'Attaching \\d+ probes?', 60_000);
    // Fixed ports (free a moment ago): a bind to port 0 would show in the trace as port 0.
    envoy = await startMiniEnvoy({
      binary: binaries.clang,
      concurrency: 2,
      adminPort: await freePort(),
      listeners: [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`],
    });
    const pid = envoy.pid;
    // The main thread binds; each worker listens on its dup of the listen fd (Envoy <= 1.19 layout).
    await terminalShows(listenerSession, 'the main thread binding', `^envoy\\[${pid}/${pid}\\] .*bind`);
    for (const worker of ['wrk:worker_0', 'wrk:worker_1'])
      await terminalShows(listenerSession, `${worker} listening`, `^${worker}\\[${pid}/\\d+\\] .*listen`);
    // One line per event: each stack is folded into one link line, no frame printed.
    await terminalShows(
      listenerSession,
      'a folded stack line',
      '^ +stack: \\d+ frames, \\d+ in source \\[#\\d+: open in Stacks\\]$',
    );
    const frameLines = await terminalShows(listenerSession, 'no frame lines', '^ +Envoy::', 3_000).catch(
      () => 0,
    );
    assert.equal(frameLines, 0, 'no stack frame printed in the terminal');
    await wb!.screenshot('trace-terminal');
    // The Stacks view followed the latest stacked event by itself: no step or link was clicked.
    await runCommand(page, 'View: Show Fieldtrace');
    // The layout as installed: Listeners open with the room, Stacks and About folded.
    const expanded = (title: string) =>
      page.locator(`.pane-header[aria-label^="${title} Section"]`).first().getAttribute('aria-expanded');
    assert.equal(await expanded('Listeners'), 'true');
    assert.equal(await expanded('Stacks'), 'false');
    assert.equal(await expanded('Fieldtrace'), 'false');
    await setPaneExpanded(page, 'Stacks', true);
    await page
      .getByRole('treeitem', { name: /TcpListenerImpl/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await wb!.screenshot('trace-stacks-followed');
  },
);

test(
  'the sidebar shows each listener with the main thread fd, one fd per worker and the accepts',
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(envoy);
    const port = envoy.ports[0];
    await connect(port, 40);
    const view = sidebar();
    const listener = treeItem(view, `127.0.0.1:${port},`);
    await listener.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
      const labels = await view
        .locator('li[role="treeitem"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      throw new Error(`${error.message}\nsidebar items:\n${labels.join('\n')}`);
    });
    // The view renders at most 10 times a second: the dups may land a render later.
    await waitFor('the shared-dup layout', async () =>
      /layout shared-dup/.test((await listener.getAttribute('aria-label')) ?? ''),
    );
    const socket = treeItem(listener, 'socket ').first();
    await waitFor(
      '3 open fds on the socket',
      async () => /3 open fd/.test((await socket.getAttribute('aria-label')) ?? ''),
      20_000,
    );
    const fds = await treeItem(socket, 'fd ').evaluateAll((els) =>
      els.map((e) => e.getAttribute('aria-label') ?? ''),
    );
    for (const thread of ['envoy', 'wrk:worker_0', 'wrk:worker_1'])
      assert.ok(
        fds.some((f) => f.includes(thread)),
        `an fd of ${thread} in ${fds.join(' | ')}`,
      );
    // The main thread's fd never called listen(); its socket is LISTEN: both said, each named.
    const mainFd = fds.find((f) => f.includes('socket() · by envoy'));
    assert.match(mainFd ?? '', /fd: not listen\(\)ed on this fd · socket: LISTEN/, fds.join(' | '));
    for (const f of fds.filter((x) => x.includes('by wrk:worker_')))
      assert.match(f, /fd: listen\(\)ed on this fd by wrk:worker_\d.* · socket: LISTEN/);
    const accepts = treeItem(listener, 'Accepts per worker');
    await waitFor(
      '40 accepts',
      async () => /40 total/.test((await accepts.getAttribute('aria-label')) ?? ''),
      30_000,
    );
    const workers = await treeItem(accepts, 'wrk:worker_').evaluateAll((els) =>
      els.map((e) => e.getAttribute('aria-label') ?? ''),
    );
    const total = workers.reduce((sum, w) => sum + Number(/: (\d+) accepts/.exec(w)?.[1] ?? 0), 0);
    assert.equal(total, 40, `accepts per worker add up: ${workers.join(' | ')}`);
    // The README's picture: the example script beside the Listeners view given most of the side bar.
    await openFile(page, 'listeners.bt');
    for (const pane of ['Fieldtrace', 'Stacks', 'Trace Sessions']) await setPaneExpanded(page, pane, false);
    // Cosmetic (the picture): the view may re-render the item meanwhile.
    await listener.scrollIntoViewIfNeeded().catch(() => undefined);
    await wb!.screenshot('trace-sidebar');
    for (const pane of ['Stacks', 'Trace Sessions']) await setPaneExpanded(page, pane, true);
  },
);

test(
  'a step shows its stack; a frame in the Stacks view and one in the sidebar open their definitions',
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(envoy && wb);
    const listener = treeItem(sidebar(), `127.0.0.1:${envoy.ports[0]},`);
    // Fold the welcome pane so the Stacks and Listeners views get the room (README screenshot).
    await setPaneExpanded(page, 'Fieldtrace', false);
    // The timeline is folded until opened, as a user would open it.
    assert.ok(bpftraceUnderSshd().length > 0, 'the listener trace still runs');
    await treeItem(listener, 'Timeline').locator('.row').first().click();
    const step = listener
      .locator('li.step[role="treeitem"]')
      .filter({ hasText: /listen/ })
      .filter({ hasText: 'wrk:worker_' })
      .first();
    await step.locator('.row').first().click();
    const frame = page.getByRole('treeitem', { name: /TcpListenerImpl::setupServerSocket/ }).first();
    await frame.waitFor({ timeout: 20_000 });
    await wb.screenshot('trace-stacks-view');
    await frame.click();
    await expectEditorAt(
      page,
      wb.sandbox.workspace,
      'envoy/source/common/network/tcp_listener_impl.cc',
      'TcpListenerImpl::setupServerSocket(',
    );
    await wb.screenshot('trace-workbench');
    // The same stack's frames are listed under the step in the sidebar: one opens its source too.
    const sidebarFrame = step
      .locator('li.frame[role="treeitem"]')
      .filter({ hasText: 'IoSocketHandleImpl::listen' });
    await sidebarFrame.locator('.row').first().click();
    await expectEditorAt(
      page,
      wb.sandbox.workspace,
      'envoy/source/common/network/io_socket_handle_impl.cc',
      'IoSocketHandleImpl::listen(',
    );
  },
);

test(
  'a folded stack line in the trace terminal opens its stack in the Stacks view',
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(wb);
    assert.ok(bpftraceUnderSshd().length > 0, 'the listener trace still runs');
    await runCommand(page, 'Notifications: Clear All Notifications');
    const needle = 'open in Stacks]';
    // The find widget scrolls the terminal to a match, so a folded line is on screen.
    await terminalShows(listenerSession, 'a folded stack line', 'stack: \\d+ frames');
    await page.keyboard.press('Escape');
    // Where the line's text is drawn (the DOM renderer: one span per run of text), and the event
    // line above it (the stack's title). Looked up again on each try: output can scroll.
    const lineBox = () =>
      page.evaluate((text) => {
        const rows = document.querySelector('.terminal-wrapper.active .xterm-rows');
        for (const row of Array.from(rows?.children ?? [])) {
          const line = (row.textContent ?? '').replace(/\u00a0/g, ' ');
          if (!line.includes(text)) continue;
          const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const at = (n.textContent ?? '').replace(/\u00a0/g, ' ').indexOf('stack:');
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(n, at + 2);
            range.setEnd(n, at + 3);
            const r = range.getBoundingClientRect();
            const title = (row.previousElementSibling?.textContent ?? '').replace(/\u00a0/g, ' ').trim();
            // A line on the top row has its event line scrolled away: take another.
            if (r.width > 0 && title) return { x: r.x + r.width / 2, y: r.y + r.height / 2, title, line };
          }
        }
        return undefined;
      }, needle);
    const hover = page.getByText('Show this stack in the Stacks view').first();
    const box = await waitFor(
      'the link hover on the folded stack line',
      async () => {
        const at = await lineBox();
        if (!at) return undefined;
        await page.mouse.move(at.x, at.y - 80);
        await page.mouse.move(at.x, at.y, { steps: 5 });
        return (await hover.waitFor({ timeout: 2_000 }).then(
          () => true,
          () => false,
        ))
          ? at
          : undefined;
      },
      30_000,
    );
    await page.keyboard.down('Control');
    try {
      await page.mouse.click(box.x, box.y);
    } finally {
      await page.keyboard.up('Control');
    }
    // The stack of that line heads the Stacks view, titled by its event line, frames below.
    assert.ok(box.title, 'the event line above the folded stack');
    const shown = page.getByRole('treeitem', { name: box.title }).first();
    await shown.waitFor({ timeout: 20_000 });
    // Revealed and open: its frames listed under it (which frames depends on the line clicked).
    await waitFor(
      'the stack open with its frames',
      async () => (await shown.getAttribute('aria-expanded')) === 'true',
      10_000,
    );
    assert.ok(Number(/stack: (\d+) frame/.exec(box.line)?.[1] ?? 0) > 0, box.line);
    await wb.screenshot('trace-folded-stack-link');
  },
);

test(
  'Stop Trace ends the session and leaves no bpftrace on the node',
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(bpftraceUnderSshd().length > 0, 'bpftrace runs under sshd before the stop');
    // The mini-Envoy exits while traced: it folds into the "ended" group with what it held.
    assert.ok(envoy);
    await envoy.stop();
    const ended = treeItem(sidebar(), 'ended, ');
    await ended.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
      // Say why: what the sidebar shows, and whether the session log has the exit at all.
      const labels = await sidebar()
        .locator('li[role="treeitem"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      const exits = sessionLogLines(wb!.sandbox.root).filter((l) => /"type":"(exit|lost|ended)"/.test(l));
      throw new Error(
        `${error.message}\nsidebar items:\n${labels.join('\n')}\nexit, lost and ended events in the session logs:\n${exits.slice(-20).join('\n')}`,
      );
    });
    await ended.locator('.row').first().click();
    const gone = treeItem(ended, `envoy, pid ${envoy.pid}`);
    await gone.waitFor({ timeout: 10_000 });
    assert.match(
      (await gone.getAttribute('aria-label')) ?? '',
      new RegExp(`ended · held .*inet 127\\.0\\.0\\.1:${envoy.ports[0]}`),
    );
    await wb!.screenshot('trace-ended-process');
    await runCommand(page, 'Fieldtrace: Stop Trace');
    await terminalShows(listenerSession, 'the session to end', '^bpftrace ended');
    await waitFor('no bpftrace under sshd', () => bpftraceUnderSshd().length === 0, 10_000);
  },
);

test(
  "a script error reported by the node's bpftrace lands in Problems",
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(wb);
    // Written for a newer bpftrace (args is a struct since 0.19): the node's 0.17 rejects
    // `args.fd`, and its error must land on the script with the node as its source.
    const script = 'tracepoint:syscalls:sys_enter_bind { @binds[args.fd] = count(); }\n';
    writeFileSync(path.join(wb.sandbox.workspace, 'newer.bt'), script);
    await openFile(page, 'newer.bt');
    await runCommand(page, 'Fieldtrace: Run Trace on Node…', undefined, 'opens another');
    await pickMany(page, [node]);
    await terminalShows('newer.bt', 'the node rejecting the script', 'newer\\.bt:1:\\d+-\\d+: ERROR');
    await runCommand(page, 'View: Focus Problems');
    const row = page.locator('.markers-panel .monaco-list-row').filter({ hasText: `bpftrace@${node}` });
    await row.first().waitFor({ timeout: 60_000 });
    // bpftrace reports 1:38-50, the map access: the diagnostic starts there.
    const text = (await row.first().innerText()).replace(/\s+/g, ' ');
    assert.match(text, /Can not access field 'fd'/);
    const { column } = positionOf(script, '@binds[args.fd]');
    assert.match(text, new RegExp(`\\[Ln 1, Col ${column}\\]`), text);
    await wb.screenshot('trace-node-error');
    await waitFor(
      'no bpftrace under sshd after the failed run',
      () => bpftraceUnderSshd().length === 0,
      10_000,
    );
  },
);

test('a changed host key is refused with the warning', { skip, timeout: 60_000 }, async () => {
  assert.ok(sshd);
  // A second alias for the same sshd: no cached connection, and known_hosts now holds another key.
  const alias = 'changed-key-node';
  sshd.addLoopbackHost(alias);
  sshd.clearKnownHosts();
  sshd.trustWrongHostKey();
  // The node is connected to before the process is asked for: the refusal comes first.
  await runListenerTrace(alias);
  const toast = page
    .locator('.notifications-toasts')
    .filter({ hasText: 'REMOTE HOST IDENTIFICATION HAS CHANGED' });
  await toast.first().waitFor({ timeout: 30_000 });
  await wb!.screenshot('trace-changed-host-key');
  assert.deepEqual(bpftraceUnderSshd(), []);
});

test(
  'with the debug binary at hand, a frame opens the exact line of its call (DWARF)',
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(envoy && wb);
    const listener = treeItem(sidebar(), `127.0.0.1:${envoy.ports[0]},`);
    const step = listener
      .locator('li.step[role="treeitem"]')
      .filter({ hasText: /listen/ })
      .filter({ hasText: 'wrk:worker_' })
      .first();
    const source = readFileSync(
      path.join(wb.sandbox.workspace, 'envoy', 'source', 'common', 'network', 'tcp_listener_impl.cc'),
      'utf8',
    );
    await runCommand(page, 'View: Show Fieldtrace');
    // With the traced binary's debug info at hand, a sidebar frame opens the exact line of the
    // call (DWARF), not the definition. The build ran in test/targets/mini-envoy; the workspace
    // holds that tree as envoy/.
    const settings = path.join(wb.sandbox.workspace, '.vscode', 'settings.json');
    mkdirSync(path.dirname(settings), { recursive: true });
    const writeSettings = (debugBinaryNode?: string) =>
      writeFileSync(
        settings,
        JSON.stringify({
          'fieldtrace.stacks.debugBinary': binaries.clang,
          'fieldtrace.stacks.pathMappings': [
            { from: `${path.join(TARGETS_DIR, 'mini-envoy')}/`, to: '${workspaceFolder}/envoy/' },
          ],
          ...(debugBinaryNode ? { 'fieldtrace.stacks.debugBinaryNode': debugBinaryNode } : {}),
        }),
      );
    writeSettings();
    const callLine = positionOf(source, 'ioHandle().listen(').line;
    const opensLine = async (wanted: number) => {
      // No editor before the click: the tab that appears is this click's (an older click's open
      // is dropped once a newer one is asked for), and none is left to land in the next test.
      await runCommand(page, 'View: Close All Editors');
      await step
        .locator('li.frame[role="treeitem"]')
        .filter({ hasText: 'TcpListenerImpl::setupServerSocket' })
        .locator('.row')
        .first()
        .click();
      await page
        .locator('.tabs-container .tab.active[aria-label^="tcp_listener_impl.cc"]')
        .waitFor({ timeout: 10_000 });
      return (await page.locator('[id="status.editor.selection"]').innerText()).includes(`Ln ${wanted},`);
    };
    // The settings file reaches the extension through the file watcher: click until it applies.
    await waitFor(`the frame opening line ${callLine} (DWARF)`, () => opensLine(callLine), 30_000, 500);
    // The binary on a node that cannot be reached: one warning, and frames open their definitions.
    assert.ok(sshd);
    sshd.addHost('no-sshd-node', {
      HostName: '127.0.0.1',
      Port: String(await freePort()),
      User: 'root',
      IdentityFile: sshd.clientKey,
    });
    writeSettings('no-sshd-node');
    const definitionLine = positionOf(source, 'TcpListenerImpl::setupServerSocket(').line;
    await waitFor(
      `the frame falling back to line ${definitionLine}`,
      () => opensLine(definitionLine),
      30_000,
      500,
    );
    await page
      .locator('.notifications-toasts')
      .filter({ hasText: 'no exact lines from the debug binary' })
      .first()
      .waitFor({ timeout: 10_000 });
    // On the loopback node, nm and addr2line run over SSH: the exact line again.
    writeSettings(node);
    await waitFor(
      `the frame opening line ${callLine} (DWARF over SSH)`,
      () => opensLine(callLine),
      30_000,
      500,
    );
    // The step's stack shown again: the Stacks view resolves it with the debug binary too.
    await step.locator('.row').first().click();
    const exactRow = page
      .locator('.monaco-list-row')
      .filter({ hasText: 'TcpListenerImpl::setupServerSocket' })
      .filter({ hasText: `tcp_listener_impl.cc:${callLine}` });
    await exactRow.first().waitFor({ timeout: 20_000 });
    await wb.screenshot('trace-stacks-view-dwarf');
  },
);

test(
  'a dropped connection ends the trace, and the node is checked for a leftover bpftrace',
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(sshd && wb);
    // The host-key test left a wrong key on record; the check after the drop connects again.
    sshd.clearKnownHosts();
    sshd.trustHostKey();
    await runCommand(page, 'Notifications: Clear All Notifications');
    await runListenerTrace(node);
    await answerInput('envoy');
    await waitFor('bpftrace under sshd', () => bpftraceUnderSshd().length > 0, 30_000);
    // After the drop our bpftrace would hang from init, not sshd: its pids are kept to look for.
    const ours = bpftraceUnderSshd();
    // The network goes: every sshd process serving a connection is killed, as a reboot or a
    // dropped link would end them; the listening sshd stays for the check.
    const listener = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8').trim());
    const sessions = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === listener;
        } catch {
          return false;
        }
      })
      .map(Number);
    assert.ok(sessions.length > 0, 'sshd serves the extension');
    for (const pid of sessions) process.kill(pid, 'SIGKILL');
    await page
      .locator('.notifications-toasts')
      .filter({ hasText: 'no bpftrace of it remains on the node' })
      .first()
      .waitFor({ timeout: 45_000 });
    await wb.screenshot('trace-connection-dropped');
    // Other users of this machine may run bpftrace of their own: only this trace's counts.
    const left = ours.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bpftrace';
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, [], "the trace's bpftrace is gone from the node");
  },
);
