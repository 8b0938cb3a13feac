// Way in no. 2: the packaged fieldtrace.vsix installed into a clean VS Code, driven through the
// workbench UI as a user would (keys, clicks, what is on screen). Screenshots go to
// test-results/e2e/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { skipReason } from './rig';
import {
  goToPosition,
  inspectTokenScopes,
  openFile,
  openWorkbench,
  runCommand,
  setPaneExpanded,
  type Workbench,
} from './workbench';

const skip = skipReason();
let wb: Workbench | undefined;
let page: Page | undefined;
let sandbox: Workbench['sandbox'] | undefined;

before(async () => {
  if (skip) return;
  wb = await openWorkbench('basic');
  ({ page, sandbox } = wb);
});

after(async () => {
  await wb?.close('workbench');
});

test('the .vsix installs into the isolated extensions folder', { skip }, () => {
  assert.ok(sandbox);
  const installed = readdirSync(sandbox.extensionsDir).filter((d) => d.startsWith('fieldtrace.fieldtrace-'));
  assert.equal(installed.length, 1, `installed: ${installed.join(', ')}`);
});

test('a .bt file opens in the bpftrace language mode', { skip, timeout: 60_000 }, async () => {
  assert.ok(page);
  await openFile(page, 'binds.bt');
  const mode = page.locator('[id="status.editor.mode"]');
  await mode.filter({ hasText: 'bpftrace' }).waitFor({ timeout: 20_000 });
  assert.equal((await mode.innerText()).trim(), 'bpftrace');
  await wb!.screenshot('workbench-bt-file');
});

test('tokens carry the grammar scopes and distinct colours', { skip, timeout: 60_000 }, async () => {
  assert.ok(page && sandbox);
  const text = readFileSync(path.join(sandbox.workspace, 'binds.bt'), 'utf8');
  const cases: Array<[string, string]> = [
    ['@binds[comm]', 'variable.other.map.bpftrace'],
    ['$len = args', 'variable.other.scratch.bpftrace'],
    ['printf(', 'support.function.builtin.bpftrace'],
    ['"bind fd', 'string.quoted.double.bpftrace'],
    ['// Counts', 'comment.line.double-slash.bpftrace'],
  ];
  for (const [needle, scope] of cases) {
    await goToPosition(page, text, needle);
    const { token, scopes } = await inspectTokenScopes(page);
    assert.ok(needle.startsWith(token.slice(0, 4)), `token at ${needle}: ${token}`);
    assert.equal(scopes[0], scope, `at ${needle}: scopes ${scopes.join(', ')}`);
    assert.ok(scopes.includes('source.bpftrace'), `at ${needle}: source.bpftrace in ${scopes.join(', ')}`);
  }
  await wb!.screenshot('workbench-token-scopes');
  await page.keyboard.press('Escape');
  // The theme colours those scopes: the rendered spans of the file use several colours.
  const colours = await page
    .locator('.editor-instance .view-lines .view-line span span')
    .evaluateAll((spans) => [...new Set(spans.map((s) => getComputedStyle(s).color))]);
  assert.ok(colours.length >= 4, `rendered colours: ${colours.join(' ')}`);
});

test(
  'the Fieldtrace container and the language server answer in the UI',
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(page);
    await page.getByRole('tab', { name: /^Fieldtrace/ }).click();
    // With no trace yet, the Sessions view says what to do, with the two ways to start.
    await page.getByRole('button', { name: 'Run Listener Trace' }).first().waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Run Trace on Node…' }).first().waitFor({ timeout: 5_000 });
    await page.getByText('No traces yet.').first().waitFor({ timeout: 5_000 });
    // The About view starts folded (the Listeners view gets the room): unfold it as a user would.
    await setPaneExpanded(page, 'Fieldtrace', true);
    const statusLink = page.getByRole('button', { name: 'Show Language Server Status' });
    await statusLink.waitFor({ timeout: 20_000 });
    await statusLink.click();
    const toast = page.locator('.notifications-toasts').filter({ hasText: 'Fieldtrace language server' });
    await toast.waitFor({ timeout: 20_000 });
    assert.match(await toast.innerText(), /open document/);
    await wb!.screenshot('workbench-fieldtrace-view');
  },
);

test('the Fieldtrace output channel says the server is ready', { skip, timeout: 60_000 }, async () => {
  assert.ok(page);
  await runCommand(page, 'Output: Show Output Channels...', 'Fieldtrace');
  const output = page.locator('.part.panel .view-lines').filter({ hasText: 'Language server ready' });
  await output.waitFor({ timeout: 20_000 });
  // The editor draws spaces as no-break spaces.
  const text = (await output.innerText()).replace(/\u00a0/g, ' ');
  assert.match(text, /\[info\] Language server ready: fieldtrace-bpftrace \d+\.\d+\.\d+/);
  await wb!.screenshot('workbench-output');
});

test('the workbench stayed offline', { skip }, () => {
  assert.deepEqual(wb?.blocked, []);
});
