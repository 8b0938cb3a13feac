// The one parser of a `bpftrace -f json` session: stdout lines become typed events (our listener
// trace's structured lines become SyscallEvents), stderr lines become diagnostics. Nothing is
// lost and nothing throws: a line that cannot be read becomes a `malformed` event.
import type { AddressFamily, SyscallEvent, TraceEvent } from '../../common/events';
import { LineSplitter, type SplitLine } from './line-splitter';
import { ATTACHED_KIND, DUP_VIA, LISTENER_LINE_TAG } from './listener-script';

export interface TraceStreamParserOptions {
  /** Stamped on syscall events (`node`). */
  nodeId?: string;
  /** Longer lines are cut and reported as malformed (default 8 Mi characters). */
  maxLineLength?: number;
  /**
   * When to report `attached`. bpftrace prints `attached_probes` before it attaches, so a target
   * started on that event can run ahead of the probes. `'begin'` waits for the marker that the
   * listener trace prints from BEGIN (all probes attached); use it with listenerTraceScript.
   * Default `'announced'`: at `attached_probes`.
   */
  attachedWhen?: 'announced' | 'begin';
}

export class TraceStreamParser {
  private readonly stdout: LineSplitter;
  private readonly stderr: LineSplitter;
  private readonly diagnostics = new DiagnosticReader();
  private readonly nodeId?: string;
  private readonly attachedAtBegin: boolean;
  private announcedProbes = 0;

  constructor(opts: TraceStreamParserOptions = {}) {
    this.nodeId = opts.nodeId;
    this.attachedAtBegin = opts.attachedWhen === 'begin';
    this.stdout = new LineSplitter(opts.maxLineLength);
    this.stderr = new LineSplitter(opts.maxLineLength);
  }

  pushStdout(chunk: Buffer | string): TraceEvent[] {
    const events: TraceEvent[] = [];
    for (const line of this.stdout.push(chunk)) this.stdoutLine(line, events);
    return events;
  }

  pushStderr(chunk: Buffer | string): TraceEvent[] {
    const events: TraceEvent[] = [];
    for (const line of this.stderr.push(chunk)) this.diagnostics.line(line, events);
    return events;
  }

  /** Flushes unterminated last lines of both streams. */
  end(): TraceEvent[] {
    const events: TraceEvent[] = [];
    for (const line of this.stdout.end()) this.stdoutLine(line, events);
    for (const line of this.stderr.end()) this.diagnostics.line(line, events);
    this.diagnostics.end(events);
    return events;
  }

  private stdoutLine(line: SplitLine, out: TraceEvent[]): void {
    if (line.truncated) {
      out.push({
        type: 'malformed',
        line: line.text,
        reason: `line of ${line.truncated.originalLength} characters cut to its first ${line.text.length}`,
      });
      return;
    }
    const text = line.text;
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return;
    // Listener lines are read from the raw JSON without parsing it: the head holds numbers, an
    // address and hex, whose only escapes are `\\x` and the `\n` that ends it; a stack's frames
    // are plain text between `\n`s. A line with any other escape, or that the head reader does not
    // accept, goes the JSON way below.
    if (text.startsWith(RAW_LISTENER_START) && text.endsWith(RAW_LISTENER_END)) {
      const end = text.length - RAW_RECORD_END.length;
      // A stack ends in a blank line; without one the head ends the record (no search needed).
      const stacked = text.endsWith(RAW_STACK_END);
      const headEnd = stacked
        ? text.indexOf(RAW_NEWLINE, RAW_LISTENER_START.length)
        : end - RAW_NEWLINE.length;
      const stack = stacked ? readFrames(text, headEnd + RAW_NEWLINE.length, end, true) : undefined;
      if (stack !== null) {
        const from = RAW_LISTENER_START.length - LISTENER_LINE_TAG.length - 1;
        const event = listenerEvent(text, from, headEnd, stack, this.nodeId);
        if (typeof event !== 'string') {
          out.push(event);
          return;
        }
      }
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      out.push({ type: 'malformed', line: text, reason: `not JSON: ${(error as Error).message}` });
      return;
    }
    const { type, data } = (record ?? {}) as JsonRecord;
    if (type === 'attached_probes' && typeof (data as { probes?: unknown } | null)?.probes === 'number') {
      this.announcedProbes = (data as { probes: number }).probes;
      if (this.attachedAtBegin) return;
    } else if (type === 'printf' && typeof data === 'string' && data.startsWith(ATTACHED_MARKER)) {
      const timeNs = Number(data.slice(ATTACHED_MARKER.length).split(' ', 1)[0]);
      if (this.attachedAtBegin) {
        out.push({
          type: 'attached',
          probes: this.announcedProbes,
          ...(Number.isFinite(timeNs) ? { timeNs } : {}),
        });
      }
      return;
    }
    readRecord(record, text, this.nodeId, out);
  }
}

const ATTACHED_MARKER = `${LISTENER_LINE_TAG} ${ATTACHED_KIND} `;
// bpftrace -f json writes printf records exactly so.
const RAW_LISTENER_START = `{"type": "printf", "data": "${LISTENER_LINE_TAG} `;
const RAW_RECORD_END = '"}';
const RAW_NEWLINE = '\\n';
const RAW_LISTENER_END = `${RAW_NEWLINE}${RAW_RECORD_END}`;
const RAW_STACK_END = `${RAW_NEWLINE}${RAW_LISTENER_END}`;

type JsonRecord = { type?: unknown; data?: unknown; [key: string]: unknown };

function readRecord(record: unknown, text: string, nodeId: string | undefined, out: TraceEvent[]): void {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    out.push({ type: 'malformed', line: text, reason: 'not a JSON object' });
    return;
  }
  const { type, data } = record as JsonRecord;
  switch (type) {
    case 'printf': {
      if (typeof data !== 'string') break;
      if (data.startsWith(LISTENER_LINE_TAG + ' ')) {
        const parsed = parseListenerLine(data, nodeId);
        if (typeof parsed === 'string') out.push({ type: 'malformed', line: text, reason: parsed });
        else out.push(parsed);
      } else {
        out.push({ type: 'output', text: data });
      }
      return;
    }
    case 'attached_probes': {
      const probes = (data as { probes?: unknown } | null)?.probes;
      if (typeof probes === 'number') {
        out.push({ type: 'attached', probes });
        return;
      }
      break;
    }
    case 'lost_events': {
      const events = (data as { events?: unknown } | null)?.events;
      if (typeof events === 'number') {
        out.push({ type: 'lost', count: events });
        return;
      }
      break;
    }
    case 'map':
    case 'hist':
    case 'lhist':
    case 'stats': {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) break;
      // bpftrace writes one map per record, keyed by its name.
      for (const [name, value] of Object.entries(data)) out.push({ type: 'map', name, value });
      return;
    }
    case 'time':
    case 'join':
    case 'value':
    case 'syscall':
      out.push({ type: 'output', text: typeof data === 'string' ? data : JSON.stringify(data) + '\n' });
      return;
    case 'helper_error': {
      const r = record as JsonRecord;
      const message = `${String(r.helper ?? 'helper')} failed: ${String(r.msg ?? r.retcode ?? 'unknown error')}`;
      out.push({ type: 'diagnostic', severity: 'warning', message });
      return;
    }
    default:
      if (typeof type === 'string') {
        // A record of a bpftrace newer than this parser: shown, not lost.
        out.push({ type: 'output', text: text + '\n' });
        return;
      }
  }
  out.push({ type: 'malformed', line: text, reason: `unexpected ${String(type)} record` });
}

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

/**
 * `%rx` output (`\x65\x6e`, or plain `656e` in some versions) -> the text of its bytes up to the
 * first NUL (the kernel leaves stale bytes after it). Undefined when the token is not hex.
 */
function hexText(token: string): string | undefined {
  const escaped = token.charCodeAt(0) === 92; // backslash
  // Still in its JSON form (`\\x65`: the backslash escaped) when read from the raw line.
  const raw = escaped && token.charCodeAt(1) === 92;
  const step = raw ? 5 : escaped ? 4 : 2;
  if (token.length === 0 || token.length % step !== 0) return undefined;
  const bytes: number[] = [];
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
      bytes.push(b);
      if (b >= 0x80) ascii = false;
    }
  }
  return ascii ? String.fromCharCode.apply(null, bytes) : Buffer.from(bytes).toString('utf8');
}

const FIELD_COUNT = 12; // tag kind nsecs pid tid n0..n4 addr comm
const FRAME_INDENT = '        ';

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

function headFields(head: string): string {
  return `listener line with ${head.split(' ').length} fields, expected ${FIELD_COUNT}`;
}

/**
 * Reads one structured line of the listener trace. Returns the event, or why it is not one.
 * The first line holds only fixed tokens (numbers, ntop addresses, hex); the stack follows.
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

/** The event of a head (`data` from `from` up to `headEnd`), read in place. */
function listenerEvent(
  data: string,
  from: number,
  headEnd: number,
  stack: string[] | undefined,
  nodeId: string | undefined,
): SyscallEvent | string {
  // A scanner over the head instead of split(): no substring per number.
  let at = from + LISTENER_LINE_TAG.length + 1;
  const space = data.indexOf(' ', at);
  if (space < 0 || space > headEnd) return headFields(data.slice(from, headEnd));
  const kind = data.slice(at, space);
  at = space + 1;
  const n: number[] = [];
  for (let field = 0; field < 8; field++) {
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
  // Built field by field, without spreads or closures: this runs for every event of a trace.
  const e: Record<string, unknown> = { type: kind, timeNs: n[0], pid: n[1], tid: n[2], comm };
  if (stack) e.stack = stack;
  if (nodeId !== undefined) e.node = nodeId;
  const n0 = n[3],
    n1 = n[4],
    n2 = n[5],
    n3 = n[6],
    n4 = n[7];
  switch (kind) {
    case 'socket':
      e.fd = n0;
      e.family = family(n1);
      e.socketType = n2;
      break;
    case 'bind': {
      const fam = family(n1);
      const address = fam === 'unix' ? hexText(addr) : addr === '-' ? '' : addr;
      if (address === undefined) return 'listener bind path is not hex';
      e.fd = n0;
      e.address = { family: fam, address, port: n2 };
      e.result = n3;
      break;
    }
    case 'listen':
      e.fd = n0;
      e.backlog = n1;
      e.result = n2;
      break;
    case 'setsockopt':
      e.fd = n0;
      e.level = n1;
      e.optname = n2;
      if (n4 >= 4) e.value = n3;
      e.optlen = n4;
      break;
    case 'dup': {
      const via = DUP_VIA[n2];
      if (via === undefined) return `listener dup with unknown variant ${n2}`;
      e.oldFd = n0;
      e.newFd = n1;
      e.via = via;
      break;
    }
    case 'accept': {
      const fam = family(n2);
      e.listenFd = n0;
      e.fd = n1;
      if (fam === 'inet' || fam === 'inet6') e.peer = { family: fam, address: addr, port: n3 };
      break;
    }
    case 'close':
      e.fd = n0;
      e.result = n1;
      break;
    case 'exec': {
      const path = hexText(addr);
      if (path === undefined) return 'listener exec path is not hex';
      e.path = path;
      break;
    }
    case 'spawn':
      e.childTid = n0;
      e.thread = n1 === 1;
      e.childPid = n1 === 1 ? n[1] : n0;
      break;
    case 'thread-name': {
      const name = hexText(addr);
      if (name === undefined) return 'listener thread name is not hex';
      // The event is about the renamed thread, which may differ from the one renaming it.
      e.tid = n0;
      e.comm = name;
      e.name = name;
      break;
    }
    case 'exit':
      e.processExit = n0 === 1;
      break;
    default:
      return `unknown listener event kind '${kind}'`;
  }
  return e as unknown as SyscallEvent;
}

// bpftrace's positioned messages: `file.bt:12:3-10: ERROR: msg`, `stdin:1:1: WARNING: msg`.
const POSITIONED = /^(.*?):(\d+):(\d+)(?:-(\d+))?: (ERROR|WARNING): (.*)$/;
// Messages without a position; bpftrace may glue one to the end of another line.
const LEVEL = /(ERROR|WARNING|HINT): /g;
const STARTS_MESSAGE = /^(ERROR|WARNING|HINT): /;
// Known harmless noise that bpftrace prints as ERROR on machines like ours.
const NOISE = [/couldn't set RLIMIT_MEMLOCK/, /available_filter_functions/, /traceable functions/];

// A C++ exception that escaped bpftrace: libstdc++ prints these two lines, then bpftrace aborts.
const TERMINATE = /^terminate called after throwing an instance of '(.*)'\s*$/;
const WHAT = /^\s*what\(\):\s*(.*)$/;
// bpftrace before 0.20, with its user-symbol cache on, reads /proc/PID/exe without catching the
// error it gets for a process that has exited since the event: the whole trace aborts.
const EXITED_PROCESS_EXE = /read_symlink: .*\[\/proc\/(\d+)\/exe\]/;

/** The one error that says why bpftrace aborted; `what` is the exception's message. */
export function crashDiagnostic(exception: string, what: string | undefined): TraceEvent {
  const exited = what === undefined ? null : EXITED_PROCESS_EXE.exec(what);
  const message = exited
    ? `bpftrace crashed resolving a user stack of process ${exited[1]}, which had already exited ` +
      '(a bpftrace bug before 0.20 when its user-symbol cache is on). The events before it are ' +
      'kept. Run the trace again, or run it without user stacks.'
    : `bpftrace crashed on an uncaught ${exception}${what ? `: ${what}` : ''}`;
  return { type: 'diagnostic', severity: 'error', message, crash: true };
}

class DiagnosticReader {
  /** Lines still expected after a positioned message: the source line and its `~~~` underline. */
  private context = 0;
  /** The exception type of a `terminate called…` line, until its `what():` line arrives. */
  private crash: string | undefined;

  line(line: SplitLine, out: TraceEvent[]): void {
    const text = line.text;
    if (this.crash !== undefined) {
      const what = WHAT.exec(text);
      const exception = this.crash;
      this.crash = undefined;
      out.push(crashDiagnostic(exception, what?.[1]));
      if (what) return;
    }
    const terminate = TERMINATE.exec(text);
    if (terminate) {
      this.crash = terminate[1];
      return;
    }
    if (text.trim() === '') return;
    const positioned = POSITIONED.exec(text);
    if (positioned) {
      const [, file, l, c, endC, level, message] = positioned;
      out.push({
        type: 'diagnostic',
        severity: level === 'ERROR' ? 'error' : 'warning',
        message,
        file,
        line: Number(l),
        column: Number(c),
        ...(endC !== undefined ? { endColumn: Number(endC) } : {}),
      });
      this.context = 2;
      return;
    }
    if (this.context > 0) {
      this.context--;
      // The echoed source line and the underline are part of the message above; a message of
      // its own (some versions print no echo) is not.
      if (STARTS_MESSAGE.test(text)) this.context = 0;
      else if (this.context === 1 || /^\s*~+\s*$/.test(text)) return;
    }
    this.unpositioned(text, out);
  }

  /** At the end of stderr: a crash whose `what():` line never came is still reported. */
  end(out: TraceEvent[]): void {
    if (this.crash !== undefined) out.push(crashDiagnostic(this.crash, undefined));
    this.crash = undefined;
  }

  private unpositioned(text: string, out: TraceEvent[]): void {
    const parts: { level: string | undefined; message: string }[] = [];
    let last = 0;
    let level: string | undefined;
    for (const m of text.matchAll(LEVEL)) {
      const before = text.slice(last, m.index).trim();
      if (before) parts.push({ level, message: before });
      level = m[1];
      last = m.index + m[0].length;
    }
    const rest = text.slice(last).trim();
    if (rest) parts.push({ level, message: rest });
    for (const part of parts) {
      const noise = NOISE.some((re) => re.test(part.message));
      out.push({
        type: 'diagnostic',
        severity: part.level === 'ERROR' && !noise ? 'error' : 'warning',
        message: part.level === 'HINT' ? `hint: ${part.message}` : part.message,
      });
    }
  }
}

const FAMILY_NAMES: Record<AddressFamily, string> = {
  inet: 'AF_INET',
  inet6: 'AF_INET6',
  unix: 'AF_UNIX',
  other: 'AF_?',
};

function hostPort(address: string, port: number, fam: AddressFamily): string {
  if (fam === 'unix') return address || '(unnamed)';
  return fam === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

function describe(event: SyscallEvent): string {
  switch (event.type) {
    case 'socket':
      return `socket(${FAMILY_NAMES[event.family]}, type ${event.socketType}) = ${event.fd}`;
    case 'bind':
      return `bind(fd ${event.fd}, ${hostPort(event.address.address, event.address.port, event.address.family)}) = ${event.result ?? '?'}`;
    case 'listen':
      return `listen(fd ${event.fd}, backlog ${event.backlog}) = ${event.result ?? '?'}`;
    case 'setsockopt':
      return `setsockopt(fd ${event.fd}, level ${event.level}, optname ${event.optname}, value ${event.value ?? '?'}, optlen ${event.optlen})`;
    case 'dup':
      return `${event.via}(fd ${event.oldFd}) = ${event.newFd}`;
    case 'accept':
      return `accept(fd ${event.listenFd}) = ${event.fd}${event.peer ? ` from ${hostPort(event.peer.address, event.peer.port, event.peer.family)}` : ''}`;
    case 'close':
      return `close(fd ${event.fd})${event.result !== undefined ? ` = ${event.result}` : ''}`;
    case 'exec':
      return `exec ${event.path}`;
    case 'spawn':
      return event.thread ? `new thread ${event.childTid}` : `new process ${event.childPid}`;
    case 'thread-name':
      return `thread named ${event.name}`;
    case 'exit':
      return event.processExit ? 'process exit' : 'thread exit';
  }
}

function renderMapValue(name: string, value: unknown): string {
  if (Array.isArray(value)) {
    // hist/lhist buckets: [{min, max, count}] (older versions: {interval: [lo, hi], count}).
    const rows = value.map(
      (b: { min?: number; max?: number; interval?: [number, number]; count?: number }) => {
        const lo = b.min ?? b.interval?.[0] ?? '';
        const hi = b.max ?? b.interval?.[1] ?? '';
        return { label: `[${lo}, ${hi})`, count: Number(b.count ?? 0) };
      },
    );
    const most = Math.max(1, ...rows.map((r) => r.count));
    const width = Math.max(0, ...rows.map((r) => r.label.length));
    return `${name}:\n${rows.map((r) => `${r.label.padEnd(width)} ${String(r.count).padStart(8)} |${'@'.repeat(Math.round((r.count / most) * 52)).padEnd(52)}|`).join('\n')}\n`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, v]) => typeof v !== 'object' || v === null)) {
      return entries.map(([k, v]) => `${name}[${k}]: ${String(v)}`).join('\n') + '\n';
    }
    return entries.map(([k, v]) => renderMapValue(`${name}[${k}]`, v)).join('');
  }
  return `${name}: ${String(value)}\n`;
}

/** One event as bpftrace's text mode would show it (stack frames indented by 8 spaces). */
export function renderText(event: TraceEvent): string {
  switch (event.type) {
    case 'attached':
      return `Attaching ${event.probes} probe${event.probes === 1 ? '' : 's'}...\n`;
    case 'output':
      return event.text;
    case 'map':
      return renderMapValue(event.name, event.value) + '\n';
    case 'lost':
      return `Lost ${event.count} events\n`;
    case 'malformed':
      return `[unreadable line: ${event.reason}] ${event.line}\n`;
    case 'diagnostic': {
      const where =
        event.line !== undefined
          ? `${event.file ?? 'script'}:${event.line}:${event.column ?? 1}${event.endColumn !== undefined ? `-${event.endColumn}` : ''}: `
          : '';
      return `${where}${event.severity === 'error' ? 'ERROR' : 'WARNING'}: ${event.message}\n`;
    }
    case 'ended':
      return `bpftrace ended (${event.signal ? `signal ${event.signal}` : `exit code ${event.exitCode}`})${event.reason ? `: ${event.reason}` : ''}\n`;
    default: {
      const head = `${event.comm}[${event.pid}/${event.tid}] ${describe(event)}\n`;
      return event.stack ? `${head}${event.stack.map((f) => `        ${f}\n`).join('')}\n` : head;
    }
  }
}
