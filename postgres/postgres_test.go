package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/postgres"
	"github.com/skyfence/skyfence/storetest"
)

// url returns the database the tests use, or skips the test.
func url(t testing.TB) string {
	u := os.Getenv("SKYFENCE_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("SKYFENCE_TEST_POSTGRES_URL is not set (CI sets it to postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// poolURL returns the database the tests use for a store: one of at most
// four connections, so that the tests running in parallel on a machine with
// many cores stay within max_connections.
func poolURL(t testing.TB) string {
	u := url(t)
	switch {
	case strings.Contains(u, "pool_max_conns"):
	case strings.Contains(u, "://") && strings.Contains(u, "?"):
		u += "&pool_max_conns=4"
	case strings.Contains(u, "://"):
		u += "?pool_max_conns=4"
	default:
		u += " pool_max_conns=4"
	}
	return u
}

var schemas atomic.Int64

// freshSchema returns the name of a schema no other test uses, dropped at
// the test's cleanup (after the stores opened in it are closed).
func freshSchema(t testing.TB) string {
	name := fmt.Sprintf("skyfence_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), schemas.Add(1))
	u := url(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// open opens the store in the schema, closed at the test's cleanup.
func open(t testing.TB, schema string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), poolURL(t), slog.New(slog.NewTextHandler(t.Output(), nil)), postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	url(t)
	storetest.Run(t, func(t *testing.T) skyfence.Store { return open(t, freshSchema(t)) })
}

func TestShared(t *testing.T) {
	schema := freshSchema(t)
	storetest.RunShared(t, []skyfence.Store{open(t, schema), open(t, schema), open(t, schema)})
}

// TestProcesses appends to one chain from several processes at once.
func TestProcesses(t *testing.T) {
	const procs, each = 4, 25
	schema := freshSchema(t)
	open(t, schema) // create it
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmds[i] = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestAppendChild$")
		cmds[i].Env = append(os.Environ(), "SKYFENCE_POSTGRES_CHILD="+schema, "SKYFENCE_POSTGRES_APPENDS="+strconv.Itoa(each))
		cmds[i].Stdout, cmds[i].Stderr = t.Output(), t.Output()
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	storetest.CheckChain(t, open(t, schema), procs*each)
}

// TestAppendChild is a child of TestProcesses.
func TestAppendChild(t *testing.T) {
	schema := os.Getenv("SKYFENCE_POSTGRES_CHILD")
	if schema == "" {
		t.Skip("run by TestProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("SKYFENCE_POSTGRES_APPENDS"))
	storetest.Append(t, open(t, schema), n)
}

func TestMigrateOnce(t *testing.T) {
	schema := freshSchema(t)
	// Processes starting together apply each version once.
	done := make(chan *postgres.DB)
	for range 3 {
		go func() {
			db, err := postgres.Open(t.Context(), poolURL(t), nil, postgres.WithSchema(schema))
			if err != nil {
				t.Errorf("Open: %v", err)
			}
			done <- db
		}()
	}
	for range 3 {
		if db := <-done; db != nil {
			db.Close()
		}
	}
	open(t, schema).Close()
	conn := connect(t)
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	var n, version int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), max(version) FROM `+table).Scan(&n, &version); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	if n != len(files) || version != len(files) {
		t.Errorf("schema_migrations after opening four times: %d rows up to version %d, want %d of each", n, version, len(files))
	}

	// A database from a newer build is refused rather than misread.
	if _, err := conn.Exec(t.Context(), `INSERT INTO `+table+` (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if db, err := postgres.Open(t.Context(), poolURL(t), nil, postgres.WithSchema(schema)); err == nil {
		db.Close()
		t.Errorf("Open of a database at schema version 9999 succeeded")
	}
}

// TestAuditAppendOnly checks that the database itself refuses to change or
// remove audit entries.
func TestAuditAppendOnly(t *testing.T) {
	schema := freshSchema(t)
	storetest.Append(t, open(t, schema), 1)
	conn := connect(t)
	table := pgx.Identifier{schema, "audit_log"}.Sanitize()
	for _, q := range []string{`UPDATE ` + table + ` SET actor = 'mallory'`, `DELETE FROM ` + table, `TRUNCATE ` + table} {
		if _, err := conn.Exec(t.Context(), q); err == nil {
			t.Errorf("%s: succeeded", q)
		}
	}
}

// connect returns a connection of its own to the test database, closed at
// the test's cleanup.
func connect(t testing.TB) *pgx.Conn {
	conn, err := pgx.Connect(t.Context(), url(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func BenchmarkSaveStates(b *testing.B) {
	storetest.BenchmarkSaveStates(b, open(b, freshSchema(b)))
}

func BenchmarkForEachTerminal(b *testing.B) {
	storetest.BenchmarkForEachTerminal(b, open(b, freshSchema(b)), 100000)
}

// TestDeadlock checks that of two transactions that deadlock, the one the
// server aborts fails with EUNAVAILABLE (worth a retry) and the other
// commits.
func TestDeadlock(t *testing.T) {
	db := open(t, freshSchema(t))
	ctx := t.Context()
	if err := db.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateAccount(ctx, &skyfence.Account{ID: "acct"}); err != nil {
			return err
		}
		for _, id := range []string{"ut-1", "ut-2"} {
			if err := tx.CreateTerminal(ctx, &skyfence.Terminal{ID: id, AccountID: "acct"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Each locks one terminal, then (once the other holds its lock) wants
	// the other's.
	plan := "roam"
	update := func(tx skyfence.Tx, id string) error {
		_, err := tx.UpdateTerminal(ctx, id, skyfence.TerminalUpdate{Plan: &plan}, time.Now())
		return err
	}
	locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, ids := range [2][2]string{{"ut-1", "ut-2"}, {"ut-2", "ut-1"}} {
		wg.Go(func() {
			errs[i] = db.Tx(ctx, func(tx skyfence.Tx) error {
				if err := update(tx, ids[0]); err != nil {
					return err
				}
				close(locked[i])
				<-locked[1-i]
				return update(tx, ids[1])
			})
		})
	}
	wg.Wait()
	var codes []string
	for _, err := range errs {
		codes = append(codes, skyfence.ErrorCode(err))
	}
	slices.Sort(codes)
	if !slices.Equal(codes, []string{"", skyfence.EUNAVAILABLE}) {
		t.Errorf("two transactions in a deadlock: errors %v (codes %q), want one nil and one with code %q", errs, codes, skyfence.EUNAVAILABLE)
	}
	for _, err := range errs {
		if err != nil && !strings.Contains(err.Error(), "40P01") {
			t.Errorf("the deadlock's error %q does not keep the server's (SQLSTATE 40P01)", err)
		}
	}
}

// TestChangeJSON checks that a policy change is stored as the exact bytes
// of json.Marshal with its times in UTC, and its columns.
func TestChangeJSON(t *testing.T) {
	schema := freshSchema(t)
	db := open(t, schema)
	c := &skyfence.PolicyChange{
		ID: "chg-1", State: skyfence.ChangeApproved, Title: "<b>&</b>",
		Files:     []skyfence.PolicyFile{{Name: "policy.yaml", Data: []byte{0, 0xff}}},
		CreatedAt: time.Date(2026, 3, 1, 12, 30, 15, 123456789, time.FixedZone("", 3600)), Revision: 7,
	}
	if err := db.Tx(t.Context(), func(tx skyfence.Tx) error { return tx.CreateChange(t.Context(), c) }); err != nil {
		t.Fatal(err)
	}
	var state string
	var created, revision int64
	var doc []byte
	if err := connect(t).QueryRow(t.Context(), `SELECT state, created_at, revision, doc FROM `+
		pgx.Identifier{schema, "policy_changes"}.Sanitize()).Scan(&state, &created, &revision, &doc); err != nil {
		t.Fatal(err)
	}
	utc := *c
	utc.CreatedAt = c.CreatedAt.UTC()
	want, err := json.Marshal(&utc)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != string(want) {
		t.Errorf("doc:\ngot  %s\nwant %s", doc, want)
	}
	if state != "approved" || created != c.CreatedAt.UnixNano() || revision != 7 {
		t.Errorf("columns: %s, %d, %d; want approved, %d, 7", state, created, revision, c.CreatedAt.UnixNano())
	}
}

func BenchmarkAuditPeriod(b *testing.B) {
	storetest.BenchmarkAuditPeriod(b, open(b, freshSchema(b)), 100000)
}
