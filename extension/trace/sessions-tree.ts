// The Sessions view: one row per trace session, newest first; a click shows its terminal.
import * as vscode from 'vscode';
import { sessionRow } from './session-summary';
import type { SessionRecord, TraceSessions } from './sessions';

export class SessionsTree implements vscode.TreeDataProvider<SessionRecord>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SessionRecord | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly sessions: TraceSessions) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: SessionRecord): SessionRecord[] {
    return element ? [] : this.sessions.list();
  }

  getTreeItem(record: SessionRecord): vscode.TreeItem {
    const row = sessionRow(this.sessions.facts(record));
    const item = new vscode.TreeItem(row.label);
    item.description = row.description;
    item.tooltip = new vscode.MarkdownString(row.tooltip.join('\n\n'));
    item.iconPath = new vscode.ThemeIcon(row.icon);
    item.contextValue = row.contextValue;
    item.command = {
      command: 'fieldtrace.showTraceOutput',
      title: 'Show Trace Output',
      arguments: [record.session.id],
    };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
