// What the listeners page builds its DOM from: elements with text (never HTML: traced text only
// reaches the page as textContent), codicons, thread names, and the shape of one tree item.
import type { ThreadRef } from '../common/listeners-protocol';

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
  children?: () => HTMLElement[];
}
