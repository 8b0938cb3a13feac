// How a listener trace and the kernel group fds into sockets, in one comparable form: per port,
// one string per socket listing its `pid:fd`s, so `ss -ltnp` and a traced state can be compared.
import type { ListenerState } from '../../common/listeners-protocol';
import type { SsListener } from '../../core/listeners/snapshot';

/** Per port, the fd groups (one per socket) the kernel shows for these processes. */
export function kernelGroups(ss: SsListener[], pids: number[], port: number): string[] {
  return ss
    .filter((l) => l.local.port === port && l.users.some((u) => pids.includes(u.pid)))
    .map((l) =>
      l.users
        .filter((u) => pids.includes(u.pid))
        .map((u) => `${u.pid}:${u.fd}`)
        .sort()
        .join(' '),
    )
    .sort();
}

export function tracedGroups(state: ListenerState, pid: number, port: number): string[] {
  const l = state.processes.find((p) => p.pid === pid)?.listeners.find((x) => x.port === port && !x.closed);
  if (!l) return [];
  return l.sockets
    .filter((s) => !s.closed)
    .map((s) =>
      s.fds
        .filter((f) => f.open)
        .map((f) => `${f.pid}:${f.fd}`)
        .sort()
        .join(' '),
    )
    .sort();
}
