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
    if (text.trim() === '') return;
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

const INT = /^-?\d+$/;
const HEX_PAIR = /(?:\\x)?([0-9a-fA-F]{2})/g;
const HEX_TOKEN = /^(?:(?:\\x)?[0-9a-fA-F]{2})+$/;

/** `%rx` output (`\x65\x6e` or, in some versions, `656e`) -> the bytes up to the first NUL. */
function hexText(token: string): string | undefined {
  if (!HEX_TOKEN.test(token)) return undefined;
  const bytes: number[] = [];
  for (const m of token.matchAll(HEX_PAIR)) {
    const b = parseInt(m[1], 16);
    if (b === 0) break;
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

const FIELD_COUNT = 12; // tag kind nsecs pid tid n0..n4 addr comm

/**
 * Reads one structured line of the listener trace. Returns the event, or why it is not one.
 * The first line holds only fixed tokens (numbers, ntop addresses, hex); the stack follows.
 */
export function parseListenerLine(data: string, nodeId?: string): SyscallEvent | string {
  const newline = data.indexOf('\n');
  const head = newline < 0 ? data : data.slice(0, newline);
  const tokens = head.split(' ');
  if (tokens.length !== FIELD_COUNT)
    return `listener line with ${tokens.length} fields, expected ${FIELD_COUNT}`;
  const kind = tokens[1];
  const nums: number[] = [];
  for (let i = 2; i < 10; i++) {
    if (!INT.test(tokens[i])) return `listener line field ${i + 1} is not a number: ${tokens[i]}`;
    nums.push(Number(tokens[i]));
  }
  const [timeNs, pid, tid, n0, n1, n2, n3, n4] = nums;
  const addr = tokens[10];
  const comm = hexText(tokens[11]);
  if (comm === undefined) return 'listener line thread name is not hex';
  let stack: string[] | undefined;
  if (newline >= 0) {
    stack = [];
    for (const frame of data.slice(newline + 1).split('\n')) {
      const f = frame.trim();
      if (f) stack.push(f);
    }
    if (stack.length === 0) stack = undefined;
  }
  const origin = {
    timeNs,
    pid,
    tid,
    comm,
    ...(stack ? { stack } : {}),
    ...(nodeId !== undefined ? { node: nodeId } : {}),
  };
  const hexAddr = () => hexText(addr);
  switch (kind) {
    case 'socket':
      return { type: 'socket', ...origin, fd: n0, family: family(n1), socketType: n2 };
    case 'bind': {
      const fam = family(n1);
      const address = fam === 'unix' ? hexAddr() : addr === '-' ? '' : addr;
      if (address === undefined) return 'listener bind path is not hex';
      return { type: 'bind', ...origin, fd: n0, address: { family: fam, address, port: n2 }, result: n3 };
    }
    case 'listen':
      return { type: 'listen', ...origin, fd: n0, backlog: n1, result: n2 };
    case 'setsockopt':
      return {
        type: 'setsockopt',
        ...origin,
        fd: n0,
        level: n1,
        optname: n2,
        value: n4 >= 4 ? n3 : undefined,
        optlen: n4,
      };
    case 'dup': {
      const via = DUP_VIA[n2];
      if (via === undefined) return `listener dup with unknown variant ${n2}`;
      return { type: 'dup', ...origin, oldFd: n0, newFd: n1, via };
    }
    case 'accept': {
      const fam = family(n2);
      const peer =
        fam === 'inet' || fam === 'inet6' ? { peer: { family: fam, address: addr, port: n3 } } : {};
      return { type: 'accept', ...origin, listenFd: n0, fd: n1, ...peer };
    }
    case 'close':
      return { type: 'close', ...origin, fd: n0, result: n1 };
    case 'exec': {
      const path = hexAddr();
      if (path === undefined) return 'listener exec path is not hex';
      return { type: 'exec', ...origin, path };
    }
    case 'spawn': {
      const thread = n1 === 1;
      return { type: 'spawn', ...origin, childTid: n0, childPid: thread ? pid : n0, thread };
    }
    case 'thread-name': {
      const name = hexAddr();
      if (name === undefined) return 'listener thread name is not hex';
      // The event is about the renamed thread, which may differ from the one renaming it.
      return { type: 'thread-name', ...origin, tid: n0, comm: name, name };
    }
    case 'exit':
      return { type: 'exit', ...origin, processExit: n0 === 1 };
    default:
      return `unknown listener event kind '${kind}'`;
  }
}

// bpftrace's positioned messages: `file.bt:12:3-10: ERROR: msg`, `stdin:1:1: WARNING: msg`.
const POSITIONED = /^(.*?):(\d+):(\d+)(?:-(\d+))?: (ERROR|WARNING): (.*)$/;
// Messages without a position; bpftrace may glue one to the end of another line.
const LEVEL = /(ERROR|WARNING|HINT): /g;
// Known harmless noise that bpftrace prints as ERROR on machines like ours.
const NOISE = [/couldn't set RLIMIT_MEMLOCK/, /available_filter_functions/, /traceable functions/];

class DiagnosticReader {
  /** Lines still expected after a positioned message: the source line and its `~~~` underline. */
  private context = 0;

  line(line: SplitLine, out: TraceEvent[]): void {
    const text = line.text;
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
      // The echoed source line and the underline are part of the message above.
      if (this.context === 1 || /^\s*~+\s*$/.test(text)) return;
    }
    this.unpositioned(text, out);
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
