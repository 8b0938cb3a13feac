// The reducer on real traces: our listener script run by the real bpftrace (-f json, as root),
// every line through the trace stream parser, against (1) the mini-Envoy in both socket layouts,
// compared with `ss -ltnp` and the admin API of the same run, and (2) an nginx-style program
// whose worker processes inherit the listening socket across fork().
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { ListenerState } from '../../../common/listeners-protocol';
import { directAdminGet, readAdmin } from '../../../core/listeners/admin';
import { ListenerReducer } from '../../../core/listeners/reducer';
import { parseSs } from '../../../core/listeners/snapshot';
import { localRunner } from '../../../core/nodes/commands';
import { listenerTraceEnvironment, listenerTraceScript } from '../../../core/trace/listener-script';
import { SessionLogWriter } from '../../../core/trace/session';
import { TraceStreamParser } from '../../../core/trace/stream-parser';
import { startMiniEnvoy } from '../../targets/mini-envoy';
import { connectAndClose, freePort } from '../../helpers/net';
import { kernelGroups, tracedGroups } from '../../helpers/listener-groups';
import { interrupt, listenerTraceSkip, localBpftraceVersion, waitFor } from '../../helpers/listener-trace';

const skip = listenerTraceSkip();

interface Trace {
  reducer: ListenerReducer;
  /** bpftrace's stdout as it came (`-f json`). */
  raw(): string;
  stderr(): string;
  /** SIGINT, then the last events; once (a test that stops early is stopped again after it). */
  stop(): Promise<{ killed: boolean }>;
}

/** Starts the listener trace for a target process name and feeds the reducer as lines arrive. */
async function startTrace(comm: string, dir: string): Promise<Trace> {
  const file = path.join(dir, 'listener.bt');
  writeFileSync(file, listenerTraceScript({ target: { comm }, bpftraceVersion: localBpftraceVersion! }));
  const child: ChildProcess = spawn('bpftrace', ['-f', 'json', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...listenerTraceEnvironment(localBpftraceVersion!) },
  });
  const parser = new TraceStreamParser({ nodeId: 'local', attachedWhen: 'begin' });
  const reducer = new ListenerReducer();
  const log = new SessionLogWriter(path.join(dir, 'session.jsonl'));
  let attached = false;
  let stderr = '';
  let raw = '';
  const feed = (events: ReturnType<TraceStreamParser['pushStdout']>) => {
    for (const e of events) {
      if (e.type === 'attached') attached = true;
      reducer.apply(e);
      log.append({ sessionId: 'live', nodeId: 'local', event: e });
    }
  };
  child.stdout!.on('data', (c: Buffer) => {
    raw += c.toString();
    feed(parser.pushStdout(c));
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    parser.pushStderr(c);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped: Promise<{ killed: boolean }> | undefined;
  const stop = () =>
    (stopped ??= interrupt(child, exited).then(({ killed }) => {
      feed(parser.end());
      log.close();
      return { killed };
    }));
  try {
    await waitFor('bpftrace to attach', () => (attached ? true : undefined), {
      timeoutMs: 60_000,
      detail: () => stderr,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { reducer, raw: () => raw, stderr: () => stderr, stop };
}

const CONNECTIONS = 40;
const ROOT = path.resolve(__dirname, '../../..');

for (const reusePort of [false, true]) {
  test(
    `mini-Envoy traced for real (${reusePort ? 'reuse-port' : 'shared dup'}) matches ss -ltnp and its admin API`,
    { skip, timeout: 180_000 },
    async (t) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-lst-live-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const trace = await startTrace('envoy', dir);
      t.after(async () => assert.equal((await trace.stop()).killed, false, 'bpftrace ends on SIGINT'));
      const envoy = await startMiniEnvoy({
        reusePort,
        concurrency: 2,
        adminPort: await freePort(),
        listeners: [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`],
      });
      t.after(() => envoy.stop());
      for (let i = 0; i < CONNECTIONS; i++) await connectAndClose(envoy.ports[0]);

      const ss = parseSs(await localRunner(['ss', '-ltnp'])).listeners;
      const ports = [...envoy.ports, envoy.adminPort];
      const expected = new Map(ports.map((p) => [p, kernelGroups(ss, [envoy.pid], p)]));
      for (const [port, groups] of expected) assert.ok(groups.length > 0, `ss shows port ${port}`);
      const state = await waitFor(
        'the traced state to match ss and count every accept',
        () => {
          const s = trace.reducer.state();
          const l = s.processes
            .find((p) => p.pid === envoy.pid)
            ?.listeners.find((x) => x.port === envoy.ports[0]);
          const grouped = ports.every(
            (p) => JSON.stringify(tracedGroups(s, envoy.pid, p)) === JSON.stringify(expected.get(p)),
          );
          return grouped && l?.totalAccepts === CONNECTIONS ? s : undefined;
        },
        {
          timeoutMs: 30_000,
          detail: () =>
            JSON.stringify({
              expected: [...expected],
              traced: ports.map((p) => tracedGroups(trace.reducer.state(), envoy.pid, p)),
              accepts: trace.reducer
                .state()
                .processes.find((p) => p.pid === envoy.pid)
                ?.listeners.map((l) => [l.port, l.totalAccepts, l.accepts.map((a) => [a.name, a.count])]),
              stderr: trace.stderr().slice(-2000),
            }),
        },
      );
      const proc = state.processes.find((p) => p.pid === envoy.pid)!;
      assert.equal(proc.name, 'envoy');
      const main = proc.listeners.find((l) => l.port === envoy.ports[0])!;
      assert.equal(main.layout, reusePort ? 'reuse-port' : 'shared-dup');
      assert.equal(main.sockets.filter((s) => !s.closed).length, reusePort ? 2 : 1);
      const listeners = main.sockets.flatMap((s) =>
        s.fds.filter((f) => f.listening).map((f) => f.listenedBy?.name),
      );
      if (reusePort) {
        // ≥ 1.20: every socket made, bound and listened on the main thread.
        assert.ok(
          listeners.every((n) => n === 'envoy'),
          listeners.join(', '),
        );
        assert.ok(
          main.sockets.every((s) =>
            s.options.some((o) => o.name === 'SOL_SOCKET/SO_REUSEPORT' && o.value === 1),
          ),
        );
        // Each worker drains its own socket: no socket has two accepting workers, no worker two sockets.
        const owners = main.sockets.flatMap((s) => (s.acceptedBy ?? []).map((a) => a.name));
        assert.ok(
          main.sockets.every((s) => (s.acceptedBy?.length ?? 0) <= 1),
          JSON.stringify(main.sockets.map((s) => s.acceptedBy)),
        );
        assert.equal(new Set(owners).size, owners.length);
      } else {
        // ≤ 1.19: bound on main, a dup listened on by each worker.
        assert.deepEqual(listeners.sort(), ['wrk:worker_0', 'wrk:worker_1']);
        assert.equal(main.sockets[0].boundBy?.name, 'envoy');
        const dups = main.sockets[0].fds.filter((f) => f.via === 'dup');
        assert.equal(dups.length, 2);
        assert.ok(dups.every((f) => f.owner?.name.startsWith('wrk:worker_')));
      }
      // Each step carries its user stack.
      const bind = main.timeline.find((s) => s.kind === 'bind')!;
      assert.ok((bind.stack?.length ?? 0) > 2, 'bind has a stack');
      assert.match(bind.stack!.join('\n'), /bind/);
      // Accepts per worker thread add up, and match the admin API's per-worker counters.
      assert.ok(main.accepts.every((a) => /^wrk:worker_\d$/.test(a.name)));
      assert.equal(
        main.accepts.reduce((n, a) => n + a.count, 0),
        CONNECTIONS,
      );
      const report = await readAdmin(directAdminGet('127.0.0.1', envoy.adminPort), {
        label: `127.0.0.1:${envoy.adminPort}`,
        port: envoy.adminPort,
      });
      assert.equal(report.summary.error, undefined);
      trace.reducer.applyAdmin('local', envoy.pid, report);
      const checked = trace.reducer.state().processes.find((p) => p.pid === envoy.pid)!;
      const withAdmin = checked.listeners.find((l) => l.port === envoy.ports[0])!;
      assert.ok(withAdmin.admin, 'admin listener joined by address');
      for (const w of withAdmin.admin.workers) {
        const traced = withAdmin.accepts.find((a) => a.name === `wrk:worker_${w.worker}`)?.count ?? 0;
        assert.equal(traced, w.total, `worker_${w.worker}: traced accepts = admin downstream_cx_total`);
      }
      assert.deepEqual(withAdmin.notes, []);
      assert.deepEqual(checked.notes, [], 'concurrency matches the worker threads');
      const admin = checked.listeners.find((l) => l.port === envoy.adminPort)!;
      assert.equal(admin.layout, 'single', 'the admin listener lives on the main thread alone');
    },
  );
}

const NGINX_C = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* nginx's layout: the master binds and listens, then forks workers that inherit the fd. */
int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(atoi(argv[1]));
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) return 1;
  pid_t kids[2];
  for (int i = 0; i < 2; i++) {
    pid_t p = fork();
    if (p == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      /* Like nginx (which retitles argv, not comm), the workers keep the master's thread name. */
      for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c >= 0) close(c);
      }
    }
    kids[i] = p;
  }
  printf("{\"pid\":%d,\"port\":%d,\"workers\":[%d,%d]}\n", getpid(), ntohs(a.sin_port), kids[0], kids[1]);
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  for (int i = 0; i < 2; i++) kill(kids[i], SIGKILL);
  while (wait(NULL) > 0) {
  }
  return 0;
}
`;

test(
  'nginx-style fork: workers inherit one listening socket (traced for real)',
  { skip, timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-lst-fork-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'master.c'), NGINX_C);
    const binary = path.join(dir, 'ft-master');
    execFileSync('cc', ['-O0', '-g', '-fno-omit-frame-pointer', '-o', binary, path.join(dir, 'master.c')]);
    const trace = await startTrace('ft-master', dir);
    t.after(() => trace.stop());
    const master = spawn(binary, [String(await freePort())], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => {
      master.stdin!.end();
      if (master.exitCode === null) master.kill('SIGKILL');
    });
    let out = '';
    master.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const info = await waitFor(
      'the master ready line',
      () =>
        out.includes('\n')
          ? (JSON.parse(out.slice(0, out.indexOf('\n'))) as { pid: number; port: number; workers: number[] })
          : undefined,
      { timeoutMs: 20_000 },
    );
    for (let i = 0; i < 20; i++) await connectAndClose(info.port);
    const pids = [info.pid, ...info.workers];
    const ss = parseSs(await localRunner(['ss', '-ltnp'])).listeners;
    const expected = kernelGroups(ss, pids, info.port);
    assert.equal(expected.length, 1, 'one socket');
    assert.equal(expected[0].split(' ').length, 3, 'held by the master and both workers');
    const state = await waitFor(
      'the traced state to match ss with 20 accepts',
      () => {
        const s = trace.reducer.state();
        const l = s.processes.find((p) => p.pid === info.pid)?.listeners.find((x) => x.port === info.port);
        return JSON.stringify(tracedGroups(s, info.pid, info.port)) === JSON.stringify(expected) &&
          l?.totalAccepts === 20
          ? s
          : undefined;
      },
      {
        timeoutMs: 30_000,
        detail: () =>
          JSON.stringify({ expected, traced: tracedGroups(trace.reducer.state(), info.pid, info.port) }),
      },
    );
    const l = state.processes.find((p) => p.pid === info.pid)!.listeners.find((x) => x.port === info.port)!;
    assert.equal(l.layout, 'inherited');
    assert.deepEqual(
      l.sockets[0].pids,
      [...pids].sort((a, b) => a - b),
    );
    assert.deepEqual(l.sockets[0].fds.map((f) => f.via).sort(), ['fork', 'fork', 'socket']);
    assert.deepEqual(
      l.sockets[0].options.map((o) => o.name),
      ['SOL_SOCKET/SO_REUSEADDR'],
    );
    // Accepts come from the worker processes only, never from the master.
    assert.ok(
      l.accepts.every((a) => info.workers.includes(a.pid) && a.tid === a.pid && a.name === 'ft-master'),
      JSON.stringify(l.accepts),
    );
    for (const w of info.workers) {
      const child = state.processes.find((p) => p.pid === w)!;
      assert.equal(child.parentPid, info.pid);
      assert.equal(child.listeners.find((x) => x.port === info.port)?.layout, 'inherited');
    }

    // The same run saved two ways, replayed by `fieldtrace state`: the same grouping and accepts.
    assert.equal((await trace.stop()).killed, false, 'bpftrace ends on SIGINT');
    const rawFile = path.join(dir, 'bpftrace.json');
    writeFileSync(rawFile, trace.raw());
    for (const file of [rawFile, path.join(dir, 'session.jsonl')]) {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), 'state', '--format', 'json', file],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const replayed = JSON.parse(r.stdout) as ListenerState;
      assert.deepEqual(tracedGroups(replayed, info.pid, info.port), expected, file);
      const again = replayed.processes
        .find((p) => p.pid === info.pid)!
        .listeners.find((x) => x.port === info.port)!;
      assert.equal(again.layout, 'inherited', file);
      assert.equal(again.totalAccepts, 20, file);
    }
  },
);
