// The Listeners commands: open a trace log, take a node snapshot of a process, check an Envoy's
// admin API, copy the state, clear it. Each feeds the store and then shows the view.
import * as vscode from 'vscode';
import { type AdminGet, commandAdminGet, netnsAdminGet, readAdmin } from '../../core/listeners/admin';
import { bpftraceParserFactory } from '../../core/listeners/bpftrace-json';
import { stateToJson, stateToMarkdown } from '../../core/listeners/format';
import { readTraceLog } from '../../core/listeners/readers';
import { takeLocalSnapshot, takeRemoteSnapshot } from '../../core/listeners/snapshot';
import { type CommandRunner, transportRunner } from '../../core/nodes/commands';
import { listProcesses } from '../../core/nodes/processes';
import type { FieldtraceContext } from '../context';
import { LOCAL_NODE } from '../../common/nodes';
import type { NodeManager } from '../ssh/index';
import { pickNodeProcess } from '../ssh/process-picker';
import type { ListenerStore } from './store';
import type { ListenersView } from './view';
import { notify } from '../notify';

/** A node to run on, and a runner there (none: this machine, in this process). */
interface NodeToAsk {
  nodeId: string;
  run?: CommandRunner;
}

export function registerListenerCommands(
  ctx: FieldtraceContext,
  store: ListenerStore,
  view: ListenersView,
  nodes: NodeManager,
): void {
  ctx.registerCommand('fieldtrace.listeners.openLog', async () => {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: true,
      openLabel: 'Open Trace Log',
      filters: { 'Trace logs': ['jsonl', 'json', 'txt', 'log'], 'All files': ['*'] },
    });
    if (!picked?.length) return;
    for (const uri of picked) {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      let log;
      try {
        log = readTraceLog(text, bpftraceParserFactory);
      } catch (error) {
        view.error(`${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
      store.applyLog(vscode.workspace.asRelativePath(uri), log);
      for (const p of log.problems.slice(0, 20)) ctx.log.warn(`${uri.fsPath}: ${p}`);
      if (log.problems.length)
        void notify.warning(
          `Fieldtrace: ${log.problems.length} line(s) of ${uri.fsPath} could not be read (see the Fieldtrace log).`,
        );
    }
    await view.showNow();
  });

  ctx.registerCommand('fieldtrace.listeners.snapshot', async () => {
    const picked = await askNodeAndProcess(
      'Snapshot of which process? (ss in its network namespace, its fds and threads from /proc)',
    );
    if (!picked) return;
    const { node, pid } = picked;
    view.busy(`Taking a snapshot of pid ${pid} on ${node.nodeId}…`);
    try {
      store.applySnapshot(
        node.run ? await takeRemoteSnapshot(pid, node.nodeId, node.run) : await takeLocalSnapshot(pid),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      view.error(
        `Snapshot of pid ${pid} on ${node.nodeId} failed: ${message}. It needs root (nsenter) and a running process.`,
      );
      throw error;
    }
    await view.showNow();
  });

  ctx.registerCommand('fieldtrace.listeners.adminCheck', async () => {
    const picked = await askNodeAndProcess(
      'Which Envoy? (its admin API is reached inside its network namespace)',
    );
    if (!picked) return;
    const { node, pid } = picked;
    const address = await vscode.window.showInputBox({
      prompt: 'Envoy admin address inside the pod',
      value: '127.0.0.1:15000',
      validateInput: (v) =>
        /^[0-9.]+:\d{1,5}$/.test(v.trim()) ? undefined : 'IPv4 address and port, e.g. 127.0.0.1:15000',
    });
    if (address === undefined) return;
    const [host, port] = address.trim().split(':');
    view.busy(`Reading the Envoy admin API of pid ${pid}…`);
    const get: AdminGet = node.run
      ? commandAdminGet(node.run, pid, host, Number(port))
      : netnsAdminGet(pid, host, Number(port));
    const report = await readAdmin(get, {
      label: `${address.trim()} (netns of pid ${pid} on ${node.nodeId})`,
      port: Number(port),
    });
    store.applyAdmin(node.nodeId, pid, report);
    if (report.summary.error) void notify.warning(`Fieldtrace: Envoy admin: ${report.summary.error}`);
    await view.showNow();
  });

  const copy = async (format: 'markdown' | 'json') => {
    const state = store.state();
    await vscode.env.clipboard.writeText(format === 'json' ? stateToJson(state) : stateToMarkdown(state));
    void notify.info(`Fieldtrace: listener state copied as ${format === 'json' ? 'JSON' : 'Markdown'}.`);
  };
  ctx.registerCommand('fieldtrace.listeners.copyMarkdown', () => copy('markdown'));
  ctx.registerCommand('fieldtrace.listeners.copyJson', () => copy('json'));
  ctx.registerCommand('fieldtrace.listeners.clear', () => store.clear());

  /** A process on a node: the node first (when there is a choice), then the process. */
  async function askNodeAndProcess(title: string): Promise<{ node: NodeToAsk; pid: number } | undefined> {
    const node = await pickNode();
    if (!node) return undefined;
    const pid = await pickProcess(node, title);
    return pid === undefined ? undefined : { node, pid };
  }

  /**
   * Which node, and a runner on it. Only nodes traces came from are offered: a snapshot is asked
   * for beside a trace.
   */
  async function pickNode(): Promise<NodeToAsk | undefined> {
    const remote = store.tracedNodes().filter((n) => n !== LOCAL_NODE);
    let nodeId = LOCAL_NODE;
    if (remote.length > 0) {
      const picked = await vscode.window.showQuickPick(
        [{ label: nodes.label(LOCAL_NODE), id: LOCAL_NODE }, ...remote.map((id) => ({ label: id, id }))],
        { placeHolder: 'Node the process runs on' },
      );
      if (!picked) return undefined;
      nodeId = picked.id;
    }
    if (nodeId === LOCAL_NODE) return { nodeId };
    const { transport, probe } = await nodes.probe(nodeId);
    if (!probe.privilege)
      throw new Error(`${nodeId}: neither root nor password-less sudo, which nsenter and /proc need`);
    return { nodeId, run: transportRunner(transport, probe.privilege) };
  }

  /** Which process on the node: picked from its processes (those in the state first), or its pid typed. */
  async function pickProcess(node: NodeToAsk, title: string): Promise<number | undefined> {
    const traced = store.knownPids(node.nodeId);
    const picked = await pickNodeProcess<number>({
      title,
      placeholder: 'Filter by name, or type a process id',
      processes: listProcesses(node.run, traced),
      traced,
      typed: (text, processes) => {
        if (!/^\d{1,7}$/.test(text)) return undefined;
        const known = processes.find((p) => p.pid === Number(text));
        return {
          label: `pid ${text}`,
          description: known ? known.name : 'typed process id',
          value: Number(text),
        };
      },
    });
    return picked === undefined ? undefined : 'typed' in picked ? picked.typed : picked.pid;
  }
}
