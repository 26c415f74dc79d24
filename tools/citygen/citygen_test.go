package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"slices"
	"testing"
)

func TestKeepFiltersAndSorts(t *testing.T) {
	all := []source{
		{Name: "Small", ISO2: "PL", Lat: "50.0", Lng: "20.0", Population: "900"},
		{Name: "Big", ISO2: "UA", Lat: "50.45", Lng: "30.52", Population: "2952301"},
		{Name: "None", ISO2: "UA", Lat: "49.0", Lng: "31.0", Population: ""},
		{Name: "Mid", ISO2: "DE", Lat: "52.52", Lng: "13.40", Population: "3644826.0"},
		{Name: "Tie", ISO2: "AE", Lat: "25.2", Lng: "55.3", Population: "2952301"},
	}
	got, err := keep(all, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	if want := []string{"Mid", "Tie", "Big"}; !slices.Equal(names, want) {
		t.Errorf("kept %v, want %v (largest first, then by country)", names, want)
	}
	for _, bad := range []source{
		{Name: "X", ISO2: "PL", Lat: "91", Lng: "0", Population: "5000"},
		{Name: "X", ISO2: "PL", Lat: "1", Lng: "0", Population: "many"},
		{Name: "X", ISO2: "POL", Lat: "1", Lng: "0", Population: "5000"},
	} {
		if _, err := keep([]source{bad}, 1000); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestWriteIsReproducible(t *testing.T) {
	cities, err := keep([]source{{Name: "Kyiv, city", ISO2: "UA", Lat: "50.4500", Lng: "30.5233", Population: "2952301"}}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := write(&a, cities); err != nil {
		t.Fatal(err)
	}
	if err := write(&b, cities); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of the same cities differ")
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(zr).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"name", "country", "lat", "lon", "population"}, {"Kyiv, city", "UA", "50.4500", "30.5233", "2952301"}}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("got %q, want %q", rows, want)
	}
}
