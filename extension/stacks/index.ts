// Stack frames as links to C++ source: in Fieldtrace terminals, in an opt-in way in plain-text
// and log files, in the Stacks view, and through `fieldtrace.openFrame(frame, calleeFrame?)`
// that the other views call.
import * as vscode from 'vscode';
import type { Resolution } from '../../core/stacks/resolution';
import type { TraceEventBus } from '../../core/trace/session';
import type { Configuration } from '../configuration';
import type { FieldtraceContext } from '../context';
import type { NodeManager } from '../ssh/index';
import { FrameDocumentLinks, FrameTerminalLinks } from './links';
import { newestWins, openFrame, openFrameSource, openResolution } from './open-frame';
import { StackService } from './service';
import { StacksTree } from './stacks-tree';
import { stackTitle } from '../../core/trace/render-text';

export function registerStacks(
  ctx: FieldtraceContext,
  { nodes, configuration, bus }: { nodes: NodeManager; configuration: Configuration; bus: TraceEventBus },
): StackService {
  const service = ctx.track(new StackService(ctx, nodes, configuration));
  const tree = new StacksTree(service);
  const view = ctx.track(
    vscode.window.createTreeView('fieldtrace.stacks', { treeDataProvider: tree, showCollapseAll: true }),
  );

  // Registered first and synchronously: other views call it as soon as they show a frame.
  const opens = newestWins();
  const openNewest = (frame: string, calleeFrame?: string) =>
    openFrame(service, frame, calleeFrame, opens.start());
  ctx.registerCommand('fieldtrace.openFrame', openNewest);
  ctx.registerCommand('fieldtrace.showStack', async (frames: string[], title?: string) => {
    if (!Array.isArray(frames) || frames.some((f) => typeof f !== 'string')) {
      throw new Error('fieldtrace.showStack expects an array of frame strings');
    }
    // The view takes the focus at once, while the click is fresh: after the frames resolve
    // (DWARF over SSH can take seconds) it would pull the focus from whatever the user did next.
    await vscode.commands.executeCommand('fieldtrace.stacks.focus');
    const stack = await tree.show(frames, typeof title === 'string' ? title : 'Stack');
    // The asked-for stack on screen, even when the view was scrolled down the older ones.
    await view.reveal(stack, { select: true, focus: false, expand: true });
  });
  ctx.track(followLatestStack(bus, tree));
  ctx.registerCommand('fieldtrace.openFrameSource', () => openFrameSource(service, opens.start()));
  ctx.registerCommand('fieldtrace.reindexSources', () => service.rebuild());
  ctx.registerCommand('fieldtrace.stacks.openResolution', (r: Resolution) => openResolution(r));

  ctx.track(vscode.window.registerTerminalLinkProvider(new FrameTerminalLinks(openNewest)));
  ctx.track(
    vscode.languages.registerDocumentLinkProvider(
      [{ language: 'plaintext' }, { language: 'log' }],
      new FrameDocumentLinks(configuration),
    ),
  );
  // Index in the background once there is something to index; links wait for it when clicked.
  if (service.roots().length) {
    setTimeout(() => void service.ready().catch((e: unknown) => ctx.log.error(`Stacks: ${String(e)}`)), 1000);
  }
  return service;
}

// A burst of stacked events (a process starting its workers) shows its last stack once.
const FOLLOW_DELAY_MS = 300;

/**
 * The Stacks view follows the latest event of any session that has a stack, without taking the
 * focus; a click on a folded stack line or a timeline step still shows that one.
 */
function followLatestStack(bus: TraceEventBus, tree: StacksTree): vscode.Disposable {
  let latest: { frames: string[]; title: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const subscription = bus.subscribe((e) => {
    const event = e.event;
    if (!('stack' in event) || !event.stack?.length) return;
    latest = { frames: event.stack, title: stackTitle(event) };
    timer ??= setTimeout(() => {
      timer = undefined;
      const shown = latest;
      latest = undefined;
      if (shown) void tree.show(shown.frames, shown.title);
    }, FOLLOW_DELAY_MS);
  });
  return {
    dispose: () => {
      subscription.dispose();
      clearTimeout(timer);
    },
  };
}
