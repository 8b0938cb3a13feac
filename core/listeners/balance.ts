// Why is one worker doing all the work? Per listener: the accepts of each worker that can accept
// (in the dup layout a worker that listens and never accepted counts as 0), the imbalance as max/mean and the
// coefficient of variation, and a finding in plain words that names the cause the layout supports.
import type { AcceptBalanceView, ListenerView } from '../../common/listeners-protocol';

// Below this many accepts per worker the spread says more about chance than about the kernel.
const MIN_ACCEPTS_PER_WORKER = 5;
const MIN_ACCEPTS = 20;
// A coefficient of variation under this is as even as random arrivals get at these counts.
const BALANCED_CV = 0.25;

export function acceptBalance(
  l: Pick<ListenerView, 'accepts' | 'sockets' | 'layout'>,
): AcceptBalanceView | undefined {
  const counts = new Map<string, { name: string; count: number }>();
  for (const a of l.accepts)
    counts.set(`${a.pid}:${a.tid}`, { name: a.name || `thread ${a.tid}`, count: a.count });
  // In the dup layout each worker listens on its own dup: one that never accepted counts as 0.
  // (With reuse_port the main thread listens and the workers accept: listening says nothing.)
  if (l.layout === 'shared-dup')
    for (const s of l.sockets)
      for (const f of s.fds)
        if (f.open && f.listening && f.listenedBy && f.listenedBy.tid > 0) {
          const key = `${f.pid}:${f.listenedBy.tid}`;
          if (!counts.has(key)) counts.set(key, { name: f.listenedBy.name, count: 0 });
        }
  const workers = [...counts.values()];
  if (workers.length === 0) return undefined;
  const total = workers.reduce((n, w) => n + w.count, 0);
  const mean = total / workers.length;
  const busiest = workers.reduce((a, b) => (b.count > a.count ? b : a));
  const variance = workers.reduce((n, w) => n + (w.count - mean) ** 2, 0) / workers.length;
  const cv = mean > 0 ? Math.sqrt(variance) / mean : 0;
  const maxOverMean = mean > 0 ? busiest.count / mean : 0;
  const figures = `max/mean ${maxOverMean.toFixed(2)}, coefficient of variation ${cv.toFixed(2)} over ${total} accepts by ${workers.length} worker(s)`;
  let finding: string;
  let cause: AcceptBalanceView['cause'] = 'unknown';
  if (workers.length === 1) {
    cause = 'single';
    finding = `One thread accepts on this listener (${busiest.name}): there is nothing to balance.`;
  } else if (total < Math.max(MIN_ACCEPTS, MIN_ACCEPTS_PER_WORKER * workers.length)) {
    cause = 'too-few';
    finding = `Too few connections to judge the balance (${figures}).`;
  } else if (cv < BALANCED_CV) {
    cause = 'balanced';
    finding = `Balanced: ${figures}.`;
  } else {
    const skew = `${busiest.name} took ${busiest.count} of ${total} (${figures})`;
    switch (l.layout) {
      case 'shared-dup':
        cause = 'shared-queue';
        finding =
          `${skew}. Every worker waits on one shared accept queue (the dup layout): whichever ` +
          `worker's epoll wakes first takes the connection, so an idle worker wins more. Envoy's ` +
          `connection_balance_config with exact_balance hands each connection to the worker with ` +
          `the fewest.`;
        break;
      case 'reuse-port':
        cause = 'reuse-port-hash';
        finding =
          `${skew}. With reuse_port the kernel hashes each connection's 4-tuple to one worker's ` +
          `socket: a few long-lived clients land unevenly, many short ones even out. ` +
          `exact_balance in connection_balance_config (or more client connections) evens it.`;
        break;
      case 'inherited':
        cause = 'inherited';
        finding =
          `${skew}. The listening socket is inherited across fork (nginx-style): every process ` +
          `waits on the same socket and the first to wake takes the connection.`;
        break;
      default:
        finding = `${skew}.`;
    }
  }
  return { workers: workers.length, total, maxOverMean, cv, cause, finding };
}
