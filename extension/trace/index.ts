// Trace sessions in the editor: the sessions (extension/trace/sessions.ts), their views (the
// Sessions tree, the status bar; each session's terminal and node diagnostics follow the event
// bus) and the four trace commands. The session log is written by core/trace/session.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TraceEventBus } from '../../core/trace/session';
import type { Configuration } from '../configuration';
import type { FieldtraceContext } from '../context';
import type { NodeManager } from '../ssh/index';
import type { LanguageClient } from 'vscode-languageclient/node';
import { registerTraceCommands } from './commands';
import { TraceFleets } from './fleet';
import { FoldedStackLinks } from './folded-stack-links';
import { type CountInSource, FoldedStacks } from './folded-stacks';
import { TraceSessions } from './sessions';
import { SessionsTree } from './sessions-tree';
import { TraceStatus } from './status';

export interface TraceDeps {
  nodes: NodeManager;
  bus: TraceEventBus;
  configuration: Configuration;
  /** The running language client: it checks a fleet's script on every picked node. */
  languageClient(): LanguageClient | undefined;
  /** How many frames of a stack resolve to source (the folded stack line says it). */
  countInSource: CountInSource;
}

export function registerTrace(
  ctx: FieldtraceContext,
  { nodes, bus, configuration, languageClient, countInSource }: TraceDeps,
): void {
  const foldedStacks = new FoldedStacks(countInSource);
  ctx.track(vscode.window.registerTerminalLinkProvider(new FoldedStackLinks(foldedStacks)));
  const sessions = ctx.track(
    new TraceSessions({
      log: ctx.log,
      nodes,
      bus,
      configuration,
      defaultLogDir: path.join(ctx.extension.globalStorageUri.fsPath, 'sessions'),
      foldedStacks,
    }),
  );
  const fleets = ctx.track(new TraceFleets({ sessions, nodes, languageClient, log: ctx.log }));
  const tree = ctx.track(new SessionsTree(sessions, fleets));
  ctx.track(vscode.window.registerTreeDataProvider('fieldtrace.sessions', tree));
  const status = ctx.track(new TraceStatus(sessions));
  const refresh = () => {
    tree.refresh();
    status.refresh();
  };
  ctx.track(sessions.onDidChange(refresh));
  ctx.track(fleets.onDidChange(refresh));
  // Event counts and rates move while a trace runs.
  const ticker = setInterval(() => {
    if (sessions.list(true).length) refresh();
  }, 1000);
  ctx.track({ dispose: () => clearInterval(ticker) });
  registerTraceCommands(ctx, sessions, fleets, nodes);
}
