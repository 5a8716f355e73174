// Building the page: elements from data, never HTML from strings (so no value the API returns can become markup).

/**
 * An element: h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [more, children]). Attributes whose value
 * is null, undefined or false are left out; `on…` attributes become event listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces everything in `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table of `rows` with a header; `columns` are [heading, row => cell content]. */
export function table(columns, rows, empty = 'None.') {
  if (rows.length === 0) return h('p', {class: 'muted'}, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([heading]) => h('th', {scope: 'col'}, heading)))),
    h('tbody', {}, rows.map(row => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(row)))))));
}

/** A definition list of [term, value] pairs, leaving out the pairs whose value is null or undefined. */
export function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(([, v]) => v !== null && v !== undefined)
    .map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** A state as a coloured badge (`running`, `stopped`, `failed`, `ready`, `down`, …). */
export function badge(state) {
  return h('span', {class: `badge state-${state}`}, state);
}

/** `time` (an ISO string) as a local date and time, its exact value in the tooltip. */
export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return h('time', {datetime: iso, title: iso}, d.toLocaleString());
}

/** How long ago `iso` was, roughly: 4 s, 3 min, 2 h, 5 d. */
export function ago(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  const text = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86400
    ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} d`;
  return h('time', {datetime: iso, title: iso}, `${text} ago`);
}

/** A byte count in binary units: 512 B, 1.5 KiB, 20.0 MiB. */
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** A link inside the console. */
export function link(route, ...children) {
  return h('a', {href: `#${route}`}, ...children);
}

/** The tabs of a namespace's pages. */
export function namespaceTabs(ns, tab) {
  const item = (page, text) => h('a', {href: `#/ns/${encodeURIComponent(ns)}/${page}`,
    'aria-current': page === tab ? 'page' : false}, text);
  return h('nav', {class: 'tabs', 'aria-label': `namespace ${ns}`},
    h('span', {class: 'ns'}, link('/', 'Namespaces'), ' / ', ns),
    item('machines', 'Machines'), item('fleets', 'Fleets'), item('audit', 'Audit log'));
}
