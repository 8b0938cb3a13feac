// One listener's item: its layout and why, notes, sockets, accepts per worker and the timeline of
// the calls that made it, each step with its stack (activating a step shows it in the Stacks view,
// a frame opens its source).
import type { ListenerView, StepView } from '../common/listeners-protocol';
import { acceptsItem } from './accepts';
import { el, type ItemKit, who } from './dom';
import { socketItem } from './socket-items';

function stepItem(kit: ItemKit, base: string, s: StepView, level: number): HTMLElement {
  const id = `${base}/step${s.seq}`;
  const frames = s.stack ?? [];
  const title = `${s.text} — ${who(s.thread)}`;
  const icons: Record<StepView['kind'], string> = {
    socket: 'add',
    bind: 'link',
    setsockopt: 'settings-gear',
    listen: 'radio-tower',
    dup: 'copy',
    fork: 'repo-forked',
    close: 'close',
    'first-accept': 'arrow-right',
  };
  return kit.item(
    {
      id,
      label: s.text,
      description: `${who(s.thread)}${frames.length ? ` · ${frames.length} frames` : ''}`,
      icon: icons[s.kind],
      className: 'step',
      activate: frames.length ? () => kit.post({ type: 'showStack', title, frames }) : undefined,
      children: frames.length
        ? () =>
            frames.map((frame, i) =>
              kit.item(
                {
                  id: `${id}/f${i}`,
                  label: frame,
                  icon: 'symbol-method',
                  className: 'frame',
                  activate: () =>
                    kit.post(
                      i > 0
                        ? { type: 'openFrame', frame, calleeFrame: frames[i - 1] }
                        : { type: 'openFrame', frame },
                    ),
                },
                level + 1,
              ),
            )
        : undefined,
    },
    level,
  );
}

export function listenerItem(kit: ItemKit, base: string, l: ListenerView, level: number): HTMLElement {
  const id = `${base}/${l.key}`;
  const label =
    l.family === 'unix'
      ? l.address || l.key
      : l.family === 'inet6'
        ? `[${l.address}]:${l.port}`
        : l.key.replace(/^inet /, '');
  return kit.item(
    {
      id,
      label,
      description: [l.label, l.closed ? 'closed' : ''].filter(Boolean).join(' · '),
      aria: `${label}${l.label ? `, ${l.label}` : ''}, layout ${l.layout}${l.closed ? ', closed' : ''}`,
      icon: l.notes.length ? 'warning' : 'broadcast',
      defaultOpen: true,
      className: `listener${l.closed ? ' closed' : ''}`,
      decorate: (row) => {
        // A plain span: a custom element per listener per render costs more than the whole row.
        const badge = el('span', `badge layout layout-${l.layout}`, l.layout);
        row.append(badge);
      },
      children: () => {
        const children: HTMLElement[] = [
          kit.item({ id: `${id}/why`, label: l.layoutReason, icon: 'info', className: 'reason' }, level + 1),
          ...l.notes.map((n, i) =>
            kit.item({ id: `${id}/note${i}`, label: n, icon: 'warning', className: 'disagree' }, level + 1),
          ),
          ...l.sockets.map((s) => socketItem(kit, id, s, level + 1)),
        ];
        if (l.accepts.length > 0) children.push(acceptsItem(kit, id, l, level + 1));
        if (l.timeline.length > 0)
          children.push(
            kit.item(
              {
                id: `${id}/timeline`,
                label: 'Timeline',
                description: `${l.timeline.length} steps${l.timelineDropped ? `, ${l.timelineDropped} older ones left out` : ''}`,
                icon: 'history',
                children: () => l.timeline.map((s) => stepItem(kit, `${id}/timeline`, s, level + 2)),
              },
              level + 1,
            ),
          );
        return children;
      },
    },
    level,
  );
}
