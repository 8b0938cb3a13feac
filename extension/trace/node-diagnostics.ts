// The node's bpftrace errors on the script it ran (Problems, source `bpftrace@<node>`), taken from
// the event bus: what bpftrace says about the script, at the range it names.
import * as vscode from 'vscode';
import type { SessionTraceEvent } from '../../common/events';
import { diagnosticRange, type TraceEventBus, type TraceSession } from '../../core/trace/session';

export interface ScriptOnNode {
  uri: vscode.Uri;
  text: string;
  nodeLabel: string;
}

export class NodeDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('bpftrace-node');

  /** A new run of a script starts with none of its earlier runs' diagnostics. */
  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
  }

  /**
   * Follows one session's diagnostics from its first event. Whether a diagnostic is about the
   * script (not an included header) needs the session, which exists only once start() returned:
   * until `attach` the events wait.
   */
  follow(
    bus: TraceEventBus,
    sessionId: string,
    script: ScriptOnNode,
  ): { attach(session: TraceSession): void; dispose(): void } {
    let session: TraceSession | undefined;
    const waiting: SessionTraceEvent[] = [];
    const subscription = bus.subscribe((e) => {
      if (e.event.type === 'ended') subscription.dispose();
      if (e.event.type !== 'diagnostic') return;
      if (session) this.add(session, script, e);
      else waiting.push(e);
    }, sessionId);
    return {
      attach: (started) => {
        session = started;
        for (const e of waiting.splice(0)) this.add(started, script, e);
      },
      dispose: () => subscription.dispose(),
    };
  }

  private add(session: TraceSession, script: ScriptOnNode, e: SessionTraceEvent): void {
    if (e.event.type !== 'diagnostic' || !session.isScriptDiagnostic(e.event)) return;
    const range = diagnosticRange(e.event, script.text);
    if (!range) return;
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(range.startLine, range.startColumn, range.endLine, range.endColumn),
      e.event.message,
      e.event.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
    );
    diagnostic.source = `bpftrace@${script.nodeLabel}`;
    this.collection.set(script.uri, [...(this.collection.get(script.uri) ?? []), diagnostic]);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
