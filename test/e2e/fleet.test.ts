// A fleet run in the workbench, on the installed .vsix: three "nodes" (sshd in network namespaces
// this test makes, one mini-Envoy each, the third without bpftrace). Run Listener Trace with the
// three picked, a pid typed on each node, the compatibility pick naming the node that cannot run
// it, the fleet in the Sessions view (its failed node on its own line), the Listeners view grouped
// by node then process, and Stop on the fleet leaving no bpftrace on any node.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { createNetns, netnsAvailable, type TestNetns } from '../helpers/netns';
import { type SshdHarness, sshdAvailable, startSshd } from '../helpers/sshd';
import { buildMiniEnvoy, type MiniEnvoy, startMiniEnvoy } from '../targets/mini-envoy';
import { skipReason, waitFor } from './rig';
import { openWorkbench, runCommand, type Workbench } from './workbench';

const skip =
  skipReason() ??
  (sshdAvailable() ? undefined : 'sshd is missing or not root') ??
  (netnsAvailable() ? undefined : 'network namespaces cannot be made here');

interface FleetNode {
  alias: string;
  netns: TestNetns;
  sshd: SshdHarness;
  envoy?: MiniEnvoy;
}

const nodes: FleetNode[] = [];
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  if (skip) return;
  const { clang } = await buildMiniEnvoy();
  for (const [i, alias] of ['fleet-a', 'fleet-b', 'fleet-c'].entries()) {
    const netns = createNetns(10 + i);
    const sshd = await startSshd({
      alias,
      netns: netns.name,
      address: netns.address,
      ...(nodes[0] ? { clientOf: nodes[0].sshd } : {}),
      hideBpftrace: i === 2,
    });
    const envoy =
      i < 2
        ? await startMiniEnvoy({
            binary: clang,
            prefix: netns.prefix,
            concurrency: 2,
            listeners: [`${netns.address}:0`],
          })
        : undefined;
    nodes.push({ alias, netns, sshd, envoy });
  }
  wb = await openWorkbench(
    'demo',
    { 'fieldtrace.bpftrace.version': '0.17', 'fieldtrace.trace.stopTimeoutSeconds': 5 },
    { HOME: nodes[0]!.sshd.home, SSH_AUTH_SOCK: undefined },
  );
  page = wb.page;
});

after(async () => {
  await wb?.close('fleet');
  for (const n of [...nodes].reverse()) {
    await n.envoy?.stop();
    await n.sshd.stop();
    n.netns.remove();
  }
});

function sidebar(): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** Types `text` into the quick input titled `title` (pickers follow each other at once) and accepts. */
async function answer(title: string, text: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title').filter({ hasText: title }).waitFor({ timeout: 60_000 });
  await widget.locator('input.input').fill(text);
  // The typed entry is listed first once the picker has read the text.
  await widget.locator('.monaco-list-row').filter({ hasText: text }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** bpftrace runs under the fleet's sshds (not other users' of this machine). */
function bpftraceOnNodes(): number[] {
  return nodes.flatMap((n) => n.sshd.processesNamed('bpftrace'));
}

test(
  'a listener trace on three picked nodes: compatibility, the fleet in Sessions, Listeners by node, Stop all',
  { skip, timeout: 300_000 },
  async () => {
    const [a, b] = nodes as [FleetNode, FleetNode, FleetNode];
    await runCommand(page, 'Fieldtrace: Run Listener Trace', undefined, 'opens another');
    // The next question follows at once, so the widget may never hide in between.
    const nodePick = page.locator('.quick-input-widget');
    for (const alias of ['fleet-a', 'fleet-b', 'fleet-c']) {
      const row = nodePick.locator('.monaco-list-row').filter({ hasText: alias }).first();
      await row.click({ timeout: 15_000 });
      await waitFor(
        `${alias} ticked`,
        async () => (await row.getAttribute('aria-checked')) === 'true',
        5_000,
      );
    }
    await page.keyboard.press('Enter');
    // Every mini-Envoy is named envoy and the kernel is shared: each node follows its own pid.
    const targetPick = page.locator('.quick-input-widget');
    await targetPick
      .locator('.monaco-list-row')
      .filter({ hasText: 'Pick the process on each node' })
      .first()
      .click({ timeout: 30_000 });
    await answer('Listener trace on fleet-a', String(a.envoy!.pid));
    await answer('Listener trace on fleet-b', String(b.envoy!.pid));

    // The compatibility pick: fleet-c cannot run it (no bpftrace), the others are picked.
    const widget = page.locator('.quick-input-widget');
    await widget
      .locator('.quick-input-title')
      .filter({ hasText: '2 of 3 nodes can run it' })
      .waitFor({ timeout: 90_000 });
    const rowC = widget.locator('.monaco-list-row').filter({ hasText: 'fleet-c' }).first();
    assert.match((await rowC.innerText()).replace(/\s+/g, ' '), /cannot trace.*bpftrace is not installed/);
    assert.equal(await rowC.getAttribute('aria-checked'), 'false');
    assert.equal(
      await widget
        .locator('.monaco-list-row')
        .filter({ hasText: 'fleet-a' })
        .first()
        .getAttribute('aria-checked'),
      'true',
    );
    await wb!.screenshot('fleet-compatibility');
    await page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 });

    // Sessions: one fleet entry, a session per started node, the failed node on its own line.
    await runCommand(page, 'View: Show Fieldtrace');
    const fleetItem = page.getByRole('treeitem', { name: /^Fleet of 3 · listeners of a process per node/ });
    await fleetItem.waitFor({ timeout: 60_000 });
    await page.getByRole('treeitem', { name: /^fleet-c · failed/ }).waitFor({ timeout: 30_000 });
    for (const alias of ['fleet-a', 'fleet-b'])
      await page.getByRole('treeitem', { name: new RegExp(`^${alias} · listeners of`) }).waitFor();

    // Connections to both envoys until each node's accepts show in the Listeners view.
    const view = sidebar();
    let connecting = true;
    const load = (async () => {
      for (let i = 0; connecting && i < 600; i++) {
        for (const n of [a, b])
          await new Promise<void>((resolve) => {
            const s = net.connect(n.envoy!.ports[0]!, n.netns.address, () => s.end());
            s.once('close', () => resolve());
            s.once('error', () => resolve());
          });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      for (const n of [a, b]) {
        const nodeItem = view.locator(`li[role="treeitem"][data-id="node:${n.alias}"]`);
        await nodeItem.waitFor({ timeout: 90_000 });
        assert.equal(await nodeItem.getAttribute('aria-level'), '1');
        await waitFor(
          `accepts of ${n.alias}`,
          async () => /[1-9]\d* accepts/.test((await nodeItem.getAttribute('aria-label')) ?? ''),
          60_000,
        );
        const processes = nodeItem.locator('li[role="treeitem"].process');
        assert.deepEqual(
          await processes.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))),
          [`${n.alias}/${n.envoy!.pid}`],
          `${n.alias} shows its own envoy only`,
        );
      }
    } finally {
      connecting = false;
      await load;
    }
    assert.equal(await view.locator('li[role="treeitem"][data-id="node:fleet-c"]').count(), 0);
    await wb!.screenshot('fleet-listeners');

    // Stop Trace offers the fleet as one choice: every node stops.
    await runCommand(page, 'Fieldtrace: Stop Trace', 'Fleet of 3');
    await page.getByRole('treeitem', { name: /^Fleet of 3 · .*, ended · \d+ events · 1 failed$/ }).waitFor({
      timeout: 60_000,
    });
    await waitFor('no bpftrace left on any node', () => bpftraceOnNodes().length === 0, 30_000);
  },
);
