import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { listProcesses, parsePs, rankProcesses } from '../../../core/nodes/processes';

describe('process list for the pickers', () => {
  it('reads ps output: names from argv[0], kernel threads and broken lines left out', () => {
    const ps = [
      '      1 /sbin/init splash',
      '      2 [kthreadd]',
      '  41230 /usr/local/bin/envoy -c /etc/istio/proxy/envoy-rev.json --concurrency 2',
      '  41100 /usr/local/bin/pilot-agent proxy sidecar',
      '  50000 nginx: worker process',
      'garbage',
      '',
    ].join('\n');
    assert.deepEqual(
      parsePs(ps).map((p) => `${p.pid} ${p.name}`),
      ['1 init', '41230 envoy', '41100 pilot-agent', '50000 nginx'],
    );
  });

  it('ranks traced pids first, then proxies, then by name', () => {
    const list = parsePs(
      [
        '10 /bin/zsh',
        '11 /usr/bin/nginx',
        '12 /usr/local/bin/envoy',
        '13 /bin/bash',
        '14 /usr/local/bin/envoy',
      ].join('\n'),
    );
    assert.deepEqual(
      rankProcesses(list, new Set([13])).map((p) => p.pid),
      [13, 12, 14, 11, 10],
    );
  });

  it('lists a real process of this machine with its pid and name', async (t) => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    const list = await listProcesses(undefined, new Set([child.pid!]));
    assert.equal(list[0]?.pid, child.pid);
    assert.equal(list[0]?.name, 'sleep');
    assert.equal(list[0]?.commandLine, 'sleep 300');
    assert.ok(list.some((p) => p.pid === process.pid));
  });
});
