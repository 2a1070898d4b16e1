// Builds DOM nodes with textContent only, so no value from the API is ever parsed as HTML.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Polling re-renders a section only when its data changed, so text selections, open
// links and scroll positions survive the refresh.
export class Section {
  constructor(node) {
    this.node = node;
    this.last = undefined;
  }

  show(data, render) {
    const key = JSON.stringify(data);
    if (key === this.last) return;
    this.last = key;
    this.node.replaceChildren(...[render(data)].flat());
  }
}
