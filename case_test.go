package skyfence

import (
	"testing"
	"time"
)

var (
	ana = Actor{KeyID: "k-ana", Person: "ana"}
	ben = Actor{KeyID: "k-ben", Person: "ben"}
	cy  = Actor{KeyID: "k-cy", Person: "cy"}
	at  = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
)

func wantErrCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func suspension(by Actor) *CaseAction {
	return &CaseAction{ID: "act-1", Kind: ActionSuspend, Grounds: GroundsSmuggling, Reason: "embargoed region", By: by, At: at, EffectiveAt: at}
}

func TestCaseLifecycle(t *testing.T) {
	c := &Case{ID: "case-1", State: CaseOpen, TerminalID: "t1"}
	if err := c.Assign("ana", at); err != nil || c.State != CaseInvestigating {
		t.Fatalf("Assign: %v, state %s", err, c.State)
	}
	wantErrCode(t, "an empty note", c.AddNote(CaseNote{By: ana, At: at}), EINVALID)
	a := suspension(ana)
	if err := c.CheckAction(a); err != nil {
		t.Fatal(err)
	}
	a.State = ActionScheduled
	c.Actions = append(c.Actions, *a)
	wantErrCode(t, "a second action while one waits", c.CheckAction(suspension(ana)), ECONFLICT)
	wantErrCode(t, "closing while an action waits", c.Close("done", at), ECONFLICT)
	c.Applied(&c.Actions[0], at)
	if c.State != CaseActioned || c.CutOff() == nil {
		t.Fatalf("after the suspension: state %s, cut-off %v", c.State, c.CutOff())
	}

	// Appeal: the person who cut the terminal off may not decide it.
	wantErrCode(t, "an appeal without a statement", c.FileAppeal(Appeal{FiledBy: ben, FiledAt: at}), EINVALID)
	if err := c.FileAppeal(Appeal{Statement: "I was at sea", FiledBy: ben, FiledAt: at}); err != nil {
		t.Fatal(err)
	}
	wantErrCode(t, "a second open appeal", c.FileAppeal(Appeal{Statement: "again", FiledBy: ben, FiledAt: at}), ECONFLICT)
	_, err := c.DecideAppeal(ana, true, "cleared", at)
	wantErrCode(t, "the suspender deciding the appeal", err, EFORBIDDEN)
	ap, err := c.DecideAppeal(ben, true, "the track shows a ship at sea", at)
	if err != nil || !ap.Granted {
		t.Fatalf("DecideAppeal: %v %+v", err, ap)
	}
	re := &CaseAction{ID: "act-2", Kind: ActionReinstate, Grounds: GroundsAppealGranted, Reason: "appeal granted", By: ben, At: at, EffectiveAt: at}
	if err := c.CheckAction(re); err != nil {
		t.Fatal(err)
	}
	c.Actions = append(c.Actions, *re)
	c.Applied(&c.Actions[1], at)
	if c.State != CaseClosed || c.Label != LabelFalsePositive {
		t.Errorf("after reinstatement on appeal: state %s label %q, want closed, false_positive", c.State, c.Label)
	}
	wantErrCode(t, "acting on a closed case", c.CheckAction(suspension(ana)), ECONFLICT)
}

func TestCaseCloseLabels(t *testing.T) {
	c := &Case{ID: "c", State: CaseInvestigating}
	if err := c.Close("nothing found", at); err != nil || c.Label != LabelNone {
		t.Errorf("closed without action: %v, label %q", err, c.Label)
	}
	c = &Case{ID: "c", State: CaseActioned}
	if err := c.Close("done", at); err != nil || c.Label != LabelTruePositive {
		t.Errorf("closed after action: %v, label %q", err, c.Label)
	}
	c = &Case{ID: "c", State: CaseOpen}
	clear := CaseAction{ID: "a", Kind: ActionClear, Grounds: GroundsFalsePositive, Reason: "a ship", By: ana, At: at, EffectiveAt: at}
	c.Actions = append(c.Actions, clear)
	c.Applied(&c.Actions[0], at)
	if c.State != CaseClosed || c.Label != LabelFalsePositive {
		t.Errorf("cleared: state %s label %q", c.State, c.Label)
	}
}

func TestCheckActionRefuses(t *testing.T) {
	c := &Case{ID: "c", State: CaseOpen, Bulk: &BulkSelection{Zone: "front"}}
	for _, tc := range []struct {
		what string
		edit func(a *CaseAction)
		code string
	}{
		{"an unknown action", func(a *CaseAction) { a.Kind = "vaporize" }, EINVALID},
		{"no reason", func(a *CaseAction) { a.Reason = "" }, EINVALID},
		{"unknown grounds", func(a *CaseAction) { a.Grounds = "vibes" }, EINVALID},
		{"a warning in bulk", func(a *CaseAction) { a.Kind = ActionWarn }, EINVALID},
		{"an effect before the action", func(a *CaseAction) { a.EffectiveAt = at.Add(-time.Second) }, EINVALID},
	} {
		a := suspension(ana)
		tc.edit(a)
		wantErrCode(t, tc.what, c.CheckAction(a), tc.code)
	}
}

func TestBulkActionTwoPersonRule(t *testing.T) {
	a := suspension(ana)
	a.State = ActionPending
	rules := ChangeRules{Approvals: 2}
	_, err := a.Review(Review{By: ana, Approve: true, At: at}, rules)
	wantErrCode(t, "the author approving", err, EFORBIDDEN)
	if ok, err := a.Review(Review{By: ben, Approve: true, At: at}, rules); ok || err != nil {
		t.Fatalf("first approval: approved=%v err=%v", ok, err)
	}
	_, err = a.Review(Review{By: Actor{KeyID: "k-ben-2", Person: "ben"}, Approve: true, At: at}, rules)
	wantErrCode(t, "the same person with another key", err, ECONFLICT)
	if ok, err := a.Review(Review{By: cy, Approve: true, At: at}, rules); !ok || err != nil || a.State != ActionScheduled {
		t.Fatalf("second approval: approved=%v err=%v state=%s", ok, err, a.State)
	}
	b := suspension(ana)
	b.State = ActionPending
	if _, err := b.Review(Review{By: ben, Approve: false, At: at}, rules); err != nil || b.State != ActionRejected {
		t.Errorf("rejection: %v, state %s", err, b.State)
	}
}
