package sim

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// citiesGz is data/cities.csv.gz, made by tools/citygen from the SimpleMaps
// World Cities Database (CC BY 4.0; see data/README.md).
//
//go:embed data/cities.csv.gz
var citiesGz []byte

// City is a populated place of the embedded city data.
type City struct {
	Name string
	// Country is the ISO 3166-1 alpha-2 code the source gives. Where a
	// city lies according to skyfence's boundaries can differ (Crimea):
	// the simulator locates cities with the atlas and uses that.
	Country    string
	Lat, Lon   float64
	Population int
}

// Cities decodes the embedded cities (44,058 of at least 1,000 inhabitants,
// largest first).
func Cities() ([]City, error) {
	zr, err := gzip.NewReader(bytes.NewReader(citiesGz))
	if err != nil {
		return nil, fmt.Errorf("sim: cities: %w", err)
	}
	return readCities(zr)
}

// readCities reads the CSV form that tools/citygen writes: a header, then
// name, country, lat, lon, population.
func readCities(r io.Reader) ([]City, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 5
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return nil, fmt.Errorf("sim: cities: header: %w", err)
	}
	var out []City
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sim: cities: %w", err)
		}
		lat, err1 := strconv.ParseFloat(rec[2], 64)
		lon, err2 := strconv.ParseFloat(rec[3], 64)
		pop, err3 := strconv.Atoi(rec[4])
		if err1 != nil || err2 != nil || err3 != nil {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("sim: cities: line %d: bad number in %q", line, rec)
		}
		out = append(out, City{Name: rec[0], Country: rec[1], Lat: lat, Lon: lon, Population: pop})
	}
}
