// Tiny DOM helpers. Text goes in with textContent, attributes with setAttribute: never innerHTML, never HTML strings.

const $byId = (id) => document.getElementById(id);
export { $byId as byId };

/**
 * h('button', {class: 'x', type: 'button', onclick: fn, 'aria-label': '…'}, 'text', childNode, …)
 * Strings become text nodes; null/false children are skipped. `on*` keys with functions become listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** SVG element (icons), same rules as h(). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs || {})) if (value != null) el.setAttribute(name, String(value));
  for (const c of children) if (c) el.appendChild(c);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return el;
}

/** Replace every child of `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** An icon from a path list (stroke icons, 24×24). */
export function icon(...paths) {
  return svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' }, ...paths.map((d) => svg('path', { d })));
}
