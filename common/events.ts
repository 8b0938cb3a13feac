// Typed trace events: the one vocabulary shared by the stream parser (producer), the session
// log, the listener state reducer, the CLI and the views (consumers). Everything in an event
// came from a traced process or a node and is untrusted data, never markup or commands.

/** Fields every syscall-level event carries. */
export interface EventOrigin {
  /** Nanoseconds, monotonic on the node (bpftrace `nsecs`), or 0 when unknown (imported logs). */
  timeNs: number;
  /** Thread-group id (what `ps` calls the pid). */
  pid: number;
  /** Thread id. */
  tid: number;
  /** Name of the thread at the time of the event (e.g. `wrk:worker_0`); untrusted text. */
  comm: string;
  /** User-space stack, innermost frame first, as printed by bpftrace; absent when not captured. */
  stack?: string[];
  /** Where the event was seen: a node id ("local" or an SSH host alias). */
  node?: string;
}

export type AddressFamily = 'inet' | 'inet6' | 'unix' | 'other';

export interface SocketAddress {
  family: AddressFamily;
  /** Textual IP (`0.0.0.0`, `::1`) or unix path; empty when unknown. */
  address: string;
  port: number;
}

export interface SocketEvent extends EventOrigin {
  type: 'socket';
  /** Returned fd; negative is an errno. */
  fd: number;
  family: AddressFamily;
  /** SOCK_STREAM = 1, SOCK_DGRAM = 2 (flags masked off). */
  socketType: number;
}

export interface BindEvent extends EventOrigin {
  type: 'bind';
  fd: number;
  address: SocketAddress;
  /** Return value when known (0 = success). */
  result?: number;
}

export interface ListenEvent extends EventOrigin {
  type: 'listen';
  fd: number;
  backlog: number;
  result?: number;
}

export interface SetsockoptEvent extends EventOrigin {
  type: 'setsockopt';
  fd: number;
  level: number;
  optname: number;
  /** The first int of optval when optlen >= 4, else undefined. */
  value?: number;
  optlen: number;
}

export interface DupEvent extends EventOrigin {
  type: 'dup';
  oldFd: number;
  newFd: number;
  via: 'dup' | 'dup2' | 'dup3' | 'fcntl';
}

export interface AcceptEvent extends EventOrigin {
  type: 'accept';
  /** The listening fd accepted on. */
  listenFd: number;
  /** The new connection's fd; negative is an errno (EAGAIN is common and not an accept). */
  fd: number;
  peer?: SocketAddress;
}

/**
 * The running total of accepts by one thread on one listening fd since the trace began, counted
 * in the kernel (the listener trace prints the totals that changed, every interval and at the
 * end; the first accept of each thread and fd is also an `accept` event). `comm` is empty: the
 * thread is named by the other events. A total only grows; a smaller one means a new count.
 */
export interface AcceptCountEvent extends EventOrigin {
  type: 'accepts';
  listenFd: number;
  total: number;
}

export interface CloseEvent extends EventOrigin {
  type: 'close';
  fd: number;
  /** Return value when known (0 = success). */
  result?: number;
}

export interface ExecEvent extends EventOrigin {
  type: 'exec';
  /** Path of the executed binary. */
  path: string;
}

/** A new process (fork) or thread (clone with CLONE_THREAD). */
export interface SpawnEvent extends EventOrigin {
  type: 'spawn';
  childPid: number;
  childTid: number;
  thread: boolean;
}

/** A thread got a (new) name, e.g. by prctl(PR_SET_NAME) or pthread_setname_np. */
export interface ThreadNameEvent extends EventOrigin {
  type: 'thread-name';
  name: string;
}

export interface ExitEvent extends EventOrigin {
  type: 'exit';
  /** True when the whole process exited, false for one thread. */
  processExit: boolean;
}

export type SyscallEvent =
  | SocketEvent
  | BindEvent
  | ListenEvent
  | SetsockoptEvent
  | DupEvent
  | AcceptEvent
  | AcceptCountEvent
  | CloseEvent
  | ExecEvent
  | SpawnEvent
  | ThreadNameEvent
  | ExitEvent;

/** A socket `ss -ltnpe` lists: a user is a process and one of its fds. */
export interface SnapshotListener {
  netid?: string;
  state: string;
  /** Send-Q of a listening socket: its backlog. */
  backlog: number;
  local: SocketAddress;
  users: { comm: string; pid: number; fd: number }[];
  inode?: number;
}

/** A node snapshot of one process in JSON form: its listeners, socket fds and threads. */
export interface SnapshotRecord {
  pid: number;
  /** Its parent process (`PPid` of /proc/PID/status): a forked worker's master. */
  ppid?: number;
  /** ISO time the snapshot was taken. */
  takenAt: string;
  listeners: SnapshotListener[];
  /** [fd, socket inode] for the fds of the process that are sockets. */
  fdInodes: [number, number][];
  threads: { tid: number; comm: string }[];
}

/** One worker's connection counters in Envoy's admin API. */
export interface AdminWorkerRecord {
  worker: number;
  /** `downstream_cx_total`. */
  total: number;
  /** `downstream_cx_active`. */
  active?: number;
}

/** Envoy's balancing settings for one listener (config_dump), as the listeners view shows them. */
export interface ListenerBalanceRecord {
  name: string;
  balancer?: 'exact_balance' | 'extend_balance';
  reusePort?: boolean;
  reusePortFrom?: 'field' | 'default';
}

/** Who was asked, what Envoy said of itself, and why parts are missing when they are. */
export interface AdminSummaryRecord {
  /** The admin address and where it was reached (`127.0.0.1:15000 (netns of pid 7)`). */
  address: string;
  /** The admin port itself (its listener's accepts include Fieldtrace's reads). */
  port?: number;
  version?: string;
  state?: string;
  concurrency?: number;
  /** Why per-worker stats are missing, when they are. */
  statsNote?: string;
  /** Why the listeners' balancing settings (config_dump) are missing, when they are. */
  configNote?: string;
  error?: string;
}

/** What one read of a traced Envoy's admin API said (server_info, listeners, stats, config_dump). */
export interface AdminRecord {
  summary: AdminSummaryRecord;
  listeners: {
    name: string;
    address: string;
    port: number;
    statPrefix?: string;
    workers: AdminWorkerRecord[];
    config?: ListenerBalanceRecord;
  }[];
}

/** Events about the trace itself rather than the traced process. */
export type SessionEvent =
  | { type: 'attached'; probes: number; timeNs?: number }
  /** Text the script printed that is not one of our structured events. */
  | { type: 'output'; text: string }
  /** A map dump (`print(@x)` or the END dump): bpftrace's own JSON `data`. */
  | { type: 'map'; name: string; value: unknown }
  | { type: 'lost'; count: number }
  /** The node as it was when the trace started: what was there before the first event. */
  | { type: 'snapshot'; node: string; snapshot: SnapshotRecord }
  /** A read of the traced Envoy's admin API, at the start, now and then, and at the stop. */
  | { type: 'admin'; node: string; pid: number; report: AdminRecord }
  /** A line the parser could not read: kept, never dropped. */
  | { type: 'malformed'; line: string; reason: string }
  /** A diagnostic from bpftrace itself (stderr), with the script position when it gives one. */
  | {
      type: 'diagnostic';
      severity: 'error' | 'warning';
      message: string;
      /** The script as bpftrace named it (`stdin` or the file path), when the message has a position. */
      file?: string;
      /** 1-based, as bpftrace prints them. */
      line?: number;
      column?: number;
      endColumn?: number;
      /** Set when bpftrace itself aborted (an uncaught C++ exception), ending the trace. */
      crash?: true;
      /** A known-benign warning's id (core/trace/bpftrace-warnings.ts). */
      known?: string;
      /** Its plain-words meaning, on its first occurrence in a run only. */
      explanation?: string;
    }
  | { type: 'ended'; exitCode: number | null; signal: string | null; reason?: string };

export type TraceEvent = SyscallEvent | SessionEvent;

export const SYSCALL_EVENT_TYPES: ReadonlySet<SyscallEvent['type']> = new Set([
  'socket',
  'bind',
  'listen',
  'setsockopt',
  'dup',
  'accept',
  'accepts',
  'close',
  'exec',
  'spawn',
  'thread-name',
  'exit',
]);

export function isSyscallEvent(event: TraceEvent): event is SyscallEvent {
  return SYSCALL_EVENT_TYPES.has(event.type as SyscallEvent['type']);
}

/** An event as it travels on the extension's event bus and in session logs (`.jsonl`, one per line). */
export interface SessionTraceEvent {
  /** Unique per run of a trace. */
  sessionId: string;
  /** "local" or the SSH host alias the trace runs on. */
  nodeId: string;
  event: TraceEvent;
}
