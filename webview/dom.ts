// What the listeners page builds its DOM from: elements with text (never HTML: traced text only
// reaches the page as textContent), codicons, thread names, and the shape of one tree item with
// what the item builders are given to make one.
import type { FromWebviewMessage, ThreadRef } from '../common/listeners-protocol';

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function icon(name: string): HTMLElement {
  const span = el('span', `codicon codicon-${name}`);
  span.setAttribute('aria-hidden', 'true');
  return span;
}

export function who(t: ThreadRef | undefined): string {
  if (!t) return 'unknown thread';
  const tid = t.tid > 0 ? ` (${t.tid})` : '';
  return `${t.name}${tid}${t.nameThen ? `, named ${t.nameThen} then` : ''}`;
}

export interface ItemSpec {
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
  /** Shown under the row, indented with it (a chart): part of the item, not an item of its own. */
  body?: () => HTMLElement;
  children?: () => HTMLElement[];
}

/** What the builders of the state's items are given: the tree's item maker and the way out. */
export interface ItemKit {
  item(spec: ItemSpec, level: number): HTMLElement;
  post(message: FromWebviewMessage): void;
}
