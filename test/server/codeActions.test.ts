import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeActionRequest, type CodeAction, type Diagnostic } from 'vscode-languageserver-protocol';
import { positionOf, startServer, type ServerHarness } from './harness';

async function fixesFor(h: ServerHarness, uri: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
  const r = await h.client.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diagnostic.range,
    context: { diagnostics: [diagnostic] },
  });
  return (r ?? []) as CodeAction[];
}

function apply(text: string, action: CodeAction, uri: string): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) =>
    lines.slice(0, p.line).join('\n').length + (p.line ? 1 : 0) + p.character;
  const edits = [...(action.edit?.changes?.[uri] ?? [])].sort(
    (a, b) => offset(b.range.start) - offset(a.range.start),
  );
  for (const e of edits)
    text = text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
  return text;
}

test('quick fixes: did you mean, args-> for 0.17, missing #include, kfunc name', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text =
      'tracepoint:syscalls:sys_enter_bind { print(args->myaddr); print(args.fd); print(AF_INET); }\nfentry:vfs_read { }\n';
    const uri = h.open('fix.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const byCode = (c: string) => diagnostics.find((d) => d.code === c)!;

    const field = await fixesFor(h, uri, byCode('unknown-field'));
    assert.equal(field[0].title, "Change to 'umyaddr'");
    assert.equal(field[0].isPreferred, true);
    assert.match(apply(text, field[0], uri), /args->umyaddr\)/);

    const dot = await fixesFor(h, uri, byCode('args-dot'));
    assert.equal(dot[0].title, 'Use `args->fd`');
    assert.match(apply(text, dot[0], uri), /print\(args->fd\)/);

    const include = await fixesFor(h, uri, byCode('unknown-identifier'));
    const add = include.find((a) => /#include/.test(a.title));
    assert.ok(add, JSON.stringify(include.map((a) => a.title)));
    const fixed = apply(text, add, uri);
    assert.ok(
      fixed.startsWith('#include <linux/socket.h>\n') || fixed.startsWith('#include <linux/in.h>\n'),
      fixed,
    );

    const probe = await fixesFor(h, uri, byCode('unknown-probe'));
    assert.equal(apply(text, probe[0], uri).split('\n')[1], 'kfunc:vfs_read { }');
    assert.deepEqual(byCode('unknown-probe').range.start, positionOf(text, 'fentry'));
  } finally {
    await h.close();
  }
});

test('args. is offered for args-> in 0.26', async () => {
  const h = await startServer({ bpftraceVersion: '0.26' });
  try {
    const text = 'tracepoint:syscalls:sys_enter_bind { print(args->fd); }\n';
    const uri = h.open('arrow.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const hint = diagnostics.find((d) => d.code === 'args-arrow');
    assert.ok(hint);
    assert.equal(hint.severity, 4);
    const [action] = await fixesFor(h, uri, hint);
    assert.match(apply(text, action, uri), /print\(args\.fd\)/);
  } finally {
    await h.close();
  }
});

test('retval in a sys_exit tracepoint is repaired to args->ret', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'tracepoint:syscalls:sys_exit_read { @bytes = hist(retval); }\n';
    const uri = h.open('ret.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const d = diagnostics.find((x) => x.code === 'retval-unavailable');
    assert.ok(d);
    const [fix] = await fixesFor(h, uri, d);
    assert.equal(apply(text, fix, uri), 'tracepoint:syscalls:sys_exit_read { @bytes = hist(args->ret); }\n');
  } finally {
    await h.close();
  }
});

test('quick fix: an unsafe call is allowed once the script says // fieldtrace: unsafe', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = '#!/usr/bin/env bpftrace\nBEGIN { system("uptime"); exit(); }\n';
    const uri = h.open('unsafe.bt', text);
    const { diagnostics } = await h.diagnostics(uri);
    const unsafe = diagnostics.find((d) => d.code === 'unsafe');
    assert.ok(unsafe, JSON.stringify(diagnostics));
    assert.deepEqual(unsafe.range.start, positionOf(text, 'system'));
    const [fix] = await fixesFor(h, uri, unsafe);
    const fixed = apply(text, fix, uri);
    // The shebang stays the first line.
    assert.equal(
      fixed,
      '#!/usr/bin/env bpftrace\n// fieldtrace: unsafe\nBEGIN { system("uptime"); exit(); }\n',
    );
    const again = await h.diagnostics(h.open('unsafe-fixed.bt', fixed));
    assert.deepEqual(
      again.diagnostics.filter((d) => d.severity === 1),
      [],
    );
  } finally {
    await h.close();
  }
});
