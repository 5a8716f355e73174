// The console's pages other than machines: namespaces, fleets (their releases and deployments), nodes, and the audit
// logs.

import * as api from './api.js';
import {ago, badge, bytes, fill, h, link, namespaceTabs, table, time} from './dom.js';

const enc = encodeURIComponent;

/** The namespaces the token may see. */
export async function namespaces(el, _, ctx) {
  const list = h('div');
  fill(el, h('h1', {}, 'Namespaces'), list);
  await ctx.every(10000, async () => {
    const all = await api.all('/v1/namespaces', 'name', ctx);
    fill(list, table([
      ['Name', n => link(`/ns/${enc(n.name)}/machines`, n.name)],
      ['Created', n => time(n.created_at)],
      ['', n => h('span', {class: 'links'}, link(`/ns/${enc(n.name)}/fleets`, 'fleets'), ' ',
        link(`/ns/${enc(n.name)}/audit`, 'audit log'))],
    ], all, 'No namespaces yet: an admin creates them (bolero namespace create NAME).'));
  });
}

/** A namespace's fleets: their size, config version and machines still on an older config. */
export async function fleets(el, [ns], ctx) {
  const list = h('div');
  fill(el, namespaceTabs(ns, 'fleets'), h('h1', {}, 'Fleets'), list);
  await ctx.every(5000, async () => {
    const all = await api.all(`/v1/namespaces/${enc(ns)}/fleets`, 'name', ctx);
    fill(list, table([
      ['Name', f => link(`/ns/${enc(ns)}/machines?fleet=${enc(f.name)}`, f.name)],
      ['Machines', f => f.count ?? 'by hand'],
      ['Config', f => `v${f.config_version}`],
      ['Outdated', f => f.outdated_machines > 0
        ? h('span', {class: 'warn'}, `${f.outdated_machines} on an older config`) : '—'],
      ['Image', f => f.config?.image ?? '—'],
      ['Placement', f => [f.strategy, f.region && ` in ${f.region}`,
        Object.entries(f.node_labels).map(([k, v]) => ` ${k}=${v}`).join('')]],
      ['Updated', f => ago(f.updated_at)],
      ['', f => link(`/ns/${enc(ns)}/fleets/${enc(f.name)}`, 'releases')],
    ], all, 'No fleets in this namespace.'));
  });
}

/** A fleet's releases and deployments, newest first, each list followed page by page. */
export async function fleet(el, [ns, name], ctx) {
  const releases = h('div');
  const deployments = h('div');
  fill(el, namespaceTabs(ns, 'fleets'), h('h1', {}, `Fleet ${name}`), h('h2', {}, 'Deployments'), deployments,
    h('h2', {}, 'Releases'), releases);
  const path = `/v1/namespaces/${enc(ns)}/fleets/${enc(name)}`;
  await ctx.every(5000, async () => {
    const [rs, ds] = await Promise.all([api.all(`${path}/releases`, 'version', ctx),
      api.all(`${path}/deployments`, 'id', ctx)]);
    fill(deployments, table([
      ['Status', d => badge(d.status)],
      ['Release', d => `v${d.from_version} → v${d.to_version}`],
      ['Strategy', d => `${d.policy.strategy}, max_unavailable ${d.policy.max_unavailable}`],
      ['Progress', d => d.message ?? d.steps.at(-1)?.message ?? '—'],
      ['Started', d => time(d.created_at)],
      ['Updated', d => ago(d.updated_at)],
    ], ds, 'No deployments yet (bolero deploy).'));
    fill(releases, table([
      ['Version', r => [`v${r.version}`, r.current ? [' ', badge('current')] : '']],
      ['Image', r => r.config?.image ?? '—'],
      ['Created', r => time(r.created_at)],
    ], rs, 'No releases.'));
  });
}

function capacity(used, total, unit) {
  return h('div', {class: 'capacity'},
    h('meter', {min: 0, max: Math.max(total, 1), value: used, low: total * 0.7, high: total * 0.9,
      optimum: 0}),
    h('span', {}, `${unit(used)} / ${unit(total)}`));
}

/** The cluster's nodes, with their capacity and the cordon, uncordon and drain actions (admin). */
export async function nodes(el, _, ctx) {
  const list = h('div');
  fill(el, h('h1', {}, 'Nodes'), list);
  const act = async (node, verb) => {
    if (verb === 'drain' && !confirm(`Drain ${node.name}? Its machines move to other nodes.`)) return;
    try {
      await api.post(`/v1/nodes/${enc(node.id)}/${verb}`, undefined, ctx);
      await refresh();
    } catch (e) {
      ctx.problem(e);
    }
  };
  const refresh = async () => {
    const all = await api.all('/v1/nodes', 'id', ctx);
    fill(list, table([
      ['Name', n => h('span', {title: n.id}, n.name)],
      ['State', n => badge(n.state)],
      ['CPUs', n => capacity(n.allocated.cpus, n.capacity.cpus, c => `${c}`)],
      ['Memory', n => capacity(n.allocated.memory_mb * 1048576, n.capacity.memory_mb * 1048576, bytes)],
      ['Machines', n => n.machines],
      ['Drivers', n => n.drivers.join(', ')],
      ['Heartbeat', n => ago(n.heartbeat_at)],
      ['', n => h('span', {class: 'actions'},
        h('button', {type: 'button', disabled: n.state === 'cordoned', onclick: () => act(n, 'cordon')}, 'Cordon'),
        h('button', {type: 'button', disabled: n.state === 'ready', onclick: () => act(n, 'uncordon')},
          'Uncordon'),
        h('button', {type: 'button', class: 'danger', disabled: n.state === 'draining',
          onclick: () => act(n, 'drain')}, 'Drain'))],
    ], all, 'No nodes have joined.'));
  };
  await ctx.every(3000, refresh);
}

/** An audit entry's object: a link to the machine's page when it is a machine's path. */
function objectLink(object) {
  const m = object.match(/^\/v1\/namespaces\/([^/]+)\/machines\/([^/]+)/);
  return m ? link(`/ns/${m[1]}/machines/${m[2]}`, object) : object;
}

/** A namespace's audit log. */
export function audit(el, [ns], ctx) {
  return auditLog(el, `/v1/namespaces/${enc(ns)}/audit`, ctx, namespaceTabs(ns, 'audit'), `Audit log`);
}

/** The audit log of the cluster's own objects (admin). */
export function clusterAudit(el, _, ctx) {
  return auditLog(el, '/v1/audit', ctx, null, 'Cluster audit log');
}

const AUDIT_PAGES = 10;

/**
 * An audit log, newest entry first: its entries are read oldest first, page after page (up to AUDIT_PAGES pages),
 * with the action and time filters of the form.
 */
async function auditLog(el, path, ctx, tabs, title) {
  const action = h('input', {name: 'action', placeholder: 'e.g. stopMachine', value: ctx.query.get('action') ?? ''});
  const since = h('input', {name: 'since', type: 'datetime-local'});
  const list = h('div');
  const load = async () => {
    const q = new URLSearchParams();
    if (action.value.trim()) q.set('action', action.value.trim());
    if (since.value) q.set('since', new Date(since.value).toISOString());
    const {items: entries, more} = await api.pages(q.size ? `${path}?${q}` : path, 'seq', ctx, AUDIT_PAGES);
    entries.reverse();
    fill(list, more && h('p', {class: 'warn'}, `Showing the first ${entries.length} entries: narrow the time.`),
      table([
        ['Seq', e => e.seq],
        ['Time', e => time(e.time)],
        ['Action', e => h('code', {}, e.action)],
        ['Object', e => objectLink(e.object)],
        ['Status', e => h('span', {class: e.status >= 400 ? 'error' : ''}, e.status)],
        ['Token', e => e.token_id ?? '—'],
        ['Source', e => e.source ?? '—'],
      ], entries, 'No entries.'));
  };
  const form = h('form', {class: 'filters', onsubmit: event => {
    event.preventDefault();
    load().then(ctx.ok, ctx.problem);
  }}, h('label', {}, 'Action ', action), h('label', {}, 'Since ', since), h('button', {type: 'submit'}, 'Filter'));
  fill(el, tabs, h('h1', {}, title), form, list);
  await load();
}
