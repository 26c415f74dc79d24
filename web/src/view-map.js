// The console's map: availability underneath, custom zones, every
// terminal at its last position coloured by its last decision (clustered
// at low zoom), denials as a heat layer, all kept live by GET /v1/events.
// The terminals stay on the page; MapLibre gets only what the view shows,
// clustered here (grid.js), redrawn as the view or the terminals change.
import { api, feed } from './api.js';
import { createMap, fill, h, idle, loadAvailability, select, statusLabel } from './basemap.js';
import { cluster, contains, heat as heatCells, latOf, lonOf, mercX, mercY, viewBox } from './grid.js';

const ALLOW = '#1e7f45';
const DENY = '#c62828';
// Clusters are cells of CLUSTER_PX pixels, up to zoom CLUSTER_MAX_ZOOM;
// beyond, every terminal is drawn alone. MARGIN is how much of the view's
// size is drawn around it on each side, so that a pan shows terminals
// before the map is redrawn.
const CLUSTER_PX = 40;
const CLUSTER_MAX_ZOOM = 8;
const MARGIN = 0.5;

// Terminals keeps every terminal's map state as the API sends it (columns
// of GET /v1/states, or the deltas of the live feed) in typed arrays, one
// entry a terminal, in the order they come: its number is its index, and
// the feature id of the terminal on the map. x and y are its place in
// Web-Mercator (see grid.js), which the clustering reads.
class Terminals {
  constructor() {
    this.byId = new Map();
    this.ids = [];
    this.n = 0;
    this.reasons = [];
    this.countries = [];
    this.lon = new Float64Array(0); this.lat = new Float64Array(0);
    this.x = new Float64Array(0); this.y = new Float64Array(0);
    this.denied = new Uint8Array(0); this.active = new Uint8Array(0);
    this.reason = new Uint8Array(0); this.country = new Uint16Array(0);
  }

  // grow makes room for n terminals, doubling the arrays when full.
  grow(n) {
    if (n <= this.lon.length) return;
    const size = Math.max(n, 2 * this.lon.length, 1024);
    for (const k of ['lon', 'lat', 'x', 'y', 'denied', 'active', 'reason', 'country']) {
      const a = new this[k].constructor(size);
      a.set(this[k]);
      this[k] = a;
    }
  }

  // index is name's number in the list names, added if new.
  static index(names, name) {
    const i = names.indexOf(name);
    return i >= 0 ? i : names.push(name) - 1;
  }

  // apply takes columns and returns how many terminals they changed.
  apply(cols) {
    const reason = cols.reasons.map((r) => Terminals.index(this.reasons, r));
    const active = cols.statuses.indexOf('active');
    const countries = new Map();
    for (let i = 0; i < cols.count; i++) {
      const id = cols.id[i];
      let n = this.byId.get(id);
      if (n === undefined) {
        n = this.n++;
        this.grow(this.n);
        this.ids.push(id);
        this.byId.set(id, n);
      }
      const c = cols.country[i];
      let ci = countries.get(c);
      if (ci === undefined) countries.set(c, ci = Terminals.index(this.countries, c));
      this.lon[n] = cols.lon[i];
      this.lat[n] = cols.lat[i];
      this.x[n] = mercX(cols.lon[i]);
      this.y[n] = mercY(cols.lat[i]);
      this.reason[n] = reason[cols.reason[i]];
      this.denied[n] = cols.reasons[cols.reason[i]] === 'ok' ? 0 : 1;
      this.active[n] = cols.status[i] === active ? 1 : 0;
      this.country[n] = ci;
    }
    return cols.count;
  }

  // in counts the terminals last decided in country, by reason.
  in(country) {
    const ci = this.countries.indexOf(country);
    const byReason = new Map();
    let n = 0;
    for (let i = 0; ci >= 0 && i < this.n; i++) {
      if (this.country[i] !== ci) continue;
      n++;
      const r = this.reasons[this.reason[i]];
      byReason.set(r, (byReason.get(r) || 0) + 1);
    }
    return { n, byReason: [...byReason].sort((a, b) => b[1] - a[1]) };
  }

  // features is what the map draws of the terminals inside box at zoom:
  // terminal i alone as a feature with id i and the properties the layers
  // use; a cluster with its count (point_count), how many of it were
  // denied and the zoom that opens it (expand).
  features(box, zoom) {
    return cluster(this, box, zoom, { cellPx: CLUSTER_PX, maxZoom: CLUSTER_MAX_ZOOM }).map((c) => (c.count
      ? { type: 'Feature', geometry: { type: 'Point', coordinates: [lonOf(c.x), latOf(c.y)] }, properties: { point_count: c.count, denied: c.denied, expand: c.expand } }
      : {
        type: 'Feature', id: c.i,
        geometry: { type: 'Point', coordinates: [this.lon[c.i], this.lat[c.i]] },
        properties: { allow: !this.denied[c.i], active: this.active[c.i] === 1 },
      }));
  }

  // heat is the denied terminals inside box, summed in small cells, as
  // the heat layer's features (weighed by denied).
  heat(box, zoom) {
    return heatCells(this, box, zoom).map((c) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: [lonOf(c.x), latOf(c.y)] }, properties: { denied: c.denied },
    }));
  }
}

function fmtTime(t) { return t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }

export async function mapView(root, { params }) {
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
  // changed says the terminals changed since the map last drew them.
  // Deltas that come while GET /v1/states is loading wait in early, to go
  // over it in order.
  let changed = false;
  let early = null;
  const delta = (cols) => {
    if (early) { early.push(cols); return; }
    if (terminals.apply(cols)) changed = true;
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
  const empty = { type: 'FeatureCollection', features: [] };
  map.addSource('terminals', { type: 'geojson', data: empty });
  // The heat layer's source holds the denied terminals in view, summed in
  // small cells, and is filled only while the layer is shown.
  map.addSource('denials', { type: 'geojson', data: empty });
  map.addSource('track', { type: 'geojson', data: empty });
  map.addLayer({
    id: 'heat', type: 'heatmap', source: 'denials', layout: { visibility: 'none' },
    paint: { 'heatmap-radius': 18, 'heatmap-opacity': 0.75, 'heatmap-weight': ['get', 'denied'] },
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

  // drawn is the integer zoom and the box (the view and its margin) the
  // map last drew the terminals for. The map is drawn again when the
  // terminals changed, the zoom crossed an integer (the grid changes) or
  // the view left the box.
  let drawn = null;
  const view = (margin) => {
    const b = map.getBounds();
    return viewBox(b.getWest(), b.getSouth(), b.getEast(), b.getNorth(), margin);
  };
  const stale = () => changed || !drawn || Math.floor(map.getZoom()) !== drawn.z || !contains(drawn.box, view(0));
  const draw = () => {
    const zoom = map.getZoom();
    const box = view(MARGIN);
    changed = false;
    drawn = { z: Math.floor(zoom), box };
    const features = terminals.features(box, zoom);
    map.getSource('terminals').setData({ type: 'FeatureCollection', features });
    if (heat.checked) map.getSource('denials').setData({ type: 'FeatureCollection', features: terminals.heat(box, zoom) });
    showCount();
    return features.length;
  };
  heat.addEventListener('change', () => {
    map.getSource('denials').setData(heat.checked && drawn ? { type: 'FeatureCollection', features: terminals.heat(drawn.box, drawn.z) } : empty);
    map.setLayoutProperty('heat', 'visibility', heat.checked ? 'visible' : 'none');
  });
  const showCount = () => { count.textContent = `${terminals.n.toLocaleString('en')} terminals`; };
  const features = draw();
  const built = performance.now();
  await idle(map);
  document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
  document.body.dataset.fetchMs = String(Math.round(fetched - t0));
  document.body.dataset.buildMs = String(Math.round(built - fetched));
  document.body.dataset.features = String(features);
  // #/map/ID opens on terminal ID (the alerts view links there).
  if (params[0]) findTerminal(params[0]);
  document.body.dataset.ready = '1';

  // While the map moves, it is drawn again at most every 200 ms once the
  // view leaves what was drawn, and when it stops; the terminals that
  // changed are drawn once a second at most.
  let soon = null;
  map.on('move', () => {
    soon ??= setTimeout(() => { soon = null; if (stale()) draw(); }, 200);
  });
  map.on('moveend', () => { if (stale()) draw(); });
  const redraw = setInterval(() => { if (changed) draw(); }, 1000);

  map.on('click', (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: ['terminal', 'clusters', 'zones', 'countries'] });
    if (!hit.length) return;
    const f = hit[0];
    if (f.layer.id === 'clusters') {
      // At its expansion zoom a cluster's terminals are in more than one
      // cell: the click always opens it.
      map.easeTo({ center: f.geometry.coordinates, zoom: f.properties.expand });
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
    const n = terminals.byId.get(id);
    if (n !== undefined) map.flyTo({ center: [terminals.lon[n], terminals.lat[n]], zoom: Math.max(map.getZoom(), CLUSTER_MAX_ZOOM + 1) });
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

  return () => { stream.stop(); clearInterval(redraw); clearTimeout(soon); map.remove(); };
}
