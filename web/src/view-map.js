// The console's map: availability underneath, custom zones, every
// terminal at its last position coloured by its last decision (clustered
// at low zoom), denials as a heat layer, all kept live by GET /v1/events.
import { api, feed } from './api.js';
import { createMap, fill, h, idle, loadAvailability, select, statusLabel } from './basemap.js';

const ALLOW = '#1e7f45';
const DENY = '#c62828';

// Terminals keeps every terminal's map state as the API sends it: columns
// of GET /v1/states, or the deltas of the live feed.
class Terminals {
  constructor() { this.byId = new Map(); this.reasons = []; this.statuses = []; }

  apply(cols) {
    this.reasons = cols.reasons;
    this.statuses = cols.statuses;
    for (let i = 0; i < cols.count; i++) {
      this.byId.set(cols.id[i], [cols.lon[i], cols.lat[i], cols.reason[i], cols.status[i], cols.country[i]]);
    }
  }

  // in counts the terminals last decided in country, by reason.
  in(country) {
    const byReason = new Map();
    let n = 0;
    for (const [, , r, , c] of this.byId.values()) {
      if (c !== country) continue;
      n++;
      byReason.set(this.reasons[r], (byReason.get(this.reasons[r]) || 0) + 1);
    }
    return { n, byReason: [...byReason].sort((a, b) => b[1] - a[1]) };
  }

  geojson(deniedOnly) {
    const features = [];
    for (const [id, [lon, lat, r, st]] of this.byId) {
      const allow = this.reasons[r] === 'ok';
      if (deniedOnly && allow) continue;
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { id, allow, reason: this.reasons[r], status: this.statuses[st] },
      });
    }
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
  let dirty = false;

  // The feed first: its "hello" says it is watching, so loading the
  // states after it misses no change.
  let hello;
  const helloSeen = new Promise((r) => { hello = r; });
  const stream = feed((event, data) => {
    if (event === 'hello') { live.textContent = 'live'; hello(); }
    else if (event === 'states') { terminals.apply(data); dirty = true; }
    else if (event === 'disconnected') live.textContent = 'reconnecting…';
    else if (event === 'error') live.textContent = `no live feed: ${data.message}`;
    else if (event === 'cloudevent' && data.type === 'io.skyfence.policy.activated') live.textContent = `live · policy ${data.subject.slice(0, 15)}…`;
  });
  await Promise.race([helloSeen, new Promise((r) => setTimeout(r, 5000))]);
  const t0 = performance.now();
  terminals.apply(await api('GET', '/v1/states'));
  const fetched = performance.now();

  await loaded;
  map.addSource('terminals', {
    type: 'geojson', data: terminals.geojson(false), cluster: true, clusterRadius: 40, clusterMaxZoom: 8,
    clusterProperties: { denied: ['+', ['case', ['get', 'allow'], 0, 1]] },
  });
  // The heat layer's source is filled only while the layer is shown.
  map.addSource('denials', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
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
      'circle-stroke-color': ['match', ['get', 'status'], 'active', '#ffffff', '#111111'],
      'circle-stroke-width': 1.5,
    },
  });
  map.addLayer({ id: 'track-line', type: 'line', source: 'track', paint: { 'line-color': '#1f5fbf', 'line-width': 2.5 } });
  map.addLayer({
    id: 'track-fix', type: 'circle', source: 'track', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 4, 'circle-color': ['case', ['get', 'allow'], ALLOW, DENY], 'circle-stroke-color': '#1f5fbf', 'circle-stroke-width': 1.5 },
  });
  heat.addEventListener('change', () => {
    map.getSource('denials').setData(heat.checked ? terminals.geojson(true) : { type: 'FeatureCollection', features: [] });
    map.setLayoutProperty('heat', 'visibility', heat.checked ? 'visible' : 'none');
  });
  const showCount = () => { count.textContent = `${terminals.byId.size.toLocaleString('en')} terminals`; };
  showCount();
  await idle(map);
  document.body.dataset.loadMs = String(Math.round(performance.now() - t0));
  document.body.dataset.fetchMs = String(Math.round(fetched - t0));
  document.body.dataset.ready = '1';

  // Redraw at most every two seconds, as the deltas come.
  const redraw = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    map.getSource('terminals').setData(terminals.geojson(false));
    if (heat.checked) map.getSource('denials').setData(terminals.geojson(true));
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
      showTerminal(f.properties.id);
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
    if (t) map.flyTo({ center: [t[0], t[1]], zoom: Math.max(map.getZoom(), 9) });
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
