// The console's map: availability underneath, custom zones, every
// terminal at its last position coloured by its last decision (clustered
// at low zoom), denials as a heat layer, all kept live by GET /v1/events.
import { api, feed } from './api.js';
import { createMap, fill, h, idle, loadAvailability, select, statusLabel } from './basemap.js';

const ALLOW = '#1e7f45';
const DENY = '#c62828';

// Terminals keeps every terminal's map state as the API sends it: columns
// of GET /v1/states, or the deltas of the live feed. Each terminal has a
// number, its feature id on the map, given in the order they come.
class Terminals {
  constructor() { this.byId = new Map(); this.ids = []; this.reasons = []; this.ok = -1; this.active = -1; }

  // apply takes columns and returns the terminals they changed.
  apply(cols) {
    this.reasons = cols.reasons;
    this.ok = cols.reasons.indexOf('ok');
    this.active = cols.statuses.indexOf('active');
    const changed = new Array(cols.count);
    for (let i = 0; i < cols.count; i++) {
      const id = cols.id[i];
      let t = this.byId.get(id);
      if (!t) {
        t = { n: this.ids.length, lon: 0, lat: 0, reason: 0, status: 0, country: '' };
        this.ids.push(id);
        this.byId.set(id, t);
      }
      t.lon = cols.lon[i];
      t.lat = cols.lat[i];
      t.reason = cols.reason[i];
      t.status = cols.status[i];
      t.country = cols.country[i];
      changed[i] = t;
    }
    return changed;
  }

  // in counts the terminals last decided in country, by reason.
  in(country) {
    const byReason = new Map();
    let n = 0;
    for (const t of this.byId.values()) {
      if (t.country !== country) continue;
      n++;
      const r = this.reasons[t.reason];
      byReason.set(r, (byReason.get(r) || 0) + 1);
    }
    return { n, byReason: [...byReason].sort((a, b) => b[1] - a[1]) };
  }

  // feature is t as the map's sources take it: the few properties the
  // layers use, so that the worker has little to copy and cluster.
  feature(t) {
    return {
      type: 'Feature', id: t.n,
      geometry: { type: 'Point', coordinates: [t.lon, t.lat] },
      properties: { allow: t.reason === this.ok, active: t.status === this.active },
    };
  }

  geojson() {
    const features = new Array(this.ids.length);
    let i = 0;
    for (const t of this.byId.values()) features[i++] = this.feature(t);
    return { type: 'FeatureCollection', features };
  }
}

function fmtTime(t) { return t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }

export async function mapView(root, { me }) {
  const mapEl = h('div', { class: 'map', role: 'application', 'aria-label': 'Terminal map. Arrow keys pan, plus and minus zoom.' });
  const info = h('section', { id: 'details', 'aria-live': 'polite' },
    h('p', {}, 'Click a terminal for its state and track, a cluster to zoom in, a country for its status.'));
  const live = h('span', { id: 'live', class: 'badge' }, 'connecting…');
  const count = h('span', { id: 'count' }, '');
  const heat = h('input', { type: 'checkbox', id: 'heat' });
  const find = h('input', { id: 'find', placeholder: 'terminal id', 'aria-label': 'Find a terminal by id' });
  const panel = h('aside', { class: 'panel' },
    h('p', {}, count, ' ', live),
    h('ul', { class: 'legend' },
      h('li', {}, h('span', { class: 'swatch dot', style: `background:${ALLOW}` }), 'Service allowed at its last fix'),
      h('li', {}, h('span', { class: 'swatch dot', style: `background:${DENY}` }), 'Denied at its last fix'),
      h('li', {}, h('span', { class: 'swatch dot', style: 'background:#e3a21a' }), 'Cluster: colour is the share denied')),
    h('label', {}, heat, ' Denials as a heat layer'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); findTerminal(find.value.trim()); } },
      find, h('button', { type: 'submit' }, 'Find')),
    h('hr'),
    info);
  root.replaceChildren(mapEl, panel);

  const availability = await loadAvailability();
  const { map, loaded } = createMap(mapEl, availability, { muted: true });
  window.skyfenceMap = map;
  const terminals = new Terminals();
  // The terminals changed since the map last drew them, by feature id.
  // Deltas that come while GET /v1/states is loading wait in early, to go
  // over it in order.
  let changed = new Map();
  let early = null;
  const delta = (cols) => {
    if (early) { early.push(cols); return; }
    for (const t of terminals.apply(cols)) changed.set(t.n, t);
  };
  let loading = Promise.resolve();
  const loadStates = () => (loading = loading.catch(() => {}).then(async () => {
    early = [];
    try {
      delta(await api('GET', '/v1/states'));
    } finally {
      const queued = early;
      early = null;
      for (const cols of queued) delta(cols);
    }
  }));

  // The feed first: its "hello" says it is watching, so loading the
  // states after it misses no change. A feed that reconnects watches
  // from its new hello: the states are loaded again, as a delta.
  let hello;
  let started = false;
  const helloSeen = new Promise((r) => { hello = r; });
  const stream = feed((event, data) => {
    if (event === 'hello') {
      live.textContent = 'live';
      hello();
      if (started) loadStates().catch((x) => { live.textContent = `reload failed: ${x.message}`; });
    } else if (event === 'states') delta(data);
    else if (event === 'disconnected') live.textContent = 'reconnecting…';
    else if (event === 'error') live.textContent = `no live feed: ${data.message}`;
    else if (event === 'cloudevent' && data.type === 'io.skyfence.policy.activated') live.textContent = `live · policy ${data.subject.slice(0, 15)}…`;
  });
  await Promise.race([helloSeen, new Promise((r) => setTimeout(r, 5000))]);
  started = true;
  const t0 = performance.now();
  await loadStates();
  const fetched = performance.now();

  await loaded;
  changed = new Map();
  const all = terminals.geojson();
  const built = performance.now();
  map.addSource('terminals', {
    type: 'geojson', data: all, cluster: true, clusterRadius: 40, clusterMaxZoom: 8,
    clusterProperties: { denied: ['+', ['case', ['get', 'allow'], 0, 1]] },
  });
  // The heat layer's source takes the denied terminals of the same
  // features (its filter), and is filled only while the layer is shown.
  const empty = { type: 'FeatureCollection', features: [] };
  map.addSource('denials', { type: 'geojson', data: empty, filter: ['==', ['get', 'allow'], false] });
  map.addSource('track', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: 'heat', type: 'heatmap', source: 'denials', layout: { visibility: 'none' },
    paint: { 'heatmap-radius': 18, 'heatmap-opacity': 0.75 },
  });
  map.addLayer({
    id: 'clusters', type: 'circle', source: 'terminals', filter: ['has', 'point_count'],
    paint: {
      'circle-color': ['interpolate', ['linear'], ['/', ['get', 'denied'], ['get', 'point_count']], 0, ALLOW, 0.5, '#e3a21a', 1, DENY],
      'circle-radius': ['step', ['get', 'point_count'], 7, 10, 10, 100, 14, 1000, 19, 10000, 25],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5, 'circle-opacity': 0.9,
    },
  });
  map.addLayer({
    id: 'terminal', type: 'circle', source: 'terminals', filter: ['!', ['has', 'point_count']],
    paint: {
      'circle-color': ['case', ['get', 'allow'], ALLOW, DENY],
      'circle-radius': 6,
      'circle-stroke-color': ['case', ['get', 'active'], '#ffffff', '#111111'],
      'circle-stroke-width': 1.5,
    },
  });
  map.addLayer({ id: 'track-line', type: 'line', source: 'track', paint: { 'line-color': '#1f5fbf', 'line-width': 2.5 } });
  map.addLayer({
    id: 'track-fix', type: 'circle', source: 'track', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 4, 'circle-color': ['case', ['get', 'allow'], ALLOW, DENY], 'circle-stroke-color': '#1f5fbf', 'circle-stroke-width': 1.5 },
  });
  heat.addEventListener('change', () => {
    map.getSource('denials').setData(heat.checked ? terminals.geojson() : empty);
    map.setLayoutProperty('heat', 'visibility', heat.checked ? 'visible' : 'none');
  });
  const showCount = () => { count.textContent = `${terminals.byId.size.toLocaleString('en')} terminals`; };
  showCount();
  await idle(map);
  document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
  document.body.dataset.fetchMs = String(Math.round(fetched - t0));
  document.body.dataset.buildMs = String(Math.round(built - fetched));
  document.body.dataset.ready = '1';

  // Once a second at most, the terminals that changed go to the map as a
  // diff by feature id (adding one replaces it), not the whole set again.
  const redraw = setInterval(() => {
    if (!changed.size) return;
    const diff = { add: [...changed.values()].map((t) => terminals.feature(t)) };
    changed = new Map();
    map.getSource('terminals').updateData(diff);
    if (heat.checked) map.getSource('denials').updateData(diff);
    showCount();
  }, 1000);

  map.on('click', async (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: ['terminal', 'clusters', 'zones', 'countries'] });
    if (!hit.length) return;
    const f = hit[0];
    if (f.layer.id === 'clusters') {
      const zoom = await map.getSource('terminals').getClusterExpansionZoom(f.properties.cluster_id);
      map.easeTo({ center: f.geometry.coordinates, zoom });
    } else if (f.layer.id === 'terminal') {
      showTerminal(terminals.ids[f.id]);
    } else {
      select(map, f.properties.code);
      showRegion(f.properties);
    }
  });
  for (const layer of ['terminal', 'clusters']) {
    map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
  }

  function showRegion(p) {
    const here = p.kind === 'country' ? terminals.in(p.code) : null;
    fill(info,
      h('h2', {}, p.name, ' ', h('span', { class: 'code' }, p.code)),
      h('p', { class: `status status-${p.status}` }, statusLabel(p.status)),
      p.note ? h('p', {}, p.note) : null,
      p.rule ? h('p', { class: 'small' }, 'Set by ', h('code', {}, p.rule)) : null,
      here ? h('p', { id: 'region-count' }, `${here.n.toLocaleString('en')} terminals last decided here`) : null,
      here && here.n ? h('table', {}, h('tr', {}, h('th', {}, 'Last decision'), h('th', {}, 'Terminals')),
        here.byReason.map(([r, n]) => h('tr', {}, h('td', { class: r === 'ok' ? 'allow' : 'deny' }, r === 'ok' ? 'allowed' : r), h('td', {}, n.toLocaleString('en'))))) : null);
  }

  function findTerminal(id) {
    if (!id) return;
    const t = terminals.byId.get(id);
    if (t) map.flyTo({ center: [t.lon, t.lat], zoom: Math.max(map.getZoom(), 9) });
    showTerminal(id).catch((x) => fill(info, h('p', { class: 'error' }, x.message)));
  }

  async function showTerminal(id) {
    info.replaceChildren(h('p', {}, `Loading ${id}…`));
    const [t, st, alerts] = await Promise.all([
      api('GET', `/v1/terminals/${encodeURIComponent(id)}`),
      api('GET', `/v1/terminals/${encodeURIComponent(id)}/state`).catch(() => null),
      api('GET', `/v1/alerts?terminal_id=${encodeURIComponent(id)}&limit=20`).catch(() => ({ alerts: [] })),
    ]);
    const fixes = new Map();
    for (const a of alerts.alerts) for (const ev of a.evidence || []) fixes.set(ev.time, ev);
    if (st) fixes.set(st.fix.time, { ...st.fix, allow: st.allow, reason: st.reason });
    const track = [...fixes.values()].sort((a, b) => a.time.localeCompare(b.time));
    map.getSource('track').setData({
      type: 'FeatureCollection',
      features: [
        track.length > 1 ? { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: track.map((f) => [f.lon, f.lat]) } } : null,
        ...track.map((f) => ({ type: 'Feature', properties: { allow: f.allow }, geometry: { type: 'Point', coordinates: [f.lon, f.lat] } })),
      ].filter(Boolean),
    });
    fill(info,
      h('h2', {}, 'Terminal ', h('code', {}, t.id)),
      h('table', {},
        h('tr', {}, h('th', {}, 'Status'), h('td', { id: 'terminal-status' }, t.status)),
        h('tr', {}, h('th', {}, 'Plan'), h('td', {}, t.plan)),
        h('tr', {}, h('th', {}, 'Registered in'), h('td', {}, t.country)),
        h('tr', {}, h('th', {}, 'Account'), h('td', {}, t.account_id)),
        st ? h('tr', {}, h('th', {}, 'Last decision'), h('td', { id: 'terminal-decision' },
          h('span', { class: st.allow ? 'allow' : 'deny' }, st.allow ? 'allowed' : 'denied'), ` (${st.reason})`, st.rule ? ` by ${st.rule}` : '')) : null,
        st ? h('tr', {}, h('th', {}, 'Last fix'), h('td', {}, `${st.fix.lat.toFixed(4)}, ${st.fix.lon.toFixed(4)} at ${fmtTime(st.fix.time)} in ${st.country || '?'}`)) : null),
      h('h3', {}, 'Track and decisions'),
      track.length
        ? h('table', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Where'), h('th', {}, 'Decision')),
          track.slice().reverse().map((f) => h('tr', {}, h('td', {}, fmtTime(f.time)), h('td', {}, `${f.lat.toFixed(3)}, ${f.lon.toFixed(3)} ${f.country || ''}`),
            h('td', { class: f.allow ? 'allow' : 'deny' }, f.allow ? 'allowed' : f.reason))))
        : h('p', { class: 'small' }, 'No fixes kept: the last fix is on the map; alerts keep earlier ones as evidence.'),
      alerts.alerts.length ? h('h3', {}, 'Alerts') : null,
      alerts.alerts.map((a) => h('p', {}, h('span', { class: `badge ${a.severity === 'high' ? 'bad' : 'warn'}` }, a.detector), ' ', a.summary)),
    );
    document.body.dataset.terminal = id;
  }

  return () => { stream.stop(); clearInterval(redraw); map.remove(); };
}
