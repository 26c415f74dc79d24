package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/control"
)

// TestServeShutdownAndTransparency starts the server as serve does, sends a
// fix, stops it gracefully, and checks that the last state, the audit chain
// and the transparency report are all there afterwards.
func TestServeShutdownAndTransparency(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", dir, "sqlite", "warn"
	var out strings.Builder
	e := env{nil, strings.NewReader(""), &out, io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := OpenServer(ctx, cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	key := strings.Fields(out.String()[strings.Index(out.String(), "SKYFENCE_KEY="):])[0][len("SKYFENCE_KEY="):]
	base := "http://" + srv.Addr()
	call := func(path, body string) string {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	call("/v1/accounts", `{"id":"a1"}`)
	call("/v1/terminals", `{"id":"t1","account_id":"a1","plan":"roam","country":"DE"}`)
	call("/v1/terminals/t1/activate", `{"lat":52.52,"lon":13.4}`)
	var gw struct{ Secret string }
	_ = json.Unmarshal([]byte(call("/v1/keys", `{"name":"gw","role":"gateway"}`)), &gw)
	key = gw.Secret
	at := time.Now().UTC().Format(time.RFC3339Nano)
	if res := call("/v1/fixes", `{"fixes":[{"terminal_id":"t1","time":"`+at+`","lat":52.52,"lon":13.4}]}`); !strings.Contains(res, `"allow":true`) {
		t.Fatalf("decision: %s", res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Everything acknowledged is in the store after the shutdown.
	var vout strings.Builder
	if code := run(context.Background(), env{[]string{"audit", "verify", "--data", dir}, nil, &vout, io.Discard}); code != 0 || !strings.Contains(vout.String(), "result:      ok") {
		t.Errorf("audit verify after shutdown: %d\n%s", code, vout.String())
	}
	var tout strings.Builder
	if code := run(context.Background(), env{[]string{"transparency", "--data", dir, "--out", dir}, nil, &tout, io.Discard}); code != 0 {
		t.Fatalf("transparency: %d %s", code, tout.String())
	}
	page, err := os.ReadFile(filepath.Join(dir, "transparency.html"))
	if err != nil || !strings.Contains(string(page), "Russia (RU)") || strings.Contains(string(page), "t1") {
		t.Errorf("transparency page: %v; names Russia: %v; names a terminal: %v", err, strings.Contains(string(page), "Russia (RU)"), strings.Contains(string(page), "t1"))
	}
	srv2, err := OpenServer(context.Background(), cfg, env{nil, nil, io.Discard, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.close()
	defer srv2.ln.Close()
	st, err := srv2.svc.State(adminCtx(), "t1")
	if err != nil || st.Fix.Lat != 52.52 || st.Reason != "ok" {
		t.Errorf("last state after restart: %+v %v", st, err)
	}
}

func adminCtx() context.Context {
	return control.WithPrincipal(context.Background(), control.System)
}
