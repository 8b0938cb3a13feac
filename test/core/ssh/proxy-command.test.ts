// ProxyCommand against a real sshd on 127.0.0.1: the node's HostName does not resolve, so only the
// proxy (socat, run through the shell as OpenSSH runs it) can reach it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { connectSsh, HostKeyError } from '../../../core/ssh/client';
import { resolveSshHost } from '../../../core/ssh/config';
import { addKnownHost, keyTypeOf } from '../../../core/ssh/known-hosts';
import { execOnNode } from '../../../core/nodes/transport';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';

const never = { confirmUnknownHostKey: async () => assert.fail('no prompt expected for a known key') };
const socatAvailable = (): boolean => {
  const ok = existsSync('/usr/bin/socat');
  if (!ok && process.env.CI === 'true') throw new Error('socat missing and CI=true');
  return ok;
};
const UNRESOLVABLE = 'node-behind-proxy.invalid';

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (Date.now() < end) {
    if (!existsSync(`/proc/${pid}`)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('ProxyCommand', { skip: !sshdAvailable() || !socatAvailable() }, () => {
  let sshd: SshdHarness;
  let proxyScript: string;
  let tokensFile: string;
  let pidFile: string;
  const options = () => ({ env: sshd.env, callbacks: never, proxyEnv: { ...process.env, SHELL: '/bin/sh' } });
  const trustUnder = (name: string, port: number) =>
    addKnownHost(path.join(sshd.home, '.ssh', 'known_hosts'), name, port, {
      type: keyTypeOf(sshd.hostKeyBlob),
      blob: sshd.hostKeyBlob,
    });

  before(async () => {
    sshd = await startSshd();
    proxyScript = path.join(sshd.dir, 'proxy.sh');
    tokensFile = path.join(sshd.dir, 'tokens');
    pidFile = path.join(sshd.dir, 'proxy.pid');
    // Records its arguments and pid, then becomes socat (same pid) to this sshd's port.
    writeFileSync(
      proxyScript,
      `#!/bin/sh\nprintf '%s|' "$@" > ${tokensFile}\necho $$ > ${pidFile}\nexec socat - TCP:127.0.0.1:${'$'}{PROXY_PORT:-$2}\n`,
    );
    chmodSync(proxyScript, 0o755);
  });
  after(async () => {
    await sshd?.stop();
  });
  beforeEach(() => {
    rmSync(tokensFile, { force: true });
    rmSync(pidFile, { force: true });
  });

  it('reaches a host only the proxy can reach, with %h %p %r %n %% expanded', async () => {
    sshd.addHost('proxied', {
      HostName: UNRESOLVABLE,
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: sshd.clientKey,
      ProxyCommand: `${proxyScript} %h %p %r %n %%`,
    });
    trustUnder(UNRESOLVABLE, sshd.port);
    const conn = await connectSsh('proxied', options());
    try {
      const r = await execOnNode(conn, 'echo reached');
      assert.equal(r.stdout.trim(), 'reached');
    } finally {
      conn.close();
    }
    assert.equal(readFileSync(tokensFile, 'utf8'), `${UNRESOLVABLE}|${sshd.port}|root|proxied|%|`);
  });

  it('ends the proxy process when the connection is closed or dropped', async () => {
    for (const end of ['close', 'destroy'] as const) {
      rmSync(pidFile, { force: true });
      const conn = await connectSsh('proxied', options());
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(existsSync(`/proc/${pid}`), 'proxy runs while connected');
      conn[end]();
      assert.ok(await gone(pid, 5000), `proxy ${pid} still running after ${end}()`);
    }
  });

  it('shows what a proxy that exits at once wrote on stderr, without hanging', async () => {
    sshd.addHost('broken-proxy', {
      HostName: UNRESOLVABLE,
      User: 'root',
      IdentityFile: sshd.clientKey,
      ProxyCommand: `sh -c 'echo "no route to %h" >&2; exit 3'`,
    });
    const started = Date.now();
    await assert.rejects(connectSsh('broken-proxy', { ...options(), readyTimeoutMs: 15_000 }), (e: Error) => {
      assert.match(e.message, new RegExp(`no route to ${UNRESOLVABLE.replace(/\./g, '\\.')}`));
      assert.match(e.message, /exited with code 3/);
      return true;
    });
    assert.ok(Date.now() - started < 14_000, 'failed on the proxy exit, not on the ready timeout');
  });

  it('refuses a changed host key behind a ProxyCommand', async () => {
    sshd.addHost('proxied-changed', {
      HostName: 'changed-behind-proxy.invalid',
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: sshd.clientKey,
      ProxyCommand: `${proxyScript} %h %p`,
    });
    const other = path.join(sshd.dir, 'other-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const blob = Buffer.from(readFileSync(`${other}.pub`, 'utf8').split(/\s+/)[1] ?? '', 'base64');
    addKnownHost(path.join(sshd.home, '.ssh', 'known_hosts'), 'changed-behind-proxy.invalid', sshd.port, {
      type: 'ssh-ed25519',
      blob,
    });
    await assert.rejects(
      connectSsh('proxied-changed', options()),
      (e: unknown) => e instanceof HostKeyError && e.reason === 'changed',
    );
  });

  it('checks the key under HostKeyAlias behind a ProxyCommand too', async () => {
    sshd.addHost('proxied-alias', {
      HostName: UNRESOLVABLE,
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: sshd.clientKey,
      HostKeyAlias: 'proxied-alias-key',
      ProxyCommand: `${proxyScript} %h %p`,
    });
    const prompts: string[] = [];
    await assert.rejects(
      connectSsh('proxied-alias', {
        ...options(),
        callbacks: { confirmUnknownHostKey: async (p) => (prompts.push(p.fingerprint), false) },
      }),
      (e: unknown) => e instanceof HostKeyError && e.reason === 'rejected',
    );
    assert.deepEqual(prompts, [sshd.hostKeyFingerprint]);
    trustUnder('proxied-alias-key', 22);
    (await connectSsh('proxied-alias', options())).close();
  });

  it('takes whichever of ProxyCommand and ProxyJump comes first, as OpenSSH does', async () => {
    sshd.addLoopbackHost('plain-jump');
    sshd.trustHostKey();
    // ProxyCommand first: the command is used, the jump ignored.
    sshd.addHost('command-first', {
      HostName: UNRESOLVABLE,
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: sshd.clientKey,
      ProxyCommand: `${proxyScript} %h %p`,
      ProxyJump: 'plain-jump',
    });
    const a = resolveSshHost('command-first', sshd.env);
    assert.deepEqual(a.proxyJump, []);
    assert.equal(a.proxyCommand, `${proxyScript} ${UNRESOLVABLE} ${sshd.port}`);
    (await connectSsh('command-first', options())).close();
    assert.ok(existsSync(tokensFile), 'the proxy command ran');

    // ProxyJump first: the jump is used, the command never runs.
    rmSync(tokensFile, { force: true });
    sshd.addHost('jump-first', {
      HostName: '127.0.0.1',
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: sshd.clientKey,
      ProxyJump: 'plain-jump',
      ProxyCommand: `${proxyScript} %h %p`,
    });
    const b = resolveSshHost('jump-first', sshd.env);
    assert.deepEqual([b.proxyJump, b.proxyCommand], [['plain-jump'], undefined]);
    (await connectSsh('jump-first', options())).close();
    assert.ok(!existsSync(tokensFile), 'the proxy command did not run');

    // `ProxyCommand none` is obtained too: a later `Host *` command does not apply.
    sshd.addHost('direct-node', { HostName: '127.0.0.1', ProxyCommand: 'none' });
    sshd.addHost('*', { ProxyCommand: `${proxyScript} %h %p` });
    assert.equal(resolveSshHost('direct-node', sshd.env).proxyCommand, undefined);
    assert.equal(resolveSshHost('other-node', sshd.env).proxyCommand, `${proxyScript} other-node 22`);
  });

  it('reaches a jump host through its own ProxyCommand', async () => {
    sshd.addHost('jump-via-proxy', {
      HostName: UNRESOLVABLE,
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: sshd.clientKey,
      ProxyCommand: `${proxyScript} %h %p`,
    });
    sshd.addLoopbackHost('behind-proxied-jump', 'root', { ProxyJump: 'jump-via-proxy' });
    const conn = await connectSsh('behind-proxied-jump', options());
    try {
      assert.equal((await execOnNode(conn, 'echo through')).stdout.trim(), 'through');
      assert.ok(existsSync(tokensFile), 'the jump host was reached through its proxy');
    } finally {
      conn.close();
    }
  });

  it('refuses shell metacharacters in a typed host or user name expanded into the command', async () => {
    const marker = path.join(sshd.dir, 'injected');
    sshd.addHost('*', { ProxyCommand: `${proxyScript} %h %p` });
    for (const destination of [`x;touch ${marker}`, `$(touch ${marker})`, `a|b`, `-oProxy`, `root'x@node`]) {
      assert.throws(() => resolveSshHost(destination, sshd.env), /not allowed/, destination);
      await assert.rejects(connectSsh(destination, options()), /not allowed/, destination);
    }
    assert.ok(!existsSync(marker));
  });
});
