// The trace commands: Run Trace on Node…, Run Listener Trace, Stop Trace, Show Trace Output.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeTarget, parseTargetSpec, type TargetSpec } from '../../core/trace/target';
import type { FieldtraceContext } from '../context';
import type { NodeManager } from '../ssh/index';
import type { FleetRecord, TraceFleets } from './fleet';
import { pickFleetTargets, pickListenerTarget, pickNodes, pickRunningFleet, pickSession } from './pickers';
import type { SessionRecord, TraceSessions } from './sessions';
import { notify } from '../notify';

export function registerTraceCommands(
  ctx: FieldtraceContext,
  sessions: TraceSessions,
  fleets: TraceFleets,
  nodes: NodeManager,
): void {
  ctx.registerCommand('fieldtrace.runTrace', async (arg?: vscode.Uri, nodeArg?: string) => {
    const uri = (arg instanceof vscode.Uri ? arg : undefined) ?? activeScript() ?? (await askForScript());
    if (!uri) return;
    const document = await vscode.workspace.openTextDocument(uri);
    // A script made for one node (Trace on node…) runs there without asking.
    const nodeIds = typeof nodeArg === 'string' ? [nodeArg] : await pickNodes(nodes, true);
    const label = path.basename(uri.fsPath);
    if (nodeIds.length > 1) {
      await fleets.run(nodeIds, { script: { text: document.getText(), label, uri } });
      return;
    }
    await Promise.all(
      nodeIds.map((id) =>
        sessions.start(id, { text: document.getText(), label, uri }).catch((error: unknown) => {
          void notify.error(
            `Fieldtrace: ${label} on ${nodes.label(id)}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }),
      ),
    );
  });

  ctx.registerCommand(
    'fieldtrace.runListenerTrace',
    async (nodeArg?: string | string[], targetArg?: string | Record<string, string>) => {
      const nodeIds =
        typeof nodeArg === 'string'
          ? [nodeArg]
          : Array.isArray(nodeArg)
            ? nodeArg
            : await pickNodes(nodes, true);
      if (nodeIds.length === 0) return;
      const parse = (text: string): TargetSpec => {
        const parsed = parseTargetSpec(text);
        if ('error' in parsed) throw new Error(parsed.error);
        return parsed;
      };
      if (nodeIds.length > 1) {
        // A fleet: one target for every node, or a process picked on each.
        let chosen: { targets: Map<string, TargetSpec>; unavailable: Map<string, string> } | undefined;
        if (typeof targetArg === 'string')
          chosen = { targets: new Map(nodeIds.map((id) => [id, parse(targetArg)])), unavailable: new Map() };
        else if (targetArg && typeof targetArg === 'object')
          chosen = {
            targets: new Map(nodeIds.map((id) => [id, parse(targetArg[id] ?? 'envoy')])),
            unavailable: new Map(),
          };
        else chosen = await pickFleetTargets(nodes, nodeIds);
        if (!chosen) return;
        const { targets, unavailable } = chosen;
        const described = [...new Set([...targets.values()].map(describeTarget))];
        await fleets.run(
          nodeIds,
          {
            label: `listeners of ${described.length === 1 ? described[0] : 'a process per node'}`,
            listenerFor: (id) => ({ target: targets.get(id) ?? { comm: 'envoy' } }),
          },
          unavailable,
        );
        return;
      }
      const nodeId = nodeIds[0]!;
      const target =
        typeof targetArg === 'string' ? parse(targetArg) : await pickListenerTarget(nodes, nodeId);
      if (!target) return;
      await sessions.start(nodeId, { text: '', label: `listeners of ${describeTarget(target)}` }, { target });
    },
  );

  // From the Sessions tree the argument is the record itself; from code, a session or fleet id.
  const fleetOf = (arg: unknown): FleetRecord | undefined => {
    if (typeof arg === 'string') return fleets.get(arg);
    const id = (arg as Partial<FleetRecord> | undefined)?.members ? (arg as FleetRecord).id : undefined;
    return id ? fleets.get(id) : undefined;
  };
  const recordOf = (arg: unknown): SessionRecord | undefined => {
    if (typeof arg === 'string') return sessions.get(arg);
    const id = (arg as Partial<SessionRecord> | undefined)?.session?.id;
    return id ? sessions.get(id) : undefined;
  };

  ctx.registerCommand('fieldtrace.stopTrace', async (arg?: unknown) => {
    const fleet = fleetOf(arg) ?? (arg === undefined ? await pickRunningFleet(fleets) : undefined);
    if (fleet) {
      await fleets.stop(fleet);
      return;
    }
    const record = recordOf(arg) ?? (arg === undefined ? await pickSession(sessions, true) : undefined);
    if (!record) {
      void notify.info('Fieldtrace: no trace is running.');
      return;
    }
    await sessions.stop(record);
  });

  ctx.registerCommand('fieldtrace.showTraceOutput', async (arg?: unknown) => {
    const record = recordOf(arg) ?? (arg === undefined ? await pickSession(sessions, false) : undefined);
    if (!record) {
      void notify.info('Fieldtrace: no trace sessions yet. Run one with "Run Trace on Node…".');
      return;
    }
    record.terminal.show();
  });
}

/** The bpftrace script in the active editor, if it is one. */
function activeScript(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document && (document.languageId === 'bpftrace' || document.fileName.endsWith('.bt'))
    ? document.uri
    : undefined;
}

async function askForScript(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ filters: { bpftrace: ['bt'] }, canSelectMany: false });
  return picked?.[0];
}
