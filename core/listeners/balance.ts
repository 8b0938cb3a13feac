// Why is one worker doing all the work? Per listener: the accepts of each worker that can accept
// (in the dup layout a worker that listens and never accepted counts as 0), the imbalance as
// max/mean and the coefficient of variation, Envoy's own per-worker connection counters over the
// same span when its admin API was read, and a finding in plain words that quotes those figures
// and names the cause the evidence supports, with what Envoy offers against it.
import type {
  AcceptBalanceView,
  AdminListenerView,
  ImbalanceCause,
  ListenerBalanceConfig,
  ListenerView,
  SpreadFigures,
} from '../../common/listeners-protocol';
import { envoyVersionAtLeast } from './envoy-version';

// Below this many accepts per worker the spread says more about chance than about the kernel.
const MIN_ACCEPTS_PER_WORKER = 5;
const MIN_ACCEPTS = 20;
// A coefficient of variation under this is as even as random arrivals get at these counts.
const BALANCED_CV = 0.25;

type Counted = { name: string; count: number };

function spread(counts: Counted[]): SpreadFigures & { busiest: Counted } {
  const total = counts.reduce((n, w) => n + w.count, 0);
  const mean = counts.length > 0 ? total / counts.length : 0;
  const busiest = counts.reduce((a, b) => (b.count > a.count ? b : a), counts[0]);
  const variance = counts.reduce((n, w) => n + (w.count - mean) ** 2, 0) / Math.max(1, counts.length);
  return {
    workers: counts.length,
    total,
    maxOverMean: mean > 0 ? busiest.count / mean : 0,
    cv: mean > 0 ? Math.sqrt(variance) / mean : 0,
    busiest,
  };
}

function tooFew(s: SpreadFigures): boolean {
  return s.total < Math.max(MIN_ACCEPTS, MIN_ACCEPTS_PER_WORKER * s.workers);
}

function figuresText(s: SpreadFigures, what: string): string {
  return `max/mean ${s.maxOverMean.toFixed(2)}, coefficient of variation ${s.cv.toFixed(2)} over ${s.total} ${what} by ${s.workers} worker(s)`;
}

/** Envoy's counters per worker: the growth since the trace's first admin read, else since start. */
function adminSpread(
  admin: AdminListenerView | undefined,
): (SpreadFigures & { since: 'trace' | 'start' }) | undefined {
  if (!admin || admin.workers.length === 0) return undefined;
  const counts = admin.workers.map((w) => {
    const before = admin.baseline?.find((b) => b.worker === w.worker)?.total ?? 0;
    return { name: `worker_${w.worker}`, count: Math.max(0, w.total - before) };
  });
  const { busiest: _, ...figures } = spread(counts);
  return { ...figures, since: admin.baseline ? 'trace' : 'start' };
}

/**
 * The traced accepts per worker, with the workers that could accept and never did: the dup
 * layout's listening workers, and Envoy's workers by its own counters (`wrk:worker_N` takes
 * from every listener; a trace attached late never saw them listen).
 */
function tracedCounts(
  l: Pick<ListenerView, 'accepts' | 'sockets' | 'layout' | 'admin'>,
  parentOf: ReadonlyMap<number, number>,
): Counted[] {
  const counts = new Map<string, Counted>();
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
  // Inherited across fork: every child holding the socket can accept (a stuck or busy worker
  // never does); a process that forked others is the master and is left out. Only processes
  // whose parent is known (a traced fork, a snapshot's PPid) are judged.
  if (l.layout === 'inherited') {
    const parents = new Set(parentOf.values());
    const accepting = new Set(l.accepts.map((a) => a.pid));
    for (const s of l.sockets)
      for (const f of s.fds)
        if (f.open && parentOf.has(f.pid) && !parents.has(f.pid) && !accepting.has(f.pid))
          counts.set(`${f.pid}:${f.pid}`, { name: `pid ${f.pid}`, count: 0 });
  }
  const names = new Set([...counts.values()].map((c) => c.name));
  for (const w of l.admin?.workers ?? []) {
    const name = `wrk:worker_${w.worker}`;
    if (!names.has(name)) counts.set(name, { name, count: 0 });
  }
  return [...counts.values()];
}

/** What Envoy offers against the cause, in the words of its config (only what the version has). */
function remedy(
  cause: ImbalanceCause,
  config: ListenerBalanceConfig | undefined,
  version: string | undefined,
): string {
  const name = config ? ` on listener ${config.name}` : '';
  const exact =
    config?.balancer === undefined && envoyVersionAtLeast(version, 1, 12) !== false
      ? config
        ? `connection_balance_config is not set${name}: exact_balance hands each connection to the worker with the fewest.`
        : `Envoy's connection_balance_config with exact_balance hands each connection to the worker with the fewest.`
      : '';
  if (cause === 'shared-queue') {
    const reusePortOff =
      config?.reusePort === false && envoyVersionAtLeast(version, 1, 13) !== false
        ? ` ${envoyVersionAtLeast(version, 1, 20) ? 'enable_reuse_port' : 'reuse_port'} is off${name}: turned on, each worker gets its own socket and queue.`
        : '';
    return `${exact}${reusePortOff}`;
  }
  if (cause === 'reuse-port-hash')
    return exact
      ? `${exact} More client connections also even the hash out.`
      : 'More client connections even the hash out.';
  return '';
}

/** The finding for the traced accepts alone, by the layout the trace saw. */
function layoutCause(layout: ListenerView['layout']): { cause: ImbalanceCause; why: string } {
  switch (layout) {
    case 'shared-dup':
      return {
        cause: 'shared-queue',
        why:
          'Every worker waits on one shared accept queue (the dup layout): whichever ' +
          "worker's epoll wakes first takes the connection, so an idle worker wins more.",
      };
    case 'reuse-port':
      return {
        cause: 'reuse-port-hash',
        why:
          "With reuse_port the kernel hashes each connection's 4-tuple to one worker's " +
          'socket: a few long-lived clients land unevenly, many short ones even out.',
      };
    case 'inherited':
      return {
        cause: 'inherited',
        why:
          'The listening socket is inherited across fork (nginx-style): every process ' +
          'waits on the same socket and the first to wake takes the connection. A socket per ' +
          "worker (SO_REUSEPORT, nginx's `listen … reuseport`) lets the kernel spread them.",
      };
    default:
      return { cause: 'unknown', why: '' };
  }
}

/** What exact_balance evens: the connections each worker has open at the last admin read. */
function openNow(admin: Pick<ListenerView, 'admin'>['admin']): string {
  const open = (admin?.workers ?? []).filter((w) => w.active !== undefined);
  if (open.length === 0) return '';
  const shown = open
    .slice(0, 8)
    .map((w) => `worker_${w.worker} ${w.active}`)
    .join(', ');
  return ` Open at the last read (downstream_cx_active): ${shown}${open.length > 8 ? ` and ${open.length - 8} more` : ''}.`;
}

export function acceptBalance(
  l: Pick<ListenerView, 'accepts' | 'sockets' | 'layout' | 'admin'>,
  envoyVersion?: string,
  parentOf: ReadonlyMap<number, number> = new Map(),
): AcceptBalanceView | undefined {
  const counts = tracedCounts(l, parentOf);
  if (counts.length === 0) return undefined;
  const { busiest, ...traced } = spread(counts);
  const admin = adminSpread(l.admin);
  const config = l.admin?.config;
  const figures = figuresText(traced, 'accepts');
  const since =
    admin?.since === 'trace' ? 'from the first read after the trace attached' : 'since Envoy started';
  const adminText = admin
    ? `Envoy's own counters (downstream_cx_total per worker, ${since}): ${figuresText(admin, 'connections')}`
    : '';
  const adminEven = admin !== undefined && !tooFew(admin) && admin.cv < BALANCED_CV;
  const adminSkewed = admin !== undefined && !tooFew(admin) && admin.cv >= BALANCED_CV;
  const result = (cause: ImbalanceCause, finding: string): AcceptBalanceView => {
    const view: AcceptBalanceView = { ...traced, cause, finding };
    if (admin) view.admin = admin;
    if (config) view.config = config;
    return view;
  };
  const sentences = (...parts: string[]): string => parts.filter(Boolean).join(' ');

  if (config?.balancer === 'exact_balance' && traced.workers > 1 && !tooFew(traced)) {
    const handedOn =
      `Envoy's exact_balance is on for listener ${config.name}: the worker that accepts hands ` +
      'each connection to the worker with the fewest open, so accepts and connections differ.' +
      openNow(l.admin);
    if (adminEven)
      return result(
        'exact-balance',
        sentences(
          `The connections are balanced, the accepts ${traced.cv < BALANCED_CV ? 'too' : 'are not'} (${figures}).`,
          handedOn,
          `${adminText}.`,
        ),
      );
    if (adminSkewed)
      return result(
        'exact-balance',
        sentences(
          `${busiest.name} accepted ${busiest.count} of ${traced.total} (${figures}).`,
          handedOn,
          `${adminText}: exact_balance evens the connections open at once (downstream_cx_active), ` +
            'so short connections that close before the next one arrives all go to the first worker with none.',
        ),
      );
  }
  if (traced.workers === 1)
    return result(
      'single',
      `One thread accepts on this listener (${busiest.name}): there is nothing to balance.`,
    );
  if (tooFew(traced))
    return result(
      'too-few',
      sentences(`Too few connections to judge the balance (${figures}).`, admin ? `${adminText}.` : ''),
    );
  const agreement = admin
    ? tooFew(admin)
      ? `${adminText}: too few to compare.`
      : admin.cv < BALANCED_CV === traced.cv < BALANCED_CV
        ? `${adminText}: they agree.`
        : `${adminText}: they disagree, so the admin counters cover other connections than the trace (another span, or connections handed between workers).`
    : '';
  if (traced.cv < BALANCED_CV) return result('balanced', sentences(`Balanced: ${figures}.`, agreement));
  const { cause, why } = layoutCause(l.layout);
  const idle = counts.filter((c) => c.count === 0).map((c) => c.name);
  return result(
    cause,
    sentences(
      `${busiest.name} took ${busiest.count} of ${traced.total} (${figures}).`,
      idle.length > 0
        ? `${idle.slice(0, 8).join(', ')}${idle.length > 8 ? ` and ${idle.length - 8} more` : ''} accepted none during the trace (stopped, stuck or busy, or never woken).`
        : '',
      why,
      agreement,
      remedy(cause, config, envoyVersion),
    ),
  );
}
