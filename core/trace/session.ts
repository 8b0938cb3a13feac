// One trace session: a TraceRun on a node plus everything around it that must not depend on the
// UI: the `.jsonl` session log (written synchronously per batch so nothing received is lost),
// the event bus every consumer subscribes to (terminal, listener state, node diagnostics, the
// CLI's printer), the event rate, bpftrace's diagnostics mapped to script ranges, and the check
// after a stop that no bpftrace of ours is left on the node.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import type { SessionTraceEvent, TraceEvent } from '../../common/events';
import type { NodeProbe } from '../nodes/probe';
import type { NodeTransport } from '../nodes/transport';
import { listenerTraceEnvironment } from './listener-script';
import { remainingBpftrace, type TraceEnd, type TraceOutputParser, TraceRun } from './runner';
import { declaresUnsafe } from '../../common/pragmas';

export type DiagnosticEvent = Extract<TraceEvent, { type: 'diagnostic' }>;

/** A 0-based, end-exclusive range in the script (what editors and LSP use). */
export interface ScriptRange {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

/**
 * Where a bpftrace diagnostic points in the script. bpftrace prints 1-based `LINE:COL-ENDCOL`
 * with ENDCOL exclusive; without a column the whole line is meant. Out-of-range positions
 * (a script edited since the run) are clamped to the text.
 */
export function diagnosticRange(diagnostic: DiagnosticEvent, scriptText: string): ScriptRange | undefined {
  if (diagnostic.line === undefined) return undefined;
  const lines = scriptText.split('\n');
  const line = Math.min(Math.max(diagnostic.line - 1, 0), Math.max(lines.length - 1, 0));
  const text = (lines[line] ?? '').replace(/\r$/, '');
  if (diagnostic.column === undefined) {
    const indent = text.length - text.trimStart().length;
    return { startLine: line, startColumn: indent, endLine: line, endColumn: text.length };
  }
  const start = Math.min(Math.max(diagnostic.column - 1, 0), text.length);
  let end = diagnostic.endColumn !== undefined ? diagnostic.endColumn - 1 : start + 1;
  end = Math.min(Math.max(end, start + 1), Math.max(text.length, start + 1));
  return { startLine: line, startColumn: start, endLine: line, endColumn: end };
}

/** Appends SessionTraceEvents to a `.jsonl` file; each batch reaches the OS before returning. */
export class SessionLogWriter {
  private fd: number | undefined;
  private pending: string[] = [];
  private scheduled = false;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
  }

  append(event: SessionTraceEvent): void {
    if (this.fd === undefined) return;
    this.pending.push(JSON.stringify(event));
    // One write per parsed chunk, not per event: events of a chunk arrive in one task.
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.fd === undefined || this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    writeSync(this.fd, text);
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export type TraceEventListener = (event: SessionTraceEvent) => void;

/**
 * The one-way event bus of trace sessions: a session writes each event to its log, then publishes
 * it here; consumers subscribe (to every session, or to one by id) and never publish back.
 */
export class TraceEventBus {
  private readonly listeners = new Set<TraceEventListener>();

  /** @param onListenerError hears what a listener threw; the other listeners still get the event. */
  constructor(private readonly onListenerError: (error: unknown) => void = () => undefined) {}

  subscribe(listener: TraceEventListener, sessionId?: string): { dispose(): void } {
    const wrapped: TraceEventListener =
      sessionId === undefined ? listener : (e) => e.sessionId === sessionId && listener(e);
    this.listeners.add(wrapped);
    return { dispose: () => this.listeners.delete(wrapped) };
  }

  publish(event: SessionTraceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

/** A fresh session id: sortable by start time, unique on the machine. */
export function newSessionId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

export interface TraceSessionOptions {
  transport: NodeTransport;
  /** The node's probe; a node with problems is refused with those messages. */
  probe: NodeProbe;
  script: string;
  scriptName?: string;
  bpftraceOptions?: string[];
  /** Run with `bpftrace --unsafe` (the setting); a script with `// fieldtrace: unsafe` always is. */
  unsafe?: boolean;
  positional?: string[];
  /** Folder for the session log (`<sessionId>.jsonl`). */
  logDir: string;
  parser: TraceOutputParser;
  /** Where the session publishes its events (after logging them); a session of its own if absent. */
  bus?: TraceEventBus;
  /** Subscribes to this session's events on the bus before the first one can arrive. */
  onEvent?: TraceEventListener;
  /**
   * Known before start() so that subscribers of this session (a terminal) can be on the bus
   * before its first event; fresh if absent.
   */
  sessionId?: string;
  stopTimeoutsMs?: { interrupt: number; kill: number };
  /** How the script reaches the node (see TraceRunOptions.transfer). */
  transfer?: 'stdin' | 'file';
  /** Events known before the trace starts (a node snapshot): logged and passed on first. */
  preamble?: TraceEvent[];
}

export interface SessionStopResult extends TraceEnd {
  /** bpftrace processes of this session still present on the node after the stop (should be none). */
  remaining: number[];
}

/** Not startable on this node: the messages say what to install or configure. */
export class NodeNotReadyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join(' '));
  }
}

const RATE_WINDOW_MS = 5000;

export class TraceSession {
  readonly id: string;
  readonly nodeId: string;
  readonly logPath: string;
  readonly startedAt = Date.now();
  readonly diagnostics: DiagnosticEvent[] = [];
  eventCount = 0;
  /** ms from start() to the first event after `attached` (or the first event at all). */
  firstEventMs: number | undefined;
  attachedMs: number | undefined;
  private readonly log: SessionLogWriter;
  private readonly bus: TraceEventBus;
  private readonly recent: number[] = [];
  private run: TraceRun | undefined;
  private endResult: TraceEnd | undefined;
  private markAttached!: () => void;
  /** Resolves when bpftrace says its probes are attached (never, if it ends before). */
  readonly attached = new Promise<void>((resolve) => (this.markAttached = resolve));

  private constructor(private readonly options: TraceSessionOptions) {
    this.id = options.sessionId ?? newSessionId();
    this.nodeId = options.transport.nodeId;
    this.logPath = path.join(options.logDir, `${this.id}.jsonl`);
    this.log = new SessionLogWriter(this.logPath);
    this.bus = options.bus ?? new TraceEventBus();
  }

  static async start(options: TraceSessionOptions): Promise<TraceSession> {
    const { probe } = options;
    if (probe.problems.length || !probe.privilege) throw new NodeNotReadyError(probe.problems);
    const session = new TraceSession(options);
    const subscription = options.onEvent ? session.bus.subscribe(options.onEvent, session.id) : undefined;
    for (const event of options.preamble ?? []) session.receive(event);
    try {
      session.run = await TraceRun.start({
        transport: options.transport,
        script: options.script,
        scriptName: options.scriptName,
        bpftraceOptions: withUnsafe(options),
        positional: options.positional,
        privilege: probe.privilege,
        bpftrace: probe.bpftracePath,
        // Up to 0.19, with ASLR on, bpftrace rebuilt its symbol cache for every printed ustack:
        // measured here, that delayed a stack-per-event trace by seconds. Any script benefits.
        environment: probe.bpftraceVersion ? listenerTraceEnvironment(probe.bpftraceVersion) : {},
        parser: options.parser,
        stopTimeoutsMs: options.stopTimeoutsMs,
        transfer: options.transfer,
        onEvent: (event) => session.receive(event),
      });
    } catch (error) {
      session.log.close();
      subscription?.dispose();
      throw error;
    }
    void session.run.ended.then((end) => {
      session.endResult = end;
      session.log.close();
      subscription?.dispose();
    });
    return session;
  }

  /**
   * An event from beside the trace (a read of the traced Envoy's admin API): logged and published
   * like the trace's own, not counted as one of them. Dropped once the trace has ended.
   */
  addBeside(event: TraceEvent): void {
    if (!this.running) return;
    const sessionEvent: SessionTraceEvent = { sessionId: this.id, nodeId: this.nodeId, event };
    this.log.append(sessionEvent);
    this.bus.publish(sessionEvent);
  }

  private receive(event: TraceEvent): void {
    const now = Date.now();
    this.eventCount++;
    this.recent.push(now);
    if (event.type === 'attached') {
      this.attachedMs ??= now - this.startedAt;
      this.markAttached();
    } else if (event.type !== 'diagnostic' && event.type !== 'ended')
      this.firstEventMs ??= now - this.startedAt;
    if (event.type === 'diagnostic') this.diagnostics.push(event);
    const sessionEvent: SessionTraceEvent = { sessionId: this.id, nodeId: this.nodeId, event };
    this.log.append(sessionEvent);
    this.bus.publish(sessionEvent);
  }

  get running(): boolean {
    return this.run?.running ?? false;
  }

  get ended(): Promise<TraceEnd> {
    return this.run?.ended ?? Promise.resolve({ exitCode: null, signal: null, reason: 'not started' });
  }

  get end(): TraceEnd | undefined {
    return this.endResult;
  }

  /** The run's folder on the node, or its unique prefix (`/tmp/fieldtrace.<tag>`): our processes name it. */
  get runDir(): string | undefined {
    return this.run?.dir;
  }

  /** Whether a diagnostic is about this session's script (not, say, an included header). */
  isScriptDiagnostic(diagnostic: DiagnosticEvent): boolean {
    const dir = this.run?.dir;
    return (
      diagnostic.file === undefined ||
      diagnostic.file === 'stdin' ||
      (!!dir && diagnostic.file.startsWith(dir))
    );
  }

  /** Path of the script on the node (bpftrace's messages name it; `*` for mktemp's suffix). */
  get remoteScriptPath(): string | undefined {
    return this.run?.scriptPath;
  }

  /** Events per second over the last few seconds. */
  rate(now = Date.now()): number {
    while (this.recent.length && (this.recent[0] ?? 0) < now - RATE_WINDOW_MS) this.recent.shift();
    return this.recent.length / (RATE_WINDOW_MS / 1000);
  }

  /** Stops (SIGINT, then escalation) and checks that no bpftrace of this session remains. */
  async stop(reason = 'stopped by the user'): Promise<SessionStopResult> {
    const run = this.run;
    if (!run) return { exitCode: null, signal: null, reason: 'not started', remaining: [] };
    const end = await run.stop(reason);
    return { ...end, remaining: await this.verifyGone() };
  }

  /** Drops the channel at once (editor closing): the wrapper on the node stops bpftrace. */
  abandon(reason: string): void {
    this.run?.abandon(reason);
  }

  /**
   * PIDs of this session's bpftrace still on the node, polled until none or the deadline.
   * Pass another transport when the session's own connection is gone.
   */
  async verifyGone(transport: NodeTransport = this.options.transport, deadlineMs = 5000): Promise<number[]> {
    const run = this.run;
    if (!run) return [];
    const end = Date.now() + deadlineMs;
    for (;;) {
      const pids = await remainingBpftrace(transport, run.dir);
      if (pids.length === 0 || Date.now() >= end) return pids;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** bpftrace's options, with `--unsafe` when the script or the setting asks for it. */
function withUnsafe(options: TraceSessionOptions): string[] | undefined {
  const given = options.bpftraceOptions ?? [];
  if (given.includes('--unsafe') || !(options.unsafe || declaresUnsafe(options.script))) {
    return options.bpftraceOptions;
  }
  return ['--unsafe', ...given];
}
