// A listening socket's items: the socket (state, inode, backlog, who bound and accepted), each fd
// that holds it with the fd's own call and the socket's state named apart, and its options.
import { fdStateWords, socketStateWords } from '../common/listener-states';
import type { FdView, SocketView } from '../common/listeners-protocol';
import { type ItemKit, who } from './dom';

function fdItem(
  kit: ItemKit,
  base: string,
  f: FdView,
  level: number,
  showPid: boolean,
  socket: SocketView,
): HTMLElement {
  const parts: string[] = [];
  if (f.via === 'socket') parts.push('socket()');
  else if (f.via === 'fork') parts.push(`inherited (fork) from fd ${f.from}`);
  else if (f.via !== 'unknown') parts.push(`${f.via} of fd ${f.from}`);
  parts.push(`by ${who(f.owner)}`);
  // The fd's own call and the socket's state side by side, each named.
  parts.push(fdStateWords(f, who(f.listenedBy ?? f.owner)));
  if (f.open) parts.push(socketStateWords(socket));
  if (f.accepts) parts.push(`${f.accepts} accepts`);
  if (f.provenance !== 'traced')
    parts.push(f.provenance === 'pre-trace' ? 'opened before the trace' : `from ${f.provenance}`);
  const warn = f.kernel === 'missing-in-kernel';
  if (f.kernel === 'missing-in-kernel') parts.push('the kernel does not show it');
  else if (f.kernel === 'kernel-only') parts.push('seen only by the kernel snapshot');
  else if (f.kernel === 'agrees') parts.push('kernel agrees');
  return kit.item(
    {
      id: `${base}/fd${f.pid}:${f.fd}`,
      label: `fd ${f.fd}${showPid ? ` · pid ${f.pid}` : ''}`,
      description: parts.join(' · '),
      icon: warn ? 'warning' : f.listening ? 'radio-tower' : f.open ? 'plug' : 'circle-slash',
      className: warn ? 'disagree' : f.open ? undefined : 'closed',
    },
    level,
  );
}

export function socketItem(kit: ItemKit, base: string, s: SocketView, level: number): HTMLElement {
  const id = `${base}/${s.id}`;
  const desc = [
    socketStateWords(s),
    s.inode !== undefined ? `inode ${s.inode}` : '',
    s.backlog !== undefined && s.backlog >= 0 ? `backlog ${s.backlog}` : '',
    s.boundBy ? `bound by ${who(s.boundBy)}` : '',
    `${s.fds.filter((f) => f.open).length} open fd(s)`,
    s.acceptedBy?.length ? `accepted by ${s.acceptedBy.map((a) => `${a.name} (${a.count})`).join(', ')}` : '',
  ].filter(Boolean);
  return kit.item(
    {
      id,
      label: `socket ${s.id}`,
      description: desc.join(' · '),
      icon: 'symbol-interface',
      defaultOpen: true,
      className: s.closed ? 'closed' : undefined,
      children: () => [
        ...s.fds.map((f) => fdItem(kit, id, f, level + 1, new Set(s.fds.map((x) => x.pid)).size > 1, s)),
        ...s.options.map((o) =>
          kit.item(
            {
              id: `${id}/opt${o.level}:${o.optname}`,
              label: o.name,
              description: `${o.value === undefined ? '' : `= ${o.value} · `}set by ${who(o.by)}`,
              icon: 'settings-gear',
            },
            level + 1,
          ),
        ),
      ],
    },
    level,
  );
}
