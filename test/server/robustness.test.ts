// Every feature entry point at random positions of mutated corpus scripts, in three dialects:
// nothing may throw (LS-B's fuzz test drives the analysis and the LSP; this one the features).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze } from '../../server/analysis/analyzer';
import { Dialect } from '../../server/analysis/dialects';
import { globToRegExp } from '../../server/analysis/suggest';
import { bundledCatalog } from '../../server/catalog/catalog';
import { complete } from '../../server/features/completion';
import { toDiagnostics } from '../../server/features/diagnostics';
import { hoverAt } from '../../server/features/hover';
import { callAt, exprAt, probeAt, symbolAt } from '../../server/features/locate';
import { semanticTokens } from '../../server/features/semanticTokens';

const CORPUS = join(__dirname, '../corpus');
const ODD = [
  '"',
  '/*',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '/',
  '\\',
  '$',
  '@',
  '#',
  ':',
  '->',
  '..',
  '*',
  '[z-a]',
  ',',
  ';',
  '0x',
  '1e5',
  '?',
  '=',
  '.',
];

function corpus(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(CORPUS, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(CORPUS, d.name)))
      if (f.endsWith('.bt')) out.push(readFileSync(join(CORPUS, d.name, f), 'utf8'));
  }
  return out;
}

test('malformed globs in attach points do not throw', () => {
  assert.equal(globToRegExp('sys_[z-a]').test('sys_[z-a]'), true);
  assert.equal(globToRegExp('sys_enter_*').test('sys_enter_bind'), true);
});

test('completion, hover, semantic tokens, signature and symbol lookups never throw on mutated scripts', () => {
  const scripts = corpus();
  assert.ok(scripts.length > 50, 'the corpus is there');
  let seed = 20261125;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const catalog = bundledCatalog();
  const dialects = ['0.17', '0.21', '0.26'].map((v) => new Dialect(v));
  let calls = 0;
  for (let i = 0; i < 1500; i++) {
    let text = scripts[Math.floor(random() * scripts.length)];
    for (let k = 0; k < 3; k++) {
      const p = Math.floor(random() * text.length);
      const q = p + Math.floor(random() * 8);
      const r = random();
      if (r < 0.33) text = text.slice(0, p) + text.slice(q);
      else if (r < 0.66) text = text.slice(0, p) + text.slice(p, q) + text.slice(p);
      else text = text.slice(0, p) + ODD[Math.floor(random() * ODD.length)] + text.slice(p);
    }
    const doc = TextDocument.create('file:///fuzz.bt', 'bpftrace', 1, text);
    for (const dialect of dialects) {
      const offsets = Array.from({ length: 4 }, () => Math.floor(random() * (text.length + 1)));
      try {
        const analysis = analyze(text, dialect, catalog);
        toDiagnostics(doc, analysis);
        assert.equal(semanticTokens(doc, analysis).data.length % 5, 0);
        for (const o of offsets) {
          complete(doc, analysis, o);
          hoverAt(analysis, o);
          callAt(analysis, o);
          exprAt(analysis, o);
          symbolAt(analysis, o);
          probeAt(analysis, o);
          calls++;
        }
      } catch (err) {
        assert.fail(`${dialect.name} threw on ${JSON.stringify(text)}: ${(err as Error).stack}`);
      }
    }
  }
  assert.equal(calls, 1500 * 3 * 4);
});
