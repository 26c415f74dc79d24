package skyfence

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func newChange() *PolicyChange {
	return &PolicyChange{ID: "chg-1", State: ChangeDraft, Author: Actor{KeyID: "key-alice-admin", Person: "alice"}, CreatedAt: t0}
}

func review(person string, approve bool) Review {
	return Review{By: Actor{KeyID: "key-" + person, Person: person}, Approve: approve, At: t0.Add(time.Hour)}
}

func TestTwoPersonRule(t *testing.T) {
	rules := ChangeRules{}
	c := newChange()
	if err := c.Propose(Actor{KeyID: "key-bob", Person: "bob"}, t0); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("someone else proposed: %v", err)
	}
	if err := c.Propose(c.Author, t0); err != nil {
		t.Fatal(err)
	}
	// Alice holds every role, with a key per role: none of them may
	// review her own change.
	for _, key := range []string{"key-alice-admin", "key-alice-approver", "key-alice-emergency"} {
		if err := c.AddReview(Review{By: Actor{KeyID: key, Person: "alice"}, Approve: true, At: t0}, rules); ErrorCode(err) != EFORBIDDEN {
			t.Errorf("author approving with %s: %v", key, err)
		}
	}
	if err := c.CanActivate(t0); ErrorCode(err) != ECONFLICT {
		t.Errorf("activatable with no approvals: %v", err)
	}
	if err := c.AddReview(review("bob", true), rules); err != nil {
		t.Fatal(err)
	}
	// Bob with a second key is still one person.
	if err := c.AddReview(Review{By: Actor{KeyID: "key-bob-2", Person: "bob"}, Approve: true, At: t0}, rules); ErrorCode(err) != ECONFLICT {
		t.Errorf("second review by the same person: %v", err)
	}
	if c.State != ChangeProposed || c.CanActivate(t0) == nil {
		t.Fatalf("one approval made it %s", c.State)
	}
	if err := c.AddReview(review("carol", true), rules); err != nil {
		t.Fatal(err)
	}
	if c.State != ChangeApproved || c.Approvals() != 2 {
		t.Fatalf("after two approvals: %s with %d", c.State, c.Approvals())
	}
	if err := c.CanActivate(t0); err != nil {
		t.Errorf("approved change not activatable: %v", err)
	}
}

func TestRejectionAndWithdrawal(t *testing.T) {
	c := newChange()
	_ = c.Propose(c.Author, t0)
	if err := c.AddReview(review("bob", false), ChangeRules{}); err != nil || c.State != ChangeRejected {
		t.Fatalf("rejection: %v, %s", err, c.State)
	}
	if err := c.AddReview(review("carol", true), ChangeRules{}); ErrorCode(err) != ECONFLICT {
		t.Errorf("review of a rejected change: %v", err)
	}
	d := newChange()
	if err := d.Withdraw(Actor{KeyID: "k", Person: "bob"}, t0); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("withdrawn by another: %v", err)
	}
	if err := d.Withdraw(d.Author, t0); err != nil || d.State != ChangeWithdrawn {
		t.Errorf("withdraw: %v %s", err, d.State)
	}
}

func TestScheduleAndExpiry(t *testing.T) {
	c := newChange()
	c.NotBefore, c.Expires = t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	_ = c.Propose(c.Author, t0)
	_ = c.AddReview(review("bob", true), ChangeRules{})
	_ = c.AddReview(review("carol", true), ChangeRules{})
	if err := c.CanActivate(t0); ErrorCode(err) != ECONFLICT {
		t.Errorf("activatable before its time: %v", err)
	}
	if err := c.CanActivate(t0.Add(25 * time.Hour)); err != nil {
		t.Errorf("not activatable at its time: %v", err)
	}
	if err := c.CanActivate(t0.Add(49 * time.Hour)); ErrorCode(err) != ECONFLICT {
		t.Errorf("activatable after it expired: %v", err)
	}
}

func TestEmergencyChange(t *testing.T) {
	rules := ChangeRules{Approvals: 2, EmergencyReview: 6 * time.Hour}
	c := newChange()
	for _, j := range []string{"", " \t\n"} {
		if err := c.ActivateEmergency(c.Author, j, t0, rules); ErrorCode(err) != EINVALID || c.Emergency {
			t.Errorf("emergency with justification %q: %v", j, err)
		}
	}
	if err := c.ActivateEmergency(c.Author, "drone attacks on the coast tonight", t0, rules); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkActive("chg-0", t0); err != nil {
		t.Fatal(err)
	}
	if !c.Unreviewed(rules) || c.Overdue(t0.Add(time.Hour), rules) || !c.Overdue(t0.Add(7*time.Hour), rules) {
		t.Errorf("unreviewed %v, overdue after 1h %v, after 7h %v", c.Unreviewed(rules), c.Overdue(t0.Add(time.Hour), rules), c.Overdue(t0.Add(7*time.Hour), rules))
	}
	if err := c.AddReview(review("alice", true), rules); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("author reviewing her emergency change: %v", err)
	}
	_ = c.AddReview(review("bob", true), rules)
	_ = c.AddReview(review("carol", true), rules)
	if c.Unreviewed(rules) || c.State != ChangeActive {
		t.Errorf("after two reviews: unreviewed %v, %s", c.Unreviewed(rules), c.State)
	}
}

// An emergency change that left force unreviewed stays overdue until two
// persons other than its author have reviewed it.
func TestEmergencyOverdueAfterItEnded(t *testing.T) {
	rules := ChangeRules{Approvals: 2, EmergencyReview: 6 * time.Hour}
	c := newChange()
	if err := c.ActivateEmergency(c.Author, "drone attacks on the coast tonight", t0, rules); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkActive("chg-0", t0); err != nil {
		t.Fatal(err)
	}
	if err := c.End(ChangeRolledBack, "chg-2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	late := t0.Add(7 * time.Hour)
	if !c.Overdue(late, rules) {
		t.Fatal("an emergency change rolled back unreviewed is not overdue")
	}
	if err := c.AddReview(review("alice", true), rules); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("author reviewing her ended emergency change: %v", err)
	}
	if err := c.AddReview(review("bob", true), rules); err != nil {
		t.Fatal(err)
	}
	if err := c.AddReview(Review{By: Actor{KeyID: "key-bob-2", Person: "bob"}, Approve: true, At: t0}, rules); ErrorCode(err) != ECONFLICT {
		t.Errorf("bob again with another key: %v", err)
	}
	if !c.Overdue(late, rules) {
		t.Error("one review cleared the overdue flag")
	}
	if err := c.AddReview(review("carol", true), rules); err != nil {
		t.Fatal(err)
	}
	if c.Overdue(late, rules) || c.State != ChangeRolledBack {
		t.Errorf("after two reviews: overdue %v, %s", c.Overdue(late, rules), c.State)
	}
	// A change never put in force by the emergency path has nothing to review.
	d := newChange()
	d.Emergency = true
	if err := d.AddReview(review("bob", true), rules); ErrorCode(err) != ECONFLICT {
		t.Errorf("review of an emergency draft never in force: %v", err)
	}
}

// A change is in force once: its ActivatedAt and EndedAt are never
// rewritten.
func TestInForceOnce(t *testing.T) {
	c := newChange()
	if err := c.End(ChangeSuperseded, "chg-2", t0); ErrorCode(err) != ECONFLICT || !c.EndedAt.IsZero() {
		t.Errorf("ending a draft: %v", err)
	}
	if err := c.MarkActive("chg-0", t0); err != nil {
		t.Fatal(err)
	}
	if err := c.End(ChangeSuperseded, "chg-2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkActive("chg-3", t0.Add(2*time.Hour)); ErrorCode(err) != ECONFLICT {
		t.Errorf("put in force again: %v", err)
	}
	if err := c.End(ChangeRolledBack, "chg-4", t0.Add(3*time.Hour)); ErrorCode(err) != ECONFLICT {
		t.Errorf("ended again: %v", err)
	}
	if !c.ActivatedAt.Equal(t0) || !c.EndedAt.Equal(t0.Add(time.Hour)) || c.State != ChangeSuperseded || c.Replaced != "chg-0" || c.EndedBy != "chg-2" {
		t.Errorf("history rewritten: %s in force %s-%s, replaced %s, ended by %s", c.State, c.ActivatedAt, c.EndedAt, c.Replaced, c.EndedBy)
	}
}
