// The binary a process really runs, read from /proc on the "node" (this machine, through the one
// command runner): the mini-Envoy's path, and a binary removed after the start said so.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, unlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { transportRunner } from '../../../core/nodes/commands';
import { LocalTransport } from '../../../core/nodes/transport';
import { runningBinary } from '../../../core/probe/running-binary';
import { buildMiniEnvoy, startMiniEnvoy } from '../../targets/mini-envoy';

const transport = new LocalTransport();
const run = transportRunner(transport);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-running-'));
after(() => {
  transport.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('runningBinary', () => {
  it('names the file a process runs, and says when it was removed since', async () => {
    const { gcc } = await buildMiniEnvoy();
    const envoy = await startMiniEnvoy({ binary: gcc });
    try {
      assert.deepEqual(await runningBinary(run, envoy.pid), {
        path: realpathSync(gcc),
        inProcess: realpathSync(gcc),
      });
    } finally {
      await envoy.stop();
    }
    const copy = path.join(dir, 'envoy');
    copyFileSync(gcc, copy);
    const replaced = await startMiniEnvoy({ binary: copy });
    try {
      unlinkSync(copy);
      const found = await runningBinary(run, replaced.pid);
      assert.equal(found.deleted, true);
      assert.equal(found.inProcess, realpathSync(dir) + '/envoy');
    } finally {
      await replaced.stop();
    }
    await assert.rejects(runningBinary(run, 0), /not a process id/);
  });
});
