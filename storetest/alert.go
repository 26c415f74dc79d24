package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// alertRecords returns n alerts a00000.. of terminals t0..t9, three
// detectors, three severities, three regions (and none) and two incidents
// (and none), last seen at one of 50 times around at (so that many share a
// LastSeen and the id orders them), as a store returns them (times in UTC).
// Their data is JSON with odd spacing and, for some, bytes that are not
// JSON at all: a store keeps it byte for byte.
func alertRecords(n int, seed uint64, at time.Time) []*skyfence.AlertRecord {
	r := rand.New(rand.NewPCG(seed, 2))
	detectors := []string{"speed", "cloned_position", "cluster"}
	as := make([]*skyfence.AlertRecord, n)
	for i := range as {
		last := at.Add(time.Duration(r.IntN(50))*time.Second + time.Duration(r.IntN(3))*time.Nanosecond)
		a := &skyfence.AlertRecord{
			ID: fmt.Sprintf("a%05d", i), TerminalID: fmt.Sprintf("t%d", r.IntN(10)), Detector: detectors[r.IntN(3)],
			Severity: r.IntN(3), Score: r.Float64(),
			FirstSeen: last.Add(-time.Duration(r.Int64N(int64(time.Hour)))).UTC(), LastSeen: last.UTC(),
			Region: []string{"", "UA", "RU-BEL", "PL"}[r.IntN(4)], Incident: []string{"", "", "in_1", "in_2"}[r.IntN(4)],
			Data: fmt.Appendf(nil, "{\"id\":  \"a%05d\", \"score\": %v }\n", i, r.Float64()),
		}
		// Some of those an incident's area holds it explains, not all.
		a.Explained = a.Incident != "" && r.IntN(2) == 0
		if i%7 == 0 {
			a.Data = append(a.Data, 0, 0xff, 0xfe, '\r', 0)
		}
		as[i] = a
	}
	return as
}

// byLastSeen sorts alerts as FindAlerts returns them: LastSeen, then id,
// both descending.
func byLastSeen(as []*skyfence.AlertRecord) []*skyfence.AlertRecord {
	as = slices.Clone(as)
	slices.SortFunc(as, func(a, b *skyfence.AlertRecord) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return as
}

// emptyNil returns copies of the alerts with empty data nil, so that
// comparisons do not tell a nil Data from an empty one.
func emptyNil(as []*skyfence.AlertRecord) []*skyfence.AlertRecord {
	out := make([]*skyfence.AlertRecord, len(as))
	for i, a := range as {
		c := *a
		if len(c.Data) == 0 {
			c.Data = nil
		}
		out[i] = &c
	}
	return out
}

// findAlerts returns the page FindAlerts(f) returns on r, failing the test
// on an error.
func findAlerts(t *testing.T, r skyfence.Reader, f skyfence.AlertFilter) []*skyfence.AlertRecord {
	t.Helper()
	as, _, err := r.FindAlerts(t.Context(), f)
	if err != nil {
		t.Fatalf("FindAlerts(%+v): %v", f, err)
	}
	return emptyNil(as)
}

// alertPages pages through f with f.Limit, failing the test on an error, a
// page larger than the limit, a cursor after a short page, or more pages
// than alerts.
func alertPages(t *testing.T, r skyfence.Reader, f skyfence.AlertFilter) []*skyfence.AlertRecord {
	t.Helper()
	var all []*skyfence.AlertRecord
	for n := 0; ; n++ {
		page, next, err := r.FindAlerts(t.Context(), f)
		if err != nil {
			t.Fatalf("FindAlerts(%+v): %v", f, err)
		}
		if len(page) > f.Limit || !next.IsZero() && len(page) < f.Limit || n > 2000 {
			t.Fatalf("FindAlerts(%+v): a page of %d, next %v", f, len(page), next)
		}
		all = append(all, page...)
		if next.IsZero() {
			return emptyNil(all)
		}
		// The cursor goes through its string form, as a client's does.
		if f.After, err = skyfence.ParseCursor(next.String()); err != nil {
			t.Fatalf("ParseCursor(%q): %v", next, err)
		}
	}
}

// selectAlerts returns the alerts of want (ordered) that f selects, by the
// documented rules, ignoring f.After and f.Limit.
func selectAlerts(want []*skyfence.AlertRecord, f skyfence.AlertFilter) []*skyfence.AlertRecord {
	var sel []*skyfence.AlertRecord
	for _, a := range want {
		first := a.FirstSeen
		if first.IsZero() {
			first = a.LastSeen
		}
		if (f.TerminalID == "" || a.TerminalID == f.TerminalID) && (f.Detector == "" || a.Detector == f.Detector) &&
			(f.Region == "" || a.Region == f.Region) && (f.Incident == "" || a.Incident == f.Incident) &&
			(f.Explained == nil || *f.Explained == a.Explained) &&
			(len(f.Severities) == 0 || slices.Contains(f.Severities, a.Severity)) &&
			(f.From.IsZero() || !a.LastSeen.Before(f.From)) && (f.To.IsZero() || first.Before(f.To)) {
			sel = append(sel, a)
		}
	}
	return sel
}

// saveAlerts saves the alerts shuffled, in batches of at most 200.
func saveAlerts(t *testing.T, s skyfence.Store, as []*skyfence.AlertRecord, seed uint64) {
	t.Helper()
	shuffled := slices.Clone(as)
	rand.New(rand.NewPCG(seed, 5)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for b := range slices.Chunk(shuffled, 200) {
		if err := s.SaveAlerts(t.Context(), b); err != nil {
			t.Fatalf("SaveAlerts: %v", err)
		}
	}
}

func testAlerts(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	same(t, "FindAlerts of an empty store", len(findAlerts(t, s, skyfence.AlertFilter{})), 0)
	if err := s.SaveAlerts(ctx, nil); err != nil {
		t.Fatalf("SaveAlerts(nil): %v", err)
	}

	// Round trip: times in another zone with nanoseconds come back in UTC,
	// data byte for byte; empty data and a zero FirstSeen are allowed.
	as := alertRecords(300, 11, t0)
	as[0].Data = nil
	as[1].Data = []byte{}
	as[2].FirstSeen = time.Time{}
	as[3].Score, as[3].Severity = 0, 0
	in := make([]*skyfence.AlertRecord, len(as))
	for i, a := range as {
		c := *a
		c.FirstSeen, c.LastSeen = c.FirstSeen.In(t0.Location()), c.LastSeen.In(t0.Location())
		in[i] = &c
	}
	saveAlerts(t, s, in, 1)
	want := byLastSeen(as)
	same(t, "FindAlerts (every alert, most recently seen first)", findAlerts(t, s, skyfence.AlertFilter{Limit: 1000}), emptyNil(want))
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		same(t, "FindAlerts in a Tx", findAlerts(t, tx, skyfence.AlertFilter{Limit: 1000}), emptyNil(want))
		return nil
	})

	// Upsert: every third alert changes (even its terminal, detector and
	// times), new ones come; of two alerts with one id in a batch, the later
	// wins.
	more := alertRecords(350, 12, t0.Add(-time.Minute))
	var batch []*skyfence.AlertRecord
	for i := 0; i < len(as); i += 3 {
		c := *more[i]
		c.Data = append([]byte(nil), more[i].Data...)
		batch = append(batch, &c)
		as[i] = more[i]
	}
	for i := len(as); i < len(more); i++ {
		batch = append(batch, more[i])
		as = append(as, more[i])
	}
	stale := *more[3]
	stale.Score, stale.Data = 0.01, []byte(`{"stale":true}`)
	batch = append([]*skyfence.AlertRecord{&stale}, batch...)
	if err := s.SaveAlerts(ctx, batch); err != nil {
		t.Fatalf("SaveAlerts (upsert): %v", err)
	}
	want = byLastSeen(as)
	same(t, "FindAlerts after the upsert", findAlerts(t, s, skyfence.AlertFilter{Limit: 1000}), emptyNil(want))

	// Filters: each alone, together, and matching nothing; each paged by
	// 7 through LastSeen ties.
	from, to := t0.Add(10*time.Second), t0.Add(30*time.Second)
	yes, no := true, false
	for _, f := range []skyfence.AlertFilter{
		{TerminalID: "t3"}, {Detector: "cluster"}, {TerminalID: "t7", Detector: "speed"},
		{TerminalID: "t3", Limit: 4}, {Detector: "speed", Limit: 1},
		{Explained: &no}, {Explained: &yes}, {Explained: &no, Limit: 3}, {Explained: &yes, TerminalID: "t3"},
		{Explained: &no, Severities: []int{1, 2}, From: from}, {Explained: &yes, Incident: "in_1"},
		{Explained: &no, Incident: "in_1"}, {Explained: &yes, Incident: ""},
		{Severities: []int{0}}, {Severities: []int{1, 2}}, {Region: "RU-BEL"}, {Incident: "in_2"},
		{From: from}, {To: to}, {From: from, To: to}, {From: from, To: from.Add(time.Nanosecond)},
		{Incident: "in_1", Severities: []int{0}, Region: "UA", From: from},
		{TerminalID: "nope"}, {Detector: "nope"}, {TerminalID: "t1", Detector: "nope"}, {Severities: []int{7}},
		{Region: "nope"}, {Incident: "nope"}, {From: t0.Add(time.Hour)}, {To: t0.Add(-2 * time.Hour)},
		{Region: "UA' OR '1'='1"}, {Incident: "in_1' OR incident <> '"}, {TerminalID: "t1'--"},
	} {
		sel := selectAlerts(want, f)
		first := sel
		if n := cmp.Or(f.Limit, 100); len(first) > n {
			first = first[:n]
		}
		got := findAlerts(t, s, f)
		if len(sel) == 0 {
			same(t, fmt.Sprintf("FindAlerts(%+v) count", f), len(got), 0)
			continue
		}
		same(t, fmt.Sprintf("FindAlerts(%+v)", f), got, emptyNil(first))
		f.Limit = 7
		same(t, fmt.Sprintf("FindAlerts(%+v) paged", f), alertPages(t, s, f), emptyNil(sel))
	}
}

// testAlertsPaging pages every alert by several sizes through many ties of
// LastSeen (the id breaks them), and checks that an alert updated while a
// listing is paged moves to its top and is not seen twice.
func testAlertsPaging(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	as := alertRecords(400, 41, t0)
	saveAlerts(t, s, as, 3)
	want := emptyNil(byLastSeen(as))
	for _, n := range []int{1, 3, 7, 100, 399, 400, 1000} {
		same(t, fmt.Sprintf("every alert by %d", n), alertPages(t, s, skyfence.AlertFilter{Limit: n}), want)
	}
	page, next, err := s.FindAlerts(ctx, skyfence.AlertFilter{Limit: 400})
	if err != nil || len(page) != 400 || !next.IsZero() {
		t.Fatalf("one page of all: %d alerts, next %v, %v", len(page), next, err)
	}

	// Half way through, the last alert fires again: the rest of the
	// listing does not show it; a listing from the top does, first.
	page, next, err = s.FindAlerts(ctx, skyfence.AlertFilter{Limit: 200})
	if err != nil || next.IsZero() {
		t.Fatalf("first page: next %v, %v", next, err)
	}
	moved := *want[len(want)-1]
	moved.LastSeen = t0.Add(time.Hour).UTC()
	if err := s.SaveAlerts(ctx, []*skyfence.AlertRecord{&moved}); err != nil {
		t.Fatal(err)
	}
	rest := alertPages(t, s, skyfence.AlertFilter{After: next, Limit: 50})
	same(t, "the rest after an update", append(emptyNil(page), rest...), want[:len(want)-1])
	same(t, "the top after an update", findAlerts(t, s, skyfence.AlertFilter{Limit: 1})[0].ID, moved.ID)

	// A cursor that names no stored alert still places the listing.
	mid := want[150]
	same(t, "after a cursor of a deleted id", findAlerts(t, s, skyfence.AlertFilter{After: skyfence.Cursor{At: mid.LastSeen, ID: mid.ID + "~"}, Limit: 1000}),
		want[150:len(want)-1])
}

func testAlertsLimits(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	as := alertRecords(1100, 21, t0)
	saveAlerts(t, s, as, 2)
	want := emptyNil(byLastSeen(as))
	for _, c := range []struct{ limit, n int }{{0, 100}, {1, 1}, {99, 99}, {1000, 1000}, {1001, 1000}, {5000, 1000}} {
		same(t, fmt.Sprintf("FindAlerts(Limit %d)", c.limit), findAlerts(t, s, skyfence.AlertFilter{Limit: c.limit}), want[:c.n])
	}
	_, _, err := s.FindAlerts(ctx, skyfence.AlertFilter{Limit: -1})
	wantCode(t, "FindAlerts(Limit -1)", err, skyfence.EINVALID)
	txCode(t, s, "FindAlerts(Limit -1) in a Tx", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
		_, _, err := tx.FindAlerts(ctx, skyfence.AlertFilter{TerminalID: "t1", Limit: -5})
		return err
	})
	for _, c := range []struct {
		field string
		f     skyfence.AlertFilter
	}{
		{"to", skyfence.AlertFilter{From: t0, To: t0}},
		{"to", skyfence.AlertFilter{From: t0, To: t0.Add(-time.Second)}},
		{"from", skyfence.AlertFilter{From: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"to", skyfence.AlertFilter{To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"cursor", skyfence.AlertFilter{After: skyfence.Cursor{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: "a"}}},
		{"severity", skyfence.AlertFilter{Severities: []int{1, 1 << 40}}},
	} {
		_, _, err := s.FindAlerts(ctx, c.f)
		wantField(t, fmt.Sprintf("FindAlerts(%+v)", c.f), err, c.field)
	}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		same(t, "FindAlerts(Limit 0) in a Tx", findAlerts(t, tx, skyfence.AlertFilter{}), want[:100])
		return nil
	})
}

func testAlertsErrors(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	ok := alertRecords(2, 31, t0)
	noID := *ok[1]
	noID.ID = ""
	wantCode(t, "SaveAlerts with a nil alert", s.SaveAlerts(ctx, []*skyfence.AlertRecord{ok[0], nil}), skyfence.EINVALID)
	wantCode(t, "SaveAlerts without an id", s.SaveAlerts(ctx, []*skyfence.AlertRecord{ok[0], &noID}), skyfence.EINVALID)
	same(t, "alerts after refused batches", len(findAlerts(t, s, skyfence.AlertFilter{})), 0)
}

// BenchmarkAlertPages reads one page of 100 alerts from a store of n (of
// 1,000 terminals, one in a hundred carrying an incident): the top of the
// listing, a page deep in it (after a cursor), one incident's and one
// terminal's alerts, and the medium and high ones. Each read goes through
// an index that orders as the listing does, so its time does not grow
// with n (but for severity lists, sorted).
func BenchmarkAlertPages(b *testing.B, s skyfence.Store, n int) {
	r := rand.New(rand.NewPCG(7, 7))
	for lo := 0; lo < n; lo += 1000 {
		batch := make([]*skyfence.AlertRecord, 0, 1000)
		for i := lo; i < min(lo+1000, n); i++ {
			a := &skyfence.AlertRecord{ID: fmt.Sprintf("al_%08d", i), TerminalID: fmt.Sprintf("t%d", i%1000), Detector: "impossible_travel",
				Severity: r.IntN(3), Score: r.Float64(), LastSeen: t0.Add(time.Duration(i) * time.Second), Region: "UA", Data: []byte(`{}`)}
			if i%100 == 0 {
				a.Incident = "in_bench"
			}
			batch = append(batch, a)
		}
		if err := s.SaveAlerts(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		f    skyfence.AlertFilter
	}{
		{"top", skyfence.AlertFilter{}},
		{"deep", skyfence.AlertFilter{After: skyfence.Cursor{At: t0.Add(time.Duration(n/2) * time.Second), ID: "al_~"}}},
		{"incident", skyfence.AlertFilter{Incident: "in_bench"}},
		{"terminal", skyfence.AlertFilter{TerminalID: "t7"}},
		{"severity", skyfence.AlertFilter{Severities: []int{1, 2}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				as, _, err := s.FindAlerts(b.Context(), c.f)
				if err != nil || len(as) != 100 {
					b.Fatalf("%d alerts, %v", len(as), err)
				}
			}
		})
	}
}
