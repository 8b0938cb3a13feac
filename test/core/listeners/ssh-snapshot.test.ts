// The snapshot and the admin cross-check on an SSH node: real sshd on 127.0.0.1, as root and as a
// user with password-less sudo, against the mini-Envoy in its own network namespace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { commandAdminGet, readAdmin } from '../../../core/listeners/admin';
import { listProcesses } from '../../../core/nodes/processes';
import { ListenerReducer } from '../../../core/listeners/reducer';
import { takeLocalSnapshot, takeRemoteSnapshot } from '../../../core/listeners/snapshot';
import { transportRunner } from '../../../core/nodes/commands';
import { probeNode } from '../../../core/nodes/probe';
import { connectSsh } from '../../../core/ssh/client';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { canCreateUsers, createTestUser, type TestUser } from '../../helpers/users';
import { type MiniEnvoy, startMiniEnvoy } from '../../targets/mini-envoy';

const callbacks = { confirmUnknownHostKey: async () => false };

describe('listener snapshot over SSH', { skip: !(sshdAvailable() && canCreateUsers()) }, () => {
  let sshd: SshdHarness;
  let sudoUser: TestUser;
  let envoy: MiniEnvoy;
  const netns = `ft-lst-ssh-${process.pid}`;

  before(async () => {
    sshd = await startSshd();
    sudoUser = createTestUser(sshd.dir, 'ftlsudo', { sudo: true });
    sshd.authorize(sudoUser.name);
    sshd.addLoopbackHost(sudoUser.name, sudoUser.name);
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
    envoy = await startMiniEnvoy({
      prefix: ['ip', 'netns', 'exec', netns],
      listeners: ['0.0.0.0:15001'],
      adminPort: 15000,
      concurrency: 2,
    });
  });

  after(async () => {
    await envoy?.stop();
    try {
      execFileSync('ip', ['netns', 'del', netns]);
    } catch {
      // not created
    }
    sudoUser?.remove();
    await sshd?.stop();
  });

  for (const who of ['root', 'sudo'] as const) {
    it(`as ${who}: the same snapshot as on the node itself, and the admin API in the pod's netns`, async () => {
      const alias = who === 'root' ? sshd.alias : sudoUser.name;
      const conn = await connectSsh(alias, { env: sshd.env, callbacks });
      try {
        const probe = await probeNode(conn);
        assert.equal(probe.privilege, who);
        const run = transportRunner(conn, probe.privilege);
        const remote = await takeRemoteSnapshot(envoy.pid, alias, run);
        // The process picker lists the node's processes through the same runner.
        const processes = await listProcesses(run, new Set([envoy.pid]));
        assert.equal(processes[0]?.pid, envoy.pid);
        assert.ok(processes.length > 3, JSON.stringify(processes.slice(0, 5)));
        const local = await takeLocalSnapshot(envoy.pid, alias);
        assert.deepEqual(remote.listeners, local.listeners);
        assert.deepEqual([...remote.fdInodes].sort(), [...local.fdInodes].sort());
        assert.deepEqual(
          remote.threads.map((t) => `${t.tid} ${t.comm}`).sort(),
          local.threads.map((t) => `${t.tid} ${t.comm}`).sort(),
        );
        const report = await readAdmin(commandAdminGet(run, envoy.pid), {
          label: `${alias} 127.0.0.1:15000`,
          port: 15000,
        });
        assert.equal(report.summary.error, undefined);
        assert.equal(report.summary.concurrency, 2);
        const reducer = new ListenerReducer();
        reducer.applySnapshot(remote);
        reducer.applyAdmin(alias, envoy.pid, report);
        const proc = reducer.state().processes[0];
        assert.equal(proc.node, alias);
        const outbound = proc.listeners.find((l) => l.port === 15001)!;
        assert.equal(outbound.layout, 'shared-dup');
        assert.equal(outbound.sockets[0].fds.length, 3);
        assert.ok(outbound.admin, 'admin listener joined');
        assert.deepEqual(
          outbound.admin.workers.map((w) => w.worker),
          [0, 1],
        );
      } finally {
        conn.close();
      }
    });
  }
});
