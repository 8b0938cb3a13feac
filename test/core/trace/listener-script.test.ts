import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { BindEvent, DupEvent } from '../../../common/events';
import { listenerTraceEnvironment, listenerTraceScript } from '../../../core/trace/listener-script';
import { TraceStreamParser } from '../../../core/trace/stream-parser';
import { analyze } from '../../../server/analysis/analyzer';
import { Dialect } from '../../../server/analysis/dialects';
import { bundledCatalog } from '../../../server/catalog/catalog';
import { localBpftraceVersion, traceListeners, untilEvents } from '../../helpers/listener-trace';

describe('listenerTraceScript', () => {
  it('has no error in the language rules of the version it is written for (0.17 to main)', () => {
    // Only 0.17 runs here; the other versions' rules are the language server's (from their source).
    const catalog = bundledCatalog();
    const found: string[] = [];
    for (const version of ['0.17', '0.20', '0.21', '0.22', '0.23', '0.24', '0.25', '0.26', 'main'])
      for (const target of [{ comm: 'envoy' }, { pid: 1 }, { cgroupId: 1, comm: 'envoy' }])
        for (const withStacks of [true, false]) {
          const text = listenerTraceScript({
            target,
            runningPids: [1, 2],
            knownListeners: [{ pid: 1, fd: 3 }],
            bpftraceVersion: version === 'main' ? '0.27' : version,
            withStacks,
          });
          for (const d of analyze(text, new Dialect(version), catalog).diagnostics)
            if (d.severity === 'error') found.push(`${version} ${JSON.stringify(target)}: ${d.message}`);
        }
    assert.deepEqual(found, []);
  });

  it('speaks the dialect of the node bpftrace', () => {
    const v17 = listenerTraceScript({ target: { pid: 42 }, bpftraceVersion: 'bpftrace v0.17.0' });
    assert.match(v17, /args->fd/);
    assert.doesNotMatch(v17, /args\.fd/);
    assert.match(v17, /delete\(@ft_in\[tid\]\)/);
    assert.doesNotMatch(v17, /config = \{/);
    const v19 = listenerTraceScript({ target: { pid: 42 }, bpftraceVersion: '0.19' });
    assert.match(v19, /args\.fd/);
    assert.doesNotMatch(v19, /args->/);
    const v22 = listenerTraceScript({ target: { pid: 42 }, bpftraceVersion: 'v0.22.1' });
    assert.match(v22, /delete\(@ft_in, tid\)/);
    assert.match(v22, /delete\(@ft_sk, \(pid, @ft_a0\[tid\]\)\)/);
    assert.match(v22, /config = \{\n {2}cache_user_symbols = "PER_PID";/);
    assert.deepEqual(listenerTraceEnvironment('0.17'), {
      BPFTRACE_CACHE_USER_SYMBOLS: '1',
      BPFTRACE_MAP_KEYS_MAX: '65536',
      BPFTRACE_MAX_MAP_KEYS: '65536',
    });
    assert.match(v22, /max_map_keys = 65536;/);
    assert.deepEqual(listenerTraceEnvironment('0.21.2'), {});
  });

  it('selects the process by pid, cgroup, or by the name of its main thread then its pid', () => {
    const byPid = listenerTraceScript({ target: { pid: 42 }, bpftraceVersion: '0.17' });
    assert.match(byPid, /\/pid == 42\//);
    assert.doesNotMatch(byPid, /comm ==/);
    const byComm = listenerTraceScript({ target: { comm: 'envoy' }, bpftraceVersion: '0.17' });
    assert.match(byComm, /@ft_pid\[pid\] == 1 \|\| \(tid == pid && comm == "envoy"\)/);
    assert.match(
      byComm,
      /tracepoint:sched:sched_process_exec \/comm == "envoy"\/ \{\n {2}@ft_pid\[pid\] = 1;/,
    );
    const byCgroup = listenerTraceScript({ target: { cgroupId: 7, comm: 'envoy' }, bpftraceVersion: '0.17' });
    assert.match(byCgroup, /cgroup == 7 && \(@ft_pid\[pid\] == 1/);
    // Processes of the name already running are adopted at BEGIN; a pid target needs none.
    const adopted = listenerTraceScript({
      target: { comm: 'envoy' },
      runningPids: [41, 42],
      bpftraceVersion: '0.17',
    });
    assert.match(adopted, /BEGIN \{\n {2}@ft_pid\[\(uint64\)41\] = 1;\n {2}@ft_pid\[\(uint64\)42\] = 1;/);
    assert.doesNotMatch(
      listenerTraceScript({ target: { pid: 41 }, runningPids: [41], bpftraceVersion: '0.17' }),
      /@ft_pid\[\(uint64\)41\]/,
    );
    assert.throws(
      () => listenerTraceScript({ target: { comm: 'envoy' }, runningPids: [-1], bpftraceVersion: '0.17' }),
      /positive integer/,
    );
    assert.doesNotMatch(
      listenerTraceScript({ target: { pid: 1 }, bpftraceVersion: '0.17', withStacks: false }),
      /, ustack\)/,
    );
  });

  it('refuses targets it cannot express safely, with a reason', () => {
    const make =
      (target: object, bpftraceVersion = '0.17') =>
      () =>
        listenerTraceScript({ target, bpftraceVersion });
    assert.throws(make({}), /needs a target/);
    assert.throws(make({ comm: 'a"b' }), /quote/);
    assert.throws(make({ comm: 'x\\n' }), /backslash/);
    assert.throws(make({ comm: 'sixteen-chars-xx' }), /longer than 15 bytes/);
    assert.throws(make({ pid: -3 }), /positive integer/);
    assert.throws(make({ pid: 1.5 }), /positive integer/);
    assert.throws(make({ pid: 1 }, 'latest'), /cannot read a bpftrace version/);
  });
});

const version = localBpftraceVersion;
const skipReal =
  process.env.CI !== 'true' && (process.getuid?.() !== 0 || !version) ? 'needs root and bpftrace' : false;

/** Listens on a loopback port, dup2()s the socket to fd 7 and fcntl(F_DUPFD)s that, dups a pipe. */
const DUPS_C = `
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  char buf[8];
  if (read(0, buf, sizeof buf) <= 0) return 1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) return 1;
  int p[2];
  if (pipe(p) != 0) return 1;
  dup(p[0]);
  int seven = dup2(fd, 7);
  int high = fcntl(seven, F_DUPFD, 10);
  printf("%d %d %d\\n", fd, seven, high);
  fflush(stdout);
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
`;

function waitingChild(t: TestContext, command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  return child;
}

describe('listener trace script on real bpftrace', { skip: skipReal }, () => {
  it('bpftrace -d accepts every variant without an error or a warning', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-script-'));
    try {
      for (const target of [{ comm: 'envoy' }, { pid: 1 }, { cgroupId: 1 }, { cgroupId: 1, comm: 'envoy' }]) {
        for (const withStacks of [true, false]) {
          const file = path.join(dir, 'l.bt');
          writeFileSync(
            file,
            listenerTraceScript({
              target,
              runningPids: [1, 2],
              bpftraceVersion: version ?? '0.17',
              withStacks,
            }),
          );
          const r = spawnSync('bpftrace', ['-d', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          const parser = new TraceStreamParser();
          const diagnostics = [...parser.pushStderr(r.stderr), ...parser.end()].filter(
            (e) => e.type === 'diagnostic' && (e.severity === 'error' || e.file !== undefined),
          );
          assert.deepEqual(diagnostics, [], `${JSON.stringify(target)} stacks=${withStacks}`);
          assert.equal(r.status, 0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the dups of fds that are no listening socket in the kernel (a shell dups its stdio)', async (t) => {
    // bash duplicates fd 2 with dup2 for `7>&2` and with fcntl(F_DUPFD, 10) for `{fd}>&2`.
    // Then it forks /bin/true: lines come out in order, so once the fork's line is here, a dup's
    // would be too.
    const bash = waitingChild(t, 'bash', [
      '-c',
      'read x; exec 7>&2; exec {y}>&2; /bin/true; echo "$y"; read z',
    ]);
    const events = await traceListeners(t, { target: { pid: bash.pid! } });
    let printed = '';
    bash.stdout!.setEncoding('utf8').on('data', (c: string) => (printed += c));
    bash.stdin!.write('go\n');
    await untilEvents('bash to dup', () => printed.endsWith('\n'), events);
    await untilEvents('the fork after the dups', () => events.some((e) => e.type === 'spawn'), events);
    assert.deepEqual(
      events.filter((e) => e.type === 'dup'),
      [],
    );
  });

  it('traces dup2 and fcntl(F_DUPFD) of a listening socket, with stacks', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-dups-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'dups.c'), DUPS_C);
    const binary = path.join(dir, 'dups');
    execFileSync('cc', ['-O0', '-g', '-fno-omit-frame-pointer', '-o', binary, path.join(dir, 'dups.c')]);
    const child = waitingChild(t, binary, []);
    const events = await traceListeners(t, { target: { pid: child.pid! } });
    let printed = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (printed += c));
    child.stdin!.write('go\n');
    await untilEvents('the dups', () => printed.endsWith('\n'), events);
    const [listenFd, viaDup2, viaFcntl] = printed.trim().split(' ').map(Number);
    await untilEvents(
      'both dups',
      () => events.some((e) => e.type === 'dup' && e.via === 'fcntl' && e.newFd === viaFcntl),
      events,
    );
    const dups = events.filter((e): e is DupEvent => e.type === 'dup');
    const dup2 = dups.find((d) => d.via === 'dup2' && d.oldFd === listenFd && d.newFd === viaDup2);
    assert.ok(dup2, JSON.stringify(dups));
    assert.equal(dup2.pid, child.pid);
    assert.ok(
      dup2.stack?.some((f) => f.includes('main')),
      JSON.stringify(dup2.stack),
    );
    assert.ok(dups.some((d) => d.via === 'fcntl' && d.oldFd === viaDup2 && d.newFd === viaFcntl));
    // Only the listening socket's dups came out: not the pipe's that the program also dups.
    assert.equal(dups.length, 2, JSON.stringify(dups));
  });

  it('traces unix and IPv6 listeners of a real process', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace unix '));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'admin.sock');
    const node = waitingChild(t, process.execPath, [
      '-e',
      `const net = require('net');
       process.stdin.once('data', () => {
         // A port chosen by the kernel, then bound by number, so the bind names it.
         const probe = net.createServer().listen(0, '::1', () => {
           const port = probe.address().port;
           probe.close(() => net.createServer().listen(${JSON.stringify(socketPath)}, () =>
             net.createServer().listen(port, '::1', () => console.log(port))));
         });
       });`,
    ]);
    const events = await traceListeners(t, { target: { pid: node.pid! } });
    let printed = '';
    node.stdout!.setEncoding('utf8').on('data', (c: string) => (printed += c));
    node.stdin!.write('go\n');
    await untilEvents('the listeners', () => printed.endsWith('\n'), events);
    const port = Number(printed.trim());
    await untilEvents(
      'both binds and listens',
      () =>
        events.filter((e) => e.type === 'bind').length >= 3 &&
        events.filter((e) => e.type === 'listen').length >= 3,
      events,
    );
    const binds = events.filter((e): e is BindEvent => e.type === 'bind');
    const unix = binds.find((b) => b.address.family === 'unix');
    assert.ok(unix, JSON.stringify(binds));
    // The path travels as hex of its first 48 bytes.
    assert.equal(unix.address.address, socketPath.slice(0, 48));
    assert.equal(unix.result, 0);
    const v6 = binds.find((b) => b.address.family === 'inet6' && b.address.port !== 0);
    assert.deepEqual(v6?.address, { family: 'inet6', address: '::1', port });
    const sockets = events.filter((e) => e.type === 'socket');
    assert.ok(sockets.some((s) => s.type === 'socket' && s.family === 'unix' && s.fd === unix.fd));
    assert.ok(events.some((e) => e.type === 'listen' && e.fd === unix.fd && e.result === 0));
  });
});
