// Generic readers of saved traces: our `.jsonl` session logs (one SessionTraceEvent per line) and
// bpftrace `-f json` output (through the trace stream parser). The seed article's text format has
// its own importer (seed-import.ts); `readTraceLog` only dispatches to it when the text is that.
import type { SessionTraceEvent, TraceEvent } from '../../common/events';
import { SYSCALL_EVENT_TYPES } from '../../common/events';
import { importSeedOutput, looksLikeSeedOutput } from './seed-import';
import { isRecord } from '../../common/guards';
import { isAdminRecord } from './admin-record';
import { isSnapshotRecord } from './snapshot';

export type LogFormat = 'session-jsonl' | 'bpftrace-json' | 'seed-text';

export interface ReadLog {
  format: LogFormat;
  events: (TraceEvent | SessionTraceEvent)[];
  /** Lines that could not be read, with the reason (line numbers are 1-based). */
  problems: string[];
}

/** Turns bpftrace's own output (stdout, `-f json`) into events: the trace stream parser. */
export interface BpftraceOutputParser {
  pushStdout(chunk: string): TraceEvent[];
  end(): TraceEvent[];
}

const BPFTRACE_JSON_TYPES = new Set([
  'attached_probes',
  'printf',
  'map',
  'hist',
  'stats',
  'value',
  'time',
  'lost_events',
  'join',
  'syscall',
  'helper_error',
]);

const SESSION_TYPES = new Set(['attached', 'output', 'map', 'lost', 'malformed', 'diagnostic', 'ended']);
const MAX_PROBLEMS = 100;

/** Checks the fields the reducer relies on; everything in a log is untrusted. */
export function validateTraceEvent(v: unknown): string | undefined {
  if (!isRecord(v) || typeof v.type !== 'string') return 'not an event object';
  if (SESSION_TYPES.has(v.type)) return undefined;
  if (v.type === 'snapshot')
    return typeof v.node === 'string' && isSnapshotRecord(v.snapshot) ? undefined : 'snapshot: bad record';
  if (v.type === 'admin')
    return typeof v.node === 'string' &&
      typeof v.pid === 'number' &&
      Number.isInteger(v.pid) &&
      isAdminRecord(v.report)
      ? undefined
      : 'admin: bad record';
  if (!SYSCALL_EVENT_TYPES.has(v.type as never)) return `unknown event type '${v.type.slice(0, 40)}'`;
  for (const k of ['timeNs', 'pid', 'tid'])
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) return `${k} is not a number`;
  if (typeof v.comm !== 'string') return 'comm is not a string';
  if (v.stack !== undefined && (!Array.isArray(v.stack) || !v.stack.every((f) => typeof f === 'string')))
    return 'stack is not a list of strings';
  const need = (keys: string[]): string | undefined => {
    for (const k of keys)
      if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) return `${v.type}: ${k} is not a number`;
    return undefined;
  };
  switch (v.type) {
    case 'socket':
      return need(['fd', 'socketType']) ?? (typeof v.family === 'string' ? undefined : 'socket: no family');
    case 'bind': {
      const a = v.address;
      if (
        !isRecord(a) ||
        typeof a.address !== 'string' ||
        typeof a.port !== 'number' ||
        typeof a.family !== 'string'
      )
        return 'bind: bad address';
      return need(['fd']);
    }
    case 'listen':
      return need(['fd', 'backlog']);
    case 'setsockopt':
      return need(['fd', 'level', 'optname']);
    case 'dup':
      return need(['oldFd', 'newFd']);
    case 'accept':
      return need(['listenFd', 'fd']);
    case 'accepts':
      return need(['listenFd', 'total']);
    case 'close':
      return need(['fd']);
    case 'exec':
      return typeof v.path === 'string' ? undefined : 'exec: no path';
    case 'spawn':
      return (
        need(['childPid', 'childTid']) ??
        (typeof v.thread === 'boolean' ? undefined : 'spawn: no thread flag')
      );
    case 'thread-name':
      return typeof v.name === 'string' ? undefined : 'thread-name: no name';
    default:
      return undefined;
  }
}

/** One line of a session log → the event, or the reason it is not one. */
export function parseSessionLine(line: string): SessionTraceEvent | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (!isRecord(v)) return 'not a JSON object';
  if (typeof v.sessionId !== 'string' || typeof v.nodeId !== 'string') return 'no sessionId/nodeId';
  const problem = validateTraceEvent(v.event);
  return problem ?? (v as unknown as SessionTraceEvent);
}

export function detectFormat(text: string): LogFormat | undefined {
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return undefined;
  if (first.trimStart().startsWith('{')) {
    try {
      const v = JSON.parse(first) as Record<string, unknown>;
      if (isRecord(v) && typeof v.sessionId === 'string') return 'session-jsonl';
      if (isRecord(v) && typeof v.type === 'string' && BPFTRACE_JSON_TYPES.has(v.type))
        return 'bpftrace-json';
    } catch {
      // fall through: not JSON lines
    }
  }
  return looksLikeSeedOutput(text) ? 'seed-text' : undefined;
}

export function readSessionLog(text: string): ReadLog {
  const events: SessionTraceEvent[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const parsed = parseSessionLine(line);
    if (typeof parsed === 'string') {
      if (problems.length < MAX_PROBLEMS) problems.push(`line ${i + 1}: ${parsed}`);
    } else events.push(parsed);
  });
  return { format: 'session-jsonl', events, problems };
}

export function readBpftraceJson(text: string, parser: BpftraceOutputParser): ReadLog {
  const events = [...parser.pushStdout(text.endsWith('\n') ? text : `${text}\n`), ...parser.end()];
  const problems = events
    .filter((e) => e.type === 'malformed')
    .slice(0, MAX_PROBLEMS)
    .map((e) => (e.type === 'malformed' ? `${e.reason}: ${e.line.slice(0, 120)}` : ''));
  return { format: 'bpftrace-json', events, problems };
}

/**
 * Reads any supported log. `makeParser` supplies the bpftrace stream parser (kept injectable so
 * this module does not pull the trace runner into every consumer).
 */
export function readTraceLog(text: string, makeParser?: () => BpftraceOutputParser): ReadLog {
  const format = detectFormat(text);
  switch (format) {
    case 'session-jsonl':
      return readSessionLog(text);
    case 'bpftrace-json':
      if (!makeParser) throw new Error('bpftrace -f json output needs the trace stream parser');
      return readBpftraceJson(text, makeParser());
    case 'seed-text': {
      const seed = importSeedOutput(text);
      return {
        format,
        events: seed.events,
        problems: seed.unreadable.slice(0, MAX_PROBLEMS).map((l) => `unreadable: ${l}`),
      };
    }
    default:
      throw new Error(
        'not a trace log Fieldtrace can read: expected a .jsonl session log, bpftrace -f json output, or the text output of the seed article script',
      );
  }
}
