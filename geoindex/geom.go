package geoindex

// Point is a position in degrees: Lon east of Greenwich, Lat north of the
// equator (GeoJSON order: longitude first).
type Point struct {
	Lon, Lat float64
}

// Ring is a closed sequence of vertices joined by straight edges in lon/lat.
// The closing vertex may be given (GeoJSON) or left out; both mean the same.
type Ring []Point

// Polygon is an exterior ring followed by its holes. The index uses the
// even-odd rule, so the role and orientation of a ring matter only for a ring
// that winds round a pole (see Normalize).
type Polygon []Ring

// Shape is one region to index: a country, a territory or a custom zone.
// Name is used only in error messages.
type Shape struct {
	Name     string
	Polygons []Polygon
}
