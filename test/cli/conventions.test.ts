// What every `fieldtrace` command owes a shell user: usage errors exit 2 on stderr, a missing file
// is a usage error, and a reader that goes away (`| head`) ends the command quietly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, runFieldtrace } from '../helpers/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-cli-conv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fieldtrace command-line conventions', () => {
  it('no command: the help goes to stderr, exit 2', async () => {
    const r = await runFieldtrace([], { bundled: false });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: fieldtrace <command>/);
  });

  it('state with a missing file is a usage error (exit 2, one line, no raw ENOENT)', async () => {
    const r = await runFieldtrace(['state', path.join(dir, 'missing.log')], { bundled: false });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^fieldtrace state: cannot read .*missing\.log: no such file\n$/);
  });

  it('every command that reads a file says in words why it cannot (exit 2, one line)', async () => {
    const missing = path.join(dir, 'missing');
    const cases: Array<[string[], RegExp]> = [
      [['check', `${missing}.bt`], /^fieldtrace check: cannot read .*missing\.bt: no such file\n$/],
      [['fmt', `${missing}.bt`], /^fieldtrace fmt: cannot read .*missing\.bt: no such file\n$/],
      [['run', `${missing}.bt`], /^fieldtrace run: cannot read .*missing\.bt: no such file\n$/],
      [
        ['probe', `${missing}.cc:3`, '--binary', process.execPath],
        /^fieldtrace probe: cannot read .*missing\.cc: no such file\n$/,
      ],
      [
        ['check', '--catalog', `${missing}.txt`, `${missing}.bt`],
        /^fieldtrace check: --catalog .*missing\.txt: no such file\n$/,
      ],
      [['check', dir], /^fieldtrace check: cannot read .*: is a directory\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await runFieldtrace(args, { bundled: false });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('a closed output ends check quietly (| head -1)', async () => {
    const script = path.join(dir, 'many.bt');
    writeFileSync(script, `BEGIN {\n${'  @x = nosuchfunction(1);\n'.repeat(3000)}}\n`);
    const cli = `${process.execPath} --import tsx ${path.join(REPO_ROOT, 'cli/main.ts')}`;
    const child = spawn(
      'sh',
      ['-c', `${cli} check "$1" 2>"$2" | head -1 >/dev/null`, 'sh', script, path.join(dir, 'err')],
      {
        cwd: REPO_ROOT,
        stdio: 'ignore',
      },
    );
    await new Promise((resolve) => child.once('exit', resolve));
    const stderr = (await import('node:fs')).readFileSync(path.join(dir, 'err'), 'utf8');
    assert.doesNotMatch(stderr, /EPIPE|Error:| {4}at /);
  });
});
