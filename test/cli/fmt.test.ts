// `fieldtrace fmt` as a child process: rewriting files, --check and its exit codes, stdin to
// stdout, dialects, usage errors, and the same text as the language server for the same settings.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DocumentFormattingRequest } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { runFieldtrace } from '../helpers/cli';
import { startServer } from '../server/harness';

const tmp = mkdtempSync(join(tmpdir(), 'ft-fmt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const MESSY = 'BEGIN{if($x){printf("%d %d %d\\n",pid,tid,nsecs);}}\n';
const TIDY_026 = 'BEGIN\n{\n  if $x {\n    printf("%d %d %d\\n", pid, tid, nsecs);\n  }\n}\n';

function fmt(args: string[], input?: string) {
  // Through tsx from the repository (paths are absolute): no bundle to build first.
  return runFieldtrace(['fmt', ...args], { input, bundled: false });
}

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('fieldtrace fmt', () => {
  it('rewrites files in place, keeping their mode, and exits 0', async () => {
    const path = file('rewrite.bt', MESSY);
    chmodSync(path, 0o755);
    const run = await fmt(['--bpftrace-version', '0.26', path]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(readFileSync(path, 'utf8'), TIDY_026);
    assert.equal(statSync(path).mode & 0o777, 0o755);
  });

  it('--check lists the files that would change, changes nothing, and exits 1; 0 when none would', async () => {
    const messy = file('messy.bt', MESSY);
    file('tidy.bt', TIDY_026);
    const tidy = join(tmp, 'tidy.bt');
    const run = await fmt(['--check', '--bpftrace-version=0.26', messy, tidy]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, `${messy}\n`);
    assert.equal(readFileSync(messy, 'utf8'), MESSY);
    const clean = await fmt(['--check', '--bpftrace-version', '0.26', tidy]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout, '');
  });

  it('reads - from stdin and writes the formatted script to stdout, in the dialect asked for', async () => {
    const newest = await fmt(['--bpftrace-version', '0.26', '-'], MESSY);
    assert.equal(newest.code, 0, newest.stderr);
    assert.equal(newest.stdout, TIDY_026);
    const oldest = await fmt(['--bpftrace-version', '0.17', '-'], MESSY);
    assert.equal(oldest.stdout, TIDY_026.replace('if $x {', 'if ($x) {'));
    const main = await fmt(['--bpftrace-version', 'main', '-'], MESSY);
    assert.equal(main.code, 0, main.stderr);
    assert.equal(main.stdout, TIDY_026, "bpftrace's main branch, as check takes it");
    const windows = await fmt(['--bpftrace-version', '0.26', '-'], MESSY.replace(/\n/g, '\r\n'));
    assert.equal(windows.stdout, TIDY_026.replace(/\n/g, '\r\n'), 'CRLF line ends are kept');
  });

  it('leaves a script with a syntax error as written, says so, and exits 1', async () => {
    const broken = 'BEGIN { @x = (1 + ; }\n';
    const run = await fmt(['--bpftrace-version', '0.26', '-'], broken);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, broken);
    assert.match(run.stderr, /<stdin>: .*syntax errors/);
  });

  it('exits 2 on usage errors and unreadable files', async () => {
    for (const args of [
      [],
      ['--indent', '0', 'x.bt'],
      ['--width', 'wide', 'x.bt'],
      ['--frobnicate', 'x.bt'],
      ['-', '-'],
      ['missing.bt'],
    ]) {
      const run = await fmt(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^fieldtrace fmt: /);
    }
  });

  it('gives the language server’s text for the same settings', async () => {
    const text = 'BEGIN { if (pid) { printf("%s %d %d %d %d\\n", comm, pid, tid, cpu, nsecs); } }\n';
    const run = await fmt(['--bpftrace-version', '0.20', '--indent', '4', '--width', '44', '-'], text);
    assert.equal(run.code, 0, run.stderr);
    const h = await startServer({ bpftraceVersion: '0.20', formatIndentSize: 4, formatWidth: 44 });
    try {
      const uri = h.open('same.bt', text);
      const edits = await h.client.sendRequest(DocumentFormattingRequest.type, {
        textDocument: { uri },
        options: { tabSize: 2, insertSpaces: true },
      });
      const doc = TextDocument.create(uri, 'bpftrace', 1, text);
      assert.equal(run.stdout, TextDocument.applyEdits(doc, edits ?? []));
      assert.match(run.stdout, /^ {8}printf\(/m);
    } finally {
      await h.close();
    }
  });
});
