// Package atlas answers where a position is: in which country or territory,
// on its land or in its territorial sea, or in none (the high seas and the
// air above them, "international").
//
// It composes the embedded boundaries (package world) with the exact index
// (package geoindex). Land is decided by the country polygons; where no
// country's land contains a point, the territorial-sea raster of the data
// (world.Sea) decides, if the data has one.
//
// atlas owns the answer to "where is this position" (Atlas, Place). It
// imports only world and geoindex: never policy, a store, HTTP or the bus.
package atlas

import (
	"fmt"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
)

// None is the Country of a position in no country: the high seas.
const None = -1

// Place is where a position is.
type Place struct {
	// Country is the index of the country or territory in Atlas.Countries,
	// or None.
	Country int
	// Land is true on a country's land, false at sea (its territorial sea
	// or the high seas).
	Land bool
}

// Atlas locates positions among the countries of one world data set. It is
// immutable and safe for concurrent use; Locate neither allocates nor locks.
type Atlas struct {
	data      *world.Data
	index     *geoindex.Index
	countryOf []int16 // country of each of the index's sets, or None
}

// New indexes the countries of d. Where countries' land overlapped, the
// first in code order would own the overlap; the embedded data has no
// overlaps (see the tests).
func New(d *world.Data, opt geoindex.Options) (*Atlas, error) {
	if len(d.Countries) > 1<<15-1 {
		return nil, fmt.Errorf("atlas: %d countries, at most %d", len(d.Countries), 1<<15-1)
	}
	shapes := make([]geoindex.Shape, len(d.Countries))
	for i, c := range d.Countries {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	ix, err := geoindex.Build(shapes, opt)
	if err != nil {
		return nil, fmt.Errorf("atlas: %w", err)
	}
	a := &Atlas{data: d, index: ix, countryOf: make([]int16, ix.NumSets())}
	for id := range a.countryOf {
		regs := ix.Regions(geoindex.SetID(id))
		// The index also names sets that no point has (every combination
		// of the regions whose borders cross one leaf cell), so a set of
		// several countries is not in itself an overlap.
		a.countryOf[id] = None
		if len(regs) > 0 {
			a.countryOf[id] = int16(regs[0])
		}
	}
	return a, nil
}

// Countries returns the countries and territories, in the order of
// Place.Country.
func (a *Atlas) Countries() []world.Country { return a.data.Countries }

// Code returns the code of country i, or "" for None.
func (a *Atlas) Code(i int) string {
	if i == None {
		return ""
	}
	return a.data.Countries[i].Code
}

// Lookup returns the index of the country with the given code.
func (a *Atlas) Lookup(code string) (int, bool) {
	for i, c := range a.data.Countries {
		if c.Code == code {
			return i, true
		}
	}
	return None, false
}

// Locate returns where the position is. A coordinate that is NaN, infinite
// or out of range gives a *geoindex.InvalidPointError.
func (a *Atlas) Locate(lon, lat float64) (Place, error) {
	id, err := a.index.Lookup(lon, lat)
	if err != nil {
		return Place{Country: None}, err
	}
	return a.place(id, lon, lat), nil
}

// LocateBatch locates pts[i] into out[i] (out must be at least as long),
// faster per point than Locate. Invalid positions get Country None and the
// first one is returned as a *geoindex.InvalidPointError after all points
// have been answered. ids is scratch space of the same length, or nil.
func (a *Atlas) LocateBatch(pts []geoindex.Point, out []Place, ids []geoindex.SetID) error {
	if len(ids) < len(pts) {
		ids = make([]geoindex.SetID, len(pts))
	}
	err := a.index.LookupBatch(pts, ids)
	for i, p := range pts {
		if ids[i] == geoindex.NoSet {
			out[i] = Place{Country: None}
			continue
		}
		out[i] = a.place(ids[i], p.Lon, p.Lat)
	}
	return err
}

func (a *Atlas) place(id geoindex.SetID, lon, lat float64) Place {
	if c := a.countryOf[id]; c != None {
		return Place{Country: int(c), Land: true}
	}
	return Place{Country: a.seaOwner(lon, lat)}
}
