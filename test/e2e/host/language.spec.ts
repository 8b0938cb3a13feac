// Scenario 1 through VS Code's API in the extension host: completion after `args->`, a
// misspelled field as a diagnostic with its range and a quick fix that repairs it, hover types.
// The documents are untitled, so nothing is written to the workspace.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activeApi } from './activation.spec';

const bindProbe = 'tracepoint:syscalls:sys_enter_bind\n{\n  printf("%d\\n", args->fd);\n  $x = args->\n}\n';
const typoProbe =
  'tracepoint:syscalls:sys_enter_bind\n{\n  printf("fd %d at %p\\n", args->fd, args->umyadr);\n}\n';

function positionAfter(doc: vscode.TextDocument, needle: string): vscode.Position {
  const offset = doc.getText().indexOf(needle);
  assert.ok(offset >= 0, `${needle} in the document`);
  return doc.positionAt(offset + needle.length);
}

function rangeOf(doc: vscode.TextDocument, needle: string): vscode.Range {
  const offset = doc.getText().indexOf(needle);
  assert.ok(offset >= 0, `${needle} in the document`);
  return new vscode.Range(doc.positionAt(offset), doc.positionAt(offset + needle.length));
}

async function openBpftrace(content: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument({ language: 'bpftrace', content });
  await vscode.window.showTextDocument(doc);
  await (await activeApi()).serverReady();
  return doc;
}

/** Diagnostics of `uri` once `accept` holds, awaiting the server's next publications. */
async function diagnosticsWhen(
  uri: vscode.Uri,
  accept: (list: readonly vscode.Diagnostic[]) => boolean,
  timeoutMs = 15_000,
): Promise<readonly vscode.Diagnostic[]> {
  const now = vscode.languages.getDiagnostics(uri);
  if (accept(now)) return now;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      const seen = vscode.languages.getDiagnostics(uri).map((d) => d.message);
      reject(new Error(`diagnostics did not settle within ${timeoutMs} ms: ${JSON.stringify(seen)}`));
    }, timeoutMs);
    const sub = vscode.languages.onDidChangeDiagnostics((event) => {
      if (!event.uris.some((u) => u.toString() === uri.toString())) return;
      const list = vscode.languages.getDiagnostics(uri);
      if (!accept(list)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(list);
    });
  });
}

function labelOf(item: vscode.CompletionItem): string {
  return typeof item.label === 'string' ? item.label : item.label.label;
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

export function registerLanguageSpecs(): void {
  describe('language features through the VS Code API (scenario 1)', () => {
    it('completes the fields of args-> with their C types', async () => {
      const doc = await openBpftrace(bindProbe);
      const list = await vscode.commands.executeCommand<vscode.CompletionList>(
        'vscode.executeCompletionItemProvider',
        doc.uri,
        positionAfter(doc, '$x = args->'),
      );
      const byLabel = new Map(list.items.map((i) => [labelOf(i), i]));
      for (const [field, type] of [
        ['fd', /\bint\b/],
        ['umyaddr', /struct sockaddr \*/],
        ['addrlen', /\bint\b/],
      ] as const) {
        const item = byLabel.get(field);
        assert.ok(item, `${field} offered; got ${[...byLabel.keys()].slice(0, 20).join(', ')}`);
        assert.equal(item.kind, vscode.CompletionItemKind.Field, `${field} is a field`);
        assert.match(String(item.detail), type, `${field}'s type`);
      }
    });

    it('reports a misspelled field at its range, and its quick fix repairs it', async () => {
      const doc = await openBpftrace(typoProbe);
      const typo = rangeOf(doc, 'umyadr');
      const diagnostics = await diagnosticsWhen(doc.uri, (l) => l.some((d) => d.message.includes('umyadr')));
      const diagnostic = diagnostics.find((d) => d.message.includes('umyadr'));
      assert.ok(diagnostic);
      assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
      assert.ok(diagnostic.range.isEqual(typo), `range ${JSON.stringify(diagnostic.range)} is the field's`);
      assert.match(diagnostic.message, /umyaddr/, 'suggests the right field');

      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        doc.uri,
        typo,
      );
      const fix = actions.find((a) => a.title.includes('umyaddr'));
      assert.ok(fix?.edit, `a quick fix with an edit; got ${actions.map((a) => a.title).join(' | ')}`);
      assert.ok(fix.kind && vscode.CodeActionKind.QuickFix.contains(fix.kind), 'it is a quick fix');
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.match(doc.getText(), /args->umyaddr\)/);
      await diagnosticsWhen(doc.uri, (l) => !l.some((d) => d.severity === vscode.DiagnosticSeverity.Error));
    });

    it('shows the type of a tracepoint field on hover', async () => {
      const doc = await openBpftrace(bindProbe);
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        doc.uri,
        positionAfter(doc, 'args->f'),
      );
      const text = hoverText(hovers);
      assert.match(text, /\bfd\b/);
      assert.match(text, /\bint\b/);
    });
  });
}
