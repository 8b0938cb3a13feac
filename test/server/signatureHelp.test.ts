import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignatureHelpRequest } from 'vscode-languageserver-protocol';
import { positionOf, startServer } from './harness';

test('signature help names the function and the active argument, also in an unfinished call', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = 'kprobe:f { @h = lhist(arg0, 0, 100, 10); printf("%d %s\\n", pid, ';
    const uri = h.open('sig.bt', text);
    const lhist = await h.client.sendRequest(SignatureHelpRequest.type, {
      textDocument: { uri },
      position: positionOf(text, '100'),
    });
    assert.ok(lhist);
    const sig = lhist.signatures[0];
    assert.equal(sig.label, 'lhist(n, min, max, step)');
    assert.equal(lhist.activeParameter, 2);
    const [a, b] = sig.parameters![2].label as [number, number];
    assert.equal(sig.label.slice(a, b), 'max');
    const printf = await h.client.sendRequest(SignatureHelpRequest.type, {
      textDocument: { uri },
      position: { line: 0, character: text.length },
    });
    assert.ok(printf);
    assert.match(printf.signatures[0].label, /^printf\(fmt: string, \.\.\.args\)/);
    assert.equal(printf.activeParameter, 1);
    assert.match(JSON.stringify(printf.signatures[0].documentation), /bpftrace 0\.17/);
    const none = await h.client.sendRequest(SignatureHelpRequest.type, {
      textDocument: { uri },
      position: { line: 0, character: 3 },
    });
    assert.equal(none, null);
  } finally {
    await h.close();
  }
});

test('signature help for a macro of the script', async () => {
  const h = await startServer({ bpftraceVersion: '0.26' });
  try {
    const text = 'macro scale($v, $by) { $v * $by }\nBEGIN { print(scale(3, 4)); }\n';
    const uri = h.open('macro.bt', text);
    const help = await h.client.sendRequest(SignatureHelpRequest.type, {
      textDocument: { uri },
      position: positionOf(text, '4))'),
    });
    assert.equal(help?.signatures[0].label, 'scale($v, $by)');
    assert.equal(help?.activeParameter, 1);
  } finally {
    await h.close();
  }
});
