// A listener's "Accepts per worker" item: the balance finding, then one row per worker with its
// count, share, rate, Envoy's own count and a bar scaled to the busiest worker.
import type { ListenerView } from '../common/listeners-protocol';
import { el, type ItemKit } from './dom';

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
        ...(l.balance
          ? [
              kit.item(
                {
                  id: `${id}/balance`,
                  label: l.balance.finding,
                  icon: l.balance.cv >= 0.25 && l.balance.workers > 1 ? 'warning' : 'info',
                  className: 'reason',
                },
                level + 1,
              ),
            ]
          : []),
        ...l.accepts.map((a) => {
          const admin = l.admin?.workers.find((w) => `wrk:worker_${w.worker}` === a.name);
          const pct = `${(a.share * 100).toFixed(1)}%`;
          const rate = a.ratePerSec === undefined ? '' : ` · ${a.ratePerSec.toFixed(1)}/s`;
          const adminText = admin ? ` · admin ${admin.total}` : '';
          return kit.item(
            {
              id: `${id}/${a.pid}:${a.tid}`,
              label: a.name,
              description: `${a.count} · ${pct}${rate}${adminText}`,
              aria: `${a.name}: ${a.count} accepts, ${pct} of the listener${rate ? `, ${a.ratePerSec!.toFixed(1)} per second` : ''}${adminText ? `, Envoy admin counts ${admin!.total}` : ''}`,
              icon: 'person',
              className: 'worker',
              decorate: (row) => {
                const track = el('span', 'bar-track');
                const bar = el('span', 'bar');
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
