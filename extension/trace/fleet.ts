// Fleet runs: one script (or the listener trace) on several nodes at once. Every node is probed
// and the script checked in its dialect and catalog by the language server before anything
// starts; the user sees which nodes would reject it, and why, and picks where it runs. Each node
// gets its own session (terminal, log, events tagged with the node) under one fleet entry; a node
// that fails is reported on its own line while the others go on, and Stop stops them all.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CheckOnNodesRequest, type NodeVerdict } from '../../common/protocol';
import type { NodeManager } from '../ssh/index';
import {
  type CompatibilityRow,
  compatibilityRows,
  compatibilityTable,
  type FleetFacts,
} from './fleet-summary';
import type { ListenerTraceRun, ScriptToRun, SessionRecord, TraceSessions } from './sessions';

export interface FleetRecord {
  id: string;
  scriptLabel: string;
  nodeIds: string[];
  /** Sessions by node id, as they start. */
  members: Map<string, SessionRecord>;
  /** Nodes without a session, and why. */
  failures: Map<string, string>;
}

/** What runs on each node: the same script, or the listener trace of one target per node. */
export type FleetPlan =
  { script: ScriptToRun } | { label: string; listenerFor: (nodeId: string) => ListenerTraceRun };

export interface TraceFleetsDeps {
  sessions: TraceSessions;
  nodes: NodeManager;
  languageClient(): LanguageClient | undefined;
  log: vscode.LogOutputChannel;
}

export class TraceFleets implements vscode.Disposable {
  private readonly fleets = new Map<string, FleetRecord>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: TraceFleetsDeps) {}

  /** Newest first. */
  list(): FleetRecord[] {
    return [...this.fleets.values()].reverse();
  }

  get(id: string): FleetRecord | undefined {
    return this.fleets.get(id);
  }

  /** Whether a session belongs to a fleet (the tree shows it under its fleet, not on its own). */
  owns(sessionId: string): boolean {
    for (const f of this.fleets.values())
      for (const m of f.members.values()) if (m.session.id === sessionId) return true;
    return false;
  }

  facts(fleet: FleetRecord): FleetFacts {
    return {
      id: fleet.id,
      scriptLabel: fleet.scriptLabel,
      members: [...fleet.members.values()].map((m) => this.deps.sessions.facts(m)),
      failures: [...fleet.failures].map(([nodeId, reason]) => ({
        nodeLabel: this.deps.nodes.label(nodeId),
        reason,
      })),
    };
  }

  running(fleet: FleetRecord): boolean {
    return [...fleet.members.values()].some((m) => m.session.running);
  }

  /** `unavailable`: nodes already known not to run it (why), e.g. unreachable while picking. */
  async run(
    nodeIds: string[],
    plan: FleetPlan,
    unavailable = new Map<string, string>(),
  ): Promise<FleetRecord | undefined> {
    const { sessions, log } = this.deps;
    const scriptLabel = 'script' in plan ? plan.script.label : plan.label;
    const rows = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Fieldtrace: checking ${scriptLabel} on ${nodeIds.length} nodes…`,
      },
      () => this.check(nodeIds, plan, unavailable),
    );
    log.info(compatibilityTable(scriptLabel, rows));
    let chosen = rows.filter((r) => r.ok).map((r) => r.nodeId);
    if (chosen.length < rows.length) {
      const picked = await pickCompatibleNodes(scriptLabel, rows);
      if (!picked) return undefined;
      chosen = picked;
    }
    const fleet: FleetRecord = {
      id: `fleet-${randomBytes(4).toString('hex')}`,
      scriptLabel,
      nodeIds,
      members: new Map(),
      failures: new Map(),
    };
    for (const r of rows)
      if (!chosen.includes(r.nodeId)) fleet.failures.set(r.nodeId, r.ok ? 'not picked' : r.detail);
    this.fleets.set(fleet.id, fleet);
    this.changed.fire();
    await Promise.all(
      chosen.map(async (nodeId) => {
        try {
          const record =
            'script' in plan
              ? await sessions.start(nodeId, plan.script, undefined, { quiet: true })
              : await sessions.start(nodeId, { text: '', label: plan.label }, plan.listenerFor(nodeId), {
                  quiet: true,
                });
          if (record) fleet.members.set(nodeId, record);
        } catch (error) {
          fleet.failures.set(nodeId, error instanceof Error ? error.message : String(error));
        }
        this.changed.fire();
      }),
    );
    for (const m of fleet.members.values()) void m.session.ended.then(() => this.changed.fire());
    return fleet;
  }

  async stop(fleet: FleetRecord): Promise<void> {
    await Promise.all([...fleet.members.values()].map((m) => this.deps.sessions.stop(m)));
  }

  /** Probes every node at once, then asks the language server for each node's verdict. */
  private async check(
    nodeIds: string[],
    plan: FleetPlan,
    known: Map<string, string>,
  ): Promise<CompatibilityRow[]> {
    const { nodes, sessions } = this.deps;
    const unreachable = new Map(known);
    const texts = new Map<string, string>();
    await Promise.all(
      nodeIds.map(async (nodeId) => {
        if (unreachable.has(nodeId)) return;
        try {
          const { transport, probe } = await nodes.probe(nodeId);
          if (probe.problems.length) {
            unreachable.set(nodeId, probe.problems.join(' '));
            return;
          }
          // The server checks in the node's own dialect and catalog: both must be there first.
          await nodes.pushNodeTarget(transport, probe);
          texts.set(
            nodeId,
            'script' in plan
              ? plan.script.text
              : (await sessions.listenerScript(nodeId, transport, probe, plan.listenerFor(nodeId))).text,
          );
        } catch (error) {
          unreachable.set(nodeId, error instanceof Error ? error.message : String(error));
        }
      }),
    );
    const client = this.deps.languageClient();
    const verdicts: NodeVerdict[] = [];
    if (client) {
      // One request per distinct text: a script is one, listener traces differ by dialect.
      const byText = new Map<string, string[]>();
      for (const [nodeId, text] of texts) byText.set(text, [...(byText.get(text) ?? []), nodeId]);
      for (const [text, ids] of byText) {
        const answer = await client.sendRequest(CheckOnNodesRequest.type, { text, nodeIds: ids });
        verdicts.push(...answer.nodes);
      }
    } else
      for (const nodeId of texts.keys())
        verdicts.push({ nodeId, bpftraceVersion: '?', known: false, errors: [], warnings: 0 });
    return compatibilityRows(nodeIds, (id) => nodes.label(id), verdicts, unreachable);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The compatibility table as a pick: nodes that can run the script are picked, the rest say why. */
async function pickCompatibleNodes(
  scriptLabel: string,
  rows: CompatibilityRow[],
): Promise<string[] | undefined> {
  const items = rows.map((r) => ({
    label: `${r.ok ? '$(pass)' : '$(error)'} ${r.nodeLabel}`,
    description: r.description,
    detail: r.detail,
    picked: r.ok,
    nodeId: r.nodeId,
  }));
  const ok = rows.filter((r) => r.ok).length;
  const picked = await vscode.window.showQuickPick(items, {
    title: `${scriptLabel}: ${ok} of ${rows.length} nodes can run it — start on the picked nodes`,
    canPickMany: true,
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  return picked?.map((p) => p.nodeId);
}
