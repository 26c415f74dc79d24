// Policy changes: the list, and one change with its impact preview, the
// regions it changes drawn on the map, and the buttons of the review. The
// server enforces who may do what (roles, the two-person rule); the console
// shows its answer.
import { api } from './api.js';
import { STATUSES, createMap, featureBounds, fill, h, idle, linkRow, loadAvailability, pager, statusLabel } from './basemap.js';

const statusColor = Object.fromEntries(STATUSES.map(([k, , c]) => [k, c]));
const GAIN = '#1e7f45';
const LOSS = '#c62828';

function when(t) { return t ? t.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : ''; }

function flags(c) {
  return [
    c.emergency ? h('span', { class: 'badge bad' }, 'emergency') : null,
    c.unreviewed ? h('span', { class: 'badge warn' }, 'unreviewed') : null,
    c.overdue ? h('span', { class: 'badge bad' }, 'review overdue') : null,
  ];
}

export async function policyView(root, { me, params }) {
  const list = h('tbody');
  const detail = h('section', { class: 'card', id: 'change' }, h('p', {}, 'Choose a change to see its impact and review it.'));
  const stateFilter = h('select', { id: 'state-filter', 'aria-label': 'Show changes in state' },
    ['', 'draft', 'proposed', 'approved', 'active', 'superseded', 'rejected', 'withdrawn', 'rolled_back', 'expired']
      .map((s) => h('option', { value: s }, s || 'all states')));
  // The list comes a page at a time: "More changes" reads on.
  const more = h('button', { type: 'button', id: 'more-changes', hidden: true }, 'More changes');
  root.replaceChildren(h('div', { class: 'page split' },
    h('section', { class: 'card' },
      h('h2', {}, 'Policy changes'),
      h('p', { class: 'filters' }, stateFilter),
      h('table', {}, h('thead', {}, h('tr', {}, ['Title', 'State', 'Author', 'Approvals'].map((c) => h('th', {}, c)))), list),
      more),
    detail));
  let cleanupMap = null;

  const loadList = pager(list, more, {
    key: 'changes', empty: 'No change.', cols: 4,
    fetchPage: (cursor) => {
      const q = new URLSearchParams();
      if (stateFilter.value) q.set('state', stateFilter.value);
      if (cursor) q.set('cursor', cursor);
      return api('GET', `/v1/changes?${q}`);
    },
    row: (c) => {
      const approvals = (c.reviews || []).filter((r) => r.approve).length;
      return linkRow(`#/policy/${encodeURIComponent(c.id)}`, c.id, c.id === params[0],
        h('td', {}, c.title, ' ', flags(c)),
        h('td', {}, h('span', { class: 'badge' }, c.state)),
        h('td', {}, c.author.person),
        h('td', {}, String(approvals)));
    },
  });
  stateFilter.addEventListener('change', () => loadList());
  await loadList();

  if (params[0]) cleanupMap = await showChange(detail, params[0], me, loadList);
  document.body.dataset.ready = '1';
  return () => { if (cleanupMap) cleanupMap(); };
}

async function showChange(el, id, me, reloadList) {
  const c = await api('GET', `/v1/changes/${encodeURIComponent(id)}`);
  const impact = c.impact || null;
  const change = impact && impact.change;
  const result = h('p', { id: 'action-result', role: 'alert' });
  const comment = h('input', { id: 'comment', placeholder: 'Comment or reason', 'aria-label': 'Comment or reason' });
  const act = (action, body) => async () => {
    result.className = '';
    result.textContent = `${action}…`;
    try {
      const next = await api('POST', `/v1/changes/${encodeURIComponent(id)}/${action}`, body ? body() : undefined);
      result.className = 'okmsg';
      result.textContent = `Done: the change is ${next.state}.`;
      state.textContent = next.state;
      reviews.replaceChildren(...reviewRows(next));
      document.dispatchEvent(new Event('policy-changed'));
      await reloadList();
    } catch (x) {
      result.className = 'error';
      result.textContent = x.message;
    }
  };
  const state = h('span', { id: 'change-state', class: 'badge' }, c.state);
  const reviews = h('ul', { id: 'reviews' }, ...reviewRows(c));
  // The buttons each role may use in each state; the server checks both
  // again, and the two-person rule, whatever is shown.
  const can = (states, ...roles) => states.includes(c.state) && (me.role === 'admin' || roles.includes(me.role));
  // An emergency change is reviewed after the fact, in force or not.
  const reviewable = can(['proposed'], 'approver') || (c.unreviewed && can([c.state], 'approver'));

  const mapEl = h('div', { class: 'minimap', role: 'img', 'aria-label': 'Map of the regions this change turns on (green outline) or off (red outline), filled with their new status' });
  fill(el,
    h('h2', {}, c.title, ' ', flags(c)),
    h('p', {}, 'State: ', state, ' · by ', h('b', {}, c.author.person), ` · drafted ${when(c.created_at)}`,
      c.proposed_at ? ` · proposed ${when(c.proposed_at)}` : '', c.review_by ? ` · reviews due ${when(c.review_by)}` : ''),
    h('p', {}, c.justification),
    c.rolls_back ? h('p', { id: 'rolls-back' }, 'Rolls back ', h('a', { href: `#/policy/${encodeURIComponent(c.rolls_back)}` }, c.rolls_back),
      ': its files are those in force before it.') : null,
    c.ended_by ? h('p', { class: 'small' }, `Ended (${c.state}) by `, h('a', { href: `#/policy/${encodeURIComponent(c.ended_by)}` }, c.ended_by)) : null,
    h('p', { class: 'small' }, `Requested by ${c.requester} (${c.category})`, (c.references || []).length ? ` · ${c.references.join(', ')}` : ''),
    h('div', { class: 'actions' },
      comment,
      can(['draft'], 'policy_author') ? h('button', { id: 'propose', onclick: act('propose') }, 'Propose') : null,
      reviewable ? h('button', { id: 'approve', class: 'primary', onclick: act('review', () => ({ approve: true, comment: comment.value })) }, 'Approve') : null,
      reviewable ? h('button', { id: 'reject', class: 'danger', onclick: act('review', () => ({ approve: false, comment: comment.value })) }, 'Reject') : null,
      can(['proposed', 'approved'], 'policy_author', 'approver') ? h('button', { id: 'activate', onclick: act('activate') }, 'Activate') : null,
      can(['draft', 'proposed', 'approved'], 'policy_author') ? h('button', { id: 'withdraw', onclick: act('withdraw', () => ({ reason: comment.value })) }, 'Withdraw') : null,
      can(['draft', 'proposed', 'approved'], 'emergency') ? h('button', { id: 'emergency', class: 'danger', onclick: act('emergency', () => ({ justification: comment.value })) }, 'Emergency activate') : null),
    result,
    h('h3', {}, 'Reviews'), reviews,
    h('h3', {}, 'Impact preview'),
    impact ? impactNumbers(impact) : h('p', { class: 'small' }, 'Computed when the change is proposed.'),
    change ? h('h3', {}, 'Where service changes') : null,
    change ? mapEl : null,
    change ? statusTable(change) : null,
    impact && impact.by_country && impact.by_country.length ? countryTable(impact.by_country) : null,
  );
  if (!change) return null;
  const availability = await loadAvailability();
  const { map, loaded } = createMap(mapEl, availability, { muted: true });
  await loaded;
  const newStatus = Object.fromEntries((change.statuses || []).map((s) => [s.region, s.new]));
  const area = Object.fromEntries((change.area.regions || []).map((r) => [r.region, r.gains]));
  const changed = availability.features.filter((f) => f.properties.code in newStatus || f.properties.code in area)
    .map((f) => ({ ...f, properties: { ...f.properties, new: newStatus[f.properties.code] || f.properties.status, gains: area[f.properties.code] } }));
  map.addSource('diff', { type: 'geojson', data: { type: 'FeatureCollection', features: changed } });
  map.addLayer({ id: 'diff-fill', type: 'fill', source: 'diff', paint: { 'fill-color': ['match', ['get', 'new'], ...Object.entries(statusColor).flat(), '#d0d0d0'] } });
  map.addLayer({
    id: 'diff-line', type: 'line', source: 'diff',
    paint: { 'line-color': ['case', ['==', ['get', 'gains'], true], GAIN, ['==', ['get', 'gains'], false], LOSS, '#111111'], 'line-width': 3 },
  });
  if (changed.length) {
    let w = 180, s = 90, e = -180, n = -90;
    for (const f of changed) {
      const [[fw, fs], [fe, fn]] = featureBounds(f);
      w = Math.min(w, fw); s = Math.min(s, fs); e = Math.max(e, fe); n = Math.max(n, fn);
    }
    map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 4, duration: 0 });
  }
  await idle(map);
  return () => map.remove();
}

function reviewRows(c) {
  const rs = c.reviews || [];
  if (!rs.length) return [h('li', { class: 'small' }, 'None yet.')];
  return rs.map((r) => h('li', {}, h('b', {}, r.by.person), r.approve ? ' approved' : ' rejected', r.comment ? `: “${r.comment}”` : '', ` (${when(r.at)})`));
}

function impactNumbers(i) {
  const n = (label, v, id) => h('div', { id }, h('b', {}, (v ?? 0).toLocaleString('en')), label);
  return h('div', { class: 'numbers', id: 'impact' },
    n('terminals', i.terminals, 'impact-terminals'),
    n('allowed before', i.allowed_before),
    n('allowed after', i.allowed_after),
    n('gain service', i.gains, 'impact-gains'),
    n('lose service', i.losses, 'impact-losses'),
    n('priority losses', i.priority_losses),
    n('denied otherwise', i.reason_changes),
    n('no position', i.unlocated));
}

function statusTable(change) {
  const rows = (change.statuses || []).map((s) => h('tr', {},
    h('td', {}, s.name || s.region, ' ', h('span', { class: 'code' }, s.region)),
    h('td', {}, statusLabel(s.old)), h('td', {}, '→ ', h('b', {}, statusLabel(s.new)))));
  const area = change.area || {};
  return h('div', {},
    rows.length ? h('table', { id: 'status-changes' }, h('tr', {}, h('th', {}, 'Region'), h('th', {}, 'Now'), h('th', {}, 'After')), rows) : null,
    h('p', { class: 'small' }, `Area turning on ≈ ${Math.round(area.gained_km2 || 0).toLocaleString('en')} km², off ≈ ${Math.round(area.lost_km2 || 0).toLocaleString('en')} km².`));
}

function countryTable(rows) {
  return h('table', {}, h('tr', {}, ['Where', 'Terminals', 'Gain', 'Lose'].map((c) => h('th', {}, c))),
    rows.slice(0, 15).map((r) => h('tr', {}, h('td', {}, r.name || r.key), h('td', {}, String(r.terminals)), h('td', {}, String(r.gains)), h('td', {}, String(r.losses)))));
}
