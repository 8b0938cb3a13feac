// A traced process chooses its thread names and the names of the files it opens: the snapshot
// (local /proc reads and the remote NUL-separated records) must keep them as data, never as
// structure. The target renames its main thread through /proc/self/comm and opens a file whose
// name holds newlines shaped like snapshot lines.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  parseProcNetTcp,
  parseSnapshotRecords,
  parseSs,
  type ProcessSnapshot,
  takeLocalSnapshot,
  takeRemoteSnapshot,
} from '../../../core/listeners/snapshot';
import { transportRunner } from '../../../core/nodes/commands';
import { LocalTransport } from '../../../core/nodes/transport';
import { fuzz } from '../../helpers/fuzz';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'needs root for nsenter and /proc of others' : false;

// 15 bytes, the kernel's limit: once read as "task 1 evil", a thread that does not exist, and it
// broke the `ss -p` line so that the real owner of the listener was dropped.
const THREAD_NAME = 'a\ntask 1 evil\x1b';
const FILE_NAME = 'x\nfd 7 socket:[4242]\ntask 2 forged';

const TARGET = `
const fs = require('fs'), net = require('net'), path = require('path');
fs.writeFileSync('/proc/self/comm', process.argv[2]);
fs.openSync(path.join(process.argv[1], process.argv[3]), 'w');
const server = net.createServer().listen(0, '127.0.0.1', () => console.log(server.address().port));
setInterval(() => {}, 1000);
`;

async function startTarget(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', TARGET, dir, THREAD_NAME, FILE_NAME], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`target exited ${code}`)));
  });
  return { child, port };
}

function assertUnforged(snap: ProcessSnapshot, pid: number, port: number): void {
  assert.equal(snap.threads.find((t) => t.tid === pid)?.comm, THREAD_NAME);
  assert.ok(!snap.threads.some((t) => t.tid === 1 || t.tid === 2), 'no thread made up from a name');
  assert.ok(snap.threads.every((t) => t.comm !== 'evil' && t.comm !== 'forged'));
  assert.notEqual(snap.fdInodes.get(7), 4242, 'no fd made up from a file name');
  const mine = snap.listeners.filter((l) => l.local.port === port);
  assert.equal(mine.length, 1, JSON.stringify(snap.listeners));
  assert.equal(mine[0].local.address, '127.0.0.1');
  assert.equal(mine[0].users.length, 1, 'the real owner is kept');
  assert.equal(mine[0].users[0].pid, pid);
  assert.equal(snap.fdInodes.get(mine[0].users[0].fd), mine[0].inode);
  assert.ok(mine[0].backlog > 0, 'the backlog from ss');
}

describe('node snapshot of a process with hostile names', { skip }, () => {
  it('neither newlines in a file name nor in a thread name forge fds, threads or listeners', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-hostile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { child, port } = await startTarget(dir);
    t.after(() => child.kill('SIGKILL'));
    const pid = child.pid!;
    assertUnforged(await takeLocalSnapshot(pid), pid, port);
    const transport = new LocalTransport();
    t.after(() => transport.close());
    assertUnforged(await takeRemoteSnapshot(pid, 'local', transportRunner(transport, undefined)), pid, port);
  });
});

describe('snapshot parsers: fuzz', () => {
  const NET = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16043 1 0000000005681934 100 0 0 10 0\n',
    '   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1157 1 0000000000000000 100 0 0 10 0\n',
  ].join('');
  const RECORDS = `fd\u00003\u0000socket:[16043]\u0000fd\u00004\u0000/tmp/x\nfd 7\u0000task\u000012\u0000wrk:worker_0\n\u0000net\u0000tcp\u0000${NET}\u0000`;
  const SS =
    'LISTEN 0      4096   127.0.0.1:8080  0.0.0.0:*\nLISTEN 0 128 [::ffff:10.0.0.1%eth0]:443 [::]:*\n';

  it('10,000 mutated records, socket tables and ss outputs each: no exception, bounded', () => {
    fuzz([RECORDS], { seed: 131, count: 10_000, budgetMs: 20_000 }, (input) => {
      const r = parseSnapshotRecords(input.toString('utf8'));
      for (const [fd] of r.links) assert.ok(Number.isInteger(fd) && fd >= 0);
      for (const th of r.threads) assert.ok(Number.isInteger(th.tid));
    });
    fuzz([NET], { seed: 132, count: 10_000, budgetMs: 20_000 }, (input) => {
      for (const s of parseProcNetTcp(input.toString('latin1'))) {
        assert.ok(s.local.port >= 0 && s.local.port <= 65535 && Number.isInteger(s.inode));
        assert.match(s.local.address, /^[0-9a-f.:]+$/);
      }
    });
    fuzz([SS], { seed: 133, count: 10_000, budgetMs: 20_000 }, (input) => {
      for (const l of parseSs(input.toString('latin1')).listeners)
        assert.ok(Number.isFinite(l.backlog) && l.local.port >= 0 && l.local.port <= 65535);
    });
  });
});
