/**
 * Building the page. Everything from devices, hosts and users is untrusted: it only ever becomes a
 * text node or an attribute value, never HTML (there is no innerHTML anywhere in the dashboard).
 */
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    // Anything that is not already a node becomes text (an unexpected object as its JSON, never markup).
    parent.appendChild(c instanceof Node ? c : document.createTextNode(typeof c === 'object' ? JSON.stringify(c) : String(c)));
  }
}

/** Replaces the content of `parent`. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

let toastTimer: number | undefined;
/** A short message in the status region (announced to screen readers). */
export function say(text: string): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (status.textContent = ''), 4000);
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** "1 host", "3 hosts". */
export const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
