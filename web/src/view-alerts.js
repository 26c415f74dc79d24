// Alerts, as an analyst on duty during GNSS interference wants them: the
// incidents first, each a group its alerts fold under (an event that
// jams a city raises one incident, not hundreds of alerts to read), then
// the alerts no incident explains, most recently seen first. The filters
// are the API's query parameters (GET /v1/alerts: detector, severity,
// region, from, to; GET /v1/incidents: state, from, to); every list reads
// on with its cursor. The live feed says when alerts were raised or
// updated since the lists were read. Each alert links to its terminal on
// the map, and an investigator opens a case from it.
import { api, feed } from './api.js';
import { fill, h, pager } from './basemap.js';

// DETECTORS is detection's closed list (docs/DETECTION.md).
const DETECTORS = ['origin_denied', 'origin_presence', 'impossible_travel', 'drone_motion', 'position_jump',
  'cloned_position', 'cell_mismatch', 'future_timestamp', 'cluster'];
const SEVERITIES = [['', 'any severity'], ['high', 'high'], ['medium,high', 'medium or high'], ['medium', 'medium'], ['low', 'low']];
const STATES = [['open', 'open incidents'], ['closed', 'closed incidents'], ['', 'all incidents']];
const KINDS = { gnss_interference: 'GNSS interference' };
const COLS = ['Severity', 'Detector', 'Terminal', 'What', 'Region', 'Last seen', 'Actions'];

function when(t) { return t ? t.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1Z') : ''; }

// utc reads a datetime-local input as a UTC time, in RFC 3339.
function utc(v) { return new Date(`${v}Z`).toISOString(); }

function deg(v, pos, neg) { return `${Math.abs(v).toFixed(1)}°${v < 0 ? neg : pos}`; }

// area says where an incident is as the API gives it: the bounding box of
// the 1-degree grid cells it covers, and its centre.
function area(inc) {
  const lat = (inc.min_lat + inc.max_lat) / 2, lon = (inc.min_lon + inc.max_lon) / 2;
  return {
    centre: `${deg(lat, 'N', 'S')} ${deg(lon, 'E', 'W')}`,
    box: `${deg(inc.min_lat, 'N', 'S')} to ${deg(inc.max_lat, 'N', 'S')}, ${deg(inc.min_lon, 'E', 'W')} to ${deg(inc.max_lon, 'E', 'W')}`
      + ` (${inc.cells} grid cell${inc.cells === 1 ? '' : 's'} of 1°)`,
  };
}

export async function alertsView(root, { me }) {
  const canOpen = me.role === 'admin' || me.role === 'investigator';
  const detector = h('select', { id: 'f-detector' }, h('option', { value: '' }, 'any detector'), DETECTORS.map((d) => h('option', { value: d }, d)));
  const severity = h('select', { id: 'f-severity' }, SEVERITIES.map(([v, name]) => h('option', { value: v }, name)));
  const region = h('input', { id: 'f-region', placeholder: 'UA, RU, a zone', autocomplete: 'off', size: 10 });
  const from = h('input', { id: 'f-from', type: 'datetime-local', step: 1 });
  const to = h('input', { id: 'f-to', type: 'datetime-local', step: 1 });
  const state = h('select', { id: 'f-state' }, STATES.map(([v, name]) => h('option', { value: v }, name)));
  const result = h('p', { id: 'alerts-result', role: 'alert' });
  const groups = h('div', { id: 'incidents' });
  const hidden = h('p', { id: 'incidents-hidden', class: 'small', hidden: true });
  const moreIncidents = h('button', { type: 'button', id: 'more-incidents', hidden: true }, 'More incidents');
  const rows = h('tbody', { id: 'alerts' });
  const more = h('button', { type: 'button', id: 'more-alerts', hidden: true }, 'More alerts');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Filter');
  const fresh = h('p', { id: 'alerts-fresh', role: 'status', hidden: true });

  // The filters as last applied: "More" reads on with these, whatever
  // the form holds since.
  let alertQuery = new URLSearchParams();
  let incidentQuery = new URLSearchParams();
  let narrowed = false;
  let hiddenCount = 0;
  const apply = () => {
    const a = new URLSearchParams(), t = new URLSearchParams();
    if (detector.value) a.set('detector', detector.value);
    if (severity.value) a.set('severity', severity.value);
    if (region.value.trim()) a.set('region', region.value.trim());
    if (from.value) t.set('from', utc(from.value));
    if (to.value) t.set('to', utc(to.value));
    for (const [k, v] of t) a.set(k, v);
    if (state.value) t.set('state', state.value);
    alertQuery = a;
    incidentQuery = t;
    narrowed = Boolean(detector.value || severity.value || region.value.trim());
  };
  const page = (path, q, cursor) => {
    const p = new URLSearchParams(q);
    if (cursor) p.set('cursor', cursor);
    return api('GET', `${path}?${p}`);
  };

  const openCase = async (a, button) => {
    button.disabled = true;
    result.className = '';
    result.textContent = `Opening a case on ${a.terminal_id}…`;
    try {
      const c = await api('POST', '/v1/cases', { terminal_id: a.terminal_id, title: `${a.detector} on ${a.terminal_id}`, alert_ids: [a.id], note: a.summary });
      location.hash = `#/cases/${encodeURIComponent(c.id)}`;
    } catch (x) {
      button.disabled = false;
      result.className = 'error';
      result.textContent = x.message;
    }
  };

  // alertRow is one alert; under an incident it says whether the incident
  // explains it, in the list below whether it was raised inside one.
  const alertRow = (a, underIncident) => {
    const open = canOpen ? h('button', { type: 'button', class: 'open-case', 'aria-label': `Open a case on ${a.terminal_id} from this alert` }, 'Open case') : null;
    if (open) open.addEventListener('click', () => openCase(a, open));
    let note = null;
    if (underIncident) note = a.explained ? h('span', { class: 'badge' }, 'explained') : h('span', { class: 'badge bad' }, 'not explained');
    else if (a.incident) note = h('div', { class: 'small' }, `Raised in the area of incident ${a.incident}, which does not explain it.`);
    return h('tr', { class: 'alert', 'data-id': a.id },
      h('td', {}, h('span', { class: `badge ${a.severity === 'high' ? 'bad' : a.severity === 'medium' ? 'warn' : ''}` }, a.severity)),
      h('td', {}, h('code', {}, a.detector)),
      h('td', {}, h('a', { class: 'terminal', href: `#/map/${encodeURIComponent(a.terminal_id)}`, title: 'Show this terminal on the map' }, a.terminal_id)),
      h('td', {}, a.summary, a.count > 1 ? ` (${a.count} times)` : '', underIncident ? ' ' : '', note),
      h('td', {}, a.region || '—'),
      h('td', {}, when(a.last_seen)),
      h('td', {}, open));
  };
  // A table scrolls in its place when it is wider than the screen.
  const table = (tbody) => h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {},
    COLS.map((c, i) => h('th', { scope: 'col' }, i === COLS.length - 1 ? h('span', { class: 'sr-only' }, c) : c)))), tbody));

  // group is one incident: a disclosure (details and summary: Enter or
  // Space folds and unfolds it) whose summary says what, where, since
  // when and how many, over its alerts (those that match the filters),
  // a page at a time. first is the first page of its alerts.
  const group = ({ inc, first }) => {
    const { centre, box } = area(inc);
    const count = h('span', { class: 'alert-count' });
    const flags = h('span', { class: 'flags' });
    const where = h('span', { class: 'incident-regions' });
    const tbody = h('tbody');
    const moreOf = h('button', { type: 'button', class: 'more-incident-alerts', hidden: true }, 'More alerts of this incident');
    let n = 0, unexplained = 0;
    const regions = new Set();
    const tally = (p) => {
      n += p.alerts.length;
      for (const a of p.alerts) {
        if (!a.explained) unexplained++;
        if (a.region) regions.add(a.region);
      }
      count.textContent = `${n.toLocaleString('en')}${p.next_cursor ? '+' : ''} alert${n === 1 && !p.next_cursor ? '' : 's'}${narrowed ? ' matching' : ''}`;
      flags.replaceChildren(unexplained ? h('span', { class: 'badge bad' }, `${unexplained} not explained`) : '');
      where.textContent = regions.size ? ` · alerts in ${[...regions].sort().join(', ')}` : '';
      return p;
    };
    const load = pager(tbody, moreOf, {
      key: 'alerts', cols: COLS.length, empty: 'No alert carries it.', row: (a) => alertRow(a, true),
      fetchPage: async (cursor) => tally(cursor ? await page('/v1/alerts', withIncident(inc.id), cursor) : first),
    });
    load();
    return h('details', { class: 'incident card', 'data-id': inc.id, 'data-state': inc.state },
      h('summary', {},
        h('b', {}, KINDS[inc.kind] || inc.kind), ' ', h('span', { class: `badge ${inc.state === 'open' ? 'bad' : ''}` }, inc.state),
        ` around ${centre} since ${when(inc.start)} · `, h('span', { class: 'terminal-count' }, `${inc.terminals.toLocaleString('en')} terminal${inc.terminals === 1 ? '' : 's'}`),
        ' · ', count, where, ' ', flags),
      h('p', { class: 'small' }, `Incident ${inc.id}: area ${box}; started ${when(inc.start)}, raised ${when(inc.opened)}, last impossible move ${when(inc.end)}.`),
      table(tbody), moreOf);
  };
  const withIncident = (id) => {
    const q = new URLSearchParams(alertQuery);
    q.set('incident', id);
    return q;
  };

  // The incidents, each with the first page of its alerts; with the
  // alerts narrowed by detector, severity or region, an incident none of
  // whose alerts match is left out (and counted).
  const loadIncidents = pager(groups, moreIncidents, {
    key: 'incidents', row: group,
    blank: () => h('p', { class: 'small', id: 'no-incident' },
      `No ${incidentQuery.get('state') || ''}${incidentQuery.has('state') ? ' ' : ''}incident${narrowed ? ' with alerts that match' : ''}.`),
    fetchPage: async (cursor) => {
      if (!cursor) hiddenCount = 0;
      const kept = [];
      do {
        const p = await page('/v1/incidents', incidentQuery, cursor);
        const firsts = await Promise.all(p.incidents.map((inc) => page('/v1/alerts', withIncident(inc.id))));
        p.incidents.forEach((inc, i) => {
          if (narrowed && !firsts[i].alerts.length) hiddenCount++;
          else kept.push({ inc, first: firsts[i] });
        });
        cursor = p.next_cursor;
      } while (!kept.length && cursor);
      hidden.hidden = !hiddenCount;
      hidden.textContent = `${hiddenCount} incident${hiddenCount === 1 ? '' : 's'} left out: none of ${hiddenCount === 1 ? 'its' : 'their'} alerts match the filters.`;
      return { incidents: kept, next_cursor: cursor };
    },
  });

  // The alerts no incident explains: the API leaves the explained ones
  // out (explained=false), so each "More" is one read.
  const loadAlerts = pager(rows, more, {
    key: 'alerts', cols: COLS.length, empty: 'No alert matches.', row: (a) => alertRow(a, false),
    fetchPage: (cursor) => {
      const q = new URLSearchParams(alertQuery);
      q.set('explained', 'false');
      return page('/v1/alerts', q, cursor);
    },
  });

  // load reads both lists again with the filters of the form; Filter
  // waits for it, so that two reads never interleave.
  let raised = 0;
  const load = async () => {
    delete document.body.dataset.ready;
    submit.disabled = true;
    raised = 0;
    fresh.hidden = true;
    result.className = '';
    result.textContent = '';
    try {
      apply();
      await Promise.all([loadIncidents(), loadAlerts()]);
    } catch (x) {
      result.className = 'error';
      result.textContent = x.message;
    }
    submit.disabled = false;
    document.body.dataset.ready = '1';
  };
  root.replaceChildren(h('div', { class: 'page' },
    h('section', { class: 'card' },
      h('h2', {}, 'Alerts'),
      h('p', { class: 'small' }, 'Incidents first: many terminals of one area that jumped where they could not be, as GNSS jamming and spoofing make them. Each folds the alerts raised there; those it explains are kept low. Then every alert no incident explains, most recently seen first. Times are UTC.'),
      h('form', { class: 'filters', id: 'alert-filters', onsubmit: (e) => { e.preventDefault(); load(); } },
        h('label', {}, 'Detector', detector),
        h('label', {}, 'Severity', severity),
        h('label', {}, 'Region', region),
        h('label', {}, 'From (UTC)', from),
        h('label', {}, 'To (UTC)', to),
        h('label', {}, 'Incidents', state),
        submit),
      result, fresh),
    h('section', { class: 'card', 'aria-labelledby': 'incidents-title' },
      h('h2', { id: 'incidents-title' }, 'Incidents'), groups, hidden, moreIncidents),
    h('section', { class: 'card', 'aria-labelledby': 'unexplained-title' },
      h('h2', { id: 'unexplained-title' }, 'Alerts no incident explains'), table(rows), more)));
  await load();
  // Detection publishes each alert it raises or updates (the bus's
  // io.skyfence.alert.raised, which the feed passes on to whoever may
  // read alerts); the lists are read again when the analyst asks, so
  // that they do not move under her.
  const stream = feed((event, data) => {
    if (event !== 'cloudevent' || data.type !== 'io.skyfence.alert.raised') return;
    raised++;
    fill(fresh, `${raised.toLocaleString('en')} alert${raised === 1 ? '' : 's'} raised or updated since the lists were read. `,
      h('button', { type: 'button', id: 'read-again', onclick: () => load() }, 'Read again'));
    fresh.hidden = false;
  });
  return () => stream.stop();
}
