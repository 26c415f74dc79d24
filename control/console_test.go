package control_test

import (
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
	"github.com/skyfence/skyfence/policy"
)

// TestWatchStates: a watcher reports a terminal that moved, was decided
// otherwise or changed status, once each, and nothing else.
func TestWatchStates(t *testing.T) {
	e := newCaseEnv(t, teststore.Open(t, "sqlite"))
	e.terminal("t1", 52.52, 13.40)
	e.terminal("t2", 48.85, 2.35)
	viewer := as("vera", skyfence.RoleViewer)
	if _, err := e.svc.WatchStates(as("gw", skyfence.RoleGateway)); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
		t.Fatalf("a gateway watching: %v, want forbidden", err)
	}
	w, err := e.svc.WatchStates(viewer)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Changes(); len(got) != 0 {
		t.Errorf("nothing changed, yet: %+v", got)
	}
	e.fix("t1", 52.525, 13.40)
	got := w.Changes()
	if len(got) != 1 || got[0].ID != "t1" || got[0].Lat != 52.525 || got[0].Reason != policy.Ok || got[0].Country != "DE" {
		t.Errorf("t1 moved: %+v", got)
	}
	if got := w.Changes(); len(got) != 0 {
		t.Errorf("reported twice: %+v", got)
	}
	if _, err := e.svc.SetStatus(as("olga", skyfence.RoleOperator), "t2", skyfence.Suspended, "case 1"); err != nil {
		t.Fatal(err)
	}
	if got := w.Changes(); len(got) != 1 || got[0].ID != "t2" || got[0].Status != skyfence.Suspended {
		t.Errorf("t2 suspended: %+v", got)
	}
	all, err := e.svc.MapStates(viewer)
	if err != nil || len(all) != 2 {
		t.Errorf("MapStates: %+v %v", all, err)
	}
}

// TestSubscribeEvents: the console's feed shows each role only the events
// it may read: case events to the roles that read cases, terminal events
// to those that read terminals.
func TestSubscribeEvents(t *testing.T) {
	e := newCaseEnv(t, teststore.Open(t, "sqlite"))
	seen := map[string]chan string{}
	for _, role := range []skyfence.Role{skyfence.RoleViewer, skyfence.RoleApprover} {
		ch := make(chan string, 100)
		seen[string(role)] = ch
		unsubscribe, err := e.svc.SubscribeEvents(as("p-"+string(role), role), "test-"+string(role), 100, func(ev bus.Event) { ch <- ev.Type })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unsubscribe)
	}
	if _, err := e.svc.SubscribeEvents(as("gw", skyfence.RoleGateway), "gw", 1, func(bus.Event) {}); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
		t.Fatalf("a gateway subscribing: %v, want forbidden", err)
	}
	e.terminal("t1", 52.52, 13.40)
	if _, err := e.svc.OpenCase(as("ivan", skyfence.RoleInvestigator), control.CaseInput{TerminalID: "t1", Title: "seen at a border"}); err != nil {
		t.Fatal(err)
	}
	// A policy activation, which both may see, marks the end: events come
	// in order.
	ev, _ := bus.New("/test", bus.PolicyActivated, "v", e.clk.now(), nil)
	e.b.Publish(ev)
	for role, ch := range seen {
		types := map[string]bool{}
		for typ := range ch {
			if typ == bus.PolicyActivated {
				break
			}
			types[typ] = true
		}
		if !types[bus.TerminalChanged] {
			t.Errorf("%s did not see the terminal change: %v", role, types)
		}
		if wantCase := role == string(skyfence.RoleApprover); types[bus.CaseChanged] != wantCase {
			t.Errorf("%s saw the case event: %v, want %v", role, types[bus.CaseChanged], wantCase)
		}
	}
}
