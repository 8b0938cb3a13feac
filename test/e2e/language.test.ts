// Scenario 1 in the workbench UI, on the installed .vsix and the demo workspace: the Problems
// panel shows a misspelled tracepoint field with its position, the quick fix (Ctrl+.) repairs it,
// completion after `args->` lists the fields with their types, and hover shows a field's type.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { skipReason, waitFor } from './rig';
import { goToPosition, openFile, openWorkbench, positionOf, runCommand, type Workbench } from './workbench';

const skip = skipReason();
let wb: Workbench | undefined;
let page: Page;

before(async () => {
  if (skip) return;
  wb = await openWorkbench('demo', { 'fieldtrace.bpftrace.version': '0.17' });
  page = wb.page;
});

after(async () => {
  await wb?.close('language');
});

function fixture(name: string): string {
  assert.ok(wb);
  return readFileSync(path.join(wb.sandbox.workspace, name), 'utf8');
}

/**
 * The visible text of the active editor. Monaco reuses line elements, so their DOM order is not
 * the line order: sort by position. Spaces are drawn as no-break spaces.
 */
async function editorText(): Promise<string> {
  const lines = await page.locator('.editor-instance .view-lines .view-line').evaluateAll((els) =>
    els
      .map((el) => ({ top: parseFloat((el as HTMLElement).style.top), text: el.textContent ?? '' }))
      .sort((x, y) => x.top - y.top)
      .map((l) => l.text),
  );
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

test(
  'a misspelled field shows in the Problems panel with its position',
  { skip, timeout: 60_000 },
  async () => {
    await openFile(page, 'typo.bt');
    const { line, column } = positionOf(fixture('typo.bt'), 'umyadr');
    await runCommand(page, 'View: Focus Problems');
    const row = page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'umyadr' });
    await row.first().waitFor({ timeout: 20_000 });
    const text = (await row.first().innerText()).replace(/\s+/g, ' ');
    assert.match(text, /umyaddr/, 'the message suggests the right field');
    assert.match(text, new RegExp(`\\[Ln ${line}, Col ${column}\\]`), `position in: ${text}`);
    await wb!.screenshot('language-problems');
  },
);

test('the quick fix repairs the field and the problem goes away', { skip, timeout: 60_000 }, async () => {
  await goToPosition(page, fixture('typo.bt'), 'umyadr');
  await page.keyboard.press('Control+.');
  // The light bulb menu opens with its first fix focused; Enter applies it, as a user would.
  const fix = page.locator('.action-widget .monaco-list-row.focused').filter({ hasText: 'umyaddr' });
  await fix.waitFor({ timeout: 15_000 });
  await wb!.screenshot('language-quick-fix');
  await page.keyboard.press('Enter');
  await page
    .locator('.editor-instance .view-lines')
    .filter({ hasText: 'args->umyaddr)' })
    .waitFor({ timeout: 10_000 });
  assert.doesNotMatch(await editorText(), /umyadr\b/);
  await page
    .locator('.markers-panel')
    .filter({ hasText: 'No problems have been detected' })
    .waitFor({ timeout: 20_000 });
});

test(
  'completion after args-> lists fd, umyaddr and addrlen with their types',
  { skip, timeout: 60_000 },
  async () => {
    await openFile(page, 'binds.bt');
    await goToPosition(page, fixture('binds.bt'), '@binds[comm]');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('$a = args->');
    const suggest = page.locator('.editor-widget.suggest-widget');
    const rows = suggest.locator('.monaco-list-row');
    await rows.filter({ hasText: 'umyaddr' }).first().waitFor({ timeout: 15_000 });
    // Each row carries its detail (the C type); the widget shows it beside the focused row.
    // The list may still be filling in when the first row appears: poll until it settles.
    const expected = { fd: 'int', umyaddr: 'struct sockaddr *', addrlen: 'int' };
    let shown: Array<{ label: string; detail: string }> = [];
    await waitFor(
      'fd, umyaddr and addrlen with their types',
      async () => {
        shown = await rows.evaluateAll((els) =>
          els.map((el) => ({
            label: el.querySelector('.label-name')?.textContent ?? '',
            detail: el.querySelector('.details-label')?.textContent ?? '',
          })),
        );
        return Object.entries(expected).every(([f, t]) => shown.some((r) => r.label === f && r.detail === t));
      },
      15_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; shown: ${JSON.stringify(shown)}`);
    });
    const focusedDetail = await suggest.locator('.monaco-list-row.focused .details-label').innerText();
    assert.ok(focusedDetail.trim(), 'the focused row shows its type');
    // Narrow to umyaddr and accept it: the line becomes valid again.
    await page.keyboard.type('umy');
    await suggest
      .locator('.monaco-list-row.focused')
      .filter({ hasText: 'umyaddr' })
      .waitFor({ timeout: 10_000 });
    await wb!.screenshot('language-completion');
    await page.keyboard.press('Enter');
    await page.keyboard.type(';');
    await waitFor('the accepted completion in the editor', async () =>
      /\$a = args->umyaddr;/.test(await editorText()),
    );
    await page
      .locator('.markers-panel')
      .filter({ hasText: 'No problems have been detected' })
      .waitFor({ timeout: 20_000 });
  },
);

test('hover shows the type of a tracepoint field', { skip, timeout: 60_000 }, async () => {
  await goToPosition(page, await editorText(), 'addrlen)');
  await runCommand(page, 'Show or Focus Hover');
  const hover = page.locator('.monaco-hover').filter({ hasText: 'addrlen' });
  await hover.first().waitFor({ timeout: 15_000 });
  const text = (await hover.first().innerText()).replace(/\s+/g, ' ');
  assert.match(text, /\bint\b/);
  await wb!.screenshot('language-hover');
  await page.keyboard.press('Escape');
});
