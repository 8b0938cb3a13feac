// Formatting through the protocol, as an editor asks for it: the whole differential corpus in
// every dialect (idempotent, same syntax tree, still valid in its dialect), comments, files with
// syntax errors, range and on-type formatting, the layout of bpftrace's `--fmt`, and settings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  DidChangeConfigurationNotification,
  DocumentFormattingRequest,
  DocumentOnTypeFormattingRequest,
  DocumentRangeFormattingRequest,
  type Position,
  type TextEdit,
} from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze } from '../../server/analysis/analyzer';
import { Dialect } from '../../server/analysis/dialects';
import { bundledCatalog } from '../../server/catalog/catalog';
import { parse } from '../../server/syntax/parser';
import { CORPUS_DIR, corpusScripts } from '../corpus/verdict';
import { positionOf, type ServerHarness, startServer } from './harness';

const DIALECTS = ['0.17', '0.18', '0.19', '0.20', '0.21', '0.22', '0.23', '0.24', '0.25', '0.26', 'main'];
const OPTIONS = { tabSize: 8, insertSpaces: false };

function apply(text: string, edits: TextEdit[] | null): string {
  return TextDocument.applyEdits(TextDocument.create('file:///x.bt', 'bpftrace', 1, text), edits ?? []);
}

/** The syntax tree without positions, written parentheses and stray `;` (this test's own reading). */
function tree(text: string): string {
  const isSpan = (v: unknown) =>
    typeof v === 'object' && v !== null && Object.keys(v).sort().join() === 'end,start';
  const writtenForm = ['start', 'end', 'commas', 'empty', 'parenthesized', 'gaps'];
  return JSON.stringify(parse(text).program, (k, v: unknown) => {
    if (writtenForm.includes(k) || isSpan(v)) return undefined;
    return k === 'body' && typeof v === 'string' ? v.replace(/[ \t]+$/gm, '') : v;
  });
}

/** Every word of every comment, in order. */
function commentWords(text: string): string[] {
  return parse(text)
    .comments.flatMap((c) =>
      text
        .slice(c.start, c.end)
        .replace(/^\/\/|^\/\*|\*\/$/g, '')
        .split(/[\s*]+/),
    )
    .filter((w) => w !== '');
}

function errors(text: string, dialect: Dialect): Set<string> {
  return new Set(
    analyze(text, dialect, bundledCatalog())
      .diagnostics.filter((d) => d.severity === 'error')
      .map((d) => d.code),
  );
}

async function formatDoc(h: ServerHarness, name: string, text: string): Promise<string> {
  const uri = h.open(name, text);
  const edits = await h.client.sendRequest(DocumentFormattingRequest.type, {
    textDocument: { uri },
    options: OPTIONS,
  });
  return apply(text, edits);
}

describe('formatting the differential corpus in every dialect', () => {
  const scripts = corpusScripts();
  for (const version of DIALECTS) {
    it(`formats each corpus script idempotently, to the same tree, still valid in ${version}`, async () => {
      const h = await startServer({ bpftraceVersion: version });
      const dialect = new Dialect(version);
      let changed = 0;
      try {
        for (const [i, script] of scripts.entries()) {
          const text = readFileSync(`${CORPUS_DIR}/${script}`, 'utf8');
          const once = await formatDoc(h, `a${i}.bt`, text);
          if (once !== text) changed++;
          assert.equal(tree(once), tree(text), `${script}: the tree changed`);
          assert.deepEqual(commentWords(once), commentWords(text), `${script}: comments changed`);
          const twice = await formatDoc(h, `b${i}.bt`, once);
          assert.equal(twice, once, `${script}: formatting twice changed the text`);
          const before = errors(text, dialect);
          for (const code of errors(once, dialect)) {
            assert.ok(before.has(code), `${script}: formatting for ${version} brought the error ${code}`);
          }
        }
      } finally {
        await h.close();
      }
      // Not vacuous: a good part of the hand-written corpus is not in --fmt layout.
      assert.ok(changed > scripts.length / 10, `only ${changed} of ${scripts.length} scripts changed`);
    });
  }
});

describe('formatting in the style of bpftrace --fmt', () => {
  let h: ServerHarness;
  before(async () => (h = await startServer({ bpftraceVersion: '0.26' })));
  after(() => h.close());

  it('lays out probes, predicates, blocks, if/else, loops, maps, casts, config, macros and C definitions', async () => {
    const text = [
      '#include <linux/sched.h>',
      'struct point { int x;   int y; }',
      'config = { max_map_keys = 100 }',
      'macro twice(x) { x * 2 }',
      'kprobe:do_nanosleep , kprobe:do_sys_openat2 / pid > 10 && comm == "bash" / { $t = (struct task_struct *) curtask;',
      '@m[pid, comm] = count(); if ($t->pid > 1) { @big++ } else if (pid) { @x = (uint64)$t->tgid + 1; } else { @y = 1 }',
      'unroll(2) { @u = 1; } while ($i < 3) { $i++; } for ($kv : @m) { print($kv); } }',
      'END { clear(@m); }',
    ].join('\n');
    assert.equal(
      await formatDoc(h, 'layout.bt', text),
      [
        '#include <linux/sched.h>',
        'struct point { int x;   int y; };',
        'config = {',
        '  max_map_keys = 100;',
        '}',
        'macro twice(x)',
        '{',
        '  x * 2',
        '}',
        'kprobe:do_nanosleep,',
        'kprobe:do_sys_openat2',
        '/pid > 10 && comm == "bash"/',
        '{',
        '  $t = (struct task_struct *)curtask;',
        '  @m[pid,comm] = count();',
        '  if ($t->pid > 1) {',
        '    @big++',
        '  } else if pid {',
        '    @x = ((uint64)$t->tgid) + 1;',
        '  } else {',
        '    @y = 1;',
        '  }',
        '  unroll (2) {',
        '    @u = 1;',
        '  }',
        '  while ($i < 3) {',
        '    $i++;',
        '  }',
        '  for $kv : @m {',
        '    print($kv);',
        '  }',
        '}',
        'END',
        '{',
        '  clear(@m);',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('leaves a script already in --fmt layout byte for byte (long predicates and calls split at 90)', async () => {
    const text = [
      '#!/usr/bin/env bpftrace',
      '// Block I/O latency by device and sector, as an example of a long predicate.',
      '',
      'tracepoint:block:block_rq_complete',
      '/has_key(@begin, (args.dev,args.sector)) &&',
      ' has_key(@owner, (args.dev,args.sector)) && has_key(@label, (args.dev,args.sector))/',
      '{',
      '  $key = (args.dev,args.sector);',
      '  printf("%-12u %-5d %-8d %-16s %-6d %7d\\n", elapsed / 1e6, args.dev >> 20,',
      '         args.dev & ((1 << 20) - 1), @label[$key], @owner[$key], nsecs / 1e6);',
      '',
      '  delete(@begin, $key); // done with it',
      '}',
      '',
    ].join('\n');
    assert.equal(await formatDoc(h, 'fmt-form.bt', text), text);
  });

  it('keeps the parentheses an older dialect requires', async () => {
    const text =
      'BEGIN { if $x { @a = 1; } while ($i) { $i--; } while ($i > 0) { $i--; } unroll (2) { $i++; } if (comptime 1) { @b = 1; } for ($kv : @m) { print($kv); } }\n';
    const old = await startServer({ bpftraceVersion: '0.17' });
    try {
      const formatted = await formatDoc(old, 'old.bt', text);
      assert.match(formatted, /^ {2}if \(\$x\) \{$/m);
      assert.match(formatted, /^ {2}while \(\$i\) \{$/m);
      assert.match(formatted, /^ {2}for \(\$kv : @m\) \{$/m);
    } finally {
      await old.close();
    }
    const newer = await formatDoc(h, 'new.bt', text);
    assert.match(newer, /^ {2}if \$x \{$/m);
    assert.match(newer, /^ {2}for \$kv : @m \{$/m);
    // As bpftrace's printer: a primitive condition bare, any other in parentheses; unroll's kept.
    assert.match(newer, /^ {2}while \$i \{$/m);
    assert.match(newer, /^ {2}while \(\$i > 0\) \{$/m);
    assert.match(newer, /^ {2}unroll \(2\) \{$/m);
    assert.match(newer, /^ {2}if comptime 1 \{$/m);
  });

  it('joins an attach point written with spaces and keeps a probe name as bpftrace reads it', async () => {
    // Up to 0.25 the spaces are dropped by bpftrace's grammar; 0.26 needs the attach point whole.
    const spaced = 'tick = interval : s : 1 { exit(); }\n';
    assert.equal(await formatDoc(h, 'spaced.bt', spaced), 'tick=interval:s:1\n{\n  exit();\n}\n');
    const v25 = await startServer({ bpftraceVersion: '0.25' });
    try {
      const named = 'a == interval : s : 1 , "every second"==interval:s:2 { exit(); }\n';
      assert.equal(
        await formatDoc(v25, 'named.bt', named),
        'a==interval:s:1,\n"every second"==interval:s:2\n{\n  exit();\n}\n',
      );
    } finally {
      await v25.close();
    }
  });

  it('keeps every comment: before, after and inside statements', async () => {
    const text = [
      '// before the probe',
      'BEGIN /* after the attach point */ {',
      '  // before a statement',
      '  $a = 1; // after a statement',
      '  $b = $a /* inside an expression */ + 2;',
      '  if ($b > 2 /* inside a condition */) { printf("x\\n"); } // after the if',
      '  /* a block',
      '   * comment */',
      '}',
      '// at the end',
    ].join('\n');
    const formatted = await formatDoc(h, 'comments.bt', text);
    assert.deepEqual(commentWords(formatted), commentWords(text));
    assert.match(formatted, /^\/\/ before the probe\nBEGIN\n/);
    assert.match(formatted, /^ {2}\$a = 1; \/\/ after a statement$/m);
    assert.match(formatted, /^ {2}\/\/ inside an expression\n {2}\$b = \$a \+ 2;$/m);
    assert.match(formatted, /^ {2}\} \/\/ after the if$/m);
    assert.match(formatted, /^ {2}\/\/ a block\n {2}\/\/ comment\n\}$/m);
    assert.equal(await formatDoc(h, 'comments-again.bt', formatted), formatted);
  });

  it('never damages a script with a syntax error: only the probes that parse are formatted', async () => {
    const broken = 'kprobe:f\n{\n  @x = (1 + ;\n    @y=2;\n}\n';
    const text = `BEGIN{@a=1;}\n\n${broken}`;
    const formatted = await formatDoc(h, 'broken.bt', text);
    assert.equal(formatted, `BEGIN\n{\n  @a = 1;\n}\n\n${broken}`);
    assert.equal(await formatDoc(h, 'only-broken.bt', broken), broken);
  });
});

describe('range and on-type formatting change only their range', () => {
  let h: ServerHarness;
  before(async () => (h = await startServer({ bpftraceVersion: '0.26' })));
  after(() => h.close());
  const text = ['BEGIN {', '  $a=1+2;', '      $b  =  3;', '  $c=4;', '}', 'END{ @z=1; }', ''].join('\n');

  function outside(original: string, edits: TextEdit[], from: Position, to: Position): void {
    const doc = TextDocument.create('file:///r.bt', 'bpftrace', 1, original);
    for (const e of edits) {
      assert.ok(
        doc.offsetAt(e.range.start) >= doc.offsetAt(from),
        `edit starts before the range: ${JSON.stringify(e)}`,
      );
      assert.ok(
        doc.offsetAt(e.range.end) <= doc.offsetAt(to),
        `edit ends after the range: ${JSON.stringify(e)}`,
      );
    }
  }

  it('formats the statements of a selection and nothing else', async () => {
    const uri = h.open('range.bt', text);
    const from = { line: 2, character: 0 };
    const to = { line: 3, character: 0 };
    const edits = await h.client.sendRequest(DocumentRangeFormattingRequest.type, {
      textDocument: { uri },
      range: { start: from, end: to },
      options: OPTIONS,
    });
    assert.ok(edits && edits.length > 0);
    outside(text, edits, from, to);
    assert.equal(apply(text, edits), text.replace('      $b  =  3;', '  $b = 3;'));
  });

  it('formats whole probes inside a selection', async () => {
    const uri = h.open('range-probe.bt', text);
    const from = positionOf(text, 'END');
    const to = { line: 5, character: 12 };
    const edits = await h.client.sendRequest(DocumentRangeFormattingRequest.type, {
      textDocument: { uri },
      range: { start: from, end: to },
      options: OPTIONS,
    });
    outside(text, edits ?? [], from, to);
    assert.equal(apply(text, edits), text.replace('END{ @z=1; }', 'END\n{\n  @z = 1;\n}'));
  });

  it('formats the `if` a typed `}` closes, though the probe around it has no `}` yet', async () => {
    const open = 'BEGIN {\n  $a = 1;\n  if ($a) {   @b=1; }';
    const uri = h.open('open.bt', open);
    const edits = await h.client.sendRequest(DocumentOnTypeFormattingRequest.type, {
      textDocument: { uri },
      position: { line: 2, character: open.split('\n')[2].length },
      ch: '}',
      options: OPTIONS,
    });
    assert.equal(apply(open, edits), 'BEGIN {\n  $a = 1;\n  if $a {\n    @b = 1;\n  }');
  });

  it('formats the statement a typed `;` ends, and the probe a typed `}` closes', async () => {
    const uri = h.open('typed.bt', text);
    const semi = positionOf(text, '$a=1+2;', 7);
    const afterSemi = await h.client.sendRequest(DocumentOnTypeFormattingRequest.type, {
      textDocument: { uri },
      position: semi,
      ch: ';',
      options: OPTIONS,
    });
    assert.equal(apply(text, afterSemi), text.replace('$a=1+2;', '$a = 1 + 2;'));
    const brace = { line: 5, character: 12 };
    const afterBrace = await h.client.sendRequest(DocumentOnTypeFormattingRequest.type, {
      textDocument: { uri },
      position: brace,
      ch: '}',
      options: OPTIONS,
    });
    outside(text, afterBrace ?? [], { line: 5, character: 0 }, brace);
    assert.equal(apply(text, afterBrace), text.replace('END{ @z=1; }', 'END\n{\n  @z = 1;\n}'));
  });
});

describe('formatting settings', () => {
  const text = 'BEGIN { if (pid) { printf("%d %d %d\\n", pid, tid, nsecs); } }\n';

  it('takes indent and width from the fieldtrace.format settings, never the editor tab size', async () => {
    const h = await startServer({ bpftraceVersion: '0.17', formatIndentSize: 4, formatWidth: 40 });
    try {
      assert.ok(h.initializeResult.capabilities.documentFormattingProvider);
      assert.ok(h.initializeResult.capabilities.documentRangeFormattingProvider);
      assert.deepEqual(h.initializeResult.capabilities.documentOnTypeFormattingProvider, {
        firstTriggerCharacter: '}',
        moreTriggerCharacter: [';'],
      });
      assert.equal(
        await formatDoc(h, 'four.bt', text),
        'BEGIN\n{\n    if (pid) {\n        printf("%d %d %d\\n",\n               pid, tid, nsecs);\n    }\n}\n',
      );
      await h.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { fieldtrace: { format: { indentSize: 2, width: 90 } } },
      });
      assert.equal(
        await formatDoc(h, 'two.bt', text),
        'BEGIN\n{\n  if (pid) {\n    printf("%d %d %d\\n", pid, tid, nsecs);\n  }\n}\n',
      );
    } finally {
      await h.close();
    }
  });
});

describe('parentheses: random expressions keep their tree without being left as written', () => {
  // A seeded generator (same expressions every run): fully parenthesised input, so that every
  // parenthesis the printer drops or adds is a decision of its own.
  let seed = 17;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const OPS = [
    '||',
    '&&',
    '|',
    '^',
    '&',
    '==',
    '!=',
    '<',
    '<=',
    '>',
    '>=',
    '<<',
    '>>',
    '+',
    '-',
    '*',
    '/',
    '%',
  ];
  const expr = (depth: number): string => {
    if (depth === 0) return ['1', '$a', '@m[pid]', 'comm', '-2', 'args.f'][random(6)];
    const x = () => expr(depth - 1);
    switch (random(8)) {
      case 0:
      case 1:
      case 2:
        return `(${x()} ${OPS[random(OPS.length)]} ${x()})`;
      case 3:
        return `${['!', '-', '~'][random(3)]}(${x()})`;
      case 4:
        return `(${x()} ? ${x()} : ${x()})`;
      case 5:
        return `(uint64)(${x()})`;
      case 6:
        return `f(${x()}, ${x()})`;
      default:
        return `@n[${x()}, ${x()}]`;
    }
  };

  it('formats 300 random expressions in statements and conditions, idempotently', async () => {
    const h = await startServer({ bpftraceVersion: '0.26' });
    try {
      for (let i = 0; i < 300; i++) {
        const text = `BEGIN { $r = ${expr(4)}; if (${expr(3)}) { @x = ${expr(3)}; } }\n`;
        const once = await formatDoc(h, `e${i}.bt`, text);
        assert.notEqual(once, text, `not formatted: ${text}`);
        assert.equal(tree(once), tree(text), `tree changed: ${text}`);
        assert.equal(await formatDoc(h, `f${i}.bt`, once), once, `not idempotent: ${text}`);
      }
    } finally {
      await h.close();
    }
  });
});
