package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/skyfence/skyfence"
)

// fleet creates 250 terminals t0000..t0249 (in a shuffled order) over three
// accounts, five countries, three plans and four statuses, every tenth with
// two verifications, and returns them as a store returns them, in id order.
func fleet(t *testing.T, s skyfence.Store) []*skyfence.Terminal {
	for _, a := range []string{"a0", "a1", "a2"} {
		account(t, s, a)
	}
	countries := []string{"UA", "PL", "TW", "US", "DE"}
	plans := []string{"residential", "roam", "maritime"}
	var ts []*skyfence.Terminal
	for i := range 250 {
		term := &skyfence.Terminal{
			ID: fmt.Sprintf("t%04d", i), AccountID: fmt.Sprintf("a%d", i%3), Plan: plans[i/3%3],
			Country: countries[i%5], Status: skyfence.TerminalStatus(i % 4), CreatedAt: t0,
		}
		if i%10 == 0 {
			term.Groups = []string{"g"}
			term.Verifications = []skyfence.Verification{
				{ID: fmt.Sprintf("v%04d-a", i), Region: term.Country, Authority: "MOD", VerifiedAt: t0},
				{ID: fmt.Sprintf("v%04d-b", i), Region: "PL", Authority: "MON", Class: skyfence.Government, VerifiedAt: t0},
			}
		}
		ts = append(ts, term)
	}
	shuffled := append([]*skyfence.Terminal(nil), ts...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for _, term := range shuffled {
			if err := tx.CreateTerminal(ctx, term); err != nil {
				return err
			}
		}
		return nil
	})
	for i, term := range ts {
		ts[i] = utcTerminal(term)
	}
	return ts
}

// pages pages through f with f.Limit, failing the test on an error, a page
// larger than the limit, or an empty page followed by a cursor.
func pages(t *testing.T, s skyfence.Store, f skyfence.TerminalFilter) (all []*skyfence.Terminal, sizes []int) {
	t.Helper()
	for {
		page, next, err := s.FindTerminals(t.Context(), f)
		if err != nil {
			t.Fatalf("FindTerminals(%+v): %v", f, err)
		}
		if f.Limit > 0 && len(page) > f.Limit {
			t.Fatalf("FindTerminals(%+v): %d terminals, over the limit", f, len(page))
		}
		all, sizes = append(all, page...), append(sizes, len(page))
		if next == "" {
			return all, sizes
		}
		if len(page) == 0 || next != page[len(page)-1].ID {
			t.Fatalf("FindTerminals(%+v): cursor %q after a page of %d ending %v", f, next, len(page), page)
		}
		if len(sizes) > 1000 {
			t.Fatalf("FindTerminals(%+v): no end after 1000 pages", f)
		}
		f.After = next
	}
}

func testFindTerminals(t *testing.T, s skyfence.Store) {
	ts := fleet(t, s)
	all, sizes := pages(t, s, skyfence.TerminalFilter{Limit: 100})
	same(t, "page sizes with limit 100", sizes, []int{100, 100, 50})
	same(t, "every terminal, paged by 100", all, ts)

	_, sizes = pages(t, s, skyfence.TerminalFilter{Limit: 125})
	same(t, "page sizes with limit 125 (the last page full)", sizes, []int{125, 125})
	_, sizes = pages(t, s, skyfence.TerminalFilter{})
	same(t, "page sizes with the default limit", sizes, []int{100, 100, 50})
	_, sizes = pages(t, s, skyfence.TerminalFilter{Limit: 5000})
	same(t, "page sizes with limit 5000 (taken as 1000)", sizes, []int{250})

	active, suspended := skyfence.Active, skyfence.Suspended
	for _, f := range []skyfence.TerminalFilter{
		{AccountID: "a1"},
		{Country: "TW"},
		{Plan: "roam"},
		{Status: &suspended},
		{Country: "UA", Status: &active},
		{AccountID: "a2", Country: "PL", Plan: "maritime"},
		{AccountID: "a0", Country: "DE", Plan: "roam", Status: &suspended},
		{Country: "UA", After: "t0100"},
		{Country: "XX"},
	} {
		var want []*skyfence.Terminal
		for _, term := range ts {
			if (f.AccountID == "" || term.AccountID == f.AccountID) && (f.Country == "" || term.Country == f.Country) &&
				(f.Plan == "" || term.Plan == f.Plan) && (f.Status == nil || term.Status == *f.Status) && term.ID > f.After {
				want = append(want, term)
			}
		}
		f.Limit = 7
		got, _ := pages(t, s, f)
		same(t, fmt.Sprintf("FindTerminals(%+v) by pages of 7", f), got, want)
	}

	_, _, err := s.FindTerminals(t.Context(), skyfence.TerminalFilter{Limit: -1})
	wantCode(t, "FindTerminals(limit -1)", err, skyfence.EINVALID)
}

func testForEachTerminal(t *testing.T, s skyfence.Store) {
	ts := fleet(t, s)
	var got []*skyfence.Terminal
	if err := s.ForEachTerminal(t.Context(), func(term *skyfence.Terminal) error {
		got = append(got, term)
		return nil
	}); err != nil {
		t.Fatalf("ForEachTerminal: %v", err)
	}
	same(t, "ForEachTerminal", got, ts)

	n := 0
	err := s.ForEachTerminal(t.Context(), func(*skyfence.Terminal) error {
		if n++; n == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || n != 3 {
		t.Errorf("ForEachTerminal stopping at the third: got %v after %d calls, want %v after 3", err, n, errStop)
	}

	// Inside a transaction, ForEachTerminal sees the transaction's writes.
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.CreateTerminal(ctx, &skyfence.Terminal{ID: "t9999", AccountID: "a0"}); err != nil {
			return err
		}
		var last string
		n := 0
		err := tx.ForEachTerminal(ctx, func(term *skyfence.Terminal) error {
			last, n = term.ID, n+1
			return nil
		})
		if err != nil || n != 251 || last != "t9999" {
			t.Errorf("ForEachTerminal in a transaction: got %d terminals ending %q, error %v; want 251 ending t9999", n, last, err)
		}
		return nil
	})
}
