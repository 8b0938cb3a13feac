// The listener state's model: the compact, mutable store the reducer folds events into (a trace
// can carry millions of accepts), and the few operations that both the event folding and the
// snapshot merge use to change it. Memory stays bounded: accepted connections are counted, never
// stored; timelines, closed sockets, pending options, rename histories and messages have caps.
import type { SocketAddress } from '../../common/events';
import type { FdView, Provenance, StepKind } from '../../common/listeners-protocol';
import type { AdminReport } from './admin';
import type { AcceptSeries } from './accept-series';

const TIMELINE_CAP = 64;
const NAME_HISTORY_CAP = 8;
export const MESSAGES_CAP = 50;
/** Accept rates are counted over this many one-second buckets. */
export const RATE_WINDOW_S = 10;

export interface Thread {
  tid: number;
  name: string;
  formerNames: string[];
  exited: boolean;
}

/** A thread as it was at one step: its id and the name it had then. */
export interface ThreadAt {
  tid: number;
  nameThen: string;
}

export interface Option {
  level: number;
  optname: number;
  value?: number;
  by: ThreadAt;
  pid: number;
  /** Kept only while the option waits for its fd to be bound (pending options). */
  timeNs?: number;
  stack?: string[];
}

export interface Fd {
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
  /**
   * For an fd made up from an event that used it (bind, listen, accept, a total): that event's
   * time. A socket() or dup() of the same number from before it, read later, created this very fd.
   */
  madeUpAtNs?: number;
}

export interface Worker {
  pid: number;
  tid: number;
  count: number;
  firstSec: number;
  /** Accepts per second of trace time, a ring of RATE_WINDOW_S one-second buckets. */
  buckets: number[];
  bucketSecs: number[];
  /** Accepts over the whole trace, for the chart. */
  series: AcceptSeries;
}

export interface Step {
  seq: number;
  timeNs: number;
  kind: StepKind;
  pid: number;
  fd: number;
  thread: ThreadAt;
  text: string;
  stack?: string[];
}

export interface Sock {
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

export interface Proc {
  node: string;
  pid: number;
  name?: string;
  execPath?: string;
  parentPid?: number;
  /** The parent process a node snapshot read (`PPid`), also when the fork was not traced. */
  ppid?: number;
  exited: boolean;
  /** When the process exited (its exit event's time), while `exited`. */
  exitedAtNs?: number;
  threads: Map<number, Thread>;
  fds: Map<number, Fd>;
  /** Sockets this process held that are closed now, kept to show drains and re-listens. */
  closedSockets: Sock[];
  pendingOptions: Map<number, Option[]>;
  /**
   * Accepts counted so far per `tid,listenFd`, as the kernel keys its running totals: a new total
   * adds only what it has more than this (first-accept events included).
   */
  acceptTotals: Map<string, number>;
  /**
   * (thread, fd) keys the kernel has printed a running total for: that total already holds the
   * first accept, whose own event can arrive after it (per-CPU buffers do not keep order).
   */
  totalled: Set<string>;
  snapshotAt?: string;
  /** The latest admin read. */
  admin?: AdminReport;
  /** The first admin read with per-worker counters: what they had when the trace began. */
  adminBaseline?: AdminReport;
  notes: string[];
}

export function pushCapped<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.shift();
}

/** How a socket address reads in a step or a note. */
export function addressText(a: SocketAddress): string {
  if (a.family === 'unix') return a.address || '(unnamed unix)';
  return a.family === 'inet6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** One key per (pid, tid) of a worker thread. */
export function workerKey(pid: number, tid: number): number {
  return pid * 4194304 + tid;
}

export class ListenerModel {
  /** node -> pid -> process. */
  readonly processes = new Map<string, Map<number, Proc>>();
  /** Exited processes, oldest first: beyond a cap the oldest are forgotten. */
  exitedOrder: Proc[] = [];
  nextSocket = 1;
  /** Order of steps across all sockets. */
  seq = 0;
  /** The latest event time seen: "now" for accept rates. */
  lastTimeNs = 0;
  /** node -> the second of its first timed accept: where its accept series start. */
  readonly seriesOriginSec = new Map<string, number>();
  events = 0;
  malformed = 0;
  lostEvents = 0;
  /** Whether accepts come as the kernel's running totals (listener traces that count in BPF maps). */
  kernelCounts = false;
  readonly sources: string[] = [];
  readonly messages: string[] = [];
  /** `node inode` -> the socket a node snapshot saw: fds of one socket in several processes. */
  readonly socketsByInode = new Map<string, Sock>();

  /** The open socket with this kernel inode on the node, if a snapshot named one. */
  socketOfInode(node: string, inode: number): Sock | undefined {
    const sock = this.socketsByInode.get(`${node} ${inode}`);
    return sock && !sock.closed ? sock : undefined;
  }

  setInode(node: string, sock: Sock, inode: number): void {
    sock.inode = inode;
    this.socketsByInode.set(`${node} ${inode}`, sock);
  }

  proc(node: string, pid: number): Proc {
    let byPid = this.processes.get(node);
    if (!byPid) this.processes.set(node, (byPid = new Map()));
    let proc = byPid.get(pid);
    if (!proc) {
      proc = {
        node,
        pid,
        exited: false,
        exitedAtNs: undefined,
        threads: new Map(),
        fds: new Map(),
        closedSockets: [],
        pendingOptions: new Map(),
        acceptTotals: new Map(),
        totalled: new Set(),
        notes: [],
      };
      byPid.set(pid, proc);
    }
    return proc;
  }

  /** The process `pid` on the node of `proc` (`proc` itself when unknown). */
  procOf(proc: Proc, pid: number): Proc {
    return pid === proc.pid ? proc : (this.processes.get(proc.node)?.get(pid) ?? proc);
  }

  rename(thread: Thread, name: string): void {
    pushCapped(thread.formerNames, thread.name, NAME_HISTORY_CAP);
    thread.name = name;
  }

  newSocket(family: SocketAddress['family'], provenance: Provenance, socketType?: number): Sock {
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

  newFd(
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
      // Every fd has every field from the start: one object shape for the hot paths.
      madeUpAtNs: undefined,
    };
    proc.fds.set(n, fd);
    sock.fds.push(fd);
    sock.openFds++;
    sock.closed = false;
    return fd;
  }

  pushStep(sock: Sock, step: Step): void {
    sock.timeline.push(step);
    if (sock.timeline.length > TIMELINE_CAP) {
      // Keep the beginning (bind, dup, listen) and the latest steps; drop from the middle.
      sock.timeline.splice(TIMELINE_CAP / 2, 1);
      sock.timelineDropped++;
    }
  }
}
