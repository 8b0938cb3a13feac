import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerStatusRequest } from '../../common/protocol';
import { startServer } from './harness';

test('the server answers initialize with its name and synchronises documents', async () => {
  const harness = await startServer({ bpftraceVersion: '0.17' });
  try {
    assert.equal(harness.initializeResult.serverInfo?.name, 'fieldtrace-bpftrace');
    assert.ok(harness.initializeResult.capabilities.textDocumentSync, 'document sync capability');
    harness.open('a.bt', 'BEGIN { printf("hi\\n"); }');
    const deadline = Date.now() + 5000;
    let status = await harness.client.sendRequest(ServerStatusRequest.type);
    while (status.openDocuments < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      status = await harness.client.sendRequest(ServerStatusRequest.type);
    }
    assert.equal(status.openDocuments, 1);
    assert.equal(status.defaultBpftraceVersion, '0.17');
    assert.equal(status.versionSource, 'setting');
  } finally {
    await harness.close();
  }
});
