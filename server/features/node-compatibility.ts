// Before a script fans out to a fleet: the same script checked in each picked node's dialect and
// against its catalog, so that the user sees which nodes would reject it, and why, before any starts.
import { type Connection, type TextDocuments } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CheckOnNodesRequest, type NodeVerdict } from '../../common/protocol';
import { analyze } from '../analysis/analyzer';
import type { Targets } from '../targets';

/** Errors listed per node; the rest are counted (a table row must stay readable). */
const ERRORS_PER_NODE = 20;

export interface NodeCompatibilityServer {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  targets: Pick<Targets, 'forNode'>;
}

export function checkOnNodes(
  text: string,
  nodeIds: string[],
  targets: Pick<Targets, 'forNode'>,
): NodeVerdict[] {
  const doc = TextDocument.create('untitled:check', 'bpftrace', 0, text);
  return nodeIds.map((nodeId) => {
    const target = targets.forNode(nodeId);
    const analysis = analyze(text, target.dialect, target.catalog, target.facts, { unsafe: target.unsafe });
    const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
    return {
      nodeId,
      bpftraceVersion: target.version,
      known: target.known,
      errors: errors.slice(0, ERRORS_PER_NODE).map((d) => {
        const at = doc.positionAt(d.start);
        return {
          line: at.line,
          character: at.character,
          message: d.message,
          ...(d.code ? { code: d.code } : {}),
        };
      }),
      warnings: analysis.diagnostics.filter((d) => d.severity === 'warning').length,
    };
  });
}

export function registerNodeCompatibility(server: NodeCompatibilityServer): void {
  server.connection.onRequest(CheckOnNodesRequest.type, (params) => {
    const text = params.text ?? (params.uri ? server.documents.get(params.uri)?.getText() : undefined);
    if (text === undefined)
      throw new Error(`no text to check: ${params.uri ?? 'neither uri nor text given'}`);
    return { nodes: checkOnNodes(text, params.nodeIds, server.targets) };
  });
}
