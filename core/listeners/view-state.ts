// The view state: the listener model rendered as a plain, JSON-safe ListenerState (grouped by
// address, with each listener's layout, accepts per worker and timeline) for the webview, the CLI
// and the session log.
import { type AcceptSeries, seriesView } from './accept-series';
import { acceptBalance } from './balance';
import type {
  FdView,
  ListenerLayout,
  ListenerState,
  ListenerView,
  ProcessView,
  SocketOptionView,
  SocketView,
  StepView,
  ThreadRef,
  WorkerAcceptsView,
} from '../../common/listeners-protocol';
import {
  RATE_WINDOW_S,
  workerKey,
  type Fd,
  type ListenerModel,
  type Proc,
  type Sock,
  type Step,
  type ThreadAt,
  type Worker,
} from './model';
import { istioPortLabel, SO_REUSEPORT, SOL_SOCKET, socketOptionName } from './names';
import { crossCheckAdmin } from './snapshot-merge';

function addressKey(family: string, address: string, port: number): string {
  if (family === 'unix') return `unix ${address || '(unnamed)'}`;
  if (family === 'inet6') return `inet6 [${address}]:${port}`;
  return `${family} ${address}:${port}`;
}

export function listenerState(m: ListenerModel): ListenerState {
  const processes: ProcessView[] = [];
  for (const byPid of m.processes.values())
    for (const proc of byPid.values()) processes.push(processView(m, proc));
  processes.sort((a, b) => (a.node === b.node ? a.pid - b.pid : a.node < b.node ? -1 : 1));
  const state: ListenerState = {
    version: 1,
    processes,
    events: m.events,
    malformed: m.malformed,
    lostEvents: m.lostEvents,
    sources: [...m.sources],
    messages: [...m.messages],
  };
  if (m.lostEvents > 0) state.lostWarning = lostWarning(m.lostEvents, m.kernelCounts);
  return state;
}

/** What lost events mean for the figures, by how the accepts were counted. */
export function lostWarning(lost: number, kernelCounts: boolean): string {
  const steps = `bpftrace lost ${lost} event${lost === 1 ? '' : 's'}: sockets, fds and steps (socket, bind, listen, dup, close, options) may be missing or out of date`;
  return kernelCounts
    ? `${steps}, and a thread's first accept may show without its stack; accept counts are the kernel's own totals and stay exact (the latest may lag one interval).`
    : `${steps}, and accepts are undercounted by up to ${lost} (this log has one event per accept).`;
}

function ref(proc: Proc, at: ThreadAt | undefined): ThreadRef | undefined {
  if (!at) return undefined;
  const name = proc.threads.get(at.tid)?.name ?? at.nameThen;
  return name === at.nameThen || !at.nameThen
    ? { tid: at.tid, name }
    : { tid: at.tid, name, nameThen: at.nameThen };
}

function processView(m: ListenerModel, proc: Proc): ProcessView {
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
  const listeners = [...groups.entries()].map(([key, socks]) => listenerView(m, proc, key, socks));
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
    crossCheckAdmin(proc, view);
  }
  // After the admin cross-check: the finding sets Envoy's own counters beside the traced accepts.
  const parentOf = new Map<number, number>();
  for (const p of m.processes.get(proc.node)?.values() ?? []) {
    const parent = p.parentPid ?? p.ppid;
    if (parent !== undefined) parentOf.set(p.pid, parent);
  }
  for (const listener of listeners) {
    const balance = acceptBalance(listener, view.admin?.version, parentOf);
    if (balance) listener.balance = balance;
  }
  return view;
}

function listenerView(m: ListenerModel, proc: Proc, key: string, socks: Sock[]): ListenerView {
  const first = socks[0];
  const address = first.address;
  const port = address?.port ?? 0;
  const sockets = socks.map((s) => socketView(m, proc, s));
  const live = socks.filter((s) => !s.closed);
  const { layout, reason } = listenerLayout(m, proc, live.length > 0 ? live : socks);
  const workers: Worker[] = [];
  for (const s of socks) workers.push(...s.workers.values());
  const merged = new Map<number, Worker & { rate: number; parts: AcceptSeries[] }>();
  const nowSec = Math.floor(m.lastTimeNs / 1e9);
  for (const w of workers) {
    const key = workerKey(w.pid, w.tid);
    let recent = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++)
      if (w.bucketSecs[i] > nowSec - RATE_WINDOW_S) recent += w.buckets[i];
    const sum = merged.get(key);
    if (sum) {
      sum.count += w.count;
      sum.rate += recent;
      sum.firstSec = Math.min(sum.firstSec, w.firstSec);
      sum.parts.push(w.series);
    } else merged.set(key, { ...w, rate: recent, parts: [w.series] });
  }
  const total = [...merged.values()].reduce((n, w) => n + w.count, 0);
  const accepts: WorkerAcceptsView[] = [...merged.values()]
    .map((w) => {
      const view: WorkerAcceptsView = {
        pid: w.pid,
        tid: w.tid,
        name: threadName(m, proc, w.pid, w.tid),
        count: w.count,
        share: total > 0 ? w.count / total : 0,
      };
      if (m.lastTimeNs > 0) {
        const span = Math.min(RATE_WINDOW_S, Math.max(1, nowSec - w.firstSec + 1));
        view.ratePerSec = w.rate / span;
      }
      return view;
    })
    .sort((a, b) => a.pid - b.pid || a.name.localeCompare(b.name, 'en', { numeric: true }) || a.tid - b.tid);
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
      thread: ref(m.procOf(proc, s.pid), s.thread)!,
      text: s.text,
    };
    if (s.stack) view.stack = s.stack;
    return view;
  });
  const notes = socks.flatMap((s) => s.notes);
  const acceptSeries = seriesView(
    m.seriesOriginSec.get(proc.node),
    accepts.map((a) => ({ ...a, parts: merged.get(workerKey(a.pid, a.tid))!.parts })),
  );
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
  if (acceptSeries) view.acceptSeries = acceptSeries;
  const label = address && address.family !== 'unix' ? istioPortLabel(port) : undefined;
  if (label) view.label = label;
  return view;
}

function threadName(m: ListenerModel, proc: Proc, pid: number, tid: number): string {
  return m.procOf(proc, pid).threads.get(tid)?.name ?? `tid ${tid}`;
}

function socketView(m: ListenerModel, proc: Proc, sock: Sock): SocketView {
  const options: SocketOptionView[] = [...sock.options.values()].map((o) => {
    const view: SocketOptionView = {
      level: o.level,
      optname: o.optname,
      name: socketOptionName(o.level, o.optname),
      by: ref(m.procOf(proc, o.pid), o.by)!,
    };
    if (o.value !== undefined) view.value = o.value;
    return view;
  });
  const fds: FdView[] = sock.fds.map((f) => {
    const holder = m.procOf(proc, f.pid);
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
    const owner = ref(holder, f.owner);
    if (owner) view.owner = owner;
    const listenedBy = ref(holder, f.listenedBy);
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
      .map((w) => ({ pid: w.pid, tid: w.tid, name: threadName(m, proc, w.pid, w.tid), count: w.count }))
      .sort((a, b) => b.count - a.count);
  if (sock.inode !== undefined) view.inode = sock.inode;
  if (sock.socketType !== undefined) view.socketType = sock.socketType;
  if (sock.backlog !== undefined) view.backlog = sock.backlog;
  const boundBy = ref(proc, sock.boundBy);
  if (boundBy) view.boundBy = boundBy;
  return view;
}

function listenerLayout(
  m: ListenerModel,
  proc: Proc,
  socks: Sock[],
): { layout: ListenerLayout; reason: string } {
  const openFds = socks.flatMap((s) => s.fds.filter((f) => f.open));
  const fdsHere = (s: Sock): Fd[] => s.fds.filter((f) => f.pid === proc.pid && (f.open || s.closed));
  const pids = new Set(openFds.map((f) => f.pid));
  const sharedDup = socks.some((s) => fdsHere(s).length > 1);
  const names = (fds: Fd[]): string =>
    fds
      .map((f) => {
        const who = ref(m.procOf(proc, f.pid), f.listenedBy ?? f.owner);
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
