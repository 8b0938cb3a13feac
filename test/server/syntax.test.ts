// The lexer and parser on their own: exact ranges, recovery, the constructs of every dialect,
// and the promises "never throws" and "linear time".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '../../server/syntax/parser';
import { Lexer } from '../../server/syntax/lexer';
import type {
  AssignStmt,
  CastExpr,
  ExprStmt,
  FieldExpr,
  Probe,
  TernaryExpr,
  BinaryExpr,
} from '../../server/syntax/ast';

const slice = (text: string, s: { start: number; end: number }) => text.slice(s.start, s.end);

test('lexer: strings with escapes, numbers with suffixes and durations, params, maps, preprocessor lines', () => {
  const text = '#include <linux/in.h>\n"a\\tb\\x41\\101" 0x1f 10ul 1_000 100ms 5e3 $1 $# $x @m @ // c\n';
  const lx = new Lexer(text);
  const toks = [];
  for (let t = lx.next(); t.kind !== 'eof'; t = lx.next()) toks.push(t);
  assert.deepEqual(
    toks.map((t) => t.kind),
    ['preproc', 'string', 'int', 'int', 'int', 'int', 'int', 'param', 'param', 'var', 'map', 'map'],
  );
  assert.equal(toks[0].text, '#include <linux/in.h>');
  assert.equal(toks[1].value, 'a\tbAA');
  assert.deepEqual(
    toks.slice(2, 7).map((t) => t.num),
    [31, 10, 1000, 100e6, 5000],
  );
  assert.equal(toks[3].suffix, 'ul');
  assert.deepEqual(lx.problems, []);
  assert.equal(lx.comments.length, 1);
});

test('lexer: unterminated strings and comments, bad escapes and suffixes have exact ranges', () => {
  const text = 'BEGIN { "abc\n "x\\q" 12zz /* open';
  const lx = new Lexer(text);
  while (lx.next().kind !== 'eof');
  const got = lx.problems.map((p) => [p.code, slice(text, p)]);
  assert.deepEqual(got, [
    ['unterminated-string', '"abc'],
    ['invalid-escape', '\\q'],
    ['invalid-number', 'zz'],
    ['unterminated-comment', ''],
  ]);
  assert.equal(lx.problems[3].openedAt, text.indexOf('/*'));
});

test('parser: probes, attach points with exact ranges, predicates with division, casts and precedence', () => {
  const text = `uprobe:/bin/bash:readline, kprobe:vfs_read+4 /pid / 2 == 1 && $1/ { $s = (struct sockaddr_in *)arg0; @x[comm, pid] += $s->sin_port + 2 * 3; $t = pid > 1 ? "a" : "b"; }`;
  const { program, problems } = parse(text);
  assert.deepEqual(problems, []);
  const probe = program.items[0] as Probe;
  assert.deepEqual(
    probe.attachPoints.map((a) => [a.provider.name, a.parts.map((p) => p.name)]),
    [
      ['uprobe', ['/bin/bash', 'readline']],
      ['kprobe', ['vfs_read+4']],
    ],
  );
  assert.equal(slice(text, probe.attachPoints[0].parts[0]), '/bin/bash');
  assert.equal(slice(text, probe.predicate!), 'pid / 2 == 1 && $1');
  const [s1, s2, s3] = probe.body.statements as AssignStmt[];
  const cast = s1.value as CastExpr;
  assert.equal(cast.kind, 'cast');
  assert.equal(cast.type.tag, 'struct');
  assert.equal(cast.type.pointer, 1);
  assert.equal(slice(text, cast.type), 'struct sockaddr_in *');
  assert.equal(s2.op, '+=');
  assert.equal(s2.target.kind, 'map');
  const sum = s2.value as BinaryExpr;
  assert.equal(sum.op, '+');
  assert.equal((sum.left as FieldExpr).field.name, 'sin_port');
  assert.equal((sum.right as BinaryExpr).op, '*');
  assert.equal((s3.value as TernaryExpr).kind, 'ternary');
});

test('parser: every statement form of 0.17..0.26 parses', () => {
  const text = `config = { max_map_keys = 10; }
import "lib.bt";
struct foo { int a; char b[4]; };
macro add($a, $b) { $a + $b }
let @m = lruhash(100);
probe_name = kprobe:f {
  let $x: uint64 = 1;
  if ($x) { $x++; } else if (!$x) { --$x; } else { return; }
  unroll (4) { $x <<= 1; }
  while ($x < 10) { $x += 1; if ($x == 5) { break; } continue; }
  for ($kv : @m) { print(($kv.0, $kv.1)); }
  for ($i : 0..10) { print($i); }
  $y = offsetof(struct foo, a) + sizeof(struct foo) + sizeof($x);
  $z = (uint8[4])$x;
  delete(@m, 1);
}
`;
  const { program, problems } = parse(text);
  assert.deepEqual(problems, []);
  assert.ok(program.config);
  assert.equal(program.imports[0].path, 'lib.bt');
  assert.deepEqual(program.cDefinitions[0].members, [
    { name: 'a', type: 'int' },
    { name: 'b', type: 'char[4]' },
  ]);
  assert.deepEqual(
    program.items.map((i) => i.kind),
    ['macro', 'mapdecl', 'probe'],
  );
  const probe = program.items[2] as Probe;
  assert.equal(probe.attachPoints[0].label?.name, 'probe_name');
  assert.equal(probe.attachPoints[0].raw, 'kprobe:f');
  assert.deepEqual(
    probe.body.statements.map((s) => s.kind),
    ['let', 'if', 'unroll', 'while', 'for', 'for', 'assign', 'assign', 'exprstmt'],
  );
  assert.equal(((probe.body.statements[8] as ExprStmt).expr as { kind: string }).kind, 'call');
});

test('parser: recovery reports several errors and keeps the probes after them', () => {
  const text = `BEGIN { $x = ; print(1) }
kprobe:f { @a = (1 + ; }
tracepoint:a:b { printf("%d", 1) $y = 2; }
END { print(2); }
`;
  const { program, problems } = parse(text);
  assert.ok(problems.length >= 3, JSON.stringify(problems));
  assert.deepEqual(
    problems.map((p) => text.slice(0, p.start).split('\n').length),
    [1, 2, 3],
  );
  assert.equal(program.items.length, 4);
  const end = program.items[3] as Probe;
  assert.equal(end.attachPoints[0].raw, 'END');
  assert.equal(end.body.statements.length, 1);
});

test('parser: never throws, on garbage, deep nesting and a 1 MB script in linear time', () => {
  const garbage = [
    '',
    '{',
    '}',
    '((((',
    '/',
    'BEGIN /',
    'BEGIN { (((((( }',
    '"',
    '/*',
    'k:f { @[',
    '$',
    '@',
    '#',
    '\0\ud800😀',
    'a:b:c /x/ y',
  ];
  for (const g of garbage) assert.doesNotThrow(() => parse(g), g);
  assert.doesNotThrow(() => parse('BEGIN { $x = ' + '('.repeat(50_000) + ' }'));
  assert.doesNotThrow(() => parse('BEGIN ' + '{ '.repeat(50_000)));
  assert.doesNotThrow(() => parse('BEGIN { $x = ' + '-'.repeat(50_000) + '1; }'));
  const block =
    'tracepoint:syscalls:sys_enter_bind /pid != 1/ { $s = (struct sockaddr_in *)args->umyaddr; @b[comm, args->fd] = count(); printf("%d\\n", $s->sin_port); }\n';
  const small = block.repeat(Math.ceil(100_000 / block.length));
  const big = block.repeat(Math.ceil((1 << 20) / block.length));
  const time = (s: string) => {
    const t = performance.now();
    parse(s);
    return performance.now() - t;
  };
  time(small);
  const tSmall = Math.min(time(small), time(small));
  const tBig = Math.min(time(big), time(big));
  // About 10x the input: linear would be ~10x; quadratic would be ~100x.
  assert.ok(tBig < tSmall * 40, `1 MB: ${tBig.toFixed(1)} ms vs 100 KB: ${tSmall.toFixed(1)} ms`);
});

test('parser: a block left open while typing ends at the next probe header', () => {
  const text = 'BEGIN { if (1) { print(1);\n\nkprobe:vfs_read { @x = 1; }\nEND { }\n';
  const { program, problems } = parse(text);
  assert.deepEqual(
    problems.map((p) => [p.code, text.slice(p.start, p.end)]),
    [['unterminated-block', 'kprobe']],
  );
  assert.deepEqual(
    program.items.map((i) => (i.kind === 'probe' ? i.attachPoints[0].raw : i.kind)),
    ['BEGIN', 'kprobe:vfs_read', 'END'],
  );
});
