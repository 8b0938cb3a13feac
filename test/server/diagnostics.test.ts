import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SetDocumentTargetNotification, SetNodeTargetNotification } from '../../common/protocol';
import { positionOf, startServer } from './harness';

const BIND = `tracepoint:syscalls:sys_enter_bind
{
  $sa = (struct sockaddr_in *)args->umyaddr;
  printf("%d %d\\n", args->fd, $sa->sin_port);
}
`;

test('a valid script has no diagnostics in 0.17', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const uri = h.open('ok.bt', BIND);
    const d = await h.diagnostics(uri);
    assert.deepEqual(d.diagnostics, []);
  } finally {
    await h.close();
  }
});

test('several syntax errors are reported and the rest is still analysed', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'BEGIN { $x = 1 $y = 2; }\nkprobe:f { x = 3; }\nEND { print(nosuch); }\n';
    const uri = h.open('syntax.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const syntax = diagnostics.filter((d) => d.code === 'syntax');
    assert.equal(syntax.length, 2, JSON.stringify(diagnostics));
    assert.deepEqual(syntax[0].range.start, positionOf(text, '$y'));
    assert.deepEqual(syntax[1].range.start, positionOf(text, '= 3'));
    const unknown = diagnostics.find((d) => d.code === 'unknown-identifier');
    assert.ok(unknown, 'semantic errors after syntax errors');
    assert.deepEqual(unknown.range.start, positionOf(text, 'nosuch'));
  } finally {
    await h.close();
  }
});

test('unterminated string, comment and block are reported with their ranges', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const s = h.open('str.bt', 'BEGIN { printf("abc); }\n');
    const ds = (await h.diagnostics(s)).diagnostics;
    assert.ok(
      ds.some((d) => d.code === 'unterminated-string' && d.range.start.character === 15),
      JSON.stringify(ds),
    );
    const c = h.open('comment.bt', 'BEGIN { /* never closed\n');
    const dc = (await h.diagnostics(c)).diagnostics;
    assert.ok(dc.some((d) => d.code === 'unterminated-comment'));
    const b = h.open('block.bt', 'BEGIN { print(1)\n');
    const db = (await h.diagnostics(b)).diagnostics;
    const block = db.find((d) => d.code === 'unterminated-block');
    assert.ok(block);
    assert.equal(block.range.start.line, 1, 'at the end of file, as bpftrace reports it');
  } finally {
    await h.close();
  }
});

test('tracepoint args: unknown field with did-you-mean, args.f in 0.17, args outside tracepoints, retval', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `tracepoint:syscalls:sys_enter_bind { print(args->myaddr); print(args.fd); }
kprobe:do_nanosleep { print(args->x); print(retval); }
`;
    const uri = h.open('args.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const field = diagnostics.find((d) => d.code === 'unknown-field');
    assert.ok(field);
    assert.deepEqual(field.range.start, positionOf(text, 'myaddr'));
    assert.match(field.message, /did you mean 'umyaddr'/);
    assert.equal(field.relatedInformation?.[0].message, "Did you mean 'umyaddr'?");
    assert.ok(diagnostics.some((d) => d.code === 'args-dot' && d.range.start.line === 0));
    assert.ok(diagnostics.some((d) => d.code === 'args-unavailable' && d.range.start.line === 1));
    assert.ok(diagnostics.some((d) => d.code === 'retval-unavailable' && d.range.start.line === 1));
  } finally {
    await h.close();
  }
});

test('the same args.fd is fine in 0.26, and per-document node targets switch the dialect', async () => {
  const h = await startServer({ bpftraceVersion: '0.26' });
  try {
    const text = 'tracepoint:syscalls:sys_enter_bind { print(args.fd); }\n';
    const uri = h.open('dot.bt', text);
    assert.deepEqual((await h.diagnostics(uri)).diagnostics, []);
    await h.client.sendNotification(SetNodeTargetNotification.type, {
      nodeId: 'old',
      bpftraceVersion: '0.17.0',
    });
    await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: 'old' });
    const again = await waitFor(h, uri, (ds) => ds.some((d) => d.code === 'args-dot'));
    assert.ok(again);
  } finally {
    await h.close();
  }
});

test('unknown probe type, attach point arity and unknown tracepoint', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `kprobez:f { }
interval:1s { }
tracepoint:syscalls:sys_enter_bindx { }
fentry:vfs_read { }
`;
    const uri = h.open('probes.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const byLine = (l: number) => diagnostics.filter((d) => d.range.start.line === l);
    assert.match(byLine(0)[0].message, /Invalid probe type: kprobez; did you mean 'kprobe'/);
    assert.match(byLine(1)[0].message, /interval probe type requires 2 arguments/);
    assert.equal(byLine(2)[0].code, 'unknown-tracepoint');
    assert.match(byLine(2)[0].message, /did you mean 'sys_enter_bind'/);
    assert.equal(byLine(2)[0].severity, 2, 'a warning with only the bundled catalog');
    assert.match(byLine(3)[0].message, /named kfunc/);
  } finally {
    await h.close();
  }
});

test('builtins, arity, printf formats, maps and variables', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `BEGIN {
  foo(1);
  exit(1);
  printf("%d %s\\n", 1);
  printf("%s\\n", 1);
  @a[1] = 1; @a[1, 2] = 2;
  @b = 1; @b = "s";
  print($nope);
  $c = count();
  print(nsecs());
}
`;
    const uri = h.open('misc.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const codeAt = (needle: string) =>
      diagnostics.filter((d) => d.range.start.line === positionOf(text, needle).line).map((d) => d.code);
    assert.deepEqual(codeAt('foo('), ['unknown-function']);
    assert.deepEqual(codeAt('exit(1)'), ['arity']);
    assert.deepEqual(codeAt('%d %s'), ['printf-format']);
    assert.deepEqual(codeAt('"%s\\n", 1'), ['printf-format']);
    assert.deepEqual(codeAt('@a[1, 2]'), ['map-key-mismatch']);
    assert.deepEqual(codeAt('@b = "s"'), ['map-value-mismatch']);
    assert.deepEqual(codeAt('$nope'), ['undefined-variable']);
    assert.deepEqual(codeAt('count()'), ['aggregate-not-assigned']);
    assert.deepEqual(codeAt('nsecs()'), ['unknown-function']);
  } finally {
    await h.close();
  }
});

test('include constants are known only with the #include; versions older than 0.17 are unsupported', async () => {
  const h = await startServer({ bpftraceVersion: '0.14' });
  try {
    const withInclude =
      '#include <linux/in.h>\n#include <linux/in6.h>\nBEGIN { print(AF_INET); print(AF_INET6); }\n';
    const a = h.open('inc.bt', withInclude);
    const da = (await h.diagnostics(a)).diagnostics;
    assert.deepEqual(
      da.map((d) => d.code),
      ['unsupported-version'],
    );
    assert.match(da[0].message, /0\.14 is not supported.*checking as 0\.17/);
    const b = h.open('noinc.bt', 'BEGIN { print(AF_INET); }\n');
    const db = (await h.diagnostics(b)).diagnostics.filter((d) => d.code === 'unknown-identifier');
    assert.equal(db.length, 1);
    assert.match(db[0].message, /#include/);
  } finally {
    await h.close();
  }
});

test('dialect features: let, for, config in 0.17 are errors; fine in 0.26; while deprecated in 0.26', async () => {
  const text = `config = { max_map_keys = 100 }
BEGIN { let $x = 1; @m[1] = 2; for ($kv : @m) { print($kv.0); } while ($x < 2) { $x++; } }
`;
  const old = await startServer({ bpftraceVersion: '0.17' });
  try {
    const ds = (await old.diagnostics(old.open('new.bt', text))).diagnostics.filter(
      (d) => d.code === 'dialect',
    );
    assert.deepEqual(
      ds.map((d) => d.range.start),
      [positionOf(text, 'config'), positionOf(text, 'let'), positionOf(text, 'for')],
    );
  } finally {
    await old.close();
  }
  const latest = await startServer({ bpftraceVersion: '0.26' });
  try {
    const ds = (await latest.diagnostics(latest.open('new.bt', text))).diagnostics;
    assert.deepEqual(
      ds.map((d) => [d.code, d.severity]),
      [['deprecated', 2]],
    );
  } finally {
    await latest.close();
  }
});

async function waitFor(
  h: Awaited<ReturnType<typeof startServer>>,
  uri: string,
  ok: (
    ds: Array<{
      code?: string | number;
      severity?: number;
      message: string;
      range: { start: { line: number } };
    }>,
  ) => boolean,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const d = await h.diagnostics(uri, deadline - Date.now()).catch(() => undefined);
    if (d && ok(d.diagnostics)) return true;
  }
  return false;
}

test("with the node's own catalog an unknown tracepoint is an error, and its listing is used", async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const listing = 'tracepoint:myapp:request\n    int id\n    char path[64]\n';
    await h.client.sendNotification(SetNodeTargetNotification.type, {
      nodeId: 'n1',
      bpftraceVersion: '0.17',
      kernelRelease: '6.1.0-test',
      tracepointListing: listing,
    });
    const text =
      'tracepoint:myapp:request { printf("%s %d\\n", args->path, args->idx); }\ntracepoint:syscalls:sys_enter_bind { }\n';
    const uri = h.open('node.bt', text);
    await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: 'n1' });
    let last: Array<{
      code?: string | number;
      severity?: number;
      range: { start: { line: number } };
      message: string;
    }> = [];
    const ok = await waitFor(h, uri, (ds) => {
      last = ds as typeof last;
      // The first publication may predate the binding (bundled catalog: a warning).
      return ds.some((d) => d.code === 'unknown-tracepoint' && d.severity === 1);
    });
    assert.ok(ok);
    const unknown = last.find((d) => d.code === 'unknown-tracepoint')!;
    assert.equal(unknown.severity, 1, "an error: the catalog is the node's own");
    assert.equal(unknown.range.start.line, 1);
    const field = last.find((d) => d.code === 'unknown-field')!;
    assert.match(field.message, /did you mean 'id'/);
    assert.ok(!last.some((d) => d.code === 'printf-format'), 'char path[64] is a string for %s');
  } finally {
    await h.close();
  }
});

test('a header with no constant table makes unknown upper-case names warnings, not errors', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text =
      '#include <linux/sched.h>\ntracepoint:sched:sched_switch { if (args->prev_state == TASK_RUNNING) { @x = 1; } print(lower_case); }\n';
    const uri = h.open('opaque.bt', text);
    const ds = (await h.diagnostics(uri)).diagnostics.filter((d) => d.code === 'unknown-identifier');
    assert.deepEqual(
      ds.map((d) => [d.severity, d.range.start]),
      [
        [2, positionOf(text, 'TASK_RUNNING')],
        [1, positionOf(text, 'lower_case')],
      ],
    );
    assert.match(ds[0].message, /<linux\/sched\.h>/);
  } finally {
    await h.close();
  }
});

test('signal() and reg() only where bpftrace lets them run, with its message naming the probe type', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = [
      'BEGIN { signal("KILL"); }',
      'kprobe:f { signal("KILL"); }',
      'interval:s:1 { signal("KILL"); print(reg("ip")); }',
      'tracepoint:syscalls:sys_enter_read { print(reg("ip")); }',
      '',
    ].join('\n');
    const uri = h.open('probes.bt', text);
    const found = (await h.diagnostics(uri)).diagnostics
      .filter((d) => d.code === 'builtin-unavailable')
      .map((d) => `${d.range.start.line}: ${d.message}`);
    assert.deepEqual(found, [
      '0: signal can not be used with "BEGIN" probes',
      '2: signal can not be used with "interval" probes',
      '3: reg can not be used with "tracepoint" probes',
    ]);
  } finally {
    await h.close();
  }
});

test("integer signs of maps and declared variables get bpftrace's words, where it says them", async () => {
  const text =
    'BEGIN {\n  @x = (uint64)1;\n  @x = -1;\n  @k[(uint64)1] = 1;\n  @k[-1] = 2;\n  let $d: uint8 = 1;\n  $d = 300;\n}\n';
  const messages = async (version: string) => {
    const h = await startServer({ bpftraceVersion: version });
    try {
      const { diagnostics } = await h.diagnostics(h.open(`signs-${version}.bt`, text));
      return diagnostics.filter((d) => d.severity === 1).map((d) => [d.range.start, d.message] as const);
    } finally {
      await h.close();
    }
  };
  assert.deepEqual(await messages('0.24'), [
    [
      positionOf(text, '@x = -1'),
      "Type mismatch for @x: trying to assign value of type 'int64' when map already contains a value of type 'uint64'",
    ],
    [
      positionOf(text, '-1] = 2'),
      "Argument mismatch for @k: trying to access with arguments: 'int64' when map expects arguments: 'uint64'",
    ],
    [
      positionOf(text, '$d = 300'),
      "Type mismatch for $d: trying to assign value '300' which does not fit into the variable of type 'uint8'",
    ],
  ]);
  assert.deepEqual(
    (await messages('0.25')).map(([, m]) => m),
    [
      "Type mismatch for @x: trying to assign value of type 'int8' when map already has a type 'uint64'",
      "Argument mismatch for @k: trying to access with arguments: 'int8' when map expects arguments: 'uint64'",
      "Type mismatch for $d: trying to assign value of type 'uint16' when variable already has a type 'uint8'",
    ],
  );
  // 0.26 casts integers of another sign (with a warning); a literal must still fit.
  assert.deepEqual(
    (await messages('0.26')).map(([, m]) => m),
    [
      "Type mismatch for $d: trying to assign value of type 'uint16' when variable already has a type 'uint8'",
    ],
  );
});
