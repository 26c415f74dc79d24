package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// wantField fails the test unless err is EINVALID naming the field.
func wantField(t testing.TB, what string, err error, field string) {
	t.Helper()
	var e *skyfence.Error
	if !errors.As(err, &e) || e.Code != skyfence.EINVALID || e.Field != field {
		t.Errorf("%s: got error %v, want %s naming %q", what, err, skyfence.EINVALID, field)
	}
}

// incidents returns n incidents in_00000.. starting at one of 20 times
// around at (so that many share a Start and the id orders them), lasting up
// to an hour, open or closed, as a store returns them (times in UTC).
func incidents(n int, seed uint64, at time.Time) []*skyfence.Incident {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]*skyfence.Incident, n)
	for i := range out {
		start := at.Add(time.Duration(r.IntN(20)) * time.Minute)
		end := start.Add(time.Duration(r.Int64N(int64(time.Hour))))
		lat, lon := float64(r.IntN(170)-85), float64(r.IntN(350)-175)
		out[i] = &skyfence.Incident{ID: fmt.Sprintf("in_%05d", i), Kind: "gnss_interference",
			State: skyfence.IncidentStates[r.IntN(2)], Start: start.UTC(), End: end.UTC(), Opened: start.Add(40 * time.Second).UTC(),
			MinLat: lat, MinLon: lon, MaxLat: lat + 2, MaxLon: lon + 1, Cells: 1 + r.IntN(4), Terminals: 8 + r.IntN(500)}
	}
	return out
}

// byStart sorts incidents as FindIncidents returns them.
func byStart(is []*skyfence.Incident) []*skyfence.Incident {
	is = slices.Clone(is)
	slices.SortFunc(is, func(a, b *skyfence.Incident) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return is
}

// incidentPages pages through f with f.Limit (the cursor through its
// string form), failing the test on an error or a malformed page.
func incidentPages(t *testing.T, r skyfence.Reader, f skyfence.IncidentFilter) []*skyfence.Incident {
	t.Helper()
	var all []*skyfence.Incident
	for n := 0; ; n++ {
		page, next, err := r.FindIncidents(t.Context(), f)
		if err != nil {
			t.Fatalf("FindIncidents(%+v): %v", f, err)
		}
		if len(page) > max(f.Limit, 100) || !next.IsZero() && f.Limit > 0 && len(page) < f.Limit || n > 2000 {
			t.Fatalf("FindIncidents(%+v): a page of %d, next %v", f, len(page), next)
		}
		all = append(all, page...)
		if next.IsZero() {
			return all
		}
		if f.After, err = skyfence.ParseCursor(next.String()); err != nil {
			t.Fatalf("ParseCursor(%q): %v", next, err)
		}
	}
}

func saveIncidents(t *testing.T, s skyfence.Store, is []*skyfence.Incident) {
	t.Helper()
	shuffled := slices.Clone(is)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for b := range slices.Chunk(shuffled, 150) {
		if err := s.SaveIncidents(t.Context(), b); err != nil {
			t.Fatalf("SaveIncidents: %v", err)
		}
	}
}

func testIncidents(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	if got := incidentPages(t, s, skyfence.IncidentFilter{}); len(got) != 0 {
		t.Fatalf("incidents of an empty store: %d", len(got))
	}
	if err := s.SaveIncidents(ctx, nil); err != nil {
		t.Fatalf("SaveIncidents(nil): %v", err)
	}
	_, err := s.FindIncidentByID(ctx, "in_00000")
	wantCode(t, "FindIncidentByID of an empty store", err, skyfence.ENOTFOUND)

	// Round trip: times in another zone come back in UTC.
	is := incidents(250, 1, t0)
	in := make([]*skyfence.Incident, len(is))
	for i, x := range is {
		c := *x
		c.Start, c.End, c.Opened = c.Start.In(t0.Location()), c.End.In(t0.Location()), c.Opened.In(t0.Location())
		in[i] = &c
	}
	saveIncidents(t, s, in)
	want := byStart(is)
	same(t, "every incident, newest first", incidentPages(t, s, skyfence.IncidentFilter{Limit: 1000}), want)
	got, err := s.FindIncidentByID(ctx, is[17].ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "FindIncidentByID", got, is[17])
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		x, err := tx.FindIncidentByID(ctx, is[3].ID)
		same(t, "FindIncidentByID in a Tx", x, is[3])
		return err
	})

	// Paged through the ties of Start by several sizes.
	for _, n := range []int{1, 3, 7, 249, 250} {
		same(t, fmt.Sprintf("every incident by %d", n), incidentPages(t, s, skyfence.IncidentFilter{Limit: n}), want)
	}

	// Upsert: a grown version replaces the stored one, closed or still
	// open; one that ends earlier (written late) does not; of two in a
	// batch the later wins.
	grown := *is[5]
	grown.End, grown.State, grown.Terminals, grown.Cells, grown.MaxLat = grown.End.Add(time.Minute), skyfence.IncidentClosed, 900, 9, 80
	stale := *is[5]
	stale.End, stale.State = stale.End.Add(-time.Second), skyfence.IncidentOpen
	first, second := *is[6], *is[6]
	first.Terminals, second.Terminals = 1, 2
	if err := s.SaveIncidents(ctx, []*skyfence.Incident{&grown, &first, &second}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveIncidents(ctx, []*skyfence.Incident{&stale}); err != nil {
		t.Fatal(err)
	}
	is[5], is[6] = &grown, &second
	for _, id := range []int{5, 6} {
		x, err := s.FindIncidentByID(ctx, is[id].ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("incident %d after the upserts", id), x, is[id])
	}
	want = byStart(is)

	// Filters: by state, by the time window (overlap), both, paged.
	from, to := t0.Add(15*time.Minute), t0.Add(25*time.Minute)
	for _, f := range []skyfence.IncidentFilter{
		{State: skyfence.IncidentOpen}, {State: skyfence.IncidentClosed}, {From: from}, {To: to}, {From: from, To: to},
		{State: skyfence.IncidentOpen, From: from, To: to}, {From: t0.Add(3 * time.Hour)}, {To: t0.Add(-time.Hour)},
	} {
		var sel []*skyfence.Incident
		for _, x := range want {
			if (f.State == "" || x.State == f.State) && (f.From.IsZero() || !x.End.Before(f.From)) && (f.To.IsZero() || x.Start.Before(f.To)) {
				sel = append(sel, x)
			}
		}
		f.Limit = 7
		got := incidentPages(t, s, f)
		if len(sel) == 0 {
			same(t, fmt.Sprintf("FindIncidents(%+v) count", f), len(got), 0)
			continue
		}
		same(t, fmt.Sprintf("FindIncidents(%+v)", f), got, sel)
	}
}

func testIncidentsErrors(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	ok := incidents(1, 5, t0)[0]
	bad := func(edit func(x *skyfence.Incident)) *skyfence.Incident {
		c := *ok
		edit(&c)
		return &c
	}
	for what, x := range map[string]*skyfence.Incident{
		"nil":            nil,
		"no id":          bad(func(x *skyfence.Incident) { x.ID = "" }),
		"unknown state":  bad(func(x *skyfence.Incident) { x.State = "Open" }),
		"no start":       bad(func(x *skyfence.Incident) { x.Start = time.Time{} }),
		"no opening":     bad(func(x *skyfence.Incident) { x.Opened = time.Time{} }),
		"ends first":     bad(func(x *skyfence.Incident) { x.End = x.Start.Add(-time.Nanosecond) }),
		"NaN latitude":   bad(func(x *skyfence.Incident) { x.MaxLat = math.NaN() }),
		"year 3000":      bad(func(x *skyfence.Incident) { x.End = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"negative count": bad(func(x *skyfence.Incident) { x.Terminals = -1 }),
		"huge count":     bad(func(x *skyfence.Incident) { x.Cells = 1 << 40 }),
	} {
		wantCode(t, "SaveIncidents with "+what, s.SaveIncidents(ctx, []*skyfence.Incident{ok, x}), skyfence.EINVALID)
	}
	same(t, "incidents after refused batches", len(incidentPages(t, s, skyfence.IncidentFilter{})), 0)
	for _, c := range []struct {
		field string
		f     skyfence.IncidentFilter
	}{
		{"state", skyfence.IncidentFilter{State: "OPEN"}},
		{"state", skyfence.IncidentFilter{State: "open' OR 1=1 --"}},
		{"to", skyfence.IncidentFilter{From: t0, To: t0}},
		{"from", skyfence.IncidentFilter{From: time.Date(1066, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"cursor", skyfence.IncidentFilter{After: skyfence.Cursor{At: time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC), ID: "x"}}},
	} {
		_, _, err := s.FindIncidents(ctx, c.f)
		wantField(t, fmt.Sprintf("FindIncidents(%+v)", c.f), err, c.field)
	}
	_, _, err := s.FindIncidents(ctx, skyfence.IncidentFilter{Limit: -1})
	wantCode(t, "FindIncidents(Limit -1)", err, skyfence.EINVALID)
}
