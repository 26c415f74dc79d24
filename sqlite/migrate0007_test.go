package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/storetest"
)

// TestMigrationFillsAlertColumns: alerts stored before migration 0007
// get their region and incident (and, by 0008, whether it explains them)
// from their data (those whose data is not a JSON object get none), so
// that the new filters find them.
func TestMigrationFillsAlertColumns(t *testing.T) {
	path := fresh(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/000[1-6]_*.sql")
	if err != nil || len(files) != 6 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, i+1, filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range []struct{ id, data string }{
		{"a1", `{"id":"a1","region":"UA","incident":"in_1","explained":true}`},
		{"a2", `{"id":"a2","region":"RU-BEL"}`},
		{"a3", "not json \x00\xff"},
		{"a4", `["UA"]`},
		{"a5", `{"region":5}`},
	} {
		if _, err := raw.Exec(`INSERT INTO alerts (id, terminal_id, detector, severity, score, last_seen, data) VALUES (?, 't', 'cluster', 0, 0, 1, ?)`,
			row.id, []byte(row.data)); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db := open(t, path)
	yes, no := true, false // migration 0008 fills explained from the data too
	for _, c := range []struct {
		f    skyfence.AlertFilter
		want []string
	}{
		{skyfence.AlertFilter{Region: "UA"}, []string{"a1"}},
		{skyfence.AlertFilter{Region: "RU-BEL"}, []string{"a2"}},
		{skyfence.AlertFilter{Region: "5"}, []string{"a5"}},
		{skyfence.AlertFilter{Incident: "in_1"}, []string{"a1"}},
		{skyfence.AlertFilter{Explained: &yes}, []string{"a1"}},
		{skyfence.AlertFilter{Explained: &no}, []string{"a5", "a4", "a3", "a2"}},
		{skyfence.AlertFilter{}, []string{"a5", "a4", "a3", "a2", "a1"}},
	} {
		as, _, err := db.FindAlerts(t.Context(), c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("FindAlerts(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

func BenchmarkAlertPages(b *testing.B) { storetest.BenchmarkAlertPages(b, open(b, fresh(b)), 100000) }
