import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSshConfig, resolveSshHost } from '../../../core/ssh/config';

const env = { home: '/home/me', localUser: 'me' };

function resolve(destination: string, ...lines: string[]) {
  return resolveSshHost(destination, env, parseSshConfig(['Host *', ...lines].join('\n'), 'test'));
}

describe('ssh config: % tokens', () => {
  it('file keywords expand %% %d %h %n %p %r %u and ~, and keep the tokens not expanded here', () => {
    const host = resolve(
      'root@alias:2200',
      '  HostName node-%n.example',
      '  IdentityFile ~/.ssh/%r@%h:%p-%u-%d-%n-%%-%C',
      '  UserKnownHostsFile %d/kh-%h',
      '  GlobalKnownHostsFile /etc/kh-%n',
    );
    assert.equal(host.hostName, 'node-alias.example');
    assert.deepEqual(host.identityFiles, [
      '/home/me/.ssh/root@node-alias.example:2200-me-/home/me-alias-%-%C',
    ]);
    assert.deepEqual(host.knownHostsFiles, ['/home/me/kh-node-alias.example']);
    assert.deepEqual(host.globalKnownHostsFiles, ['/etc/kh-alias']);
  });

  it('ProxyCommand expands %h %p %r %n %% and refuses any other token, as OpenSSH does', () => {
    assert.equal(
      resolve('u@alias', '  HostName 10.0.0.1', '  Port 2222', '  ProxyCommand nc %h %p %r %n 100%%')
        .proxyCommand,
      'nc 10.0.0.1 2222 u alias 100%',
    );
    for (const token of ['%d', '%u', '%C', '%']) {
      assert.throws(
        () => resolve('alias', `  ProxyCommand nc ${token}`),
        new RegExp(`ProxyCommand for 'alias': unknown token ${token}$`),
        token,
      );
    }
  });
});
