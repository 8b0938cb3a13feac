// The listener state (what the reducer in core/listeners produces) and the messages between the
// extension and the listeners webview. Both sides import this module and validate every message
// they receive with the guards below: a webview is a separate, less trusted context.
import { isFiniteNumber, isRecord } from './guards';
import type { AdminSummaryRecord, AdminWorkerRecord, ListenerBalanceRecord } from './events';

export type ListenerLayout = 'single' | 'shared-dup' | 'reuse-port' | 'inherited' | 'mixed';

/** Where the knowledge of a socket or fd comes from. */
export type Provenance =
  /** Its creating syscall (socket, dup, fork) was traced. */
  | 'traced'
  /** It existed before the trace started: first seen in a bind, listen, accept or close. */
  | 'pre-trace'
  /** Only an END map dump of an imported log mentions it. */
  | 'map-dump'
  /** Only a node snapshot (`ss`, /proc) shows it. */
  | 'snapshot';

export interface ThreadRef {
  /** Thread id; negative ids are placeholders for logs that carry only thread names. */
  tid: number;
  /** The thread's current (latest) name. */
  name: string;
  /** The name it had when it did the step, when different (threads are renamed after creation). */
  nameThen?: string;
}

export interface SocketOptionView {
  level: number;
  optname: number;
  /** Decoded name such as `SOL_SOCKET/SO_REUSEADDR`, or `level 99/optname 7` when unknown. */
  name: string;
  value?: number;
  by: ThreadRef;
}

export interface FdView {
  pid: number;
  fd: number;
  open: boolean;
  via: 'socket' | 'dup' | 'dup2' | 'dup3' | 'fcntl' | 'fork' | 'unknown';
  /** The fd it was duplicated from (dup) or inherited as (fork: same number in the parent). */
  from?: number;
  /** Who created it (socket/dup), or the first thread seen using it for pre-trace fds. */
  owner?: ThreadRef;
  listenedBy?: ThreadRef;
  listening: boolean;
  accepts: number;
  provenance: Provenance;
  /** Agreement with the last node snapshot of its process. */
  kernel?: 'agrees' | 'missing-in-kernel' | 'kernel-only';
}

export interface SocketView {
  /** Stable id inside one state (`s12`). */
  id: string;
  inode?: number;
  socketType?: number;
  listening: boolean;
  /** -1 when the log does not carry it. */
  backlog?: number;
  options: SocketOptionView[];
  fds: FdView[];
  /** Processes holding an fd of this socket (more than one: inherited across fork). */
  pids: number[];
  boundBy?: ThreadRef;
  provenance: Provenance;
  closed: boolean;
  /** Threads that accepted from this socket, busiest first (reuse-port: one worker per socket). */
  acceptedBy?: { pid: number; tid: number; name: string; count: number }[];
}

export interface WorkerAcceptsView {
  pid: number;
  tid: number;
  name: string;
  count: number;
  /** count / all accepts of the listener, 0..1. */
  share: number;
  /** Accepts per second over the last window of trace time; absent when events carry no time. */
  ratePerSec?: number;
}

/** The spread of one set of per-worker counts. */
export interface SpreadFigures {
  workers: number;
  total: number;
  maxOverMean: number;
  /** Coefficient of variation (standard deviation / mean). */
  cv: number;
}

/** The cause the evidence supports, named for tests and icons; `finding` says it in words. */
export type ImbalanceCause =
  /** One thread accepts: nothing to balance. */
  | 'single'
  /** Too few accepts for the spread to mean anything. */
  | 'too-few'
  | 'balanced'
  /** Dup layout: every worker waits on one shared accept queue. */
  | 'shared-queue'
  /** reuse_port: the kernel hashes each connection's 4-tuple to one worker's socket. */
  | 'reuse-port-hash'
  /** Inherited across fork (nginx-style): every process waits on the same socket. */
  | 'inherited'
  /** Envoy's exact balancer hands accepted connections on: accepts and owners differ. */
  | 'exact-balance'
  | 'unknown';

/** Envoy's balancing settings for one listener, from `/config_dump?resource=dynamic_listeners`:
 * `balancer` is `connection_balance_config`'s kind, `reusePort` is `enable_reuse_port` (≥ 1.20,
 * default true on Linux) or `reuse_port` (≤ 1.19, default false), `reusePortFrom` whether it was
 * the field itself or the version's default. */
export type ListenerBalanceConfig = ListenerBalanceRecord;

/** How evenly the workers accept on one listener, and the finding in plain words. */
export interface AcceptBalanceView extends SpreadFigures {
  cause: ImbalanceCause;
  /**
   * Envoy's own per-worker `downstream_cx_total` over the same span: the growth since the trace's
   * first admin read when there is one (`since: 'trace'`), else since Envoy started.
   */
  admin?: SpreadFigures & { since: 'trace' | 'start' };
  config?: ListenerBalanceConfig;
  finding: string;
}

/** Accepts per worker over the trace in equal buckets of trace time, for a small chart. */
export interface AcceptSeriesView {
  /** Trace time (ns, bpftrace's clock) where bucket 0 starts. */
  startNs: number;
  /** Seconds per bucket: one second, doubled whenever the trace outgrows the bucket count. */
  bucketSec: number;
  /** One row per worker in the order of `accepts`; `counts[i]` is the accepts in bucket i. */
  workers: { pid: number; tid: number; name: string; counts: number[] }[];
}

export type StepKind =
  'socket' | 'bind' | 'setsockopt' | 'listen' | 'dup' | 'fork' | 'close' | 'first-accept';

export interface StepView {
  seq: number;
  timeNs: number;
  kind: StepKind;
  pid: number;
  fd: number;
  thread: ThreadRef;
  text: string;
  /** User stack, innermost frame first. */
  stack?: string[];
}

export type AdminWorkerStat = AdminWorkerRecord;

/** What the Envoy admin API says about one listener, beside the traced accepts. */
export interface AdminListenerView {
  name: string;
  statPrefix?: string;
  workers: AdminWorkerStat[];
  /** `downstream_cx_total` per worker at the first admin read of this trace, when read twice. */
  baseline?: AdminWorkerStat[];
  config?: ListenerBalanceConfig;
}

export interface ListenerView {
  /** `inet 0.0.0.0:15001`, `inet6 [::]:80`, `unix /run/x.sock`. */
  key: string;
  family: 'inet' | 'inet6' | 'unix' | 'other';
  address: string;
  port: number;
  /** Well-known role (Istio sidecar ports), e.g. `virtual outbound`. */
  label?: string;
  layout: ListenerLayout;
  /** One sentence that explains the layout. */
  layoutReason: string;
  sockets: SocketView[];
  accepts: WorkerAcceptsView[];
  totalAccepts: number;
  /** Absent when no thread can accept on it. */
  balance?: AcceptBalanceView;
  /** Absent when the accepts carry no time. */
  acceptSeries?: AcceptSeriesView;
  timeline: StepView[];
  /** Steps dropped from the timeline to keep it bounded. */
  timelineDropped: number;
  closed: boolean;
  admin?: AdminListenerView;
  /** Where the trace and the kernel (snapshot) or the admin API disagree. */
  notes: string[];
}

export interface ThreadView {
  tid: number;
  name: string;
  exited: boolean;
  /** Earlier names, oldest first. */
  formerNames: string[];
}

export interface ProcessView {
  node: string;
  pid: number;
  name: string;
  parentPid?: number;
  exited: boolean;
  threads: ThreadView[];
  listeners: ListenerView[];
  snapshotAt?: string;
  admin?: AdminSummaryView;
  notes: string[];
}

export type AdminSummaryView = AdminSummaryRecord;

export interface ListenerState {
  version: 1;
  processes: ProcessView[];
  /** Syscall events reduced. */
  events: number;
  malformed: number;
  lostEvents: number;
  /** When bpftrace lost events: what that means for the figures shown, one paragraph. */
  lostWarning?: string;
  /** Sources that fed the state (session ids, file names). */
  sources: string[];
  /** Trace-level messages (diagnostics, end of session). */
  messages: string[];
}

// ---- Messages --------------------------------------------------------------------------------

/** Extension → webview. */
export type ToWebviewMessage =
  | { type: 'state'; state: ListenerState }
  | { type: 'error'; message: string }
  | { type: 'busy'; message: string };

/** Webview → extension. */
export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'showStack'; title: string; frames: string[] }
  | { type: 'openFrame'; frame: string; calleeFrame?: string }
  | { type: 'command'; command: 'openLog' | 'snapshot' | 'copyMarkdown' | 'copyJson' | 'clear' };

const WEBVIEW_COMMANDS = new Set(['openLog', 'snapshot', 'copyMarkdown', 'copyJson', 'clear']);
const MAX_TEXT = 4096;
const MAX_FRAMES = 512;

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEXT;
}

/** Validates a message from the webview; returns undefined for anything malformed. */
export function parseFromWebview(value: unknown): FromWebviewMessage | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'showStack': {
      const { title, frames } = value;
      if (!isShortString(title) || !Array.isArray(frames) || frames.length > MAX_FRAMES) return undefined;
      if (!frames.every(isShortString)) return undefined;
      return { type: 'showStack', title, frames: frames as string[] };
    }
    case 'openFrame': {
      const { frame, calleeFrame } = value;
      if (!isShortString(frame)) return undefined;
      if (calleeFrame !== undefined && !isShortString(calleeFrame)) return undefined;
      return calleeFrame === undefined
        ? { type: 'openFrame', frame }
        : { type: 'openFrame', frame, calleeFrame };
    }
    case 'command':
      if (typeof value.command !== 'string' || !WEBVIEW_COMMANDS.has(value.command)) return undefined;
      return { type: 'command', command: value.command as 'openLog' };
    default:
      return undefined;
  }
}

function isListenerState(value: unknown): value is ListenerState {
  if (!isRecord(value) || value.version !== 1) return false;
  if (!Array.isArray(value.processes) || !Array.isArray(value.sources) || !Array.isArray(value.messages))
    return false;
  if (typeof value.events !== 'number') return false;
  if (value.lostWarning !== undefined && !isShortString(value.lostWarning)) return false;
  return value.processes.every(
    (p) =>
      isRecord(p) &&
      typeof p.pid === 'number' &&
      typeof p.name === 'string' &&
      Array.isArray(p.threads) &&
      Array.isArray(p.notes) &&
      Array.isArray(p.listeners) &&
      p.listeners.every(
        (l) =>
          isRecord(l) &&
          typeof l.key === 'string' &&
          Array.isArray(l.sockets) &&
          Array.isArray(l.accepts) &&
          Array.isArray(l.timeline) &&
          Array.isArray(l.notes) &&
          l.sockets.every((s) => isRecord(s) && Array.isArray(s.fds) && Array.isArray(s.options)) &&
          (l.balance === undefined || isBalance(l.balance)) &&
          (l.acceptSeries === undefined || isAcceptSeries(l.acceptSeries)),
      ),
  );
}

function isSpread(v: unknown): boolean {
  return isRecord(v) && ['workers', 'total', 'maxOverMean', 'cv'].every((k) => isFiniteNumber(v[k]));
}

function isBalance(v: unknown): boolean {
  if (!isRecord(v) || !isSpread(v) || typeof v.cause !== 'string' || !isShortString(v.finding)) return false;
  if (
    v.admin !== undefined &&
    !(isSpread(v.admin) && isRecord(v.admin) && (v.admin.since === 'trace' || v.admin.since === 'start'))
  )
    return false;
  return v.config === undefined || (isRecord(v.config) && isShortString(v.config.name));
}

/** The chart's rows: equal lengths of finite counts, bounded. */
function isAcceptSeries(v: unknown): boolean {
  if (!isRecord(v) || !isFiniteNumber(v.startNs) || !isFiniteNumber(v.bucketSec) || v.bucketSec <= 0)
    return false;
  if (!Array.isArray(v.workers) || v.workers.length > 4096) return false;
  const length =
    isRecord(v.workers[0]) && Array.isArray(v.workers[0].counts) ? v.workers[0].counts.length : 0;
  return v.workers.every(
    (w) =>
      isRecord(w) &&
      isShortString(w.name) &&
      Array.isArray(w.counts) &&
      w.counts.length === length &&
      w.counts.length <= 1024 &&
      w.counts.every(isFiniteNumber),
  );
}

/** Validates a message from the extension; returns undefined for anything malformed. */
export function parseToWebview(value: unknown): ToWebviewMessage | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'state':
      return isListenerState(value.state) ? { type: 'state', state: value.state } : undefined;
    case 'error':
    case 'busy':
      return isShortString(value.message) ? { type: value.type, message: value.message } : undefined;
    default:
      return undefined;
  }
}
