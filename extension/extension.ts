// Wires the extension together, and only that: the shared context, the settings, the language
// client, the nodes and the trace event bus, handed to each capability (extension/<capability>/).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TraceEventBus } from '../core/trace/session';
import type { FieldtraceApi } from './api';
import { Configuration } from './configuration';
import { FieldtraceContext } from './context';
import { LanguageServerClient, registerLanguageServerCommands } from './language-client';
import { notify } from './notify';
import { registerListeners } from './listeners/index';
import { registerProbe } from './probe/index';
import { NodeManager } from './ssh/index';
import { registerStacks } from './stacks/index';
import { registerTrace } from './trace/index';

export type { FieldtraceApi } from './api';

let context: FieldtraceContext | undefined;

export async function activate(extensionContext: vscode.ExtensionContext): Promise<FieldtraceApi> {
  const ctx = (context = new FieldtraceContext(extensionContext));
  const configuration = ctx.track(new Configuration(ctx.log));
  const server = ctx.track(
    new LanguageServerClient(
      extensionContext.asAbsolutePath(path.join('dist', 'server.js')),
      ctx.log,
      configuration,
    ),
  );
  // One NodeManager: traces, snapshots and debug-binary lookups share one SSH connection (and one
  // host-key decision) per node.
  const nodes = ctx.track(
    new NodeManager({
      log: ctx.log,
      secrets: extensionContext.secrets,
      configuration,
      languageClient: () => server.running,
    }),
  );
  server.answerBinaryFacts((params) => nodes.binaryFacts(params));
  // Sessions publish every event here after logging it; the views subscribe. Nothing flows back.
  const bus = new TraceEventBus((error) =>
    ctx.log.error(`A trace event listener failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  registerLanguageServerCommands(ctx, server);
  registerListeners(ctx, { nodes, bus });
  registerProbe(ctx, { nodes, configuration });
  const stacks = registerStacks(ctx, { nodes, configuration, bus });
  registerTrace(ctx, {
    nodes,
    bus,
    configuration,
    languageClient: () => server.running,
    countInSource: (frames) => stacks.countInSource(frames),
  });
  try {
    await server.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.log.error(`Activation failed: ${message}`);
    void notify.error(`Fieldtrace could not start: ${message}`, 'Show Log').then((choice) => {
      if (choice) ctx.log.show();
    });
  }
  return server.api();
}

export async function deactivate(): Promise<void> {
  await context?.dispose();
  context = undefined;
}
