// One node's part of `fieldtrace run`: connect, probe, resolve the listener target, start the
// session, stream its text, stop it on request, and say how it went. A fleet runs one per node.
import { UsageError } from './command';
import { connectNode } from './node';
import type { CliIo } from './command';
import { transportRunner } from '../core/nodes/commands';
import { probeNode } from '../core/nodes/probe';
import type { NodeTransport } from '../core/nodes/transport';
import { listenerTraceScript } from '../core/trace/listener-script';
import { diagnosticRange, TraceSession } from '../core/trace/session';
import { foldedStackText, renderText } from '../core/trace/render-text';
import { TraceStreamParser } from '../core/trace/stream-parser';
import { parseTargetSpec, resolveTarget, targetPids } from '../core/trace/target';
import { snapshotAtTraceStart } from '../core/listeners/trace-start';
import {
  ADMIN_READ_INTERVAL_MS,
  type AdminAddress,
  type AdminWatch,
  adminTargets,
  watchAdmin,
} from '../core/listeners/admin-watch';
import type { TraceEvent } from '../common/events';

export interface NodeRunRequest {
  node: string;
  /** The script's text (ignored for the listener trace, which is generated per node). */
  scriptText: string;
  scriptName: string;
  /** How diagnostics name the script (the path the user gave). */
  scriptLabel: string;
  listener?: { target: string; stacks: boolean; countIntervalMs?: number; envoyAdmin?: AdminAddress };
  positional: string[];
  logDir: string;
  acceptNewHostKey: boolean;
  /** Each stack as one line (`--fold-stacks`); the log keeps every frame. */
  foldStacks?: boolean;
}

/** Where one node's output goes: its lines (already rendered) and its messages. */
export interface NodeOutput {
  text(text: string): void;
  /** bpftrace's own errors and warnings, in compiler format (FILE:LINE:COL: severity: …). */
  diagnostic(text: string): void;
  message(text: string): void;
}

export interface NodeRunSummary {
  node: string;
  started: boolean;
  events: number;
  errors: number;
  /** In words: "stopped", "exited 0", "failed: …". */
  ended: string;
  logPath?: string;
  ok: boolean;
}

/** A node's run as the fleet sees it: stop() asks it to end; done resolves with its summary. */
export interface NodeRunHandle {
  node: string;
  stop(): void;
  abandon(): void;
  done: Promise<NodeRunSummary>;
}

export function runOnNode(request: NodeRunRequest, io: CliIo, out: NodeOutput): NodeRunHandle {
  let session: TraceSession | undefined;
  let adminWatch: AdminWatch | undefined;
  let stopRequested = false;
  let started = false;
  let errors = 0;
  let transport: NodeTransport | undefined;
  const summary = (ended: string, ok: boolean): NodeRunSummary => ({
    node: request.node,
    started,
    events: session?.eventCount ?? 0,
    errors,
    ended,
    ok,
    ...(session ? { logPath: session.logPath } : {}),
  });

  const run = async (): Promise<NodeRunSummary> => {
    transport = await connectNode(request.node, io, {
      command: 'run',
      acceptNewHostKey: request.acceptNewHostKey,
    });
    if (stopRequested) return summary('stopped before it started', true);
    const probe = await probeNode(transport);
    if (probe.problems.length) {
      for (const p of probe.problems) out.message(p);
      errors += probe.problems.length;
      return summary(`not started: ${probe.problems[0] ?? 'node not ready'}`, false);
    }
    let scriptText = request.scriptText;
    let scriptName = request.scriptName;
    let preamble: TraceEvent[] = [];
    if (request.listener) {
      const spec = parseTargetSpec(request.listener.target);
      if ('error' in spec) throw new UsageError(spec.error);
      const runner = transportRunner(transport, probe.privilege);
      const resolved = await resolveTarget(spec, runner);
      if (resolved.container)
        out.message(`container cgroup ${resolved.container.path} (id ${resolved.container.id})`);
      // Listeners made before the trace: their addresses and sockets from the node itself.
      const start = await snapshotAtTraceStart(targetPids(resolved), transport.nodeId, runner);
      for (const p of start.problems) out.message(p);
      preamble = start.events;
      const admin = request.listener.envoyAdmin;
      const adminPids = admin ? adminTargets(start.events, admin) : [];
      if (admin && adminPids.length > 0) {
        adminWatch = watchAdmin({
          node: transport.nodeId,
          pids: adminPids,
          address: admin,
          run: runner,
          intervalMs: ADMIN_READ_INTERVAL_MS,
        });
      }
      scriptText = listenerTraceScript({
        target: resolved.target,
        runningPids: resolved.runningPids,
        bpftraceVersion: probe.bpftraceVersion ?? '0.17',
        withStacks: request.listener.stacks,
        countIntervalMs: request.listener.countIntervalMs,
        knownListeners: start.knownListeners,
      });
      scriptName = 'listeners.bt';
    }
    const nodeId = transport.nodeId;
    session = await TraceSession.start({
      transport,
      probe,
      script: scriptText,
      scriptName,
      positional: request.positional,
      logDir: request.logDir,
      preamble,
      parser: new TraceStreamParser({ nodeId, attachedWhen: request.listener ? 'begin' : 'announced' }),
      onEvent: ({ event }) => {
        if (event.type === 'diagnostic') {
          // Before start() returns there is no session yet; bpftrace's errors come later.
          const range =
            session?.isScriptDiagnostic(event) !== false ? diagnosticRange(event, scriptText) : undefined;
          const where = range
            ? `${request.listener ? scriptName : request.scriptLabel}:${range.startLine + 1}:${range.startColumn + 1}: `
            : '';
          out.diagnostic(
            `${where}${event.severity}: ${event.message}${event.explanation ? `\n  (${event.explanation})` : ''}`,
          );
          if (event.severity === 'error') errors++;
          return;
        }
        if (event.type === 'ended') return;
        const stack = 'stack' in event ? event.stack : undefined;
        const text = renderText(
          event,
          request.foldStacks && stack ? { stackLine: foldedStackText(stack.length) } : {},
        );
        if (text) out.text(text);
      },
    });
    started = true;
    const running = session;
    void running.attached.then(() => adminWatch?.start((event) => running.addBeside(event)));
    out.message(`${scriptName} on ${nodeId} (bpftrace ${probe.bpftraceVersion}); log ${session.logPath}`);
    if (stopRequested) void session.stop('interrupted');
    const end = await session.ended;
    adminWatch?.cancel();
    const remaining = await session.verifyGone();
    if (remaining.length) {
      out.message(`bpftrace (pid ${remaining.join(', ')}) is still running on ${nodeId}`);
      return summary(`bpftrace still running (pid ${remaining.join(', ')})`, false);
    }
    if (stopRequested) return summary('stopped', true);
    const how = end.signal ? `ended by ${end.signal}` : `exited ${end.exitCode ?? '?'}`;
    const ok = errors === 0 && end.exitCode === 0;
    return summary(end.reason && !ok ? `${how} (${end.reason})` : how, ok);
  };

  const done = run()
    .catch((error: Error) => {
      if (error instanceof UsageError) throw error;
      out.message(error.message);
      errors++;
      return summary(`failed: ${error.message}`, false);
    })
    .finally(() => transport?.close());
  return {
    node: request.node,
    stop() {
      stopRequested = true;
      // Envoy's counters as the trace ends, then the stop (the read is bounded in time).
      void (adminWatch?.finish() ?? Promise.resolve()).finally(() => void session?.stop('interrupted'));
    },
    abandon() {
      stopRequested = true;
      session?.abandon('interrupted twice');
    },
    done,
  };
}
