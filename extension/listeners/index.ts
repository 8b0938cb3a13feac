// The Listeners capability: the listener state of this window (store.ts, fed by the trace event
// bus and by the commands), its webview (view.ts) and its commands (commands.ts).
import * as vscode from 'vscode';
import type { TraceEventBus } from '../../core/trace/session';
import type { FieldtraceContext } from '../context';
import type { NodeManager } from '../ssh/index';
import { registerListenerCommands } from './commands';
import { ListenerStore } from './store';
import { LISTENERS_VIEW_ID, ListenersView } from './view';

export function registerListeners(
  ctx: FieldtraceContext,
  { nodes, bus }: { nodes: NodeManager; bus: TraceEventBus },
): void {
  const store = new ListenerStore();
  ctx.track(bus.subscribe((e) => store.applyEvent(e)));
  const view = ctx.track(new ListenersView(ctx, store));
  ctx.track(vscode.window.registerWebviewViewProvider(LISTENERS_VIEW_ID, view));
  registerListenerCommands(ctx, store, view, nodes);
}
