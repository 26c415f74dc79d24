package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

func testAccount(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	a := &skyfence.Account{ID: "acme", Name: "Acme Relief", CreatedAt: t0}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateAccount(ctx, a) })
	got, err := s.FindAccountByID(ctx, "acme")
	if err != nil {
		t.Fatalf("FindAccountByID: %v", err)
	}
	same(t, "FindAccountByID", got, &skyfence.Account{ID: "acme", Name: "Acme Relief", CreatedAt: t0.UTC()})

	txCode(t, s, "CreateAccount(existing id)", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.CreateAccount(ctx, &skyfence.Account{ID: "acme", Name: "other"})
	})
	txCode(t, s, "CreateAccount(no id)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.CreateAccount(ctx, &skyfence.Account{Name: "nameless"})
	})
	_, err = s.FindAccountByID(ctx, "nope")
	wantCode(t, "FindAccountByID(missing)", err, skyfence.ENOTFOUND)
}

func testTerminal(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	term := &skyfence.Terminal{
		ID: "ut-1", AccountID: "acme", Plan: "sponsored", Country: "UA", Status: skyfence.Active,
		Groups: []string{"humanitarian", "donated"}, Cell: "c48.5:35.0",
		Verifications: []skyfence.Verification{
			{ID: "v-2", Region: "UA", Authority: "UA-MOD", Class: skyfence.Military, VerifiedAt: t0, ExpiresAt: t0.AddDate(1, 0, 0)},
			{ID: "v-1", Region: "PL", Authority: "PL-MON", Class: skyfence.Government, VerifiedAt: t0.Add(time.Nanosecond)},
		},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
	}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateTerminal(ctx, term) })
	want := utcTerminal(term)
	want.Verifications[0], want.Verifications[1] = want.Verifications[1], want.Verifications[0] // id order
	got, err := s.FindTerminalByID(ctx, "ut-1")
	if err != nil {
		t.Fatalf("FindTerminalByID: %v", err)
	}
	same(t, "FindTerminalByID", got, want)

	plain := &skyfence.Terminal{ID: "ut-2", AccountID: "acme", Plan: "residential", Country: "PL"}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateTerminal(ctx, plain) })
	got, err = s.FindTerminalByID(ctx, "ut-2")
	if err != nil {
		t.Fatalf("FindTerminalByID: %v", err)
	}
	same(t, "FindTerminalByID(no groups, verifications or times)", got, plain)

	for _, tc := range []struct {
		name, code string
		term       *skyfence.Terminal
	}{
		{"existing id", skyfence.ECONFLICT, &skyfence.Terminal{ID: "ut-1", AccountID: "acme"}},
		{"unknown account", skyfence.ENOTFOUND, &skyfence.Terminal{ID: "ut-3", AccountID: "nobody"}},
		{"no id", skyfence.EINVALID, &skyfence.Terminal{AccountID: "acme"}},
		{"unknown status", skyfence.EINVALID, &skyfence.Terminal{ID: "ut-4", AccountID: "acme", Status: 9}},
		{"verification of another terminal", skyfence.EINVALID, &skyfence.Terminal{ID: "ut-5", AccountID: "acme",
			Verifications: []skyfence.Verification{{ID: "v-9", TerminalID: "ut-1"}}}},
		{"existing verification id", skyfence.ECONFLICT, &skyfence.Terminal{ID: "ut-6", AccountID: "acme",
			Verifications: []skyfence.Verification{{ID: "v-1"}}}},
	} {
		txCode(t, s, "CreateTerminal("+tc.name+")", tc.code, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreateTerminal(ctx, tc.term)
		})
	}
	for _, id := range []string{"ut-3", "ut-4", "ut-5", "ut-6", "nope"} {
		_, err = s.FindTerminalByID(ctx, id)
		wantCode(t, "FindTerminalByID("+id+")", err, skyfence.ENOTFOUND)
	}
}

func testTerminalUpdate(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	term := &skyfence.Terminal{ID: "ut-1", AccountID: "acme", Plan: "residential", Country: "UA", Groups: []string{"a"}, CreatedAt: t0}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateTerminal(ctx, term) })

	suspended, roam := skyfence.Suspended, "roam"
	t1 := t0.Add(time.Hour + time.Nanosecond)
	var updated *skyfence.Terminal
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		updated, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Status: &suspended, Plan: &roam}, t1)
		return err
	})
	want := utcTerminal(term)
	want.Status, want.Plan, want.UpdatedAt = suspended, roam, t1.UTC()
	same(t, "UpdateTerminal(status, plan)", updated, want)

	groups := []string{"b", "c"}
	t2 := t1.Add(time.Minute)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		updated, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Groups: &groups}, t2)
		return err
	})
	want.Groups, want.UpdatedAt = groups, t2.UTC()
	same(t, "UpdateTerminal(groups)", updated, want)
	got, err := s.FindTerminalByID(ctx, "ut-1")
	if err != nil {
		t.Fatalf("FindTerminalByID: %v", err)
	}
	same(t, "FindTerminalByID after updates", got, want)

	none := []string{}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		updated, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Groups: &none}, t2)
		return err
	})
	want.Groups = nil
	same(t, "UpdateTerminal(no groups)", updated, want)

	cell, noCell := "c48.5:35.0", ""
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		updated, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Cell: &cell}, t2)
		return err
	})
	want.Cell = cell
	same(t, "UpdateTerminal(cell)", updated, want)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		updated, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Plan: &roam}, t2)
		return err
	})
	same(t, "UpdateTerminal(plan) keeps the cell", updated, want)
	if got, err := s.FindTerminalByID(ctx, "ut-1"); err != nil || got.Cell != cell {
		t.Errorf("FindTerminalByID after setting the cell: cell %q, error %v; want %q", got.Cell, err, cell)
	}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		updated, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Cell: &noCell}, t2)
		return err
	})
	want.Cell = ""
	same(t, "UpdateTerminal(no cell)", updated, want)

	txCode(t, s, "UpdateTerminal(missing)", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.UpdateTerminal(ctx, "nope", skyfence.TerminalUpdate{Plan: &roam}, t2)
		return err
	})
	bad := skyfence.TerminalStatus(7)
	txCode(t, s, "UpdateTerminal(unknown status)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Status: &bad}, t2)
		return err
	})
}

// testTimes checks that times come back equal to the nanosecond, in UTC,
// from any zone, and that times a store cannot hold are refused.
func testTimes(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	zones := []*time.Location{time.UTC, time.FixedZone("UTC-9:30", -9*3600-1800), time.FixedZone("UTC+14", 14*3600)}
	times := []time.Time{
		t0, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2262, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(1678, 1, 1, 0, 0, 0, 1, time.UTC),
	}
	for i, at := range times {
		at = at.In(zones[i%len(zones)])
		id := "ut-" + string(rune('a'+i))
		term := &skyfence.Terminal{ID: id, AccountID: "acme", CreatedAt: at, UpdatedAt: at.Add(-time.Nanosecond)}
		mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateTerminal(ctx, term) })
		got, err := s.FindTerminalByID(ctx, id)
		if err != nil {
			t.Fatalf("FindTerminalByID: %v", err)
		}
		if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC || !got.UpdatedAt.Equal(at.Add(-time.Nanosecond)) {
			t.Errorf("times of %s: got %v, %v; want %v, %v in UTC", id, got.CreatedAt, got.UpdatedAt, at, at.Add(-time.Nanosecond))
		}
	}
	for _, at := range []time.Time{time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)} {
		txCode(t, s, "CreateTerminal(created "+at.String()+")", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreateTerminal(ctx, &skyfence.Terminal{ID: "ut-far", AccountID: "acme", CreatedAt: at})
		})
	}
}

// testTerminalIfStatus checks the compare-and-set of UpdateTerminal on the
// status.
func testTerminalIfStatus(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	terminals(t, s, "ut-1")
	inactive, active, suspended := skyfence.Inactive, skyfence.Active, skyfence.Suspended
	cell := "c1.1"
	t1 := t0.Add(time.Hour)

	// The status is the one expected: the update is made.
	var got *skyfence.Terminal
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		got, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Status: &active, Cell: &cell, IfStatus: &inactive}, t1)
		return err
	})
	if got.Status != active || got.Cell != cell || !got.UpdatedAt.Equal(t1) {
		t.Errorf("UpdateTerminal(if inactive) of an inactive terminal: got %+v, want it active in %s, updated at %v", got, cell, t1)
	}
	before, err := s.FindTerminalByID(ctx, "ut-1")
	if err != nil {
		t.Fatalf("FindTerminalByID: %v", err)
	}
	same(t, "FindTerminalByID after UpdateTerminal(if inactive)", before, got)

	// Another: ECONFLICT, and nothing changes.
	other := "elsewhere"
	txCode(t, s, "UpdateTerminal(if inactive) of an active terminal", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Status: &suspended, Cell: &other, IfStatus: &inactive}, t1.Add(time.Hour))
		return err
	})
	// The transaction goes on after the conflict.
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Cell: &other, IfStatus: &suspended}, t1.Add(time.Hour))
		wantCode(t, "UpdateTerminal(if suspended) of an active terminal, in a transaction", err, skyfence.ECONFLICT)
		return tx.CreateAccount(ctx, &skyfence.Account{ID: "after"})
	})
	if _, err := s.FindAccountByID(ctx, "after"); err != nil {
		t.Errorf("FindAccountByID of the account created after the conflict: %v", err)
	}
	after, err := s.FindTerminalByID(ctx, "ut-1")
	if err != nil {
		t.Fatalf("FindTerminalByID: %v", err)
	}
	same(t, "FindTerminalByID after the conflicting updates", after, before)

	// IfStatus alone checks and touches only UpdatedAt.
	t2 := t1.Add(2 * time.Hour)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		got, err = tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{IfStatus: &active}, t2)
		return err
	})
	want := *before
	want.UpdatedAt = t2.UTC()
	same(t, "UpdateTerminal(if active, nothing else)", got, &want)

	txCode(t, s, "UpdateTerminal(missing, if inactive)", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.UpdateTerminal(ctx, "nope", skyfence.TerminalUpdate{Status: &active, IfStatus: &inactive}, t2)
		return err
	})
	bad := skyfence.TerminalStatus(9)
	txCode(t, s, "UpdateTerminal(if an unknown status)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.UpdateTerminal(ctx, "ut-1", skyfence.TerminalUpdate{Status: &active, IfStatus: &bad}, t2)
		return err
	})
}
