// The one description of a listener-trace line, shared by the script that prints it
// (listener-script.ts) and the decoder that reads it (listener-decoder.ts):
//
//   FT1 <kind> <nsecs> <pid> <tid> <n0> <n1> <n2> <n3> <n4> <addr> <comm>[<ustack>]
//
// The script fills n0..n4 by field name and the decoder reads them by field name; the position
// of each name comes only from LISTENER_EVENT_FIELDS, so the two cannot drift apart.

/** The marker that starts each structured line. */
export const LISTENER_LINE_TAG = 'FT1';

/** Kind of the line printed by BEGIN: every probe is attached from then on. */
export const ATTACHED_KIND = 'attached';

/**
 * Kind of the line printed before each print of accept totals: its nsecs dates the totals of the
 * map print that follows it. Those prints are keyed `pid,tid,listenFd`, and their values are
 * running totals (never reset: bpftrace 0.17 cannot print and clear a map in one step, so the
 * consumer derives deltas and rates from successive totals).
 */
export const COUNTS_KIND = 'counts';
/** The map of every running total (printed at END). */
export const ACCEPT_TOTALS_MAP = '@ft_acc';
/** Maps whose prints carry running accept totals: all of them, and the changed ones per interval. */
export const ACCEPT_COUNT_MAPS: readonly string[] = [ACCEPT_TOTALS_MAP, '@ft_d0', '@ft_d1'];

/** How many kind-specific numbers every line carries after nsecs, pid and tid. */
export const LISTENER_NUMBER_COUNT = 5;

/**
 * What the numeric fields n0..n4 mean for each kind, in print order; positions past a kind's
 * list are printed as 0 and not read.
 */
export const LISTENER_EVENT_FIELDS = {
  socket: ['fd', 'family', 'type', 'protocol'],
  bind: ['fd', 'family', 'port', 'result'],
  listen: ['fd', 'backlog', 'result'],
  setsockopt: ['fd', 'level', 'optname', 'value', 'optlen'],
  dup: ['oldFd', 'newFd', 'via'],
  accept: ['listenFd', 'fd', 'family', 'port'],
  close: ['fd', 'result'],
  exec: [],
  spawn: ['childTid', 'thread'],
  'thread-name': ['renamedTid'],
  exit: ['processExit'],
} as const satisfies Record<string, readonly string[]>;

export type ListenerEventKind = keyof typeof LISTENER_EVENT_FIELDS;

/** The names of a kind's numeric fields. */
export type ListenerField<K extends ListenerEventKind> = (typeof LISTENER_EVENT_FIELDS)[K][number];

/** `via` codes of dup events. */
export const DUP_VIA = ['dup', 'dup2', 'dup3', 'fcntl'] as const;

/**
 * The n0..n4 of one line in table order, from a value per field name (`'0'` where the kind has
 * no field). The values are whatever the caller prints: bpftrace expressions in the script.
 */
export function listenerNumbers<K extends ListenerEventKind, V>(
  kind: K,
  values: Readonly<Record<ListenerField<K>, V>>,
  absent: V,
): V[] {
  const names: readonly string[] = LISTENER_EVENT_FIELDS[kind];
  const out: V[] = [];
  for (let i = 0; i < LISTENER_NUMBER_COUNT; i++) {
    out.push(i < names.length ? (values as Record<string, V>)[names[i]] : absent);
  }
  return out;
}
