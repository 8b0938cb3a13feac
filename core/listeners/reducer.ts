// The listener state reducer: folds trace events (common/events.ts) into per-process listener
// state — sockets, the fds that refer to them, the threads that made and used each fd, options,
// accepts per worker and the steps of each socket's life. It knows nothing of SSH or of the UI.
//
// Internally it mutates a compact model (a trace can carry millions of accepts); `state()` renders
// a plain, JSON-safe ListenerState. `reduceEvents` is the pure-function face of it. Memory stays
// bounded: accepted connections are counted, never stored; timelines, closed sockets, pending
// options, rename histories and messages all have caps.
import type { SessionTraceEvent, SocketAddress, SyscallEvent, TraceEvent } from '../../common/events';
import { isSyscallEvent } from '../../common/events';
import type {
  AdminListenerView,
  FdView,
  ListenerLayout,
  ListenerState,
  ListenerView,
  ProcessView,
  Provenance,
  SocketOptionView,
  SocketView,
  StepKind,
  StepView,
  ThreadRef,
  WorkerAcceptsView,
} from '../../common/listeners-protocol';
import type { AdminReport } from './admin';
import { istioPortLabel, SO_REUSEPORT, SOL_SOCKET, socketOptionName } from './names';
import type { ProcessSnapshot } from './snapshot';

const TIMELINE_CAP = 64;
const CLOSED_SOCKETS_CAP = 32;
const CLOSED_FDS_CAP = 16;
const PENDING_FDS_CAP = 256;
const PENDING_OPTIONS_PER_FD = 16;
const NAME_HISTORY_CAP = 8;
const MESSAGES_CAP = 50;
const NOTES_CAP = 16;
const THREADS_CAP = 4096;
const EXITED_PROCESSES_CAP = 64;
const RATE_WINDOW_S = 10;

interface Thread {
  tid: number;
  name: string;
  formerNames: string[];
  exited: boolean;
}

/** A thread as it was at one step: its id and the name it had then. */
interface ThreadAt {
  tid: number;
  nameThen: string;
}

interface Option {
  level: number;
  optname: number;
  value?: number;
  by: ThreadAt;
  pid: number;
  /** Kept only while the option waits for its fd to be bound (pending options). */
  timeNs?: number;
  stack?: string[];
}

interface Fd {
  pid: number;
  fd: number;
  socket: Sock;
  open: boolean;
  via: FdView['via'];
  from?: number;
  owner?: ThreadAt;
  listenedBy?: ThreadAt;
  listening: boolean;
  accepts: number;
  provenance: Provenance;
  kernel?: FdView['kernel'];
}

interface Worker {
  pid: number;
  tid: number;
  count: number;
  firstSec: number;
  /** Accepts per second of trace time, a ring of RATE_WINDOW_S one-second buckets. */
  buckets: number[];
  bucketSecs: number[];
}

interface Step {
  seq: number;
  timeNs: number;
  kind: StepKind;
  pid: number;
  fd: number;
  thread: ThreadAt;
  text: string;
  stack?: string[];
}

interface Sock {
  id: string;
  family: SocketAddress['family'];
  socketType?: number;
  address?: SocketAddress;
  listening: boolean;
  backlog?: number;
  options: Map<number, Option>;
  /** Every fd that ever referred to it (closed ones too, for the picture), open first not guaranteed. */
  fds: Fd[];
  openFds: number;
  boundBy?: ThreadAt;
  provenance: Provenance;
  closed: boolean;
  inode?: number;
  workers: Map<number, Worker>;
  timeline: Step[];
  timelineDropped: number;
  notes: string[];
}

interface Proc {
  node: string;
  pid: number;
  name?: string;
  execPath?: string;
  parentPid?: number;
  exited: boolean;
  threads: Map<number, Thread>;
  fds: Map<number, Fd>;
  /** Sockets this process held that are closed now, kept to show drains and re-listens. */
  closedSockets: Sock[];
  pendingOptions: Map<number, Option[]>;
  snapshotAt?: string;
  admin?: AdminReport;
  notes: string[];
}

function pushCapped<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.shift();
}

function addressKey(family: string, address: string, port: number): string {
  if (family === 'unix') return `unix ${address || '(unnamed)'}`;
  if (family === 'inet6') return `inet6 [${address}]:${port}`;
  return `${family} ${address}:${port}`;
}

/** Envoy names its workers `wrk:worker_N`; returns N. */
export function workerIndex(threadName: string): number | undefined {
  const match = /^wrk:worker_(\d+)$/.exec(threadName);
  return match ? Number(match[1]) : undefined;
}

export class ListenerReducer {
  private readonly processes = new Map<string, Map<number, Proc>>();
  private exitedOrder: Proc[] = [];
  private nextSocket = 1;
  private seq = 0;
  private lastTimeNs = 0;
  private events = 0;
  private malformed = 0;
  private lostEvents = 0;
  private readonly sources: string[] = [];
  private readonly messages: string[] = [];

  /** Folds one event (bare or as it travels on the bus) into the state. */
  apply(input: TraceEvent | SessionTraceEvent): void {
    let event: TraceEvent;
    let node: string;
    if ('event' in input && 'sessionId' in input) {
      event = input.event;
      node = input.nodeId || 'local';
    } else {
      event = input as TraceEvent;
      node = (isSyscallEvent(event) && event.node) || 'local';
    }
    if (isSyscallEvent(event)) {
      this.events++;
      this.applySyscall(event, node);
      return;
    }
    switch (event.type) {
      case 'lost':
        this.lostEvents += event.count;
        break;
      case 'malformed':
        this.malformed++;
        break;
      case 'diagnostic':
        if (event.severity === 'error') pushCapped(this.messages, `bpftrace: ${event.message}`, MESSAGES_CAP);
        break;
      case 'ended':
        pushCapped(
          this.messages,
          `Trace ended (${event.signal ?? `exit code ${event.exitCode ?? '?'}`})${event.reason ? `: ${event.reason}` : ''}`,
          MESSAGES_CAP,
        );
        break;
      default:
        break;
    }
  }

  addSource(name: string): void {
    if (!this.sources.includes(name)) pushCapped(this.sources, name, MESSAGES_CAP);
  }

  addMessage(text: string): void {
    pushCapped(this.messages, text, MESSAGES_CAP);
  }

  countMalformed(n = 1): void {
    this.malformed += n;
  }

  // ---- processes and threads -----------------------------------------------------------------

  private proc(node: string, pid: number): Proc {
    let byPid = this.processes.get(node);
    if (!byPid) this.processes.set(node, (byPid = new Map()));
    let proc = byPid.get(pid);
    if (!proc) {
      proc = {
        node,
        pid,
        exited: false,
        threads: new Map(),
        fds: new Map(),
        closedSockets: [],
        pendingOptions: new Map(),
        notes: [],
      };
      byPid.set(pid, proc);
    }
    return proc;
  }

  private thread(proc: Proc, tid: number, comm: string): ThreadAt {
    let thread = proc.threads.get(tid);
    if (!thread) {
      if (proc.threads.size >= THREADS_CAP) this.forgetExitedThread(proc);
      thread = { tid, name: comm, formerNames: [], exited: false };
      proc.threads.set(tid, thread);
    } else if (comm && thread.name !== comm) {
      this.rename(thread, comm);
    }
    if (tid === proc.pid && comm) proc.name ??= comm;
    return { tid, nameThen: comm || thread.name };
  }

  private forgetExitedThread(proc: Proc): void {
    for (const [tid, thread] of proc.threads)
      if (thread.exited) {
        proc.threads.delete(tid);
        return;
      }
  }

  private rename(thread: Thread, name: string): void {
    pushCapped(thread.formerNames, thread.name, NAME_HISTORY_CAP);
    thread.name = name;
  }

  private applySyscall(e: SyscallEvent, node: string): void {
    if (e.timeNs > this.lastTimeNs) this.lastTimeNs = e.timeNs;
    const proc = this.proc(node, e.pid);
    if (proc.exited && e.type !== 'exit') proc.exited = false;
    const by = this.thread(proc, e.tid, e.comm);
    switch (e.type) {
      case 'socket':
        if (e.fd < 0) return;
        this.dropFd(proc, e.fd, e, 'fd reused without a traced close');
        this.newFd(proc, e.fd, this.newSocket(e.family, 'traced', e.socketType), 'socket', by, 'traced');
        this.step(proc.fds.get(e.fd)!.socket, e, 'socket', e.fd, by, `socket() → fd ${e.fd}`);
        return;
      case 'bind':
        return this.bind(proc, e, by);
      case 'listen': {
        if (e.result !== undefined && e.result < 0) return;
        const fd = this.known(proc, e.fd, by);
        fd.listening = true;
        fd.listenedBy = by;
        const sock = fd.socket;
        sock.listening = true;
        if (e.backlog >= 0) sock.backlog = e.backlog;
        else sock.backlog ??= -1;
        this.step(
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
        return this.setsockopt(proc, e, by);
      case 'dup': {
        if (e.newFd < 0 || e.newFd === e.oldFd) return;
        const old = this.known(proc, e.oldFd, by);
        this.dropFd(proc, e.newFd, e, `${e.via} replaced it`);
        const fd = this.newFd(proc, e.newFd, old.socket, e.via, by, 'traced');
        fd.from = e.oldFd;
        this.step(old.socket, e, 'dup', e.newFd, by, `${e.via}(fd ${e.oldFd}) → fd ${e.newFd}`);
        return;
      }
      case 'accept':
        return this.accept(proc, e, by);
      case 'close': {
        if (e.result !== undefined && e.result < 0) return;
        proc.pendingOptions.delete(e.fd);
        const fd = proc.fds.get(e.fd);
        if (!fd) return;
        this.step(fd.socket, e, 'close', e.fd, by, `close(fd ${e.fd})`);
        this.closeFd(proc, fd);
        return;
      }
      case 'exec':
        proc.execPath = e.path;
        proc.name = e.path.split('/').pop() || e.path;
        return;
      case 'spawn':
        return this.spawn(proc, e, by);
      case 'thread-name': {
        const thread = proc.threads.get(e.tid);
        if (thread && thread.name !== e.name) this.rename(thread, e.name);
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
          this.step(fd.socket, e, 'close', fd.fd, by, `fd ${fd.fd} closed: process ${proc.pid} exited`);
          this.closeFd(proc, fd);
        }
        for (const thread of proc.threads.values()) thread.exited = true;
        proc.exited = true;
        this.rememberExited(proc);
        return;
    }
  }

  private rememberExited(proc: Proc): void {
    this.exitedOrder.push(proc);
    if (this.exitedOrder.length > EXITED_PROCESSES_CAP) {
      const old = this.exitedOrder.shift()!;
      if (old.exited) this.processes.get(old.node)?.delete(old.pid);
    }
  }

  // ---- sockets and fds ----------------------------------------------------------------------

  private newSocket(family: SocketAddress['family'], provenance: Provenance, socketType?: number): Sock {
    return {
      id: `s${this.nextSocket++}`,
      family,
      socketType,
      listening: false,
      options: new Map(),
      fds: [],
      openFds: 0,
      provenance,
      closed: false,
      workers: new Map(),
      timeline: [],
      timelineDropped: 0,
      notes: [],
    };
  }

  private newFd(
    proc: Proc,
    n: number,
    sock: Sock,
    via: FdView['via'],
    owner: ThreadAt | undefined,
    provenance: Provenance,
  ): Fd {
    const fd: Fd = {
      pid: proc.pid,
      fd: n,
      socket: sock,
      open: true,
      via,
      owner,
      listening: false,
      accepts: 0,
      provenance,
    };
    proc.fds.set(n, fd);
    sock.fds.push(fd);
    sock.openFds++;
    sock.closed = false;
    return fd;
  }

  /**
   * The fd an event refers to; an fd first seen in a bind, listen, dup or accept was opened before
   * the trace started, so a socket is made up for it and marked so.
   */
  private known(proc: Proc, n: number, by: ThreadAt): Fd {
    const existing = proc.fds.get(n);
    if (existing) return existing;
    const sock = this.newSocket('other', 'pre-trace');
    const fd = this.newFd(proc, n, sock, 'unknown', undefined, 'pre-trace');
    fd.owner = by;
    this.adoptPendingOptions(proc, n, sock);
    return fd;
  }

  private dropFd(proc: Proc, n: number, e: SyscallEvent, why: string): void {
    const fd = proc.fds.get(n);
    if (!fd) return;
    this.step(fd.socket, e, 'close', n, { tid: e.tid, nameThen: e.comm }, `fd ${n} closed (${why})`);
    this.closeFd(proc, fd);
  }

  private closeFd(proc: Proc, fd: Fd): void {
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
      const holder = pid === proc.pid ? proc : this.processes.get(proc.node)?.get(pid);
      if (holder && !holder.closedSockets.includes(sock))
        pushCapped(holder.closedSockets, sock, CLOSED_SOCKETS_CAP);
    }
  }

  private bind(proc: Proc, e: Extract<SyscallEvent, { type: 'bind' }>, by: ThreadAt): void {
    if (e.result !== undefined && e.result < 0) return;
    let fd = proc.fds.get(e.fd);
    // A second bind succeeds only on a new socket: the old fd was closed out of our sight.
    if (fd?.socket.address) {
      this.dropFd(proc, e.fd, e, 'fd reused without a traced close');
      fd = undefined;
    }
    fd ??= this.known(proc, e.fd, by);
    const sock = fd.socket;
    sock.address = { ...e.address };
    sock.family = e.address.family;
    sock.boundBy = by;
    this.step(sock, e, 'bind', e.fd, by, `bind(fd ${e.fd}, ${this.where(e.address)})`);
  }

  private where(a: SocketAddress): string {
    if (a.family === 'unix') return a.address || '(unnamed unix)';
    return a.family === 'inet6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  private setsockopt(proc: Proc, e: Extract<SyscallEvent, { type: 'setsockopt' }>, by: ThreadAt): void {
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
    this.setOption(fd.socket, option);
    this.step(fd.socket, e, 'setsockopt', e.fd, by, this.optionText(e.fd, option));
  }

  private optionText(fd: number, o: Option): string {
    return `setsockopt(fd ${fd}, ${socketOptionName(o.level, o.optname)}${o.value === undefined ? '' : ` = ${o.value}`})`;
  }

  private setOption(sock: Sock, option: Option): void {
    sock.options.set(option.level * 65536 + option.optname, option);
  }

  private adoptPendingOptions(proc: Proc, n: number, sock: Sock): void {
    const pending = proc.pendingOptions.get(n);
    if (!pending) return;
    proc.pendingOptions.delete(n);
    for (const o of pending) {
      const { timeNs, stack, ...option } = o;
      this.setOption(sock, option);
      this.pushStep(sock, {
        seq: ++this.seq,
        timeNs: timeNs ?? 0,
        kind: 'setsockopt',
        pid: proc.pid,
        fd: n,
        thread: o.by,
        text: this.optionText(n, o),
        stack,
      });
    }
  }

  private accept(proc: Proc, e: Extract<SyscallEvent, { type: 'accept' }>, by: ThreadAt): void {
    if (e.fd < 0) return;
    // The new connection's number may have been a listener of ours: that one was closed unseen.
    if (e.fd !== e.listenFd) this.dropFd(proc, e.fd, e, 'fd reused for an accepted connection');
    const fd = this.known(proc, e.listenFd, by);
    const sock = fd.socket;
    if (!sock.listening && fd.provenance === 'pre-trace') {
      sock.listening = true;
      fd.listening = true;
    }
    fd.accepts++;
    const key = proc.pid * 4194304 + e.tid;
    let worker = sock.workers.get(key);
    const sec = Math.floor(e.timeNs / 1e9);
    if (!worker) {
      worker = {
        pid: proc.pid,
        tid: e.tid,
        count: 0,
        firstSec: sec,
        buckets: new Array<number>(RATE_WINDOW_S).fill(0),
        bucketSecs: new Array<number>(RATE_WINDOW_S).fill(-1),
      };
      sock.workers.set(key, worker);
      this.step(sock, e, 'first-accept', e.listenFd, by, `first accept on fd ${e.listenFd} by this thread`);
    }
    worker.count++;
    if (e.timeNs > 0) {
      const slot = sec % RATE_WINDOW_S;
      if (worker.bucketSecs[slot] !== sec) {
        worker.bucketSecs[slot] = sec;
        worker.buckets[slot] = 0;
      }
      worker.buckets[slot]++;
    }
  }

  private spawn(proc: Proc, e: Extract<SyscallEvent, { type: 'spawn' }>, by: ThreadAt): void {
    if (e.thread) {
      const thread = proc.threads.get(e.childTid);
      if (!thread)
        proc.threads.set(e.childTid, { tid: e.childTid, name: e.comm, formerNames: [], exited: false });
      return;
    }
    const child = this.proc(proc.node, e.childPid);
    child.parentPid = proc.pid;
    child.name ??= proc.name ?? e.comm;
    const main = this.thread(child, e.childTid, e.comm);
    for (const fd of proc.fds.values()) {
      if (child.fds.has(fd.fd)) continue;
      const inherited = this.newFd(child, fd.fd, fd.socket, 'fork', main, 'traced');
      inherited.from = fd.fd;
      inherited.listening = fd.listening;
      if (fd.socket.address)
        this.step(fd.socket, e, 'fork', fd.fd, by, `fork → pid ${e.childPid} inherits fd ${fd.fd}`);
    }
  }

  private step(
    sock: Sock,
    e: SyscallEvent,
    kind: StepKind,
    fd: number,
    thread: ThreadAt,
    text: string,
  ): void {
    this.pushStep(sock, {
      seq: ++this.seq,
      timeNs: e.timeNs,
      kind,
      pid: e.pid,
      fd,
      thread,
      text,
      stack: e.stack,
    });
  }

  private pushStep(sock: Sock, step: Step): void {
    sock.timeline.push(step);
    if (sock.timeline.length > TIMELINE_CAP) {
      // Keep the beginning (bind, dup, listen) and the latest steps; drop from the middle.
      sock.timeline.splice(TIMELINE_CAP / 2, 1);
      sock.timelineDropped++;
    }
  }

  // ---- snapshot and admin -------------------------------------------------------------------

  /** Seeds the state from a node snapshot and marks where it disagrees with the trace. */
  applySnapshot(snap: ProcessSnapshot): void {
    const proc = this.proc(snap.node, snap.pid);
    proc.snapshotAt = snap.takenAt;
    for (const t of snap.threads) {
      const thread = proc.threads.get(t.tid);
      if (!thread) proc.threads.set(t.tid, { tid: t.tid, name: t.comm, formerNames: [], exited: false });
      else if (thread.name !== t.comm) this.rename(thread, t.comm);
    }
    if (snap.threads.length > 0) {
      const alive = new Set(snap.threads.map((t) => t.tid));
      for (const thread of proc.threads.values())
        if (thread.tid > 0 && !alive.has(thread.tid)) thread.exited = true;
      proc.name ??= snap.threads.find((t) => t.tid === snap.pid)?.comm;
    }
    const kernelFds = new Set<number>();
    const byInode = new Map<number, Sock>();
    for (const l of snap.listeners) {
      const mine = l.users.filter((u) => u.pid === snap.pid);
      if (mine.length === 0) continue;
      for (const user of mine) {
        kernelFds.add(user.fd);
        const inode = snap.fdInodes.get(user.fd) ?? l.inode;
        const fd = proc.fds.get(user.fd);
        if (fd && fd.open) {
          fd.kernel = 'agrees';
          const sock = fd.socket;
          if (inode !== undefined) {
            const other = byInode.get(inode);
            if (sock.inode === undefined && (!other || other === sock)) sock.inode = inode;
            else if (sock.inode !== inode || (other && other !== sock)) {
              fd.kernel = 'missing-in-kernel';
              pushCapped(
                sock.notes,
                `The trace puts fd ${user.fd} on socket ${sock.id}, but the kernel says it is socket inode ${inode}: the trace missed a close or a dup.`,
                NOTES_CAP,
              );
            }
            byInode.set(inode, sock);
          }
          if (!sock.address) {
            sock.address = { ...l.local };
            sock.family = l.local.family;
          } else if (
            sock.address.port === 0 &&
            l.local.port !== 0 &&
            sock.address.address === l.local.address
          ) {
            sock.address.port = l.local.port;
          } else if (sock.address.port !== l.local.port || sock.address.address !== l.local.address) {
            pushCapped(
              sock.notes,
              `The trace says fd ${user.fd} is bound to ${this.where(sock.address)}, the kernel says ${this.where(l.local)}.`,
              NOTES_CAP,
            );
          }
          if (!sock.listening) {
            pushCapped(
              sock.notes,
              `The kernel says fd ${user.fd} listens; the trace saw no listen().`,
              NOTES_CAP,
            );
            sock.listening = true;
          }
          fd.listening = true;
          continue;
        }
        let sock = inode !== undefined ? byInode.get(inode) : undefined;
        if (!sock) {
          sock = this.newSocket(l.local.family, 'snapshot', l.netid === 'udp' ? 2 : 1);
          sock.address = { ...l.local };
          sock.inode = inode;
          sock.listening = l.state === 'LISTEN';
          sock.backlog = l.backlog;
          if (inode !== undefined) byInode.set(inode, sock);
        }
        const created = this.newFd(proc, user.fd, sock, 'unknown', undefined, 'snapshot');
        created.listening = sock.listening;
        created.kernel = 'kernel-only';
      }
    }
    for (const fd of proc.fds.values()) {
      if (!fd.listening || kernelFds.has(fd.fd)) continue;
      fd.kernel = 'missing-in-kernel';
      pushCapped(
        fd.socket.notes,
        `The trace says fd ${fd.fd} listens, but the kernel snapshot shows no such listening fd: a close was not traced, or it happened after the snapshot.`,
        NOTES_CAP,
      );
    }
  }

  /** Records what the Envoy admin API says about a process, shown beside the traced accepts. */
  applyAdmin(node: string, pid: number, report: AdminReport): void {
    this.proc(node, pid).admin = report;
  }

  // ---- rendering ----------------------------------------------------------------------------

  state(): ListenerState {
    const processes: ProcessView[] = [];
    for (const byPid of this.processes.values())
      for (const proc of byPid.values()) processes.push(this.processView(proc));
    processes.sort((a, b) => (a.node === b.node ? a.pid - b.pid : a.node < b.node ? -1 : 1));
    return {
      version: 1,
      processes,
      events: this.events,
      malformed: this.malformed,
      lostEvents: this.lostEvents,
      sources: [...this.sources],
      messages: [...this.messages],
    };
  }

  private ref(proc: Proc, at: ThreadAt | undefined): ThreadRef | undefined {
    if (!at) return undefined;
    const name = proc.threads.get(at.tid)?.name ?? at.nameThen;
    return name === at.nameThen || !at.nameThen
      ? { tid: at.tid, name }
      : { tid: at.tid, name, nameThen: at.nameThen };
  }

  private processView(proc: Proc): ProcessView {
    const groups = new Map<string, Sock[]>();
    const seen = new Set<Sock>();
    const add = (sock: Sock): void => {
      if (seen.has(sock)) return;
      seen.add(sock);
      if (!sock.address && !sock.listening && sock.workers.size === 0) return;
      // Port 0 asks the kernel for a port: such sockets share no address with each other.
      const key = sock.address
        ? addressKey(sock.address.family, sock.address.address, sock.address.port) +
          (sock.address.port === 0 && sock.address.family !== 'unix'
            ? ` (port chosen by the kernel, ${sock.id})`
            : '')
        : `unknown address (${sock.fds
            .filter((f) => f.pid === proc.pid)
            .map((f) => `fd ${f.fd}`)
            .join(', ')})`;
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(sock);
    };
    for (const fd of proc.fds.values()) add(fd.socket);
    for (const sock of proc.closedSockets) add(sock);
    const listeners = [...groups.entries()].map(([key, socks]) => this.listenerView(proc, key, socks));
    listeners.sort((a, b) => a.port - b.port || (a.key < b.key ? -1 : 1));
    const threads = [...proc.threads.values()]
      .map((t) => ({ tid: t.tid, name: t.name, exited: t.exited, formerNames: [...t.formerNames] }))
      .sort((a, b) => a.tid - b.tid);
    const mainName = proc.threads.get(proc.pid)?.name;
    const view: ProcessView = {
      node: proc.node,
      pid: proc.pid,
      name: proc.name ?? mainName ?? `pid ${proc.pid}`,
      exited: proc.exited,
      threads,
      listeners,
      notes: [...proc.notes],
    };
    if (proc.parentPid !== undefined) view.parentPid = proc.parentPid;
    if (proc.snapshotAt) view.snapshotAt = proc.snapshotAt;
    if (proc.admin) {
      view.admin = { ...proc.admin.summary };
      this.crossCheck(proc, view);
    }
    return view;
  }

  private listenerView(proc: Proc, key: string, socks: Sock[]): ListenerView {
    const first = socks[0];
    const address = first.address;
    const port = address?.port ?? 0;
    const sockets = socks.map((s) => this.socketView(proc, s));
    const live = socks.filter((s) => !s.closed);
    const { layout, reason } = this.layout(proc, live.length > 0 ? live : socks);
    const workers: Worker[] = [];
    for (const s of socks) workers.push(...s.workers.values());
    const merged = new Map<number, Worker & { rate: number }>();
    const nowSec = Math.floor(this.lastTimeNs / 1e9);
    for (const w of workers) {
      const key = w.pid * 4194304 + w.tid;
      let recent = 0;
      for (let i = 0; i < RATE_WINDOW_S; i++)
        if (w.bucketSecs[i] > nowSec - RATE_WINDOW_S) recent += w.buckets[i];
      const m = merged.get(key);
      if (m) {
        m.count += w.count;
        m.rate += recent;
        m.firstSec = Math.min(m.firstSec, w.firstSec);
      } else merged.set(key, { ...w, rate: recent });
    }
    const total = [...merged.values()].reduce((n, w) => n + w.count, 0);
    const accepts: WorkerAcceptsView[] = [...merged.values()]
      .map((w) => {
        const view: WorkerAcceptsView = {
          pid: w.pid,
          tid: w.tid,
          name: this.threadName(proc, w.pid, w.tid),
          count: w.count,
          share: total > 0 ? w.count / total : 0,
        };
        if (this.lastTimeNs > 0) {
          const span = Math.min(RATE_WINDOW_S, Math.max(1, nowSec - w.firstSec + 1));
          view.ratePerSec = w.rate / span;
        }
        return view;
      })
      .sort(
        (a, b) => a.pid - b.pid || a.name.localeCompare(b.name, 'en', { numeric: true }) || a.tid - b.tid,
      );
    const steps: Step[] = [];
    let dropped = 0;
    for (const s of socks) {
      steps.push(...s.timeline);
      dropped += s.timelineDropped;
    }
    steps.sort((a, b) => a.seq - b.seq);
    const timeline: StepView[] = steps.map((s) => {
      const view: StepView = {
        seq: s.seq,
        timeNs: s.timeNs,
        kind: s.kind,
        pid: s.pid,
        fd: s.fd,
        thread: this.ref(this.procOf(proc, s.pid), s.thread)!,
        text: s.text,
      };
      if (s.stack) view.stack = s.stack;
      return view;
    });
    const notes = socks.flatMap((s) => s.notes);
    const view: ListenerView = {
      key,
      family: address?.family ?? first.family,
      address: address?.address ?? '',
      port,
      layout,
      layoutReason: reason,
      sockets,
      accepts,
      totalAccepts: total,
      timeline,
      timelineDropped: dropped,
      closed: live.length === 0,
      notes,
    };
    const label = address && address.family !== 'unix' ? istioPortLabel(port) : undefined;
    if (label) view.label = label;
    return view;
  }

  private procOf(proc: Proc, pid: number): Proc {
    return pid === proc.pid ? proc : (this.processes.get(proc.node)?.get(pid) ?? proc);
  }

  private threadName(proc: Proc, pid: number, tid: number): string {
    return this.procOf(proc, pid).threads.get(tid)?.name ?? `tid ${tid}`;
  }

  private socketView(proc: Proc, sock: Sock): SocketView {
    const options: SocketOptionView[] = [...sock.options.values()].map((o) => {
      const view: SocketOptionView = {
        level: o.level,
        optname: o.optname,
        name: socketOptionName(o.level, o.optname),
        by: this.ref(this.procOf(proc, o.pid), o.by)!,
      };
      if (o.value !== undefined) view.value = o.value;
      return view;
    });
    const fds: FdView[] = sock.fds.map((f) => {
      const holder = this.procOf(proc, f.pid);
      const view: FdView = {
        pid: f.pid,
        fd: f.fd,
        open: f.open,
        via: f.via,
        listening: f.listening,
        accepts: f.accepts,
        provenance: f.provenance,
      };
      if (f.from !== undefined) view.from = f.from;
      const owner = this.ref(holder, f.owner);
      if (owner) view.owner = owner;
      const listenedBy = this.ref(holder, f.listenedBy);
      if (listenedBy) view.listenedBy = listenedBy;
      if (f.kernel) view.kernel = f.kernel;
      return view;
    });
    const pids = [...new Set(sock.fds.filter((f) => f.open).map((f) => f.pid))].sort((a, b) => a - b);
    const view: SocketView = {
      id: sock.id,
      listening: sock.listening,
      options,
      fds,
      pids,
      provenance: sock.provenance,
      closed: sock.closed,
    };
    if (sock.workers.size > 0)
      view.acceptedBy = [...sock.workers.values()]
        .map((w) => ({ pid: w.pid, tid: w.tid, name: this.threadName(proc, w.pid, w.tid), count: w.count }))
        .sort((a, b) => b.count - a.count);
    if (sock.inode !== undefined) view.inode = sock.inode;
    if (sock.socketType !== undefined) view.socketType = sock.socketType;
    if (sock.backlog !== undefined) view.backlog = sock.backlog;
    const boundBy = this.ref(proc, sock.boundBy);
    if (boundBy) view.boundBy = boundBy;
    return view;
  }

  private layout(proc: Proc, socks: Sock[]): { layout: ListenerLayout; reason: string } {
    const openFds = socks.flatMap((s) => s.fds.filter((f) => f.open));
    const fdsHere = (s: Sock): Fd[] => s.fds.filter((f) => f.pid === proc.pid && (f.open || s.closed));
    const pids = new Set(openFds.map((f) => f.pid));
    const sharedDup = socks.some((s) => fdsHere(s).length > 1);
    const names = (fds: Fd[]): string =>
      fds
        .map((f) => {
          const who = this.ref(this.procOf(proc, f.pid), f.listenedBy ?? f.owner);
          return `${f.fd}${who ? ` (${who.name})` : ''}`;
        })
        .join(', ');
    if (pids.size > 1) {
      const reason = `One socket held by ${pids.size} processes through fork (pids ${[...pids].sort((a, b) => a - b).join(', ')}): every process accepts from the same queue, as nginx workers do.`;
      if (socks.length > 1 || sharedDup)
        return { layout: 'mixed', reason: `${reason} Some of them also hold several sockets or dup'd fds.` };
      return { layout: 'inherited', reason };
    }
    if (socks.length > 1) {
      const reusePort = socks.every(
        (s) =>
          s.options.get(SOL_SOCKET * 65536 + SO_REUSEPORT)?.value !== 0 &&
          s.options.has(SOL_SOCKET * 65536 + SO_REUSEPORT),
      );
      const reason = `${socks.length} sockets on the same address${reusePort ? ', each with SO_REUSEPORT' : ''}: the kernel spreads new connections over their separate accept queues (Envoy ≥ 1.20 default, one socket per worker).`;
      if (sharedDup) return { layout: 'mixed', reason: `${reason} Some sockets also have dup'd fds.` };
      return { layout: 'reuse-port', reason };
    }
    const sock = socks[0];
    const fds = fdsHere(sock);
    if (fds.length > 1) {
      return {
        layout: 'shared-dup',
        reason: `One socket, ${fds.length} fds in this process (${names(fds)}): one accept queue that every fd's thread listens on (Envoy ≤ 1.19 default: bound on the main thread, dup'd per worker).`,
      };
    }
    return { layout: 'single', reason: `One socket, one fd${fds.length === 1 ? ` (${names(fds)})` : ''}.` };
  }

  private crossCheck(proc: Proc, view: ProcessView): void {
    const admin = proc.admin!;
    for (const listener of view.listeners) {
      const match = admin.listeners.find(
        (a) =>
          a.port === listener.port &&
          (a.address === listener.address ||
            a.address === '0.0.0.0' ||
            a.address === '::' ||
            listener.address === ''),
      );
      if (!match) continue;
      const adminView: AdminListenerView = { name: match.name, workers: match.workers };
      if (match.statPrefix) adminView.statPrefix = match.statPrefix;
      listener.admin = adminView;
      for (const w of match.workers) {
        const traced = listener.accepts.find((a) => workerIndex(a.name) === w.worker);
        if (traced && traced.count !== w.total)
          listener.notes.push(
            `worker_${w.worker}: admin counts ${w.total} connections, the trace ${traced.count} accepts (the admin count includes connections from before the trace).`,
          );
      }
    }
    const workerThreads = view.threads.filter((t) => !t.exited && workerIndex(t.name) !== undefined).length;
    if (
      admin.summary.concurrency !== undefined &&
      workerThreads > 0 &&
      workerThreads !== admin.summary.concurrency
    )
      view.notes.push(
        `Admin reports concurrency ${admin.summary.concurrency}, the trace knows ${workerThreads} worker thread(s).`,
      );
  }
}

/** The state a sequence of events leads to: the reducer as a pure function. */
export function reduceEvents(events: Iterable<TraceEvent | SessionTraceEvent>): ListenerState {
  const reducer = new ListenerReducer();
  for (const e of events) reducer.apply(e);
  return reducer.state();
}
