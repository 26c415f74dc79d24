package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChangeListReadsEveryPage: `skyfence change list` shows every change,
// reading page after page, against a real server.
func TestChangeListReadsEveryPage(t *testing.T) {
	srv := startServer(t)
	ctx, key, base := context.Background(), srv.key, srv.base
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

// TestChangeRollbackDrafts: `skyfence change rollback` drafts the
// rollback and puts nothing in force, whoever runs it; an approver may
// not run it at all.
func TestChangeRollbackDrafts(t *testing.T) {
	srv := startServer(t)
	ctx, admin, admin2, base := context.Background(), srv.key, srv.key2, srv.base
	api := func(key, method, path string, body any) json.RawMessage {
		t.Helper()
		b, err := (&apiClient{url: base, key: key}).do(ctx, method, path, body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return b
	}
	keyOf := func(person, role string) string {
		var k struct {
			Secret string
			Key    struct {
				ID      string
				Pending bool
			}
		}
		if err := json.Unmarshal(api(admin, "POST", "/v1/keys", map[string]string{"name": person + " " + role, "person": person, "role": role}), &k); err != nil {
			t.Fatal(err)
		}
		if k.Key.Pending { // the grant of a role in a two-person rule waits for the second admin
			api(admin2, "POST", "/v1/keys/"+k.Key.ID+"/approve", map[string]string{"comment": "second admin"})
		}
		return k.Secret
	}
	alice, bob, bobApprover, carol, erin := keyOf("alice", "policy_author"), keyOf("bob", "policy_author"), keyOf("bob", "approver"), keyOf("carol", "approver"), keyOf("erin", "approver")
	cli := func(key string, args ...string) (string, string, int) {
		t.Helper()
		var stdout, stderr strings.Builder
		code := run(ctx, env{append(args, "--url", base, "--key", key), nil, &stdout, &stderr})
		return stdout.String(), stderr.String(), code
	}
	must := func(key string, args ...string) string {
		t.Helper()
		o, e, code := cli(key, args...)
		if code != 0 {
			t.Fatalf("skyfence %s: exit %d: %s", strings.Join(args, " "), code, e)
		}
		return o
	}
	text, err := os.ReadFile("../../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	waitlist := strings.Replace(string(text), "  TW:\n    status: coming_soon\n", "  TW:\n    status: waitlist\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(waitlist), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zones.geojson"), zones, 0o644); err != nil {
		t.Fatal(err)
	}
	id := strings.Fields(must(alice, "change", "draft", "--policy", filepath.Join(dir, "policy.yaml"), "--title", "Taiwan waitlist",
		"--justification", "licence requested", "--requester", "NCC", "--category", "regulator"))[0]
	must(alice, "change", "propose", id)
	must(carol, "change", "review", id, "--approve")
	must(erin, "change", "review", id, "--approve")
	must(alice, "change", "activate", id)
	state := func(id string) string {
		var c struct{ State string }
		if err := json.Unmarshal(api(admin, "GET", "/v1/changes/"+id, nil), &c); err != nil {
			t.Fatal(err)
		}
		return c.State
	}

	if _, e, code := cli(bobApprover, "change", "rollback", "--reason", "alone"); code == 0 || !strings.Contains(e, "forbidden") {
		t.Errorf("an approver's rollback: exit %d: %s", code, e)
	}
	o := must(bob, "change", "rollback", "--reason", "the licence was not signed")
	r := strings.Fields(o)[0]
	if !strings.Contains(o, r+" draft: Roll back: Taiwan waitlist") || !strings.Contains(o, "rolls back "+id) || !strings.Contains(o, "nothing is in force yet") {
		t.Errorf("skyfence change rollback printed:\n%s", o)
	}
	if got := state(id); got != "active" {
		t.Errorf("after skyfence change rollback the change is %s, want active", got)
	}
	must(bob, "change", "propose", r)
	if _, e, code := cli(bobApprover, "change", "review", r, "--approve"); code == 0 || !strings.Contains(e, "forbidden") {
		t.Errorf("the rollback's author approving it: exit %d: %s", code, e)
	}
	must(carol, "change", "review", r, "--approve")
	if _, e, code := cli(bob, "change", "activate", r); code == 0 || !strings.Contains(e, "conflict") {
		t.Errorf("activating with one approval: exit %d: %s", code, e)
	}
	must(erin, "change", "review", r, "--approve")
	must(bob, "change", "activate", r)
	if got := state(id); got != "rolled_back" {
		t.Errorf("after the reviewed rollback the change is %s, want rolled_back", got)
	}
}
