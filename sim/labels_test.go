package sim

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

func TestWriteLabels(t *testing.T) {
	f := generate(t, 2000, 5)
	var buf bytes.Buffer
	if err := f.WriteLabels(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != f.Len()+1 || rows[0][0] != "terminal_id" {
		t.Fatalf("%d rows, header %v; want %d and terminal_id first", len(rows), rows[0], f.Len()+1)
	}
	bad := 0
	for i, row := range rows[1:] {
		l := f.Label(i)
		b, err := ParseBehaviour(row[1])
		if err != nil || row[0] != l.ID || b != l.Behaviour || row[4] != l.Plan || row[5] != l.Country {
			t.Fatalf("row %d: %v, label %+v (%v)", i, row, l, err)
		}
		if row[2] != "true" {
			if row[2] != "false" || row[3] != "" {
				t.Fatalf("row %d: honest %v", i, row)
			}
			continue
		}
		bad++
		at, err := time.Parse(time.RFC3339, row[3])
		if err != nil || !at.Equal(l.BadFrom) {
			t.Fatalf("row %d: bad_from %q, label says %v", i, row[3], l.BadFrom)
		}
	}
	want := 0
	for b, n := range f.Counts() {
		if Behaviour(b).Bad() {
			want += n
		}
	}
	if bad != want || bad == 0 {
		t.Errorf("%d terminals labelled bad, want %d bad actors", bad, want)
	}
}
