// "Trace on node…": from a C++ function definition under a source root to a bpftrace script bound
// to the node where the binary runs. A CodeLens on each definition (and the editor's context
// menu) asks for the node and the process, finds the binary the process really runs, reads its
// symbols through the one symbol cache, and opens an untitled bpftrace document bound to that node
// whose own CodeLens runs it there in one click.
import * as vscode from 'vscode';
import { transportRunner } from '../../core/nodes/commands';
import { listProcesses } from '../../core/nodes/processes';
import { probeForFunction } from '../../core/probe/script';
import { runningBinary } from '../../core/probe/running-binary';
import { confinedPath } from '../../core/stacks/confine';
import { scanDefinitions } from '../../core/stacks/scanner';
import type { Configuration } from '../configuration';
import type { FieldtraceContext } from '../context';
import { notify } from '../notify';
import { resolveSourceRoots } from '../settings';
import type { NodeManager } from '../ssh/index';
import { pickNodeProcess } from '../ssh/process-picker';
import { pickNodes } from '../trace/pickers';

export const TRACE_FUNCTION_COMMAND = 'fieldtrace.traceFunctionOnNode';
const CPP_LANGUAGES = ['cpp', 'c', 'cuda-cpp', 'objective-cpp'];

export interface ProbeDeps {
  nodes: NodeManager;
  configuration: Configuration;
}

export function registerProbe(ctx: FieldtraceContext, deps: ProbeDeps): void {
  /** Untitled scripts made here, by document URI: the node they run on. */
  const boundScripts = new Map<string, { nodeId: string; label: string }>();
  const roots = () =>
    resolveSourceRoots(
      deps.configuration.settings.sourceRoots,
      vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath) ?? [],
      process.cwd(),
    );
  const lensChanged = new vscode.EventEmitter<void>();
  ctx.track(lensChanged);
  ctx.track(deps.configuration.onDidChange(['sourceRoots'], () => lensChanged.fire()));

  ctx.track(
    vscode.languages.registerCodeLensProvider(
      CPP_LANGUAGES.map((language) => ({ language, scheme: 'file' })),
      {
        onDidChangeCodeLenses: lensChanged.event,
        provideCodeLenses(document) {
          if (!confinedPath(document.uri.fsPath, roots())) return [];
          return scanDefinitions(document.getText()).map(
            (d) =>
              new vscode.CodeLens(new vscode.Range(d.line - 1, 0, d.line - 1, 0), {
                title: 'Trace on node…',
                tooltip: `A uprobe on every symbol of ${d.qname} in the binary a process runs`,
                command: TRACE_FUNCTION_COMMAND,
                arguments: [document.uri, d.line],
              }),
          );
        },
      },
    ),
  );

  ctx.track(
    vscode.languages.registerCodeLensProvider(
      { language: 'bpftrace', scheme: 'untitled' },
      {
        provideCodeLenses(document) {
          const bound = boundScripts.get(document.uri.toString());
          if (!bound) return [];
          return [
            new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
              title: `$(play) Run on ${bound.label}`,
              command: 'fieldtrace.runTrace',
              arguments: [document.uri, bound.nodeId],
            }),
          ];
        },
      },
    ),
  );
  ctx.track(vscode.workspace.onDidCloseTextDocument((d) => boundScripts.delete(d.uri.toString())));

  ctx.registerCommand(TRACE_FUNCTION_COMMAND, async (uriArg?: vscode.Uri, lineArg?: number) => {
    const editor = vscode.window.activeTextEditor;
    const uri = uriArg instanceof vscode.Uri ? uriArg : editor?.document.uri;
    const line = typeof lineArg === 'number' ? lineArg : (editor?.selection.active.line ?? -1) + 1;
    if (!uri || line < 1) return;
    const document = await vscode.workspace.openTextDocument(uri);
    const [nodeId] = await pickNodes(deps.nodes, false);
    if (!nodeId) return;
    const { transport, probe } = await deps.nodes.probe(nodeId);
    if (probe.problems.length)
      throw new Error(`cannot trace on ${deps.nodes.label(nodeId)}: ${probe.problems.join(' ')}`);
    const run = transportRunner(transport, probe.privilege);
    const picked = await pickNodeProcess<number>({
      title: `Trace on ${deps.nodes.label(nodeId)}: which process runs the function?`,
      placeholder: 'Pick the process, or type its pid',
      initialValue: 'envoy',
      processes: listProcesses(run),
      typed: (text) =>
        /^[1-9]\d{0,9}$/.test(text.trim())
          ? { label: text, description: `pid ${text.trim()}`, value: Number(text.trim()) }
          : undefined,
    });
    if (!picked) return;
    const pid = 'typed' in picked ? picked.typed : picked.pid;
    const binary = await runningBinary(run, pid);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Reading the symbols of ${binary.path}…` },
      async () =>
        probeForFunction({
          file: vscode.workspace.asRelativePath(uri),
          text: document.getText(),
          line,
          binary: binary.path,
          table: await deps.nodes.symbolTable(nodeId, binary.path),
          bpftraceVersion: probe.bpftraceVersion,
          pid,
        }),
    );
    if (!result.script) {
      void notify.warning(`Fieldtrace: ${result.problem ?? 'nothing to trace'}`);
      return;
    }
    if (binary.deleted)
      void notify.warning(
        `Fieldtrace: ${binary.inProcess} was replaced since pid ${pid} started; the symbols are of the file there now.`,
      );
    const script = await vscode.workspace.openTextDocument({ language: 'bpftrace', content: result.script });
    boundScripts.set(script.uri.toString(), { nodeId, label: deps.nodes.label(nodeId) });
    lensChanged.fire();
    await vscode.window.showTextDocument(script, { preview: false });
    // The language server checks the script against that node's bpftrace and binary.
    await deps.nodes.pushNodeTarget(transport, probe, script.uri.toString());
  });
}
