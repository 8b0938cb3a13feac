// The questions the trace commands ask: on which nodes, which session, which process to follow.
import * as vscode from 'vscode';
import { transportRunner } from '../../core/nodes/commands';
import { listProcesses } from '../../core/nodes/processes';
import {
  describeProcess,
  describeTarget,
  parseTargetSpec,
  TARGET_SYNTAX,
  type TargetSpec,
} from '../../core/trace/target';
import type { NodeManager } from '../ssh/index';
import { pickNodeProcess } from '../ssh/process-picker';
import type { FleetRecord, TraceFleets } from './fleet';
import { fleetRow } from './fleet-summary';
import { sessionTitle } from './session-summary';
import type { SessionRecord, TraceSessions } from './sessions';

/** Node ids to run on; with one node (this machine only) nothing is asked. */
export async function pickNodes(nodes: NodeManager, canPickMany: boolean): Promise<string[]> {
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

/** A session, asked only when there are several. */
export async function pickSession(
  sessions: TraceSessions,
  onlyRunning: boolean,
): Promise<SessionRecord | undefined> {
  const candidates = sessions.list(onlyRunning);
  if (candidates.length <= 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((r) => ({
      label: sessionTitle(r),
      description: r.session.running ? `${r.session.eventCount} events` : 'ended',
      record: r,
    })),
    { title: onlyRunning ? 'Stop which trace?' : 'Show which trace?' },
  );
  return picked?.record;
}

/**
 * Which process the listener trace follows: typed (a name, a pid, container:PID,
 * NAME@container:PID) or picked from the node's processes; a picked process that lives in a
 * container is offered as "its name in its container" (follows a hot restart) or its pid alone.
 */
export async function pickListenerTarget(
  nodes: NodeManager,
  nodeId: string,
): Promise<TargetSpec | undefined> {
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

/** A running fleet to stop, asked only when one runs (then "all of it" is one choice). */
export async function pickRunningFleet(fleets: TraceFleets): Promise<FleetRecord | undefined> {
  const running = fleets.list().filter((f) => fleets.running(f));
  if (running.length === 0) return undefined;
  const picked = await vscode.window.showQuickPick(
    [
      ...running.map((f) => ({
        label: `$(server-environment) ${fleetRow(fleets.facts(f)).label}`,
        description: 'stop every node',
        fleet: f as FleetRecord | undefined,
      })),
      { label: 'A single trace…', description: '', fleet: undefined },
    ],
    { title: 'Stop which trace?' },
  );
  return picked?.fleet;
}

/**
 * The targets of a fleet's listener trace: one typed target for every node (process names are the
 * same across a fleet), or a process picked on each node (pids differ from node to node).
 */
export async function pickFleetTargets(
  nodes: NodeManager,
  nodeIds: string[],
): Promise<{ targets: Map<string, TargetSpec>; unavailable: Map<string, string> } | undefined> {
  const perNode = '$(list-selection) Pick the process on each node…';
  const choice = await new Promise<string | undefined>((resolve) => {
    const qp = vscode.window.createQuickPick();
    qp.title = `Listener trace on ${nodeIds.length} nodes: which process?`;
    qp.placeholder = `Type ${TARGET_SYNTAX} for every node, or pick the process on each`;
    qp.value = 'envoy';
    const refresh = () => {
      const parsed = parseTargetSpec(qp.value);
      qp.items = [
        {
          label: qp.value || 'envoy',
          description: 'error' in parsed ? parsed.error : `trace ${describeTarget(parsed)} on every node`,
          alwaysShow: true,
        },
        { label: perNode, alwaysShow: true },
      ];
    };
    refresh();
    qp.onDidChangeValue(refresh);
    qp.onDidAccept(() => {
      const picked = qp.selectedItems[0];
      if (!picked) return;
      if (picked.label !== perNode && 'error' in parseTargetSpec(picked.label)) return;
      resolve(picked.label);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
  if (choice === undefined) return undefined;
  if (choice !== perNode) {
    const spec = parseTargetSpec(choice);
    return 'error' in spec
      ? undefined
      : { targets: new Map(nodeIds.map((id) => [id, spec])), unavailable: new Map() };
  }
  // A node that cannot be asked stays in the fleet: its line in the table says why.
  const targets = new Map<string, TargetSpec>();
  const unavailable = new Map<string, string>();
  for (const id of nodeIds) {
    try {
      const target = await pickListenerTarget(nodes, id);
      if (!target) return undefined;
      targets.set(id, target);
    } catch (error) {
      unavailable.set(id, error instanceof Error ? error.message : String(error));
    }
  }
  return targets.size ? { targets, unavailable } : undefined;
}
