// Cases (investigations): the queue, and one case with its evidence track
// on the map, its notes, and the actions (warn, suspend, deactivate,
// clear) with the notice the account holder gets.
import { api } from './api.js';
import { createMap, fill, h, idle, linkRow, loadAvailability, pager } from './basemap.js';

const ALLOW = '#1e7f45';
const DENY = '#c62828';
const GROUNDS = ['unauthorized_region', 'smuggling', 'drone', 'spoofing', 'sanctions', 'court_order', 'terms', 'false_positive', 'review'];

function when(t) { return t ? t.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : ''; }

export async function casesView(root, { me, params }) {
  const list = h('tbody');
  const detail = h('section', { class: 'card', id: 'case' }, h('p', {}, 'Choose a case to see its evidence and act on it.'));
  const state = h('select', { id: 'case-state', 'aria-label': 'Cases in state' },
    ['', 'open', 'investigating', 'actioned', 'closed'].map((s) => h('option', { value: s }, s || 'all states')));
  const assignee = h('input', { id: 'case-assignee', placeholder: 'assignee', 'aria-label': 'Assigned to' });
  // The queue comes a page at a time: "More cases" reads the next page
  // from where the last one ended (next_cursor) and adds it below.
  const more = h('button', { type: 'button', id: 'more-cases', hidden: true }, 'More cases');
  root.replaceChildren(h('div', { class: 'page split' },
    h('section', { class: 'card' },
      h('h2', {}, 'Cases'),
      h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); loadList(); } },
        state, assignee, h('button', { type: 'submit' }, 'Filter')),
      h('table', {}, h('thead', {}, h('tr', {}, ['Case', 'Terminal', 'State', 'Assignee', 'Updated'].map((c) => h('th', {}, c)))), list),
      more),
    detail));

  const loadList = pager(list, more, {
    key: 'cases', empty: 'No case.', cols: 5,
    fetchPage: (cursor) => {
      const q = new URLSearchParams();
      if (state.value) q.set('state', state.value);
      if (assignee.value) q.set('assignee', assignee.value);
      if (cursor) q.set('cursor', cursor);
      return api('GET', `/v1/cases?${q}`);
    },
    row: (c) => linkRow(`#/cases/${encodeURIComponent(c.id)}`, c.id, c.id === params[0],
      h('td', {}, c.title || c.id), h('td', {}, c.terminal_id || ''), h('td', {}, h('span', { class: 'badge' }, c.state)),
      h('td', {}, c.assignee || '—'), h('td', {}, when(c.updated_at))),
  });
  await loadList();
  let cleanupMap = null;
  if (params[0]) cleanupMap = await showCase(detail, params[0], me, loadList);
  document.body.dataset.ready = '1';
  return () => { if (cleanupMap) cleanupMap(); };
}

// showCase draws one case into el. result is the line that reports the
// last step; a re-draw after a step keeps it, so it says "Done." only
// once the page shows the step's outcome.
async function showCase(el, id, me, reloadList, result = h('p', { id: 'case-result', role: 'alert' })) {
  const path = `/v1/cases/${encodeURIComponent(id)}`;
  const { case: c, evidence } = await api('GET', path);
  const can = me.role === 'admin' || me.role === 'investigator';
  const run = (fn) => async (e) => {
    if (e) e.preventDefault();
    result.className = '';
    result.textContent = 'Working…';
    try {
      await fn();
      await reloadList();
      const again = await showCase(el, id, me, reloadList, result);
      if (again) cleanups.push(again);
      result.className = 'okmsg';
      result.textContent = 'Done.';
    } catch (x) {
      result.className = 'error';
      result.textContent = x.message;
    }
  };
  const cleanups = [];

  const action = h('select', { id: 'action', 'aria-label': 'Action' }, ['warn', 'suspend', 'deactivate', 'clear'].map((a) => h('option', { value: a }, a)));
  const grounds = h('select', { id: 'grounds', 'aria-label': 'Grounds' }, GROUNDS.map((g) => h('option', { value: g }, g.replace('_', ' '))));
  const reason = h('input', { id: 'action-reason', required: true, placeholder: 'Why (kept in the record)', 'aria-label': 'Reason' });
  const notice = h('textarea', { id: 'action-notice', rows: 3, placeholder: 'What the account holder is told', 'aria-label': 'Notice to the account holder' });
  const note = h('input', { id: 'note-text', placeholder: 'A note', 'aria-label': 'Note' });
  const who = h('input', { id: 'assignee', placeholder: 'person', 'aria-label': 'Assign to', value: c.assignee || '' });

  const alerts = (evidence && evidence.alerts) || [];
  const fixes = new Map();
  for (const a of alerts) for (const ev of a.evidence || []) fixes.set(ev.time, ev);
  const st = evidence && evidence.state;
  if (st && st.fix) fixes.set(st.fix.time, { ...st.fix, allow: st.allow, reason: st.reason });
  const track = [...fixes.values()].sort((a, b) => a.time.localeCompare(b.time));
  const mapEl = h('div', { class: 'minimap', role: 'img', 'aria-label': 'The evidence track: the terminal\'s fixes, green where allowed, red where denied' });

  fill(el,
    h('h2', {}, c.title || c.id, ' ', h('span', { class: 'badge', id: 'case-state-badge' }, c.state)),
    h('p', {}, 'Terminal ', h('code', {}, c.terminal_id || '—'), c.account_id ? ` · account ${c.account_id}` : '', c.region ? ` · ${c.region}` : '',
      ` · opened by ${c.opened_by.person} ${when(c.created_at)}`, c.assignee ? ` · assigned to ${c.assignee}` : ''),
    evidence && evidence.terminal ? h('p', {}, 'Terminal status: ', h('b', { id: 'case-terminal-status' }, evidence.terminal.status)) : null,
    st ? h('p', {}, 'Last decision: ', h('span', { class: st.allow ? 'allow' : 'deny', id: 'case-decision' }, st.allow ? 'allowed' : `denied (${st.reason})`),
      ` at ${when(st.fix.time)}`) : null,
    h('h3', {}, 'Evidence'),
    track.length ? mapEl : h('p', { class: 'small' }, 'No fix kept as evidence.'),
    alerts.map((a) => h('p', {}, h('span', { class: `badge ${a.severity === 'high' ? 'bad' : 'warn'}` }, a.detector), ' ', a.summary)),
    can && c.state !== 'closed' ? h('form', { class: 'card', id: 'action-form', onsubmit: run(() => api('POST', `${path}/actions`, { action: action.value, grounds: grounds.value, reason: reason.value, notice: notice.value })) },
      h('h3', {}, 'Act'),
      h('div', { class: 'filters' }, h('label', {}, 'Action', action), h('label', {}, 'Grounds', grounds)),
      h('p', {}, reason), h('p', {}, notice),
      h('button', { type: 'submit', class: 'danger', id: 'act' }, 'Apply')) : null,
    result,
    h('h3', {}, 'Actions'),
    (c.actions || []).length ? h('ul', {}, c.actions.map((a) => h('li', {}, h('b', {}, a.action), ` (${a.state}, ${a.grounds}) by ${a.by.person}: ${a.reason}`,
      a.notice ? h('div', { class: 'small' }, 'Notice: ', a.notice.withheld ? `withheld (${a.notice.withheld})` : a.notice.text) : null))) : h('p', { class: 'small' }, 'None yet.'),
    h('h3', {}, 'Notes'),
    (c.notes || []).length ? h('ul', {}, c.notes.map((n) => h('li', {}, h('b', {}, n.by.person), ` ${when(n.at)}: ${n.text}`))) : h('p', { class: 'small' }, 'None yet.'),
    can ? h('form', { class: 'filters', onsubmit: run(() => api('POST', `${path}/notes`, { text: note.value })) }, note, h('button', { type: 'submit' }, 'Add note')) : null,
    can ? h('form', { class: 'filters', onsubmit: run(() => api('POST', `${path}/assign`, { assignee: who.value })) }, who, h('button', { type: 'submit' }, 'Assign')) : null,
  );
  if (!track.length) return null;
  const { map, loaded } = createMap(mapEl, await loadAvailability(), { muted: true });
  await loaded;
  map.addSource('track', {
    type: 'geojson',
    data: {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: track.map((f) => [f.lon, f.lat]) } },
        ...track.map((f) => ({ type: 'Feature', properties: { allow: f.allow }, geometry: { type: 'Point', coordinates: [f.lon, f.lat] } })),
      ],
    },
  });
  map.addLayer({ id: 'track-line', type: 'line', source: 'track', paint: { 'line-color': '#1f5fbf', 'line-width': 2.5 } });
  map.addLayer({ id: 'track-fix', type: 'circle', source: 'track', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 5, 'circle-color': ['case', ['get', 'allow'], ALLOW, DENY], 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
  const lons = track.map((f) => f.lon), lats = track.map((f) => f.lat);
  map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 50, maxZoom: 9, duration: 0 });
  await idle(map);
  cleanups.push(() => map.remove());
  return () => cleanups.forEach((f) => f());
}
