// Tests of src/grid.js, the console map's clustering: `node --test
// test/grid.test.mjs` (console/browser_test.go runs it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellSize, cluster, contains, expansionZoom, grid, heat, latOf, lonOf, mercX, mercY, viewBox } from '../src/grid.js';

// points makes n points at the places lonlat(i) gives, denied where
// denied(i) is true.
function points(n, lonlat, denied = () => false) {
  const pts = { n, x: new Float64Array(n), y: new Float64Array(n), denied: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const [lon, lat] = lonlat(i);
    pts.x[i] = mercX(lon);
    pts.y[i] = mercY(lat);
    pts.denied[i] = denied(i) ? 1 : 0;
  }
  return pts;
}

// random is a small seeded generator, so that a failure repeats.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const world = viewBox(-180, -90, 180, 90);

test('mercator: the corners, and back', () => {
  assert.equal(mercX(-180), 0);
  assert.equal(mercX(180), 1);
  assert.equal(mercY(0), 0.5);
  assert.ok(Math.abs(mercY(85.0511287798)) < 1e-9);
  assert.ok(mercY(90) === mercY(89), 'the poles are cut to the map\'s edge');
  for (const [lon, lat] of [[13.4, 52.52], [-74, 40.7], [151.2, -33.9], [0, 0]]) {
    assert.ok(Math.abs(lonOf(mercX(lon)) - lon) < 1e-9);
    assert.ok(Math.abs(latOf(mercY(lat)) - lat) < 1e-9);
  }
});

test('viewBox widens by the margin and stays in the world', () => {
  const b = viewBox(0, 0, 90, 45, 0.5);
  assert.ok(Math.abs(b.x0 - (0.5 - 0.125)) < 1e-12 && Math.abs(b.x1 - (0.75 + 0.125)) < 1e-12);
  assert.ok(b.y0 < mercY(45) && b.y1 > 0.5);
  assert.deepEqual(viewBox(-400, -90, 400, 90, 1), { x0: 0, y0: 0, x1: 1, y1: 1 });
  assert.ok(contains(b, viewBox(10, 10, 80, 40)));
  assert.ok(!contains(viewBox(10, 10, 80, 40), b));
});

test('every point is counted once, at every zoom, in clusters or alone', () => {
  const rnd = random(7);
  const n = 20000;
  const pts = points(n, () => [rnd() * 360 - 180, rnd() * 150 - 75], () => rnd() < 0.3);
  const denied = pts.denied.reduce((a, b) => a + b, 0);
  for (let zoom = 0; zoom <= 10; zoom += 0.5) {
    const got = cluster(pts, world, zoom);
    const seen = new Uint8Array(n);
    let count = 0, deniedCount = 0, clusters = 0;
    for (const c of got) {
      if (c.count) {
        assert.ok(c.count > 1, 'a cluster has more than one point');
        assert.ok(c.denied >= 0 && c.denied <= c.count);
        assert.ok(c.expand > Math.floor(zoom) && c.expand <= 9);
        count += c.count;
        deniedCount += c.denied;
        clusters++;
      } else {
        assert.equal(seen[c.i], 0, `point ${c.i} twice`);
        seen[c.i] = 1;
        count++;
        deniedCount += pts.denied[c.i];
      }
    }
    assert.equal(count, n, `zoom ${zoom}`);
    assert.equal(deniedCount, denied, `zoom ${zoom}`);
    // No more features than cells: at most one a cell of 40 px.
    const cells = Math.ceil(1 / cellSize(Math.floor(zoom), 40)) ** 2;
    if (zoom < 9) assert.ok(clusters > 0 && got.length <= cells, `zoom ${zoom}: ${got.length} features in ${cells} cells`);
    else assert.equal(clusters, 0, 'past the last cluster zoom every point is alone');
  }
});

test('a cluster is at its points\' mean, in the cell of its points', () => {
  // Three points close together near Berlin, one far away.
  const at = [[13.40, 52.52], [13.42, 52.50], [13.38, 52.53], [-74, 40.7]];
  const pts = points(at.length, (i) => at[i], (i) => i === 1);
  const got = cluster(pts, world, 3);
  assert.equal(got.length, 2);
  const c = got.find((g) => g.count);
  assert.equal(c.count, 3);
  assert.equal(c.denied, 1);
  const mx = (pts.x[0] + pts.x[1] + pts.x[2]) / 3, my = (pts.y[0] + pts.y[1] + pts.y[2]) / 3;
  assert.ok(Math.abs(c.x - mx) < 1e-12 && Math.abs(c.y - my) < 1e-12);
  assert.deepEqual(got.find((g) => !g.count), { i: 3 });
});

test('only the cells of the box, whole: a cell across its edge counts all its points', () => {
  const rnd = random(3);
  const n = 5000;
  const pts = points(n, () => [rnd() * 40, rnd() * 40]);
  const zoom = 4;
  const box = viewBox(10, 10, 20, 20);
  const size = cellSize(zoom, 40);
  const g = grid(pts, box, zoom, 40);
  const inCells = (i) => Math.floor(pts.x[i] / size) >= Math.floor(box.x0 / size) && Math.floor(pts.x[i] / size) <= Math.floor(box.x1 / size)
    && Math.floor(pts.y[i] / size) >= Math.floor(box.y0 / size) && Math.floor(pts.y[i] / size) <= Math.floor(box.y1 / size);
  let want = 0;
  for (let i = 0; i < n; i++) if (inCells(i)) want++;
  const got = g.cells.reduce((a, c) => a + g.count[c], 0);
  assert.equal(got, want);
  assert.ok(want > 0 && want < n);
});

test('a cluster opens at its expansion zoom, not before', () => {
  const rnd = random(11);
  for (let trial = 0; trial < 200; trial++) {
    // A tight group somewhere: a few points within a random spread.
    const lon = rnd() * 300 - 150, lat = rnd() * 120 - 60, spread = 10 ** (-4 * rnd());
    const pts = points(2 + Math.floor(rnd() * 5), () => [lon + rnd() * spread, lat + rnd() * spread]);
    for (const c of cluster(pts, world, 0).filter((g) => g.count)) {
      const inCluster = (zoom) => cluster(pts, world, zoom);
      if (c.expand <= 8) {
        assert.ok(inCluster(c.expand).length > 1, `at its expansion zoom ${c.expand} the cluster is still one`);
        assert.equal(inCluster(c.expand - 1).filter((g) => g.count === c.count).length, 1, 'it opened before its expansion zoom');
      } else {
        assert.equal(inCluster(c.expand).length, c.count, 'past the last cluster zoom every point is alone');
      }
    }
  }
  assert.equal(expansionZoom(0.1, 0.1, 0.2, 0.2, 0, 40, 8), 9, 'points at one place open only where every point is alone');
});

test('heat sums the denied points by cell', () => {
  const rnd = random(5);
  const n = 3000;
  const pts = points(n, () => [rnd() * 20, rnd() * 20], (i) => i % 3 === 0);
  for (const zoom of [0, 2.5, 6]) {
    const cells = heat(pts, world, zoom);
    assert.equal(cells.reduce((a, c) => a + c.denied, 0), 1000);
    assert.ok(cells.every((c) => c.denied > 0));
  }
});
