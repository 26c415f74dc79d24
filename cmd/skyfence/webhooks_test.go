package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/webhook"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadWebhooks(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"SIEM_SECRET": "from-env"}[k] }
	want := []webhook.Endpoint{
		{Name: "siem", URL: "https://siem.example.org/skyfence", Secret: "from-env"},
		{URL: "https://ops.example.org/hook", Secret: "inline", Types: []string{bus.Cutoff}},
	}
	yamlFile := writeFile(t, "webhooks.yaml", `endpoints:
  - name: siem
    url: https://siem.example.org/skyfence
    secret_env: SIEM_SECRET
  - url: https://ops.example.org/hook
    secret: inline
    types: [io.skyfence.terminal.cutoff]
`)
	jsonFile := writeFile(t, "webhooks.json", `{"endpoints": [
  {"name": "siem", "url": "https://siem.example.org/skyfence", "secret_env": "SIEM_SECRET"},
  {"url": "https://ops.example.org/hook", "secret": "inline", "types": ["io.skyfence.terminal.cutoff"]}]}`)
	for _, f := range []string{yamlFile, jsonFile} {
		got, err := loadWebhooks(f, getenv)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", filepath.Base(f), got, want)
		}
	}
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "no endpoints"},
		{"both secrets", "endpoints: [{url: https://x.org/, secret: a, secret_env: SIEM_SECRET}]", "both set"},
		{"unset env", "endpoints: [{url: https://x.org/, secret_env: NOT_SET}]", "NOT_SET is not set"},
		{"unknown field", "endpoints: [{url: https://x.org/, secret: a, typos: []}]", "typos"},
	} {
		if _, err := loadWebhooks(writeFile(t, "w.yaml", tc.text), getenv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestServeSendsWebhooks starts the server with a webhooks file, registers
// a terminal and checks that a real endpoint gets the event, signed, and
// that /metrics counts it.
func TestServeSendsWebhooks(t *testing.T) {
	headers := make(chan http.Header, 10)
	bodies := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		headers <- r.Header.Clone()
		bodies <- b
	}))
	defer hook.Close()
	t.Setenv("TEST_HOOK_SECRET", "s3cret")
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "sqlite", "warn"
	cfg.Webhooks = writeFile(t, "webhooks.yaml", "endpoints:\n  - name: registry\n    url: "+hook.URL+
		"\n    secret_env: TEST_HOOK_SECRET\n    types: [io.skyfence.terminal.changed]\n")
	var out strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := OpenServer(ctx, cfg, env{nil, strings.NewReader(""), &out, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	key := strings.Fields(out.String()[strings.Index(out.String(), "SKYFENCE_KEY="):])[0][len("SKYFENCE_KEY="):]
	base := "http://" + srv.Addr()
	for _, c := range []struct{ path, body string }{
		{"/v1/accounts", `{"id":"a1"}`},
		{"/v1/terminals", `{"id":"t1","account_id":"a1","plan":"roam","country":"DE"}`},
	} {
		req, _ := http.NewRequest("POST", base+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d", c.path, resp.StatusCode)
		}
	}
	h, body := <-headers, <-bodies
	if err := webhook.Verify("s3cret", h.Get(webhook.SignatureHeader), body, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("signature: %v", err)
	}
	var e bus.Event
	if err := json.Unmarshal(body, &e); err != nil || e.Type != bus.TerminalChanged || e.Subject != "t1" || h.Get("ce-id") != e.ID {
		t.Errorf("event %+v (%v), ce-id %q", e, err, h.Get("ce-id"))
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `skyfence_webhook_delivered_total{endpoint="registry"}`) {
		t.Errorf("/metrics lacks the webhook's series:\n%s", m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
