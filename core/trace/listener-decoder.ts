// Reads the listener trace's structured lines (listener-record.ts) into SyscallEvents. The
// numeric fields are read by the names of LISTENER_EVENT_FIELDS, so their positions come from the
// table the script is printed with; each kind's shaper only turns the named numbers into its
// event. Nothing throws: a line that is not a listener record gives the reason why.
import type { AcceptCountEvent, AddressFamily, SyscallEvent, TraceEvent } from '../../common/events';
import {
  DUP_VIA,
  LISTENER_EVENT_FIELDS,
  LISTENER_LINE_TAG,
  LISTENER_NUMBER_COUNT,
  type ListenerEventKind,
  type ListenerField,
} from './listener-record';

const FAMILIES: Record<number, AddressFamily> = { 1: 'unix', 2: 'inet', 10: 'inet6' };
function family(n: number): AddressFamily {
  return FAMILIES[n] ?? 'other';
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

// The script prints at most a few hundred bytes as hex (a 16-byte thread name, a unix path of
// 108, an exec path); a longer token is not ours, and is refused before any decoding work.
const MAX_HEX_BYTES = 4096;

/**
 * `%rx` output (`\x65\x6e`, or plain `656e` in some versions) -> the text of its bytes up to the
 * first NUL (the kernel leaves stale bytes after it). Undefined when the token is not hex or
 * longer than MAX_HEX_BYTES bytes. The bytes are kept as they are: rendering them is the
 * terminal's and Markdown's business (core/text/untrusted.ts).
 */
function hexText(token: string): string | undefined {
  const escaped = token.charCodeAt(0) === 92; // backslash
  // Still in its JSON form (`\\x65`: the backslash escaped) when read from the raw line.
  const raw = escaped && token.charCodeAt(1) === 92;
  const step = raw ? 5 : escaped ? 4 : 2;
  if (token.length === 0 || token.length % step !== 0 || token.length / step > MAX_HEX_BYTES)
    return undefined;
  // ASCII (nearly every name and path) is built as a string directly; bytes go into one reused
  // buffer and are decoded as UTF-8 only when a byte is not ASCII.
  let text = '';
  let length = 0;
  let ended = false;
  let ascii = true;
  for (let i = 0; i < token.length; i += step) {
    if (raw && token.charCodeAt(i + 1) !== 92) return undefined;
    if (escaped && (token.charCodeAt(i) !== 92 || token.charCodeAt(i + step - 3) !== 120)) return undefined;
    const hi = hexDigit(token.charCodeAt(i + step - 2));
    const lo = hexDigit(token.charCodeAt(i + step - 1));
    if (hi < 0 || lo < 0) return undefined;
    const b = hi * 16 + lo;
    if (b === 0) ended = true;
    else if (!ended) {
      HEX_BYTES[length++] = b;
      if (b >= 0x80) ascii = false;
      else if (ascii) text += String.fromCharCode(b);
    }
  }
  return ascii ? text : HEX_BYTES.toString('utf8', 0, length);
}
const HEX_BYTES = Buffer.alloc(MAX_HEX_BYTES);

// The table's sizes as local constants: read for every event, and an imported binding can cost a
// getter call per read where modules are not bundled (tsx in tests and benchmarks).
/** nsecs pid tid, then the kind's numbers. */
const HEAD_NUMBERS = 3 + LISTENER_NUMBER_COUNT;
/** tag kind nsecs pid tid n0..n4 addr comm */
const FIELD_COUNT = 2 + HEAD_NUMBERS + 2;
const TAG_LENGTH = LISTENER_LINE_TAG.length;
const FRAME_INDENT = '        ';
// bpftrace -f json writes printf records exactly so.
const RAW_LISTENER_START = `{"type": "printf", "data": "${LISTENER_LINE_TAG} `;
const RAW_RECORD_END = '"}';
const RAW_NEWLINE = '\\n';
const RAW_LISTENER_END = `${RAW_NEWLINE}${RAW_RECORD_END}`;
const RAW_STACK_END = `${RAW_NEWLINE}${RAW_LISTENER_END}`;

/**
 * bpftrace prints a stack as one frame per line, indented by 8 spaces, then blank lines. `raw`:
 * the text is still in its JSON form, lines end at `\n` escapes, and null says it holds another
 * escape (then only JSON.parse can read it).
 */
function readFrames(data: string, from: number, end: number, raw: boolean): string[] | undefined | null {
  const separator = raw ? '\\' : '\n';
  const step = raw ? RAW_NEWLINE.length : 1;
  let stack: string[] | undefined;
  let at = from;
  while (at < end) {
    let lineEnd = data.indexOf(separator, at);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    else if (raw && data.charCodeAt(lineEnd + 1) !== 110) return null; // an escape other than \n
    if (lineEnd > at) {
      // The usual frame line is exactly the indent and a name: sliced, not trimmed.
      const frame =
        data.startsWith(FRAME_INDENT, at) && data.charCodeAt(at + FRAME_INDENT.length) > 32
          ? data.slice(at + FRAME_INDENT.length, lineEnd)
          : data.slice(at, lineEnd).trim();
      if (frame) (stack ??= []).push(frame);
    }
    at = lineEnd + step;
  }
  return stack;
}

/**
 * A whole stdout line of bpftrace (`{"type": "printf", "data": "FT1 …"}`) read in place, without
 * JSON.parse: the head holds numbers, an address and hex, whose only escapes are `\\x` and the
 * `\n` that ends it; a stack's frames are plain text between `\n`s. Undefined when the line is
 * not in that form (another escape, or a head this reader does not accept): then the JSON way
 * and parseListenerLine decide.
 */
export function rawListenerEvent(text: string, nodeId: string | undefined): SyscallEvent | undefined {
  if (!text.startsWith(RAW_LISTENER_START) || !text.endsWith(RAW_LISTENER_END)) return undefined;
  const end = text.length - RAW_RECORD_END.length;
  // A stack ends in a blank line; without one the head ends the record (no search needed).
  const stacked = text.endsWith(RAW_STACK_END);
  const headEnd = stacked ? text.indexOf(RAW_NEWLINE, RAW_LISTENER_START.length) : end - RAW_NEWLINE.length;
  const stack = stacked ? readFrames(text, headEnd + RAW_NEWLINE.length, end, true) : undefined;
  if (stack === null) return undefined;
  const from = RAW_LISTENER_START.length - TAG_LENGTH - 1;
  const event = listenerEvent(text, from, headEnd, stack, nodeId);
  return typeof event === 'string' ? undefined : event;
}

/**
 * Reads one structured line of the listener trace (a printf's text). Returns the event, or why
 * it is not one. The first line holds only fixed tokens (numbers, ntop addresses, hex); the stack
 * follows.
 */
export function parseListenerLine(data: string, nodeId?: string): SyscallEvent | string {
  const newline = data.indexOf('\n');
  const headEnd = newline < 0 ? data.length : newline;
  // Text after the head's newline is the stack (a bare trailing newline is none).
  const stack =
    newline >= 0 && newline + 1 < data.length
      ? (readFrames(data, newline + 1, data.length, false) ?? undefined)
      : undefined;
  return listenerEvent(data, 0, headEnd, stack, nodeId);
}

function headFields(head: string): string {
  return `listener line with ${head.split(' ').length} fields, expected ${FIELD_COUNT}`;
}

/** The event being built: origin fields first, then the kind's own. */
type Draft = Record<string, unknown>;
/** Where each of a kind's named numbers stands in the line's numbers (from the table). */
type Positions<K extends ListenerEventKind> = Readonly<Record<ListenerField<K>, number>>;
/**
 * Turns a kind's numbers (`n`, read through `at`) and its `addr` token into the event's fields;
 * returns why the line is not readable, or nothing. `n[1]` is the line's process id.
 */
type Shaper<K extends ListenerEventKind> = (
  e: Draft,
  n: readonly number[],
  at: Positions<K>,
  addr: string,
) => string | void;

function socketAddress(fam: AddressFamily, addr: string): string | undefined {
  return fam === 'unix' ? hexText(addr) : addr === '-' ? '' : addr;
}

const SHAPERS: { readonly [K in ListenerEventKind]: Shaper<K> } = {
  socket: (e, n, at) => {
    e.fd = n[at.fd];
    e.family = family(n[at.family]);
    e.socketType = n[at.type];
  },
  bind: (e, n, at, addr) => {
    const fam = family(n[at.family]);
    const address = socketAddress(fam, addr);
    if (address === undefined) return 'listener bind path is not hex';
    e.fd = n[at.fd];
    e.address = { family: fam, address, port: n[at.port] };
    e.result = n[at.result];
  },
  listen: (e, n, at) => {
    e.fd = n[at.fd];
    e.backlog = n[at.backlog];
    e.result = n[at.result];
  },
  setsockopt: (e, n, at) => {
    e.fd = n[at.fd];
    e.level = n[at.level];
    e.optname = n[at.optname];
    if (n[at.optlen] >= 4) e.value = n[at.value];
    e.optlen = n[at.optlen];
  },
  dup: (e, n, at) => {
    const via = DUP_VIA[n[at.via]];
    if (via === undefined) return `listener dup with unknown variant ${n[at.via]}`;
    e.oldFd = n[at.oldFd];
    e.newFd = n[at.newFd];
    e.via = via;
  },
  accept: (e, n, at, addr) => {
    const fam = family(n[at.family]);
    e.listenFd = n[at.listenFd];
    e.fd = n[at.fd];
    if (fam === 'inet' || fam === 'inet6') e.peer = { family: fam, address: addr, port: n[at.port] };
  },
  close: (e, n, at) => {
    e.fd = n[at.fd];
    e.result = n[at.result];
  },
  exec: (e, _n, _at, addr) => {
    const path = hexText(addr);
    if (path === undefined) return 'listener exec path is not hex';
    e.path = path;
  },
  spawn: (e, n, at) => {
    e.childTid = n[at.childTid];
    e.thread = n[at.thread] === 1;
    e.childPid = n[at.thread] === 1 ? n[1] : n[at.childTid];
  },
  'thread-name': (e, n, at, addr) => {
    const name = hexText(addr);
    if (name === undefined) return 'listener thread name is not hex';
    // The event is about the renamed thread, which may differ from the one renaming it.
    e.tid = n[at.renamedTid];
    e.comm = name;
    e.name = name;
  },
  exit: (e, n, at) => {
    e.processExit = n[at.processExit] === 1;
  },
};

/** Each kind's positions and shaper, looked up by the (untrusted) kind token. */
const KINDS = new Map<string, { at: Positions<ListenerEventKind>; shape: Shaper<ListenerEventKind> }>(
  (Object.keys(SHAPERS) as ListenerEventKind[]).map((kind) => {
    const at: Record<string, number> = {};
    // The kind's numbers follow nsecs, pid and tid.
    LISTENER_EVENT_FIELDS[kind].forEach((name: string, i: number) => (at[name] = 3 + i));
    return [
      kind,
      { at: at as Positions<ListenerEventKind>, shape: SHAPERS[kind] as Shaper<ListenerEventKind> },
    ];
  }),
);

/** The event of a head (`data` from `from` up to `headEnd`), read in place. */
function listenerEvent(
  data: string,
  from: number,
  headEnd: number,
  stack: string[] | undefined,
  nodeId: string | undefined,
): SyscallEvent | string {
  // A scanner over the head instead of split(): no substring per number.
  let at = from + TAG_LENGTH + 1;
  const space = data.indexOf(' ', at);
  if (space < 0 || space > headEnd) return headFields(data.slice(from, headEnd));
  const kind = data.slice(at, space);
  at = space + 1;
  const n: number[] = [];
  for (let field = 0; field < HEAD_NUMBERS; field++) {
    const start = at;
    const negative = data.charCodeAt(at) === 45;
    if (negative) at++;
    let v = 0;
    let digits = 0;
    for (let c = data.charCodeAt(at); c >= 48 && c <= 57; c = data.charCodeAt(++at)) {
      v = v * 10 + (c - 48);
      digits++;
    }
    if (digits === 0 || digits > 20 || (data.charCodeAt(at) !== 32 && at < headEnd) || at >= headEnd) {
      const stop = data.indexOf(' ', start);
      return `listener line field ${field + 3} is not a number: ${data.slice(start, stop < 0 || stop > headEnd ? headEnd : stop)}`;
    }
    n.push(negative ? -v : v);
    at++;
  }
  const addrEnd = data.indexOf(' ', at);
  if (addrEnd < 0 || addrEnd > headEnd) return headFields(data.slice(from, headEnd));
  const addr = data.slice(at, addrEnd);
  const commToken = data.slice(addrEnd + 1, headEnd);
  if (commToken.includes(' ')) return headFields(data.slice(from, headEnd));
  const comm = hexText(commToken);
  if (comm === undefined) return 'listener line thread name is not hex';
  const known = KINDS.get(kind);
  if (known === undefined) return `unknown listener event kind '${kind}'`;
  // Built field by field, without spreads: this runs for every event of a trace.
  const e: Draft = { type: kind, timeNs: n[0], pid: n[1], tid: n[2], comm };
  if (stack) e.stack = stack;
  if (nodeId !== undefined) e.node = nodeId;
  const unreadable = known.shape(e, n, known.at, addr);
  return typeof unreadable === 'string' ? unreadable : (e as unknown as SyscallEvent);
}

const COUNT_KEY = /^(\d{1,10}),(\d{1,10}),(\d{1,10})$/;

/**
 * The entries of a print of accept totals (`{"pid,tid,fd": total}`, see ACCEPT_COUNT_MAPS), dated
 * by the `counts` line before it, as `accepts` events; an entry of another shape is malformed.
 */
export function acceptCountEvents(
  name: string,
  value: unknown,
  timeNs: number,
  nodeId: string | undefined,
): TraceEvent[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [
      {
        type: 'malformed',
        line: `${name} ${JSON.stringify(value)}`.slice(0, 200),
        reason: 'accept totals are not a map',
      },
    ];
  const out: TraceEvent[] = [];
  for (const [key, total] of Object.entries(value)) {
    const m = COUNT_KEY.exec(key);
    if (!m || typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) {
      out.push({
        type: 'malformed',
        line: `${name}[${key}]: ${JSON.stringify(total)}`.slice(0, 200),
        reason: 'an accept total is not pid,tid,fd: count',
      });
      continue;
    }
    const e: AcceptCountEvent = {
      type: 'accepts',
      timeNs,
      pid: Number(m[1]),
      tid: Number(m[2]),
      comm: '',
      listenFd: Number(m[3]),
      total,
    };
    if (nodeId !== undefined) e.node = nodeId;
    out.push(e);
  }
  return out;
}
