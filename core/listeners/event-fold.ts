// Event folding: each trace event (common/events.ts) changes the listener model — sockets, the
// fds that refer to them, the threads that made and used each fd, options, accepts per worker
// and the steps of each socket's life. It knows nothing of SSH or of the UI.
import type { SessionTraceEvent, SyscallEvent, TraceEvent } from '../../common/events';
import { isSyscallEvent } from '../../common/events';
import type { StepKind } from '../../common/listeners-protocol';
import * as model from './model';
import {
  addressText,
  MESSAGES_CAP,
  type Fd,
  type ListenerModel,
  type Option,
  type Proc,
  type Sock,
  type ThreadAt,
} from './model';
import { addToSeries, newAcceptSeries } from './accept-series';
import { absorbEarly, madeUpAfter } from './early-fd';
import { socketOptionName } from './names';
import { snapshotFromRecord } from './snapshot';
import { mergeAdmin, mergeSnapshot } from './snapshot-merge';
import { LOCAL_NODE } from '../../common/nodes';

const CLOSED_SOCKETS_CAP = 32;
const CLOSED_FDS_CAP = 16;
const PENDING_FDS_CAP = 256;
const PENDING_OPTIONS_PER_FD = 16;
const THREADS_CAP = 4096;
const EXITED_PROCESSES_CAP = 64;
// What runs for every event is bound here once: where modules are not bundled (tsx in tests and
// benchmarks) every use of an imported binding is a getter call, measurable at a million events.
const { pushCapped, workerKey, RATE_WINDOW_S } = model;

/** Folds one event (bare or as it travels on the bus) into the model. */
export function foldEvent(m: ListenerModel, input: TraceEvent | SessionTraceEvent): void {
  let event: TraceEvent;
  let node: string;
  if ('event' in input && 'sessionId' in input) {
    event = input.event;
    node = input.nodeId || LOCAL_NODE;
  } else {
    event = input as TraceEvent;
    node = (isSyscallEvent(event) && event.node) || LOCAL_NODE;
  }
  if (isSyscallEvent(event)) {
    m.events++;
    applySyscall(m, event, node);
    return;
  }
  switch (event.type) {
    case 'lost':
      m.lostEvents += event.count;
      break;
    case 'malformed':
      m.malformed++;
      break;
    case 'snapshot':
      mergeSnapshot(m, snapshotFromRecord(event.node, event.snapshot));
      break;
    case 'admin':
      mergeAdmin(m, event.node, event.pid, event.report);
      break;
    case 'diagnostic':
      if (event.severity === 'error') pushCapped(m.messages, `bpftrace: ${event.message}`, MESSAGES_CAP);
      break;
    case 'ended':
      pushCapped(
        m.messages,
        `Trace ended (${event.signal ?? `exit code ${event.exitCode ?? '?'}`})${event.reason ? `: ${event.reason}` : ''}`,
        MESSAGES_CAP,
      );
      break;
    default:
      break;
  }
}

function applySyscall(m: ListenerModel, e: SyscallEvent, node: string): void {
  if (e.timeNs > m.lastTimeNs) m.lastTimeNs = e.timeNs;
  const proc = m.proc(node, e.pid);
  if (e.type === 'accepts') return acceptTotal(m, proc, e);
  if (proc.exited && e.type !== 'exit') {
    // Read after the exit but older (another CPU's buffer): what it did, the exit has undone.
    if (proc.exitedAtNs !== undefined && e.timeNs <= proc.exitedAtNs) return;
    // Newer: the pid was reused.
    proc.exited = false;
    proc.exitedAtNs = undefined;
  }
  const by = threadAt(m, proc, e.tid, e.comm);
  switch (e.type) {
    case 'socket': {
      if (e.fd < 0) return;
      const early = replaceFd(m, proc, e.fd, e, 'fd reused without a traced close');
      const fd = m.newFd(proc, e.fd, m.newSocket(e.family, 'traced', e.socketType), 'socket', by, 'traced');
      step(m, fd.socket, e, 'socket', e.fd, by, `socket() → fd ${e.fd}`);
      if (early) absorbEarly(m, proc.node, early, fd);
      return;
    }
    case 'bind':
      return bind(m, proc, e, by);
    case 'listen': {
      if (e.result !== undefined && e.result < 0) return;
      const fd = known(m, proc, e.fd, by, e.timeNs);
      fd.listening = true;
      fd.listenedBy = by;
      const sock = fd.socket;
      sock.listening = true;
      if (e.backlog >= 0) sock.backlog = e.backlog;
      else sock.backlog ??= -1;
      step(
        m,
        sock,
        e,
        'listen',
        e.fd,
        by,
        `listen(fd ${e.fd}${e.backlog >= 0 ? `, backlog ${e.backlog}` : ''})`,
      );
      return;
    }
    case 'setsockopt':
      return setsockopt(m, proc, e, by);
    case 'dup': {
      if (e.newFd < 0 || e.newFd === e.oldFd) return;
      const old = known(m, proc, e.oldFd, by, e.timeNs);
      const early = replaceFd(m, proc, e.newFd, e, `${e.via} replaced it`);
      const fd = m.newFd(proc, e.newFd, old.socket, e.via, by, 'traced');
      fd.from = e.oldFd;
      step(m, old.socket, e, 'dup', e.newFd, by, `${e.via}(fd ${e.oldFd}) → fd ${e.newFd}`);
      if (early) absorbEarly(m, proc.node, early, fd);
      return;
    }
    case 'accept':
      return accept(m, proc, e, by);
    case 'close': {
      if (e.result !== undefined && e.result < 0) return;
      proc.pendingOptions.delete(e.fd);
      const fd = proc.fds.get(e.fd);
      if (!fd) return;
      step(m, fd.socket, e, 'close', e.fd, by, `close(fd ${e.fd})`);
      closeFd(m, proc, fd);
      return;
    }
    case 'exec':
      proc.execPath = e.path;
      proc.name = e.path.split('/').pop() || e.path;
      return;
    case 'spawn':
      return spawn(m, proc, e, by);
    case 'thread-name': {
      const thread = proc.threads.get(e.tid);
      if (thread && thread.name !== e.name) m.rename(thread, e.name);
      if (e.tid === proc.pid) proc.name = e.name;
      return;
    }
    case 'exit':
      if (!e.processExit) {
        const thread = proc.threads.get(e.tid);
        if (thread) thread.exited = true;
        if (e.tid !== proc.pid) return;
      }
      for (const fd of [...proc.fds.values()]) {
        step(m, fd.socket, e, 'close', fd.fd, by, `fd ${fd.fd} closed: process ${proc.pid} exited`);
        closeFd(m, proc, fd);
      }
      for (const thread of proc.threads.values()) thread.exited = true;
      proc.exited = true;
      proc.exitedAtNs = e.timeNs;
      rememberExited(m, proc);
      return;
  }
}

function threadAt(m: ListenerModel, proc: Proc, tid: number, comm: string): ThreadAt {
  let thread = proc.threads.get(tid);
  if (!thread) {
    if (proc.threads.size >= THREADS_CAP) forgetExitedThread(proc);
    thread = { tid, name: comm, formerNames: [], exited: false };
    proc.threads.set(tid, thread);
  } else if (comm && thread.name !== comm) {
    m.rename(thread, comm);
  }
  if (tid === proc.pid && comm) proc.name ??= comm;
  return { tid, nameThen: comm || thread.name };
}

function forgetExitedThread(proc: Proc): void {
  for (const [tid, thread] of proc.threads)
    if (thread.exited) {
      proc.threads.delete(tid);
      return;
    }
}

function rememberExited(m: ListenerModel, proc: Proc): void {
  m.exitedOrder.push(proc);
  if (m.exitedOrder.length > EXITED_PROCESSES_CAP) {
    const old = m.exitedOrder.shift()!;
    if (old.exited) m.processes.get(old.node)?.delete(old.pid);
  }
}

/**
 * The fd an event refers to; an fd first seen in a bind, listen, dup or accept was opened before
 * the trace started, so a socket is made up for it and marked so.
 */
function known(m: ListenerModel, proc: Proc, n: number, by: ThreadAt, timeNs: number): Fd {
  const existing = proc.fds.get(n);
  if (existing) return existing;
  const sock = m.newSocket('other', 'pre-trace');
  const fd = m.newFd(proc, n, sock, 'unknown', undefined, 'pre-trace');
  fd.owner = by;
  fd.madeUpAtNs = timeNs;
  adoptPendingOptions(m, proc, n, sock);
  return fd;
}

/**
 * Before a socket() or dup() makes fd `n`: the fd made up from events read before this older one
 * (returned, to be absorbed into the new fd), or else whatever held the number is closed.
 */
function replaceFd(m: ListenerModel, proc: Proc, n: number, e: SyscallEvent, why: string): Fd | undefined {
  const early = madeUpAfter(proc, n, e.timeNs);
  if (!early) {
    dropFd(m, proc, n, e, why);
    return undefined;
  }
  proc.fds.delete(n);
  return early;
}

function dropFd(m: ListenerModel, proc: Proc, n: number, e: SyscallEvent, why: string): void {
  const fd = proc.fds.get(n);
  if (!fd) return;
  step(m, fd.socket, e, 'close', n, { tid: e.tid, nameThen: e.comm }, `fd ${n} closed (${why})`);
  closeFd(m, proc, fd);
}

function closeFd(m: ListenerModel, proc: Proc, fd: Fd): void {
  fd.open = false;
  fd.listening = false;
  proc.fds.delete(fd.fd);
  const sock = fd.socket;
  sock.openFds--;
  // Closed fds stay visible (drains, re-listens), the oldest go beyond a cap.
  if (sock.fds.length - sock.openFds > CLOSED_FDS_CAP) {
    const oldest = sock.fds.findIndex((f) => !f.open);
    sock.fds.splice(oldest, 1);
  }
  if (sock.openFds > 0) return;
  sock.closed = true;
  sock.listening = false;
  // Sockets that never had an address or an accept (connections, pipes' neighbours) are forgotten.
  if (!sock.address && sock.workers.size === 0) return;
  for (const pid of new Set(sock.fds.map((f) => f.pid))) {
    const holder = pid === proc.pid ? proc : m.processes.get(proc.node)?.get(pid);
    if (holder && !holder.closedSockets.includes(sock))
      pushCapped(holder.closedSockets, sock, CLOSED_SOCKETS_CAP);
  }
}

function bind(m: ListenerModel, proc: Proc, e: Extract<SyscallEvent, { type: 'bind' }>, by: ThreadAt): void {
  if (e.result !== undefined && e.result < 0) return;
  let fd = proc.fds.get(e.fd);
  // A second bind succeeds only on a new socket: the old fd was closed out of our sight.
  if (fd?.socket.address) {
    dropFd(m, proc, e.fd, e, 'fd reused without a traced close');
    fd = undefined;
  }
  fd ??= known(m, proc, e.fd, by, e.timeNs);
  const sock = fd.socket;
  sock.address = { ...e.address };
  sock.family = e.address.family;
  sock.boundBy = by;
  step(m, sock, e, 'bind', e.fd, by, `bind(fd ${e.fd}, ${addressText(e.address)})`);
}

function setsockopt(
  m: ListenerModel,
  proc: Proc,
  e: Extract<SyscallEvent, { type: 'setsockopt' }>,
  by: ThreadAt,
): void {
  const option: Option = { level: e.level, optname: e.optname, value: e.value, by, pid: proc.pid };
  const fd = proc.fds.get(e.fd);
  if (!fd) {
    // An option on an fd we have not seen: keep it in case a bind or listen follows.
    let list = proc.pendingOptions.get(e.fd);
    if (!list) {
      if (proc.pendingOptions.size >= PENDING_FDS_CAP)
        proc.pendingOptions.delete(proc.pendingOptions.keys().next().value as number);
      proc.pendingOptions.set(e.fd, (list = []));
    }
    pushCapped(list, { ...option, timeNs: e.timeNs, stack: e.stack }, PENDING_OPTIONS_PER_FD);
    return;
  }
  setOption(fd.socket, option);
  step(m, fd.socket, e, 'setsockopt', e.fd, by, optionText(e.fd, option));
}

function optionText(fd: number, o: Option): string {
  return `setsockopt(fd ${fd}, ${socketOptionName(o.level, o.optname)}${o.value === undefined ? '' : ` = ${o.value}`})`;
}

function setOption(sock: Sock, option: Option): void {
  sock.options.set(option.level * 65536 + option.optname, option);
}

function adoptPendingOptions(m: ListenerModel, proc: Proc, n: number, sock: Sock): void {
  const pending = proc.pendingOptions.get(n);
  if (!pending) return;
  proc.pendingOptions.delete(n);
  for (const o of pending) {
    const { timeNs, stack, ...option } = o;
    setOption(sock, option);
    m.pushStep(sock, {
      seq: ++m.seq,
      timeNs: timeNs ?? 0,
      kind: 'setsockopt',
      pid: proc.pid,
      fd: n,
      thread: o.by,
      text: optionText(n, o),
      stack,
    });
  }
}

function accept(
  m: ListenerModel,
  proc: Proc,
  e: Extract<SyscallEvent, { type: 'accept' }>,
  by: ThreadAt,
): void {
  if (e.fd < 0) return;
  // The new connection's number may have been a listener of ours: that one was closed unseen.
  if (e.fd !== e.listenFd) dropFd(m, proc, e.fd, e, 'fd reused for an accepted connection');
  const fd = known(m, proc, e.listenFd, by, e.timeNs);
  const sock = fd.socket;
  if (!sock.listening && fd.provenance === 'pre-trace') {
    sock.listening = true;
    fd.listening = true;
  }
  const key = `${e.tid},${e.listenFd}`;
  if (proc.totalled.has(key)) return;
  proc.acceptTotals.set(key, (proc.acceptTotals.get(key) ?? 0) + 1);
  addAccepts(m, proc.node, fd, e.tid, e.timeNs, 1, e, by);
}

/**
 * A running total of the kernel's count for (thread, listening fd): what it has more than the
 * accepts already counted is added at its time. A smaller total is a new count (restarted).
 */
function acceptTotal(m: ListenerModel, proc: Proc, e: Extract<SyscallEvent, { type: 'accepts' }>): void {
  m.kernelCounts = true;
  const key = `${e.tid},${e.listenFd}`;
  const before = proc.acceptTotals.get(key) ?? 0;
  const added = e.total >= before ? e.total - before : e.total;
  proc.acceptTotals.set(key, e.total);
  proc.totalled.add(key);
  if (added === 0) return;
  const thread = proc.threads.get(e.tid);
  const by = threadAt(m, proc, e.tid, thread?.name ?? '');
  // Totals are printed after the accepts they count, so also after an exit: they belong to the
  // fd the exit closed, and never bring the process back.
  const fd = proc.exited ? closedAt(proc, e.listenFd) : known(m, proc, e.listenFd, by, e.timeNs);
  if (!fd) return;
  if (!fd.socket.listening && fd.provenance === 'pre-trace') {
    fd.socket.listening = true;
    fd.listening = true;
  }
  addAccepts(m, proc.node, fd, e.tid, e.timeNs, added, e, by);
}

/** The latest closed fd `n` of a process among the sockets it held. */
function closedAt(proc: Proc, n: number): Fd | undefined {
  for (let i = proc.closedSockets.length - 1; i >= 0; i--) {
    const fds = proc.closedSockets[i].fds;
    for (let j = fds.length - 1; j >= 0; j--) if (fds[j].pid === proc.pid && fds[j].fd === n) return fds[j];
  }
  return undefined;
}

function addAccepts(
  m: ListenerModel,
  node: string,
  fd: Fd,
  tid: number,
  timeNs: number,
  n: number,
  e: SyscallEvent,
  by: ThreadAt,
): void {
  const sock = fd.socket;
  fd.accepts += n;
  const key = workerKey(fd.pid, tid);
  let worker = sock.workers.get(key);
  const sec = Math.floor(timeNs / 1e9);
  if (!worker) {
    worker = {
      pid: fd.pid,
      tid,
      count: 0,
      firstSec: sec,
      buckets: new Array<number>(RATE_WINDOW_S).fill(0),
      bucketSecs: new Array<number>(RATE_WINDOW_S).fill(-1),
      series: newAcceptSeries(),
    };
    sock.workers.set(key, worker);
    step(m, sock, e, 'first-accept', fd.fd, by, `first accept on fd ${fd.fd} by this thread`);
  }
  worker.count += n;
  if (timeNs > 0) {
    let origin = m.seriesOriginSec.get(node);
    if (origin === undefined) m.seriesOriginSec.set(node, (origin = sec));
    addToSeries(worker.series, origin, sec, n);
    const slot = sec % RATE_WINDOW_S;
    if (worker.bucketSecs[slot] !== sec) {
      worker.bucketSecs[slot] = sec;
      worker.buckets[slot] = 0;
    }
    worker.buckets[slot] += n;
  }
}

function spawn(
  m: ListenerModel,
  proc: Proc,
  e: Extract<SyscallEvent, { type: 'spawn' }>,
  by: ThreadAt,
): void {
  if (e.thread) {
    const thread = proc.threads.get(e.childTid);
    if (!thread)
      proc.threads.set(e.childTid, { tid: e.childTid, name: e.comm, formerNames: [], exited: false });
    return;
  }
  const child = m.proc(proc.node, e.childPid);
  child.parentPid = proc.pid;
  child.name ??= proc.name ?? e.comm;
  const main = threadAt(m, child, e.childTid, e.comm);
  for (const fd of proc.fds.values()) {
    // The child's own events can be read before its fork (another CPU's buffer).
    const early = madeUpAfter(child, fd.fd, e.timeNs);
    if (early) child.fds.delete(fd.fd);
    else if (child.fds.has(fd.fd)) continue;
    const inherited = m.newFd(child, fd.fd, fd.socket, 'fork', main, 'traced');
    inherited.from = fd.fd;
    inherited.listening = fd.listening;
    if (fd.socket.address)
      step(m, fd.socket, e, 'fork', fd.fd, by, `fork → pid ${e.childPid} inherits fd ${fd.fd}`);
    if (early) absorbEarly(m, child.node, early, inherited);
  }
}

function step(
  m: ListenerModel,
  sock: Sock,
  e: SyscallEvent,
  kind: StepKind,
  fd: number,
  thread: ThreadAt,
  text: string,
): void {
  m.pushStep(sock, {
    seq: ++m.seq,
    timeNs: e.timeNs,
    kind,
    pid: e.pid,
    fd,
    thread,
    text,
    stack: e.stack,
  });
}
