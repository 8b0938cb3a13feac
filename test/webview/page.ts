// The listeners page in Debian's Chromium for the webview tests: the real built HTML and bundle
// (dist/webview) served on 127.0.0.1, a stubbed acquireVsCodeApi that records what the page posts
// and what it saves, and state pushed through messages as the extension pushes it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ToWebviewMessage } from '../../common/listeners-protocol';
import { listenersHtml } from '../../webview/html';
import { chromiumPath, launchChromium } from '../e2e/rig';

export const root = path.resolve(__dirname, '../..');
const dist = path.join(root, 'dist/webview');
export const skip =
  !existsSync(chromiumPath) && process.env.CI !== 'true' ? 'Chromium is not installed' : false;

/** Rebuilds when the bundle is missing or older than its sources. */
function ensureBuilt(): void {
  const sources = [
    ...readdirSync(path.join(root, 'webview')).map((f) => `webview/${f}`),
    'common/listeners-protocol.ts',
    'common/listener-states.ts',
  ];
  const built = path.join(dist, 'main.js');
  const stale =
    !existsSync(built) ||
    !existsSync(path.join(dist, 'codicon.ttf')) ||
    sources.some((s) => statSync(path.join(root, s)).mtimeMs > statSync(built).mtimeMs);
  if (!stale) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

let server: http.Server;
let origin = '';
let browser: Browser | undefined;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

/** Serves the page and starts Chromium before the file's tests, stops both after them. */
export function servePage(): void {
  before(startPage);
  after(stopPage);
}

async function startPage(): Promise<void> {
  if (skip) return;
  ensureBuilt();
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        listenersHtml({ cspSource: origin, baseUri: origin, nonce: randomBytes(18).toString('base64') }),
      );
      return;
    }
    const file = path.join(dist, path.basename(url.pathname));
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}

async function stopPage(): Promise<void> {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

interface Recorded {
  posted: unknown[];
  state: unknown;
  violations: string[];
}

/** Opens the page with a stubbed VS Code API (and optionally the state it saved before). */
export async function openPage(savedState?: unknown): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 420, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // A string, not a function: tsx's transform would add helpers the page does not have.
  await page.addInitScript({
    content: `(() => {
      const rec = { posted: [], state: ${JSON.stringify(savedState ?? null)} ?? undefined, violations: [] };
      window.__rec = rec;
      document.addEventListener('securitypolicyviolation', (e) => rec.violations.push(e.violatedDirective + ' ' + e.blockedURI));
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => rec.posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => rec.state,
        setState: (s) => { rec.state = JSON.parse(JSON.stringify(s)); },
      });
    })();`,
  });
  await page.goto(origin);
  await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 0);
  return { page, errors };
}

export const recorded = (page: Page) => page.evaluate(() => (window as unknown as { __rec: Recorded }).__rec);

export async function send(page: Page, message: ToWebviewMessage | unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message as object);
}
