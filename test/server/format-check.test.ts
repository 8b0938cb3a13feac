// The formatter's check of its output (server/format/check.ts), which compares the items of the
// new parse as the parser hands them over: it must reject every kind of change to the program,
// and the parser must parse the same way whether or not it hands items over.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TopItem } from '../../server/syntax/ast';
import { parsesToSameProgram } from '../../server/format/check';
import { parse } from '../../server/syntax/parser';
import { CORPUS_DIR, NEWER_DIR, corpusScripts } from '../corpus/verdict';

function same(before: string, after: string): boolean {
  return parsesToSameProgram(parse(before), before, after);
}

const SCRIPT = [
  '#include <linux/in.h>',
  'struct point { int x; int y; }',
  'config = { max_map_keys = 100 }',
  '// first probe',
  'kprobe:f /pid > 1/ { @a[comm] = count(); }',
  'macro twice(x) { x * 2 }',
  'tracepoint:syscalls:sys_enter_read { $x = args->fd + 1; if ($x) { print($x); } }',
  'END { clear(@a); }',
  '',
].join('\n');

describe("the formatter's check of its output", () => {
  it('accepts the same program in another layout', () => {
    const relaid = SCRIPT.replace(
      'kprobe:f /pid > 1/ { @a[comm] = count(); }',
      'kprobe:f\n/pid>1/\n{\n  @a[comm]=count();\n}',
    ).replace('END { clear(@a); }', 'END\n{\n  clear((@a));;\n}');
    assert.notEqual(relaid, SCRIPT);
    assert.ok(same(SCRIPT, relaid));
    assert.ok(same(SCRIPT, SCRIPT));
  });

  it('rejects a change in the first, a middle or the last item, and an item added or dropped', () => {
    assert.ok(!same(SCRIPT, SCRIPT.replace('@a[comm] = count()', '@a[pid] = count()')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('x * 2', 'x * 3')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('args->fd + 1', 'args->fd - 1')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('clear(@a)', 'zero(@a)')));
    assert.ok(!same(SCRIPT, `${SCRIPT}BEGIN { }\n`));
    assert.ok(!same(SCRIPT, SCRIPT.replace('END { clear(@a); }', '')));
    // Two items merged into one: a probe with two attach points.
    assert.ok(!same('kprobe:f { }\nkprobe:g { }\n', 'kprobe:f,\nkprobe:g { }\n'));
  });

  it('rejects a change outside the items, in the comments or in the syntax problems', () => {
    assert.ok(!same(SCRIPT, SCRIPT.replace('linux/in.h', 'linux/un.h')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('int y;', 'int z;')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('max_map_keys = 100', 'max_map_keys = 10')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('// first probe', '// the first probe')));
    assert.ok(!same(SCRIPT, SCRIPT.replace('END { clear(@a); }', 'END { clear(@a) + ; }')));
  });

  it('parses the corpus the same whether or not the parser hands each item over', () => {
    const newer = join(CORPUS_DIR, NEWER_DIR);
    const texts = [
      ...corpusScripts().map((s) => readFileSync(join(CORPUS_DIR, s), 'utf8')),
      ...corpusScripts(newer).map((s) => readFileSync(join(newer, s), 'utf8')),
      // Errors that depend on the items before: C definition and config after a probe.
      'BEGIN { }\nstruct a { int x; }\n',
      'BEGIN { }\nconfig = { max_map_keys = 1 }\n',
      'BEGIN { }\nimport "x";\n',
    ];
    let items = 0;
    for (const text of texts) {
      const whole = parse(text);
      const handed: TopItem[] = [];
      const streamed = parse(text, (item) => handed.push(item));
      assert.deepEqual(streamed.program.items, []);
      assert.deepEqual(handed, whole.program.items);
      assert.deepEqual({ ...streamed.program, items: handed }, whole.program);
      assert.deepEqual(streamed.problems, whole.problems);
      assert.deepEqual(streamed.comments, whole.comments);
      items += handed.length;
    }
    assert.ok(items > 1000, `only ${items} items`);
  });
});
