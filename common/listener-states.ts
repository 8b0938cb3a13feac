// The words for an fd's state and its socket's state, named apart so that a reader cannot take one
// for the other: on Envoy ≤ 1.19 the main thread's fd never calls listen() while the socket it
// shares with the workers' dups is LISTEN. One wording for the sidebar and `fieldtrace state`.
import type { FdView, SocketView } from './listeners-protocol';

/** The socket's own state, as the kernel would name it. */
export function socketStateWords(s: Pick<SocketView, 'closed' | 'listening'>): string {
  return `socket: ${s.closed ? 'closed' : s.listening ? 'LISTEN' : 'bound, not listening'}`;
}

/**
 * What this fd did: whether listen() was called on it (by `listener`, the thread's name as the
 * caller renders it). Never "listening": that is the socket's state, not the fd's.
 */
export function fdStateWords(f: Pick<FdView, 'open' | 'listening'>, listener: string): string {
  if (!f.open) return 'fd: closed';
  return f.listening ? `fd: listen()ed on this fd by ${listener}` : 'fd: not listen()ed on this fd';
}
