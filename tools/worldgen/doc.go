// Command worldgen regenerates the embedded boundary data of package world
// from the pinned npm packages in this folder.
//
// Run it from the repository root after installing the sources:
//
//	cd tools/worldgen && npm ci && cd ../.. && go run ./tools/worldgen
//
// It reads world-atlas's countries-10m.json and countries-110m.json
// (TopoJSON, Natural Earth admin-0) and i18n-iso-countries's codes.json,
// and writes world/data/countries-10m.bin and world/data/countries-110m.bin
// with world.Encode. On the way it:
//
//   - decodes the quantized, delta-encoded arcs and keeps the integer
//     coordinates exactly as decoded;
//   - unwraps rings across the antimeridian, leaving polar rings
//     (Antarctica) to wind round the pole, and moves each other polygon by
//     whole turns so that its exterior's middle longitude is in [-180, 180);
//   - reverses every ring from d3's orientation to RFC 7946's;
//   - drops repeated and closing vertices, and rings with fewer than three
//     distinct vertices, reporting each drop on stderr;
//   - gives every feature an ISO 3166-1 alpha-2 code, by numeric id or by
//     the name table in codes.go, merging and splitting features as that
//     table says, and fails on any feature it cannot place;
//   - computes each region's territorial sea on a grid of one arc-minute
//     (sea.go, belt.go): the land cells by looking up every cell centre in
//     a geoindex.Index over the regions (and the cells of boundary
//     vertices, for islands smaller than a cell), then for every other
//     cell the nearest land cell within 12 nautical miles of great circle,
//     and stores it as the file's territorial-sea section (world.Sea).
//
// It prints a summary (regions, vertices, file sizes, territory splits, the
// territorial sea's cells and bytes) on stdout. With -survey it also lists,
// for every feature, the polygons far from its largest one: the candidates
// for the territory table.
//
// It imports only world (the format it writes) and geoindex (the index
// behind the territorial sea); nothing of skyfence imports it.
package main
