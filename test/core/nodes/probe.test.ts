// The node probe over real SSH as different users: root, passwordless sudo, no sudo, a PATH
// without bpftrace, and a bpftrace shim that reports another version.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SetDocumentTargetNotification, SetNodeTargetNotification } from '../../../common/protocol';
import { connectSsh } from '../../../core/ssh/client';
import { fetchTracepointListing, NodeProbeCache, probeNode } from '../../../core/nodes/probe';
import { LocalTransport } from '../../../core/nodes/transport';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { startServer } from '../../server/harness';
import { bpftraceAvailable, canCreateUsers, createTestUser, type TestUser } from '../../helpers/users';

const callbacks = { confirmUnknownHostKey: async () => false };
const haveBpftrace = bpftraceAvailable();

describe('node probe', { skip: !(sshdAvailable() && canCreateUsers() && haveBpftrace) }, () => {
  let sshd: SshdHarness;
  const users: TestUser[] = [];
  let sudoUser: TestUser, plainUser: TestUser, noBpfUser: TestUser, shimUser: TestUser;

  before(async () => {
    sshd = await startSshd();
    sudoUser = createTestUser(sshd.dir, 'ftsudo', { sudo: true });
    plainUser = createTestUser(sshd.dir, 'ftplain');
    noBpfUser = createTestUser(sshd.dir, 'ftnobpf');
    shimUser = createTestUser(sshd.dir, 'ftshim');
    users.push(sudoUser, plainUser, noBpfUser, shimUser);
    // A PATH of chosen symlinks: everything the probe uses, but no bpftrace.
    const bin = path.join(sshd.dir, 'bin-nobpf');
    mkdirSync(bin, { mode: 0o755 });
    for (const tool of ['id', 'uname', 'awk', 'head', 'cat', 'ps', 'mktemp', 'rm', 'sleep'])
      symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    // A shim that reports another version and delegates everything else to the real bpftrace.
    const shim = path.join(sshd.dir, 'bin-shim');
    mkdirSync(shim, { mode: 0o755 });
    writeFileSync(
      path.join(shim, 'bpftrace'),
      '#!/bin/sh\nif [ "$1" = --version ]; then echo "bpftrace v0.26.0"; exit 0; fi\nexec /usr/bin/bpftrace "$@"\n',
    );
    chmodSync(path.join(shim, 'bpftrace'), 0o755);
    for (const u of users) {
      sshd.authorize(u.name);
      sshd.addLoopbackHost(u.name, u.name);
    }
    await sshd.reconfigure(
      [
        `Match User ${noBpfUser.name}`,
        `  SetEnv PATH=${bin}`,
        `Match User ${shimUser.name}`,
        `  SetEnv PATH=${shim}:/usr/bin:/bin`,
      ].join('\n'),
    );
  });
  after(async () => {
    for (const u of users) u.remove();
    await sshd?.stop();
  });

  async function probeAs(alias: string) {
    const conn = await connectSsh(alias, { env: sshd.env, callbacks });
    try {
      return await probeNode(conn);
    } finally {
      conn.close();
    }
  }

  it('root over SSH: bpftrace version, kernel, tracefs, BTF, no problems', async () => {
    const probe = await probeAs(sshd.alias);
    const local = await probeNode(new LocalTransport());
    assert.equal(probe.privilege, 'root');
    assert.equal(probe.bpftraceVersion, local.bpftraceVersion);
    assert.match(probe.bpftraceVersion ?? '', /^\d+\.\d+/);
    assert.equal(probe.kernelRelease, os.release());
    assert.ok(probe.tracefs);
    assert.deepEqual(probe.problems, []);
  });

  it('a user with passwordless sudo is probed through sudo -n', async () => {
    const probe = await probeAs(sudoUser.name);
    assert.equal(probe.user, sudoUser.name);
    assert.equal(probe.privilege, 'sudo');
    assert.ok(probe.bpftracePath);
    assert.deepEqual(probe.problems, []);
  });

  it('a user without sudo gets the clear message', async () => {
    const probe = await probeAs(plainUser.name);
    assert.equal(probe.privilege, undefined);
    assert.equal(probe.problems.length, 1);
    assert.match(
      probe.problems[0] ?? '',
      new RegExp(`${plainUser.name} on ${plainUser.name} is not root and cannot use \`sudo -n\``),
    );
    assert.match(probe.problems[0] ?? '', /NOPASSWD/);
  });

  it('a node without bpftrace in PATH says what to install', async () => {
    const probe = await probeAs(noBpfUser.name);
    assert.equal(probe.bpftracePath, undefined);
    assert.ok(
      probe.problems.some((p) => /bpftrace is not installed .*apt-get install bpftrace/.test(p)),
      probe.problems.join('\n'),
    );
  });

  it('a bpftrace reporting another version is reported, and the language server checks in its dialect', async () => {
    const probe = await probeAs(shimUser.name);
    assert.equal(probe.bpftraceVersion, '0.26.0');
    assert.match(probe.bpftracePath ?? '', /bin-shim\/bpftrace$/);
    // What the extension pushes after a probe: the node's version, then the document's node.
    const server = await startServer({ bpftraceVersion: '0.17' });
    try {
      const uri = server.open('dot.bt', 'tracepoint:syscalls:sys_enter_bind { print(args.fd); }\n');
      const before = await server.diagnostics(uri);
      assert.ok(
        before.diagnostics.some((d) => d.code === 'args-dot'),
        '`args.fd` is an error in 0.17',
      );
      await server.client.sendNotification(SetNodeTargetNotification.type, {
        nodeId: probe.nodeId,
        bpftraceVersion: probe.bpftraceVersion,
        kernelRelease: probe.kernelRelease,
      });
      await server.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: probe.nodeId });
      const deadline = Date.now() + 5000;
      let clean = false;
      while (!clean && Date.now() < deadline) {
        const d = await server.diagnostics(uri, Math.max(1, deadline - Date.now())).catch(() => undefined);
        clean = d !== undefined && !d.diagnostics.some((x) => x.code === 'args-dot');
      }
      assert.ok(clean, 'checked in the 0.26 dialect of the node');
    } finally {
      await server.close();
    }
  });

  it('caches per host and lists tracepoints with fields', async () => {
    const conn = await connectSsh(sshd.alias, { env: sshd.env, callbacks });
    try {
      const cache = new NodeProbeCache();
      const first = cache.get(conn);
      assert.equal(cache.get(conn), first);
      const listing = await fetchTracepointListing(conn, await first);
      assert.match(listing, /^tracepoint:syscalls:sys_enter_bind\n(\s+.*\n)*\s+int fd;?/m);
    } finally {
      conn.close();
    }
  });
});
