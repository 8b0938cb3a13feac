// The status bar entry of running traces (how many, events per second); a click shows a terminal.
import * as vscode from 'vscode';
import { statusSummary } from './session-summary';
import type { TraceSessions } from './sessions';

export class TraceStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'fieldtrace.traceStatus',
    vscode.StatusBarAlignment.Left,
    50,
  );

  constructor(private readonly sessions: TraceSessions) {
    this.item.name = 'Fieldtrace Trace Sessions';
    this.item.command = 'fieldtrace.showTraceOutput';
  }

  refresh(): void {
    const summary = statusSummary(this.sessions.list(true).map((r) => this.sessions.facts(r)));
    if (!summary) {
      this.item.hide();
      return;
    }
    this.item.text = summary.text;
    this.item.tooltip = summary.tooltip;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
