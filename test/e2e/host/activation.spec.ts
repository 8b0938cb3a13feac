// Runs inside VS Code's extension host: the extension from the source folder activates on a
// .bt file, the language is bpftrace, a TextMate tokenizer exists for it, and the server answered
// `initialize`.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { FieldtraceApi } from '../../../extension/extension';

export const extensionId = 'fieldtrace.fieldtrace';

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

export async function activeApi(): Promise<FieldtraceApi> {
  const extension = vscode.extensions.getExtension<FieldtraceApi>(extensionId);
  assert.ok(extension, `${extensionId} is loaded`);
  return extension.activate();
}

export function registerActivationSpecs(): void {
  describe('activation in the extension host', () => {
    it('runs with the offline settings of the rig', () => {
      assert.equal(vscode.workspace.getConfiguration('update').get('mode'), 'none');
      assert.equal(vscode.workspace.getConfiguration('telemetry').get('telemetryLevel'), 'off');
      assert.equal(vscode.workspace.getConfiguration('extensions').get('autoCheckUpdates'), false);
    });

    it('gives a .bt file the bpftrace language and activates the extension', async () => {
      const doc = await vscode.workspace.openTextDocument(workspaceFile('binds.bt'));
      await vscode.window.showTextDocument(doc);
      assert.equal(doc.languageId, 'bpftrace');
      await activeApi();
      assert.equal(vscode.extensions.getExtension(extensionId)?.isActive, true);
    });

    it('recognises a script without extension by its bpftrace shebang', async () => {
      const doc = await vscode.workspace.openTextDocument(workspaceFile('listen-trace'));
      assert.equal(doc.languageId, 'bpftrace');
    });

    it('has a TextMate tokenizer for bpftrace', async () => {
      const uri = workspaceFile('binds.bt');
      // The workbench command resolves the tokenizer of the model's language and throws
      // "Cannot resolve tokenizer for language" when no grammar is registered for it.
      const result = await vscode.commands.executeCommand<{ tokenizeTime: number }>(
        '_workbench.colorizeTextMateTokens',
        uri,
      );
      assert.equal(typeof result?.tokenizeTime, 'number');
    });

    it('has a language server that answered initialize', async () => {
      const api = await activeApi();
      const info = await api.serverReady();
      assert.equal(info.serverName, 'fieldtrace-bpftrace');
      assert.match(info.serverVersion, /^\d+\.\d+\.\d+/);
    });

    it('registers its commands', async () => {
      const commands = await vscode.commands.getCommands(true);
      for (const id of ['fieldtrace.showServerStatus', 'fieldtrace.restartServer'])
        assert.ok(commands.includes(id), `${id} is registered`);
    });
  });
}
