import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  addKnownHost,
  checkHostKey,
  fingerprintSha256,
  keyTypeOf,
  knownHostsName,
  parseEntries,
  patternsMatch,
} from '../../../core/ssh/known-hosts';
import { loadSshConfig, parseSshConfig, resolveSshHost } from '../../../core/ssh/config';
import { fuzz } from '../../helpers/fuzz';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-kh-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function makeKey(name: string): { line: string; blob: Buffer; file: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  return { line, blob: Buffer.from(line.split(' ')[1] ?? '', 'base64'), file };
}

const haveKeygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined;
  }
})();

describe('known_hosts', { skip: !haveKeygen && process.env.CI !== 'true' }, () => {
  const a = makeKey('a');
  const b = makeKey('b');
  const keyA = { type: keyTypeOf(a.blob), blob: a.blob };

  it('reads the key type from the blob and prints the fingerprint like ssh-keygen -l', () => {
    assert.equal(keyA.type, 'ssh-ed25519');
    const keygen = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${a.file}.pub`], {
      encoding: 'utf8',
    });
    assert.equal(fingerprintSha256(a.blob), keygen.split(' ')[1]);
  });

  it('matches plain, bracketed-port, wildcard and negated patterns', () => {
    assert.equal(knownHostsName('h', 22), 'h');
    assert.equal(knownHostsName('h', 2222), '[h]:2222');
    assert.ok(patternsMatch('x,node1.example.com', 'node1.example.com'));
    assert.ok(patternsMatch('*.example.com', 'NODE1.example.com'));
    assert.ok(!patternsMatch('*.example.com,!bad.example.com', 'bad.example.com'));
    assert.ok(patternsMatch('[127.0.0.1]:2222', '[127.0.0.1]:2222'));
    assert.ok(!patternsMatch('127.0.0.1', '[127.0.0.1]:2222'));
  });

  it('finds a hashed entry written by ssh-keygen -H, and tells known, changed and unknown apart', () => {
    const file = path.join(dir, 'known_hosts_hashed');
    writeFileSync(file, `# comment\n[127.0.0.1]:2222 ${a.line}\nother.host ${b.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('127.0.0.1'), 'ssh-keygen -H hashed the names');
    assert.deepEqual(checkHostKey([file], '127.0.0.1', 2222, keyA), { status: 'known' });
    const changed = checkHostKey([file], '127.0.0.1', 2222, { type: 'ssh-ed25519', blob: b.blob });
    assert.equal(changed.status, 'changed');
    assert.equal(checkHostKey([file], '127.0.0.1', 22, keyA).status, 'unknown');
    assert.equal(checkHostKey([path.join(dir, 'missing')], '127.0.0.1', 2222, keyA).status, 'unknown');
  });

  it('records keys hashed so that OpenSSH finds them (ssh-keygen -F)', () => {
    const file = path.join(dir, 'known_hosts_added');
    addKnownHost(file, '10.1.2.3', 2200, keyA);
    assert.equal(checkHostKey([file], '10.1.2.3', 2200, keyA).status, 'known');
    const found = execFileSync('ssh-keygen', ['-F', '[10.1.2.3]:2200', '-f', file], { encoding: 'utf8' });
    assert.match(found, /Host \[10\.1\.2\.3\]:2200 found/);
  });

  it('refuses a revoked key even if it is also listed as valid', () => {
    const file = path.join(dir, 'known_hosts_revoked');
    writeFileSync(file, `h ${a.line}\n@revoked * ${a.line}\n`);
    assert.equal(checkHostKey([file], 'h', 22, keyA).status, 'revoked');
  });
});

describe('known_hosts and ssh config readers: fuzz', () => {
  const KNOWN = [
    '# comment',
    '[127.0.0.1]:2222,node1.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
    '|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ecdsa-sha2-nistp256 AAAAE2VjZHNh',
    '@revoked *.example.com,!bad.example.com ssh-rsa AAAAB3NzaC1yc2E=',
    '@cert-authority *.corp ssh-ed25519 AAAA',
  ].join('\n');
  const CONFIG = [
    'Host *',
    '  GlobalKnownHostsFile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2',
    'Host node1 !bad n?de*',
    '  HostName 10.0.0.%h',
    '  User "a b"',
    '  Port 2222',
    '  IdentityFile ~/.ssh/id_%r@%h',
    '  UserKnownHostsFile ~/.ssh/kh none',
    '  HostKeyAlias node1-key',
    '  ProxyJump jump1,user@jump2:22',
    'Match host node1 user root',
    '  ProxyCommand ssh -W %h:%p jump',
  ].join('\n');

  it('10,000 mutated known_hosts texts and 10,000 ssh configs: no crash, bounded time', () => {
    const names = ['node1.example.com', '[127.0.0.1]:2222', 'bad.example.com', 'x.corp'];
    fuzz([KNOWN], { seed: 71, count: 10_000, budgetMs: 30_000 }, (input, i) => {
      const entries = parseEntries(input.toString('utf8'));
      for (const e of entries) {
        assert.ok(e.line >= 1 && Buffer.isBuffer(e.blob));
        patternsMatch(e.patterns, names[i % names.length]!);
      }
    });
    const env = { home: '/nonexistent-home', agentSocket: undefined, localUser: 'root' };
    fuzz([CONFIG], { seed: 72, count: 10_000, budgetMs: 60_000 }, (input) => {
      try {
        const host = resolveSshHost('node1', env, parseSshConfig(input.toString('utf8'), 'fuzz'));
        assert.ok(Number.isInteger(host.port) && host.port >= 1 && host.port <= 65535);
      } catch (error) {
        // A config we cannot use is a plain Error that says why, never a TypeError or a RangeError.
        assert.equal((error as Error).constructor, Error, String(error));
      }
    });
  });

  // A backtracking matcher would not finish: the test's timeout is the bound.
  it('a pattern full of wildcards matches without backtracking blow-up', { timeout: 20_000 }, () => {
    assert.equal(patternsMatch(`${'*a'.repeat(5000)}b`, 'a'.repeat(20_000)), false);
  });

  it(
    'a config that includes itself twice is read within a budget, not 2^16 times',
    { timeout: 20_000 },
    () => {
      const home = path.join(dir, 'home-include');
      mkdirSync(path.join(home, '.ssh'), { recursive: true });
      writeFileSync(path.join(home, '.ssh', 'config'), 'Include config\nInclude config\nHost x\n  Port 2\n');
      assert.throws(() => loadSshConfig({ home, localUser: 'root' }), /more than 256 files/);
      mkdirSync(path.join(home, '.ssh', 'conf.d'));
      writeFileSync(path.join(home, '.ssh', 'config'), 'Include conf.d\nHost x\n  Port 2\n');
      assert.equal(
        resolveSshHost('x', { home, localUser: 'root' }).port,
        2,
        'a folder named by Include is skipped',
      );
    },
  );
});
