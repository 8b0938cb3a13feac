// What the node says, merged into the listener model: a snapshot of the kernel's listening
// sockets and the process' threads (seeding what the trace has not seen and noting where the two
// disagree), and the Envoy admin API's report, checked against the traced accepts.
import type { AdminListenerView, ProcessView } from '../../common/listeners-protocol';
import type { AdminReport } from './admin';
import { addressText, pushCapped, type ListenerModel, type Proc, type Sock } from './model';
import { workerIndex } from './names';
import type { ProcessSnapshot } from './snapshot';

const NOTES_CAP = 16;

/** Seeds the state from a node snapshot and marks where it disagrees with the trace. */
export function mergeSnapshot(m: ListenerModel, snap: ProcessSnapshot): void {
  const proc = m.proc(snap.node, snap.pid);
  proc.snapshotAt = snap.takenAt;
  if (snap.ppid !== undefined) proc.ppid = snap.ppid;
  for (const t of snap.threads) {
    const thread = proc.threads.get(t.tid);
    if (!thread) proc.threads.set(t.tid, { tid: t.tid, name: t.comm, formerNames: [], exited: false });
    else if (thread.name !== t.comm) m.rename(thread, t.comm);
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
          if (sock.inode === undefined && (!other || other === sock)) m.setInode(snap.node, sock, inode);
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
            `The trace says fd ${user.fd} is bound to ${addressText(sock.address)}, the kernel says ${addressText(l.local)}.`,
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
      // One inode is one socket, in this process (threads, dups) and in others (fork).
      let sock = inode !== undefined ? (byInode.get(inode) ?? m.socketOfInode(snap.node, inode)) : undefined;
      if (!sock) {
        sock = m.newSocket(l.local.family, 'snapshot', l.netid === 'udp' ? 2 : 1);
        sock.address = { ...l.local };
        if (inode !== undefined) m.setInode(snap.node, sock, inode);
        sock.listening = l.state === 'LISTEN';
        sock.backlog = l.backlog;
      }
      if (inode !== undefined) byInode.set(inode, sock);
      const created = m.newFd(proc, user.fd, sock, 'unknown', undefined, 'snapshot');
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
export function mergeAdmin(m: ListenerModel, node: string, pid: number, report: AdminReport): void {
  const proc = m.proc(node, pid);
  proc.admin = report;
  if (!proc.adminBaseline && report.listeners.some((l) => l.workers.length > 0)) proc.adminBaseline = report;
}

/** Notes where the admin API's counts disagree with the traced ones in a rendered process. */
export function crossCheckAdmin(proc: Proc, view: ProcessView): void {
  const admin = proc.admin!;
  for (const listener of view.listeners) {
    if (listener.port === admin.summary.port && listener.totalAccepts > 0)
      listener.notes.push(
        'This is the admin listener Fieldtrace reads (a few GETs at the start, every 10 s and at the stop): its accepts include those reads.',
      );
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
    if (match.config) adminView.config = match.config;
    const baseline =
      proc.adminBaseline !== admin
        ? proc.adminBaseline?.listeners.find((b) => b.name === match.name)
        : undefined;
    if (baseline) adminView.baseline = baseline.workers.map((w) => ({ worker: w.worker, total: w.total }));
    listener.admin = adminView;
    for (const w of match.workers) {
      const traced = listener.accepts.find((a) => workerIndex(a.name) === w.worker);
      const before = adminView.baseline?.find((b) => b.worker === w.worker)?.total;
      const counted = w.total - (before ?? 0);
      if (traced && traced.count !== counted)
        listener.notes.push(
          before === undefined
            ? `worker_${w.worker}: admin counts ${w.total} connections, the trace ${traced.count} accepts (the admin count includes connections from before the trace).`
            : `worker_${w.worker}: admin counts ${counted} connections since the trace began, the trace ${traced.count} accepts${match.config?.balancer ? ` (${match.config.balancer} hands connections between workers)` : ''}.`,
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
