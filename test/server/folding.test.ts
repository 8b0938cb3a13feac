import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FoldingRangeRequest } from 'vscode-languageserver-protocol';
import { startServer } from './harness';

test('folding ranges for probes, nested blocks, comments, includes and C definitions', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text = `#include <linux/in.h>
#include <linux/in6.h>
/*
 * header comment
 */
struct conn {
  int fd;
};
kprobe:vfs_read
{
  if (pid == 1) {
    @x = 1;
  }
}
`;
    const uri = h.open('fold.bt', text);
    const ranges = await h.client.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
    const got = (ranges ?? []).map((r) => `${r.startLine}-${r.endLine}${r.kind ? ':' + r.kind : ''}`).sort();
    assert.deepEqual(got, ['0-1:imports', '10-11', '2-4:comment', '5-6', '8-12'].sort());
  } finally {
    await h.close();
  }
});
