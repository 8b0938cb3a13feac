// The reducer on event sequences for each situation a listener goes through: layouts, fd reuse and
// close, re-listen, IPv6 and unix sockets, renamed threads, fds from before the trace, accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SyscallEvent, TraceEvent } from '../../../common/events';
import type { ListenerState } from '../../../common/listeners-protocol';
import { ListenerReducer, reduceEvents } from '../../../core/listeners/reducer';
import { parseSs } from '../../../core/listeners/snapshot';

type Body<T> = T extends SyscallEvent ? Omit<T, 'timeNs' | 'pid' | 'tid' | 'comm'> : never;

/** A small event writer: `at(pid, tid, comm)` then typed bodies, times increasing by 1 ms. */
function script() {
  const events: TraceEvent[] = [];
  let t = 1e9;
  return {
    events,
    at(pid: number, tid: number, comm: string) {
      return (body: Body<SyscallEvent>): void => {
        t += 1e6;
        events.push({ ...body, timeNs: t, pid, tid, comm } as SyscallEvent);
      };
    },
    advance(ns: number) {
      t += ns;
    },
  };
}

const inet = (address: string, port: number) => ({ family: 'inet' as const, address, port });

function only(state: ListenerState, pid: number, key: string) {
  const p = state.processes.find((x) => x.pid === pid);
  assert.ok(p, `process ${pid}`);
  const l = p.listeners.find((x) => x.key === key);
  assert.ok(l, `listener ${key} in ${p.listeners.map((x) => x.key).join(', ')}`);
  return l;
}

test('Envoy ≥ 1.20: one SO_REUSEPORT socket per worker is the reuse-port layout', () => {
  const s = script();
  const main = s.at(100, 100, 'envoy');
  for (const fd of [10, 11]) {
    main({ type: 'socket', fd, family: 'inet', socketType: 1 });
    main({ type: 'setsockopt', fd, level: 1, optname: 15, value: 1, optlen: 4 });
    main({ type: 'bind', fd, address: inet('0.0.0.0', 8080) });
    main({ type: 'listen', fd, backlog: 1024 });
  }
  s.at(100, 101, 'wrk:worker_0')({ type: 'accept', listenFd: 10, fd: 20 });
  s.at(100, 102, 'wrk:worker_1')({ type: 'accept', listenFd: 11, fd: 21 });
  const l = only(reduceEvents(s.events), 100, 'inet 0.0.0.0:8080');
  assert.equal(l.layout, 'reuse-port');
  assert.match(l.layoutReason, /SO_REUSEPORT/);
  assert.equal(l.sockets.length, 2);
  assert.equal(l.sockets[0].backlog, 1024);
  assert.deepEqual(
    l.sockets.map((x) => x.options[0].name),
    ['SOL_SOCKET/SO_REUSEPORT', 'SOL_SOCKET/SO_REUSEPORT'],
  );
  assert.deepEqual(
    l.accepts.map((a) => [a.name, a.count, a.share]),
    [
      ['wrk:worker_0', 1, 0.5],
      ['wrk:worker_1', 1, 0.5],
    ],
  );
});

test('fork: a socket inherited by worker processes is the inherited layout', () => {
  const s = script();
  const master = s.at(200, 200, 'nginx');
  master({ type: 'socket', fd: 6, family: 'inet6', socketType: 1 });
  master({ type: 'bind', fd: 6, address: { family: 'inet6', address: '::', port: 80 } });
  master({ type: 'listen', fd: 6, backlog: 511 });
  master({ type: 'spawn', childPid: 201, childTid: 201, thread: false });
  master({ type: 'spawn', childPid: 202, childTid: 202, thread: false });
  s.at(201, 201, 'nginx')({ type: 'thread-name', name: 'nginx: worker' });
  for (let i = 0; i < 3; i++) s.at(201, 201, 'nginx: worker')({ type: 'accept', listenFd: 6, fd: 9 + i });
  s.at(202, 202, 'nginx')({ type: 'accept', listenFd: 6, fd: 9 });
  const state = reduceEvents(s.events);
  const l = only(state, 200, 'inet6 [::]:80');
  assert.equal(l.layout, 'inherited');
  assert.deepEqual(l.sockets[0].pids, [200, 201, 202]);
  assert.deepEqual(
    l.sockets[0].fds.map((f) => [f.pid, f.fd, f.via]),
    [
      [200, 6, 'socket'],
      [201, 6, 'fork'],
      [202, 6, 'fork'],
    ],
  );
  assert.deepEqual(
    l.accepts.map((a) => [a.pid, a.name, a.count]),
    [
      [201, 'nginx: worker', 3],
      [202, 'nginx', 1],
    ],
  );
  assert.equal(l.accepts[0].share, 0.75);
  const child = state.processes.find((p) => p.pid === 201)!;
  assert.equal(child.parentPid, 200);
  assert.equal(only(state, 201, 'inet6 [::]:80').layout, 'inherited');
});

test('close and fd reuse: a new socket on the same number is a new socket, the old one closed', () => {
  const s = script();
  const main = s.at(300, 300, 'srv');
  main({ type: 'socket', fd: 5, family: 'inet', socketType: 1 });
  main({ type: 'bind', fd: 5, address: inet('127.0.0.1', 9000) });
  main({ type: 'listen', fd: 5, backlog: 16 });
  main({ type: 'close', fd: 5 });
  main({ type: 'socket', fd: 5, family: 'inet', socketType: 1 });
  main({ type: 'bind', fd: 5, address: inet('127.0.0.1', 9001) });
  main({ type: 'listen', fd: 5, backlog: 16 });
  // A bind on a bound fd without a close in between: the close was not traced.
  main({ type: 'bind', fd: 5, address: inet('127.0.0.1', 9002) });
  const state = reduceEvents(s.events);
  const old = only(state, 300, 'inet 127.0.0.1:9000');
  assert.equal(old.closed, true);
  assert.equal(old.sockets[0].fds[0].open, false);
  assert.equal(old.timeline.at(-1)?.kind, 'close');
  const second = only(state, 300, 'inet 127.0.0.1:9001');
  assert.equal(second.closed, true);
  assert.match(second.timeline.at(-1)?.text ?? '', /without a traced close/);
  const third = only(state, 300, 'inet 127.0.0.1:9002');
  assert.equal(third.closed, false);
  assert.equal(third.sockets[0].fds[0].fd, 5);
  assert.notEqual(second.sockets[0].id, third.sockets[0].id);
});

test('re-listen on the same address after a drain shows both sockets under one listener', () => {
  const s = script();
  const main = s.at(400, 400, 'envoy');
  main({ type: 'socket', fd: 7, family: 'inet', socketType: 1 });
  main({ type: 'bind', fd: 7, address: inet('0.0.0.0', 15006) });
  main({ type: 'listen', fd: 7, backlog: 128 });
  main({ type: 'dup', oldFd: 7, newFd: 8, via: 'dup' });
  main({ type: 'close', fd: 8 });
  main({ type: 'close', fd: 7 });
  main({ type: 'socket', fd: 8, family: 'inet', socketType: 1 });
  main({ type: 'bind', fd: 8, address: inet('0.0.0.0', 15006) });
  main({ type: 'listen', fd: 8, backlog: 128 });
  const l = only(reduceEvents(s.events), 400, 'inet 0.0.0.0:15006');
  assert.equal(l.sockets.length, 2);
  assert.deepEqual(
    l.sockets.map((x) => x.closed),
    [false, true].sort() as boolean[],
  );
  assert.equal(l.layout, 'single', 'the layout is judged on the live socket');
  assert.equal(l.closed, false);
  assert.equal(l.label, 'virtual inbound');
});

test('unix sockets and dup2 onto an open fd', () => {
  const s = script();
  const main = s.at(500, 500, 'agent');
  main({ type: 'socket', fd: 3, family: 'unix', socketType: 1 });
  main({ type: 'bind', fd: 3, address: { family: 'unix', address: '/run/agent.sock', port: 0 } });
  main({ type: 'listen', fd: 3, backlog: 5 });
  main({ type: 'socket', fd: 4, family: 'inet', socketType: 1 });
  main({ type: 'dup', oldFd: 3, newFd: 4, via: 'dup2' });
  const l = only(reduceEvents(s.events), 500, 'unix /run/agent.sock');
  assert.equal(l.family, 'unix');
  assert.equal(l.layout, 'shared-dup');
  assert.deepEqual(
    l.sockets[0].fds.map((f) => [f.fd, f.via, f.from]),
    [
      [3, 'socket', undefined],
      [4, 'dup2', 3],
    ],
  );
});

test('threads renamed after creation: current names shown, the name at the step kept', () => {
  const s = script();
  s.at(600, 600, 'envoy')({ type: 'spawn', childPid: 600, childTid: 601, thread: true });
  s.at(600, 601, 'envoy')({ type: 'dup', oldFd: 9, newFd: 12, via: 'dup' });
  s.at(600, 601, 'envoy')({ type: 'thread-name', name: 'wrk:worker_0' });
  s.at(600, 601, 'wrk:worker_0')({ type: 'listen', fd: 12, backlog: 128 });
  const state = reduceEvents(s.events);
  const proc = state.processes[0];
  const thread = proc.threads.find((t) => t.tid === 601)!;
  assert.equal(thread.name, 'wrk:worker_0');
  assert.deepEqual(thread.formerNames, ['envoy']);
  const l = proc.listeners[0];
  assert.match(l.key, /^unknown address/);
  const fd12 = l.sockets[0].fds.find((f) => f.fd === 12)!;
  assert.deepEqual(fd12.owner, { tid: 601, name: 'wrk:worker_0', nameThen: 'envoy' });
  assert.deepEqual(fd12.listenedBy, { tid: 601, name: 'wrk:worker_0' });
  const fd9 = l.sockets[0].fds.find((f) => f.fd === 9)!;
  assert.equal(fd9.provenance, 'pre-trace', 'fd 9 existed before the trace');
});

test('accepts on an fd from before the trace count, with share and rate over trace time', () => {
  const s = script();
  const w0 = s.at(700, 701, 'wrk:worker_0');
  const w1 = s.at(700, 702, 'wrk:worker_1');
  for (let i = 0; i < 30; i++) {
    w0({ type: 'accept', listenFd: 40, fd: 100 });
    if (i % 2 === 0) w1({ type: 'accept', listenFd: 40, fd: 101 });
    w0({ type: 'accept', listenFd: 40, fd: -11 }); // EAGAIN is no accept
    s.advance(100e6);
  }
  const l = reduceEvents(s.events).processes[0].listeners[0];
  assert.equal(l.totalAccepts, 45);
  assert.deepEqual(
    l.accepts.map((a) => [a.name, a.count, Number(a.share.toFixed(3))]),
    [
      ['wrk:worker_0', 30, 0.667],
      ['wrk:worker_1', 15, 0.333],
    ],
  );
  // 30 accepts over ~3.1 s of trace time.
  assert.ok(l.accepts[0].ratePerSec! > 7 && l.accepts[0].ratePerSec! < 11, String(l.accepts[0].ratePerSec));
  assert.equal(l.sockets[0].provenance, 'pre-trace');
  assert.equal(l.sockets[0].listening, true);
});

test('options set before the bind of a pre-trace fd land on its socket; connection options do not', () => {
  const s = script();
  const main = s.at(800, 800, 'envoy');
  main({ type: 'setsockopt', fd: 18, level: 1, optname: 2, value: 1, optlen: 4 });
  main({ type: 'setsockopt', fd: 18, level: 0, optname: 19, value: 1, optlen: 4 });
  main({ type: 'setsockopt', fd: 41, level: 6, optname: 1, value: 1, optlen: 4 });
  main({ type: 'bind', fd: 18, address: inet('0.0.0.0', 15001) });
  const state = reduceEvents(s.events);
  const l = state.processes[0].listeners;
  assert.equal(l.length, 1);
  assert.deepEqual(
    l[0].sockets[0].options.map((o) => o.name),
    ['SOL_SOCKET/SO_REUSEADDR', 'IPPROTO_IP/IP_TRANSPARENT'],
  );
});

test('process exit closes its fds; the socket stays open while another process holds it', () => {
  const s = script();
  const master = s.at(900, 900, 'm');
  master({ type: 'socket', fd: 3, family: 'inet', socketType: 1 });
  master({ type: 'bind', fd: 3, address: inet('0.0.0.0', 81) });
  master({ type: 'listen', fd: 3, backlog: 1 });
  master({ type: 'spawn', childPid: 901, childTid: 901, thread: false });
  s.at(901, 901, 'm')({ type: 'exit', processExit: true });
  let l = only(reduceEvents(s.events), 900, 'inet 0.0.0.0:81');
  assert.equal(l.closed, false);
  assert.deepEqual(l.sockets[0].pids, [900]);
  assert.equal(l.layout, 'single');
  master({ type: 'exit', processExit: true });
  const state = reduceEvents(s.events);
  l = only(state, 900, 'inet 0.0.0.0:81');
  assert.equal(l.closed, true);
  assert.equal(state.processes.find((p) => p.pid === 900)?.exited, true);
});

test('memory stays bounded: timeline capped, accepts counted not stored', () => {
  const reducer = new ListenerReducer();
  const base = { pid: 1000, comm: 'envoy' };
  reducer.apply({ ...base, tid: 1000, timeNs: 1, type: 'socket', fd: 3, family: 'inet', socketType: 1 });
  reducer.apply({ ...base, tid: 1000, timeNs: 2, type: 'bind', fd: 3, address: inet('0.0.0.0', 80) });
  for (let i = 0; i < 500; i++)
    reducer.apply({
      ...base,
      tid: 1000,
      timeNs: 3 + i,
      type: 'setsockopt',
      fd: 3,
      level: 1,
      optname: 7,
      value: i,
      optlen: 4,
    });
  for (let i = 0; i < 100_000; i++)
    reducer.apply({
      ...base,
      tid: 1001 + (i % 4),
      timeNs: 1000 + i,
      type: 'accept',
      listenFd: 3,
      fd: 50 + (i % 1000),
    });
  const l = reducer.state().processes[0].listeners[0];
  assert.equal(l.totalAccepts, 100_000);
  assert.ok(l.timeline.length <= 64);
  assert.equal(l.timeline[0].kind, 'socket', 'the beginning of the life is kept');
  assert.ok(l.timelineDropped > 400);
});

test('a snapshot seeds fds the trace never saw and marks where trace and kernel disagree', () => {
  const s = script();
  const main = s.at(1100, 1100, 'envoy');
  main({ type: 'bind', fd: 31, address: inet('0.0.0.0', 15001) });
  main({ type: 'dup', oldFd: 31, newFd: 37, via: 'dup' });
  main({ type: 'listen', fd: 37, backlog: 4096 });
  main({ type: 'bind', fd: 50, address: inet('0.0.0.0', 7000) });
  main({ type: 'listen', fd: 50, backlog: 4096 });
  const reducer = new ListenerReducer();
  for (const e of s.events) reducer.apply(e);
  const ss = [
    'State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess',
    'LISTEN 0      4096         0.0.0.0:15001      0.0.0.0:*    users:(("envoy",pid=1100,fd=37),("envoy",pid=1100,fd=38),("envoy",pid=1100,fd=31)) ino:555 sk:1 cgroup:/ <->',
  ].join('\n');
  reducer.applySnapshot({
    node: 'local',
    pid: 1100,
    takenAt: '2026-01-01T00:00:00Z',
    listeners: parseSs(ss).listeners,
    fdInodes: new Map([
      [31, 555],
      [37, 555],
      [38, 555],
    ]),
    threads: [
      { tid: 1100, comm: 'envoy' },
      { tid: 1102, comm: 'wrk:worker_0' },
    ],
  });
  const state = reducer.state();
  const l = only(state, 1100, 'inet 0.0.0.0:15001');
  assert.equal(l.sockets.length, 1, 'fd 38 joins the traced socket through its inode');
  assert.equal(l.sockets[0].inode, 555);
  const kernel = new Map(l.sockets[0].fds.map((f) => [f.fd, [f.kernel, f.provenance]]));
  assert.deepEqual(kernel.get(31), ['agrees', 'pre-trace']);
  assert.deepEqual(kernel.get(38), ['kernel-only', 'snapshot']);
  const gone = only(state, 1100, 'inet 0.0.0.0:7000');
  assert.equal(gone.sockets[0].fds[0].kernel, 'missing-in-kernel');
  assert.match(gone.notes.join(' '), /no such listening fd/);
  assert.equal(state.processes[0].snapshotAt, '2026-01-01T00:00:00Z');
  assert.ok(state.processes[0].threads.some((t) => t.name === 'wrk:worker_0'));
});

test('ss output: netid column, IPv6, scoped and mapped addresses, users and inode', () => {
  const out = [
    'Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess',
    'tcp   LISTEN 0      4096   0.0.0.0:15001   0.0.0.0:*    users:(("envoy",pid=2062496,fd=37),("envoy",pid=2062496,fd=38),("envoy",pid=2062496,fd=31))',
    'tcp   LISTEN 0      511    [::]:80         [::]:*       users:(("nginx",pid=7,fd=6),("nginx",pid=8,fd=6)) ino:42 sk:3',
    'tcp   LISTEN 0      10     127.0.0.53%lo:53  0.0.0.0:*',
    'tcp   LISTEN 0      10     [::ffff:10.0.0.1]:8443 *:*',
    'garbage line',
  ].join('\n');
  const { listeners, skipped } = parseSs(out);
  assert.deepEqual(skipped, ['garbage line']);
  assert.deepEqual(
    listeners[0].users.map((u) => u.fd),
    [37, 38, 31],
  );
  assert.deepEqual(listeners[1].local, { family: 'inet6', address: '::', port: 80 });
  assert.equal(listeners[1].inode, 42);
  assert.equal(listeners[1].backlog, 511);
  assert.deepEqual(listeners[2].local, { family: 'inet', address: '127.0.0.53', port: 53 });
  assert.deepEqual(listeners[3].local, { family: 'inet', address: '10.0.0.1', port: 8443 });
});

test('binds to port 0 are separate listeners until a snapshot tells the port', () => {
  const s = script();
  const main = s.at(1200, 1200, 'srv');
  for (const fd of [3, 4]) {
    main({ type: 'socket', fd, family: 'inet', socketType: 1 });
    main({ type: 'bind', fd, address: inet('127.0.0.1', 0) });
    main({ type: 'listen', fd, backlog: 8 });
  }
  const reducer = new ListenerReducer();
  for (const e of s.events) reducer.apply(e);
  const before = reducer.state().processes[0].listeners;
  assert.equal(before.length, 2);
  assert.ok(before.every((l) => l.layout === 'single' && /port chosen by the kernel/.test(l.key)));
  const ss = 'LISTEN 0 8 127.0.0.1:41000 0.0.0.0:* users:(("srv",pid=1200,fd=3))';
  reducer.applySnapshot({
    node: 'local',
    pid: 1200,
    takenAt: 't',
    listeners: parseSs(ss).listeners,
    fdInodes: new Map(),
    threads: [],
  });
  const after = reducer.state().processes[0].listeners;
  assert.ok(after.some((l) => l.key === 'inet 127.0.0.1:41000'));
  assert.deepEqual(after.find((l) => l.key === 'inet 127.0.0.1:41000')?.notes, []);
});
