// Way in no. 1: Mocha specs (test/e2e/host/) run inside VS Code's Node extension host, with the
// extension loaded from this source folder (extensionDevelopmentPath). The exit code of the specs
// comes back through the smoke-test driver's codeAutomationExit.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import {
  createSandbox,
  ensureVsCode,
  launchChromium,
  newWorkbenchPage,
  repoRoot,
  resultsDir,
  type Sandbox,
  screenshot,
  skipReason,
  startVsCodeServer,
  type VsCodeServer,
} from './rig';

const skip = skipReason();
const hostBundle = path.join(repoRoot, 'test', 'e2e', '.cache', 'host', 'index.js');

let vscodeDir = '';
let sandbox: Sandbox | undefined;
let server: VsCodeServer | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  assert.ok(
    existsSync(path.join(repoRoot, 'dist', 'extension.js')),
    'dist/extension.js is missing: run `npm run build` first',
  );
  vscodeDir = await ensureVsCode();
  await esbuild.build({
    entryPoints: [path.join(repoRoot, 'test', 'e2e', 'host', 'index.ts')],
    outfile: hostBundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  sandbox = await createSandbox('basic');
  server = await startVsCodeServer(vscodeDir, sandbox);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  await sandbox?.remove();
});

test('in-host specs pass in the Node extension host', { skip, timeout: 180_000 }, async (t) => {
  assert.ok(server && browser && sandbox);
  const { page, consoleLines, blocked } = await newWorkbenchPage(browser);
  const workbenchLog: string[] = [];
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
  await page.exposeFunction('codeAutomationLog', (level: string, args: unknown[]) =>
    workbenchLog.push(`[${level}] ${args.map(String).join(' ')}`),
  );
  const url = server.workbenchUrl(sandbox.workspace, [
    ['extensionDevelopmentPath', server.remoteUri(repoRoot)],
    ['extensionTestsPath', server.remoteUri(hostBundle)],
  ]);
  await page.goto(url);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no codeAutomationExit within 150 s')), 150_000);
  });
  let code: number;
  try {
    code = await Promise.race([exited, deadline]);
  } finally {
    clearTimeout(timer);
    await screenshot(page, 'extension-host').catch(() => undefined);
    const report = [
      '== page console ==',
      ...consoleLines,
      '== workbench log ==',
      ...workbenchLog,
      '== server ==',
      server.output(),
    ].join('\n');
    await writeFile(path.join(resultsDir, 'extension-host.log'), report).catch(() => undefined);
  }
  // Mocha's reporter writes through the extension host's console, forwarded to the page as [log].
  const hostLines = consoleLines
    .filter((l) => l.startsWith('[log]'))
    .map((l) => l.replace(/^\[log\] %c INFO color: #33f /, '').replace(/%[sd]|\(%dms\) /g, ''))
    .slice(-60);
  for (const line of hostLines.filter((l) => /✔|passing|failing|^\s+\d+\) /.test(l))) t.diagnostic(line);
  assert.equal(code, 0, `in-host specs failed (exit ${code}):\n${hostLines.join('\n')}`);
  assert.deepEqual(blocked, [], 'the workbench tried to reach the network');
});
