import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CompletionRequest,
  type CompletionItem,
  CompletionItemKind,
  InsertTextFormat,
} from 'vscode-languageserver-protocol';
import { positionOf, startServer, type ServerHarness } from './harness';

async function completeAt(
  h: ServerHarness,
  name: string,
  text: string,
  needle: string,
  offset = needle.length,
): Promise<CompletionItem[]> {
  const uri = h.open(name, text);
  const result = await h.client.sendRequest(CompletionRequest.type, {
    textDocument: { uri },
    position: positionOf(text, needle, offset),
  });
  return Array.isArray(result) ? result : (result?.items ?? []);
}

test('probe types and aliases at the start of a probe, in the dialect of the target', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const items = await completeAt(h, 'p.bt', 'tr\n', 'tr');
    const tp = items.find((i) => i.label === 'tracepoint');
    assert.ok(tp);
    assert.equal(tp.kind, CompletionItemKind.Module);
    assert.equal(tp.insertTextFormat, InsertTextFormat.Snippet);
    assert.ok(items.some((i) => i.label === 't' && i.detail === 'alias of tracepoint'));
    assert.ok(
      items.some((i) => i.label === 'kfunc'),
      '0.17 names fentry kfunc',
    );
    assert.ok(!items.some((i) => i.label === 'fentry'));
  } finally {
    await h.close();
  }
});

test('tracepoint categories after tracepoint: and events after tracepoint:cat:', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const cats = await completeAt(h, 'c.bt', 'tracepoint:sys\n', 'tracepoint:sys');
    const syscalls = cats.find((i) => i.label === 'syscalls');
    assert.ok(syscalls, 'syscalls category');
    assert.ok(cats.length > 20);
    // The edit replaces just the part after the last colon.
    const edit = syscalls.textEdit as { range: { start: { character: number } } };
    assert.equal(edit.range.start.character, 'tracepoint:'.length);
    const events = await completeAt(h, 'e.bt', 'tracepoint:syscalls:sys_enter_bi\n', 'sys_enter_bi');
    const bind = events.find((i) => i.label === 'sys_enter_bind');
    assert.ok(bind);
    assert.equal(bind.kind, CompletionItemKind.Event);
    assert.match(JSON.stringify(bind.documentation), /umyaddr/);
  } finally {
    await h.close();
  }
});

test('args-> fields with their C types, args. in 0.26', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'tracepoint:syscalls:sys_enter_bind { printf("%d\\n", args->); }\n';
    const items = await completeAt(h, 'a.bt', text, 'args->');
    const f = items.find((i) => i.label === 'umyaddr');
    assert.ok(f, JSON.stringify(items.map((i) => i.label)));
    assert.equal(f.kind, CompletionItemKind.Field);
    assert.equal(f.detail, 'struct sockaddr *');
    assert.deepEqual(items.map((i) => i.label).sort(), ['__syscall_nr', 'addrlen', 'fd', 'umyaddr'].sort());
  } finally {
    await h.close();
  }
  const latest = await startServer({ bpftraceVersion: '0.26' });
  try {
    const text = 'tracepoint:syscalls:sys_enter_openat { print(args.fi); }\n';
    const items = await completeAt(latest, 'b.bt', text, 'args.fi');
    assert.ok(
      items.some(
        (i) => i.label === 'filename' && i.detail === 'const char * filename'.replace(' filename', ''),
      ),
    );
  } finally {
    await latest.close();
  }
});

test('struct members after a cast and for a variable holding one', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `tracepoint:syscalls:sys_enter_bind {
  $s = (struct sockaddr_in *)args->umyaddr;
  print($s->);
  print(((struct sockaddr_in *)args->umyaddr)->);
}
`;
    const viaVar = await completeAt(h, 's.bt', text, '$s->');
    const labels = viaVar.map((i) => i.label);
    assert.ok(labels.includes('sin_port') && labels.includes('sin_addr'), labels.join(','));
    assert.equal(viaVar.find((i) => i.label === 'sin_port')?.detail, '__be16');
    const viaCast = await completeAt(h, 's2.bt', text, 'umyaddr)->');
    assert.ok(viaCast.some((i) => i.label === 'sin_family'));
  } finally {
    await h.close();
  }
});

test('builtins, functions with snippets, maps and scratch variables in scope', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `BEGIN { @starts[tid] = nsecs; }
kprobe:vfs_read { $n = 1; $m = 2; }
kretprobe:vfs_read { $own = 1;
  pri
}
`;
    const items = await completeAt(h, 'b.bt', text, '  pri');
    const printf = items.find((i) => i.label === 'printf');
    assert.ok(printf, 'printf');
    assert.equal(printf.kind, CompletionItemKind.Function);
    assert.equal(printf.insertTextFormat, InsertTextFormat.Snippet);
    assert.match(printf.detail ?? '', /printf\(fmt/);
    assert.ok(
      items.some((i) => i.label === 'retval' && i.kind === CompletionItemKind.Variable),
      'retval in a kretprobe',
    );
    assert.ok(!items.some((i) => i.label === 'args'), 'no args in a kretprobe');
    assert.ok(
      items.some((i) => i.label === '@starts'),
      'maps',
    );
    assert.ok(
      items.some((i) => i.label === '$own'),
      'own variable',
    );
    assert.ok(!items.some((i) => i.label === '$n'), 'variables of other probes are not in scope');
    const vars = await completeAt(h, 'v.bt', 'kprobe:f { $abc = 1; print($a); }\n', 'print($a');
    assert.deepEqual(
      vars.map((i) => i.label),
      ['$abc'],
    );
  } finally {
    await h.close();
  }
});

test('config keys inside the config block (0.20+)', async () => {
  const h = await startServer({ bpftraceVersion: '0.26' });
  try {
    const text = 'config = {\n  max_\n}\nBEGIN { }\n';
    const items = await completeAt(h, 'cfg.bt', text, '  max_');
    assert.ok(items.some((i) => i.label === 'max_map_keys' && i.kind === CompletionItemKind.Property));
    assert.ok(!items.some((i) => i.label === 'tracepoint'));
  } finally {
    await h.close();
  }
});

test('trigger characters open the list only where they start something', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'tracepoint:syscalls:sys_enter_bind /pid > 1/ { print(args->fd); }\n';
    const uri = h.open('trig.bt', text);
    const at = async (needle: string, triggerCharacter: string) => {
      const r = await h.client.sendRequest(CompletionRequest.type, {
        textDocument: { uri },
        position: positionOf(text, needle, needle.length),
        context: { triggerKind: 2, triggerCharacter },
      });
      return Array.isArray(r) ? r : (r?.items ?? []);
    };
    assert.deepEqual(await at('pid >', '>'), []);
    assert.ok((await at('args->', '>')).some((i) => i.label === 'umyaddr'));
    assert.ok((await at('tracepoint:', ':')).some((i) => i.label === 'syscalls'));
  } finally {
    await h.close();
  }
});

test('args-> fields inside an unfinished predicate', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'tracepoint:syscalls:sys_enter_bind /args->\n';
    const items = await completeAt(h, 'pred.bt', text, 'args->');
    assert.ok(
      items.some((i) => i.label === 'addrlen'),
      JSON.stringify(items.map((i) => i.label).slice(0, 5)),
    );
  } finally {
    await h.close();
  }
});

test('struct names after `struct ` in a cast: the catalog layouts and the script own', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'struct mine { int a; };\nkprobe:tcp_connect { $s = (struct so\n}\n';
    const items = await completeAt(h, 'structs.bt', text, '(struct so');
    const labels = items.map((i) => i.label);
    for (const name of ['sock', 'sockaddr_in', 'mine'])
      assert.ok(labels.includes(name), `${name} in ${labels.length} names`);
    assert.equal(items.find((i) => i.label === 'sock')?.kind, CompletionItemKind.Struct);
  } finally {
    await h.close();
  }
});
