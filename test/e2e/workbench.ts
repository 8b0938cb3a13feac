// Workbench actions as a user performs them (keys and clicks), shared by the UI suites.
// Every step awaits what the user would see next; none sleeps.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import {
  createSandbox,
  ensureVsCode,
  installVsix,
  launchChromium,
  newWorkbenchPage,
  repoRoot,
  resultsDir,
  type Sandbox,
  screenshot,
  startVsCodeServer,
  type VsCodeServer,
  waitFor,
} from './rig';

const quickInput = '.quick-input-widget';

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
  // The explorer lists the folder once the remote file system is connected.
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
}

async function pickInQuickInput(
  page: Page,
  text: string,
  rowText: string | RegExp,
  then: 'closes' | 'opens another' = 'closes',
): Promise<void> {
  const widget = page.locator(quickInput);
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  const input = widget.locator('input.input');
  await input.fill(text);
  const row = widget.locator('.monaco-list-row').filter({ hasText: rowText }).first();
  await row.waitFor({ timeout: 15_000 });
  // Enter picks the focused row; a click could land on a hover left over the list.
  if ((await row.getAttribute('class'))?.split(' ').includes('focused')) await page.keyboard.press('Enter');
  else await row.click();
  if (then === 'closes') await widget.waitFor({ state: 'hidden', timeout: 10_000 });
  // A command that opens its own quick pick reuses the widget with a fresh, empty input.
  // (It may first connect to a node: give it time.)
  else await waitFor('the next quick pick', async () => (await input.inputValue()) !== text, 30_000);
}

/** Quick Open (Ctrl+P) on a file name, then waits for its editor tab to be active. */
export async function openFile(page: Page, name: string): Promise<void> {
  const widget = page.locator(quickInput);
  // A file written a moment ago reaches Quick Open's results once the file watcher saw it.
  await waitFor(
    `${name} in Quick Open`,
    async () => {
      await page.keyboard.press('Control+P');
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      await widget.locator('input.input').fill(name);
      const listed = await widget
        .locator('.monaco-list-row')
        .filter({ hasText: name })
        .first()
        .waitFor({ timeout: 3_000 })
        .then(
          () => true,
          () => false,
        );
      if (!listed) await page.keyboard.press('Escape');
      return listed;
    },
    30_000,
  );
  await pickInQuickInput(page, name, name);
  await page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`).waitFor({ timeout: 15_000 });
}

/**
 * Opens the command palette (F1) and waits until it shows. F1 pressed while the focus is in a
 * webview that is still loading, or in a view being made, can go nowhere: then the focus goes
 * back to the editor area and F1 is pressed again.
 */
export async function openCommandPalette(page: Page): Promise<void> {
  const widget = page.locator(quickInput);
  const shows = (timeout: number) =>
    widget.waitFor({ state: 'visible', timeout }).then(
      () => true,
      () => false,
    );
  await waitFor(
    'the command palette',
    async () => {
      await page.keyboard.press('F1');
      if (await shows(3_000)) return true;
      const activeTab = page.locator('.tabs-container .tab.active').first();
      if (await activeTab.isVisible()) await activeTab.click();
      else await page.locator('.part.editor').click({ position: { x: 10, y: 10 } });
      return false;
    },
    30_000,
  );
}

/**
 * Runs a command from the palette (F1) by its title; `pick`, when given, is chosen in the quick
 * pick the command opens; `then` says whether another input follows that pick.
 */
export async function runCommand(
  page: Page,
  title: string,
  pick?: string,
  then: 'closes' | 'opens another' = 'closes',
): Promise<void> {
  await openCommandPalette(page);
  await pickInQuickInput(page, `>${title}`, title, pick === undefined ? then : 'opens another');
  if (pick !== undefined) await pickInQuickInput(page, pick, pick, then);
}

/** Folds or unfolds a view of the Fieldtrace container by its header, as a click does. */
export async function setPaneExpanded(page: Page, title: string, expanded: boolean): Promise<void> {
  const header = page.locator(`.pane-header[aria-label^="${title} Section"]`).first();
  await header.waitFor({ timeout: 10_000 });
  if ((await header.getAttribute('aria-expanded')) !== String(expanded)) await header.click();
  await waitFor(
    `${title} ${expanded ? 'unfolded' : 'folded'}`,
    async () => (await header.getAttribute('aria-expanded')) === String(expanded),
  );
}

/** In a multi-select quick pick: ticks the rows labelled `labels`, then accepts with Enter. */
export async function pickMany(page: Page, labels: string[]): Promise<void> {
  const widget = page.locator(quickInput);
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  for (const label of labels) {
    const row = widget.locator('.monaco-list-row').filter({ hasText: label }).first();
    await row.waitFor({ timeout: 15_000 });
    // The row is a <label> around its checkbox: a click ticks it.
    await row.click();
    await waitFor(`${label} ticked`, async () => (await row.getAttribute('aria-checked')) === 'true', 5_000);
  }
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
/**
 * Waits until the active editor is `relativePath` of the sandbox workspace (e.g.
 * `envoy/source/common/network/tcp_listener_impl.cc`) with the cursor on the line of `needle`:
 * what a frame link must open.
 */
export async function expectEditorAt(
  page: Page,
  workspace: string,
  relativePath: string,
  needle: string,
): Promise<void> {
  await page
    .locator(`.tabs-container .tab.active[aria-label^="${path.basename(relativePath)}"]`)
    .waitFor({ timeout: 20_000 });
  const { line } = positionOf(readFileSync(path.join(workspace, relativePath), 'utf8'), needle);
  await page
    .locator('[id="status.editor.selection"]')
    .filter({ hasText: `Ln ${line},` })
    .waitFor({ timeout: 10_000 });
}

export function positionOf(text: string, needle: string): { line: number; column: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`${JSON.stringify(needle)} not found in the document`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Moves the cursor of the active editor with Quick Open's `:line:column`. */
export async function goToPosition(page: Page, text: string, needle: string): Promise<void> {
  const { line, column } = positionOf(text, needle);
  await page.keyboard.press('Control+P');
  const widget = page.locator(quickInput);
  await widget.waitFor({ state: 'visible', timeout: 10_000 });
  await widget.locator('input.input').fill(`:${line}:${column}`);
  await widget
    .locator('.monaco-list-row')
    .filter({ hasText: `${line}` })
    .first()
    .waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
  await page
    .locator('[id="status.editor.selection"]')
    .filter({ hasText: `Ln ${line}, Col ${column}` })
    .waitFor({ timeout: 10_000 });
}

/**
 * "Developer: Inspect Editor Tokens and Scopes" at the cursor: the token's text and the TextMate
 * scopes the widget lists (innermost first); closes the widget again.
 */
export async function inspectTokenScopes(page: Page): Promise<{ token: string; scopes: string[] }> {
  await runCommand(page, 'Developer: Inspect Editor Tokens and Scopes');
  const widget = page.locator('.token-inspect-widget');
  // The row keyed "textmate scopes" (semantic token rows, when a server sends them, come before it).
  const cell = widget
    .locator('tr')
    .filter({ has: page.locator('td.tiw-metadata-key', { hasText: 'textmate scopes' }) })
    .locator('td.tiw-metadata-scopes');
  await cell.waitFor({ timeout: 15_000 });
  const scopes = (await cell.innerText())
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  // The heading is the token text (spaces drawn as '·') followed by its length.
  const heading = await widget.locator('.tiw-token').innerText();
  const token = heading.replace(/\s*\d+ chars?$/, '').replace(/·/g, ' ');
  await page.keyboard.press('Escape');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
  return { token, scopes };
}

/** One UI suite's workbench: the packaged .vsix installed in a fresh sandbox, in Chromium. */
export interface Workbench {
  page: Page;
  sandbox: Sandbox;
  server: VsCodeServer;
  /** Requests to anything but the loopback server (aborted). */
  blocked: string[];
  screenshot(name: string): Promise<string>;
  /** Saves a last screenshot and the logs as `<name>-final.png` / `<name>.log`, then stops everything. */
  close(name: string): Promise<void>;
}

export const vsixPath = process.env.FIELDTRACE_VSIX ?? path.join(repoRoot, 'fieldtrace.vsix');

/**
 * Installs the packaged extension (packaging it first when fieldtrace.vsix is missing or
 * FIELDTRACE_E2E_PACKAGE=1) into a sandbox holding `fixture`, starts the VS Code server with
 * `env` and opens the workspace in Chromium. On failure everything started is stopped again.
 */
export async function openWorkbench(
  fixture: string,
  settings: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<Workbench> {
  const vscodeDir = await ensureVsCode();
  if (!existsSync(vsixPath) || process.env.FIELDTRACE_E2E_PACKAGE === '1')
    await promisify(execFile)('npm', ['run', 'package'], { cwd: repoRoot, timeout: 180_000 });
  const sandbox = await createSandbox(fixture, settings);
  let server: VsCodeServer | undefined;
  let browser: Browser | undefined;
  try {
    await installVsix(vscodeDir, sandbox, vsixPath);
    server = await startVsCodeServer(vscodeDir, sandbox, env);
    browser = await launchChromium();
    const { page, consoleLines, blocked } = await newWorkbenchPage(browser);
    await page.goto(server.workbenchUrl(sandbox.workspace));
    await waitForWorkbench(page);
    // The extension's contributions are registered once its activity-bar container shows; before
    // that the command palette does not list its commands yet.
    await page.getByRole('tab', { name: /^Fieldtrace/ }).waitFor({ timeout: 60_000 });
    const srv = server;
    const chromium = browser;
    return {
      page,
      sandbox,
      server: srv,
      blocked,
      screenshot: (name) => screenshot(page, name),
      async close(name) {
        await screenshot(page, `${name}-final`).catch(() => undefined);
        const log = ['== page console ==', ...consoleLines, '== server ==', srv.output()].join('\n');
        await writeFile(path.join(resultsDir, `${name}.log`), log).catch(() => undefined);
        await chromium.close().catch(() => undefined);
        await srv.stop();
        await sandbox.remove();
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await sandbox.remove();
    throw error;
  }
}
