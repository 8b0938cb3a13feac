// Renders a ListenerState as Markdown (for `fieldtrace state`, "Copy as Markdown") or JSON.
import { fdStateWords, socketStateWords } from '../../common/listener-states';
import type {
  FdView,
  ListenerState,
  ListenerView,
  SocketView,
  ThreadRef,
} from '../../common/listeners-protocol';

function who(t: ThreadRef | undefined): string {
  if (!t) return '?';
  const tid = t.tid > 0 ? ` ${t.tid}` : '';
  return `${t.name}${tid}${t.nameThen ? ` (then ${t.nameThen})` : ''}`;
}

/** Markdown-safe text: traced names are untrusted and must not become markup. */
function md(text: string): string {
  return text.replace(/[\\`*[\]|<>]/g, (c) => `\\${c}`);
}

function fdLine(f: FdView, socket: SocketView): string {
  const parts = [`fd ${f.fd}`];
  if (f.via === 'dup' || f.via === 'dup2' || f.via === 'dup3' || f.via === 'fcntl')
    parts.push(`${f.via} of ${f.from}`);
  else if (f.via === 'fork') parts.push(`inherited from the parent's fd ${f.from}`);
  else if (f.via === 'socket') parts.push('socket()');
  parts.push(`owner ${md(who(f.owner))}`);
  parts.push(fdStateWords(f, md(who(f.listenedBy ?? f.owner))));
  if (f.open) parts.push(socketStateWords(socket));
  if (f.accepts) parts.push(`${f.accepts} accepts`);
  if (f.provenance !== 'traced') parts.push(f.provenance);
  if (f.kernel) parts.push(`kernel: ${f.kernel}`);
  return `pid ${f.pid} ${parts.join(', ')}`;
}

function listenerMarkdown(l: ListenerView): string[] {
  const out: string[] = [];
  const label = l.label ? ` — ${l.label}` : '';
  out.push(`### ${md(l.key)}${label}${l.closed ? ' (closed)' : ''}`);
  out.push('', `Layout: **${l.layout}**. ${md(l.layoutReason)}`, '');
  for (const s of l.sockets) {
    const head = [`socket ${s.id}`];
    if (s.inode !== undefined) head.push(`inode ${s.inode}`);
    head.push(socketStateWords(s));
    if (s.backlog !== undefined && s.backlog >= 0) head.push(`backlog ${s.backlog}`);
    if (s.boundBy) head.push(`bound by ${md(who(s.boundBy))}`);
    if (s.provenance !== 'traced') head.push(s.provenance);
    if (s.acceptedBy?.length)
      head.push(`accepted by ${s.acceptedBy.map((a) => `${md(a.name)} (${a.count})`).join(', ')}`);
    out.push(`- ${head.join(', ')}`);
    for (const f of s.fds) out.push(`  - ${fdLine(f, s)}`);
    if (s.options.length > 0)
      out.push(
        `  - options: ${s.options.map((o) => `${o.name}${o.value === undefined ? '' : `=${o.value}`}`).join(', ')}`,
      );
  }
  if (l.accepts.length > 0) {
    const series =
      l.acceptSeries && l.acceptSeries.workers[0]?.counts.length > 1 ? l.acceptSeries : undefined;
    const overTime = series ? ` over time (${series.bucketSec} s a step) |` : '';
    out.push(
      '',
      `| worker | pid | tid | accepts | share | rate/s |${overTime}`,
      `|---|---|---|---|---|---|${series ? '---|' : ''}`,
    );
    const peak = series ? Math.max(...series.workers.flatMap((w) => w.counts)) : 0;
    for (const a of l.accepts) {
      const row = series?.workers.find((w) => w.pid === a.pid && w.tid === a.tid);
      out.push(
        `| ${md(a.name)} | ${a.pid} | ${a.tid} | ${a.count} | ${(a.share * 100).toFixed(1)}% | ${a.ratePerSec === undefined ? '' : a.ratePerSec.toFixed(1)} |${series ? ` \`${sparkline(row?.counts ?? [], peak)}\` |` : ''}`,
      );
    }
  }
  if (l.balance) out.push('', `Balance: ${md(l.balance.finding)}`);
  if (l.admin) {
    const workers = l.admin.workers
      .map((w) => {
        const before = l.admin!.baseline?.find((b) => b.worker === w.worker)?.total;
        const notes = [
          ...(before === undefined ? [] : [`+${w.total - before} in the trace`]),
          ...(w.active === undefined ? [] : [`${w.active} open`]),
        ];
        return `worker_${w.worker}=${w.total}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
      })
      .join(', ');
    const config = l.admin.config;
    const settings = config
      ? `; connection_balance_config: ${config.balancer ?? 'not set'}${config.reusePort === undefined ? '' : `, reuse_port ${config.reusePort ? 'on' : 'off'}${config.reusePortFrom === 'default' ? ' (the default)' : ''}`}`
      : '';
    out.push(
      '',
      `Envoy admin: listener ${md(l.admin.name)}${workers ? `, downstream_cx_total ${workers}` : ''}${settings}`,
    );
  }
  for (const n of l.notes) out.push('', `> ${md(n)}`);
  out.push('');
  return out;
}

const BARS = '▁▂▃▄▅▆▇█';

/** Counts as a row of block characters, scaled to `peak` (a blank for a bucket without any). */
export function sparkline(counts: number[], peak: number): string {
  return counts
    .map((n) =>
      n <= 0 || peak <= 0
        ? ' '
        : BARS[Math.min(BARS.length - 1, Math.floor((n / peak) * (BARS.length - 1) + 0.5))],
    )
    .join('');
}

export function stateToMarkdown(state: ListenerState): string {
  const out: string[] = ['# Listener state', ''];
  if (state.sources.length > 0) out.push(`Sources: ${state.sources.map(md).join(', ')}`, '');
  if (state.lostWarning) out.push(`> **Warning:** ${md(state.lostWarning)}`, '');
  out.push(`${state.events} events, ${state.malformed} malformed, ${state.lostEvents} lost.`, '');
  if (state.processes.length === 0) out.push('No traced process yet.', '');
  for (const p of state.processes) {
    const listeners = p.listeners;
    out.push(
      `## ${md(p.name)} (pid ${p.pid} on ${md(p.node)})${p.parentPid !== undefined ? `, child of ${p.parentPid}` : ''}${p.exited ? ', exited' : ''}`,
      '',
    );
    const threads = p.threads.filter((t) => t.tid !== 0);
    if (threads.length > 0)
      out.push(
        `Threads: ${threads.map((t) => `${md(t.name)} ${t.tid > 0 ? t.tid : '(tid not in the log)'}${t.exited ? ' (exited)' : ''}`).join(', ')}`,
        '',
      );
    if (p.admin) {
      const a = p.admin;
      out.push(
        `Envoy admin at ${md(a.address)}: ${a.error ? `error: ${md(a.error)}` : `version ${md(a.version ?? '?')}, state ${md(a.state ?? '?')}, concurrency ${a.concurrency ?? '?'}`}`,
        '',
      );
      if (a.statsNote) out.push(`> ${md(a.statsNote)}`, '');
    }
    for (const n of p.notes) out.push(`> ${md(n)}`, '');
    if (listeners.length === 0) out.push('No listening sockets seen.', '');
    for (const l of listeners) out.push(...listenerMarkdown(l));
  }
  for (const m of state.messages) out.push(`> ${md(m)}`);
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

export function stateToJson(state: ListenerState): string {
  return JSON.stringify(state, null, 2) + '\n';
}
