package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestChangeListReadsEveryPage: `skyfence change list` shows every change,
// reading page after page, against a real server.
func TestChangeListReadsEveryPage(t *testing.T) {
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.Store, cfg.LogLevel = "127.0.0.1:0", t.TempDir(), "sqlite", "warn"
	var out strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := OpenServer(ctx, cfg, env{nil, strings.NewReader(""), &out, io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	key := strings.Fields(out.String()[strings.Index(out.String(), "SKYFENCE_KEY="):])[0][len("SKYFENCE_KEY="):]
	base := "http://" + srv.Addr()
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr strings.Builder
		if code := run(ctx, env{append(args, "--url", base, "--key", key), nil, &stdout, &stderr}); code != 0 {
			t.Fatalf("skyfence %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		return stdout.String()
	}
	const drafts = 4
	for range drafts {
		cli("change", "draft", "--policy", "../../examples/policy/policy.yaml", "--title", "paged",
			"--justification", "paging", "--requester", "internal", "--category", "other")
	}

	raw, err := listChanges(ctx, &apiClient{url: base, key: key}, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Changes []struct{ ID string } }
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range list.Changes {
		ids[c.ID] = true
	}
	if len(list.Changes) != drafts+1 || len(ids) != drafts+1 {
		t.Errorf("pages of 2 gave %d changes (%d distinct), want the %d drafts and the initial policy", len(list.Changes), len(ids), drafts)
	}
	if lines := strings.Count(cli("change", "list"), "\n"); lines != drafts+1 {
		t.Errorf("skyfence change list printed %d lines, want %d", lines, drafts+1)
	}
}
