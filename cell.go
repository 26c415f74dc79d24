package skyfence

import (
	"fmt"
	"math"
)

// CellDegrees is the size of a capacity cell: the world is cut into squares
// of 0.25 x 0.25 degrees of latitude and longitude (about 28 x 28 km at the
// equator, narrower towards the poles).
const CellDegrees = 0.25

// CellOf returns the id of the capacity cell holding a position: "c" then
// the cell's row and column from the south-west corner of the world, e.g.
// "c555.728". Latitude 90 falls in the top row and longitude 180 in the
// first column.
func CellOf(lat, lon float64) string {
	rows, cols := int(180/CellDegrees), int(360/CellDegrees)
	r := min(int(math.Floor((lat+90)/CellDegrees)), rows-1)
	if lon == 180 {
		lon = -180
	}
	c := min(int(math.Floor((lon+180)/CellDegrees)), cols-1)
	return fmt.Sprintf("c%d.%d", max(r, 0), max(c, 0))
}

// CellBounds returns the south-west and north-east corners of a capacity
// cell, or ok false if id is not a cell of CellOf.
func CellBounds(id string) (minLat, minLon, maxLat, maxLon float64, ok bool) {
	var r, c int
	if n, err := fmt.Sscanf(id, "c%d.%d", &r, &c); err != nil || n != 2 || fmt.Sprintf("c%d.%d", r, c) != id {
		return 0, 0, 0, 0, false
	}
	rows, cols := int(180/CellDegrees), int(360/CellDegrees)
	if r < 0 || r >= rows || c < 0 || c >= cols {
		return 0, 0, 0, 0, false
	}
	minLat, minLon = float64(r)*CellDegrees-90, float64(c)*CellDegrees-180
	return minLat, minLon, minLat + CellDegrees, minLon + CellDegrees, true
}
