package world

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// run is a run of cells in the order of SeaBuilder: n cells of an owner.
type run struct{ n, owner int }

// seaOf builds a Sea over regions countries from runs, filling the rest of
// the grid with no owner.
func seaOf(t testing.TB, regions int, runs ...run) *Sea {
	t.Helper()
	b := NewSeaBuilder(regions)
	left := SeaCols * SeaRows
	for _, r := range runs {
		if err := b.Add(r.n, r.owner); err != nil {
			t.Fatalf("Add(%d, %d): %v", r.n, r.owner, err)
		}
		left -= r.n
	}
	if left > 0 {
		if err := b.Add(left, -1); err != nil {
			t.Fatal(err)
		}
	}
	s, err := b.Sea()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runsOf returns the runs of s, decoded from its encoding.
func runsOf(s *Sea) []run {
	var w writer
	s.appendRuns(&w)
	var out []run
	for b := w.b; len(b) > 0; {
		n, k := binary.Uvarint(b)
		o, l := binary.Uvarint(b[k:])
		out = append(out, run{int(n), int(o) - 1})
		b = b[k+l:]
	}
	return out
}

// testRuns cross rows and blocks: a block of three owners, a run from one
// row into the next, cells on both sides of the antimeridian, a block row
// whose rows differ only in owner, and a uniform block of an owner.
var testRuns = []run{
	{2*SeaCols + 7, -1}, {3, 1}, {1, 0}, {4, 2}, // row 2: a block of four owners
	{SeaCols - 15, -1}, {16, 2}, // the end of row 2 and the start of row 3
	{SeaCols - 17, -1}, {1, 0}, // the last cell of row 3
	{15*SeaCols + 30, -1}, {15, 1}, {15, -1}, {15, 1}, // two blocks that only row 19 makes mixed
	{SeaCols*SeaRows/2 - 19*SeaCols - 75, -1}, {15 * SeaCols, 0}, // a whole row of blocks
}

// ownerAt returns the owner of cell i under runs.
func ownerAt(runs []run, i int) int {
	for _, r := range runs {
		if i < r.n {
			return r.owner
		}
		i -= r.n
	}
	return -1
}

func TestSeaBuilder(t *testing.T) {
	s := seaOf(t, 3, testRuns...)
	for row := range 40 {
		for col := range SeaCols {
			if got, want := s.cell(col, row)-1, ownerAt(testRuns, row*SeaCols+col); got != want {
				t.Fatalf("cell (%d, %d) = %d, want %d", col, row, got, want)
			}
		}
	}
	mid := SeaRows / 2
	for _, row := range []int{mid - 1, mid, mid + 14, mid + 15} {
		for _, col := range []int{0, 7, SeaCols - 1} {
			if got, want := s.cell(col, row)-1, ownerAt(testRuns, row*SeaCols+col); got != want {
				t.Errorf("cell (%d, %d) = %d, want %d", col, row, got, want)
			}
		}
	}
	if got := s.MixedBlocks(); got != 5 {
		t.Errorf("%d mixed blocks, want 5 (rows 2 and 3: 3; row 19: 2)", got)
	}
	if got, want := runsOf(s), append(testRuns, run{SeaCols*SeaRows/2 - 15*SeaCols, -1}); !reflect.DeepEqual(got, want) {
		t.Errorf("runs of the Sea = %v, want %v", got, want)
	}
}

func TestSeaBuilderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		runs []run
		want string
	}{
		{"empty run", []run{{0, 1}}, "run of 0 cells"},
		{"past the end", []run{{SeaCols * SeaRows, -1}, {1, 0}}, "run of 1 cells after"},
		{"owner too large", []run{{5, 3}}, "owner 3 is not a region"},
		{"owner below -1", []run{{5, -2}}, "owner -2"},
		{"repeated owner", []run{{5, 1}, {5, 1}}, "repeats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewSeaBuilder(3)
			var err error
			for _, r := range tc.runs {
				if err = b.Add(r.n, r.owner); err != nil {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	b := NewSeaBuilder(3)
	if err := b.Add(100, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sea(); err == nil || !strings.Contains(err.Error(), "100 cells of") {
		t.Errorf("Sea of an incomplete grid: error %v", err)
	}
}

// withSea returns small() with a territorial sea over its two regions.
func withSea(t testing.TB) *File {
	f := small()
	f.Sea = seaOf(t, len(f.Regions), run{3*SeaCols + 10, -1}, run{20, 0}, run{SeaCols, 1})
	return f
}

func TestSeaRoundTrip(t *testing.T) {
	want := withSea(t)
	b, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("DecodeFile(Encode(f)) differs from f")
	}
	if again, err := Encode(got); err != nil || !bytes.Equal(again, b) {
		t.Errorf("Encode(DecodeFile(b)) differs from b (%v)", err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Sea, want.Sea) {
		t.Error("Data.Sea differs from File.Sea")
	}
}

// withSection returns the file f with a raw section appended.
func withSection(t testing.TB, f *File, tag uint64, payload []byte) []byte {
	b, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	b = binary.AppendUvarint(b, tag)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// payload encodes runs as a territorial-sea section.
func payload(runs ...run) []byte {
	var w writer
	for _, r := range runs {
		w.uvarint(uint64(r.n))
		w.uvarint(uint64(r.owner + 1))
	}
	return w.b
}

func TestSeaDecodeErrors(t *testing.T) {
	all := SeaCols * SeaRows
	for _, tc := range []struct {
		name string
		p    []byte
		want string
	}{
		{"owner beyond the regions", payload(run{5, 2}, run{all - 5, -1}), "owner 2 is not a region"},
		{"huge owner", payload(run{5, 1 << 40}, run{all - 5, -1}), "out of range"},
		{"huge run", payload(run{1 << 40, -1}), "out of range"},
		{"empty run", payload(run{0, 0}, run{all, -1}), "run of 0 cells"},
		{"repeated owner", payload(run{5, -1}, run{all - 5, -1}), "repeats"},
		{"short", payload(run{all - 1, -1}), "section ends"},
		{"long", payload(run{all, -1}, run{1, 0}), "after 233280000"},
		{"cut in a run", payload(run{all, -1})[:4], "owner of a territorial-sea run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := small()
			f.Sections = nil
			_, err := DecodeFile(withSection(t, f, SeaTag, tc.p))
			var fe *FormatError
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("error %v is not a FormatError", err)
			}
		})
	}
	f := withSea(t)
	f.Sea = &Sea{}
	if _, err := Encode(f); err == nil || !strings.Contains(err.Error(), "a zero Sea") {
		t.Errorf("Encode of a zero Sea: error %v", err)
	}
	f = withSea(t)
	f.Regions = f.Regions[:1]
	if _, err := Encode(f); err == nil || !strings.Contains(err.Error(), "owner 1, but only 1 regions") {
		t.Errorf("Encode of a sea with an owner beyond the regions: error %v", err)
	}
	f = small()
	f.Sections = []Section{{Tag: SeaTag, Payload: payload(run{all, -1})}}
	if _, err := Encode(f); err == nil || !strings.Contains(err.Error(), "set File.Sea") {
		t.Errorf("Encode of a raw section with the sea's tag: error %v", err)
	}
}
