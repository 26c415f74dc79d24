// The public availability map (/map): no login, no terminal, no personal
// data. Click a country, or choose one, for its status and note.
import { createMap, featureBounds, fill, h, idle, legend, loadAvailability, select, statusLabel } from './basemap.js';

async function main() {
  const availability = await loadAvailability();
  legend(document.getElementById('legend'));
  const { map, loaded } = createMap('map', availability);
  window.skyfenceMap = map; // for the browser tests and the curious
  const byCode = new Map(availability.features.map((f) => [f.properties.code, f]));

  const info = document.getElementById('info');
  const show = (f) => {
    const p = f.properties;
    select(map, p.code);
    fill(info,
      h('h2', {}, p.name, ' ', h('span', { class: 'code' }, p.kind === 'country' ? p.code : '')),
      h('p', { class: `status status-${p.status}` }, statusLabel(p.status)),
      p.note ? h('p', {}, p.note) : null,
    );
    document.getElementById('country').value = p.kind === 'country' ? p.code : '';
  };

  const pick = document.getElementById('country');
  const countries = availability.features.filter((f) => f.properties.kind === 'country')
    .sort((a, b) => a.properties.name.localeCompare(b.properties.name));
  pick.append(...countries.map((f) => h('option', { value: f.properties.code }, f.properties.name)));
  pick.addEventListener('change', () => {
    const f = byCode.get(pick.value);
    if (!f) return;
    show(f);
    map.fitBounds(featureBounds(f), { padding: 40, maxZoom: 5, duration: 0 });
  });

  await loaded;
  map.on('click', (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: ['zones', 'countries'] });
    if (hit.length) show(byCode.get(hit[0].properties.code) || hit[0]);
  });
  map.on('mousemove', (e) => {
    map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: ['countries'] }).length ? 'pointer' : '';
  });
  await idle(map);
  document.body.dataset.ready = '1';
}

main().catch((err) => {
  document.getElementById('info').replaceChildren(h('p', { class: 'error' }, `The map could not load: ${err.message}`));
  document.body.dataset.ready = 'error';
});
