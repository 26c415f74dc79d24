// Package world holds the country and territory boundaries that skyfence
// embeds, and the binary format they are stored in.
//
// The boundaries come from Natural Earth's admin-0 countries through the npm
// package world-atlas (see docs/DATA.md). The generator in tools/worldgen
// turns them into data/countries-10m.bin and data/countries-110m.bin, which
// this package embeds, so a fresh build needs no network.
//
// Each region is one ISO 3166-1 alpha-2 code (or a user-assigned code in
// the X* range for a disputed or unrecognised area). Its polygons are in
// lon/lat degrees, in RFC 7946 orientation (exterior rings counterclockwise,
// holes clockwise), stored open (no closing vertex). Rings that crossed the
// antimeridian are unwrapped: longitudes run on continuously and may lie
// outside [-180, 180], but the middle of each polygon's exterior longitude
// range lies in [-180, 180). A ring whose longitude changes by a net -360 degrees
// winds round the South Pole (Antarctica); the geoindex package normalises
// such rings. No ring is cut at 180 degrees here.
//
// The files also hold each country's territorial sea, the waters within 12
// nautical miles of its coast, as a raster of one arc-minute computed by the
// generator (Data.Sea; see Sea for what it says and how exactly).
//
// Use Load to decode the embedded data, Decode for bytes of your own, and
// Encode (used by the generator) to write the format, which is described on
// DecodeFile.
//
// world owns the boundary data and its file format. It imports only geoindex
// (the shapes it decodes into); never atlas, policy, a store, HTTP or the
// bus.
package world
