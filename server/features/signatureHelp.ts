// Signature help for builtin functions and the script's macros: the signature of the innermost call and the argument
// the cursor is in.
import { MarkupKind, type SignatureHelp } from 'vscode-languageserver';
import type { FeatureServer } from './feature-server';
import { callAt } from './locate';

export function registerSignatureHelp(server: FeatureServer): void {
  server.connection.onSignatureHelp((params): SignatureHelp | null => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return null;
    const offset = doc.offsetAt(params.position);
    const call = callAt(analysis, offset);
    if (!call) return null;
    const macro = analysis.program.items.find((i) => i.kind === 'macro' && i.name.name === call.callee.name);
    let label: string;
    let documentation: string;
    if (macro?.kind === 'macro' && analysis.dialect.has('macro')) {
      label = `${macro.name.name}(${macro.params.map((p) => analysis.text.slice(p.start, p.end)).join(', ')})`;
      documentation = 'Macro defined in this script.';
    } else {
      const row = analysis.dialect.func(call.callee.name);
      if (!row) return null;
      const [min, max] = analysis.dialect.arity(row);
      label = row.signature;
      documentation = `${row.doc}\n\nbpftrace ${analysis.dialect.name}: ${min === max ? min : `${min}–${max}`} argument${max === 1 ? '' : 's'}.`;
    }
    const open = label.indexOf('(');
    const inner = label.slice(open + 1, label.lastIndexOf(')'));
    const parameters: Array<{ label: [number, number] }> = [];
    let start = open + 1;
    let depth = 0;
    for (let i = 0; i <= inner.length; i++) {
      const c = inner[i];
      if (c === '[' || c === '(') depth++;
      if (c === ']' || c === ')') depth--;
      if (i === inner.length || (c === ',' && depth === 0)) {
        const raw = label.slice(start, open + 1 + i);
        const lead = raw.length - raw.trimStart().length;
        if (raw.trim()) parameters.push({ label: [start + lead, open + 1 + i] });
        start = open + 2 + i;
      }
    }
    let active = call.commas.filter((c) => c < offset).length;
    if (active >= parameters.length && parameters.length) active = parameters.length - 1;
    return {
      signatures: [
        {
          label,
          documentation: { kind: MarkupKind.Markdown, value: documentation },
          parameters,
        },
      ],
      activeSignature: 0,
      activeParameter: active,
    };
  });
}
