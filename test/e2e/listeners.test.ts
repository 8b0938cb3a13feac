// Scenario 2 in the workbench: the Listeners sidebar (a webview) shows the mini-Envoy's listening
// sockets, the fds that share each one (the main thread's and one dup per worker) and, from a live
// listener trace on this machine, the accepts per worker over time (the chart); clicking a step
// shows its stack (Stacks view) and a frame opens its source (scenario 3, UI).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { connectAndClose } from '../helpers/net';
import { buildMiniEnvoy, type MiniEnvoy, startMiniEnvoy } from '../targets/mini-envoy';
import { skipReason, waitFor } from './rig';
import {
  expectEditorAt,
  goToPosition,
  openFile,
  openWorkbench,
  runCommand,
  type Workbench,
} from './workbench';

const skip = skipReason();
let wb: Workbench | undefined;
let page: Page;
let envoy: MiniEnvoy | undefined;

before(async () => {
  if (skip) return;
  const binaries = await buildMiniEnvoy();
  envoy = await startMiniEnvoy({ binary: binaries.clang, concurrency: 2 });
  wb = await openWorkbench('demo', {
    'fieldtrace.bpftrace.version': '0.17',
    'fieldtrace.stacks.documentLinks': true,
  });
  page = wb.page;
});

after(async () => {
  await wb?.close('listeners');
  await envoy?.stop();
});

/** The Listeners view's page: a webview is an iframe holding the extension's page in another. */
function sidebar(): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** In the process picker: filters by name and picks the row of `pid`, as a user would. */
async function pickProcess(name: string, pid: number): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  await widget.locator('input.input').fill(name);
  const row = widget
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-description', { hasText: new RegExp(`^pid ${pid}( |$)`) }) })
    .first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

test(
  'a node snapshot fills the Listeners sidebar with sockets and their fds',
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(envoy);
    await runCommand(page, 'Fieldtrace: Take Node Snapshot');
    await pickProcess('envoy', envoy.pid);
    const view = sidebar();
    for (const port of envoy.ports) {
      const listener = view.locator(`li[role="treeitem"][aria-label^="127.0.0.1:${port},"]`);
      await listener.waitFor({ timeout: 30_000 });
      assert.match((await listener.getAttribute('aria-label')) ?? '', /layout shared-dup/);
      // Envoy <= 1.19 layout: one socket, held by the main thread's fd and one dup per worker.
      const socket = listener.locator('li[role="treeitem"][aria-label^="socket "]').first();
      await waitFor(
        `the socket of ${port} with ${1 + envoy.concurrency} open fds`,
        async () =>
          new RegExp(`${1 + envoy!.concurrency} open fd`).test(
            (await socket.getAttribute('aria-label')) ?? '',
          ),
        15_000,
      );
    }
    const admin = view.locator(`li[role="treeitem"][aria-label^="127.0.0.1:${envoy.adminPort},"]`);
    assert.match(
      (await admin.getAttribute('aria-label')) ?? '',
      /layout single/,
      "the admin listener is the main thread's alone",
    );
    await wb!.screenshot('listeners-snapshot');
  },
);

test('a frame in a pasted stack trace is a link to its definition', { skip, timeout: 60_000 }, async () => {
  assert.ok(wb);
  await openFile(page, 'listen-main-thread.txt');
  const text = readFileSync(path.join(wb.sandbox.workspace, 'stacks', 'listen-main-thread.txt'), 'utf8');
  await goToPosition(page, text, 'Envoy::Network::TcpListenerImpl::TcpListenerImpl(');
  const link = page
    .locator('.editor-instance .view-lines .detected-link')
    .filter({ hasText: 'TcpListenerImpl::TcpListenerImpl' });
  await link.first().waitFor({ timeout: 20_000 });
  await runCommand(page, 'Open Link');
  await expectEditorAt(
    page,
    wb.sandbox.workspace,
    'envoy/source/common/network/tcp_listener_impl.cc',
    'TcpListenerImpl::TcpListenerImpl(',
  );
  await wb.screenshot('frames-document-link');
});

test(
  'a listener trace draws the accepts per worker over time beside the worker rows',
  { skip, timeout: 180_000 },
  async () => {
    assert.ok(envoy && wb);
    await runCommand(page, 'View: Show Fieldtrace');
    await runCommand(page, 'Fieldtrace: Run Listener Trace', undefined, 'opens another');
    // This machine is the only node: the process is asked at once; the typed pid is the first row.
    const widget = page.locator('.quick-input-widget');
    await widget
      .locator('.quick-input-title')
      .filter({ hasText: 'which process?' })
      .waitFor({ timeout: 30_000 });
    await widget.locator('input.input').fill(String(envoy.pid));
    await widget
      .locator('.monaco-list-row')
      .filter({ hasText: `trace pid ${envoy.pid}` })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 });
    try {
      const listener = sidebar()
        .locator(`li[role="treeitem"][aria-label^="127.0.0.1:${envoy.ports[0]},"]`)
        .first();
      const accepts = listener.locator('li[role="treeitem"].accepts');
      const chart = accepts.locator('li[role="treeitem"].chart-item');
      const total = async (): Promise<number> => {
        if ((await accepts.count()) === 0) return 0;
        return Number(/(\d+) total/.exec((await accepts.getAttribute('aria-label')) ?? '')?.[1] ?? 0);
      };
      // Load in rounds, each counted (the kernel's totals print once a second) before the next, so
      // that the accepts fall in more than one bucket; bounded in rounds and in time per round.
      for (let round = 0; round < 12 && (await chart.count()) === 0; round++) {
        const before = await total();
        await Promise.all(Array.from({ length: 10 }, () => connectAndClose(envoy!.ports[0])));
        await waitFor(`round ${round} counted`, async () => (await total()) > before, 15_000).catch(
          () => undefined,
        );
      }
      await chart.waitFor({ timeout: 15_000 });
      const svg = chart.locator('svg');
      assert.ok(await svg.isVisible(), 'the chart is drawn');
      const workers = await accepts.locator('li[role="treeitem"].worker').count();
      assert.ok(workers >= 1);
      assert.equal(await svg.locator('polyline').count(), workers, 'one line per worker row');
      assert.match(
        (await svg.getAttribute('aria-label')) ?? '',
        /^Chart of the accepts per worker over time, one line per worker: .+ from the first accept, \d+ s buckets; the highest bucket holds [1-9]\d*\. wrk:worker_/,
      );
      await chart.scrollIntoViewIfNeeded();
      await wb.screenshot('listeners-accept-chart');
    } finally {
      await runCommand(page, 'Fieldtrace: Stop Trace');
    }
  },
);
