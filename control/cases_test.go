package control_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/policy"
)

// caseEnv is a service with terminals sending fixes, and the events its bus
// carried.
type caseEnv struct {
	t   *testing.T
	svc *control.Service
	clk *clock
	mu  sync.Mutex
	evs []bus.Event
	b   *bus.Local
}

func newCaseEnv(t *testing.T, store skyfence.Store) *caseEnv {
	t.Helper()
	e := &caseEnv{t: t, clk: &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}, b: bus.NewLocal()}
	unsub := e.b.Subscribe("test", 10000, func(ev bus.Event) {
		e.mu.Lock()
		e.evs = append(e.evs, ev)
		e.mu.Unlock()
	})
	svc, err := control.New(context.Background(), control.Config{
		Store: store, Atlas: testAtlas(t), Policy: compile(t, "../examples/policy/policy.yaml"), Now: e.clk.now,
		Rules: skyfence.ChangeRules{Approvals: 2}, Bus: e.b,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close(context.Background())
		unsub()
	})
	e.svc = svc
	if err := svc.CreateAccount(as("olga", skyfence.RoleOperator), &skyfence.Account{ID: "a1", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// terminal registers and activates a terminal at a position and sends it a
// first fix there.
func (e *caseEnv) terminal(id string, lat, lon float64) {
	e.t.Helper()
	op := as("olga", skyfence.RoleOperator)
	if err := e.svc.CreateTerminal(op, &skyfence.Terminal{ID: id, AccountID: "a1", Plan: "roam", Country: "DE"}); err != nil {
		e.t.Fatal(err)
	}
	if a, err := e.svc.Activate(op, id, lat, lon); err != nil || a.Outcome != control.Activated {
		e.t.Fatalf("activate %s: %+v %v", id, a, err)
	}
	if d := e.fix(id, lat, lon); !d.Allow {
		e.t.Fatalf("first fix of %s denied: %+v", id, d)
	}
}

// fix sends one fix a minute after the clock's last and returns its
// decision.
func (e *caseEnv) fix(id string, lat, lon float64) policy.Decision {
	e.t.Helper()
	e.clk.add(time.Minute)
	out := make([]authorizer.Result, 1)
	if err := ingest(e.svc, as("gw", skyfence.RoleGateway), []skyfence.Fix{{TerminalID: id, Time: e.clk.now(), Lat: lat, Lon: lon, SpeedKmh: skyfence.NoSpeed}}, out); err != nil || out[0].Err != nil {
		e.t.Fatalf("ingest: %v %v", err, out[0].Err)
	}
	return out[0].Decision
}

// events returns the events of typ published so far, once the test's
// subscriber has received every event published.
func (e *caseEnv) events(typ string) []bus.Event {
	for range 500 {
		e.mu.Lock()
		n := len(e.evs)
		e.mu.Unlock()
		if uint64(n) == e.b.Published.Load() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []bus.Event
	for _, ev := range e.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestCaseCutOffAppealReinstate(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		e := newCaseEnv(t, store)
		e.terminal("t1", 52.52, 13.40)
		ana, ben := as("ana", skyfence.RoleInvestigator), as("ben", skyfence.RoleInvestigator)
		start := time.Now() // the audit log's entries carry the wall clock

		c, err := e.svc.OpenCase(ana, control.CaseInput{TerminalID: "t1", Title: "seen far from home"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Region != "DE" || c.State != skyfence.CaseOpen || c.AccountID != "a1" {
			t.Errorf("opened case: %+v", c)
		}
		if _, err := e.svc.OpenCase(as("v", skyfence.RoleViewer), control.CaseInput{TerminalID: "t1", Title: "x"}); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("a viewer opening a case: %v", err)
		}
		if _, err := e.svc.OpenCase(ana, control.CaseInput{TerminalID: "t1", Title: "x", AlertIDs: []string{"no-such-alert"}}); skyfence.ErrorCode(err) != skyfence.EINVALID {
			t.Errorf("a case citing a missing alert: %v", err)
		}
		if c, err = e.svc.AssignCase(ana, c.ID, "ana"); err != nil || c.State != skyfence.CaseInvestigating {
			t.Fatalf("assign: %v %+v", err, c)
		}

		// Due process: a cut-off without a notice or a documented exception is refused.
		suspend := control.ActionInput{Action: skyfence.ActionSuspend, Grounds: skyfence.GroundsSmuggling, Reason: "used in an embargoed region"}
		if _, err := e.svc.ActOnCase(ana, c.ID, suspend); skyfence.ErrorCode(err) != skyfence.EINVALID {
			t.Fatalf("a suspension without a notice: %v", err)
		}
		suspend.Notice = "Your terminal was used where our licence does not allow service. You may appeal."
		if c, err = e.svc.ActOnCase(ana, c.ID, suspend); err != nil {
			t.Fatal(err)
		}
		if c.State != skyfence.CaseActioned || c.Actions[0].State != skyfence.ActionApplied || c.Actions[0].Notice.AccountID != "a1" {
			t.Fatalf("after the suspension: %+v", c)
		}
		// The next decision denies it.
		if d := e.fix("t1", 52.52, 13.40); d.Allow || d.Reason != policy.TerminalSuspended {
			t.Fatalf("decision after the cut-off: %+v", d)
		}
		if cut := e.events(bus.Cutoff); len(cut) != 1 || cut[0].Subject != "t1" {
			t.Errorf("cut-off events: %+v", cut)
		}

		// Appeal: the suspender may not decide it; another investigator grants it.
		if _, err := e.svc.FileAppeal(ben, c.ID, "I was on a ship in international waters"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ana, c.ID, true, "mine to judge"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("the suspender deciding the appeal: %v", err)
		}
		if c, err = e.svc.DecideAppeal(ben, c.ID, true, "the track shows a ship at sea"); err != nil {
			t.Fatal(err)
		}
		if c.State != skyfence.CaseClosed || c.Label != skyfence.LabelFalsePositive {
			t.Errorf("after the appeal: state %s, label %q", c.State, c.Label)
		}
		if d := e.fix("t1", 52.52, 13.40); !d.Allow {
			t.Fatalf("decision after reinstatement: %+v", d)
		}
		if cut := e.events(bus.Cutoff); len(cut) != 2 {
			t.Errorf("cut-off events after reinstatement: %d, want 2", len(cut))
		}
		if ch := e.events(bus.CaseChanged); len(ch) < 5 {
			t.Errorf("case events: %d, want one per step (5+)", len(ch))
		}

		// The regulator's report counts it from the audit log.
		rep, err := e.svc.CutoffReport(as("aud", skyfence.RoleAuditor), start.Add(-time.Second), time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		want := control.CutoffReport{
			Cutoffs:    []control.ReportRow{{Region: "DE", Grounds: skyfence.GroundsSmuggling, Action: skyfence.ActionSuspend, Terminals: 1, Actions: 1}},
			Reinstated: []control.ReportRow{{Region: "DE", Grounds: skyfence.GroundsAppealGranted, Action: skyfence.ActionReinstate, Terminals: 1, Actions: 1}},
			Appeals:    control.AppealCount{Filed: 1, Granted: 1},
		}
		got, _ := json.Marshal([]any{rep.Cutoffs, rep.Reinstated, rep.Appeals})
		exp, _ := json.Marshal([]any{want.Cutoffs, want.Reinstated, want.Appeals})
		if string(got) != string(exp) {
			t.Errorf("report:\n got %s\nwant %s", got, exp)
		}
		wantAudit(t, store, "case.", "case.open", "case.assign", "case.action", "case.appeal", "case.appeal_decision")
	})
}

func TestCaseGracePeriod(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		e := newCaseEnv(t, store)
		e.terminal("t1", 52.52, 13.40)
		ana := as("ana", skyfence.RoleInvestigator)
		c, err := e.svc.OpenCase(ana, control.CaseInput{TerminalID: "t1", Title: "unpaid sanctions check"})
		if err != nil {
			t.Fatal(err)
		}
		c, err = e.svc.ActOnCase(ana, c.ID, control.ActionInput{Action: skyfence.ActionSuspend, Grounds: skyfence.GroundsTerms,
			Reason: "terms breach", Notice: "Service ends in 24 hours unless you contact us.", Grace: control.Duration(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if c.Actions[0].State != skyfence.ActionScheduled {
			t.Fatalf("action with a grace period: %s, want scheduled", c.Actions[0].State)
		}
		if d := e.fix("t1", 52.52, 13.40); !d.Allow {
			t.Fatalf("denied during the grace period: %+v", d)
		}
		if err := e.svc.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := e.fix("t1", 52.52, 13.40); !d.Allow {
			t.Fatalf("denied before the grace period ended: %+v", d)
		}
		e.clk.add(25 * time.Hour)
		if err := e.svc.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := e.fix("t1", 52.52, 13.40); d.Reason != policy.TerminalSuspended {
			t.Fatalf("after the grace period: %+v", d)
		}
	})
}

func TestBulkCutoffNeedsTwoOtherPersons(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		e := newCaseEnv(t, store)
		for _, id := range []string{"de-1", "de-2", "de-3"} {
			e.terminal(id, 52.52, 13.40)
		}
		e.terminal("fr-1", 48.85, 2.35)
		ana := as("ana", skyfence.RoleInvestigator)
		in := control.BulkInput{Title: "stolen batch sold in Germany", Selection: skyfence.BulkSelection{Country: "DE"},
			ActionInput: control.ActionInput{Action: skyfence.ActionSuspend, Grounds: skyfence.GroundsSmuggling,
				Reason: "serials of a stolen shipment", WithholdNotice: "law enforcement asked that holders not be told (ref. BKA-2026-17)"}}
		c, imp, err := e.svc.ProposeBulkCutoff(ana, in)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Terminals != 3 || imp.ByCountry["DE"] != 3 || len(c.Actions[0].Terminals) != 3 {
			t.Fatalf("impact: %+v", imp)
		}
		if _, err := e.svc.ReviewAction(as("ana", skyfence.RoleApprover), c.ID, true, "mine"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("the proposer approving: %v", err)
		}
		if _, err := e.svc.ReviewAction(as("ben", skyfence.RoleApprover), c.ID, true, "checked the serials"); err != nil {
			t.Fatal(err)
		}
		if d := e.fix("de-1", 52.52, 13.40); !d.Allow {
			t.Fatalf("cut off after one approval: %+v", d)
		}
		if c, err = e.svc.ReviewAction(as("cy", skyfence.RoleApprover), c.ID, true, "agreed"); err != nil {
			t.Fatal(err)
		}
		if c.Actions[0].State != skyfence.ActionApplied {
			t.Fatalf("after two approvals: %+v", c.Actions[0])
		}
		for _, id := range []string{"de-1", "de-2", "de-3"} {
			if d := e.fix(id, 52.52, 13.40); d.Reason != policy.TerminalSuspended {
				t.Errorf("%s after the bulk cut-off: %+v", id, d)
			}
		}
		if d := e.fix("fr-1", 48.85, 2.35); !d.Allow {
			t.Errorf("a terminal outside the selection lost service: %+v", d)
		}
		if cut := e.events(bus.Cutoff); len(cut) != 3 {
			t.Errorf("cut-off events: %d, want 3", len(cut))
		}
		rep, err := e.svc.CutoffReport(as("aud", skyfence.RoleAuditor), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Cutoffs) != 1 || rep.Cutoffs[0].Terminals != 3 || rep.NoticesWithheld != 1 {
			t.Errorf("report: %+v", rep)
		}
	})
}

// wantAudit checks the actions of the audit log's entries with a prefix.
func wantAudit(t *testing.T, store skyfence.Store, prefix string, want ...string) {
	t.Helper()
	entries, err := store.FindAudit(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, prefix) {
			got = append(got, e.Action)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit actions %v, want %v", got, want)
	}
}
