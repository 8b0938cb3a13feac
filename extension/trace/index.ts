// Trace sessions in the editor: "Run Trace on Node…", "Run Listener Trace", "Stop Trace",
// "Show Trace Output". Each session gets a trace terminal rendered like bpftrace's text mode,
// an entry in the Sessions tree, a share of the status bar, and its node's compile errors as
// diagnostics on the script. Every event goes onto ctx.traceEvents; the session log is written
// by core/trace/session.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SessionTraceEvent } from '../../common/events';
import { listenerTraceScript } from '../../core/trace/listener-script';
import {
  describeProcess,
  describeTarget,
  parseTargetSpec,
  resolveTarget,
  TARGET_SYNTAX,
  type TargetSpec,
} from '../../core/trace/target';
import { listProcesses } from '../../core/nodes/processes';
import { transportRunner } from '../../core/nodes/commands';
import { diagnosticRange, type SessionStopResult, TraceSession } from '../../core/trace/session';
import { renderText } from '../../core/trace/render-text';
import { TraceStreamParser } from '../../core/trace/stream-parser';
import type { FieldtraceContext } from '../context';
import { LOCAL_NODE } from '../ssh/index';
import { pickNodeProcess } from '../ssh/process-picker';

interface SessionRecord {
  session: TraceSession;
  nodeLabel: string;
  scriptLabel: string;
  scriptUri?: vscode.Uri;
  scriptText: string;
  terminal: TraceTerminal;
  stopResult?: SessionStopResult;
  /** Set when the user asked for the stop (a drop is then no news). */
  stopRequested?: boolean;
}

/** The trace terminal: output only; Ctrl+C stops the session, closing it stops it too. */
class TraceTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writer.event;
  private opened = false;
  private backlog: string[] = [];
  private history: string[] = [];
  private historyBytes = 0;
  terminal: vscode.Terminal | undefined;

  constructor(
    private readonly name: string,
    private readonly onStop: () => void,
  ) {}

  show(): void {
    if (!this.terminal || this.terminal.exitStatus) {
      this.opened = false;
      // A reopened terminal starts with what was printed so far (bounded).
      this.backlog = [...this.history];
      this.terminal = vscode.window.createTerminal({ name: this.name, pty: this });
    }
    this.terminal.show(true);
  }

  open(): void {
    this.opened = true;
    for (const text of this.backlog.splice(0)) this.writer.fire(text);
  }

  close(): void {
    this.opened = false;
    this.terminal = undefined;
    this.onStop();
  }

  handleInput(data: string): void {
    if (data === '\x03') this.onStop();
  }

  write(text: string): void {
    const crlf = text.replace(/\r?\n/g, '\r\n');
    this.history.push(crlf);
    this.historyBytes += crlf.length;
    while (this.historyBytes > 2_000_000 && this.history.length > 1)
      this.historyBytes -= this.history.shift()?.length ?? 0;
    if (this.opened) this.writer.fire(crlf);
    else this.backlog.push(crlf);
  }

  dispose(): void {
    this.writer.dispose();
    this.terminal?.dispose();
  }
}

class SessionsTree implements vscode.TreeDataProvider<SessionRecord> {
  private readonly changed = new vscode.EventEmitter<SessionRecord | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly sessions: () => SessionRecord[]) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: SessionRecord): SessionRecord[] {
    return element ? [] : this.sessions();
  }

  getTreeItem(record: SessionRecord): vscode.TreeItem {
    const s = record.session;
    const item = new vscode.TreeItem(`${record.nodeLabel} · ${record.scriptLabel}`);
    const end = s.end;
    item.description = s.running
      ? `running · ${s.eventCount} events · ${s.rate().toFixed(0)}/s`
      : `ended (${end?.reason ?? `exit ${end?.exitCode ?? '?'}`}) · ${s.eventCount} events`;
    item.tooltip = new vscode.MarkdownString(
      [
        `**${record.scriptLabel}** on **${record.nodeLabel}**`,
        `Session ${s.id}`,
        `Log: \`${s.logPath}\``,
      ].join('\n\n'),
    );
    item.iconPath = new vscode.ThemeIcon(s.running ? 'pulse' : 'circle-outline');
    item.contextValue = s.running ? 'fieldtrace.session.running' : 'fieldtrace.session.ended';
    item.command = { command: 'fieldtrace.showTraceOutput', title: 'Show Trace Output', arguments: [s.id] };
    return item;
  }
}

export function registerTrace(ctx: FieldtraceContext): void {
  const nodes = ctx.nodes;
  const records = new Map<string, SessionRecord>();
  const diagnostics = ctx.track(vscode.languages.createDiagnosticCollection('bpftrace-node'));
  const tree = new SessionsTree(() => [...records.values()].reverse());
  ctx.track(vscode.window.registerTreeDataProvider('fieldtrace.sessions', tree));
  const status = ctx.track(
    vscode.window.createStatusBarItem('fieldtrace.traceStatus', vscode.StatusBarAlignment.Left, 50),
  );
  status.name = 'Fieldtrace Trace Sessions';
  status.command = 'fieldtrace.showTraceOutput';

  const running = () => [...records.values()].filter((r) => r.session.running);
  const updateStatus = () => {
    const live = running();
    if (live.length === 0) {
      status.hide();
      return;
    }
    const rate = live.reduce((sum, r) => sum + r.session.rate(), 0);
    status.text = `$(pulse) ${live.length} trace${live.length > 1 ? 's' : ''} · ${rate.toFixed(0)} ev/s`;
    status.tooltip = live
      .map((r) => `${r.nodeLabel} · ${r.scriptLabel}: ${r.session.eventCount} events`)
      .join('\n');
    status.show();
  };
  const ticker = setInterval(() => {
    if (running().length) {
      updateStatus();
      tree.refresh();
    }
  }, 1000);
  ctx.track({ dispose: () => clearInterval(ticker) });
  // Deactivation drops every channel: the wrapper on each node stops its bpftrace on EOF.
  let closing = false;
  ctx.track({
    dispose: () => {
      closing = true;
      for (const r of records.values()) if (r.session.running) r.session.abandon('the editor closed');
    },
  });

  const logDir = () => {
    const configured = vscode.workspace
      .getConfiguration('fieldtrace.trace')
      .get<string>('sessionLogDirectory');
    return configured?.trim() || path.join(ctx.extension.globalStorageUri.fsPath, 'sessions');
  };
  const stopTimeouts = () => {
    const seconds =
      vscode.workspace.getConfiguration('fieldtrace.trace').get<number>('stopTimeoutSeconds') ?? 10;
    return { interrupt: Math.max(1, seconds) * 1000, kill: 3000 };
  };

  const stopRecord = async (record: SessionRecord): Promise<void> => {
    if (!record.session.running) return;
    record.stopRequested = true;
    const result = await record.session.stop();
    record.stopResult = result;
    if (result.remaining.length)
      void vscode.window.showWarningMessage(
        `Fieldtrace: bpftrace (pid ${result.remaining.join(', ')}) is still running on ${record.nodeLabel} after the stop.`,
      );
  };

  async function startOn(
    nodeId: string,
    script: { text: string; label: string; uri?: vscode.Uri },
    listenerTarget?: TargetSpec,
    listenerStacks = vscode.workspace.getConfiguration('fieldtrace.listeners').get<boolean>('userStacks') ??
      true,
  ): Promise<SessionRecord | undefined> {
    const nodeLabel = nodes.label(nodeId);
    const { transport, probe } = await nodes.probe(nodeId);
    if (probe.problems.length) {
      void vscode.window.showErrorMessage(
        `Fieldtrace: cannot trace on ${nodeLabel}: ${probe.problems.join(' ')}`,
      );
      return undefined;
    }
    let text = script.text;
    if (listenerTarget) {
      // The container's cgroup and the processes already running are looked up on the node.
      const resolved = await resolveTarget(listenerTarget, transportRunner(transport, probe.privilege));
      text = listenerTraceScript({
        target: resolved.target,
        runningPids: resolved.runningPids,
        bpftraceVersion: probe.bpftraceVersion ?? '0.17',
        withStacks: listenerStacks,
      });
      if (resolved.container)
        ctx.log.info(
          `Listener trace on ${nodeLabel}: container cgroup ${resolved.container.path} (id ${resolved.container.id})`,
        );
    }
    if (script.uri) {
      diagnostics.delete(script.uri);
      void nodes.pushNodeTarget(transport, probe, script.uri.toString());
    }
    // Events can arrive before TraceSession.start() returns: they wait for the record.
    const current: { record?: SessionRecord } = {};
    const pending: SessionTraceEvent[] = [];
    const terminal = new TraceTerminal(`Fieldtrace: ${nodeLabel}`, () => {
      if (current.record) void stopRecord(current.record);
    });
    const onEvent = (e: SessionTraceEvent) => {
      ctx.traceEvents.fire(e);
      crashed(e);
      const rendered = renderText(e.event);
      if (rendered) terminal.write(rendered.endsWith('\n') ? rendered : `${rendered}\n`);
      if (!current.record) {
        pending.push(e);
        return;
      }
      handleEvent(current.record, e);
    };
    // A bpftrace that aborts mid-trace has no script position to show: the user hears of it here.
    const crashed = (e: SessionTraceEvent) => {
      if (e.event.type !== 'diagnostic' || !e.event.crash) return;
      const again = 'Run Again';
      const withoutStacks = 'Run Without Stacks';
      const actions = listenerTarget && listenerStacks ? [again, withoutStacks] : [again];
      void vscode.window
        .showErrorMessage(`Fieldtrace: ${nodeLabel}: ${e.event.message}`, ...actions)
        .then((picked) => {
          if (!picked) return;
          void startOn(
            nodeId,
            script,
            listenerTarget,
            picked === withoutStacks ? false : listenerStacks,
          ).catch(
            (error: unknown) =>
              void vscode.window.showErrorMessage(
                `Fieldtrace: ${script.label} on ${nodeLabel}: ${error instanceof Error ? error.message : String(error)}`,
              ),
          );
        });
    };
    const session = await TraceSession.start({
      transport,
      probe,
      script: text,
      unsafe: vscode.workspace.getConfiguration('fieldtrace').get<boolean>('bpftrace.unsafe') ?? false,
      scriptName: script.uri
        ? path.basename(script.uri.fsPath)
        : listenerTarget
          ? 'listeners.bt'
          : 'script.bt',
      logDir: logDir(),
      parser: new TraceStreamParser({ nodeId, attachedWhen: listenerTarget ? 'begin' : 'announced' }),
      onEvent,
      stopTimeoutsMs: stopTimeouts(),
    });
    const record: SessionRecord = {
      session,
      nodeLabel,
      scriptLabel: script.label,
      scriptUri: script.uri,
      scriptText: text,
      terminal,
    };
    current.record = record;
    records.set(session.id, record);
    for (const e of pending.splice(0)) handleEvent(record, e);
    terminal.write(
      `\x1b[2m# ${script.label} on ${nodeLabel} (bpftrace ${probe.bpftraceVersion}); log: ${session.logPath}\x1b[0m\n`,
    );
    terminal.show();
    tree.refresh();
    updateStatus();
    // renderText already writes bpftrace's end into the terminal.
    void session.ended.then(async () => {
      tree.refresh();
      updateStatus();
      // A trace that ended without a stop while its connection went away was cut by a drop.
      if (nodeId === LOCAL_NODE || closing || record.stopRequested) return;
      const dropped = await Promise.race([
        transport.closed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (dropped && !closing && !record.stopRequested) await checkAfterDrop(record, nodeId);
    });
    return record;
  }

  /**
   * A dropped connection ends the trace, and the wrapper on the node stops bpftrace with its
   * channel. Whether it did is checked over a new connection, and said.
   */
  async function checkAfterDrop(record: SessionRecord, nodeId: string): Promise<void> {
    const label = record.nodeLabel;
    record.terminal.write(
      `\x1b[2m# the connection to ${label} dropped; checking the node for this trace's bpftrace…\x1b[0m\n`,
    );
    // The manager forgets the dead connection when it sees the close: ask after that.
    await new Promise((r) => setTimeout(r, 500));
    if (closing) return;
    try {
      const remaining = await record.session.verifyGone(await nodes.connect(nodeId), 10_000);
      if (remaining.length) {
        const message = `Fieldtrace: the connection to ${label} dropped, and bpftrace (pid ${remaining.join(', ')}) of "${record.scriptLabel}" still runs there.`;
        record.terminal.write(`${message}\n`);
        void vscode.window.showWarningMessage(message);
      } else {
        const message = `Fieldtrace: the connection to ${label} dropped; the trace "${record.scriptLabel}" ended and no bpftrace of it remains on the node.`;
        record.terminal.write(`\x1b[2m# ${message.replace('Fieldtrace: ', '')}\x1b[0m\n`);
        void vscode.window.showInformationMessage(message);
      }
    } catch (error) {
      const message = `Fieldtrace: the connection to ${label} dropped and could not be made again to check for a leftover bpftrace: ${error instanceof Error ? error.message : String(error)}`;
      record.terminal.write(`${message}\n`);
      void vscode.window.showWarningMessage(message);
    }
  }

  function handleEvent(record: SessionRecord, e: SessionTraceEvent): void {
    if (e.event.type !== 'diagnostic' || !record.scriptUri || !record.session.isScriptDiagnostic(e.event))
      return;
    const range = diagnosticRange(e.event, record.scriptText);
    if (!range) return;
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(range.startLine, range.startColumn, range.endLine, range.endColumn),
      e.event.message,
      e.event.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
    );
    diagnostic.source = `bpftrace@${record.nodeLabel}`;
    const existing = diagnostics.get(record.scriptUri) ?? [];
    diagnostics.set(record.scriptUri, [...existing, diagnostic]);
  }

  async function pickNodes(canPickMany: boolean): Promise<string[]> {
    const choices = nodes.listNodes();
    if (choices.length === 1 && choices[0]) return [choices[0].id];
    const items = choices.map((n) => ({ label: n.label, description: n.description, id: n.id }));
    if (canPickMany) {
      const picked = await vscode.window.showQuickPick(items, {
        title: 'Run on which nodes?',
        canPickMany: true,
      });
      return picked?.map((p) => p.id) ?? [];
    }
    const picked = await vscode.window.showQuickPick(items, { title: 'Run on which node?' });
    return picked ? [picked.id] : [];
  }

  async function pickSession(onlyRunning: boolean): Promise<SessionRecord | undefined> {
    const candidates = [...records.values()].filter((r) => !onlyRunning || r.session.running).reverse();
    if (candidates.length <= 1) return candidates[0];
    const picked = await vscode.window.showQuickPick(
      candidates.map((r) => ({
        label: `${r.nodeLabel} · ${r.scriptLabel}`,
        description: r.session.running ? `${r.session.eventCount} events` : 'ended',
        record: r,
      })),
      { title: onlyRunning ? 'Stop which trace?' : 'Show which trace?' },
    );
    return picked?.record;
  }

  ctx.registerCommand('fieldtrace.runTrace', async (arg?: vscode.Uri) => {
    let uri = arg instanceof vscode.Uri ? arg : undefined;
    const editor = vscode.window.activeTextEditor;
    if (
      !uri &&
      editor &&
      (editor.document.languageId === 'bpftrace' || editor.document.fileName.endsWith('.bt'))
    )
      uri = editor.document.uri;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({
        filters: { bpftrace: ['bt'] },
        canSelectMany: false,
      });
      uri = picked?.[0];
    }
    if (!uri) return;
    const document = await vscode.workspace.openTextDocument(uri);
    const nodeIds = await pickNodes(true);
    const label = path.basename(uri.fsPath);
    await Promise.all(
      nodeIds.map((id) =>
        startOn(id, { text: document.getText(), label, uri }).catch((error: unknown) => {
          void vscode.window.showErrorMessage(
            `Fieldtrace: ${label} on ${nodes.label(id)}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }),
      ),
    );
  });

  ctx.registerCommand('fieldtrace.runListenerTrace', async (nodeArg?: string, targetArg?: string) => {
    const [nodeId] = typeof nodeArg === 'string' ? [nodeArg] : await pickNodes(false);
    if (!nodeId) return;
    let spec: TargetSpec | undefined;
    if (typeof targetArg === 'string') {
      const parsed = parseTargetSpec(targetArg);
      if ('error' in parsed) throw new Error(parsed.error);
      spec = parsed;
    } else spec = await pickListenerTarget(nodeId);
    if (!spec) return;
    await startOn(nodeId, { text: '', label: `listeners of ${describeTarget(spec)}` }, spec);
  });

  /**
   * Which process the listener trace follows: typed (a name, a pid, container:PID,
   * NAME@container:PID) or picked from the node's processes; a picked process that lives in a
   * container is offered as "its name in its container" (follows a hot restart) or its pid alone.
   */
  async function pickListenerTarget(nodeId: string): Promise<TargetSpec | undefined> {
    // Connected first: host-key and passphrase prompts come before the picker, not over it.
    const { transport, probe } = await nodes.probe(nodeId);
    if (probe.problems.length)
      throw new Error(`cannot trace on ${nodes.label(nodeId)}: ${probe.problems.join(' ')}`);
    const run = transportRunner(transport, probe.privilege);
    const picked = await pickNodeProcess<TargetSpec>({
      title: `Listener trace on ${nodes.label(nodeId)}: which process?`,
      placeholder: `Type ${TARGET_SYNTAX}, or pick a process`,
      initialValue: 'envoy',
      processes: listProcesses(run),
      typed: (text) => {
        const parsed = parseTargetSpec(text);
        return 'error' in parsed
          ? { label: text, description: parsed.error }
          : { label: text, description: `trace ${describeTarget(parsed)}`, value: parsed };
      },
    });
    if (!picked) return undefined;
    if ('typed' in picked) return picked.typed;
    const process = await describeProcess(run, picked.pid);
    // A name is a target only if it reads as one (not digits, not container:…).
    const byName = parseTargetSpec(process.comm);
    if (!process.container || !('comm' in byName) || byName.containerOf !== undefined)
      return { pid: process.pid };
    const inContainer = await vscode.window.showQuickPick(
      [
        {
          label: `${process.comm} in its container`,
          description: process.container.path,
          detail: 'Every process of that name in the container, a restarted one included',
          spec: { comm: process.comm, containerOf: process.pid } as TargetSpec,
        },
        {
          label: `pid ${process.pid} only`,
          detail: 'This process alone',
          spec: { pid: process.pid } as TargetSpec,
        },
      ],
      { title: `${process.comm} (pid ${process.pid}) runs in a container` },
    );
    return inContainer?.spec;
  }

  // From the Sessions tree the argument is the record itself; from code, a session id.
  const recordOf = (arg: unknown): SessionRecord | undefined => {
    if (typeof arg === 'string') return records.get(arg);
    const id = (arg as Partial<SessionRecord> | undefined)?.session?.id;
    return id ? records.get(id) : undefined;
  };

  ctx.registerCommand('fieldtrace.stopTrace', async (arg?: unknown) => {
    const record = recordOf(arg) ?? (arg === undefined ? await pickSession(true) : undefined);
    if (!record) {
      void vscode.window.showInformationMessage('Fieldtrace: no trace is running.');
      return;
    }
    await stopRecord(record);
  });

  ctx.registerCommand('fieldtrace.showTraceOutput', async (arg?: unknown) => {
    const record = recordOf(arg) ?? (arg === undefined ? await pickSession(false) : undefined);
    if (!record) {
      void vscode.window.showInformationMessage(
        'Fieldtrace: no trace sessions yet. Run one with "Run Trace on Node…".',
      );
      return;
    }
    record.terminal.show();
  });

  ctx.track({
    dispose: () => {
      for (const r of records.values()) r.terminal.dispose();
    },
  });
}
