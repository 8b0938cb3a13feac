// The page's tree widget (WAI-ARIA tree): items that open and close, one focusable item (roving
// tabindex) and the keyboard. Which items are open and which one has focus is the only state the
// page keeps; the host saves it (vscode.setState) and re-renders when it changes.
import { el, icon, type ItemSpec } from './dom';

export interface TreeUi {
  /** Tree items opened or closed by the user, overriding each item's default. */
  open: Record<string, boolean>;
  focus?: string;
}

export interface TreeHost {
  /** Where the tree is rendered. */
  root: HTMLElement;
  ui: TreeUi;
  save(): void;
  render(): void;
}

type Activatable = HTMLElement & { activate?: () => void };

export class Tree {
  constructor(private readonly host: TreeHost) {}

  item(spec: ItemSpec, level: number): HTMLElement {
    const li: Activatable = el('li', spec.className);
    li.setAttribute('role', 'treeitem');
    li.setAttribute('aria-level', String(level));
    li.dataset.id = spec.id;
    li.tabIndex = -1;
    li.setAttribute(
      'aria-label',
      spec.aria ?? (spec.description ? `${spec.label}, ${spec.description}` : spec.label),
    );
    const row = el('div', 'row');
    const indent = `${(level - 1) * 12 + 4}px`;
    row.style.paddingLeft = indent;
    const hasChildren = spec.children !== undefined;
    const open = hasChildren && (this.host.ui.open[spec.id] ?? spec.defaultOpen ?? false);
    row.append(icon(hasChildren ? (open ? 'chevron-down' : 'chevron-right') : 'blank'), icon(spec.icon));
    row.append(el('span', 'label', spec.label));
    if (spec.description) row.append(el('span', 'description', spec.description));
    spec.decorate?.(row);
    li.append(row);
    if (spec.body) {
      const body = spec.body();
      body.classList.add('body');
      // Under the label: past the chevron and the icon.
      body.style.marginLeft = `calc(${indent} + 40px)`;
      li.append(body);
    }
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
      this.focusItem(li);
      if (hasChildren) this.toggle(spec.id, !open);
      spec.activate?.();
    });
    li.activate = () => {
      if (spec.activate) spec.activate();
      else if (hasChildren) this.toggle(spec.id, !open);
    };
    return li;
  }

  /** The items not inside a closed one, in document order. */
  visibleItems(): HTMLElement[] {
    return Array.from(this.host.root.querySelectorAll<HTMLElement>('[role="treeitem"]')).filter(
      (li) => !li.parentElement?.closest('[aria-expanded="false"]'),
    );
  }

  /** After a render: the focused item (else the first) takes the tab stop, and the focus if it had it. */
  restoreFocus(focused: string | undefined, hadFocus: boolean): void {
    const items = this.visibleItems();
    const target = items.find((li) => li.dataset.id === focused) ?? items[0];
    if (!target) return;
    target.tabIndex = 0;
    if (hadFocus && target.dataset.id === focused) target.focus();
  }

  readonly onKey = (event: KeyboardEvent): void => {
    const li = (event.target as HTMLElement).closest<Activatable>('[role="treeitem"]');
    if (!li) return;
    const items = this.visibleItems();
    const index = items.indexOf(li);
    const expanded = li.getAttribute('aria-expanded');
    const id = li.dataset.id!;
    const move = (to: HTMLElement | undefined): void => {
      if (to) this.focusItem(to);
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
        if (expanded === 'false') this.toggle(id, true);
        else if (expanded === 'true') move(items[index + 1]);
        break;
      case 'ArrowLeft':
        if (expanded === 'true') this.toggle(id, false);
        else move(li.parentElement?.closest<HTMLElement>('[role="treeitem"]') ?? undefined);
        break;
      case 'Enter':
      case ' ':
        li.activate?.();
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  private toggle(id: string, open: boolean): void {
    this.host.ui.open[id] = open;
    this.host.ui.focus = id;
    this.host.save();
    this.host.render();
  }

  private focusItem(li: HTMLElement): void {
    for (const other of Array.from(
      this.host.root.querySelectorAll<HTMLElement>('[role="treeitem"][tabindex="0"]'),
    ))
      other.tabIndex = -1;
    li.tabIndex = 0;
    li.focus();
    this.host.ui.focus = li.dataset.id;
    this.host.save();
  }
}
