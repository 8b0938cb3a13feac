// The listeners sidebar page. It renders the state the extension sends and keeps no model of its
// own; only which tree items are open and which one has focus survive (vscode.setState), so the
// view looks the same after it was hidden. Every incoming message is validated; traced text only
// ever reaches the page through textContent.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './listeners.css';
import {
  type FdView,
  type FromWebviewMessage,
  type ListenerState,
  type ListenerView,
  type ProcessView,
  type SocketView,
  type StepView,
  type ThreadRef,
  parseToWebview,
} from '../common/listeners-protocol';
import { fdStateWords, socketStateWords } from '../common/listener-states';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  /** Tree items opened or closed by the user, overriding each item's default. */
  open: Record<string, boolean>;
  focus?: string;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const saved = vscode.getState() as Partial<UiState> | undefined;
const ui: UiState = {
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

function saveUi(): void {
  vscode.setState(ui);
}

// ---- DOM helpers ------------------------------------------------------------------------------

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function icon(name: string): HTMLElement {
  const span = el('span', `codicon codicon-${name}`);
  span.setAttribute('aria-hidden', 'true');
  return span;
}

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

function who(t: ThreadRef | undefined): string {
  if (!t) return 'unknown thread';
  const tid = t.tid > 0 ? ` (${t.tid})` : '';
  return `${t.name}${tid}${t.nameThen ? `, named ${t.nameThen} then` : ''}`;
}

// ---- tree -------------------------------------------------------------------------------------

interface ItemSpec {
  id: string;
  label: string;
  description?: string;
  icon: string;
  /** Spoken label; defaults to label + description. */
  aria?: string;
  defaultOpen?: boolean;
  className?: string;
  /** Activation (Enter, click) besides opening/closing. */
  activate?: () => void;
  decorate?: (row: HTMLElement) => void;
  children?: () => HTMLElement[];
}

function item(spec: ItemSpec, level: number): HTMLElement {
  const li = el('li', spec.className);
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', String(level));
  li.dataset.id = spec.id;
  li.tabIndex = -1;
  li.setAttribute(
    'aria-label',
    spec.aria ?? (spec.description ? `${spec.label}, ${spec.description}` : spec.label),
  );
  const row = el('div', 'row');
  row.style.paddingLeft = `${(level - 1) * 12 + 4}px`;
  const hasChildren = spec.children !== undefined;
  const open = hasChildren && (ui.open[spec.id] ?? spec.defaultOpen ?? false);
  row.append(icon(hasChildren ? (open ? 'chevron-down' : 'chevron-right') : 'blank'), icon(spec.icon));
  row.append(el('span', 'label', spec.label));
  if (spec.description) row.append(el('span', 'description', spec.description));
  spec.decorate?.(row);
  li.append(row);
  if (hasChildren) {
    li.setAttribute('aria-expanded', String(open));
    if (open) {
      const group = el('ul');
      group.setAttribute('role', 'group');
      group.append(...spec.children!());
      li.append(group);
    }
  }
  row.addEventListener('click', (event) => {
    event.stopPropagation();
    focusItem(li);
    if (hasChildren) toggle(spec.id, !open);
    spec.activate?.();
  });
  (li as HTMLElement & { activate?: () => void }).activate = () => {
    if (spec.activate) spec.activate();
    else if (hasChildren) toggle(spec.id, !open);
  };
  return li;
}

function toggle(id: string, open: boolean): void {
  ui.open[id] = open;
  ui.focus = id;
  saveUi();
  render();
}

function visibleItems(): HTMLElement[] {
  return Array.from(app.querySelectorAll<HTMLElement>('[role="treeitem"]')).filter(
    (li) => !li.parentElement?.closest('[aria-expanded="false"]'),
  );
}

function focusItem(li: HTMLElement): void {
  for (const other of Array.from(app.querySelectorAll<HTMLElement>('[role="treeitem"][tabindex="0"]')))
    other.tabIndex = -1;
  li.tabIndex = 0;
  li.focus();
  ui.focus = li.dataset.id;
  saveUi();
}

function onTreeKey(event: KeyboardEvent): void {
  const li = (event.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]');
  if (!li) return;
  const items = visibleItems();
  const index = items.indexOf(li);
  const expanded = li.getAttribute('aria-expanded');
  const id = li.dataset.id!;
  const move = (to: HTMLElement | undefined): void => {
    if (to) focusItem(to);
  };
  switch (event.key) {
    case 'ArrowDown':
      move(items[index + 1]);
      break;
    case 'ArrowUp':
      move(items[index - 1]);
      break;
    case 'Home':
      move(items[0]);
      break;
    case 'End':
      move(items[items.length - 1]);
      break;
    case 'ArrowRight':
      if (expanded === 'false') toggle(id, true);
      else if (expanded === 'true') move(items[index + 1]);
      break;
    case 'ArrowLeft':
      if (expanded === 'true') toggle(id, false);
      else move(li.parentElement?.closest<HTMLElement>('[role="treeitem"]') ?? undefined);
      break;
    case 'Enter':
    case ' ':
      (li as HTMLElement & { activate?: () => void }).activate?.();
      break;
    default:
      return;
  }
  event.preventDefault();
}

// ---- the state as a tree ----------------------------------------------------------------------

function fdItem(base: string, f: FdView, level: number, showPid: boolean, socket: SocketView): HTMLElement {
  const parts: string[] = [];
  if (f.via === 'socket') parts.push('socket()');
  else if (f.via === 'fork') parts.push(`inherited (fork) from fd ${f.from}`);
  else if (f.via !== 'unknown') parts.push(`${f.via} of fd ${f.from}`);
  parts.push(`by ${who(f.owner)}`);
  // The fd's own call and the socket's state side by side, each named.
  parts.push(fdStateWords(f, who(f.listenedBy ?? f.owner)));
  if (f.open) parts.push(socketStateWords(socket));
  if (f.accepts) parts.push(`${f.accepts} accepts`);
  if (f.provenance !== 'traced')
    parts.push(f.provenance === 'pre-trace' ? 'opened before the trace' : `from ${f.provenance}`);
  const warn = f.kernel === 'missing-in-kernel';
  if (f.kernel === 'missing-in-kernel') parts.push('the kernel does not show it');
  else if (f.kernel === 'kernel-only') parts.push('seen only by the kernel snapshot');
  else if (f.kernel === 'agrees') parts.push('kernel agrees');
  return item(
    {
      id: `${base}/fd${f.pid}:${f.fd}`,
      label: `fd ${f.fd}${showPid ? ` · pid ${f.pid}` : ''}`,
      description: parts.join(' · '),
      icon: warn ? 'warning' : f.listening ? 'radio-tower' : f.open ? 'plug' : 'circle-slash',
      className: warn ? 'disagree' : f.open ? undefined : 'closed',
    },
    level,
  );
}

function socketItem(base: string, s: SocketView, level: number): HTMLElement {
  const id = `${base}/${s.id}`;
  const desc = [
    socketStateWords(s),
    s.inode !== undefined ? `inode ${s.inode}` : '',
    s.backlog !== undefined && s.backlog >= 0 ? `backlog ${s.backlog}` : '',
    s.boundBy ? `bound by ${who(s.boundBy)}` : '',
    `${s.fds.filter((f) => f.open).length} open fd(s)`,
    s.acceptedBy?.length ? `accepted by ${s.acceptedBy.map((a) => `${a.name} (${a.count})`).join(', ')}` : '',
  ].filter(Boolean);
  return item(
    {
      id,
      label: `socket ${s.id}`,
      description: desc.join(' · '),
      icon: 'symbol-interface',
      defaultOpen: true,
      className: s.closed ? 'closed' : undefined,
      children: () => [
        ...s.fds.map((f) => fdItem(id, f, level + 1, new Set(s.fds.map((x) => x.pid)).size > 1, s)),
        ...s.options.map((o) =>
          item(
            {
              id: `${id}/opt${o.level}:${o.optname}`,
              label: o.name,
              description: `${o.value === undefined ? '' : `= ${o.value} · `}set by ${who(o.by)}`,
              icon: 'settings-gear',
            },
            level + 1,
          ),
        ),
      ],
    },
    level,
  );
}

function acceptsItem(base: string, l: ListenerView, level: number): HTMLElement {
  const id = `${base}/accepts`;
  const max = Math.max(...l.accepts.map((a) => a.share), 0);
  return item(
    {
      id,
      label: 'Accepts per worker',
      description: `${l.totalAccepts} total`,
      icon: 'graph',
      defaultOpen: true,
      className: 'accepts',
      children: () => [
        ...(l.balance
          ? [
              item(
                {
                  id: `${id}/balance`,
                  label: l.balance.finding,
                  icon: l.balance.cv >= 0.25 && l.balance.workers > 1 ? 'warning' : 'info',
                  className: 'reason',
                },
                level + 1,
              ),
            ]
          : []),
        ...l.accepts.map((a) => {
          const admin = l.admin?.workers.find((w) => `wrk:worker_${w.worker}` === a.name);
          const pct = `${(a.share * 100).toFixed(1)}%`;
          const rate = a.ratePerSec === undefined ? '' : ` · ${a.ratePerSec.toFixed(1)}/s`;
          const adminText = admin ? ` · admin ${admin.total}` : '';
          return item(
            {
              id: `${id}/${a.pid}:${a.tid}`,
              label: a.name,
              description: `${a.count} · ${pct}${rate}${adminText}`,
              aria: `${a.name}: ${a.count} accepts, ${pct} of the listener${rate ? `, ${a.ratePerSec!.toFixed(1)} per second` : ''}${adminText ? `, Envoy admin counts ${admin!.total}` : ''}`,
              icon: 'person',
              className: 'worker',
              decorate: (row) => {
                const track = el('span', 'bar-track');
                const bar = el('span', 'bar');
                bar.style.width = `${max > 0 ? (a.share / max) * 100 : 0}%`;
                track.append(bar);
                row.append(track);
              },
            },
            level + 1,
          );
        }),
      ],
    },
    level,
  );
}

function stepItem(base: string, s: StepView, level: number): HTMLElement {
  const id = `${base}/step${s.seq}`;
  const frames = s.stack ?? [];
  const title = `${s.text} — ${who(s.thread)}`;
  const icons: Record<StepView['kind'], string> = {
    socket: 'add',
    bind: 'link',
    setsockopt: 'settings-gear',
    listen: 'radio-tower',
    dup: 'copy',
    fork: 'repo-forked',
    close: 'close',
    'first-accept': 'arrow-right',
  };
  return item(
    {
      id,
      label: s.text,
      description: `${who(s.thread)}${frames.length ? ` · ${frames.length} frames` : ''}`,
      icon: icons[s.kind],
      className: 'step',
      activate: frames.length ? () => post({ type: 'showStack', title, frames }) : undefined,
      children: frames.length
        ? () =>
            frames.map((frame, i) =>
              item(
                {
                  id: `${id}/f${i}`,
                  label: frame,
                  icon: 'symbol-method',
                  className: 'frame',
                  activate: () =>
                    post(
                      i > 0
                        ? { type: 'openFrame', frame, calleeFrame: frames[i - 1] }
                        : { type: 'openFrame', frame },
                    ),
                },
                level + 1,
              ),
            )
        : undefined,
    },
    level,
  );
}

function listenerItem(base: string, l: ListenerView, level: number): HTMLElement {
  const id = `${base}/${l.key}`;
  const label =
    l.family === 'unix'
      ? l.address || l.key
      : l.family === 'inet6'
        ? `[${l.address}]:${l.port}`
        : l.key.replace(/^inet /, '');
  return item(
    {
      id,
      label,
      description: [l.label, l.closed ? 'closed' : ''].filter(Boolean).join(' · '),
      aria: `${label}${l.label ? `, ${l.label}` : ''}, layout ${l.layout}${l.closed ? ', closed' : ''}`,
      icon: l.notes.length ? 'warning' : 'broadcast',
      defaultOpen: true,
      className: `listener${l.closed ? ' closed' : ''}`,
      decorate: (row) => {
        // A plain span: a custom element per listener per render costs more than the whole row.
        const badge = el('span', `badge layout layout-${l.layout}`, l.layout);
        row.append(badge);
      },
      children: () => {
        const children: HTMLElement[] = [
          item({ id: `${id}/why`, label: l.layoutReason, icon: 'info', className: 'reason' }, level + 1),
          ...l.notes.map((n, i) =>
            item({ id: `${id}/note${i}`, label: n, icon: 'warning', className: 'disagree' }, level + 1),
          ),
          ...l.sockets.map((s) => socketItem(id, s, level + 1)),
        ];
        if (l.accepts.length > 0) children.push(acceptsItem(id, l, level + 1));
        if (l.timeline.length > 0)
          children.push(
            item(
              {
                id: `${id}/timeline`,
                label: 'Timeline',
                description: `${l.timeline.length} steps${l.timelineDropped ? `, ${l.timelineDropped} older ones left out` : ''}`,
                icon: 'history',
                children: () => l.timeline.map((s) => stepItem(`${id}/timeline`, s, level + 2)),
              },
              level + 1,
            ),
          );
        return children;
      },
    },
    level,
  );
}

function processItem(p: ProcessView, level: number, showNode: boolean): HTMLElement {
  const id = `${p.node}/${p.pid}`;
  const workers = p.threads.filter((t) => !t.exited && t.tid !== 0).length;
  const desc = [
    `pid ${p.pid}`,
    showNode ? p.node : '',
    p.exited ? '' : `${workers} thread(s)`,
    p.parentPid !== undefined ? `child of ${p.parentPid}` : '',
    p.exited ? `ended${p.listeners.length ? ` · held ${p.listeners.map((l) => l.key).join(', ')}` : ''}` : '',
    p.snapshotAt ? `snapshot ${p.snapshotAt}` : '',
  ].filter(Boolean);
  return item(
    {
      id,
      label: p.name,
      description: desc.join(' · '),
      icon: p.exited ? 'debug-stop' : 'server-process',
      defaultOpen: true,
      className: 'process',
      children: () => {
        const children: HTMLElement[] = [];
        if (p.admin) {
          const a = p.admin;
          children.push(
            item(
              {
                id: `${id}/admin`,
                label: `Envoy admin ${a.address}`,
                description: a.error
                  ? `error: ${a.error}`
                  : `version ${a.version ?? '?'} · ${a.state ?? '?'} · concurrency ${a.concurrency ?? '?'}`,
                icon: a.error ? 'error' : 'dashboard',
                className: a.error ? 'disagree' : undefined,
              },
              level + 1,
            ),
          );
          if (a.statsNote)
            children.push(
              item(
                { id: `${id}/statsnote`, label: a.statsNote, icon: 'info', className: 'reason' },
                level + 1,
              ),
            );
        }
        p.notes.forEach((n, i) =>
          children.push(
            item({ id: `${id}/note${i}`, label: n, icon: 'warning', className: 'disagree' }, level + 1),
          ),
        );
        if (p.listeners.length === 0)
          children.push(
            item(
              {
                id: `${id}/none`,
                label: p.exited
                  ? 'Held no listening socket in this trace.'
                  : 'No listening sockets seen yet.',
                icon: 'info',
              },
              level + 1,
            ),
          );
        children.push(...p.listeners.map((l) => listenerItem(id, l, level + 1)));
        return children;
      },
    },
    level,
  );
}

/**
 * Processes still running, then the ended ones folded into one "ended" group (closed by default):
 * a process that exited (an Envoy before its hot restart) keeps what it held, out of the way.
 */
function processItems(list: ProcessView[], groupId: string, level: number, showNode: boolean): HTMLElement[] {
  const running = list.filter((p) => !p.exited);
  const ended = list.filter((p) => p.exited);
  const items = running.map((p) => processItem(p, level, showNode));
  if (ended.length)
    items.push(
      item(
        {
          id: `${groupId}/ended`,
          label: 'ended',
          description: `${ended.length} process(es) that exited · ${ended.reduce((n, p) => n + p.listeners.length, 0)} listener(s) they held`,
          icon: 'history',
          className: 'ended',
          children: () => ended.map((p) => processItem(p, level + 1, showNode)),
        },
        level,
      ),
    );
  return items;
}

/** A fleet: one item per node, its processes below, in the order the nodes first appear. */
function nodeItems(processes: ProcessView[]): HTMLElement[] {
  const byNode = new Map<string, ProcessView[]>();
  for (const p of processes) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
  return [...byNode].map(([node, list]) => {
    const listeners = list.reduce((n, p) => n + p.listeners.length, 0);
    const accepts = list.reduce((n, p) => n + p.listeners.reduce((m, l) => m + l.totalAccepts, 0), 0);
    return item(
      {
        id: `node:${node}`,
        label: node,
        description: `${list.length} process(es) · ${listeners} listener(s) · ${accepts} accepts`,
        icon: 'vm',
        defaultOpen: true,
        className: 'node',
        children: () => processItems(list, `node:${node}`, 2, false),
      },
      1,
    );
  });
}

// ---- page -------------------------------------------------------------------------------------

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
  const tree = el('ul', 'tree');
  tree.setAttribute('role', 'tree');
  const nodes = new Set(current.processes.map((p) => p.node));
  tree.setAttribute('aria-label', nodes.size > 1 ? 'Listeners by node and process' : 'Listeners by process');
  tree.addEventListener('keydown', onTreeKey);
  tree.append(
    ...(nodes.size > 1
      ? nodeItems(current.processes)
      : processItems(current.processes, 'processes', 1, true)),
  );
  app.append(tree);
  const items = visibleItems();
  const target = items.find((li) => li.dataset.id === focused) ?? items[0];
  if (target) {
    target.tabIndex = 0;
    if (hadFocus && target.dataset.id === focused) target.focus();
  }
}

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
  render();
});

render();
post({ type: 'ready' });
