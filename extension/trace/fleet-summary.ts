// What the views say about a fleet run (one script or listener trace on several nodes at once) and
// about its compatibility check, as plain data: the Sessions tree, the compatibility pick and the
// log turn it into items and lines. No `vscode` here, so that it is tested on its own.
import type { NodeVerdict } from '../../common/protocol';
import type { SessionFacts } from './session-summary';

/** A node of the fleet that has no session: why, in words (unreachable, no bpftrace, rejected). */
export interface FleetFailure {
  nodeLabel: string;
  reason: string;
}

export interface FleetFacts {
  id: string;
  scriptLabel: string;
  members: SessionFacts[];
  failures: FleetFailure[];
}

export interface FleetRow {
  label: string;
  description: string;
  tooltip: string[];
  icon: 'server-environment' | 'circle-outline';
  contextValue: 'fieldtrace.fleet.running' | 'fieldtrace.fleet.ended';
}

export function fleetRow(f: FleetFacts): FleetRow {
  const running = f.members.filter((m) => m.running).length;
  const events = f.members.reduce((n, m) => n + m.eventCount, 0);
  const nodes = f.members.length + f.failures.length;
  const parts = [
    running ? `${running}/${nodes} running` : `ended`,
    `${events} events`,
    f.failures.length ? `${f.failures.length} failed` : '',
  ].filter(Boolean);
  return {
    label: `Fleet of ${nodes} · ${f.scriptLabel}`,
    description: parts.join(' · '),
    tooltip: [
      `**${f.scriptLabel}** on ${nodes} nodes`,
      ...f.members.map((m) => `${m.nodeLabel}: ${m.running ? 'running' : 'ended'}, ${m.eventCount} events`),
      ...f.failures.map((x) => `${x.nodeLabel}: failed (${x.reason})`),
    ],
    icon: running ? 'server-environment' : 'circle-outline',
    contextValue: running ? 'fieldtrace.fleet.running' : 'fieldtrace.fleet.ended',
  };
}

/** One node's line in the compatibility table shown before a fleet run fans out. */
export interface CompatibilityRow {
  nodeId: string;
  nodeLabel: string;
  ok: boolean;
  /** `bpftrace 0.17` or why the node cannot be asked. */
  description: string;
  /** Why it would fail: the first errors with their lines, or the probe's problem. */
  detail: string;
}

/** Probe results and the server's verdicts, node by node, in the order the nodes were picked. */
export function compatibilityRows(
  nodeIds: string[],
  label: (nodeId: string) => string,
  verdicts: NodeVerdict[],
  unreachable: Map<string, string>,
): CompatibilityRow[] {
  const byNode = new Map(verdicts.map((v) => [v.nodeId, v]));
  return nodeIds.map((nodeId) => {
    const nodeLabel = label(nodeId);
    const problem = unreachable.get(nodeId);
    if (problem !== undefined)
      return { nodeId, nodeLabel, ok: false, description: 'cannot trace', detail: problem };
    const verdict = byNode.get(nodeId);
    if (!verdict) return { nodeId, nodeLabel, ok: false, description: 'not checked', detail: 'no verdict' };
    const shown = verdict.errors
      .slice(0, 2)
      .map((e) => `line ${e.line + 1}: ${e.message}`)
      .join('; ');
    const more = verdict.errors.length > 2 ? ` (+${verdict.errors.length - 2} more)` : '';
    return {
      nodeId,
      nodeLabel,
      ok: verdict.errors.length === 0,
      description: `bpftrace ${verdict.bpftraceVersion}`,
      detail: verdict.errors.length ? `would reject it: ${shown}${more}` : 'accepts it',
    };
  });
}

/** The table as text, for the log (and for a terminal-free record of the decision). */
export function compatibilityTable(scriptLabel: string, rows: CompatibilityRow[]): string {
  const width = Math.max(4, ...rows.map((r) => r.nodeLabel.length));
  const ok = rows.filter((r) => r.ok).length;
  return [
    `${scriptLabel}: ${ok} of ${rows.length} nodes can run it`,
    ...rows.map(
      (r) => `  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.nodeLabel.padEnd(width)}  ${r.description}: ${r.detail}`,
    ),
  ].join('\n');
}
