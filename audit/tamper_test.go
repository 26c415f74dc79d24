package audit_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// raw runs SQL on a store's database behind the store's back, as someone
// with access to the database file or server would. Queries use ? for
// parameters.
type raw func(t testing.TB, query string, args ...any)

// rawSQLite opens the file with database/sql and drops the triggers that
// keep audit_log append-only: a file's owner can.
func rawSQLite(t testing.TB, path string) raw {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := func(t testing.TB, query string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	for _, table := range []string{"audit_log", "audit_tree", "audit_checkpoints"} {
		r(t, `DROP TRIGGER `+table+`_no_update`)
		r(t, `DROP TRIGGER `+table+`_no_delete`)
	}
	return r
}

// rawPostgres connects with pgx to the schema and disables the trigger
// that keeps audit_log append-only: the table's owner can.
func rawPostgres(t testing.TB, url, schema string) raw {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	r := func(t testing.TB, query string, args ...any) {
		t.Helper()
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
		if _, err := conn.Exec(t.Context(), query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	for _, table := range []string{"audit_log", "audit_tree", "audit_checkpoints"} {
		r(t, `ALTER TABLE `+table+` DISABLE TRIGGER `+table+`_append_only`)
	}
	return r
}

// insert writes e as a row of audit_log.
func (r raw) insert(t testing.TB, e *skyfence.AuditEntry) {
	t.Helper()
	r(t, `INSERT INTO audit_log (seq, time, actor, action, subject, reason, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time.UnixNano(), e.Actor, e.Action, e.Subject, e.Reason, []byte(e.Data), e.PrevHash, e.Hash)
}

// shift adds by to the seq of every entry from seq on, in two steps so
// that no row takes a seq another still holds.
func (r raw) shift(t testing.TB, from, by int64) {
	t.Helper()
	r(t, `UPDATE audit_log SET seq = -seq WHERE seq >= ?`, from)
	r(t, `UPDATE audit_log SET seq = -seq + ? WHERE seq < 0`, by)
}

// rechain writes es as the whole table, each chained to the one before it
// by a hash recomputed as AppendAudit computes it, and their Merkle tree
// as the store keeps it: what someone who has read the code, but holds no
// signing key, can forge.
func (r raw) rechain(t testing.TB, es []*skyfence.AuditEntry) {
	t.Helper()
	r(t, `DELETE FROM audit_log`)
	prev := make([]byte, 32)
	for i, e := range es {
		e.Seq, e.PrevHash = int64(i+1), prev
		e.Hash = e.Digest(prev)
		r.insert(t, e)
		prev = e.Hash
	}
	r.retree(t, es)
}

// retree writes the stored hashes of the Merkle tree of es, in their
// order, as the whole of audit_tree.
func (r raw) retree(t testing.TB, es []*skyfence.AuditEntry) {
	t.Helper()
	r(t, `DELETE FROM audit_tree`)
	stored := map[int64]tlog.Hash{}
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for n, e := range es {
		hs, err := tlog.StoredHashes(int64(n), e.Canonical(), read)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			x := tlog.StoredHashIndex(0, int64(n)) + int64(i)
			stored[x] = h
			r(t, `INSERT INTO audit_tree (idx, hash) VALUES (?, ?)`, x, h[:])
		}
	}
}

// A tamper case: what is done to the chain buildChain wrote (es, its
// entries; k, its key), and the first problem Verify must report, with the
// options it is given.
type tamperCase struct {
	name   string
	tamper func(t testing.TB, r raw, es []*skyfence.AuditEntry)
	opts   func(es []*skyfence.AuditEntry, k *audit.Signer) audit.VerifyOptions
	seq    int64
	kind   audit.Kind // 0: the chain verifies
}

func expectHead(es []*skyfence.AuditEntry, _ *audit.Signer) audit.VerifyOptions {
	last := es[len(es)-1]
	return audit.VerifyOptions{ExpectHead: &audit.Head{Seq: last.Seq, Hash: last.Hash}}
}

func pinned(_ []*skyfence.AuditEntry, k *audit.Signer) audit.VerifyOptions {
	return audit.VerifyOptions{PublicKeys: []ed25519.PublicKey{k.PublicKey()}}
}

var tamperCases = []tamperCase{
	{name: "untouched", seq: 0},
	{name: "untouched, pinned and with its head", opts: func(es []*skyfence.AuditEntry, k *audit.Signer) audit.VerifyOptions {
		o := expectHead(es, k)
		o.PublicKeys = pinned(es, k).PublicKeys
		return o
	}},
	{name: "actor of 7 changed", seq: 7, kind: audit.Changed, tamper: func(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
		r(t, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`)
	}},
	{name: "data of 7 changed", seq: 7, kind: audit.Changed, tamper: func(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
		r(t, `UPDATE audit_log SET data = ? WHERE seq = 7`, []byte(`{"from":"active","to":"active","i":7}`))
	}},
	{name: "time of 7 a nanosecond later", seq: 7, kind: audit.Changed, tamper: func(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
		r(t, `UPDATE audit_log SET time = time + 1 WHERE seq = 7`)
	}},
	{name: "7 changed and its hash recomputed", seq: 7, kind: audit.Changed, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry) {
		e := *es[6]
		e.Reason = "routine"
		r(t, `UPDATE audit_log SET reason = ?, hash = ? WHERE seq = 7`, e.Reason, e.Digest(e.PrevHash))
	}},
	{name: "7 deleted", seq: 7, kind: audit.Deleted, tamper: func(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
		r(t, `DELETE FROM audit_log WHERE seq = 7`)
	}},
	{name: "7 deleted and the rest renumbered", seq: 7, kind: audit.Deleted, tamper: func(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
		r(t, `DELETE FROM audit_log WHERE seq = 7`)
		r.shift(t, 8, -1)
	}},
	{name: "forged entry inserted between 7 and 8", seq: 8, kind: audit.Inserted, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry) {
		r.shift(t, 8, 1)
		f := *es[7]
		f.Seq, f.PrevHash, f.Subject, f.Reason = 8, es[6].Hash, "UT-9999", "forged"
		f.Hash = f.Digest(f.PrevHash)
		r.insert(t, &f)
	}},
	{name: "forged entry with a wrong hash inserted between 7 and 8", seq: 8, kind: audit.Inserted, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry) {
		r.shift(t, 8, 1)
		f := *es[7]
		f.Seq, f.PrevHash, f.Reason = 8, es[6].Hash, "forged"
		r.insert(t, &f)
	}},
	{name: "7 and 8 swapped", seq: 7, kind: audit.Reordered, tamper: func(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
		r(t, `UPDATE audit_log SET seq = -7 WHERE seq = 7`)
		r(t, `UPDATE audit_log SET seq = 7 WHERE seq = 8`)
		r(t, `UPDATE audit_log SET seq = 8 WHERE seq = -7`)
	}},
	{name: "tail after the last checkpoint cut", seq: lastCheckpoint + 1, kind: audit.Truncated, opts: expectHead, tamper: truncate},
	{name: "tail after the last checkpoint cut, no head expected", tamper: truncate},
	{name: "tail after the last checkpoint re-chained", seq: lastCheckpoint + 1, kind: audit.Rewritten, opts: expectHead, tamper: rechainTail},
	{name: "tail after the last checkpoint re-chained, no head expected", tamper: rechainTail},
	{name: "whole chain re-hashed after changing 5", seq: 1, kind: audit.Rewritten, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry) {
		es[4].Actor = "mallory"
		r.rechain(t, es)
	}},
	{name: "whole chain re-signed with another key", tamper: resign},
	{name: "whole chain re-signed with another key, pinned", seq: 1, kind: audit.Untrusted, opts: pinned, tamper: resign},
}

// truncate cuts the entries after the last checkpoint.
func truncate(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
	r(t, `DELETE FROM audit_log WHERE seq > ?`, lastCheckpoint)
}

// rechainTail replaces the entries after the last checkpoint by as many,
// one of them changed, chained anew.
func rechainTail(t testing.TB, r raw, es []*skyfence.AuditEntry) {
	es[lastCheckpoint+1].Reason = "nothing to see"
	r.rechain(t, es)
}

// resign rebuilds the chain from the start, content and all, with a key of
// the forger's own.
func resign(t testing.TB, r raw, _ []*skyfence.AuditEntry) {
	forger := openSQLite(t, sqliteFile(t))
	buildChain(t, forger, signer(66))
	r(t, `DELETE FROM audit_log`)
	es := entries(t, forger)
	for _, e := range es {
		r.insert(t, e)
	}
	r.retree(t, es)
}

// runTamper runs every case on a fresh store of its own.
func runTamper(t *testing.T, open func(t *testing.T) (skyfence.Store, raw)) {
	for _, tc := range tamperCases {
		t.Run(tc.name, func(t *testing.T) {
			s, r := open(t)
			k := signer(1)
			buildChain(t, s, k)
			es := entries(t, s)
			if len(es) != chainLen || es[lastCheckpoint-1].Action != audit.ActionCheckpoint {
				t.Fatalf("built %d entries, want %d with a checkpoint at %d", len(es), chainLen, lastCheckpoint)
			}
			var opts audit.VerifyOptions
			if tc.opts != nil {
				opts = tc.opts(es, k)
			}
			if tc.tamper != nil {
				tc.tamper(t, r, es)
			}
			rep := verify(t, s, opts)
			if tc.kind == 0 {
				if rep.Problem != nil {
					t.Fatalf("problem %q, want none", rep.Problem)
				}
				return
			}
			wantProblem(t, rep, tc.seq, tc.kind)
		})
	}
}

func TestTamperSQLite(t *testing.T) {
	runTamper(t, func(t *testing.T) (skyfence.Store, raw) {
		path := sqliteFile(t)
		return openSQLite(t, path), rawSQLite(t, path)
	})
}

func TestTamperPostgres(t *testing.T) {
	u := postgresURL(t)
	runTamper(t, func(t *testing.T) (skyfence.Store, raw) {
		s, schema := openPostgres(t)
		return s, rawPostgres(t, u, schema)
	})
}
