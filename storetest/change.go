package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// fullChange returns a change with every field set: times in zones other
// than UTC, with nanoseconds and (ProposedAt) a monotonic clock reading;
// files holding bytes that are not UTF-8; texts with quotes, HTML, a NUL
// and characters outside ASCII.
func fullChange(id string) *skyfence.PolicyChange {
	kyiv, taipei := time.FixedZone("UTC+3", 3*3600), time.FixedZone("UTC+8", 8*3600)
	return &skyfence.PolicyChange{
		ID: id, State: skyfence.ChangeProposed, Title: `Suspend "roam" in <Kherson> & Zaporizhzhia`,
		Justification: "Regulator's order №12\n\twith a NUL \x00 and 🛰",
		Requester:     "NKEK", Category: skyfence.RequestRegulator, References: []string{"order-12", "ticket 3"},
		Author: skyfence.Actor{KeyID: "k-author", Person: "alice"},
		Files: []skyfence.PolicyFile{
			{Name: "policy.yaml", Data: []byte("version: 1\nplans: {}\n")},
			{Name: "zones/front.geojson", Data: []byte{0, 1, 0xfe, 0xff, '{'}},
			{Name: "empty.geojson", Data: []byte{}},
			{Name: "none.geojson"},
		},
		Version: "sha256:abc", Base: "sha256:123",
		NotBefore: t0.Add(24 * time.Hour).In(kyiv), Expires: t0.AddDate(0, 1, 0).In(taipei),
		Emergency: true, ReviewBy: t0.Add(25 * time.Hour),
		Reviews: []skyfence.Review{
			{By: skyfence.Actor{KeyID: "k-bob", Person: "bob"}, Approve: true, Comment: "ok", At: t0.Add(time.Minute + 1)},
			{By: skyfence.Actor{KeyID: "k-carol", Person: "carol"}, Comment: "no", At: t0.Add(2 * time.Minute).In(taipei)},
		},
		Impact:    []byte(`{"losers":[{"terminal":"ut-1"}],"gainers":[]}`),
		RollsBack: "chg-undone", Reason: "the order was lifted: «відкликано» <b>",
		Replaced: "chg-before", EndedBy: "chg-after",
		CreatedAt:  t0,
		ProposedAt: time.Now().Add(time.Nanosecond), // carries a monotonic clock reading
		Revision:   3,
	}
}

// utcChange returns a copy of c as a store returns it: times in UTC
// (without monotonic clock readings), empty References, Reviews and Impact
// nil (json's omitempty drops them).
func utcChange(c *skyfence.PolicyChange) *skyfence.PolicyChange {
	n := *c
	n.NotBefore, n.Expires, n.ReviewBy = utc(n.NotBefore), utc(n.Expires), utc(n.ReviewBy)
	n.CreatedAt, n.ProposedAt, n.ActivatedAt, n.EndedAt = utc(n.CreatedAt), utc(n.ProposedAt), utc(n.ActivatedAt), utc(n.EndedAt)
	if len(n.References) == 0 {
		n.References = nil
	}
	if len(n.Impact) == 0 {
		n.Impact = nil
	}
	n.Reviews = nil
	for _, r := range c.Reviews {
		r.At = utc(r.At)
		n.Reviews = append(n.Reviews, r)
	}
	return &n
}

// findChange returns the change read from r, failing the test on an error.
func findChange(t testing.TB, r skyfence.Reader, id string) *skyfence.PolicyChange {
	t.Helper()
	c, err := r.FindChangeByID(t.Context(), id)
	if err != nil {
		t.Fatalf("FindChangeByID(%s): %v", id, err)
	}
	return c
}

// updateChange updates c in a transaction of its own.
func updateChange(t testing.TB, s skyfence.Store, c *skyfence.PolicyChange) error {
	return s.Tx(t.Context(), func(tx skyfence.Tx) error { return tx.UpdateChange(t.Context(), c) })
}

func testChange(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	c := fullChange("chg-1")
	written := *c
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.CreateChange(ctx, c); err != nil {
			return err
		}
		same(t, "FindChangeByID in the creating transaction", findChange(t, tx, "chg-1"), utcChange(c))
		return nil
	})
	same(t, "the change after CreateChange", c, &written) // untouched
	want := utcChange(c)
	got := findChange(t, s, "chg-1")
	same(t, "FindChangeByID", got, want)
	if got.ProposedAt.Location() != time.UTC || got.ProposedAt != c.ProposedAt.UTC() {
		t.Errorf("ProposedAt: got %#v, want %#v (in UTC, without the monotonic clock reading)", got.ProposedAt, c.ProposedAt.UTC())
	}

	// A minimal change: empty lists and times stay empty.
	bare := &skyfence.PolicyChange{ID: "chg-0", State: skyfence.ChangeDraft, References: []string{}, Reviews: []skyfence.Review{},
		Impact: []byte{}, Files: []skyfence.PolicyFile{}, CreatedAt: t0.Add(-time.Hour)}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateChange(ctx, bare) })
	same(t, "FindChangeByID(bare)", findChange(t, s, "chg-0"), &skyfence.PolicyChange{ID: "chg-0", State: skyfence.ChangeDraft,
		Files: []skyfence.PolicyFile{}, CreatedAt: t0.Add(-time.Hour).UTC()})

	// Updates: each bumps the revision, stored and in the caller's change.
	got.State, got.ActivatedAt = skyfence.ChangeActive, t0.Add(48*time.Hour+5).In(time.FixedZone("UTC-5", -5*3600))
	got.Reviews = append(got.Reviews, skyfence.Review{By: skyfence.Actor{KeyID: "k-dan", Person: "dan"}, Approve: true, At: t0.Add(3 * time.Minute)})
	if err := updateChange(t, s, got); err != nil {
		t.Fatalf("UpdateChange: %v", err)
	}
	if got.Revision != 4 {
		t.Errorf("UpdateChange: revision %d after an update of revision 3, want 4", got.Revision)
	}
	same(t, "FindChangeByID after UpdateChange", findChange(t, s, "chg-1"), utcChange(got))
	if err := updateChange(t, s, got); err != nil || got.Revision != 5 {
		t.Errorf("UpdateChange again: revision %d, error %v; want 5, nil", got.Revision, err)
	}

	// A stale revision conflicts and changes nothing, the caller's change
	// included.
	stale := findChange(t, s, "chg-1")
	stale.Revision, stale.Title = 4, "stale"
	txCode(t, s, "UpdateChange(stale revision)", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.UpdateChange(ctx, stale)
	})
	if stale.Revision != 4 {
		t.Errorf("UpdateChange(stale revision) changed the caller's revision to %d", stale.Revision)
	}
	same(t, "FindChangeByID after a conflicting update", findChange(t, s, "chg-1"), utcChange(got))

	// A transaction sees its own update, and another update of the
	// revision it replaced conflicts.
	var last *skyfence.PolicyChange
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		last = findChange(t, tx, "chg-1")
		last.Title = "updated in a transaction"
		if err := tx.UpdateChange(ctx, last); err != nil {
			return err
		}
		same(t, "FindChangeByID in the updating transaction", findChange(t, tx, "chg-1"), last)
		again := findChange(t, tx, "chg-1")
		again.Revision--
		wantCode(t, "UpdateChange of the revision before, in the transaction", tx.UpdateChange(ctx, again), skyfence.ECONFLICT)
		return nil
	})
	if last.Revision != 6 {
		t.Errorf("revision after the update in a transaction: %d, want 6", last.Revision)
	}
	same(t, "FindChangeByID after the update in a transaction", findChange(t, s, "chg-1"), last)

	// An update rolled back is undone, revision included.
	rolled := findChange(t, s, "chg-1")
	rolled.Title = "rolled back"
	err := s.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.UpdateChange(ctx, rolled); err != nil {
			return err
		}
		return errStop
	})
	if err != errStop {
		t.Fatalf("Tx: got %v, want %v", err, errStop)
	}
	same(t, "FindChangeByID after a rolled-back update", findChange(t, s, "chg-1"), last)

	// Errors.
	txCode(t, s, "CreateChange(existing id)", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.CreateChange(ctx, fullChange("chg-1"))
	})
	for _, tc := range []struct {
		name string
		edit func(*skyfence.PolicyChange)
	}{
		{"no id", func(c *skyfence.PolicyChange) { c.ID = "" }},
		{"unknown state", func(c *skyfence.PolicyChange) { c.State = "limbo" }},
		{"no state", func(c *skyfence.PolicyChange) { c.State = "" }},
		{"no creation time", func(c *skyfence.PolicyChange) { c.CreatedAt = time.Time{} }},
		{"a time out of range", func(c *skyfence.PolicyChange) { c.Expires = time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"a review time out of range", func(c *skyfence.PolicyChange) { c.Reviews[0].At = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"a title not UTF-8", func(c *skyfence.PolicyChange) { c.Title = "bad \xff byte" }},
		{"a comment not UTF-8", func(c *skyfence.PolicyChange) { c.Reviews[1].Comment = "\xc3" }},
	} {
		bad := fullChange("chg-bad")
		tc.edit(bad)
		txCode(t, s, "CreateChange("+tc.name+")", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreateChange(ctx, bad)
		})
		bad = findChange(t, s, "chg-1")
		tc.edit(bad)
		if bad.ID == "" {
			continue
		}
		txCode(t, s, "UpdateChange("+tc.name+")", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.UpdateChange(ctx, bad)
		})
	}
	_, err = s.FindChangeByID(ctx, "chg-bad")
	wantCode(t, "FindChangeByID of a change refused", err, skyfence.ENOTFOUND)
	_, err = s.FindChangeByID(ctx, "nope")
	wantCode(t, "FindChangeByID(missing)", err, skyfence.ENOTFOUND)
	txCode(t, s, "UpdateChange(missing)", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.UpdateChange(ctx, fullChange("nope"))
	})
	same(t, "FindChangeByID after the refused updates", findChange(t, s, "chg-1"), last)
}

// testChangeRevisions checks the compare-and-set of UpdateChange: of two
// readers of one revision the first to update wins.
func testChangeRevisions(t *testing.T, s skyfence.Store) {
	changeRace(t, []skyfence.Store{s, s})
}

// changeRace creates a change through the first store, then has two
// readers (through the first two stores) read it at one revision and
// update it in turn: the first wins and the second conflicts. Then as many
// goroutines as there are stores, times four, read it at one revision and
// race to update it: exactly one wins.
func changeRace(t *testing.T, stores []skyfence.Store) {
	ctx := t.Context()
	first, second := stores[0], stores[1%len(stores)]
	mustTx(t, first, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.CreateChange(ctx, &skyfence.PolicyChange{ID: "chg-race", State: skyfence.ChangeProposed, CreatedAt: t0})
	})
	a, b := findChange(t, first, "chg-race"), findChange(t, second, "chg-race")
	if a.Revision != 0 || b.Revision != 0 {
		t.Fatalf("revisions read: %d, %d; want 0, 0", a.Revision, b.Revision)
	}
	a.Reviews = []skyfence.Review{{By: skyfence.Actor{Person: "bob"}, Approve: true, At: t0}}
	b.State = skyfence.ChangeWithdrawn
	if err := updateChange(t, first, a); err != nil {
		t.Fatalf("UpdateChange(first): %v", err)
	}
	wantCode(t, "UpdateChange(second, of the revision the first replaced)", updateChange(t, second, b), skyfence.ECONFLICT)
	if a.Revision != 1 || b.Revision != 0 {
		t.Errorf("revisions after the updates: %d, %d; want 1 (updated), 0 (conflicted)", a.Revision, b.Revision)
	}
	same(t, "the change after the race, read by the loser", findChange(t, second, "chg-race"), utcChange(a))

	// A race: everyone reads revision 1, then everyone updates.
	n := 4 * len(stores)
	errs := make([]error, n)
	var read, wg sync.WaitGroup
	read.Add(n)
	for i := range n {
		s := stores[i%len(stores)]
		wg.Go(func() {
			c, err := s.FindChangeByID(ctx, "chg-race")
			read.Done()
			if err != nil {
				errs[i] = err
				return
			}
			read.Wait()
			c.Title = fmt.Sprint("by ", i)
			errs[i] = updateChange(t, s, c)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch skyfence.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Errorf("updates %d and %d of revision 1 both succeeded", winner, i)
			}
			winner = i
		case skyfence.ECONFLICT:
		default:
			t.Errorf("update %d: %v, want success or code %q", i, err, skyfence.ECONFLICT)
		}
	}
	if winner < 0 {
		t.Fatalf("no update of revision 1 succeeded")
	}
	if got := findChange(t, first, "chg-race"); got.Revision != 2 || got.Title != fmt.Sprint("by ", winner) {
		t.Errorf("after the race: revision %d, title %q; want 2, %q", got.Revision, got.Title, fmt.Sprint("by ", winner))
	}
}

func testFindChanges(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	// 130 changes over every state, created at 13 distinct times (so that
	// ten share each time and the id breaks the ties), stored shuffled.
	var cs []*skyfence.PolicyChange
	for i := range 130 {
		cs = append(cs, &skyfence.PolicyChange{
			ID: fmt.Sprintf("chg-%03d", (i*37)%130), State: skyfence.ChangeStates[i%len(skyfence.ChangeStates)], Title: fmt.Sprint("change ", i),
			Files:     []skyfence.PolicyFile{{Name: "policy.yaml", Data: []byte(fmt.Sprint("version: ", i))}},
			CreatedAt: t0.Add(time.Duration(i%13) * time.Minute).In(time.FixedZone("", (i%5)*3600)), Revision: int64(i % 3),
		})
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for _, c := range cs {
			if err := tx.CreateChange(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	newest := make([]*skyfence.PolicyChange, len(cs))
	for i, c := range cs {
		newest[i] = utcChange(c)
	}
	slices.SortFunc(newest, func(a, b *skyfence.PolicyChange) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	of := func(state skyfence.ChangeState) []*skyfence.PolicyChange {
		var sel []*skyfence.PolicyChange
		for _, c := range newest {
			if state == "" || c.State == state {
				sel = append(sel, c)
			}
		}
		return sel
	}
	for _, tc := range []struct {
		f    skyfence.ChangeFilter
		want []*skyfence.PolicyChange
	}{
		{skyfence.ChangeFilter{}, newest[:100]}, // the default limit
		{skyfence.ChangeFilter{Limit: 1000}, newest},
		{skyfence.ChangeFilter{Limit: 5000}, newest}, // taken as 1000
		{skyfence.ChangeFilter{Limit: 7}, newest[:7]},
		{skyfence.ChangeFilter{Limit: 1}, newest[:1]},
		{skyfence.ChangeFilter{State: skyfence.ChangeActive}, of(skyfence.ChangeActive)},
		{skyfence.ChangeFilter{State: skyfence.ChangeRolledBack}, of(skyfence.ChangeRolledBack)},
		{skyfence.ChangeFilter{State: skyfence.ChangeDraft, Limit: 4}, of(skyfence.ChangeDraft)[:4]},
	} {
		got, _, err := s.FindChanges(ctx, tc.f)
		if err != nil {
			t.Fatalf("FindChanges(%+v): %v", tc.f, err)
		}
		same(t, fmt.Sprintf("FindChanges(%+v)", tc.f), got, tc.want)
	}

	// Paged (pages of 7 end between changes created at the same time; 130
	// is ten full pages of 13), all of them and one state give the same as
	// in one page, and the last page says it is the last.
	for _, f := range []skyfence.ChangeFilter{{Limit: 7}, {Limit: 13}, {State: skyfence.ChangeDraft, Limit: 3}} {
		what := fmt.Sprintf("FindChanges paged by %d (state %q)", f.Limit, f.State)
		paged := readPages(t, what, len(cs)+1, func(after skyfence.Cursor) ([]*skyfence.PolicyChange, skyfence.Cursor, error) {
			f.After = after
			return s.FindChanges(ctx, f)
		}, (*skyfence.PolicyChange).CursorAfter)
		same(t, what, paged, of(f.State))
	}

	// An update moves a change to its new state; the transaction sees it
	// before the commit, others after.
	moved := newest[5]
	moved.State = skyfence.ChangeExpired
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.UpdateChange(ctx, moved); err != nil {
			return err
		}
		if got, _, err := tx.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeExpired, Limit: 1000}); err != nil || !slices.ContainsFunc(got, func(c *skyfence.PolicyChange) bool { return c.ID == moved.ID }) {
			t.Errorf("FindChanges(expired) in the updating transaction: %d changes, error %v; want the one updated among them", len(got), err)
		}
		return nil
	})
	for _, state := range skyfence.ChangeStates {
		got, _, err := s.FindChanges(ctx, skyfence.ChangeFilter{State: state, Limit: 1000})
		if err != nil {
			t.Fatalf("FindChanges(%s): %v", state, err)
		}
		same(t, fmt.Sprintf("FindChanges(%s) after an update", state), got, of(state))
	}

	_, _, err := s.FindChanges(ctx, skyfence.ChangeFilter{Limit: -1})
	wantCode(t, "FindChanges(limit -1)", err, skyfence.EINVALID)
	_, _, err = s.FindChanges(ctx, skyfence.ChangeFilter{State: "limbo"})
	wantCode(t, "FindChanges(unknown state)", err, skyfence.EINVALID)
}
