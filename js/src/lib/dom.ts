// Tiny element builder. Text always goes through textContent, never innerHTML, so
// run names and server messages that contain markup show as text (case 38).

export type Attrs = Record<
  string,
  string | number | boolean | null | undefined | EventListener
>;
export type Child = Node | string | number | null | undefined | false;

/** Build `<tag>` with attributes, `on<event>` listeners and children (text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, ...children);
  return el;
}

function setAttrs(el: HTMLElement, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(key.replace(/^on/, "").toLowerCase(), value);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

/** Append children; strings and numbers become text nodes. */
export function append(el: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(
      typeof child === "object" ? child : document.createTextNode(String(child)),
    );
  }
}

/**
 * `text` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, for user text
 * placed inside our own words in an attribute (title, aria-label), where no
 * element can isolate it: an open right-to-left override in a run or task name
 * then cannot reverse the words after it.
 */
export function isolated(text: string): string {
  return `\u2068${text}\u2069`;
}

/** Replace every child of `el`. */
export function replaceChildren(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, ...children);
}
