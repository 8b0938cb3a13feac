// Source -> probe in the workbench UI, on the installed .vsix: the "Trace on node…" CodeLens on a
// mini-Envoy constructor, with the running mini-Envoy picked on this machine, opens a bpftrace
// document bound to the node whose uprobes name that constructor's mangled symbols in the binary
// the process runs, and which carries the one-click "Run on This machine" lens; completion after
// `uprobe:BINARY:` there offers that binary's functions and inserts the mangled name.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { buildMiniEnvoy, type MiniEnvoy, startMiniEnvoy } from '../targets/mini-envoy';
import { skipReason } from './rig';
import { openFile, openWorkbench, type Workbench } from './workbench';

const skip = skipReason();
let wb: Workbench | undefined;
let page: Page;
let envoy: MiniEnvoy | undefined;
let binary: string;

before(async () => {
  if (skip) return;
  binary = (await buildMiniEnvoy()).gcc;
  wb = await openWorkbench('basic', { 'fieldtrace.bpftrace.version': '0.17' });
  page = wb.page;
  // The sandbox's workspace (the default source root) holds the mini-Envoy's sources as envoy/.
  envoy = await startMiniEnvoy({ binary });
});

after(async () => {
  await envoy?.stop();
  await wb?.close('probe');
});

test(
  'the CodeLens on a C++ constructor opens a bound bpftrace document with its probes',
  { skip, timeout: 180_000 },
  async () => {
    await openFile(page, 'dispatcher_impl.cc');
    const lens = page.locator('.codelens-decoration a').filter({ hasText: 'Trace on node…' }).first();
    await lens.waitFor({ timeout: 60_000 });
    await lens.click();
    const widget = page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout: 30_000 });
    // Several nodes (an SSH config on this machine): This machine; else the process picker is first.
    const title = await widget.innerText();
    if (/Run on which node\?/.test(title)) {
      await widget.locator('input.input').fill('This machine');
      await widget.locator('.monaco-list-row').filter({ hasText: 'This machine' }).first().click();
    }
    await widget.filter({ hasText: /which process/ }).waitFor({ timeout: 30_000 });
    await widget.locator('input.input').fill(String(envoy!.pid));
    const row = widget
      .locator('.monaco-list-row')
      .filter({ hasText: `pid ${envoy!.pid}` })
      .first();
    await row.waitFor({ timeout: 30_000 });
    // Another process whose line also matches the digits may be the focused row: pick this one.
    if ((await row.getAttribute('class'))?.split(' ').includes('focused')) await page.keyboard.press('Enter');
    else await row.click();
    // The new untitled document holds the uprobes on the constructor's C1 and C2 symbols.
    const lines = page.locator('.editor-instance .view-lines');
    await lines.filter({ hasText: '_ZN5Envoy5Event14DispatcherImplC1E' }).waitFor({ timeout: 90_000 });
    const text = (await lines.first().innerText()).replace(/\u00a0/g, ' ');
    assert.match(
      text,
      new RegExp(`uprobe:${binary.replace(/[/.]/g, '\\$&')}:_ZN5Envoy5Event14DispatcherImplC2E`),
    );
    assert.match(text, /@calls\[probe, comm, tid\] = count\(\);/);
    assert.match(text, new RegExp(`/pid == ${envoy!.pid}/`));
    await page
      .locator('.codelens-decoration a')
      .filter({ hasText: 'Run on This machine' })
      .first()
      .waitFor({ timeout: 30_000 });
    await wb!.screenshot('probe-bound-script');
  },
);

test(
  'completion after uprobe:BINARY: in the bound document offers the functions of that binary',
  { skip, timeout: 90_000 },
  async () => {
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type(`uprobe:${binary}:Envoy::Event::DispatcherImpl::ru`);
    const suggest = page.locator('.editor-widget.suggest-widget');
    const row = suggest.locator('.monaco-list-row').filter({ hasText: 'DispatcherImpl::run(' }).first();
    // The list opens on the typed `:` (a trigger) or on request; the symbols are in the cache already.
    const shown = await row.waitFor({ timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    if (!shown) await page.keyboard.press('Control+Space');
    await row.waitFor({ timeout: 30_000 });
    await wb!.screenshot('probe-uprobe-completion');
    await row.click();
    // The demangled label inserts the mangled name, which bpftrace 0.17 needs.
    await page
      .locator('.editor-instance .view-lines')
      .filter({ hasText: `uprobe:${binary}:_ZN5Envoy5Event14DispatcherImpl3run` })
      .waitFor({ timeout: 15_000 });
  },
);
