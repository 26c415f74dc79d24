package postgres_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/storetest"
)

// TestMigrationFillsAlertColumns: alerts stored before migration 0007
// get their region and incident (and, by 0008, whether it explains them)
// from their data (those whose data is not a JSON object, or not even
// UTF-8, get none), so that the new filters find them.
func TestMigrationFillsAlertColumns(t *testing.T) {
	schema := freshSchema(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url(t))
	if err != nil {
		t.Fatal(err)
	}
	id := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+id+`; SET search_path TO `+id+`;
		CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
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
		if _, err := conn.Exec(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, i+1, filepath.Base(f)); err != nil {
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
		if _, err := conn.Exec(ctx, `INSERT INTO alerts (id, terminal_id, detector, severity, score, last_seen, data) VALUES ($1, 't', 'cluster', 0, 0, 1, $2)`,
			row.id, []byte(row.data)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)
	db := open(t, schema)
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
		as, _, err := db.FindAlerts(ctx, c.f)
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

func BenchmarkAlertPages(b *testing.B) {
	storetest.BenchmarkAlertPages(b, open(b, freshSchema(b)), 100000)
}
