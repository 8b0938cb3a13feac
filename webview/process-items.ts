// The top of the tree: processes (their Envoy admin summary, notes and listeners), the ended ones
// folded into one group, and in a fleet one item per node above them.
import type { ProcessView } from '../common/listeners-protocol';
import type { ItemKit } from './dom';
import { listenerItem } from './listener-items';

function processItem(kit: ItemKit, p: ProcessView, level: number, showNode: boolean): HTMLElement {
  const id = `${p.node}/${p.pid}`;
  const workers = p.threads.filter((t) => !t.exited && t.tid !== 0).length;
  const desc = [
    `pid ${p.pid}`,
    showNode ? p.node : '',
    p.exited ? '' : `${workers} thread(s)`,
    p.parentPid !== undefined ? `child of ${p.parentPid}` : '',
    p.exited ? `ended${p.listeners.length ? ` · held ${p.listeners.map((l) => l.key).join(', ')}` : ''}` : '',
    p.snapshotAt ? `snapshot ${p.snapshotAt}` : '',
  ].filter(Boolean);
  return kit.item(
    {
      id,
      label: p.name,
      description: desc.join(' · '),
      icon: p.exited ? 'debug-stop' : 'server-process',
      defaultOpen: true,
      className: 'process',
      children: () => {
        const children: HTMLElement[] = [];
        if (p.admin) {
          const a = p.admin;
          children.push(
            kit.item(
              {
                id: `${id}/admin`,
                label: `Envoy admin ${a.address}`,
                description: a.error
                  ? `error: ${a.error}`
                  : `version ${a.version ?? '?'} · ${a.state ?? '?'} · concurrency ${a.concurrency ?? '?'}`,
                icon: a.error ? 'error' : 'dashboard',
                className: a.error ? 'disagree' : undefined,
              },
              level + 1,
            ),
          );
          if (a.statsNote)
            children.push(
              kit.item(
                { id: `${id}/statsnote`, label: a.statsNote, icon: 'info', className: 'reason' },
                level + 1,
              ),
            );
        }
        p.notes.forEach((n, i) =>
          children.push(
            kit.item({ id: `${id}/note${i}`, label: n, icon: 'warning', className: 'disagree' }, level + 1),
          ),
        );
        if (p.listeners.length === 0)
          children.push(
            kit.item(
              {
                id: `${id}/none`,
                label: p.exited
                  ? 'Held no listening socket in this trace.'
                  : 'No listening sockets seen yet.',
                icon: 'info',
              },
              level + 1,
            ),
          );
        children.push(...p.listeners.map((l) => listenerItem(kit, id, l, level + 1)));
        return children;
      },
    },
    level,
  );
}

/**
 * Processes still running, then the ended ones folded into one "ended" group (closed by default):
 * a process that exited (an Envoy before its hot restart) keeps what it held, out of the way.
 */
export function processItems(
  kit: ItemKit,
  list: ProcessView[],
  groupId: string,
  level: number,
  showNode: boolean,
): HTMLElement[] {
  const running = list.filter((p) => !p.exited);
  const ended = list.filter((p) => p.exited);
  const items = running.map((p) => processItem(kit, p, level, showNode));
  if (ended.length)
    items.push(
      kit.item(
        {
          id: `${groupId}/ended`,
          label: 'ended',
          description: `${ended.length} process(es) that exited · ${ended.reduce((n, p) => n + p.listeners.length, 0)} listener(s) they held`,
          icon: 'history',
          className: 'ended',
          children: () => ended.map((p) => processItem(kit, p, level + 1, showNode)),
        },
        level,
      ),
    );
  return items;
}

/** A fleet: one item per node, its processes below, in the order the nodes first appear. */
export function nodeItems(kit: ItemKit, processes: ProcessView[]): HTMLElement[] {
  const byNode = new Map<string, ProcessView[]>();
  for (const p of processes) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
  return [...byNode].map(([node, list]) => {
    const listeners = list.reduce((n, p) => n + p.listeners.length, 0);
    const accepts = list.reduce((n, p) => n + p.listeners.reduce((m, l) => m + l.totalAccepts, 0), 0);
    return kit.item(
      {
        id: `node:${node}`,
        label: node,
        description: `${list.length} process(es) · ${listeners} listener(s) · ${accepts} accepts`,
        icon: 'vm',
        defaultOpen: true,
        className: 'node',
        children: () => processItems(kit, list, `node:${node}`, 2, false),
      },
      1,
    );
  });
}
