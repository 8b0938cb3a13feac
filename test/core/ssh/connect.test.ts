// Real sshd on 127.0.0.1 (test/helpers/sshd.ts): host-key policy, auth order, ProxyJump, SFTP.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configuredHosts, loadSshConfig, resolveSshHost } from '../../../core/ssh/config';
import { connectSsh, HostKeyError, type UnknownHostKey } from '../../../core/ssh/client';
import { execOnNode } from '../../../core/nodes/transport';
import { addKnownHost, keyTypeOf } from '../../../core/ssh/known-hosts';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';

const never = { confirmUnknownHostKey: async () => assert.fail('no prompt expected for a known key') };

describe('SSH connections against a real sshd', { skip: !sshdAvailable() }, () => {
  let sshd: SshdHarness;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });

  it('resolves Host, HostName, User, Port, IdentityFile and ProxyJump from the config', () => {
    sshd.addHost('via-jump', {
      HostName: '127.0.0.1',
      Port: String(sshd.port),
      User: 'root',
      ProxyJump: sshd.alias,
    });
    const config = loadSshConfig(sshd.env);
    assert.ok(configuredHosts(config).includes(sshd.alias));
    const host = resolveSshHost('via-jump', sshd.env, config);
    assert.deepEqual(
      { hostName: host.hostName, port: host.port, user: host.user, proxyJump: host.proxyJump },
      { hostName: '127.0.0.1', port: sshd.port, user: 'root', proxyJump: [sshd.alias] },
    );
    assert.deepEqual(resolveSshHost(sshd.alias, sshd.env).identityFiles, [sshd.clientKey]);
  });

  it('follows Include (relative to ~/.ssh, with wildcards) when reading the config', () => {
    const dir = path.join(sshd.home, '.ssh', 'config.d');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, '10-nodes.conf'),
      `Host included-node\n  HostName 10.9.8.7\n  Port 2201\n  User alice\n`,
    );
    writeFileSync(path.join(dir, 'ignored.txt'), `Host not-included\n  HostName 1.1.1.1\n`);
    const config = path.join(sshd.home, '.ssh', 'config');
    writeFileSync(config, `Include config.d/*.conf\n${readFileSync(config, 'utf8')}`);
    const hosts = configuredHosts(loadSshConfig(sshd.env));
    assert.ok(hosts.includes('included-node') && hosts.includes(sshd.alias), hosts.join(' '));
    assert.ok(!hosts.includes('not-included'));
    const host = resolveSshHost('included-node', sshd.env);
    assert.deepEqual([host.hostName, host.port, host.user], ['10.9.8.7', 2201, 'alice']);
  });

  it('connects with a hashed known_hosts entry and runs commands through /bin/sh', async () => {
    const conn = await connectSsh(sshd.alias, { env: sshd.env, callbacks: never });
    try {
      const r = await execOnNode(conn, 'echo "$0" && id -u');
      assert.deepEqual(r.stdout.split('\n').slice(0, 2), ['/bin/sh', '0']);
    } finally {
      conn.close();
    }
  });

  it('rejects an unknown key unless the callback accepts it, then records it', async () => {
    sshd.clearKnownHosts();
    const prompts: UnknownHostKey[] = [];
    await assert.rejects(
      connectSsh(sshd.alias, {
        env: sshd.env,
        callbacks: { confirmUnknownHostKey: async (p) => (prompts.push(p), false) },
      }),
      (e: unknown) => e instanceof HostKeyError && e.reason === 'rejected' && /not known/.test(e.message),
    );
    assert.equal(prompts.length, 1);
    assert.equal(prompts[0]?.fingerprint, sshd.hostKeyFingerprint);
    assert.equal(prompts[0]?.keyType, 'ssh-ed25519');
    assert.ok(!existsSync(path.join(sshd.home, '.ssh', 'known_hosts')), 'nothing recorded on refusal');

    const conn = await connectSsh(sshd.alias, {
      env: sshd.env,
      callbacks: { confirmUnknownHostKey: async (p) => p.fingerprint === sshd.hostKeyFingerprint },
    });
    conn.close();
    const recorded = execFileSync(
      'ssh-keygen',
      ['-F', `[127.0.0.1]:${sshd.port}`, '-f', path.join(sshd.home, '.ssh', 'known_hosts')],
      { encoding: 'utf8' },
    );
    assert.match(recorded, /found/);
    // Now known: no prompt.
    (await connectSsh(sshd.alias, { env: sshd.env, callbacks: never })).close();
  });

  it('records and checks the key under HostKeyAlias, where OpenSSH looks for it', async () => {
    sshd.clearKnownHosts();
    sshd.addLoopbackHost('aliased-node', 'root', { HostKeyAlias: 'aliased-node-key' });
    const known = path.join(sshd.home, '.ssh', 'known_hosts');
    const prompts: UnknownHostKey[] = [];
    (
      await connectSsh('aliased-node', {
        env: sshd.env,
        callbacks: { confirmUnknownHostKey: async (p) => (prompts.push(p), true) },
      })
    ).close();
    assert.equal(prompts.length, 1);
    const lookup = (name: string) => {
      try {
        return execFileSync('ssh-keygen', ['-F', name, '-f', known], { encoding: 'utf8' });
      } catch {
        return '';
      }
    };
    assert.match(lookup('aliased-node-key'), /found/);
    assert.equal(lookup(`[127.0.0.1]:${sshd.port}`), '', 'not under the address');
    // Known now, for us and for OpenSSH's own client with strict checking.
    (await connectSsh('aliased-node', { env: sshd.env, callbacks: never })).close();
    const out = execFileSync(
      'ssh',
      [
        '-F',
        path.join(sshd.home, '.ssh', 'config'),
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${known}`,
        '-o',
        'IdentitiesOnly=yes',
        'aliased-node',
        'echo ok',
      ],
      { encoding: 'utf8', env: { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: '' } },
    );
    assert.equal(out.trim(), 'ok');
    // And the address's own entry does not stand in for the alias's.
    sshd.clearKnownHosts();
    sshd.trustWrongHostKey();
    await assert.rejects(
      connectSsh('aliased-node', { env: sshd.env, callbacks: { confirmUnknownHostKey: async () => false } }),
      (e: unknown) => e instanceof HostKeyError && e.reason === 'rejected',
    );
  });

  it('refuses a changed key with an OpenSSH-style warning and never asks', async () => {
    sshd.clearKnownHosts();
    sshd.trustWrongHostKey();
    try {
      await assert.rejects(
        connectSsh(sshd.alias, { env: sshd.env, callbacks: never }),
        (e: unknown) =>
          e instanceof HostKeyError &&
          e.reason === 'changed' &&
          /REMOTE HOST IDENTIFICATION HAS CHANGED/.test(e.message) &&
          e.message.includes(sshd.hostKeyFingerprint),
      );
    } finally {
      sshd.clearKnownHosts();
      sshd.trustHostKey();
    }
  });

  it('reads the system-wide known_hosts (GlobalKnownHostsFile): a key pinned there is known, another one changed', async () => {
    sshd.clearKnownHosts();
    const key = { type: keyTypeOf(sshd.hostKeyBlob), blob: sshd.hostKeyBlob };
    try {
      addKnownHost(sshd.globalKnownHosts, '127.0.0.1', sshd.port, key, false);
      const conn = await connectSsh(sshd.alias, { env: sshd.env, callbacks: never });
      conn.close();
      assert.ok(!existsSync(path.join(sshd.home, '.ssh', 'known_hosts')), 'nothing recorded for the user');
      const other = path.join(sshd.dir, 'global_other');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const wrong = Buffer.from(readFileSync(`${other}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
      writeFileSync(sshd.globalKnownHosts, '');
      addKnownHost(
        sshd.globalKnownHosts,
        '127.0.0.1',
        sshd.port,
        { type: 'ssh-ed25519', blob: wrong },
        false,
      );
      await assert.rejects(
        connectSsh(sshd.alias, { env: sshd.env, callbacks: never }),
        (e: unknown) =>
          e instanceof HostKeyError && e.reason === 'changed' && e.message.includes(sshd.globalKnownHosts),
      );
    } finally {
      writeFileSync(sshd.globalKnownHosts, '');
      sshd.trustHostKey();
    }
  });

  it('refuses a key of a new type while another type is on record, even when the caller would accept it', async () => {
    sshd.clearKnownHosts();
    const ecdsa = path.join(sshd.dir, 'ecdsa_on_record');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsa]);
    const blob = Buffer.from(readFileSync(`${ecdsa}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
    const userFile = path.join(sshd.home, '.ssh', 'known_hosts');
    addKnownHost(userFile, '127.0.0.1', sshd.port, { type: keyTypeOf(blob), blob });
    const before = readFileSync(userFile, 'utf8');
    let asked = false;
    try {
      await assert.rejects(
        connectSsh(sshd.alias, {
          env: sshd.env,
          callbacks: {
            confirmUnknownHostKey: async () => {
              asked = true;
              return true;
            },
          },
        }),
        (e: unknown) =>
          e instanceof HostKeyError &&
          e.reason === 'changed' &&
          /only ecdsa-sha2-nistp256 keys are on record/.test(e.message),
      );
      assert.equal(asked, false, 'nobody is asked');
      assert.equal(readFileSync(userFile, 'utf8'), before, 'nothing recorded');
    } finally {
      sshd.clearKnownHosts();
      sshd.trustHostKey();
    }
  });

  it('follows ProxyJump through the jump host', async () => {
    const conn = await connectSsh('via-jump', { env: sshd.env, callbacks: never });
    try {
      assert.equal(conn.nodeId, 'via-jump');
      assert.equal((await execOnNode(conn, 'echo jumped')).stdout, 'jumped\n');
    } finally {
      conn.close();
    }
  });

  it('asks for the passphrase of an encrypted key, once it fails, and remembers nothing itself', async () => {
    const key = path.join(sshd.dir, 'encrypted_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', key]);
    sshd.authorize('root');
    // authorize() wrote the harness key; add this key too.
    execFileSync('sh', [
      '-c',
      'cat "$1" >> "$2"',
      'sh',
      `${key}.pub`,
      path.join(sshd.dir, 'authorized', 'root'),
    ]);
    sshd.addHost('encrypted', {
      HostName: '127.0.0.1',
      Port: String(sshd.port),
      User: 'root',
      IdentityFile: key,
    });
    const asked: boolean[] = [];
    const accepted: string[] = [];
    const conn = await connectSsh('encrypted', {
      env: sshd.env,
      callbacks: {
        ...never,
        askPassphrase: async (file, failed) => {
          assert.equal(file, key);
          asked.push(failed);
          return asked.length === 1 ? 'wrong' : 'correct horse';
        },
        passphraseAccepted: (file, passphrase) => accepted.push(`${file}:${passphrase}`),
      },
    });
    conn.close();
    assert.deepEqual(asked, [false, true]);
    assert.deepEqual(accepted, [`${key}:correct horse`]);
    // Without a way to ask (the CLI), the key is skipped and the refusal says why.
    await assert.rejects(connectSsh('encrypted', { env: sshd.env, callbacks: never }), (e: Error) =>
      e.message.includes(`${key} (encrypted: add it to ssh-agent)`),
    );
  });

  it('uses ssh-agent first when one is given (our own agent, never the user’s)', async () => {
    const socket = path.join(sshd.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 5000;
      while (!existsSync(socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      execFileSync('ssh-add', [sshd.clientKey], { env: { SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      sshd.addHost('agent-only', {
        HostName: '127.0.0.1',
        Port: String(sshd.port),
        User: 'root',
        IdentityFile: '/nonexistent/key',
      });
      const conn = await connectSsh('agent-only', {
        env: { ...sshd.env, agentSocket: socket },
        callbacks: never,
      });
      conn.close();
      await assert.rejects(
        connectSsh('agent-only', { env: sshd.env, callbacks: never }),
        /Permission denied for root@\[127\.0\.0\.1\]/,
      );
    } finally {
      agent.kill();
    }
  });

  it('writes files over SFTP with the requested mode and refuses to overwrite', async () => {
    const conn = await connectSsh(sshd.alias, { env: sshd.env, callbacks: never });
    const file = path.join(sshd.dir, 'sftp $(touch pwned) ;`x`.bt');
    try {
      await conn.writeFile(file, 'content\n', 0o600);
      assert.equal(readFileSync(file, 'utf8'), 'content\n');
      assert.equal(execFileSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).trim(), '600');
      await assert.rejects(conn.writeFile(file, 'again', 0o600));
    } finally {
      conn.close();
      rmSync(file, { force: true });
    }
  });

  it('falls back to stdin when the node has no SFTP subsystem', async () => {
    const bare = await startSshd({ sftp: false });
    try {
      const conn = await connectSsh(bare.alias, { env: bare.env, callbacks: never });
      const file = path.join(bare.dir, "no sftp 'here'.bt");
      try {
        await conn.writeFile(file, 'BEGIN { printf("$(x)\\n"); }\n', 0o600);
        assert.equal(readFileSync(file, 'utf8'), 'BEGIN { printf("$(x)\\n"); }\n');
        assert.equal(execFileSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).trim(), '600');
        await assert.rejects(conn.writeFile(file, 'again', 0o600), /cannot write/);
      } finally {
        conn.close();
      }
    } finally {
      await bare.stop();
    }
  });
});
