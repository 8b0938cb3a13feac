// A fleet of three "nodes" (sshd in network namespaces this test makes, one mini-Envoy each, the
// third without bpftrace): `fieldtrace run --node a --node b --node c --listener-trace` traces all
// at once, prefixes every line with its node, writes one log per node, reports the failing node
// alone and ends with a summary; `state` groups by node and matches each node's `ss -ltnp`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ListenerState } from '../../common/listeners-protocol';
import { BUNDLED_CLI, REPO_ROOT, runFieldtrace } from '../helpers/cli';
import { createNetns, netnsAvailable, type TestNetns } from '../helpers/netns';
import { type SshdHarness, sshdAvailable, startSshd } from '../helpers/sshd';
import { bpftraceAvailable } from '../helpers/users';
import { type MiniEnvoy, startMiniEnvoy } from '../targets/mini-envoy';

interface FleetNode {
  alias: string;
  netns: TestNetns;
  sshd: SshdHarness;
  envoy: MiniEnvoy;
}

/** `ss -ltnp` of a namespace: the listening ports owned by `pid`. */
function listeningPorts(netns: TestNetns, pid: number): number[] {
  const out = execFileSync('ip', ['netns', 'exec', netns.name, 'ss', '-Hltnp'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(/:(\d+)\s/.exec(l.split(/\s+/)[3] + ' ')?.[1]))
    .sort((a, b) => a - b);
}

const ready = () => bpftraceAvailable() && sshdAvailable() && netnsAvailable();

describe('fieldtrace run on a fleet', { skip: !ready() }, () => {
  const nodes: FleetNode[] = [];
  let dir: string;
  let first: SshdHarness | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-fleet-'));
    if (!existsSync(BUNDLED_CLI) || process.env.CI !== 'true')
      execFileSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'ignore' });
    for (const [i, alias] of ['fleet-a', 'fleet-b', 'fleet-c'].entries()) {
      const netns = createNetns(i);
      const sshd = await startSshd({
        alias,
        netns: netns.name,
        address: netns.address,
        ...(first ? { clientOf: first } : {}),
        hideBpftrace: i === 2,
      });
      first ??= sshd;
      const envoy = await startMiniEnvoy({
        prefix: netns.prefix,
        concurrency: 2,
        listeners: [`${netns.address}:0`],
      });
      nodes.push({ alias, netns, sshd, envoy });
    }
  });
  after(async () => {
    for (const n of nodes.reverse()) {
      await n.envoy.stop();
      await n.sshd.stop();
      n.netns.remove();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('traces every node at once, node-prefixed, reports the failing node alone, and sums up', async () => {
    const logs = path.join(dir, 'logs');
    const targets = nodes.flatMap((n) => ['--node', n.alias, '--target', `${n.alias}=${n.envoy.pid}`]);
    const accepted = (out: string, alias: string) =>
      new RegExp(`^${alias} \\| wrk:worker_\\d\\[\\d+/\\d+\\] accept\\(fd`, 'm').test(out);
    let connecting = true;
    let made = 0;
    const load = (async () => {
      // Connections made before the probes attach are not seen: keep connecting (bounded).
      while (connecting && made < 600) {
        for (const n of nodes.slice(0, 2)) {
          made++;
          await new Promise<void>((resolve) => {
            const s = net.connect(n.envoy.ports[0] as number, n.netns.address, () => s.end());
            s.once('close', () => resolve());
            s.once('error', () => resolve());
          });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const r = await runFieldtrace(['run', '--listener-trace', '--log-dir', logs, ...targets], {
      cwd: dir,
      env: { ...process.env, HOME: first!.home, SSH_AUTH_SOCK: '' },
      interruptWhen: (out) => accepted(out, 'fleet-a') && accepted(out, 'fleet-b'),
    });
    connecting = false;
    await load;
    // One node failed (no bpftrace), so the fleet exits 1; the others were stopped cleanly.
    assert.equal(r.code, 1, r.stderr);
    for (const line of r.stdout.trim().split('\n'))
      assert.match(line, /^fleet-[ab] \| /, `every output line names its node: ${r.stderr}`);
    assert.match(r.stderr, /^fleet-c \| fieldtrace run: .*bpftrace/m, 'the failing node says why');
    const summary = r.stderr.slice(r.stderr.indexOf('fieldtrace run: fleet of 3'));
    assert.match(summary, /^fieldtrace run: fleet of 3, 1 failed$/m);
    assert.match(summary, /^fleet-a\s+yes\s+\d+\s+0\s+stopped$/m);
    assert.match(summary, /^fleet-b\s+yes\s+\d+\s+0\s+stopped$/m);
    assert.match(summary, /^fleet-c\s+no\s+0\s+\d+\s+not started: .*bpftrace/m);
    assert.equal(readdirSync(logs).filter((f) => f.endsWith('.jsonl')).length, 2, 'one log per started node');
    // Stop left no bpftrace behind on any node.
    assert.deepEqual(
      nodes.flatMap((n) => n.sshd.processesNamed('bpftrace')),
      [],
    );

    const files = readdirSync(logs).map((f) => path.join(logs, f));
    const s = await runFieldtrace(['state', '--format', 'json', ...files], { cwd: dir });
    assert.equal(s.code, 0, s.stderr);
    const parsed = JSON.parse(s.stdout) as ListenerState;
    for (const n of nodes.slice(0, 2)) {
      const processes = parsed.processes.filter((p) => p.node === n.alias);
      assert.deepEqual(
        processes.map((p) => p.pid),
        [n.envoy.pid],
        `${n.alias}: only its own envoy (${JSON.stringify(parsed.processes.map((p) => [p.node, p.pid]))})`,
      );
      // Attached after the envoy started: the snapshot at the start knows every listener.
      const ports = processes.flatMap((p) => p.listeners.map((l) => l.port)).sort((x, y) => x - y);
      assert.deepEqual(ports, listeningPorts(n.netns, n.envoy.pid), `${n.alias}: the state is ss -ltnp`);
      const listener = processes[0]?.listeners.find((l) => l.port === n.envoy.ports[0]);
      assert.ok(listener && listener.totalAccepts > 0, `${n.alias}: the accepts of its own envoy`);
    }
  });
});
