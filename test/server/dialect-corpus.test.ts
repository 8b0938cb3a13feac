// Newer dialects (0.20 to bpftrace's main branch) against expectation files of our own scripts
// (test/corpus/newer, test/corpus/expected-<version>.json). No binary of these versions runs
// here: each verdict is read from bpftrace's source or CHANGELOG at that version, and the entry
// names where (`source`). The server, through the real LSP, must give every verdict and, for an
// error, report its first error on the expected line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { MAIN_COMMIT } from '../../server/analysis/dialects';
import { CORPUS_DIR, NEWER_DIR, corpusScripts } from '../corpus/verdict';
import { startServer } from './harness';

interface Expectation {
  error: boolean;
  line?: number;
  source: string;
}

interface ExpectationFile {
  dialect: string;
  commit?: string;
  scripts: Record<string, Expectation>;
}

const VERSIONS = ['0.20', '0.22', '0.24', '0.25', '0.26.1', 'main'];

function load(version: string): ExpectationFile {
  return JSON.parse(readFileSync(join(CORPUS_DIR, `expected-${version}.json`), 'utf8')) as ExpectationFile;
}

test('dialect corpus: every script has expectations, each citing its source', () => {
  const files = VERSIONS.map(load);
  const listed = new Set(files.flatMap((f) => Object.keys(f.scripts)));
  const scripts = corpusScripts(join(CORPUS_DIR, NEWER_DIR)).map((s) => `${NEWER_DIR}/${s}`);
  assert.ok(scripts.length >= 30, `only ${scripts.length} scripts`);
  assert.deepEqual([...listed].sort(), scripts.sort(), 'scripts and expectation files differ');
  for (const f of files)
    for (const [script, e] of Object.entries(f.scripts)) {
      assert.ok(e.source.trim().length > 10, `${f.dialect} ${script}: no source`);
      if (e.error) assert.ok(e.line, `${f.dialect} ${script}: an error needs its line`);
    }
  assert.equal(load('main').commit, MAIN_COMMIT, 'the main expectations name the commit they were read at');
  const invalid = files.flatMap((f) => Object.values(f.scripts)).filter((e) => e.error).length;
  assert.ok(invalid >= 40, `only ${invalid} invalid verdicts`);
});

for (const version of VERSIONS) {
  test(`dialect corpus: the server's verdicts in bpftrace ${version}`, async () => {
    const file = load(version);
    const server = await startServer({ bpftraceVersion: version });
    const wrong: string[] = [];
    try {
      for (const [script, expected] of Object.entries(file.scripts)) {
        const uri = server.open(script.replace(/\//g, '__'), readFileSync(join(CORPUS_DIR, script), 'utf8'));
        const { diagnostics } = await server.diagnostics(uri, 10_000);
        const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
        const line = errors.length ? Math.min(...errors.map((d) => d.range.start.line)) + 1 : undefined;
        if (errors.length > 0 !== expected.error || (expected.error && line !== expected.line))
          wrong.push(
            `${script}: expected ${expected.error ? `error on line ${expected.line}` : 'no error'} (${expected.source})\n` +
              `  server: ${errors.map((d) => `${d.range.start.line + 1}: ${d.message}`).join(' | ') || 'no error'}`,
          );
      }
    } finally {
      await server.close();
    }
    assert.deepEqual(wrong, [], `bpftrace ${version}:\n${wrong.join('\n')}`);
  });
}
