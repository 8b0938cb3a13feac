// The reducer on the listener trace that counts in the kernel: running totals per (thread,
// listening fd) become accepts per worker with rates, never counted twice with the first-accept
// line; snapshots taken at the start give pre-trace listeners their address and one socket across
// forked processes; lost events are said with what they affect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SnapshotRecord, TraceEvent } from '../../../common/events';
import { reduceEvents } from '../../../core/listeners/reducer';
import { stateToMarkdown } from '../../../core/listeners/format';

const accept = (pid: number, tid: number, comm: string, listenFd: number, timeNs: number): TraceEvent => ({
  type: 'accept',
  timeNs,
  pid,
  tid,
  comm,
  listenFd,
  fd: 30,
});
const total = (pid: number, tid: number, listenFd: number, n: number, timeNs: number): TraceEvent => ({
  type: 'accepts',
  timeNs,
  pid,
  tid,
  comm: '',
  listenFd,
  total: n,
});
const listening = (
  pid: number,
  tid: number,
  comm: string,
  fd: number,
  port: number,
  at = 1e9,
): TraceEvent[] => [
  { type: 'socket', timeNs: at, pid, tid, comm, fd, family: 'inet', socketType: 1 },
  {
    type: 'bind',
    timeNs: at + 1,
    pid,
    tid,
    comm,
    fd,
    address: { family: 'inet', address: '127.0.0.1', port },
    result: 0,
  },
  { type: 'listen', timeNs: at + 2, pid, tid, comm, fd, backlog: 128, result: 0 },
];

test('a first-accept line that arrives after its total (per-CPU buffers) is not counted again', () => {
  const state = reduceEvents([
    ...listening(100, 100, 'envoy', 5, 8080),
    total(100, 101, 5, 3, 3e9),
    // Printed on another CPU before the interval's total, read after it.
    accept(100, 101, 'wrk:worker_0', 5, 2e9),
    total(100, 101, 5, 7, 4e9),
  ]);
  assert.equal(state.processes[0].listeners[0].totalAccepts, 7);
});

test('running totals add what they have more, the first-accept line included, never twice', () => {
  const state = reduceEvents([
    ...listening(100, 100, 'envoy', 5, 8080),
    { type: 'thread-name', timeNs: 1e9 + 3, pid: 100, tid: 101, comm: 'wrk:worker_0', name: 'wrk:worker_0' },
    accept(100, 101, 'wrk:worker_0', 5, 2e9),
    total(100, 101, 5, 31, 3e9),
    total(100, 102, 5, 9, 3e9),
    total(100, 101, 5, 40, 4e9),
    // The END print repeats the totals: nothing more.
    total(100, 101, 5, 40, 5e9),
    total(100, 102, 5, 9, 5e9),
  ]);
  const l = state.processes[0].listeners[0];
  assert.equal(l.totalAccepts, 49);
  assert.deepEqual(
    l.accepts.map((a) => [a.tid, a.name, a.count, Number(a.share.toFixed(3))]),
    [
      [101, 'wrk:worker_0', 40, 0.816],
      [102, '', 9, 0.184],
    ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
  );
  const worker0 = l.accepts.find((a) => a.tid === 101)!;
  assert.ok(worker0.ratePerSec !== undefined && worker0.ratePerSec > 0, JSON.stringify(worker0));
  // The first accept of each thread is a step, whether its line or only its total came.
  assert.equal(l.timeline.filter((s) => s.kind === 'first-accept').length, 2);
});

test('a smaller total is a new count; an old log with one accept per connection still counts', () => {
  const restarted = reduceEvents([
    ...listening(100, 100, 'envoy', 5, 8080),
    total(100, 100, 5, 10, 2e9),
    total(100, 100, 5, 3, 3e9),
  ]);
  assert.equal(restarted.processes[0].listeners[0].totalAccepts, 13);
  const old = reduceEvents([
    ...listening(100, 100, 'envoy', 5, 8080),
    accept(100, 100, 'envoy', 5, 2e9),
    accept(100, 100, 'envoy', 5, 2e9 + 1),
    accept(100, 100, 'envoy', 5, 2e9 + 2),
  ]);
  assert.equal(old.processes[0].listeners[0].totalAccepts, 3);
});

/** nginx: the master listens on fd 6, both workers inherited it; ss lists all three users. */
function nginxSnapshot(pid: number): SnapshotRecord {
  return {
    pid,
    takenAt: '2026-12-07T01:00:00.000Z',
    listeners: [
      {
        state: 'LISTEN',
        backlog: 511,
        local: { family: 'inet', address: '127.0.0.1', port: 18081 },
        users: [200, 201, 202].map((p) => ({ comm: 'nginx', pid: p, fd: 6 })),
        inode: 777,
      },
    ],
    fdInodes: [[6, 777]],
    threads: [{ tid: pid, comm: 'nginx' }],
  };
}

test('attached late: snapshots at the start give one socket with its address across forked processes', () => {
  const events: TraceEvent[] = [200, 201, 202].map((pid) => ({
    type: 'snapshot',
    node: 'local',
    snapshot: nginxSnapshot(pid),
  }));
  events.push(
    accept(201, 201, 'nginx', 6, 2e9),
    total(201, 201, 6, 1500, 3e9),
    total(202, 202, 6, 1400, 3e9),
  );
  const state = reduceEvents(events);
  const master = state.processes.find((p) => p.pid === 200)!;
  const l = master.listeners.find((x) => x.key === 'inet 127.0.0.1:18081');
  assert.ok(l, JSON.stringify(master.listeners.map((x) => x.key)));
  assert.equal(l.sockets.length, 1, 'one socket');
  assert.deepEqual(l.sockets[0].pids, [200, 201, 202]);
  assert.equal(l.layout, 'inherited');
  assert.equal(l.totalAccepts, 2900);
  assert.doesNotMatch(stateToMarkdown(state), /unknown address/);
});

test('lost events are said, with what they affect', () => {
  const counted = reduceEvents([
    ...listening(100, 100, 'envoy', 5, 8080),
    total(100, 100, 5, 10, 2e9),
    { type: 'lost', count: 12 },
  ]);
  assert.match(counted.lostWarning ?? '', /lost 12 events.*accept counts are the kernel's own totals/);
  assert.match(stateToMarkdown(counted), /^> \*\*Warning:\*\* bpftrace lost 12 events/m);
  const perConnection = reduceEvents([
    ...listening(100, 100, 'envoy', 5, 8080),
    accept(100, 100, 'envoy', 5, 2e9),
    { type: 'lost', count: 7 },
  ]);
  assert.match(perConnection.lostWarning ?? '', /undercounted by up to 7/);
  assert.equal(reduceEvents(listening(100, 100, 'envoy', 5, 8080)).lostWarning, undefined);
});

test('accepts read before the dup or socket that made their fd (another CPU’s buffer) stay on that socket', () => {
  const dup = (tid: number, comm: string, oldFd: number, newFd: number, timeNs: number): TraceEvent => ({
    type: 'dup',
    timeNs,
    pid: 100,
    tid,
    comm,
    oldFd,
    newFd,
    via: 'dup',
  });
  const listen = (tid: number, comm: string, fd: number, timeNs: number): TraceEvent => ({
    type: 'listen',
    timeNs,
    pid: 100,
    tid,
    comm,
    fd,
    backlog: 128,
    result: 0,
  });
  const state = reduceEvents([
    ...listening(100, 100, 'envoy', 10, 8080),
    dup(101, 'wrk:worker_0', 10, 14, 1.1e9),
    listen(101, 'wrk:worker_0', 14, 1.2e9),
    // worker_1's total for its dup fd 16 is read before its dup, listen and first accept.
    total(100, 102, 16, 5, 3e9),
    dup(102, 'wrk:worker_1', 10, 16, 1.3e9),
    listen(102, 'wrk:worker_1', 16, 1.4e9),
    accept(100, 102, 'wrk:worker_1', 16, 2e9),
    total(100, 101, 14, 4, 3e9),
    // A reuse_port socket's accepts read before its socket() event: fd 20 on port 8081.
    total(100, 103, 20, 6, 3e9),
    ...listening(100, 100, 'envoy', 20, 8081, 1.5e9),
    accept(100, 103, 'wrk:worker_2', 20, 2e9),
    // The END print repeats every total.
    total(100, 101, 14, 4, 9e9),
    total(100, 102, 16, 5, 9e9),
    total(100, 103, 20, 6, 9e9),
  ]);
  const listeners = state.processes[0].listeners;
  const main = listeners.find((l) => l.port === 8080)!;
  assert.equal(main.totalAccepts, 9);
  assert.deepEqual(main.accepts.map((a) => [a.tid, a.count]).sort(), [
    [101, 4],
    [102, 5],
  ]);
  assert.equal(main.sockets.length, 1, JSON.stringify(main.sockets.map((s) => s.fds)));
  const other = listeners.find((l) => l.port === 8081)!;
  assert.equal(other.totalAccepts, 6);
  assert.equal(listeners.length, 2, 'no made-up listener is left behind');
});

test('an fd that held accepts before a later socket() took its number is a different socket', () => {
  const state = reduceEvents([
    // fd 7 was listening before the trace: its accepts come first, then it is reused unseen.
    total(100, 101, 7, 3, 2e9),
    ...listening(100, 100, 'envoy', 7, 8080, 5e9),
    total(100, 101, 7, 3, 9e9),
  ]);
  const l = state.processes[0].listeners.find((x) => x.port === 8080)!;
  assert.equal(l.totalAccepts, 0);
});

test('an exit stays an exit: totals printed after it count on the closed fd, older events read late change nothing', () => {
  const exit = (timeNs: number): TraceEvent => ({
    type: 'exit',
    timeNs,
    pid: 100,
    tid: 100,
    comm: 'envoy',
    processExit: true,
  });
  const events = [
    ...listening(100, 100, 'envoy', 5, 8080),
    accept(100, 101, 'wrk:worker_0', 5, 2e9),
    exit(3e9),
    // The interval after the exit prints the totals that changed before it.
    total(100, 101, 5, 4, 3.5e9),
    // A listen of another fd from before the exit, read after it (another CPU's buffer).
    { type: 'listen', timeNs: 2.5e9, pid: 100, tid: 102, comm: 'wrk:worker_1', fd: 9, backlog: 1, result: 0 },
  ] satisfies TraceEvent[];
  const state = reduceEvents(events);
  const [proc] = state.processes;
  assert.equal(proc.exited, true, 'still ended');
  assert.equal(proc.listeners.length, 1, JSON.stringify(proc.listeners.map((l) => l.port)));
  assert.equal(proc.listeners[0].totalAccepts, 4, 'the late total counts on the listener the exit closed');
  assert.ok(proc.listeners[0].sockets.every((s) => s.closed));
  // A newer event of the same pid: the pid was reused by a new process.
  const reused = reduceEvents([...events, ...listening(100, 100, 'nginx', 5, 9090, 5e9)]);
  assert.equal(reused.processes[0].exited, false);
});

test('a forked worker’s accepts read before its fork count on the socket it inherited', () => {
  const state = reduceEvents([
    ...listening(100, 100, 'nginx', 6, 8080),
    // The child's total and first accept, read before the parent's fork event.
    total(101, 101, 6, 7, 3e9),
    accept(101, 101, 'nginx', 6, 2e9),
    {
      type: 'spawn',
      timeNs: 1.5e9,
      pid: 100,
      tid: 100,
      comm: 'nginx',
      childPid: 101,
      childTid: 101,
      thread: false,
    },
    total(101, 101, 6, 7, 9e9),
  ]);
  const parent = state.processes.find((p) => p.pid === 100)!;
  const l = parent.listeners.find((x) => x.port === 8080)!;
  assert.equal(l.totalAccepts, 7);
  assert.equal(l.sockets.length, 1);
  const child = state.processes.find((p) => p.pid === 101)!;
  assert.deepEqual(
    child.listeners.map((x) => [x.port, x.totalAccepts]),
    [[8080, 7]],
    'the child holds the same listener, no made-up one',
  );
});
