// The console's shell: sign-in, navigation, and the routes (in the URL's fragment, so the server serves one page).

import * as api from './api.js';
import {fill, h, link} from './dom.js';
import * as machines from './machines.js';
import * as pages from './pages.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');

/** Routes: the fragment's path segments → [page, needs an admin token]. */
const ROUTES = [
  [/^$/, pages.namespaces, false],
  [/^nodes$/, pages.nodes, true],
  [/^audit$/, pages.clusterAudit, true],
  [/^ns\/([^/]+)\/machines$/, machines.list, false],
  [/^ns\/([^/]+)\/machines\/([^/]+)$/, machines.detail, false],
  [/^ns\/([^/]+)\/fleets$/, pages.fleets, false],
  [/^ns\/([^/]+)\/fleets\/([^/]+)$/, pages.fleet, false],
  [/^ns\/([^/]+)\/audit$/, pages.audit, false],
];

let admin = null;
let current = null; // the shown page's AbortController

function signInPage(reason) {
  const input = h('input', {id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false', placeholder: 'admin or namespace token'});
  const error = h('p', {class: 'error', role: 'alert'}, reason ?? '');
  const button = h('button', {type: 'submit'}, 'Sign in');
  const form = h('form', {class: 'sign-in', onsubmit: async event => {
    event.preventDefault();
    button.disabled = true;
    fill(error);
    try {
      admin = await api.signIn(input.value.trim());
      input.value = '';
      show();
    } catch (e) {
      fill(error, e.status === 401 ? 'That token is not known to this control plane.' : e.message);
    } finally {
      button.disabled = false;
    }
  }}, h('h1', {}, 'Sign in'),
  h('p', {class: 'muted'}, 'The token stays in this browser tab (session storage) and is sent only to this server.'),
  h('label', {for: 'token'}, 'API token'), input, button, error);
  fill(nav);
  signOutButton.hidden = true;
  fill(main, form);
  input.focus();
}

function navigation(section) {
  const item = (route, text, key) => h('a', {href: `#${route}`, 'aria-current': key === section ? 'page' : false},
    text);
  fill(nav, item('/', 'Namespaces', 'namespaces'),
    admin && item('/nodes', 'Nodes', 'nodes'),
    admin && item('/audit', 'Cluster audit', 'audit'));
}

async function show() {
  current?.abort();
  if (!api.token()) {
    signInPage();
    return;
  }
  const controller = current = new AbortController();
  try {
    admin ??= await api.isAdmin();
  } catch (e) {
    if (!api.token()) return; // signed out by a 401: the event shows the sign-in page
    fill(main, h('p', {class: 'error'}, e.message));
    return;
  }
  if (controller.signal.aborted) return;
  signOutButton.hidden = false;
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  for (const [pattern, page, adminOnly] of ROUTES) {
    const m = path.replace(/\/$/, '').match(pattern);
    if (!m) continue;
    navigation(page === pages.namespaces || m[0].startsWith('ns/') ? 'namespaces' : m[0]);
    if (adminOnly && !admin) {
      fill(main, h('p', {class: 'error'}, 'This page needs an admin token.'));
      return;
    }
    fill(main);
    await run(page, m.slice(1).map(decodeURIComponent), new URLSearchParams(query), controller.signal);
    return;
  }
  navigation(null);
  fill(main, h('p', {class: 'error'}, 'No such page. '), link('/', 'Namespaces'));
}

/**
 * Runs `page` in `main`. A page gets its route's parameters and a context: `signal` (aborted when the user leaves),
 * `every(ms, fn)` (runs fn now and every ms until then), `admin`, and `problem(error)` to show a failure.
 */
async function run(page, params, query, signal) {
  const status = h('p', {class: 'error', role: 'alert'});
  const ctx = {
    signal, admin, query,
    problem(e) {
      if (!signal.aborted && e.name !== 'AbortError') fill(status, e.message);
    },
    ok() {
      fill(status);
    },
    every(ms, fn) {
      const tick = async () => {
        if (signal.aborted) return;
        try {
          await fn();
          ctx.ok();
        } catch (e) {
          ctx.problem(e);
        }
        if (!signal.aborted) setTimeout(tick, ms);
      };
      return tick();
    },
  };
  const body = h('div', {class: 'page'});
  fill(main, status, body);
  try {
    await page(body, params, ctx);
  } catch (e) {
    ctx.problem(e);
  }
}

signOutButton.addEventListener('click', () => {
  history.replaceState(null, '', '#/'); // whoever signs in next starts from the namespaces
  api.signOut();
});
window.addEventListener('bolero:signed-out', () => {
  admin = null;
  current?.abort();
  signInPage('Signed out.');
});
window.addEventListener('hashchange', show);
show();
