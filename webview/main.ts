// The listeners sidebar page. It renders the state the extension sends and keeps no model of its
// own; only which tree items are open and which one has focus survive (vscode.setState), so the
// view looks the same after it was hidden. Every incoming message is validated; traced text only
// ever reaches the page through textContent.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './listeners.css';
import { type FromWebviewMessage, type ListenerState, parseToWebview } from '../common/listeners-protocol';
import { el, icon, type ItemKit } from './dom';
import { nodeItems, processItems } from './process-items';
import { Tree, type TreeUi } from './tree';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const saved = vscode.getState() as Partial<TreeUi> | undefined;
const ui: TreeUi = {
  open: saved && typeof saved.open === 'object' && saved.open !== null ? saved.open : {},
  focus: typeof saved?.focus === 'string' ? saved.focus : undefined,
};
let current: ListenerState | undefined;
let error: string | undefined;
let busy: string | undefined;
let received = false;

function post(message: FromWebviewMessage): void {
  vscode.postMessage(message);
}

const tree = new Tree({ root: app, ui, save: () => vscode.setState(ui), render });
const kit: ItemKit = { item: (spec, level) => tree.item(spec, level), post };

function button(
  label: string,
  command: Extract<FromWebviewMessage, { type: 'command' }>['command'],
): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('secondary', '');
  b.dataset.command = command;
  b.addEventListener('click', () => post({ type: 'command', command }));
  return b;
}

function emptyState(): HTMLElement {
  const box = el('section', 'empty');
  box.setAttribute('aria-label', 'No listener state');
  box.append(
    el('h2', undefined, 'No listener state yet'),
    el(
      'p',
      undefined,
      'Run a listener trace on a node, open a saved trace log (.jsonl session log, bpftrace -f json output, or the seed article script output), or take a snapshot of a running process.',
    ),
  );
  const actions = el('div', 'toolbar');
  actions.append(button('Open Trace Log', 'openLog'), button('Take Node Snapshot', 'snapshot'));
  box.append(actions);
  return box;
}

function render(): void {
  const focused = ui.focus;
  const hadFocus = app.contains(document.activeElement);
  app.replaceChildren();
  app.setAttribute('aria-busy', String(!received));
  if (error) {
    const box = el('section', 'error');
    box.setAttribute('role', 'alert');
    box.append(icon('error'), el('span', undefined, error));
    app.append(box);
  }
  if (busy) {
    const line = el('p', 'busy', busy);
    line.setAttribute('role', 'status');
    app.append(line);
  }
  if (!current || current.processes.length === 0) {
    app.append(emptyState());
    return;
  }
  // With state on screen its actions live in the view's title bar and menu, not in the page.
  const summary = el(
    'p',
    'summary',
    `${current.events} events · ${current.malformed} unreadable · ${current.lostEvents} lost${current.sources.length ? ` · ${current.sources.join(', ')}` : ''}`,
  );
  if (current.lostWarning) {
    const box = el('section', 'error');
    box.setAttribute('role', 'alert');
    box.append(icon('warning'), el('span', undefined, current.lostWarning));
    app.append(box);
  }
  app.append(summary);
  for (const m of current.messages) app.append(el('p', 'message', m));
  const list = el('ul', 'tree');
  list.setAttribute('role', 'tree');
  const nodes = new Set(current.processes.map((p) => p.node));
  list.setAttribute('aria-label', nodes.size > 1 ? 'Listeners by node and process' : 'Listeners by process');
  list.addEventListener('keydown', tree.onKey);
  list.append(
    ...(nodes.size > 1
      ? nodeItems(kit, current.processes)
      : processItems(kit, current.processes, 'processes', 1, true)),
  );
  app.append(list);
  tree.restoreFocus(focused, hadFocus);
}

// A render replaces every row: one between a press and its release would lose the click (the
// pressed row is gone), and a live trace renders up to ten times a second. So a press holds the
// renders, and the release lets the held one run after its click; a release the page never sees
// (the pointer left the frame) holds them no longer than HOLD_MS.
const HOLD_MS = 1000;
let pressed = false;
let held: ReturnType<typeof setTimeout> | undefined;
app.addEventListener('pointerdown', () => (pressed = true));
function renderWhenReleased(): void {
  if (pressed) held ??= setTimeout(release, HOLD_MS);
  else render();
}
function release(): void {
  pressed = false;
  if (held === undefined) return;
  clearTimeout(held);
  held = undefined;
  // pointerup comes before mouseup and click, in the same task: render after them.
  setTimeout(render, 0);
}
window.addEventListener('pointerup', release, true);
window.addEventListener('pointercancel', release, true);
// A press that ends outside the page: the page loses the focus (the window's own blur only).
window.addEventListener('blur', release);

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseToWebview(event.data);
  if (!message) {
    console.warn('listeners view: ignored a malformed message');
    return;
  }
  received = true;
  if (message.type === 'state') {
    current = message.state;
    error = undefined;
    busy = undefined;
  } else if (message.type === 'error') {
    error = message.message;
    busy = undefined;
  } else busy = message.message;
  renderWhenReleased();
});

render();
post({ type: 'ready' });
