// The base map shared by the public map and the console: skyfence's own
// country shapes from GET /v1/map, coloured by availability status. No
// tiles, fonts or scripts come from anywhere but skyfence itself.
import { Map as MapLibre, NavigationControl, setWorkerUrl } from 'maplibre-gl';

setWorkerUrl(new URL('/assets/maplibre-gl-worker.mjs', location.href).href);

// The public statuses, in the order of the legend. Colours are opaque so
// that a pixel shows exactly its status (the browser tests read them).
export const STATUSES = [
  ['available', 'Available', '#2e9d5b'],
  ['coming_soon', 'Coming soon', '#4a86d6'],
  ['waitlist', 'Waitlist', '#e3a21a'],
  ['not_licensed', 'Not licensed', '#b6bcc4'],
  ['embargoed', 'Embargoed', '#8e1b1b'],
  ['sold_out', 'Sold out (capacity cell)', '#7b4fa8'],
];
export const OCEAN = '#dce8f2';
const statusName = Object.fromEntries(STATUSES.map(([k, name]) => [k, name]));

export function statusLabel(status) {
  return statusName[status] || status || 'No status';
}

export function statusColor() {
  return ['match', ['get', 'status'], ...STATUSES.flatMap(([k, , c]) => [k, c]), '#d0d0d0'];
}

// loadAvailability fetches the public availability map (GeoJSON).
export async function loadAvailability() {
  const res = await fetch('/v1/map');
  if (!res.ok) throw new Error(`GET /v1/map: ${res.status}`);
  return res.json();
}

// createMap draws the availability map in container and resolves once
// the map has drawn it. Countries are filled by status; zones and full
// capacity cells are drawn over them, outlined.
export function createMap(container, availability, { muted = false } = {}) {
  const map = new MapLibre({
    container,
    style: {
      version: 8,
      sources: { availability: { type: 'geojson', data: availability, promoteId: 'code' } },
      layers: [
        { id: 'ocean', type: 'background', paint: { 'background-color': OCEAN } },
        {
          id: 'countries', type: 'fill', source: 'availability', filter: ['==', ['get', 'kind'], 'country'],
          paint: { 'fill-color': statusColor(), 'fill-opacity': muted ? 0.45 : 1 },
        },
        {
          id: 'borders', type: 'line', source: 'availability', filter: ['==', ['get', 'kind'], 'country'],
          paint: { 'line-color': '#ffffff', 'line-width': 0.6 },
        },
        {
          id: 'zones', type: 'fill', source: 'availability', filter: ['!=', ['get', 'kind'], 'country'],
          paint: { 'fill-color': statusColor(), 'fill-opacity': 0.55 },
        },
        {
          id: 'zone-lines', type: 'line', source: 'availability', filter: ['!=', ['get', 'kind'], 'country'],
          paint: { 'line-color': '#3b2a55', 'line-width': 1.2, 'line-dasharray': [2, 1] },
        },
        {
          id: 'selected', type: 'line', source: 'availability',
          filter: ['==', ['get', 'code'], ''],
          paint: { 'line-color': '#111111', 'line-width': 2.5 },
        },
      ],
    },
    bounds: [[-170, -57], [190, 78]],
    renderWorldCopies: false,
    dragRotate: false,
    pitchWithRotate: false,
    attributionControl: { compact: true, customAttribution: 'Boundaries: Natural Earth' },
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  const loaded = new Promise((resolve) => map.once('load', () => resolve(map)));
  return { map, loaded };
}

// idle resolves when the map has finished drawing what it has.
export function idle(map) {
  return new Promise((resolve) => {
    map.once('idle', resolve);
    map.triggerRepaint();
  });
}

// select outlines the region with code (a country or zone), or none.
export function select(map, code) {
  map.setFilter('selected', ['==', ['get', 'code'], code || '']);
}

// featureBounds is the [[w, s], [e, n]] of a GeoJSON feature.
export function featureBounds(f) {
  let w = 180, s = 90, e = -180, n = -90;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(walk);
  };
  walk(f.geometry.coordinates);
  return [[w, s], [e, n]];
}

// legend writes the status legend into el.
export function legend(el, statuses = STATUSES) {
  el.replaceChildren(...statuses.map(([, name, color]) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = color;
    li.append(sw, name);
    return li;
  }));
}

// h makes an element: h('p', {class: 'x'}, 'text', child...).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

// fill replaces el's children with children, leaving out null, undefined
// and false, and flattening arrays.
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
}

// linkRow is a table row that opens href (a route of the console) when
// clicked, or on Enter or Space: the rows of the lists of changes and
// cases. id is its data-id; selected marks the one open.
export function linkRow(href, id, selected, ...cells) {
  const open = () => { location.hash = href; };
  return h('tr', {
    class: 'row', tabindex: '0', 'data-id': id, 'aria-selected': selected ? 'true' : 'false',
    onclick: open, onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } },
  }, ...cells);
}

// pager fills list (a tbody, or any element with blank) with a listing
// that comes a page at a time (the API's next_cursor) and returns its
// load: load() reads the first page in place of what was shown,
// load(true) the next, added below. fetchPage(cursor) returns a page; row
// makes an element (a table row) of one of its items[key]; more is the
// button that reads on, hidden when there is no next page. An empty
// listing shows blank() if given, else a row of cols cells saying empty.
export function pager(list, more, { fetchPage, key, row, empty, cols, blank }) {
  let cursor = '';
  const load = async (next = false) => {
    const page = await fetchPage(next ? cursor : '');
    const rows = page[key].map(row);
    if (next) list.append(...rows);
    else list.replaceChildren(...rows);
    if (!list.children.length) list.append(blank ? blank() : h('tr', {}, h('td', { colspan: cols }, empty)));
    cursor = page.next_cursor || '';
    more.hidden = !cursor;
  };
  more.addEventListener('click', () => load(true));
  return load;
}
