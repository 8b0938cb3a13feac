// The trace commands: Run Trace on Node…, Run Listener Trace, Stop Trace, Show Trace Output.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeTarget, parseTargetSpec, type TargetSpec } from '../../core/trace/target';
import type { FieldtraceContext } from '../context';
import type { NodeManager } from '../ssh/index';
import { pickListenerTarget, pickNodes, pickSession } from './pickers';
import type { SessionRecord, TraceSessions } from './sessions';

export function registerTraceCommands(
  ctx: FieldtraceContext,
  sessions: TraceSessions,
  nodes: NodeManager,
): void {
  ctx.registerCommand('fieldtrace.runTrace', async (arg?: vscode.Uri) => {
    const uri = (arg instanceof vscode.Uri ? arg : undefined) ?? activeScript() ?? (await askForScript());
    if (!uri) return;
    const document = await vscode.workspace.openTextDocument(uri);
    const nodeIds = await pickNodes(nodes, true);
    const label = path.basename(uri.fsPath);
    await Promise.all(
      nodeIds.map((id) =>
        sessions.start(id, { text: document.getText(), label, uri }).catch((error: unknown) => {
          void vscode.window.showErrorMessage(
            `Fieldtrace: ${label} on ${nodes.label(id)}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }),
      ),
    );
  });

  ctx.registerCommand('fieldtrace.runListenerTrace', async (nodeArg?: string, targetArg?: string) => {
    const [nodeId] = typeof nodeArg === 'string' ? [nodeArg] : await pickNodes(nodes, false);
    if (!nodeId) return;
    let target: TargetSpec | undefined;
    if (typeof targetArg === 'string') {
      const parsed = parseTargetSpec(targetArg);
      if ('error' in parsed) throw new Error(parsed.error);
      target = parsed;
    } else target = await pickListenerTarget(nodes, nodeId);
    if (!target) return;
    await sessions.start(nodeId, { text: '', label: `listeners of ${describeTarget(target)}` }, { target });
  });

  // From the Sessions tree the argument is the record itself; from code, a session id.
  const recordOf = (arg: unknown): SessionRecord | undefined => {
    if (typeof arg === 'string') return sessions.get(arg);
    const id = (arg as Partial<SessionRecord> | undefined)?.session?.id;
    return id ? sessions.get(id) : undefined;
  };

  ctx.registerCommand('fieldtrace.stopTrace', async (arg?: unknown) => {
    const record = recordOf(arg) ?? (arg === undefined ? await pickSession(sessions, true) : undefined);
    if (!record) {
      void vscode.window.showInformationMessage('Fieldtrace: no trace is running.');
      return;
    }
    await sessions.stop(record);
  });

  ctx.registerCommand('fieldtrace.showTraceOutput', async (arg?: unknown) => {
    const record = recordOf(arg) ?? (arg === undefined ? await pickSession(sessions, false) : undefined);
    if (!record) {
      void vscode.window.showInformationMessage(
        'Fieldtrace: no trace sessions yet. Run one with "Run Trace on Node…".',
      );
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
