// The built-in listener trace as users run it: through our runner over a real sshd with
// real bpftrace, against the mini-Envoy (clang/libc++ build, dup-per-worker layout), again in
// reuse-port mode, and once inside a network namespace of its own. One trace session follows
// every process named `envoy` for all three.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BindEvent, DupEvent, ListenEvent, SetsockoptEvent, TraceEvent } from '../../../common/events';
import { probeNode } from '../../../core/nodes/probe';
import { connectSsh, type SshConnection } from '../../../core/ssh/client';
import { listenerTraceScript } from '../../../core/trace/listener-script';
import { TraceSession } from '../../../core/trace/session';
import { TraceStreamParser } from '../../../core/trace/stream-parser';
import { buildMiniEnvoy, type MiniEnvoy, startMiniEnvoy } from '../../targets/mini-envoy';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { connectAndClose, freePorts } from '../../helpers/net';
import { acceptsOf, acceptTotals } from '../../helpers/listener-trace';

const usable = (() => {
  const have = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const ok = process.getuid?.() === 0 && have('bpftrace') && have('clang++') && have('ip');
  if (!ok && process.env.CI === 'true')
    throw new Error('bpftrace, clang++ or ip missing (or not root) and CI=true');
  return ok && sshdAvailable();
})();

const CONNECTIONS = 200;

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stats(envoy: MiniEnvoy): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${envoy.adminPort}/stats?format=json`);
  const body = (await res.json()) as { stats: { name: string; value: number }[] };
  return new Map(body.stats.map((s) => [s.name, s.value]));
}

describe('listener trace over SSH against the mini-Envoy', { skip: !usable }, () => {
  let sshd: SshdHarness;
  let conn: SshConnection;
  let session: TraceSession;
  const events: TraceEvent[] = [];
  const targets: MiniEnvoy[] = [];
  let netns: string | undefined;

  const of = <T extends TraceEvent['type']>(type: T, pid: number) =>
    events.filter((e) => e.type === type && (e as { pid?: number }).pid === pid) as Extract<
      TraceEvent,
      { type: T }
    >[];

  before(async () => {
    const binaries = await buildMiniEnvoy();
    assert.ok(binaries.clang);
    sshd = await startSshd();
    conn = await connectSsh(sshd.alias, {
      env: sshd.env,
      callbacks: { confirmUnknownHostKey: async () => false },
    });
    const probe = await probeNode(conn);
    session = await TraceSession.start({
      transport: conn,
      probe,
      script: listenerTraceScript({
        target: { comm: 'envoy' },
        bpftraceVersion: probe.bpftraceVersion ?? '0.17',
        withStacks: true,
      }),
      scriptName: 'listeners.bt',
      logDir: path.join(sshd.dir, 'logs'),
      // `attached_probes` comes before the probes are attached; the script's BEGIN comes after.
      parser: new TraceStreamParser({ nodeId: sshd.alias, attachedWhen: 'begin' }),
      onEvent: (e) => events.push(e.event),
    });
    await waitFor('attached_probes', () => events.some((e) => e.type === 'attached'), 30_000);
  });

  after(async () => {
    for (const t of targets) await t.stop(2000).catch(() => undefined);
    if (session?.running) await session.stop();
    conn?.close();
    if (netns) execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    await sshd?.stop();
  });

  it('dup per worker (clang/libc++): binds on main, dup+listen on each worker, SO_REUSEADDR, accepts per worker', async () => {
    const [admin, p1, p2] = await freePorts(3);
    const envoy = await startMiniEnvoy({
      binary: (await buildMiniEnvoy()).clang,
      concurrency: 2,
      adminPort: admin,
      listeners: [`127.0.0.1:${p1}`, `127.0.0.1:${p2}`],
    });
    targets.push(envoy);
    for (let i = 0; i < CONNECTIONS; i++)
      await connectAndClose(envoy.ports[i % envoy.ports.length] as number);
    // Accepts are counted in the kernel: the first of each (thread, fd) is an event with its
    // stack, the rest arrive as running totals.
    await waitFor(`${CONNECTIONS} accepts`, () => acceptsOf(events, envoy.pid) >= CONNECTIONS).catch(
      (error: Error) => {
        const mine = events.filter((e) => (e as { pid?: number }).pid === envoy.pid).map((e) => e.type);
        throw new Error(
          `${error.message}: got ${acceptsOf(events, envoy.pid)}; events of pid ${envoy.pid}: ${mine.join(' ')}`,
        );
      },
    );
    const counters = await stats(envoy);

    const binds = of('bind', envoy.pid) as BindEvent[];
    for (const port of [envoy.adminPort, ...envoy.ports]) {
      const b = binds.find((x) => x.address.port === port);
      assert.ok(b, `bind of port ${port} traced`);
      assert.equal(b.tid, envoy.pid, `port ${port} bound on the main thread`);
      assert.equal(b.comm, 'envoy');
    }
    const reuse = (of('setsockopt', envoy.pid) as SetsockoptEvent[]).filter(
      (s) => s.level === 1 && s.optname === 2,
    );
    assert.ok(
      reuse.length >= envoy.ports.length && reuse.every((s) => s.value === 1),
      'SO_REUSEADDR=1 on every listener',
    );

    // Each worker dup()s each listener's fd and listens on the copy.
    const listenerFds = envoy.ports.map((port) => binds.find((b) => b.address.port === port)?.fd);
    const dups = of('dup', envoy.pid) as DupEvent[];
    const listens = of('listen', envoy.pid) as ListenEvent[];
    const workerOfFd = new Map<number, { worker: string; port: number }>();
    for (let w = 0; w < envoy.concurrency; w++) {
      const name = `wrk:worker_${w}`;
      envoy.ports.forEach((port, i) => {
        const d = dups.find((x) => x.comm === name && x.oldFd === listenerFds[i]);
        assert.ok(d, `${name} dup()s the fd of port ${port}`);
        assert.ok(
          listens.some((l) => l.comm === name && l.fd === d.newFd),
          `${name} listens on its copy of port ${port}`,
        );
        workerOfFd.set(d.newFd, { worker: name, port });
      });
    }
    // Every accept is attributed to the worker thread that made it: the kernel chooses the
    // spread, the target's own per-worker counters are the reference.
    // The admin listener's accepts (our /stats request) happen on the main thread.
    const adminFd = binds.find((b) => b.address.port === envoy.adminPort)?.fd;
    await waitFor('the admin accept', () =>
      acceptTotals(events, envoy.pid).some((a) => a.listenFd === adminFd),
    );
    await envoy.stop();
    const totals = acceptTotals(events, envoy.pid);
    assert.ok(totals.filter((a) => a.listenFd === adminFd).every((a) => a.tid === envoy.pid));
    const all = totals.filter((a) => a.listenFd !== adminFd);
    assert.equal(
      all.reduce((sum, a) => sum + a.total, 0),
      CONNECTIONS,
    );
    for (const a of all) {
      const owner = workerOfFd.get(a.listenFd);
      assert.ok(owner, `accept on fd ${a.listenFd} is on a worker's listening fd`);
      assert.equal(a.comm, owner.worker, 'accepted by the worker that listens on that fd');
      assert.notEqual(a.tid, envoy.pid);
      assert.ok(a.stack?.length, `the first accept of ${a.comm} on fd ${a.listenFd} has its stack`);
    }
    for (let w = 0; w < envoy.concurrency; w++)
      envoy.listeners.forEach((l) => {
        const key = [...counters.keys()].find(
          (k) => k.endsWith(`worker_${w}.downstream_cx_total`) && k.includes(`${l.port}`),
        );
        const expected = key ? counters.get(key) : undefined;
        const traced = all
          .filter(
            (a) =>
              workerOfFd.get(a.listenFd)?.worker === `wrk:worker_${w}` &&
              workerOfFd.get(a.listenFd)?.port === l.port,
          )
          .reduce((sum, a) => sum + a.total, 0);
        assert.equal(traced, expected, `worker_${w} on ${l.port}: traced accepts vs its downstream_cx_total`);
      });

    const bindStack = binds.find((b) => b.address.port === envoy.ports[0])?.stack?.join('\n') ?? '';
    assert.match(bindStack, /Envoy::Network::IoSocketHandleImpl::bind/);
    assert.match(bindStack, /Envoy::Server::ListenerManagerImpl::addOrUpdateListener/);
    const workerListen = listens.find((l) => l.comm === 'wrk:worker_0')?.stack?.join('\n') ?? '';
    assert.match(workerListen, /Envoy::Network::IoSocketHandleImpl::listen/);
    assert.match(workerListen, /\$_\d+::__invoke|std::__1::/, 'clang/libc++ frames in worker stacks');
  });

  it('reuse-port: the main thread makes one socket per worker; each worker accepts on its own', async () => {
    const [admin, port] = await freePorts(2);
    const envoy = await startMiniEnvoy({
      reusePort: true,
      concurrency: 2,
      adminPort: admin,
      listeners: [`127.0.0.1:${port}`],
    });
    targets.push(envoy);
    const n = 40;
    for (let i = 0; i < n; i++) await connectAndClose(envoy.ports[0] as number);
    await waitFor(`${n} accepts`, () => acceptsOf(events, envoy.pid) >= n);
    await envoy.stop();
    const binds = (of('bind', envoy.pid) as BindEvent[]).filter((b) => b.address.port === envoy.ports[0]);
    assert.equal(binds.length, envoy.concurrency, 'one bound socket per worker');
    assert.ok(binds.every((b) => b.tid === envoy.pid));
    const reusePort = (of('setsockopt', envoy.pid) as SetsockoptEvent[]).filter(
      (s) => s.level === 1 && s.optname === 15,
    );
    assert.ok(reusePort.length >= envoy.concurrency, 'SO_REUSEPORT set');
    const accepts = acceptTotals(events, envoy.pid);
    assert.equal(
      accepts.reduce((sum, a) => sum + a.total, 0),
      n,
    );
    assert.ok(accepts.every((a) => /^wrk:worker_\d+$/.test(a.comm)));
    // Each worker accepts on its own socket, and only on it.
    const acceptorsOfFd = new Map<number, Set<string>>();
    for (const a of accepts) {
      assert.ok(
        binds.some((b) => b.fd === a.listenFd),
        `accept on fd ${a.listenFd} is on one of the bound sockets`,
      );
      acceptorsOfFd.set(a.listenFd, (acceptorsOfFd.get(a.listenFd) ?? new Set()).add(a.comm));
    }
    assert.ok(
      [...acceptorsOfFd.values()].every((workers) => workers.size === 1),
      'one worker per reuse-port socket',
    );
  });

  it('a mini-Envoy inside its own network namespace is traced the same way', async () => {
    netns = `ft-${randomBytes(3).toString('hex')}`;
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const envoy = await startMiniEnvoy({
      prefix: ['ip', 'netns', 'exec', netns],
      concurrency: 2,
      adminPort: 9901,
      listeners: ['127.0.0.1:10000'],
    });
    targets.push(envoy);
    const n = 20;
    // The client lives in the namespace too, as a pod's traffic does.
    execFileSync('ip', [
      'netns',
      'exec',
      netns,
      'bash',
      '-c',
      'for i in $(seq "$2"); do exec 3<>"/dev/tcp/127.0.0.1/$1" && exec 3>&-; done',
      'bash',
      String(envoy.ports[0]),
      String(n),
    ]);
    await waitFor(`${n} accepts in the namespace`, () => acceptsOf(events, envoy.pid) >= n).catch(
      (error: Error) => {
        throw new Error(
          `${error.message}: events of pid ${envoy.pid}: ${events
            .filter((e) => (e as { pid?: number }).pid === envoy.pid)
            .map((e) => e.type)
            .join(' ')}`,
        );
      },
    );
    await envoy.stop();
    assert.ok(
      (of('bind', envoy.pid) as BindEvent[]).some(
        (b) => b.address.port === envoy.ports[0] && b.tid === envoy.pid,
      ),
    );
    assert.equal(acceptsOf(events, envoy.pid), n);
    assert.ok(acceptTotals(events, envoy.pid).every((a) => a.comm.startsWith('wrk:worker_')));
  });

  it('stops cleanly: maps printed, no bpftrace of ours left on the node', async () => {
    const result = await session.stop();
    assert.deepEqual(result.remaining, []);
    assert.equal(events.at(-1)?.type, 'ended');
  });
});
