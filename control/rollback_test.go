package control_test

import (
	"context"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// licensed puts the Taiwan change in force through the reviewed path
// (alice drafts, bob and carol approve) and returns it.
func licensed(t *testing.T, svc *control.Service) *skyfence.PolicyChange {
	t.Helper()
	c := draft(t, svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
	if _, err := svc.ProposeChange(as("alice", skyfence.RolePolicyAuthor), c.ID); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"bob", "carol"} {
		if _, err := svc.ReviewChange(as(who, skyfence.RoleApprover), c.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	c, err := svc.ActivateChange(as("alice", skyfence.RolePolicyAuthor), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRollbackIsGoverned: an insider who wants the previous policy back
// on their own word alone gets nothing in force, by any role, any key or
// the emergency path without its role or its justification.
func TestRollbackIsGoverned(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		c := licensed(t, svc)
		inForce := func(what string) {
			t.Helper()
			if got := svc.Authorizer().Snapshot().Version; got != c.Version || !taipeiAllowed(svc, clk.now()) {
				t.Fatalf("%s: policy %s in force, want %s", what, got, c.Version)
			}
		}
		reason := control.RollbackInput{Reason: "wrong licence reference"}

		// One approver alone: an approver may not even draft.
		if _, err := svc.DraftRollback(as("bob", skyfence.RoleApprover), reason); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("an approver drafting a rollback: %v, want %s", err, skyfence.EFORBIDDEN)
		}
		for _, in := range []control.RollbackInput{{}, {Reason: " \n\t"}, {Reason: "r", Category: "whim"}} {
			if _, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), in); skyfence.ErrorCode(err) != skyfence.EINVALID {
				t.Errorf("a rollback %+v: %v, want %s", in, err, skyfence.EINVALID)
			}
		}
		r, err := svc.DraftRollback(as("bob", skyfence.RoleAdmin), reason)
		if err != nil {
			t.Fatal(err)
		}
		inForce("after drafting the rollback")
		// Its author, with every key he holds, may not approve it, nor
		// activate it unapproved.
		if _, err := svc.ProposeChange(as("bob", skyfence.RolePolicyAuthor), r.ID); err != nil {
			t.Fatal(err)
		}
		for _, role := range []skyfence.Role{skyfence.RoleApprover, skyfence.RoleAdmin} {
			if _, err := svc.ReviewChange(as("bob", role), r.ID, true, "mine"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
				t.Errorf("the rollback's author approving it as %s: %v, want %s", role, err, skyfence.EFORBIDDEN)
			}
		}
		for _, role := range []skyfence.Role{skyfence.RoleAdmin, skyfence.RolePolicyAuthor, skyfence.RoleApprover} {
			if _, err := svc.ActivateChange(as("bob", role), r.ID); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
				t.Errorf("activating the unapproved rollback as %s: %v, want %s", role, err, skyfence.ECONFLICT)
			}
		}
		// One other person with two keys is one approval.
		if _, err := svc.ReviewChange(as("carol", skyfence.RoleApprover), r.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ReviewChange(as("carol", skyfence.RoleAdmin), r.ID, true, "again"); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("carol approving twice with two keys: %v, want %s", err, skyfence.ECONFLICT)
		}
		if _, err := svc.ActivateChange(as("carol", skyfence.RoleAdmin), r.ID); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("activating with one person's approval: %v, want %s", err, skyfence.ECONFLICT)
		}
		// The emergency path: not without its role, not without a
		// justification.
		for _, role := range []skyfence.Role{skyfence.RoleApprover, skyfence.RolePolicyAuthor} {
			if _, err := svc.EmergencyActivate(as("dave", role), r.ID, "now"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
				t.Errorf("emergency rollback as %s: %v, want %s", role, err, skyfence.EFORBIDDEN)
			}
		}
		for _, j := range []string{"", "   "} {
			if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), r.ID, j); skyfence.ErrorCode(err) != skyfence.EINVALID {
				t.Errorf("emergency rollback with justification %q: %v, want %s", j, err, skyfence.EINVALID)
			}
		}
		inForce("after every attempt")
		if got, _ := svc.Change(as("v", skyfence.RoleViewer), r.ID); got.State != skyfence.ChangeProposed || got.Emergency {
			t.Errorf("the rollback after the attempts: %s, emergency %v", got.State, got.Emergency)
		}
		wantActions(t, store, "policy.bootstrap", "policy.draft", "policy.propose", "policy.approve", "policy.approve", "policy.activate",
			"policy.draft", "policy.propose", "policy.approve")
	})
}

// TestStaleRollback: a rollback reviewed to undo one change does not
// undo another that came into force since.
func TestStaleRollback(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		c := licensed(t, svc)
		r, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "wrong licence reference"})
		if err != nil {
			t.Fatal(err)
		}
		// Another change goes into force (the emergency path, on the
		// same files: a new change all the same).
		d := draft(t, svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
		if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), d.ID, "a second licence decision"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), r.ID, "undo"); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("a stale rollback through the emergency path: %v, want %s", err, skyfence.ECONFLICT)
		}
		if got := svc.Authorizer().Snapshot().Version; got != c.Version {
			t.Errorf("policy %s in force, want %s", got, c.Version)
		}
		// A rollback of what is in force now puts back the change before
		// it, which was c.
		r2, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "one decision is enough"})
		if err != nil {
			t.Fatal(err)
		}
		if r2.RollsBack != d.ID || r2.Version != c.Version {
			t.Errorf("the rollback of %s rolls back %q to %s, want %s", d.ID, r2.RollsBack, r2.Version, c.Version)
		}
	})
}

// TestTransparencyKeepsEachChangesHistory: after a rollback every change
// keeps the time it came into force, and the report shows the rollback's
// reason and what it undid; an emergency change not reviewed by its
// deadline shows until two persons review it, even once rolled back.
func TestTransparencyKeepsEachChangesHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		ctx := context.Background()
		c := draft(t, svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
		if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), c.ID, "licence in force tonight"); err != nil {
			t.Fatal(err)
		}
		since := clk.now()
		clk.add(time.Hour)
		r, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "the licence was not signed", Requester: "NCC", Category: skyfence.RequestRegulator})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = svc.ProposeChange(as("bob", skyfence.RolePolicyAuthor), r.ID)
		_, _ = svc.ReviewChange(as("carol", skyfence.RoleApprover), r.ID, true, "")
		_, _ = svc.ReviewChange(as("erin", skyfence.RoleApprover), r.ID, true, "")
		if _, err := svc.ActivateChange(as("bob", skyfence.RolePolicyAuthor), r.ID); err != nil {
			t.Fatal(err)
		}
		clk.add(7 * time.Hour) // past c's review deadline (6 h)
		rep, err := svc.Transparency(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reqs := map[string]control.Request{}
		for _, q := range rep.Requests {
			reqs[q.ChangeID] = q
		}
		got, undo := reqs[c.ID], reqs[r.ID]
		if !got.InForce.Equal(since) || !got.Ended.Equal(since.Add(time.Hour)) || got.Outcome != "rolled_back" || got.EndedBy != r.ID {
			t.Errorf("the rolled back change: %+v, want in force %s, ended an hour later by %s", got, since, r.ID)
		}
		if !got.ReviewOverdue || rep.OverdueReviews != 1 {
			t.Errorf("the unreviewed emergency change: overdue %v, report counts %d, want true and 1", got.ReviewOverdue, rep.OverdueReviews)
		}
		if undo.RollsBack != c.ID || undo.Reason != "the licence was not signed" || undo.Outcome != "active" || !undo.InForce.Equal(since.Add(time.Hour)) {
			t.Errorf("the rollback: %+v", undo)
		}
		if n, err := svc.Overdue(ctx); err != nil || n != 1 {
			t.Errorf("Overdue: %d %v, want 1", n, err)
		}
		// Reviewed by two persons other than its author, it is overdue no more.
		if _, err := svc.ReviewChange(as("alice", skyfence.RoleApprover), c.ID, true, ""); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("the author reviewing her emergency change: %v", err)
		}
		for _, who := range []string{"carol", "erin"} {
			if _, err := svc.ReviewChange(as(who, skyfence.RoleApprover), c.ID, true, "it was needed"); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := svc.Overdue(ctx); err != nil || n != 0 {
			t.Errorf("Overdue after two reviews: %d %v, want 0", n, err)
		}
		if rep, err = svc.Transparency(ctx); err != nil || rep.OverdueReviews != 0 {
			t.Errorf("the report after two reviews: %v, %d overdue", err, rep.OverdueReviews)
		}
	})
}

// TestChangeInForceOnce: a change that left force does not come back, even
// if someone with access to the store sets it approved again: its policy
// comes back only through a new, reviewed change.
func TestChangeInForceOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		ctx := context.Background()
		c := licensed(t, svc)
		d := draft(t, svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{Title: "Again", Justification: "j", Requester: "internal", Category: skyfence.RequestOther})
		if _, err := svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), d.ID, "supersede"); err != nil {
			t.Fatal(err)
		}
		err := store.Tx(ctx, func(tx skyfence.Tx) error {
			old, err := tx.FindChangeByID(ctx, c.ID)
			if err != nil {
				return err
			}
			old.State = skyfence.ChangeApproved
			return tx.UpdateChange(ctx, old)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ActivateChange(as("alice", skyfence.RolePolicyAuthor), c.ID); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("activating a change that was in force: %v, want %s", err, skyfence.ECONFLICT)
		}
		if got, _ := svc.Change(as("v", skyfence.RoleViewer), d.ID); got.State != skyfence.ChangeActive {
			t.Errorf("the change in force is %s after the attempt", got.State)
		}
	})
}

// TestRollbackOfAChangeRecordedBefore: a change in force recorded before
// changes named the one they replaced is rolled back to the last change
// that left force when it came in.
func TestRollbackOfAChangeRecordedBefore(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, store, clk)
		defer svc.Close(context.Background())
		ctx := context.Background()
		initial := svc.Authorizer().Snapshot().Version
		if _, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "r"}); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("a rollback of the first policy on record: %v, want %s", err, skyfence.ECONFLICT)
		}
		c := licensed(t, svc)
		err := store.Tx(ctx, func(tx skyfence.Tx) error {
			old, err := tx.FindChangeByID(ctx, c.ID)
			if err != nil {
				return err
			}
			old.Replaced = ""
			return tx.UpdateChange(ctx, old)
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.DraftRollback(as("bob", skyfence.RolePolicyAuthor), control.RollbackInput{Reason: "wrong licence reference"})
		if err != nil {
			t.Fatal(err)
		}
		if r.RollsBack != c.ID || r.Version != initial {
			t.Errorf("the rollback of %s rolls back %q to %s, want the initial policy %s", c.ID, r.RollsBack, r.Version, initial)
		}
	})
}
