// The demo deletes and rebuilds its folder as root: FIELDTRACE_DEMO_DIR naming anything but a
// folder the demo made (or an empty one) is refused before any work starts, and nothing is deleted.
// Run in a terminal (tmux) with its output piped through tee, Ctrl+C stops everything it started.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/cli';
import { freePort } from '../helpers/net';

/** Processes whose command line or working folder mentions `needle` (the demo's own folder). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cmdline.includes(needle) || cwd.startsWith(needle)) found.push(`${pid}: ${cmdline.trim()}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-demo-guard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function demo(demoDir: string): { status: number | null; stderr: string } {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/demo.sh')], {
    env: { ...process.env, FIELDTRACE_DEMO_DIR: demoDir, FIELDTRACE_DEMO_NO_SETUP: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe(
  'demo.sh and FIELDTRACE_DEMO_DIR',
  { skip: !isRoot && process.env.CI !== 'true' ? 'the demo runs as root' : false },
  () => {
    it('refuses a folder it did not make, a link to one, and /; deletes nothing', () => {
      const precious = path.join(dir, 'precious');
      mkdirSync(precious);
      writeFileSync(path.join(precious, 'notes.txt'), 'keep me');
      const link = path.join(dir, 'link');
      symlinkSync(precious, link);
      for (const target of [precious, link, `${precious}/../precious`, '/']) {
        const r = demo(target);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /^demo: FIELDTRACE_DEMO_DIR.*refusing/m);
        assert.ok(existsSync(path.join(precious, 'notes.txt')), `${target}: nothing was deleted`);
      }
      const file = path.join(dir, 'a-file');
      writeFileSync(file, 'x');
      assert.match(demo(file).stderr, /is not a folder/);
      assert.ok(existsSync(file));
    });

    it(
      'piped through tee in a terminal, Ctrl+C leaves none of its processes or ports',
      {
        timeout: 600_000,
        skip: existsSync('/usr/bin/tmux') || process.env.CI === 'true' ? false : 'tmux is missing',
      },
      async () => {
        const demoDir = path.join(dir, 'piped');
        const log = path.join(dir, 'piped.log');
        const port = await freePort();
        const session = `fieldtrace-demo-${process.pid}`;
        const command = [
          `cd ${REPO_ROOT} &&`,
          `FIELDTRACE_DEMO_DIR=${demoDir} FIELDTRACE_DEMO_PORT=${port} FIELDTRACE_DEMO_NO_SETUP=1`,
          `bash scripts/demo.sh 2>&1 | tee ${log}`,
        ].join(' ');
        execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', command]);
        try {
          await until(
            'the demo to run',
            () => existsSync(log) && readFileSync(log, 'utf8').includes('Fieldtrace demo is running.'),
            480_000,
          ).catch((error: Error) => {
            throw new Error(
              `${error.message}\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : ''}`,
            );
          });
          assert.ok(await portAnswers(port), 'the workbench answers');
          assert.ok(processesMentioning(demoDir).length > 0, 'the demo runs processes');
          execFileSync('tmux', ['send-keys', '-t', session, 'C-c']);
          await until(
            'every demo process gone',
            () => processesMentioning(demoDir).length === 0,
            60_000,
          ).catch((error: Error) => {
            throw new Error(`${error.message}: ${processesMentioning(demoDir).join('\n')}`);
          });
          for (const p of [port, 15000, 15001, 15006])
            assert.equal(await portAnswers(p), false, `port ${p} is free again`);
        } finally {
          spawnSync('tmux', ['kill-session', '-t', session]);
          for (const line of processesMentioning(demoDir)) {
            const pid = Number(line.split(':')[0]);
            if (pid !== process.pid) spawnSync('kill', ['-9', String(pid)]);
          }
        }
      },
    );
  },
);
