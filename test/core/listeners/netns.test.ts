// Attach after start: the mini-Envoy runs in its own network namespace, where the node's own
// loopback and `ss` see nothing of it. The snapshot (nsenter + /proc) and the admin cross-check
// (a GET run inside the namespace) still find its listeners, fds, worker threads and counters.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { commandAdminGet, netnsAdminGet, readAdmin } from '../../../core/listeners/admin';
import { ListenerReducer } from '../../../core/listeners/reducer';
import { parseSs, takeLocalSnapshot, takeRemoteSnapshot } from '../../../core/listeners/snapshot';
import { localRunner, transportRunner } from '../../../core/nodes/commands';
import { LocalTransport } from '../../../core/nodes/transport';
import { startMiniEnvoy } from '../../targets/mini-envoy';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'needs root for ip netns and nsenter' : false;

/** Opens `count` connections to 127.0.0.1:port from inside the namespace, closes them when accepted. */
async function connectInNetns(netns: string, port: number, count: number): Promise<void> {
  const script = `const net=require('net');let n=0;const c=+process.argv[2];for(let i=0;i<c;i++){const s=net.connect(+process.argv[1],'127.0.0.1',()=>{s.end();if(++n===c)process.exit(0)});s.on('error',e=>{console.error(e.message);process.exit(1)})}`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'ip',
      ['netns', 'exec', netns, process.execPath, '-e', script, String(port), String(count)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`connect failed: ${stderr}`))));
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const reusePort of [false, true]) {
  test(
    `snapshot and admin cross-check in a netns (${reusePort ? 'reuse-port' : 'shared dup'})`,
    { skip, timeout: 120_000 },
    async (t) => {
      const netns = `ft-lst-${process.pid}-${reusePort ? 'r' : 'd'}`;
      execFileSync('ip', ['netns', 'add', netns]);
      t.after(() => execFileSync('ip', ['netns', 'del', netns]));
      execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
      const envoy = await startMiniEnvoy({
        prefix: ['ip', 'netns', 'exec', netns],
        listeners: ['0.0.0.0:15001', '0.0.0.0:15006'],
        adminPort: 15000,
        concurrency: 2,
        reusePort,
      });
      t.after(() => envoy.stop());

      // The node's namespace knows nothing of it.
      const nodeSs = parseSs(await localRunner(['ss', '-ltnpe'])).listeners;
      assert.ok(
        !nodeSs.some((l) => l.users.some((u) => u.pid === envoy.pid)),
        'the node ss shows none of its sockets',
      );

      const snapshot = await takeLocalSnapshot(envoy.pid);
      const reducer = new ListenerReducer();
      reducer.applySnapshot(snapshot);
      let state = reducer.state();
      const proc = state.processes[0];
      assert.equal(proc.pid, envoy.pid);
      assert.ok(
        proc.threads.some((t) => t.name === 'wrk:worker_0') &&
          proc.threads.some((t) => t.name === 'wrk:worker_1'),
      );
      const outbound = proc.listeners.find((l) => l.port === 15001)!;
      assert.ok(outbound, proc.listeners.map((l) => l.key).join(', '));
      assert.equal(outbound.label, 'virtual outbound');
      // Every fd the kernel lists for 15001, grouped by inode exactly as ss groups them.
      const kernel = snapshot.listeners.filter((l) => l.local.port === 15001);
      assert.deepEqual(
        outbound.sockets.map((s) => s.fds.map((f) => f.fd).sort((a, b) => a - b)).sort(),
        kernel
          .map((l) =>
            l.users
              .filter((u) => u.pid === envoy.pid)
              .map((u) => u.fd)
              .sort((a, b) => a - b),
          )
          .sort(),
      );
      assert.equal(outbound.layout, reusePort ? 'reuse-port' : 'shared-dup');
      assert.equal(outbound.sockets.length, reusePort ? 2 : 1);
      assert.ok(outbound.sockets.every((s) => s.inode !== undefined && s.provenance === 'snapshot'));
      assert.ok(outbound.sockets.every((s) => s.fds.every((f) => f.kernel === 'kernel-only')));

      await connectInNetns(netns, 15001, 6);
      const get = netnsAdminGet(envoy.pid, '127.0.0.1', 15000);
      const report = await until('six accepted connections in the admin stats', async () => {
        const r = await readAdmin(get, {
          label: `127.0.0.1:15000 in the netns of ${envoy.pid}`,
          port: 15000,
        });
        assert.equal(r.summary.error, undefined);
        const l = r.listeners.find((x) => x.port === 15001);
        return l && l.workers.reduce((n, w) => n + w.total, 0) === 6 ? r : undefined;
      });
      assert.equal(report.summary.concurrency, 2);
      assert.equal(report.summary.state, 'LIVE');
      reducer.applyAdmin('local', envoy.pid, report);
      state = reducer.state();
      const checked = state.processes[0].listeners.find((l) => l.port === 15001)!;
      assert.ok(checked.admin, 'the admin view joins the listener');
      assert.deepEqual(
        checked.admin.workers.map((w) => w.worker),
        [0, 1],
      );
      assert.equal(state.processes[0].admin?.concurrency, 2);
      assert.deepEqual(state.processes[0].notes, [], 'two worker threads, concurrency 2: no disagreement');

      // The same through a node transport, as on an SSH node: one quoted command line per step.
      const run = transportRunner(new LocalTransport(), 'root');
      const remote = await takeRemoteSnapshot(envoy.pid, 'local', run);
      assert.deepEqual([...remote.fdInodes].sort(), [...snapshot.fdInodes].sort());
      assert.deepEqual(
        remote.threads.map((x) => `${x.tid} ${x.comm}`).sort(),
        snapshot.threads.map((x) => `${x.tid} ${x.comm}`).sort(),
      );
      assert.deepEqual(remote.listeners, snapshot.listeners);
      const viaNode = await readAdmin(commandAdminGet(run, envoy.pid, '127.0.0.1', 15000), {
        label: 'node',
        port: 15000,
      });
      assert.equal(viaNode.summary.error, undefined);
      assert.deepEqual(viaNode.listeners, report.listeners);

      // A node without curl: the same answers through bash's /dev/tcp. The runner is this
      // machine with a PATH that holds nsenter, timeout, bash and cat, and no curl.
      const bin = mkdtempSync(path.join(os.tmpdir(), 'ft-no-curl-'));
      try {
        for (const tool of ['nsenter', 'timeout', 'bash', 'head'])
          symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), path.join(bin, tool));
        const noCurl = (argv: string[]) =>
          new Promise<string>((resolve, reject) =>
            execFile(argv[0]!, argv.slice(1), { env: { PATH: bin } }, (error, stdout, stderr) =>
              error
                ? reject(new Error(`${argv[0]} failed (exit ${String(error.code)}): ${stderr.trim()}`))
                : resolve(stdout),
            ),
          );
        await assert.rejects(
          noCurl(['nsenter', '-t', String(envoy.pid), '-n', 'curl', '--version']),
          /failed to execute curl/,
          'curl is really out of reach',
        );
        const viaBash = await readAdmin(commandAdminGet(noCurl, envoy.pid, '127.0.0.1', 15000), {
          label: 'node without curl',
          port: 15000,
        });
        assert.equal(viaBash.summary.error, undefined);
        assert.deepEqual(viaBash.listeners, report.listeners);
        assert.equal(viaBash.summary.concurrency, 2);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
  );
}
