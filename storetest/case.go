package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// caseAt returns a case with every kind of part (a note, an applied action
// with its notice and a review, an appeal), updated at at, as a store
// returns it (times in UTC).
func caseAt(id, terminal, assignee string, state skyfence.CaseState, at time.Time) *skyfence.Case {
	at = at.UTC()
	by := skyfence.Actor{KeyID: "key-1", Person: "ana"}
	return &skyfence.Case{
		ID: id, Title: "smuggled terminal near the front", State: state, TerminalID: terminal, AccountID: "acct-" + terminal,
		Region: "UA", Assignee: assignee, OpenedBy: by, Alerts: []string{"al-1", "al-2"},
		Notes: []skyfence.CaseNote{{By: by, Text: "bought in a third country; «track» attached", At: at}},
		Actions: []skyfence.CaseAction{{
			ID: "act-1", Kind: skyfence.ActionSuspend, State: skyfence.ActionApplied, Grounds: skyfence.GroundsSmuggling,
			Reason: "used in an embargoed region", By: by, At: at, EffectiveAt: at.Add(time.Hour), AppliedAt: at.Add(time.Hour),
			Terminals: []string{terminal},
			Notice:    &skyfence.Notice{AccountID: "acct-" + terminal, Text: "Your terminal is suspended.", At: at},
			Reviews:   []skyfence.Review{{By: skyfence.Actor{KeyID: "key-2", Person: "ben"}, Approve: true, At: at}},
		}},
		Appeals:   []skyfence.Appeal{{Statement: "I was at sea", FiledBy: by, FiledAt: at}},
		CreatedAt: at.Add(-time.Hour), UpdatedAt: at,
	}
}

func testCase(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	c := caseAt("case-1", "t1", "ana", skyfence.CaseActioned, t0)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateCase(ctx, c) })
	got, err := s.FindCaseByID(ctx, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "case read back", got, c)
	txCode(t, s, "the same id again", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.CreateCase(ctx, caseAt("case-1", "t2", "", skyfence.CaseOpen, t0))
	})
	_, err = s.FindCaseByID(ctx, "case-none")
	wantCode(t, "a missing case", err, skyfence.ENOTFOUND)

	// An update at the read revision wins; one from a stale copy loses.
	stale := *got
	got.State, got.Label, got.UpdatedAt = skyfence.CaseClosed, skyfence.LabelTruePositive, t0.Add(time.Minute).UTC()
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.UpdateCase(ctx, got) })
	if got.Revision != 1 {
		t.Errorf("revision after an update = %d, want 1", got.Revision)
	}
	txCode(t, s, "an update from a stale copy", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.UpdateCase(ctx, &stale)
	})
	back, err := s.FindCaseByID(ctx, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "case after the update", back, got)
	txCode(t, s, "an update of a missing case", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.UpdateCase(ctx, caseAt("case-none", "t1", "", skyfence.CaseOpen, t0))
	})
}

func testCaseErrors(t *testing.T, s skyfence.Store) {
	for _, tc := range []struct {
		what string
		edit func(c *skyfence.Case)
	}{
		{"no id", func(c *skyfence.Case) { c.ID = "" }},
		{"an unknown state", func(c *skyfence.Case) { c.State = "pondering" }},
		{"no update time", func(c *skyfence.Case) { c.UpdatedAt = time.Time{} }},
		{"a time out of range", func(c *skyfence.Case) { c.ClosedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"a note that is not UTF-8", func(c *skyfence.Case) { c.Notes[0].Text = "bad \xff byte" }},
		{"a notice that is not UTF-8", func(c *skyfence.Case) { c.Actions[0].Notice.Text = "\xc3" }},
	} {
		c := caseAt("case-bad", "t1", "", skyfence.CaseOpen, t0)
		tc.edit(c)
		txCode(t, s, "a case with "+tc.what, skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreateCase(ctx, c)
		})
	}
	_, _, err := s.FindCases(t.Context(), skyfence.CaseFilter{State: "pondering"})
	wantCode(t, "FindCases with an unknown state", err, skyfence.EINVALID)
	_, _, err = s.FindCases(t.Context(), skyfence.CaseFilter{Limit: -1})
	wantCode(t, "FindCases with a negative limit", err, skyfence.EINVALID)
	_, _, err = s.FindCases(t.Context(), skyfence.CaseFilter{After: skyfence.Cursor{At: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), ID: "c"}})
	wantCode(t, "FindCases after a cursor out of range", err, skyfence.EINVALID)
}

func testFindCases(t *testing.T, s skyfence.Store) {
	states := []skyfence.CaseState{skyfence.CaseOpen, skyfence.CaseInvestigating, skyfence.CaseActioned, skyfence.CaseClosed}
	var all []*skyfence.Case
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for i := range 12 {
			// Updated in an order other than their ids', two at each time.
			c := caseAt(fmt.Sprintf("case-%02d", i), fmt.Sprintf("t%d", i%3), []string{"", "ana", "ben"}[i%3],
				states[i%4], t0.Add(time.Duration((i*5)%12/2)*time.Minute))
			if c.State == skyfence.CaseClosed {
				c.Label = skyfence.LabelFalsePositive
			}
			all = append(all, c)
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	want := func(keep func(*skyfence.Case) bool) []*skyfence.Case {
		var out []*skyfence.Case
		for _, c := range all {
			if keep(c) {
				out = append(out, c)
			}
		}
		// Most recently updated first, then by id descending.
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && (out[j].UpdatedAt.After(out[j-1].UpdatedAt) ||
				out[j].UpdatedAt.Equal(out[j-1].UpdatedAt) && out[j].ID > out[j-1].ID); j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    skyfence.CaseFilter
		keep func(*skyfence.Case) bool
	}{
		{"all", skyfence.CaseFilter{}, func(*skyfence.Case) bool { return true }},
		{"state", skyfence.CaseFilter{State: skyfence.CaseActioned}, func(c *skyfence.Case) bool { return c.State == skyfence.CaseActioned }},
		{"assignee", skyfence.CaseFilter{Assignee: "ben"}, func(c *skyfence.Case) bool { return c.Assignee == "ben" }},
		{"terminal", skyfence.CaseFilter{TerminalID: "t1"}, func(c *skyfence.Case) bool { return c.TerminalID == "t1" }},
		{"account and state", skyfence.CaseFilter{AccountID: "acct-t2", State: skyfence.CaseOpen},
			func(c *skyfence.Case) bool { return c.AccountID == "acct-t2" && c.State == skyfence.CaseOpen }},
		{"label", skyfence.CaseFilter{Label: skyfence.LabelFalsePositive}, func(c *skyfence.Case) bool { return c.Label == skyfence.LabelFalsePositive }},
	} {
		got, next, err := s.FindCases(t.Context(), tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		same(t, "FindCases "+tc.name, got, want(tc.keep))
		if !next.IsZero() {
			t.Errorf("FindCases %s: all in one page, yet a next page at %v", tc.name, next)
		}
	}
	got, _, err := s.FindCases(t.Context(), skyfence.CaseFilter{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "FindCases limit 5", got, want(func(*skyfence.Case) bool { return true })[:5])

	// Paged (pages of 5 end between two cases updated at the same time; the
	// last page of 4 is full), all of them and a filtered listing give the
	// same as in one page, and the last page says it is the last.
	for _, f := range []skyfence.CaseFilter{{Limit: 5}, {Limit: 4}, {TerminalID: "t1", Limit: 3}} {
		keep := func(c *skyfence.Case) bool { return f.TerminalID == "" || c.TerminalID == f.TerminalID }
		whole := want(keep)
		what := fmt.Sprintf("FindCases paged by %d (terminal %q)", f.Limit, f.TerminalID)
		paged := readPages(t, what, len(all)+1, func(after skyfence.Cursor) ([]*skyfence.Case, skyfence.Cursor, error) {
			f.After = after
			return s.FindCases(t.Context(), f)
		}, (*skyfence.Case).CursorAfter)
		same(t, what, paged, whole)
	}
}

// testCaseDue: FindCases with DueBy selects the cases whose scheduled
// action is due by then, and follows updates that schedule or apply one.
func testCaseDue(t *testing.T, s skyfence.Store) {
	scheduled := func(id string, due time.Time) *skyfence.Case {
		c := caseAt(id, "t1", "", skyfence.CaseInvestigating, t0)
		c.Actions[0].State, c.Actions[0].EffectiveAt = skyfence.ActionScheduled, due.UTC()
		return c
	}
	early, late := scheduled("case-early", t0.Add(time.Hour)), scheduled("case-late", t0.Add(3*time.Hour))
	pending := scheduled("case-pending", t0.Add(time.Hour))
	pending.Actions[0].State = skyfence.ActionPending // waits for approvals, not for a time
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for _, c := range []*skyfence.Case{early, late, pending, caseAt("case-done", "t2", "", skyfence.CaseActioned, t0)} {
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	due := func(by time.Time) []string {
		cs, _, err := s.FindCases(t.Context(), skyfence.CaseFilter{DueBy: by})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids
	}
	same(t, "due before any", due(t0), []string(nil))
	same(t, "due after an hour", due(t0.Add(time.Hour)), []string{"case-early"})
	same(t, "due after three hours", due(t0.Add(3*time.Hour)), []string{"case-late", "case-early"})
	early.Actions[0].State = skyfence.ActionApplied
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.UpdateCase(ctx, early) })
	same(t, "due after the early one applied", due(t0.Add(3*time.Hour)), []string{"case-late"})
}

// readPages reads a listing page after page, at most pages of them:
// find(after) gives the page from after on and where the next starts. It
// checks that each next page starts after the last item of the page
// before (cursorAfter), and returns the items of every page in order.
func readPages[T any](t *testing.T, what string, pages int, find func(after skyfence.Cursor) ([]T, skyfence.Cursor, error), cursorAfter func(T) skyfence.Cursor) []T {
	t.Helper()
	var all []T
	var after skyfence.Cursor
	for page := range pages {
		got, next, err := find(after)
		if err != nil {
			t.Fatalf("%s: page %d after %v: %v", what, page, after, err)
		}
		all = append(all, got...)
		if next.IsZero() {
			return all
		}
		if want := cursorAfter(got[len(got)-1]); next.ID != want.ID || !next.At.Equal(want.At) {
			t.Fatalf("%s: page %d says the next starts at %v, want after its last item, %v", what, page, next, want)
		}
		after = next
	}
	t.Fatalf("%s: still a next page after %d pages", what, pages)
	return nil
}
