// A namespace's machines: the list, and one machine's page (state, checks, stats, log, events, start and stop).

import * as api from './api.js';
import {cpuPercent, lineChart, memoryBytes} from './chart.js';
import {ago, badge, bytes, facts, fill, h, link, namespaceTabs, table, time} from './dom.js';

const enc = encodeURIComponent;
/** The log kept on the page, in characters: older text is dropped. */
const LOG_KEEP = 200_000;
const STATS_WINDOW_S = 3600;

function machinePath(ns, id) {
  return `/v1/namespaces/${enc(ns)}/machines/${enc(id)}`;
}

/** Start, suspend and stop buttons for `m` (start resumes a suspended one); `done` runs after the call. */
function actions(ns, m, ctx, done) {
  const call = verb => async event => {
    event.target.disabled = true;
    try {
      await api.post(`${machinePath(ns, m.id)}/${verb}`, undefined, ctx);
      await done();
    } catch (e) {
      ctx.problem(e);
      event.target.disabled = false;
    }
  };
  const secretive = (m.config.secrets || []).length > 0;
  return h('span', {class: 'actions'},
    h('button', {type: 'button', disabled: m.desired_state === 'running', onclick: call('start')}, 'Start'),
    h('button', {type: 'button', disabled: m.desired_state !== 'running' || secretive,
      title: secretive ? 'a machine with secrets cannot be suspended' : undefined, onclick: call('suspend')},
      'Suspend'),
    h('button', {type: 'button', class: 'danger', disabled: m.desired_state === 'stopped', onclick: call('stop')},
      'Stop'));
}

/** The namespace's machines (those of one fleet with ?fleet=NAME). */
export async function list(el, [ns], ctx) {
  const fleet = ctx.query.get('fleet');
  const rows = h('div');
  fill(el, namespaceTabs(ns, 'machines'),
    h('h1', {}, 'Machines',
      fleet && [' of fleet ', h('code', {}, fleet), ' ', link(`/ns/${enc(ns)}/machines`, '(all)')]),
    rows);
  const refresh = async () => {
    const q = fleet ? `?fleet=${enc(fleet)}` : '';
    const machines = (await api.all(`/v1/namespaces/${enc(ns)}/machines${q}`, 'id', ctx))
      .sort((a, b) => new Date(a.created_at) - new Date(b.created_at) || a.id.localeCompare(b.id));
    fill(rows, table([
      ['Name', m => link(`/ns/${enc(ns)}/machines/${enc(m.id)}`, m.name ?? m.id)],
      ['ID', m => h('code', {title: m.id}, m.id.slice(0, 12))],
      ['Fleet', m => m.fleet],
      ['State', m => badge(m.state)],
      ['Desired', m => m.desired_state],
      ['Node', m => m.node_id ? h('code', {title: m.node_id}, m.node_name ?? m.node_id.slice(0, 12)) : '—'],
      ['Image', m => m.config.image],
      ['Created', m => ago(m.created_at)],
      ['', m => actions(ns, m, ctx, refresh)],
    ], machines, 'No machines.'));
  };
  await ctx.every(3000, refresh);
}

/** One machine's page. */
export async function detail(el, [ns, id], ctx) {
  const path = machinePath(ns, id);
  const head = h('div', {class: 'head'});
  const about = h('div');
  const checks = h('section', {hidden: true});
  const stats = h('div', {class: 'stats'}, h('p', {class: 'muted'}, 'Loading stats…'));
  const events = h('div');
  const logs = logPane(path, ctx);
  fill(el, namespaceTabs(ns, 'machines'), head, about, checks,
    h('section', {}, h('h2', {}, 'Last hour'), stats),
    h('section', {}, h('h2', {}, 'Log'), logs),
    h('section', {}, h('h2', {}, 'Events ', h('button', {type: 'button', class: 'small',
      onclick: () => loadEvents().catch(ctx.problem)}, 'Refresh')), events));

  let machine = null;
  // The events come from the machine's node: asked again at each refresh until they come, one request at a time.
  let eventsShown = false;
  let eventsLoading = false;
  const loadEvents = async () => {
    if (eventsLoading) return;
    eventsLoading = true;
    try {
      const all = await api.get(`${path}/events`, ctx);
      fill(events, table([
        ['Time', e => time(e.time)],
        ['Event', e => e.type],
        ['State', e => badge(e.state)],
        ['Reason', e => [e.reason ?? '', e.exit_code !== null && e.exit_code !== undefined
          ? ` (exit ${e.exit_code})` : '']],
        ['Detail', e => e.detail],
      ], all.slice().reverse(), 'No events.'));
      eventsShown = true;
    } catch (e) {
      eventsShown = false;
      if (e.name !== 'AbortError') fill(events, h('p', {class: 'muted'}, `No events: ${e.message}`));
    } finally {
      eventsLoading = false;
    }
  };
  const refresh = async () => {
    const m = await api.get(path, ctx);
    const changed = !machine || machine.state !== m.state;
    machine = m;
    fill(head, h('h1', {}, m.name ?? m.id, ' ', badge(m.state)), actions(ns, m, ctx, refresh));
    const guest = m.config.guest;
    fill(about, facts([
      ['ID', h('code', {}, m.id)],
      ['Fleet', link(`/ns/${enc(ns)}/machines?fleet=${enc(m.fleet)}`, m.fleet)],
      ['Desired state', m.desired_state],
      ['Node', m.node_id ? h('code', {title: m.node_id}, m.node_name ?? m.node_id) : 'waiting for a node'],
      ['Image', m.config.image],
      ['Image digest', m.image_digest && h('code', {}, m.image_digest)],
      ['Size', `${guest.cpus} vCPU, ${bytes(guest.memory_mb * 1048576)}`],
      ['Private IP', m.private_ip],
      ['Exit code', m.exit_code],
      ['Error', m.error && h('span', {class: 'error'}, m.error)],
      ['Config version', `v${m.config_version}`],
      ['Created', time(m.created_at)],
      ['Updated', time(m.updated_at)],
    ]));
    showChecks(checks, m);
    if (changed || !eventsShown) loadEvents(); // not awaited: a node that does not answer holds up no refresh
  };
  await ctx.every(2000, refresh);
  ctx.every(15000, () => loadStats(stats, path, machine, ctx));
}

/** Its checks' last results when the API reports them, else the checks it is configured with. */
function showChecks(el, m) {
  const results = m.checks ?? [];
  const configured = Object.entries(m.config.checks ?? {});
  el.hidden = results.length === 0 && configured.length === 0;
  if (el.hidden) return;
  fill(el, h('h2', {}, 'Checks'), results.length > 0
    ? table([['Check', c => c.name], ['Status', c => badge(c.status)], ['Output', c => c.output ?? ''],
      ['Updated', c => ago(c.updated_at)]], results)
    : table([['Check', ([name]) => name], ['Type', ([, c]) => c.type],
      ['Target', ([, c]) => c.type === 'exec' ? (c.command ?? []).join(' ') : `${c.path ?? ''} port ${c.port}`],
      ['Every', ([, c]) => `${c.interval_s ?? 10} s`]], configured));
}

/** CPU and memory over the last hour, from GET …/stats; "no stats" where the API has none. */
async function loadStats(el, path, machine, ctx) {
  let stats;
  try {
    stats = await api.get(`${path}/stats?window_s=${STATS_WINDOW_S}`, ctx);
  } catch (e) {
    if (e instanceof api.ApiError && (e.status === 404 || e.status === 503)) {
      fill(el, h('p', {class: 'muted no-stats'}, 'No stats for this machine.'));
      return;
    }
    throw e;
  }
  const samples = stats.samples;
  if (samples.length === 0) {
    fill(el, h('p', {class: 'muted no-stats'}, 'No stats: the machine is not running.'));
    return;
  }
  const last = samples[samples.length - 1];
  const end = Date.parse(last.time);
  const cpus = machine?.config.guest.cpus ?? 1;
  const cpu = cpuPercent(samples, cpus);
  const now = cpu.length ? cpu[cpu.length - 1][1] : null;
  fill(el,
    h('figure', {}, lineChart({title: `CPU % of ${cpus} vCPU`, points: cpu, end, spanMs: STATS_WINDOW_S * 1000,
      max: 100, label: v => `${Math.round(v)} %`, cls: 'cpu'}),
    h('figcaption', {}, `CPU: ${now === null ? '—' : now.toFixed(1)} % of ${cpus} vCPU`)),
    h('figure', {}, lineChart({title: 'Memory', points: memoryBytes(samples), end, spanMs: STATS_WINDOW_S * 1000,
      max: last.memory.limit_bytes, label: bytes, cls: 'memory'}),
    h('figcaption', {}, `Memory: ${bytes(last.memory.bytes)} of ${bytes(last.memory.limit_bytes)}`)),
    h('p', {class: 'muted'}, `Network: ${bytes(last.network.rx_bytes)} in, ${bytes(last.network.tx_bytes)} out · `
      + `Disk: ${bytes(last.disk.read_bytes)} read, ${bytes(last.disk.write_bytes)} written`));
}

/** The log: the last lines, followed as they come while "Follow" is on. */
function logPane(path, ctx) {
  const out = h('pre', {class: 'log', 'aria-live': 'polite'});
  const note = h('span', {class: 'muted'});
  let following = null;
  const button = h('button', {type: 'button', onclick: () => (following ? stop() : follow())}, 'Follow log');
  const stop = () => {
    following?.abort();
    following = null;
    button.textContent = 'Follow log';
    fill(note);
  };
  const follow = () => {
    const controller = following = new AbortController();
    ctx.signal.addEventListener('abort', () => controller.abort());
    button.textContent = 'Stop following';
    out.textContent = '';
    fill(note, 'following…');
    api.streamText(`${path}/logs?follow=true&tail=200`, text => {
      const all = out.textContent + text;
      out.textContent = all.length > LOG_KEEP ? all.slice(all.length - LOG_KEEP) : all;
      out.scrollTop = out.scrollHeight;
    }, controller.signal)
      .then(() => 'the log ended', e => (e.name === 'AbortError' ? '' : `the log stopped: ${e.message}`))
      .then(why => {
        if (following !== controller) return;
        stop();
        fill(note, why);
      });
  };
  return h('div', {class: 'log-pane'}, h('div', {class: 'toolbar'}, button, ' ', note), out);
}
