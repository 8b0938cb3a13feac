// The parent of a snapshotted process (PPid of /proc/PID/status), which tells a forked worker from
// its master when the trace never saw the fork: read on this machine and through the node script.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { localRunner } from '../../../core/nodes/commands';
import {
  parsePpid,
  parseSnapshotRecords,
  takeLocalSnapshot,
  takeRemoteSnapshot,
} from '../../../core/listeners/snapshot';

const skip = process.getuid?.() !== 0 && process.env.CI !== 'true' ? 'nsenter needs root' : false;

describe('snapshot: the parent process', () => {
  it('PPid from a status text, and only from its own line', () => {
    assert.equal(parsePpid('Name:\tnginx\nState:\tS\nPPid:\t4242\nTracerPid:\t0\n'), 4242);
    assert.equal(
      parsePpid('Name:\tPPid:\t1\nPPid:\t7\n'),
      7,
      'a process named "PPid:\\t1" is not its parent',
    );
    assert.equal(parsePpid('PPid:\tx\n'), undefined);
    const { ppid } = parseSnapshotRecords('status\x00123\x00PPid:\t99\n\x00');
    assert.equal(ppid, 99);
  });

  it('a child of this test process, on this machine and through the node script', { skip }, async (t) => {
    const child = spawn('sleep', ['30']);
    t.after(() => child.kill());
    await new Promise((r) => child.once('spawn', r));
    const local = await takeLocalSnapshot(child.pid!);
    assert.equal(local.ppid, process.pid);
    const remote = await takeRemoteSnapshot(child.pid!, 'node', localRunner);
    assert.equal(remote.ppid, process.pid);
  });
});
