// The formatter's proof that its output is the same program: the tree comparison rejects every
// change to a field that carries meaning (each one, on every node of the corpus, in turn), lets
// positions and written form differ, and looks at every key the parser puts on a node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sameTree, unlistedKeys } from '../../server/format/same-tree';
import { parse } from '../../server/syntax/parser';
import { CORPUS_DIR, NEWER_DIR, corpusScripts } from '../corpus/verdict';

/** Keys whose values are position or written form, as the formatter is allowed to change them. */
const WRITTEN_FORM = new Set(
  'start end opSpan nameSpan argsSpan predicateSpan argumentSpan keyword commas empty parenthesized gaps'.split(
    ' ',
  ),
);

function corpusTexts(): Array<[string, string]> {
  const newer = join(CORPUS_DIR, NEWER_DIR);
  return [
    ...corpusScripts().map((s) => [s, readFileSync(join(CORPUS_DIR, s), 'utf8')] as [string, string]),
    ...corpusScripts(newer).map((s) => [s, readFileSync(join(newer, s), 'utf8')] as [string, string]),
  ];
}

function same(a: string, b: string): boolean {
  return sameTree(parse(a).program, parse(b).program);
}

describe('the syntax tree comparison behind formatting', () => {
  it('sees a change to any field of meaning on any node of the corpus, and none in positions', () => {
    let mutated = 0;
    const kinds = new Set<string>();
    for (const [script, text] of corpusTexts()) {
      const original = parse(text).program;
      const copy = parse(text).program;
      assert.ok(sameTree(copy, original), `${script}: a tree differs from itself`);
      const visit = (node: unknown): void => {
        if (typeof node !== 'object' || node === null) return;
        if (Array.isArray(node)) return node.forEach(visit);
        const record = node as Record<string, unknown>;
        if (typeof record.kind === 'string') kinds.add(record.kind);
        for (const key of Object.keys(record)) {
          const value = record[key];
          if (typeof value === 'object' && value !== null) {
            visit(value);
            continue;
          }
          if (key === 'kind' || value === undefined) continue;
          // Another value of the same type: what a formatter bug that changed the program gives.
          // (A number too large for + 1 to change it is negated.)
          record[key] =
            typeof value === 'number'
              ? value + 1 === value
                ? -value
                : value + 1
              : typeof value === 'boolean'
                ? !value
                : `${String(value)}x`;
          const seen = !sameTree(copy, original);
          record[key] = value;
          mutated++;
          if (WRITTEN_FORM.has(key)) assert.ok(!seen, `${script}: a change of ${key} counted`);
          else assert.ok(seen, `${script}: a change of ${String(record.kind ?? 'name')}.${key} went unseen`);
        }
      };
      visit(copy);
    }
    assert.ok(mutated > 10_000, `only ${mutated} fields changed`);
    for (const kind of ['probe', 'attach', 'if', 'binary', 'call', 'map', 'cast', 'tuple', 'cdef', 'macro']) {
      assert.ok(kinds.has(kind), `the corpus has no '${kind}' node`);
    }
  });

  it('sees a node that one tree has and the other lacks, and a changed kind', () => {
    assert.ok(!same('BEGIN { if (1) { @a = 1; } }', 'BEGIN { if (1) { @a = 1; } else { @a = 2; } }'));
    assert.ok(!same('kprobe:f { @a = 1; }', 'kprobe:f /pid/ { @a = 1; }'));
    assert.ok(!same('BEGIN { @a = 1 + 2 * 3; }', 'BEGIN { @a = (1 + 2) * 3; }'));
    assert.ok(!same('BEGIN { @a = $x; }', 'BEGIN { @a = $1; }'));
    assert.ok(!same('BEGIN { @a[1, 2] = 1; }', 'BEGIN { @a[(1, 2)] = 1; }'));
    assert.ok(!same('BEGIN { $a = (uint8)1; }', 'BEGIN { $a = (uint8 *)1; }'));
    assert.ok(!same('a=kprobe:f { }', 'kprobe:f { }'));
    assert.ok(!same('struct a { int x; }\nBEGIN { }', 'struct a { int y; }\nBEGIN { }'));
  });

  it('lets layout, parentheses, stray semicolons and trailing spaces in a C definition differ', () => {
    assert.ok(same('BEGIN{@a=1+2*3;}', 'BEGIN\n{\n  @a = 1 + (2 * 3);\n}\n'));
    assert.ok(same('BEGIN { if (pid) { @a = 1;; } }', 'BEGIN { if pid { @a = 1; } }'));
    assert.ok(same('interval : s : 1 { }', 'interval:s:1 { }'));
    assert.ok(same('struct a { int x;   \n}\nBEGIN { }', 'struct a { int x;\n}\nBEGIN { }'));
  });

  it('looks at every key the parser puts on a node of the corpus', () => {
    for (const [script, text] of corpusTexts()) {
      assert.deepEqual(unlistedKeys(parse(text).program), [], script);
    }
    // The walk finds a key that no type declares.
    const probe = parse('BEGIN { @a = 1; }').program.items[0] as unknown as Record<string, unknown>;
    probe.note = 'x';
    assert.deepEqual(unlistedKeys(probe), ['probe.note']);
  });
});
