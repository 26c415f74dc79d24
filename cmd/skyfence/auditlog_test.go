package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// testServer is a server of its own on a fresh SQLite data directory.
type testServer struct {
	t    *testing.T
	dir  string
	base string
	key  string // the first admin's API key
	key2 string // the second admin's, who approves the first one's grants
	stop func()
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel, cfg.Detect = "127.0.0.1:0", dir, "sqlite", "warn", false
	cfg.AuditOrigin = "skyfence.test/audit"
	var out strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := OpenServer(ctx, cfg, env{nil, strings.NewReader(""), &out, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	printed := func(name string) string {
		return strings.Fields(out.String()[strings.Index(out.String(), name+"="):])[0][len(name+"="):]
	}
	s := &testServer{t: t, dir: dir, base: "http://" + srv.Addr(), key: printed("SKYFENCE_KEY"), key2: printed("SKYFENCE_KEY2")}
	stopped := false
	s.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	t.Cleanup(s.stop)
	return s
}

// do sends a request, with the admin key if auth, and returns the status
// and body.
func (s *testServer) do(method, path, body string, auth bool) (int, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// get is a public GET that must succeed.
func (s *testServer) get(path string) []byte {
	s.t.Helper()
	code, b := s.do("GET", path, "", false)
	if code != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	return b
}

// accounts creates n accounts, one audited transaction each.
func (s *testServer) accounts(from, n int) {
	s.t.Helper()
	for i := from; i < from+n; i++ {
		if code, b := s.do("POST", "/v1/accounts", fmt.Sprintf(`{"id":"acct-%d"}`, i), true); code >= 300 {
			s.t.Fatalf("create account: %d %s", code, b)
		}
	}
}

// TestServedCheckpointVerifiesWithNoteOnly takes the served checkpoint
// and key and checks them with golang.org/x/mod/sumdb/note alone, as an
// outsider would; after more writes the checkpoint covers them all.
func TestServedCheckpointVerifiesWithNoteOnly(t *testing.T) {
	s := startServer(t)
	s.accounts(0, 3)
	vkey := strings.TrimSpace(string(s.get("/v1/audit/key")))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("served key %q: %v", vkey, err)
	}
	msg := s.get("/v1/audit/checkpoint")
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("served checkpoint does not verify with the served key: %v\n%s", err, msg)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != "skyfence.test/audit" || lines[0] != v.Name() || lines[3] != "" {
		t.Fatalf("checkpoint text %q: want origin, size, root hash", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Entries []skyfence.AuditEntry }
	_, b := s.do("GET", "/v1/audit?limit=1", "", true)
	if err := json.Unmarshal(b, &page); err != nil || len(page.Entries) != 1 || page.Entries[0].Seq != size {
		t.Errorf("the checkpoint's size %d is not the head %+v (%v): every committed entry must be signed", size, page.Entries, err)
	}
	// A changed byte of the text, or another key, fails.
	bad := bytes.Replace(msg, []byte("\n"+lines[1]+"\n"), []byte("\n"+strconv.FormatInt(size-1, 10)+"\n"), 1)
	if _, err := note.Open(bad, note.VerifierList(v)); err == nil {
		t.Error("a checkpoint with its size changed verifies")
	}
	_, other, _ := note.GenerateKey(nil, "skyfence.test/audit")
	ov, _ := note.NewVerifier(other)
	if _, err := note.Open(msg, note.VerifierList(ov)); err == nil {
		t.Error("the checkpoint verifies with another key of the same name")
	}
	s.accounts(3, 2)
	n2, err := note.Open(s.get("/v1/audit/checkpoint"), note.VerifierList(v))
	if err != nil || !strings.HasPrefix(n2.Text, "skyfence.test/audit\n"+strconv.FormatInt(size+2, 10)+"\n") {
		t.Errorf("checkpoint after two more writes: %v %q, want size %d", err, n2.Text, size+2)
	}
}

// httpTiles is a tlog.TileReader over a server's /v1/audit/log/ routes:
// what any C2SP tlog-tiles client does.
type httpTiles struct{ s *testServer }

func (h httpTiles) Height() int { return 8 }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		// tlog's paths have the height after "tile/"; C2SP's do not.
		path := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		code, b := h.s.do("GET", "/v1/audit/log/"+path, "", false)
		if code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", path, code, b)
		}
		out[i] = b
	}
	return out, nil
}

func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// TestTilesClientProves: a standard tiles client computes, from the
// served tiles alone, proofs that check against the served checkpoint and
// equal the server's own; an entry read as auditor is the leaf it proves.
func TestTilesClientProves(t *testing.T) {
	s := startServer(t)
	s.accounts(0, 40)
	oldMsg := s.get("/v1/audit/checkpoint")
	s.accounts(40, 260) // past one full tile of 256
	v, _ := note.NewVerifier(strings.TrimSpace(string(s.get("/v1/audit/key"))))
	tree := func(msg []byte) tlog.Tree {
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(n.Text, "\n")
		size, _ := strconv.ParseInt(lines[1], 10, 64)
		var root tlog.Hash
		if err := root.UnmarshalJSON([]byte(`"` + lines[2] + `"`)); err != nil {
			t.Fatal(err)
		}
		return tlog.Tree{N: size, Hash: root}
	}
	cur, old := tree(s.get("/v1/audit/checkpoint")), tree(oldMsg)
	if cur.N <= 256 {
		t.Fatalf("tree of %d entries, want more than a tile", cur.N)
	}
	thr := tlog.TileHashReader(cur, httpTiles{s})
	var page struct{ Entries []*skyfence.AuditEntry }
	_, b := s.do("GET", "/v1/audit?limit=1000", "", true)
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	bySeq := map[int64]*skyfence.AuditEntry{}
	for _, e := range page.Entries {
		bySeq[e.Seq] = e
	}
	for _, seq := range []int64{1, 2, 100, 256, 257, cur.N} {
		p, err := tlog.ProveRecord(cur.N, seq-1, thr)
		if err != nil {
			t.Fatalf("ProveRecord %d from tiles: %v", seq, err)
		}
		leaf := bySeq[seq].RecordHash()
		if err := tlog.CheckRecord(p, cur.N, cur.Hash, seq-1, leaf); err != nil {
			t.Errorf("entry %d: the tiles' proof does not check against the checkpoint: %v", seq, err)
		}
		var served struct{ Proof []tlog.Hash }
		json.Unmarshal(s.get(fmt.Sprintf("/v1/audit/proof/inclusion?seq=%d&size=%d", seq, cur.N)), &served)
		if fmt.Sprint(served.Proof) != fmt.Sprint(p) {
			t.Errorf("entry %d: served proof %v, tiles' %v", seq, served.Proof, p)
		}
	}
	tp, err := tlog.ProveTree(cur.N, old.N, thr)
	if err != nil || tlog.CheckTree(tp, cur.N, cur.Hash, old.N, old.Hash) != nil {
		t.Errorf("consistency %d to %d from tiles: %v", old.N, cur.N, err)
	}
	// Nothing beyond the signed tree, nothing but tiles.
	for _, path := range []string{"tile/0/x001/002", "tile/entries/000", "tile/0/000.p/0", "tile/9/000", "../audit", "tile/0/-1"} {
		if code, _ := s.do("GET", "/v1/audit/log/"+path, "", false); code != http.StatusNotFound {
			t.Errorf("GET /v1/audit/log/%s: %d, want 404", path, code)
		}
	}
}

// TestAuditProveAndVerifyAgainstServed: every checkpoint a server served
// verifies with audit verify --checkpoint after it stopped; audit prove
// checks an entry and consistency against the server, and fails against
// a checkpoint of another log.
func TestAuditProveAndVerifyAgainstServed(t *testing.T) {
	s := startServer(t)
	var files []string
	save := func(msg []byte) string {
		path := filepath.Join(t.TempDir(), "checkpoint")
		if err := os.WriteFile(path, msg, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
		return path
	}
	for i := range 4 {
		s.accounts(i*3, 3)
		save(s.get("/v1/audit/checkpoint"))
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, s.get("/v1/audit/key"), 0o644)
	out, errs, code := runCLI(t, "", "audit", "prove", "--url", s.base, "--seq", "3", "--checkpoint", files[1], "--key", keyFile)
	if code != 0 || !strings.Contains(errs, "ok: entry 3 ") || !strings.Contains(out, `"proof":[`) {
		t.Errorf("prove --seq: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "", "audit", "prove", "--url", s.base, "--old", files[0], "--key", keyFile)
	if code != 0 || !strings.Contains(errs, "ok: the tree of ") {
		t.Errorf("prove --old: exit %d\n%s\n%s", code, out, errs)
	}
	_, other, _ := note.GenerateKey(nil, "skyfence.test/audit")
	if _, errs, code := runCLI(t, "", "audit", "prove", "--url", s.base, "--seq", "3", "--key", other); code == 0 || !strings.Contains(errs, "verif") {
		t.Errorf("prove with another key: exit %d, %s; want a failure", code, errs)
	}
	s.stop()
	args := []string{"audit", "verify", "--data", s.dir}
	for _, f := range files {
		args = append(args, "--checkpoint", f)
	}
	out, errs, code = runCLI(t, "", args...)
	if code != 0 || !strings.Contains(out, "4 seen earlier") || !strings.Contains(out, "result:      ok") {
		t.Errorf("verify against every served checkpoint: exit %d\n%s\n%s", code, out, errs)
	}

	// An insider cuts the last writes, their tree and checkpoints: verify
	// names the cut, export refuses.
	db, err := sql.Open("sqlite", filepath.Join(s.dir, "skyfence.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DROP TRIGGER audit_log_no_delete`, `DROP TRIGGER audit_checkpoints_no_delete`,
		`DELETE FROM audit_checkpoints WHERE size > (SELECT MAX(size) - 3 FROM audit_checkpoints)`,
		`DELETE FROM audit_log WHERE seq > (SELECT MAX(size) FROM audit_checkpoints)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out, _, code = runCLI(t, "", args...)
	if code != 1 || !strings.Contains(out, "truncated: the log has ") || !strings.Contains(out, "its tail was cut") {
		t.Errorf("verify after the tail was cut: exit %d\n%s", code, out)
	}
	if out, errs, code := runCLI(t, "", append([]string{"audit", "export"}, args[2:]...)...); code != 1 || out != "" || !strings.Contains(errs, "nothing exported: entry ") {
		t.Errorf("export of the cut log with its checkpoints: exit %d, %d bytes out\n%s", code, len(out), errs)
	}
	db.Exec(`DROP TRIGGER audit_log_no_update`)
	if _, err := db.Exec(`UPDATE audit_log SET reason = 'rewritten' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI(t, "", "audit", "export", "--data", s.dir)
	if code != 1 || out != "" || !strings.Contains(errs, "the log does not verify, nothing exported: entry 2 changed") {
		t.Errorf("export of a changed log: exit %d, %d bytes out\n%s", code, len(out), errs)
	}
}

// TestAuditWitnessCommand runs skyfence audit witness against a server:
// it cosigns with an auditor's key, the server serves the cosigned
// checkpoint, which verifies with the log's key and the witness's; a
// viewer's key may not post.
func TestAuditWitnessCommand(t *testing.T) {
	s := startServer(t)
	s.accounts(0, 2)
	mint := func(role string) string {
		_, b := s.do("POST", "/v1/keys", `{"name":"w","role":"`+role+`"}`, true)
		var k struct{ Secret string }
		json.Unmarshal(b, &k)
		return k.Secret
	}
	auditor, viewer := mint("auditor"), mint("viewer")
	state := filepath.Join(t.TempDir(), "witness.json")
	args := []string{"audit", "witness", "--url", s.base, "--state", state, "--name", "witness.test/w1", "--once"}
	if out, errs, code := runCLI(t, "", append(args, "--api-key", viewer)...); code == 0 || !strings.Contains(errs, "403") {
		t.Errorf("witness with a viewer's key: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code := runCLI(t, "", append(args, "--api-key", auditor)...)
	if code != 0 || !strings.Contains(out, "cosigned skyfence.test/audit at ") {
		t.Fatalf("witness: exit %d\n%s%s", code, out, errs)
	}
	wkey := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(errs, "\n", 2)[0], "witness "))
	s.accounts(2, 1)
	if out, errs, code := runCLI(t, "", append(args, "--api-key", auditor)...); code != 0 {
		t.Fatalf("second poll: exit %d\n%s%s", code, out, errs)
	}
	wv, err := audit.NewCosignatureVerifier(wkey)
	if err != nil {
		t.Fatalf("the witness's key %q: %v", wkey, err)
	}
	lv, _ := note.NewVerifier(strings.TrimSpace(string(s.get("/v1/audit/key"))))
	n, err := note.Open(s.get("/v1/audit/checkpoint/cosigned"), note.VerifierList(lv, wv))
	if err != nil || len(n.Sigs) != 2 {
		t.Errorf("the served cosigned checkpoint: %v %+v", err, n)
	}
}
