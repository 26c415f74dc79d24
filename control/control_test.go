package control_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/world"
)

var (
	atlasOnce sync.Once
	theAtlas  *atlas.Atlas
)

func testAtlas(t *testing.T) *atlas.Atlas {
	t.Helper()
	atlasOnce.Do(func() {
		d, err := world.Load(world.Res10m)
		if err != nil {
			panic(err)
		}
		if theAtlas, err = atlas.New(d, geoindex.Options{}); err != nil {
			panic(err)
		}
	})
	return theAtlas
}

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func compile(t *testing.T, file string) *policy.Snapshot {
	t.Helper()
	src, err := policy.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := policy.Compile(src, testAtlas(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newService(t *testing.T, store skyfence.Store, clk *clock) *control.Service {
	t.Helper()
	svc, err := control.New(context.Background(), control.Config{
		Store: store, Atlas: testAtlas(t), Policy: compile(t, "../examples/policy/policy.yaml"), Now: clk.now,
		Rules: skyfence.ChangeRules{Approvals: 2, EmergencyReview: 6 * time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func as(person string, role skyfence.Role) context.Context {
	return control.WithPrincipal(context.Background(), &control.Principal{KeyID: "key-" + person + "-" + string(role), Person: person, Role: role})
}

// taiwanFiles is the example policy with Taiwan licensed.
func taiwanFiles(t *testing.T) []skyfence.PolicyFile {
	t.Helper()
	doc, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(doc), "  TW:\n    status: coming_soon\n", "  TW:\n    status: available\n    licence: {authority: NCC, reference: NCC/2026/31, valid_from: 2026-01-01}\n", 1)
	if text == string(doc) {
		t.Fatal("the example policy no longer lists Taiwan as coming_soon")
	}
	return []skyfence.PolicyFile{{Name: "policy.yaml", Data: []byte(text)}, {Name: "zones.geojson", Data: zones}}
}

func draft(t *testing.T, svc *control.Service, ctx context.Context, in control.ChangeInput) *skyfence.PolicyChange {
	t.Helper()
	if in.Title == "" {
		in.Title, in.Justification, in.Requester, in.Category = "Service in Taiwan", "The regulator granted a licence.", "NCC", skyfence.RequestRegulator
	}
	if in.Files == nil {
		in.Files = taiwanFiles(t)
	}
	c, err := svc.DraftChange(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// taipeiAllowed decides for an active terminal in Taipei with the service's
// policy.
func taipeiAllowed(svc *control.Service, at time.Time) bool {
	term := &skyfence.Terminal{ID: "t", Plan: "roam", Country: "TW", Status: skyfence.Active}
	return svc.Authorizer().Snapshot().Decide(term, nil, skyfence.Fix{Time: at, Lat: 25.03, Lon: 121.56}).Allow
}

// ingest sends fixes as a gateway's batch goes: the principal's check,
// then the authorizer.
func ingest(svc *control.Service, ctx context.Context, fixes []skyfence.Fix, out []authorizer.Result) error {
	if err := control.MayIngest(ctx); err != nil {
		return err
	}
	return svc.Authorizer().Ingest(fixes, out)
}

func forEachStore(t *testing.T, fn func(t *testing.T, store skyfence.Store)) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) { fn(t, teststore.Open(t, kind)) })
	}
}

func TestTwoPersonRule(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		initial := svc.Authorizer().Snapshot().Version
		// Alice holds every role, one key per role.
		c := draft(t, svc, as("alice", skyfence.RoleAdmin), control.ChangeInput{})
		if _, err := svc.ProposeChange(as("alice", skyfence.RolePolicyAuthor), c.ID); err != nil {
			t.Fatal(err)
		}
		for _, role := range []skyfence.Role{skyfence.RoleAdmin, skyfence.RoleApprover} {
			if _, err := svc.ReviewChange(as("alice", role), c.ID, true, "looks right"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
				t.Errorf("alice approving her own change as %s: %v", role, err)
			}
		}
		for _, role := range []skyfence.Role{skyfence.RoleAdmin, skyfence.RolePolicyAuthor, skyfence.RoleApprover} {
			if _, err := svc.ActivateChange(as("alice", role), c.ID); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
				t.Errorf("alice activating alone as %s: %v", role, err)
			}
		}
		if _, err := svc.ReviewChange(as("bob", skyfence.RoleApprover), c.ID, true, "licence checked"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ReviewChange(as("bob", skyfence.RoleAdmin), c.ID, true, "again, with another key"); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("second approval by bob: %v", err)
		}
		if _, err := svc.ActivateChange(as("alice", skyfence.RoleAdmin), c.ID); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("activated with one approval: %v", err)
		}
		if taipeiAllowed(svc, clk.now()) {
			t.Fatal("Taiwan served before the change")
		}
		if _, err := svc.ReviewChange(as("carol", skyfence.RoleApprover), c.ID, true, "impact reviewed"); err != nil {
			t.Fatal(err)
		}
		got, err := svc.ActivateChange(as("alice", skyfence.RolePolicyAuthor), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != skyfence.ChangeActive || svc.Authorizer().Snapshot().Version != c.Version || !taipeiAllowed(svc, clk.now()) {
			t.Fatalf("after activation: %s, policy %s (want %s)", got.State, svc.Authorizer().Snapshot().Version, c.Version)
		}
		// A rollback is a change like any other: drafted, proposed with
		// its impact preview, approved by two persons other than its
		// author, activated.
		r, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "wrong licence reference"})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != skyfence.ChangeDraft || r.RollsBack != c.ID || r.Version != initial || r.Reason != "wrong licence reference" || svc.Authorizer().Snapshot().Version != c.Version {
			t.Fatalf("drafted rollback %s of %q to %s (policy %s in force)", r.State, r.RollsBack, r.Version, svc.Authorizer().Snapshot().Version)
		}
		proposed, err := svc.ProposeChange(as("bob", skyfence.RolePolicyAuthor), r.ID)
		if err != nil || len(proposed.Impact) == 0 {
			t.Fatalf("propose the rollback: %v, impact %s", err, proposed.Impact)
		}
		for _, who := range []string{"alice", "carol"} {
			if _, err := svc.ReviewChange(as(who, skyfence.RoleApprover), r.ID, true, "yes, roll back"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.ActivateChange(as("bob", skyfence.RolePolicyAuthor), r.ID); err != nil {
			t.Fatal(err)
		}
		if svc.Authorizer().Snapshot().Version != initial || taipeiAllowed(svc, clk.now()) {
			t.Errorf("after rollback the policy is %s, want %s", svc.Authorizer().Snapshot().Version, initial)
		}
		rolled, _ := svc.Change(as("bob", skyfence.RoleViewer), c.ID)
		if rolled.State != skyfence.ChangeRolledBack || rolled.EndedBy != r.ID || !rolled.ActivatedAt.Equal(got.ActivatedAt) {
			t.Errorf("rolled back change is %s, ended by %q, in force from %s (was %s)", rolled.State, rolled.EndedBy, rolled.ActivatedAt, got.ActivatedAt)
		}
		wantActions(t, store, "policy.bootstrap", "policy.draft", "policy.propose", "policy.approve", "policy.approve", "policy.activate",
			"policy.draft", "policy.propose", "policy.approve", "policy.approve", "policy.activate")
	})
}

// wantActions checks that the audit log holds these policy actions in
// this order.
func wantActions(t *testing.T, store skyfence.Store, want ...string) {
	t.Helper()
	entries, err := store.FindAudit(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "policy.") {
			got = append(got, e.Action)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit actions %v, want %v", got, want)
	}
}

func TestEmergencyScheduleAndExpiry(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		initial := svc.Authorizer().Snapshot().Version
		ctx := context.Background()

		// An emergency activation: at once, flagged until reviewed.
		c := draft(t, svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
		if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleApprover), c.ID, "now"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("emergency without the emergency role: %v", err)
		}
		got, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), c.ID, "licence decision in force tonight")
		if err != nil {
			t.Fatal(err)
		}
		if v := svc.View(got); got.State != skyfence.ChangeActive || !v.Unreviewed || v.Overdue || !taipeiAllowed(svc, clk.now()) {
			t.Fatalf("emergency change: %s unreviewed=%v overdue=%v", got.State, v.Unreviewed, v.Overdue)
		}
		clk.add(7 * time.Hour)
		if n, err := svc.Overdue(ctx); err != nil || n != 1 {
			t.Errorf("overdue reviews: %d %v", n, err)
		}
		_, _ = svc.ReviewChange(as("bob", skyfence.RoleApprover), c.ID, true, "")
		reviewed, err := svc.ReviewChange(as("carol", skyfence.RoleApprover), c.ID, true, "")
		if err != nil || svc.View(reviewed).Unreviewed {
			t.Errorf("after two reviews: %v unreviewed=%v", err, svc.View(reviewed).Unreviewed)
		}
		// The emergency path rolls back too, with its role and its
		// justification.
		r, err := svc.DraftRollback(as("alice", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "back to the initial policy"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), r.ID, "the licence was withdrawn"); err != nil {
			t.Fatal(err)
		}
		if svc.Authorizer().Snapshot().Version != initial {
			t.Fatalf("after the emergency rollback the policy is %s, want %s", svc.Authorizer().Snapshot().Version, initial)
		}
		for _, who := range []string{"bob", "carol"} {
			if _, err := svc.ReviewChange(as(who, skyfence.RoleApprover), r.ID, true, ""); err != nil {
				t.Fatal(err)
			}
		}

		// A scheduled, time-limited change: in force from its time, gone
		// at its end.
		start := clk.now().Add(24 * time.Hour)
		s := draft(t, svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{NotBefore: start, Expires: start.Add(48 * time.Hour)})
		_, _ = svc.ProposeChange(as("alice", skyfence.RolePolicyAuthor), s.ID)
		_, _ = svc.ReviewChange(as("bob", skyfence.RoleApprover), s.ID, true, "")
		if _, err := svc.ReviewChange(as("carol", skyfence.RoleApprover), s.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if err := svc.Tick(ctx); err != nil || svc.Authorizer().Snapshot().Version != initial {
			t.Fatalf("before its time: %v, policy %s", err, svc.Authorizer().Snapshot().Version)
		}
		clk.add(25 * time.Hour)
		if err := svc.Tick(ctx); err != nil || svc.Authorizer().Snapshot().Version != s.Version {
			t.Fatalf("at its time: %v, policy %s, want %s", err, svc.Authorizer().Snapshot().Version, s.Version)
		}
		clk.add(48 * time.Hour)
		if err := svc.Tick(ctx); err != nil || svc.Authorizer().Snapshot().Version != initial {
			t.Fatalf("after it expired: %v, policy %s, want %s", err, svc.Authorizer().Snapshot().Version, initial)
		}
		// The expiry puts back the policy before it as a change of its
		// own, skyfence's, naming what it ends; the expired change keeps
		// the time it was in force.
		ended, _ := svc.Change(as("bob", skyfence.RoleViewer), s.ID)
		if ended.State != skyfence.ChangeExpired || ended.EndedBy == "" || !ended.ActivatedAt.Equal(start.Add(time.Hour)) {
			t.Fatalf("expired change is %s, ended by %q, in force from %s", ended.State, ended.EndedBy, ended.ActivatedAt)
		}
		fallback, _ := svc.Change(as("bob", skyfence.RoleViewer), ended.EndedBy)
		if fallback.State != skyfence.ChangeActive || fallback.RollsBack != s.ID || fallback.Author != control.System.Actor() ||
			fallback.Version != initial || fallback.Replaced != s.ID || len(fallback.Impact) == 0 {
			t.Errorf("the fallback: %s, rolls back %q, by %v, version %s, replaced %q", fallback.State, fallback.RollsBack, fallback.Author, fallback.Version, fallback.Replaced)
		}
		if err := svc.Tick(ctx); err != nil || svc.Authorizer().Snapshot().Version != initial {
			t.Errorf("a second tick: %v, policy %s", err, svc.Authorizer().Snapshot().Version)
		}
		// The policy in force survives a restart.
		if err := svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		again := newService(t, store, clk)
		defer again.Close(ctx)
		if again.Authorizer().Snapshot().Version != initial {
			t.Errorf("after restart the policy is %s, want %s", again.Authorizer().Snapshot().Version, initial)
		}
	})
}

func TestCutOffAndStatesSurviveRestart(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		op := as("olga", skyfence.RoleOperator)
		if err := svc.CreateAccount(op, &skyfence.Account{ID: "a1", Name: "A"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.CreateTerminal(op, &skyfence.Terminal{ID: "t1", AccountID: "a1", Plan: "roam", Country: "DE"}); err != nil {
			t.Fatal(err)
		}
		if a, err := svc.Activate(op, "t1", 52.52, 13.40); err != nil || a.Outcome != control.Activated {
			t.Fatalf("activate: %+v %v", a, err)
		}
		gw := as("gw", skyfence.RoleGateway)
		out := make([]authorizer.Result, 2)
		fixes := []skyfence.Fix{
			{TerminalID: "t1", Time: clk.now(), Lat: 52.52, Lon: 13.40, SpeedKmh: skyfence.NoSpeed},
			{TerminalID: "t1", Time: clk.now().Add(time.Minute), Lat: 52.53, Lon: 13.40, SpeedKmh: skyfence.NoSpeed},
		}
		if err := ingest(svc, gw, fixes, out); err != nil || !out[0].Decision.Allow || !out[1].Decision.Allow {
			t.Fatalf("ingest: %v %+v", err, out)
		}
		// A cut-off takes effect on the very next decision.
		if _, err := svc.SetStatus(op, "t1", skyfence.Suspended, "case 42"); err != nil {
			t.Fatal(err)
		}
		next := []skyfence.Fix{{TerminalID: "t1", Time: clk.now().Add(2 * time.Minute), Lat: 52.53, Lon: 13.40, SpeedKmh: 0}}
		if err := ingest(svc, gw, next, out); err != nil || out[0].Decision.Reason != policy.TerminalSuspended {
			t.Fatalf("after suspension: %v %+v", err, out[0])
		}
		// Closing writes every last state; a new service reads them back.
		if err := svc.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		again := newService(t, store, clk)
		defer again.Close(context.Background())
		st, err := again.State(as("v", skyfence.RoleViewer), "t1")
		if err != nil || st.Reason != "terminal_suspended" || !st.Fix.Time.Equal(next[0].Time) {
			t.Fatalf("state after restart: %+v %v", st, err)
		}
		old := []skyfence.Fix{{TerminalID: "t1", Time: fixes[1].Time, Lat: 52.5, Lon: 13.4}}
		if err := ingest(again, gw, old, out); err != nil || skyfence.ErrorCode(out[0].Err) != skyfence.ECONFLICT {
			t.Errorf("an old fix after restart: %v %+v", err, out[0])
		}
	})
}

func TestAlertsSurviveRestart(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		a := detect.Alert{ID: "al-1", Detector: detect.ImpossibleTravel, TerminalID: "t1", Score: 0.9,
			FirstSeen: clk.now(), LastSeen: clk.now().Add(time.Minute), Count: 2, Summary: "470 km in a minute"}
		svc.RecordAlert(a)
		a.Count = 3
		svc.RecordAlert(a) // the latest version is the one kept
		if err := svc.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		again := newService(t, store, clk)
		defer again.Close(context.Background())
		got, _, err := again.Alerts(as("vera", skyfence.RoleViewer), control.AlertFilter{TerminalID: "t1"})
		if err != nil || len(got) != 1 || got[0].Count != 3 || got[0].Detector != detect.ImpossibleTravel || !got[0].LastSeen.Equal(a.LastSeen) {
			t.Fatalf("alerts after restart: %+v %v", got, err)
		}
		if _, _, err := again.Alerts(as("gus", skyfence.RoleGateway), control.AlertFilter{}); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("a gateway listing alerts: %v", err)
		}
	})
}

// Only a gateway (and an admin, who holds every permission) may send
// fixes to the authorizer.
func TestMayIngest(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"gateway", as("gw", skyfence.RoleGateway), ""},
		{"admin", as("ad", skyfence.RoleAdmin), ""},
		{"viewer", as("v", skyfence.RoleViewer), skyfence.EFORBIDDEN},
		{"nobody", context.Background(), skyfence.EUNAUTHORIZED},
	} {
		if got := skyfence.ErrorCode(control.MayIngest(c.ctx)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
