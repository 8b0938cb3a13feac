// The real-VS Code rig: code-server's VS Code server (server-main.js) on 127.0.0.1, driven by
// Debian's Chromium through playwright-core. Every process started here is stopped by `stop()`,
// which the suites call from `after` hooks so that a failing test leaves nothing running.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type Page, chromium } from 'playwright-core';
import { freePort } from '../helpers/net';

const execFileAsync = promisify(execFile);

export const repoRoot = path.resolve(__dirname, '..', '..');
export const resultsDir = path.join(repoRoot, 'test-results', 'e2e');
export const chromiumPath = process.env.FIELDTRACE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the suite should be skipped, or undefined to run it. Only a local run without Chromium
 * skips; with CI=true a missing tool is a failure, so CI can never pass by skipping.
 */
export function skipReason(): string | undefined {
  if (process.env.CI === 'true') return undefined;
  if (!existsSync(chromiumPath)) return `${chromiumPath} is missing (apt-get install chromium)`;
  return undefined;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Installs (or finds in the cache) code-server's VS Code; returns its `lib/vscode` folder.
 * Goes through the same script as the demo, so `npm test` on a clean machine needs no extra step.
 */
export async function ensureVsCode(): Promise<string> {
  const script = path.join(repoRoot, 'scripts', 'install-code-server.sh');
  const { stdout } = await execFileAsync('bash', [script], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 10 * 60_000,
  });
  const root = stdout.trim().split('\n').pop() ?? '';
  const vscodeDir = path.join(root, 'node_modules', 'code-server', 'lib', 'vscode');
  if (!existsSync(path.join(vscodeDir, 'out', 'server-main.js')))
    throw new Error(`install-code-server.sh did not produce ${vscodeDir}/out/server-main.js`);
  return vscodeDir;
}

/** Re-exported for the suites: one definition of a free loopback port for every test. */
export { freePort };

/** Folders of one isolated VS Code instance: nothing is read from or written to the real HOME. */
export interface Sandbox {
  root: string;
  extensionsDir: string;
  userDataDir: string;
  serverDataDir: string;
  workspace: string;
  remove(): Promise<void>;
}

/** The offline, closed workbench of every run (CI reaches only npm and Debian): no update checks, no telemetry, no trust prompt. */
export const offlineSettings: Record<string, unknown> = {
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  // Tests and the demo start listeners (sshd, the mini-Envoy); the workbench must not forward them.
  'remote.autoForwardPorts': false,
  // The terminal draws on a canvas; the DOM renderer keeps screenshots readable.
  'terminal.integrated.gpuAcceleration': 'off',
};

/**
 * Copied into every test workspace besides the fixture: the mini-Envoy's source as the "Envoy
 * checkout" that stack frames open (as in the demo), and real stacks taken from it.
 */
export const workspaceExtras: Record<string, string> = {
  envoy: path.join(repoRoot, 'test', 'targets', 'mini-envoy'),
  stacks: path.join(repoRoot, 'test', 'e2e', 'fixtures', 'stacks'),
};

/**
 * Creates the isolated folders and copies `fixtureWorkspace` (a folder under test/e2e/fixtures)
 * into a temporary workspace, so runs never write into the repository.
 */
export async function createSandbox(
  fixtureWorkspace: string,
  settings: Record<string, unknown> = {},
  extra: Record<string, string> = workspaceExtras,
): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fieldtrace-e2e-'));
  const sandbox: Sandbox = {
    root,
    extensionsDir: path.join(root, 'extensions'),
    userDataDir: path.join(root, 'user-data'),
    serverDataDir: path.join(root, 'server-data'),
    workspace: path.join(root, 'workspace'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
  // --install-extension into a folder that does not exist fails (FIELD-NOTES), so create it first.
  await mkdir(sandbox.extensionsDir, { recursive: true });
  const allSettings = JSON.stringify({ ...offlineSettings, ...settings }, null, 2);
  // The web workbench keeps user settings under the server's user-data dir; the machine scope
  // lives under the server-data dir. Writing both means neither source can re-enable updates.
  for (const dir of [
    path.join(sandbox.userDataDir, 'User'),
    path.join(sandbox.serverDataDir, 'data', 'User'),
    path.join(sandbox.serverDataDir, 'data', 'Machine'),
  ]) {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'settings.json'), allSettings);
  }
  await cp(path.join(repoRoot, 'test', 'e2e', 'fixtures', fixtureWorkspace), sandbox.workspace, {
    recursive: true,
  });
  for (const [dest, source] of Object.entries(extra))
    await cp(source, path.join(sandbox.workspace, dest), { recursive: true });
  return sandbox;
}

function serverArgs(vscodeDir: string, sandbox: Sandbox): string[] {
  return [
    path.join(vscodeDir, 'out', 'server-main.js'),
    '--accept-server-license-terms',
    '--extensions-dir',
    sandbox.extensionsDir,
    '--user-data-dir',
    sandbox.userDataDir,
    '--server-data-dir',
    sandbox.serverDataDir,
  ];
}

/** Installs a packaged .vsix into the sandbox's extensions dir, offline, the way a user would. */
export async function installVsix(vscodeDir: string, sandbox: Sandbox, vsix: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(
    process.execPath,
    [...serverArgs(vscodeDir, sandbox), '--install-extension', vsix],
    { timeout: 120_000 },
  );
  const out = `${stdout}${stderr}`;
  if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed:\n${out}`);
  return out;
}

/** A running VS Code server; `stop()` kills its whole process group (extension host, pty host, watchers). */
export interface VsCodeServer {
  port: number;
  origin: string;
  process: ChildProcess;
  output(): string;
  /** The workbench URL for `folder`, with an optional smoke-test payload. */
  workbenchUrl(folder: string, payload?: Array<[string, string]>): string;
  /** A `vscode-remote://` URI of a local path, as the extension-development payload needs. */
  remoteUri(localPath: string): string;
  stop(): Promise<void>;
}

export async function startVsCodeServer(
  vscodeDir: string,
  sandbox: Sandbox,
  env: NodeJS.ProcessEnv = {},
): Promise<VsCodeServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...serverArgs(vscodeDir, sandbox),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      // Test-only: no token and the smoke-test driver. Bound to loopback, torn down after the run.
      '--without-connection-token',
      '--enable-smoke-test-driver',
      '--disable-workspace-trust',
      '--disable-telemetry',
    ],
    {
      cwd: sandbox.root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOME: sandbox.root,
        VSCODE_AGENT_FOLDER: sandbox.serverDataDir,
        // An empty gallery: the workbench never queries open-vsx.org (offline and closed).
        EXTENSIONS_GALLERY: '{}',
        ...env,
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const origin = `http://127.0.0.1:${port}`;
  const server: VsCodeServer = {
    port,
    origin,
    process: child,
    output: () => output,
    remoteUri: (localPath) => `vscode-remote://127.0.0.1:${port}${localPath}`,
    workbenchUrl(folder, payload) {
      const query = new URLSearchParams({ folder });
      if (payload) query.set('payload', JSON.stringify(payload));
      return `${origin}/?${query.toString()}`;
    },
    async stop() {
      if (exited || child.pid === undefined) return;
      const signal = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // The group is already gone.
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(timer);
      // The extension host and pty host share the group; make sure none outlives the server.
      signal('SIGKILL');
    },
  };
  try {
    await waitFor(
      'the VS Code server to listen',
      () => {
        if (exited) throw new Error(`server exited:\n${output}`);
        return /Extension host agent listening on \d+/.test(output);
      },
      60_000,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A workbench page that may reach only the VS Code server on loopback: every other request is
 * aborted and recorded, so a test can assert that the workbench stayed offline.
 */
export async function newWorkbenchPage(
  browser: Browser,
): Promise<{ page: Page; consoleLines: string[]; blocked: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const blocked: string[] = [];
  await page.route(/.*/, (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:')
      return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { page, consoleLines: collectConsole(page), blocked };
}

/** Console lines of the page (the extension host's console is forwarded there). */
export function collectConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => lines.push(`[${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`[pageerror] ${error.message}`));
  return lines;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
