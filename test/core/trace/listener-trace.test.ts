// The listener trace against the real thing: our generated script run by the real bpftrace
// (-f json, as root), the real mini-Envoy in both socket layouts and from both compilers, 200
// real loopback connections, every line through the product stream parser.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type {
  AcceptCountEvent,
  AcceptEvent,
  BindEvent,
  DupEvent,
  ListenEvent,
  SetsockoptEvent,
  SyscallEvent,
  TraceEvent,
} from '../../../common/events';
import { isSyscallEvent } from '../../../common/events';
import { listenerTraceEnvironment, listenerTraceScript } from '../../../core/trace/listener-script';
import { TraceStreamParser } from '../../../core/trace/stream-parser';
import {
  buildMiniEnvoy,
  startMiniEnvoy,
  type MiniEnvoy,
  type MiniEnvoyBinaries,
} from '../../targets/mini-envoy';
import { connectAndClose, freePort } from '../../helpers/net';
import { interrupt, listenerTraceSkip, localBpftraceVersion, waitFor } from '../../helpers/listener-trace';

const CONNECTIONS = 200;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;

const version = localBpftraceVersion;
const skip = listenerTraceSkip();

interface AdminStat {
  name: string;
  value: number;
}

async function workerAcceptCounts(envoy: MiniEnvoy): Promise<Map<string, number>> {
  const filter = encodeURIComponent('^listener\\..*worker_\\d+\\.downstream_cx_total$');
  const response = await fetch(`http://127.0.0.1:${envoy.adminPort}/stats?format=json&filter=${filter}`);
  const { stats } = (await response.json()) as { stats: AdminStat[] };
  const perWorker = new Map<string, number>();
  for (const s of stats) {
    const worker = /\.(worker_\d+)\.downstream_cx_total$/.exec(s.name)![1];
    perWorker.set(worker, (perWorker.get(worker) ?? 0) + s.value);
  }
  return perWorker;
}

class BpftraceRun {
  readonly events: TraceEvent[] = [];
  readonly child: ChildProcess;
  private readonly parser = new TraceStreamParser({ nodeId: 'local', attachedWhen: 'begin' });
  private readonly dir: string;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(script: string, env: Record<string, string>) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-listener-'));
    const file = path.join(this.dir, 'listener.bt');
    writeFileSync(file, script);
    this.child = spawn('bpftrace', ['-f', 'json', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.events.push(...this.parser.pushStdout(chunk)));
    this.child.stderr!.on('data', (chunk: Buffer) => this.events.push(...this.parser.pushStderr(chunk)));
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.events.push(...this.parser.end());
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  syscalls(pid: number): SyscallEvent[] {
    return this.events.filter((e): e is SyscallEvent => isSyscallEvent(e) && e.pid === pid);
  }

  errors(): string[] {
    return this.events
      .filter((e) => e.type === 'diagnostic' && e.severity === 'error')
      .map((e) => JSON.stringify(e));
  }

  async attached(): Promise<void> {
    await waitFor(
      'bpftrace to attach',
      () =>
        this.events.some((e) => e.type === 'attached')
          ? true
          : this.exit
            ? (() => {
                throw new Error(`bpftrace exited: ${this.errors().join('\n')}`);
              })()
            : undefined,
      { timeoutMs: 30_000, detail: () => this.events.map((e) => JSON.stringify(e)).join('\n') },
    );
  }

  /** Stops bpftrace with SIGINT (see interrupt()) and says how its exit went. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; ms: number }> {
    const { killed, ms } = await interrupt(this.child, this.exited);
    rmSync(this.dir, { recursive: true, force: true });
    return { ...this.exit!, killed, ms };
  }
}

function has(stack: string[] | undefined, fragment: string): boolean {
  return (stack ?? []).some((frame) => frame.includes(fragment));
}

async function stopAndCheck(trace: BpftraceRun): Promise<void> {
  const pid = trace.child.pid!;
  const { code, killed, ms } = await trace.stop();
  if (ms > 5000) console.log(`# bpftrace took ${Math.round(ms)} ms to exit after SIGINT`);
  assert.equal(killed, false, `bpftrace stopped on SIGINT (killed after ${Math.round(ms)} ms)`);
  assert.equal(code, 0, `bpftrace exit code after SIGINT; errors: ${trace.errors().join('\n')}`);
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'no bpftrace process left');
}

describe('listener trace: real bpftrace, real mini-Envoy', { skip }, () => {
  let binaries: MiniEnvoyBinaries;

  before(async () => {
    binaries = await buildMiniEnvoy();
  });

  for (const compiler of ['gcc', 'clang'] as const) {
    for (const reusePort of [false, true]) {
      it(`${compiler} build, ${reusePort ? 'reuse-port layout (>= 1.20)' : 'dup per worker (<= 1.19)'}`, async (t) => {
        // One bpftrace per target: 0.17 caches symbols per executable path, so a second process of
        // the same binary (another ASLR layout) would get the first one's symbols.
        const trace = new BpftraceRun(
          listenerTraceScript({
            target: { comm: 'envoy' },
            bpftraceVersion: version ?? '0.17',
            withStacks: true,
          }),
          listenerTraceEnvironment(version ?? '0.17'),
        );
        let stopped = false;
        t.after(async () => {
          if (!stopped) await trace.stop();
        });
        await trace.attached();
        const v4Port = await freePort('127.0.0.1');
        const v6Port = await freePort('::1');
        const adminPort = await freePort('127.0.0.1');
        const envoy = await startMiniEnvoy({
          binary: binaries[compiler],
          reusePort,
          concurrency: 2,
          adminPort,
          listeners: [`127.0.0.1:${v4Port}`, `[::1]:${v6Port}`],
        });
        t.after(() => envoy.stop());
        const pid = envoy.pid;
        const mine = () => trace.syscalls(pid);
        const ofType = <T extends SyscallEvent>(type: T['type']) =>
          mine().filter((e): e is T => e.type === type);

        // Threads and their names.
        const names = await waitFor(
          'both workers to be named',
          () => {
            const named = new Map<number, string>();
            for (const e of mine()) if (e.type === 'thread-name') named.set(e.tid, e.name);
            return [...named.values()].filter((n) => n.startsWith('wrk:worker_')).length === 2
              ? named
              : undefined;
          },
          { timeoutMs: 10_000 },
        );
        const workers = new Map([...names].filter(([, n]) => n.startsWith('wrk:worker_')));
        const workerTids = new Set(workers.keys());

        // Wait for the setup to be traced (listen on every worker or main socket) before connecting,
        // so that the expectations below are about a complete trace.
        const listensExpected = reusePort ? 2 * 2 + 1 : 2 * 2 + 1;
        await waitFor(
          'every listen()',
          () => (ofType<ListenEvent>('listen').length >= listensExpected ? true : undefined),
          { timeoutMs: 10_000 },
        );

        const binds = ofType<BindEvent>('bind');
        const boundFd = new Map<number, number[]>();
        for (const port of [v4Port, v6Port, adminPort]) {
          const forPort = binds.filter((b) => b.address.port === port);
          assert.equal(forPort.length, reusePort && port !== adminPort ? 2 : 1, `binds of port ${port}`);
          for (const b of forPort) {
            assert.equal(b.tid, pid, `bind of ${port} on the main thread`);
            assert.equal(b.comm, 'envoy');
            assert.equal(b.result, 0);
            assert.ok(
              has(b.stack, 'Envoy::Network::IoSocketHandleImpl::bind'),
              `bind stack: ${b.stack?.join(' | ')}`,
            );
            assert.ok(has(b.stack, 'Envoy::Network::ListenSocketImpl::setupSocket'));
          }
          boundFd.set(
            port,
            forPort.map((b) => b.fd),
          );
        }
        assert.equal(binds.find((b) => b.address.port === v6Port)?.address.family, 'inet6');
        assert.equal(binds.find((b) => b.address.port === v6Port)?.address.address, '::1');
        assert.ok(
          has(
            binds.find((b) => b.address.port === v4Port)?.stack,
            'Envoy::Server::ListenerManagerImpl::addOrUpdateListener',
          ),
        );

        const opts = ofType<SetsockoptEvent>('setsockopt');
        for (const fd of [...boundFd.values()].flat()) {
          assert.ok(
            opts.some(
              (o) =>
                o.fd === fd &&
                o.level === SOL_SOCKET &&
                o.optname === SO_REUSEADDR &&
                o.value === 1 &&
                o.tid === pid,
            ),
            `SO_REUSEADDR on fd ${fd}`,
          );
          if (reusePort && !boundFd.get(adminPort)!.includes(fd)) {
            assert.ok(
              opts.some((o) => o.fd === fd && o.optname === SO_REUSEPORT && o.value === 1),
              `SO_REUSEPORT on fd ${fd}`,
            );
          }
        }

        const listens = ofType<ListenEvent>('listen');
        const dups = ofType<DupEvent>('dup');
        const dupsOf = (fd: number) => dups.filter((d) => d.oldFd === fd).map((d) => d.newFd);
        const adminFd = boundFd.get(adminPort)![0];
        assert.ok(
          listens.some((l) => l.fd === adminFd && l.tid === pid),
          'admin listens on the main thread',
        );
        // Which listen fd belongs to which worker: from the trace alone.
        const fdOwner = new Map<number, number>();
        if (!reusePort) {
          for (const port of [v4Port, v6Port]) {
            const [fd] = boundFd.get(port)!;
            assert.ok(
              !listens.some((l) => l.fd === fd),
              `the main thread never listens on the shared fd ${fd}`,
            );
            for (const tid of workerTids) {
              const dup = dups.find((d) => d.tid === tid && d.oldFd === fd);
              assert.ok(dup, `worker ${workers.get(tid)} dups fd ${fd}`);
              assert.equal(dup.via, 'dup');
              assert.equal(dup.comm, workers.get(tid));
              assert.ok(
                has(dup.stack, 'Envoy::Network::IoSocketHandleImpl::duplicate'),
                `dup stack: ${dup.stack?.join(' | ')}`,
              );
              assert.ok(has(dup.stack, 'Envoy::Server::WorkerImpl::threadRoutine'));
              const listen = listens.find((l) => l.fd === dup.newFd && l.tid === tid);
              assert.ok(listen, `worker ${workers.get(tid)} listens on its dup ${dup.newFd}`);
              assert.equal(listen.result, 0);
              assert.ok(has(listen.stack, 'Envoy::Network::TcpListenerImpl::setupServerSocket'));
              assert.ok(has(listen.stack, 'Envoy::Server::ConnectionHandlerImpl::addListener'));
              fdOwner.set(dup.newFd, tid);
            }
          }
        } else {
          assert.ok(!dups.some((d) => workerTids.has(d.tid)), 'no dup on the workers with reuse-port');
          for (const port of [v4Port, v6Port]) {
            for (const fd of boundFd.get(port)!) {
              const listen = listens.find((l) => l.fd === fd);
              assert.ok(listen, `fd ${fd} listens`);
              assert.equal(listen.tid, pid, 'reuse-port sockets listen on the main thread');
            }
          }
        }

        // 200 connections, spread over both listeners and both families.
        const v4Count = 120;
        for (let i = 0; i < CONNECTIONS; i += 20) {
          await Promise.all(
            Array.from({ length: 20 }, (_, k) =>
              i + k < v4Count ? connectAndClose(v4Port, '127.0.0.1') : connectAndClose(v6Port, '::1'),
            ),
          );
        }
        const listenerFds = new Set(
          reusePort ? [...boundFd.get(v4Port)!, ...boundFd.get(v6Port)!] : [...fdOwner.keys()],
        );
        // Accepts are counted in the kernel: running totals per (thread, listening fd).
        const totals = () => {
          const latest = new Map<string, { tid: number; fd: number; total: number }>();
          for (const e of ofType<AcceptCountEvent>('accepts'))
            if (listenerFds.has(e.listenFd))
              latest.set(`${e.tid},${e.listenFd}`, { tid: e.tid, fd: e.listenFd, total: e.total });
          return [...latest.values()];
        };
        const sum = (list: { total: number }[]) => list.reduce((n, x) => n + x.total, 0);
        await waitFor(
          `${CONNECTIONS} accepts in the interval totals`,
          () => (sum(totals()) >= CONNECTIONS ? true : undefined),
          { timeoutMs: 20_000, detail: () => JSON.stringify(totals()) },
        );
        // The admin's counters are the target's own view of who accepted what.
        const adminCounts = await workerAcceptCounts(envoy);
        const { code } = await envoy.stop();
        assert.equal(code, 0, 'target exits cleanly on SIGTERM');
        stopped = true;
        await stopAndCheck(trace);
        const optsAfter = ofType<SetsockoptEvent>('setsockopt');
        // END printed every total once more: the last word per (thread, fd).
        const final = totals();
        assert.equal(sum(final), CONNECTIONS, 'total accepts');
        const v4Fds = new Set(boundFd.get(v4Port)!.flatMap((fd) => [fd, ...dupsOf(fd)]));
        assert.equal(sum(final.filter((x) => v4Fds.has(x.fd))), v4Count, 'accepts on the IPv4 listener');
        const byWorker = new Map<string, number>();
        for (const x of final) {
          assert.ok(workerTids.has(x.tid), `accepts on a worker thread, not ${x.tid}`);
          if (!reusePort) assert.equal(fdOwner.get(x.fd), x.tid, `fd ${x.fd} accepted on by its own worker`);
          const name = workers.get(x.tid)!.slice('wrk:'.length);
          byWorker.set(name, (byWorker.get(name) ?? 0) + x.total);
        }
        assert.deepEqual(
          [...byWorker].sort(),
          [...adminCounts].filter(([, n]) => n > 0).sort(),
          'per-worker accepts in the trace = the target admin per-worker counters',
        );
        // One line per (thread, fd) at its first accept, naming the thread; nothing per connection.
        const accepts = ofType<AcceptEvent>('accept').filter((e) => listenerFds.has(e.listenFd));
        assert.deepEqual(
          accepts.map((a) => `${a.tid},${a.listenFd}`).sort(),
          final.map((x) => `${x.tid},${x.fd}`).sort(),
          'one first-accept line per accepting thread and fd',
        );
        for (const a of accepts) assert.equal(a.comm, workers.get(a.tid), 'the event names the thread');
        assert.ok(
          !optsAfter.some((o) => o.level === IPPROTO_TCP && o.optname === TCP_NODELAY),
          'the TCP_NODELAY of each accepted connection stays in the kernel',
        );

        // Stacks look like Envoy's: named frames, and clang's lambda thunks and libc++ frames.
        const sample = accepts[0];
        assert.ok(
          has(sample.stack, 'Envoy::Network::TcpListenerImpl::onSocketEvent'),
          `accept stack: ${sample.stack?.join(' | ')}`,
        );
        assert.ok(has(sample.stack, 'Envoy::Event::FileEventImpl::assignEvents'));
        assert.ok(has(sample.stack, 'event_base_loop'));
        if (compiler === 'clang') {
          assert.ok(
            sample.stack!.some((f) => /\$_\d+::__invoke/.test(f)),
            'clang $_N::__invoke lambda thunk',
          );
          assert.ok(has(sample.stack, 'std::__1::'), 'libc++ frames');
        } else {
          assert.ok(has(sample.stack, '{lambda('), 'g++ lambda frames');
        }
        assert.deepEqual(trace.errors(), [], 'no bpftrace errors');
      });
    }
  }
});
