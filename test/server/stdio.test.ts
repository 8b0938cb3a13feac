// The bundled server on its own, as Neovim/Helix/Emacs start it: `node dist/server.js --stdio`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';

const bundle = join(__dirname, '../../dist/server.js');

test(
  'node dist/server.js --stdio serves diagnostics and exits on exit',
  { skip: !existsSync(bundle) && process.env.CI !== 'true' },
  async () => {
    const child = spawn(process.execPath, [bundle, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const client = createProtocolConnection(
      new StreamMessageReader(child.stdout),
      new StreamMessageWriter(child.stdin),
    );
    try {
      const diagnostics = new Promise<PublishDiagnosticsParams>((resolve) =>
        client.onNotification(PublishDiagnosticsNotification.type, resolve),
      );
      client.listen();
      const init = await client.sendRequest(InitializeRequest.type, {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { bpftraceVersion: '0.17' },
      });
      assert.equal(init.serverInfo?.name, 'fieldtrace-bpftrace');
      await client.sendNotification(InitializedNotification.type, {});
      await client.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: {
          uri: 'file:///tmp/x.bt',
          languageId: 'bpftrace',
          version: 1,
          text: 'BEGIN { printf("%d\\n"); }\n',
        },
      });
      const published = await diagnostics;
      assert.deepEqual(
        published.diagnostics.map((d) => d.code),
        ['printf-format'],
      );
      await client.sendRequest(ShutdownRequest.type);
      await client.sendNotification(ExitNotification.type);
      assert.equal(await exited, 0);
    } finally {
      client.dispose();
      if (child.exitCode === null) child.kill();
    }
  },
);
