// The one parser of a `bpftrace -f json` session: stdout lines become typed events (our listener
// trace's structured lines become SyscallEvents), stderr lines become diagnostics. Nothing is
// lost and nothing throws: a line that cannot be read becomes a `malformed` event.
import type { TraceEvent } from '../../common/events';
import { DiagnosticReader } from './bpftrace-diagnostics';
import { LineSplitter, type SplitLine } from './line-splitter';
import { acceptCountEvents, parseListenerLine, rawListenerEvent } from './listener-decoder';
import { ACCEPT_COUNT_MAPS, ATTACHED_KIND, COUNTS_KIND, LISTENER_LINE_TAG } from './listener-record';

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
  /** Time of the last `counts` line: the accept totals printed after it are as of then. */
  private countsTimeNs = 0;

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
    // Listener lines are read in place from bpftrace's fixed printf record form; any line that
    // form does not fit goes the JSON way below.
    const listener = rawListenerEvent(text, this.nodeId);
    if (listener !== undefined) {
      out.push(listener);
      return;
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
    } else if (type === 'printf' && typeof data === 'string' && data.startsWith(COUNTS_MARKER)) {
      const timeNs = Number(data.slice(COUNTS_MARKER.length).split(' ', 1)[0]);
      if (Number.isSafeInteger(timeNs)) this.countsTimeNs = timeNs;
      return;
    } else if (type === 'map' && typeof data === 'object' && data !== null && !Array.isArray(data)) {
      for (const [name, value] of Object.entries(data)) {
        if (ACCEPT_COUNT_MAPS.includes(name))
          out.push(...acceptCountEvents(name, value, this.countsTimeNs, this.nodeId));
        else out.push({ type: 'map', name, value });
      }
      return;
    }
    readRecord(record, text, this.nodeId, out);
  }
}

const ATTACHED_MARKER = `${LISTENER_LINE_TAG} ${ATTACHED_KIND} `;
const COUNTS_MARKER = `${LISTENER_LINE_TAG} ${COUNTS_KIND} `;

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
