// The demo deletes and rebuilds its folder as root: FIELDTRACE_DEMO_DIR naming anything but a
// folder the demo made (or an empty one) is refused before any work starts, and nothing is deleted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/cli';

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
  },
);
