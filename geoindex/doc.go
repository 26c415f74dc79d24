// Package geoindex is skyfence's exact point-in-region index: given a
// position, which of a fixed set of regions (countries, territories, zones)
// contain it.
//
// An Index is built once from normalized rings (Normalize repairs the
// spherical conventions of the boundary data: rings across the antimeridian,
// rings round a pole, orientation by signed area) and is then immutable:
// Lookup neither locks nor allocates, and any number of goroutines may call
// it. Its answer is exactly that of Reference, which tests every edge of
// every region, for every input, points on edges and vertices included; the
// semantics (straight edges in lon/lat, the half-open rule that gives every
// point of a partition one owner) are stated on Index.
//
// geoindex is a leaf engine: it imports only the standard library, and
// knows nothing of policies, storage, HTTP or the bus. Packages world (the
// embedded boundaries), atlas (countries by position) and policy (zones)
// build on it.
package geoindex
