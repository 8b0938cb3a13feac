// The Sessions view: fleets (one script on several nodes) and single sessions, newest first; a
// fleet lists its nodes' sessions and, on their own lines, the nodes that failed. A click on a
// session shows its terminal.
import * as vscode from 'vscode';
import type { FleetRecord, TraceFleets } from './fleet';
import { fleetRow } from './fleet-summary';
import { sessionRow } from './session-summary';
import type { SessionRecord, TraceSessions } from './sessions';

/** A node of a fleet that has no session. */
export interface FleetFailureNode {
  fleet: FleetRecord;
  nodeId: string;
  reason: string;
}

export type SessionsTreeNode = SessionRecord | FleetRecord | FleetFailureNode;

const isFleet = (n: SessionsTreeNode): n is FleetRecord => 'members' in n;
const isFailure = (n: SessionsTreeNode): n is FleetFailureNode => 'reason' in n && 'fleet' in n;

export class SessionsTree implements vscode.TreeDataProvider<SessionsTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SessionsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly sessions: TraceSessions,
    private readonly fleets: TraceFleets,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: SessionsTreeNode): SessionsTreeNode[] {
    if (!element)
      return [...this.fleets.list(), ...this.sessions.list().filter((r) => !this.fleets.owns(r.session.id))];
    if (!isFleet(element)) return [];
    return [
      ...element.members.values(),
      ...[...element.failures].map(([nodeId, reason]) => ({ fleet: element, nodeId, reason })),
    ];
  }

  getTreeItem(node: SessionsTreeNode): vscode.TreeItem {
    if (isFleet(node)) {
      const row = fleetRow(this.fleets.facts(node));
      const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.id;
      item.description = row.description;
      // Plain text: node names and reasons come from outside and are no Markdown.
      item.tooltip = row.tooltip.join('\n').replace(/\*\*/g, '');
      item.iconPath = new vscode.ThemeIcon(row.icon);
      item.contextValue = row.contextValue;
      item.accessibilityInformation = { label: `${row.label}, ${row.description}` };
      return item;
    }
    if (isFailure(node)) {
      const item = new vscode.TreeItem(`${node.nodeId} · failed`);
      item.id = `${node.fleet.id}/${node.nodeId}`;
      item.description = node.reason;
      item.tooltip = node.reason;
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      item.contextValue = 'fieldtrace.fleet.failure';
      item.accessibilityInformation = { label: `${node.nodeId} · failed, ${node.reason}` };
      return item;
    }
    const row = sessionRow(this.sessions.facts(node));
    const item = new vscode.TreeItem(row.label);
    item.id = node.session.id;
    item.description = row.description;
    item.tooltip = new vscode.MarkdownString(row.tooltip.join('\n\n'));
    item.iconPath = new vscode.ThemeIcon(row.icon);
    item.contextValue = row.contextValue;
    item.command = {
      command: 'fieldtrace.showTraceOutput',
      title: 'Show Trace Output',
      arguments: [node.session.id],
    };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
