// Clustering of the console's terminals on the page, so that MapLibre gets
// only the few thousand features it draws, not every terminal.
//
// The method: points are kept in Web-Mercator world coordinates, x and y
// from 0 to 1 across the world (y from north to south), as MapLibre lays
// out its world of 512 px at zoom 0, twice as wide at each zoom. At the
// integer zoom z the world is cut into square cells of cellPx pixels, one
// grid anchored at the world's corner (so a cell does not change as the
// map pans, and a cell at z+1 is a quarter of one at z). One pass over
// the points inside a box (the view and a margin, widened to whole cells
// so that no cell is counted in part) adds each to its cell: count, denied
// count, sum of positions and bounds. A cell of one point is that point; a
// cell of more is a cluster at its points' mean. Past maxZoom every point
// is its own. A cluster opens at the first zoom whose grid puts its points
// in more than one cell: since cells are intervals, the points share a
// cell exactly when the corners of their bounds do.
//
// Every function here is pure: it reads the points and returns new values.

// TILE is the width of the world in MapLibre's pixels at zoom 0.
export const TILE = 512;

// MAX_LAT is where Web-Mercator ends (the map's north and south edges).
export const MAX_LAT = 85.0511287798;

// mercX and mercY are a longitude's and a latitude's place across the
// world, from 0 to 1; lonOf and latOf undo them.
export function mercX(lon) { return (lon + 180) / 360; }
export function mercY(lat) {
  const s = Math.sin((Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}
export function lonOf(x) { return x * 360 - 180; }
export function latOf(y) { return (360 / Math.PI) * Math.atan(Math.exp((1 - 2 * y) * Math.PI)) - 90; }

// viewBox is the box {x0, y0, x1, y1} in world coordinates of the view
// from west, south, east, north (degrees), widened on each side by margin
// times its size, and cut to the world.
export function viewBox(west, south, east, north, margin = 0) {
  const x0 = mercX(west), x1 = mercX(east), y0 = mercY(north), y1 = mercY(south);
  const mx = (x1 - x0) * margin, my = (y1 - y0) * margin;
  const cut = (v) => Math.max(0, Math.min(1, v));
  return { x0: cut(x0 - mx), y0: cut(y0 - my), x1: cut(x1 + mx), y1: cut(y1 + my) };
}

// contains says whether box outer holds box inner whole.
export function contains(outer, inner) {
  return inner.x0 >= outer.x0 && inner.x1 <= outer.x1 && inner.y0 >= outer.y0 && inner.y1 <= outer.y1;
}

// cellSize is the side of a cell of cellPx pixels at zoom z, in world
// coordinates.
export function cellSize(z, cellPx) { return cellPx / (TILE * 2 ** z); }

// grid adds the points inside box (widened to whole cells) to the cells of
// cellPx pixels at the integer zoom z. pts has n points in x and y (world
// coordinates) and denied (1 where the point was denied, else 0); with
// onlyDenied the others are left out. It returns the cells that hold a
// point (their indexes in cells) and, by cell index, count, denied, the
// sums of x and y, the bounds, and the first point added (first).
export function grid(pts, box, z, cellPx, onlyDenied = false) {
  const size = cellSize(z, cellPx);
  const c0 = Math.floor(box.x0 / size), c1 = Math.floor(box.x1 / size);
  const r0 = Math.floor(box.y0 / size), r1 = Math.floor(box.y1 / size);
  const cols = c1 - c0 + 1, rows = r1 - r0 + 1;
  const X0 = c0 * size, X1 = (c1 + 1) * size, Y0 = r0 * size, Y1 = (r1 + 1) * size;
  const m = cols * rows;
  const g = {
    cells: [], count: new Int32Array(m), denied: new Int32Array(m), first: new Int32Array(m),
    sx: new Float64Array(m), sy: new Float64Array(m),
    minx: new Float64Array(m), maxx: new Float64Array(m), miny: new Float64Array(m), maxy: new Float64Array(m),
  };
  const { x, y, denied } = pts;
  for (let i = 0; i < pts.n; i++) {
    if (onlyDenied && !denied[i]) continue;
    const px = x[i], py = y[i];
    if (px < X0 || px >= X1 || py < Y0 || py >= Y1) continue;
    const c = (Math.floor(py / size) - r0) * cols + (Math.floor(px / size) - c0);
    if (g.count[c]++ === 0) {
      g.cells.push(c);
      g.first[c] = i;
      g.minx[c] = g.maxx[c] = px;
      g.miny[c] = g.maxy[c] = py;
    } else {
      if (px < g.minx[c]) g.minx[c] = px; else if (px > g.maxx[c]) g.maxx[c] = px;
      if (py < g.miny[c]) g.miny[c] = py; else if (py > g.maxy[c]) g.maxy[c] = py;
    }
    g.denied[c] += denied[i];
    g.sx[c] += px;
    g.sy[c] += py;
  }
  return g;
}

// expansionZoom is the first zoom after z at which points within the
// bounds minx..maxx, miny..maxy fall in more than one cell, or maxZoom + 1
// (where every point is its own) if they share one up to maxZoom.
export function expansionZoom(minx, maxx, miny, maxy, z, cellPx, maxZoom) {
  for (let k = z + 1; k <= maxZoom; k++) {
    const s = cellSize(k, cellPx);
    if (Math.floor(minx / s) !== Math.floor(maxx / s) || Math.floor(miny / s) !== Math.floor(maxy / s)) return k;
  }
  return maxZoom + 1;
}

// cluster is what the map draws of pts inside box at zoom (not only
// integers): a list of {i} for a point alone (its index in pts) and of
// {x, y, count, denied, expand} for a cluster, at its points' mean, with
// the zoom that opens it. Past maxZoom every point inside box is alone.
export function cluster(pts, box, zoom, { cellPx = 40, maxZoom = 8 } = {}) {
  const z = Math.floor(zoom);
  const out = [];
  if (z > maxZoom) {
    const { x, y } = pts;
    for (let i = 0; i < pts.n; i++) {
      if (x[i] >= box.x0 && x[i] <= box.x1 && y[i] >= box.y0 && y[i] <= box.y1) out.push({ i });
    }
    return out;
  }
  const g = grid(pts, box, z, cellPx);
  for (const c of g.cells) {
    const n = g.count[c];
    if (n === 1) {
      out.push({ i: g.first[c] });
      continue;
    }
    out.push({
      x: g.sx[c] / n, y: g.sy[c] / n, count: n, denied: g.denied[c],
      expand: expansionZoom(g.minx[c], g.maxx[c], g.miny[c], g.maxy[c], z, cellPx, maxZoom),
    });
  }
  return out;
}

// heat is the denied points inside box at the integer zoom below zoom,
// summed in cells of cellPx pixels: a list of {x, y, denied} at the mean
// of each cell's denied points. Cells much smaller than the heat layer's
// radius draw as the points themselves would.
export function heat(pts, box, zoom, cellPx = 10) {
  const g = grid(pts, box, Math.floor(zoom), cellPx, true);
  return g.cells.map((c) => ({ x: g.sx[c] / g.count[c], y: g.sy[c] / g.count[c], denied: g.count[c] }));
}
