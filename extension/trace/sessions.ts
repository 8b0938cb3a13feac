// The trace sessions of this window: starts one on a node (a script, or the listener trace of a
// target), gives it a terminal and its node diagnostics (both subscribers of the event bus), stops
// it, and after a dropped connection checks over a new one that no bpftrace of it is left.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { transportRunner } from '../../core/nodes/commands';
import type { NodeProbe } from '../../core/nodes/probe';
import type { NodeTransport } from '../../core/nodes/transport';
import { listenerTraceScript } from '../../core/trace/listener-script';
import { newSessionId, type TraceEventBus, TraceSession } from '../../core/trace/session';
import { TraceStreamParser } from '../../core/trace/stream-parser';
import { resolveTarget, type TargetSpec, targetPids } from '../../core/trace/target';
import { snapshotAtTraceStart } from '../../core/listeners/trace-start';
import {
  ADMIN_READ_INTERVAL_MS,
  type AdminWatch,
  adminTargets,
  parseAdminAddress,
  watchAdmin,
} from '../../core/listeners/admin-watch';
import type { TraceEvent } from '../../common/events';
import type { Configuration } from '../configuration';
import { LOCAL_NODE } from '../../common/nodes';
import type { NodeManager } from '../ssh/index';
import { NodeDiagnostics } from './node-diagnostics';
import type { SessionFacts } from './session-summary';
import type { FoldedStacks } from './folded-stacks';
import { TraceTerminal } from './terminal';
import { notify } from '../notify';

export interface SessionRecord {
  session: TraceSession;
  nodeLabel: string;
  scriptLabel: string;
  terminal: TraceTerminal;
  /** Set when the user asked for the stop (a drop is then no news). */
  stopRequested?: boolean;
  /** Reads of the traced Envoy's admin API beside a listener trace. */
  adminWatch?: AdminWatch;
}

export interface ScriptToRun {
  text: string;
  label: string;
  /** The script's file, where the node's errors are shown. */
  uri?: vscode.Uri;
}

/** The listener trace of a target, generated for the node's bpftrace. */
export interface ListenerTraceRun {
  target: TargetSpec;
  /** User stacks of socket calls; the setting when absent. */
  withStacks?: boolean;
}

export interface TraceSessionsDeps {
  log: vscode.LogOutputChannel;
  nodes: NodeManager;
  bus: TraceEventBus;
  configuration: Configuration;
  /** Where session logs go while fieldtrace.trace.sessionLogDirectory is empty. */
  defaultLogDir: string;
  /** The terminals' folded stacks (`fieldtrace.trace.terminalStacks`). */
  foldedStacks: FoldedStacks;
}

export class TraceSessions implements vscode.Disposable {
  private readonly records = new Map<string, SessionRecord>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** A session started or ended. */
  readonly onDidChange = this.changed.event;
  private readonly diagnostics = new NodeDiagnostics();
  private closing = false;

  constructor(private readonly deps: TraceSessionsDeps) {}

  /** Newest first. */
  list(onlyRunning = false): SessionRecord[] {
    return [...this.records.values()].filter((r) => !onlyRunning || r.session.running).reverse();
  }

  get(sessionId: string): SessionRecord | undefined {
    return this.records.get(sessionId);
  }

  facts(record: SessionRecord): SessionFacts {
    const s = record.session;
    return {
      id: s.id,
      nodeLabel: record.nodeLabel,
      scriptLabel: record.scriptLabel,
      running: s.running,
      eventCount: s.eventCount,
      rate: s.rate(),
      end: s.end,
      logPath: s.logPath,
    };
  }

  /**
   * Starts a session. `quiet`: a node that cannot trace throws (a fleet reports it on its own
   * line) instead of showing an error message.
   */
  async start(
    nodeId: string,
    script: ScriptToRun,
    listener?: ListenerTraceRun,
    options: { quiet?: boolean } = {},
  ): Promise<SessionRecord | undefined> {
    const { nodes, bus, configuration } = this.deps;
    const settings = configuration.settings;
    const nodeLabel = nodes.label(nodeId);
    const { transport, probe } = await nodes.probe(nodeId);
    if (probe.problems.length) {
      if (options.quiet) throw new Error(probe.problems.join(' '));
      void notify.error(`Fieldtrace: cannot trace on ${nodeLabel}: ${probe.problems.join(' ')}`);
      return undefined;
    }
    const withStacks = listener?.withStacks ?? settings.listeners.userStacks;
    const { text, preamble, adminWatch } = listener
      ? await this.listenerScript(nodeId, transport, probe, { ...listener, withStacks })
      : { text: script.text, preamble: [], adminWatch: undefined };
    if (script.uri) {
      this.diagnostics.clear(script.uri);
      void nodes.pushNodeTarget(transport, probe, script.uri.toString());
    }
    // Subscribers of this session are on the bus before its first event (which can come before
    // TraceSession.start() returns).
    const sessionId = newSessionId();
    const current: { record?: SessionRecord } = {};
    const terminal = new TraceTerminal(
      `Fieldtrace: ${nodeLabel}`,
      () => {
        if (current.record) void this.stop(current.record);
      },
      { mode: () => configuration.settings.trace.terminalStacks, folded: this.deps.foldedStacks },
    );
    terminal.follow(bus, sessionId);
    const scriptDiagnostics = script.uri
      ? this.diagnostics.follow(bus, sessionId, { uri: script.uri, text, nodeLabel })
      : undefined;
    const crashes = this.offerRerunAfterCrash(
      sessionId,
      nodeId,
      script,
      listener && { ...listener, withStacks },
    );
    let session: TraceSession;
    try {
      session = await TraceSession.start({
        transport,
        probe,
        script: text,
        unsafe: settings.bpftrace.unsafe,
        scriptName: script.uri ? path.basename(script.uri.fsPath) : listener ? 'listeners.bt' : 'script.bt',
        logDir: settings.trace.sessionLogDirectory || this.deps.defaultLogDir,
        parser: new TraceStreamParser({ nodeId, attachedWhen: listener ? 'begin' : 'announced' }),
        bus,
        sessionId,
        stopTimeoutsMs: { interrupt: settings.trace.stopTimeoutSeconds * 1000, kill: 3000 },
        preamble,
      });
    } catch (error) {
      terminal.dispose();
      scriptDiagnostics?.dispose();
      crashes.dispose();
      throw error;
    }
    const started = session;
    void started.attached.then(() => adminWatch?.start((event) => started.addBeside(event)));
    void session.ended.then(() => adminWatch?.cancel());
    const record: SessionRecord = { session, nodeLabel, scriptLabel: script.label, terminal };
    if (adminWatch) record.adminWatch = adminWatch;
    current.record = record;
    this.records.set(session.id, record);
    scriptDiagnostics?.attach(session);
    terminal.note(
      `${script.label} on ${nodeLabel} (bpftrace ${probe.bpftraceVersion}); log: ${session.logPath}`,
    );
    terminal.show();
    this.changed.fire();
    // The terminal already shows bpftrace's end (the `ended` event).
    void session.ended.then(async () => {
      this.changed.fire();
      // A trace that ended without a stop while its connection went away was cut by a drop.
      if (nodeId === LOCAL_NODE || this.closing || record.stopRequested) return;
      const dropped = await Promise.race([
        transport.closed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (dropped && !this.closing && !record.stopRequested) await this.checkAfterDrop(record, nodeId);
    });
    return record;
  }

  /**
   * The listener trace of a target for this node's bpftrace (its target resolved on the node),
   * and the snapshot of what already runs there, which opens the session.
   */
  async listenerScript(
    nodeId: string,
    transport: NodeTransport,
    probe: NodeProbe,
    listener: ListenerTraceRun,
  ): Promise<{ text: string; preamble: TraceEvent[]; adminWatch: AdminWatch | undefined }> {
    // The container's cgroup and the processes already running are looked up on the node.
    const run = transportRunner(transport, probe.privilege);
    const resolved = await resolveTarget(listener.target, run);
    const label = this.deps.nodes.label(nodeId);
    if (resolved.container)
      this.deps.log.info(
        `Listener trace on ${label}: container cgroup ${resolved.container.path} (id ${resolved.container.id})`,
      );
    // Listeners made before the trace: their addresses and sockets from the node itself.
    const start = await snapshotAtTraceStart(targetPids(resolved), nodeId, run);
    for (const p of start.problems) this.deps.log.warn(`Listener trace on ${label}: ${p}`);
    const settings = this.deps.configuration.settings.listeners;
    const text = listenerTraceScript({
      target: resolved.target,
      runningPids: resolved.runningPids,
      bpftraceVersion: probe.bpftraceVersion ?? '0.17',
      withStacks: listener.withStacks ?? settings.userStacks,
      countIntervalMs: Math.round(settings.countInterval * 1000),
      knownListeners: start.knownListeners,
    });
    const admin = parseAdminAddress(settings.envoyAdmin);
    const adminPids = admin ? adminTargets(start.events, admin) : [];
    if (!admin || adminPids.length === 0) return { text, preamble: start.events, adminWatch: undefined };
    const adminWatch = watchAdmin({
      node: nodeId,
      pids: adminPids,
      address: admin,
      run,
      intervalMs: ADMIN_READ_INTERVAL_MS,
    });
    return { text, preamble: start.events, adminWatch };
  }

  async stop(record: SessionRecord): Promise<void> {
    if (!record.session.running) return;
    record.stopRequested = true;
    // Envoy's counters as the trace ends (a read bounded in time), then the stop.
    await record.adminWatch?.finish();
    const result = await record.session.stop();
    if (result.remaining.length)
      void notify.warning(
        `Fieldtrace: bpftrace (pid ${result.remaining.join(', ')}) is still running on ${record.nodeLabel} after the stop.`,
      );
  }

  /** A bpftrace that aborts mid-trace has no script position to show: the user hears of it here. */
  private offerRerunAfterCrash(
    sessionId: string,
    nodeId: string,
    script: ScriptToRun,
    listener: Required<ListenerTraceRun> | undefined,
  ): { dispose(): void } {
    const subscription = this.deps.bus.subscribe((e) => {
      if (e.event.type === 'ended') subscription.dispose();
      if (e.event.type !== 'diagnostic' || !e.event.crash) return;
      const again = 'Run Again';
      const withoutStacks = 'Run Without Stacks';
      const nodeLabel = this.deps.nodes.label(nodeId);
      void notify
        .error(
          `Fieldtrace: ${nodeLabel}: ${e.event.message}`,
          ...(listener?.withStacks ? [again, withoutStacks] : [again]),
        )
        .then((picked) => {
          if (!picked) return;
          const rerun = listener && {
            ...listener,
            withStacks: picked === withoutStacks ? false : listener.withStacks,
          };
          this.start(nodeId, script, rerun).catch(
            (error: unknown) =>
              void notify.error(
                `Fieldtrace: ${script.label} on ${nodeLabel}: ${error instanceof Error ? error.message : String(error)}`,
              ),
          );
        });
    }, sessionId);
    return subscription;
  }

  /**
   * A dropped connection ends the trace, and the wrapper on the node stops bpftrace with its
   * channel. Whether it did is checked over a new connection, and said.
   */
  private async checkAfterDrop(record: SessionRecord, nodeId: string): Promise<void> {
    const label = record.nodeLabel;
    record.terminal.note(`the connection to ${label} dropped; checking the node for this trace's bpftrace…`);
    // The manager forgets the dead connection when it sees the close: ask after that.
    await new Promise((r) => setTimeout(r, 500));
    if (this.closing) return;
    try {
      const remaining = await record.session.verifyGone(await this.deps.nodes.connect(nodeId), 10_000);
      if (remaining.length) {
        const message = `Fieldtrace: the connection to ${label} dropped, and bpftrace (pid ${remaining.join(', ')}) of "${record.scriptLabel}" still runs there.`;
        record.terminal.say(message);
        void notify.warning(message);
      } else {
        const message = `the connection to ${label} dropped; the trace "${record.scriptLabel}" ended and no bpftrace of it remains on the node.`;
        record.terminal.note(message);
        void notify.info(`Fieldtrace: ${message}`);
      }
    } catch (error) {
      const message = `Fieldtrace: the connection to ${label} dropped and could not be made again to check for a leftover bpftrace: ${error instanceof Error ? error.message : String(error)}`;
      record.terminal.say(message);
      void notify.warning(message);
    }
  }

  /** Deactivation drops every channel: the wrapper on each node stops its bpftrace on EOF. */
  dispose(): void {
    this.closing = true;
    for (const r of this.records.values()) {
      if (r.session.running) r.session.abandon('the editor closed');
      r.terminal.dispose();
    }
    this.diagnostics.dispose();
    this.changed.dispose();
  }
}
