// A listener's "Accepts per worker" item: the balance finding, Envoy's own counters and balancing
// config beside it, the accepts per worker over time (a chart), then one row per worker with its
// count, share, rate, Envoy's own count and a bar scaled to the busiest worker, in the colour of
// its line in the chart.
import type { AcceptBalanceView, ListenerBalanceConfig, ListenerView } from '../common/listeners-protocol';
import { acceptChart, seriesClass } from './accept-chart';
import { el, type ItemKit, type ItemSpec } from './dom';

const figure = (n: number): string => n.toFixed(2);

/** Envoy's per-worker downstream_cx_total spread, said beside the traced one. */
function adminLine(b: AcceptBalanceView, admin: NonNullable<AcceptBalanceView['admin']>): string {
  const since = admin.since === 'trace' ? 'since the trace began' : 'since Envoy started';
  return (
    `Envoy's counters: max/mean ${figure(admin.maxOverMean)}, CV ${figure(admin.cv)} over ` +
    `${admin.total} connections (${since}); traced: max/mean ${figure(b.maxOverMean)}, ` +
    `CV ${figure(b.cv)} over ${b.total} accepts.`
  );
}

/** Envoy's balancing settings for the listener, as its config names them. */
function configLine(c: ListenerBalanceConfig): string {
  const parts = [c.balancer ? `connection_balance_config: ${c.balancer}` : 'no connection_balance_config'];
  if (c.reusePort !== undefined)
    parts.push(
      `reuse_port ${c.reusePort ? 'on' : 'off'}${c.reusePortFrom === 'default' ? ' (default)' : ''}`,
    );
  return `Envoy listener ${c.name}: ${parts.join(' · ')}`;
}

/** The finding, Envoy's side of it and the chart: the lines above the worker rows. */
function balanceLines(id: string, l: ListenerView): ItemSpec[] {
  const lines: ItemSpec[] = [];
  const b = l.balance;
  if (b) {
    // A warning where the finding names a cause of imbalance; exact_balance with even
    // connections is Envoy doing its job, however uneven the accepts.
    const even = b.cause === 'exact-balance' && b.admin !== undefined && b.admin.cv < 0.25;
    const warn = !['single', 'too-few', 'balanced'].includes(b.cause) && !even;
    lines.push({
      id: `${id}/balance`,
      label: b.finding,
      icon: warn ? 'warning' : 'info',
      className: 'reason',
    });
    if (b.admin)
      lines.push({ id: `${id}/admin`, label: adminLine(b, b.admin), icon: 'dashboard', className: 'reason' });
    if (b.config)
      lines.push({ id: `${id}/config`, label: configLine(b.config), icon: 'settings', className: 'reason' });
  }
  const chart = l.acceptSeries && acceptChart(l.acceptSeries, l.accepts);
  if (chart)
    lines.push({
      id: `${id}/chart`,
      label: 'Accepts over time',
      aria: chart.summary,
      icon: 'graph-line',
      className: 'chart-item',
      body: () => chart.element,
    });
  return lines;
}

export function acceptsItem(kit: ItemKit, base: string, l: ListenerView, level: number): HTMLElement {
  const id = `${base}/accepts`;
  const max = Math.max(...l.accepts.map((a) => a.share), 0);
  return kit.item(
    {
      id,
      label: 'Accepts per worker',
      description: `${l.totalAccepts} total`,
      icon: 'graph',
      defaultOpen: true,
      className: 'accepts',
      children: () => [
        ...balanceLines(id, l).map((spec) => kit.item(spec, level + 1)),
        ...l.accepts.map((a, index) => {
          const admin = l.admin?.workers.find((w) => `wrk:worker_${w.worker}` === a.name);
          const pct = `${(a.share * 100).toFixed(1)}%`;
          const rate = a.ratePerSec === undefined ? '' : ` · ${a.ratePerSec.toFixed(1)}/s`;
          const open = admin?.active === undefined ? '' : `, ${admin.active} open`;
          const adminText = admin ? ` · admin ${admin.total}${open}` : '';
          return kit.item(
            {
              id: `${id}/${a.pid}:${a.tid}`,
              label: a.name,
              description: `${a.count} · ${pct}${rate}${adminText}`,
              aria: `${a.name}: ${a.count} accepts, ${pct} of the listener${rate ? `, ${a.ratePerSec!.toFixed(1)} per second` : ''}${adminText ? `, Envoy admin counts ${admin!.total}${open ? `, ${admin!.active} open now` : ''}` : ''}`,
              icon: 'person',
              className: 'worker',
              decorate: (row) => {
                const track = el('span', 'bar-track');
                const bar = el('span', `bar ${seriesClass(index)}`);
                bar.style.width = `${max > 0 ? (a.share / max) * 100 : 0}%`;
                track.append(bar);
                row.append(track);
              },
            },
            level + 1,
          );
        }),
      ],
    },
    level,
  );
}
