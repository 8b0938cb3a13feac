import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentSymbolRequest, type DocumentSymbol, SymbolKind } from 'vscode-languageserver-protocol';
import { positionOf, startServer } from './harness';

test('document symbols list C definitions, probes with their maps', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `struct conn { int fd; };
BEGIN { @start = nsecs; }
tracepoint:syscalls:sys_enter_bind, tracepoint:syscalls:sys_enter_listen /pid == 1/
{
  @calls[probe] = count();
}
`;
    const uri = h.open('sym.bt', text);
    const symbols = (await h.client.sendRequest(DocumentSymbolRequest.type, {
      textDocument: { uri },
    })) as DocumentSymbol[];
    assert.deepEqual(
      symbols.map((s) => [s.name, s.kind]),
      [
        ['struct conn', SymbolKind.Struct],
        ['BEGIN', SymbolKind.Event],
        ['tracepoint:syscalls:sys_enter_bind, tracepoint:syscalls:sys_enter_listen', SymbolKind.Event],
      ],
    );
    assert.equal(symbols[2].detail, '/pid == 1/');
    assert.deepEqual(
      symbols[2].children?.map((c) => c.name),
      ['@calls'],
    );
    assert.deepEqual(symbols[2].children?.[0].selectionRange.start, positionOf(text, '@calls'));
    assert.equal(symbols[2].range.end.line, 5);
  } finally {
    await h.close();
  }
});
