// Per-CPU output buffers: bpftrace prints each CPU's events in order, but the CPUs' buffers are
// read one after another, so an event can be read before an earlier one from another CPU — an
// interval's accept totals before the dup() a worker made its listening fd with, a listen() before
// the socket() of a thread that moved CPUs. The later event then met an fd it had not seen and made
// one up; when the creating event arrives, older than what made the fd up, the made-up fd is folded
// into the real one instead of being taken for an fd closed out of sight.
import { mergeSeries } from './accept-series';
import type { Fd, ListenerModel, Proc, Worker } from './model';

/** The made-up fd at `n` that a creating event of time `timeNs` actually created, if any. */
export function madeUpAfter(proc: Proc, n: number, timeNs: number): Fd | undefined {
  const fd = proc.fds.get(n);
  return fd?.madeUpAtNs !== undefined && timeNs > 0 && timeNs < fd.madeUpAtNs ? fd : undefined;
}

/**
 * Moves what the made-up fd `early` gathered (accepts per worker, listen, address, options, steps)
 * to the fd `into` just created for the same number on `node`, and forgets `early` and its made-up
 * socket (closed, so that no inode lookup finds it again).
 */
export function absorbEarly(m: ListenerModel, node: string, early: Fd, into: Fd): void {
  const from = early.socket;
  const to = into.socket;
  if (from !== to) {
    from.fds = from.fds.filter((f) => f !== early);
    from.openFds--;
  }
  into.accepts += early.accepts;
  if (early.listening) {
    into.listening = true;
    into.listenedBy ??= early.listenedBy;
    to.listening = true;
  }
  into.kernel ??= early.kernel;
  if (from === to) return;
  if (from.openFds === 0) from.closed = true;
  if (from.inode !== undefined && to.inode === undefined) m.setInode(node, to, from.inode);
  if (!to.address && from.address) {
    to.address = from.address;
    to.family = from.family;
    to.boundBy ??= from.boundBy;
  }
  to.backlog ??= from.backlog;
  for (const [key, option] of from.options) if (!to.options.has(key)) to.options.set(key, option);
  for (const [key, worker] of from.workers) {
    const mine = to.workers.get(key);
    if (mine) mergeWorker(mine, worker);
    else to.workers.set(key, worker);
  }
  if (from.timeline.length > 0) {
    for (const s of from.timeline) m.pushStep(to, s);
    to.timeline.sort((a, b) => a.timeNs - b.timeNs || a.seq - b.seq);
  }
  for (const note of from.notes) if (!to.notes.includes(note)) to.notes.push(note);
}

function mergeWorker(into: Worker, from: Worker): void {
  into.count += from.count;
  into.firstSec = Math.min(into.firstSec, from.firstSec);
  from.bucketSecs.forEach((sec, i) => {
    if (sec === into.bucketSecs[i]) into.buckets[i] += from.buckets[i];
    else if (sec > into.bucketSecs[i]) {
      into.bucketSecs[i] = sec;
      into.buckets[i] = from.buckets[i];
    }
  });
  mergeSeries(into.series, from.series);
}
