package authorizer

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

func newSlotStore() *slotStore {
	st := new(slotStore)
	st.seed = maphash.MakeSeed()
	return st
}

// The slot is what ten million terminals' memory is made of: it must not
// grow unnoticed, nor hold pointers the collector would have to scan.
func TestSlotIsCompact(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n > 152 {
		t.Errorf("a slot takes %d bytes, want at most 152", n)
	}
}

func TestSlotStoreFindsEveryTerminal(t *testing.T) {
	st := newSlotStore()
	const n = 100_000 // past several growths of every shard
	for i := range n {
		id := fmt.Sprintf("t%d", i)
		sl := st.add(id)
		if got := st.ids.str(sl.id, sl.idLen); got != id {
			t.Fatalf("slot %d holds id %q, want %q", i, got, id)
		}
		if again := st.add(id); again != sl {
			t.Fatalf("adding %q twice made two slots", id)
		}
	}
	for i := range n {
		id := fmt.Sprintf("t%d", i)
		sl := st.get(id)
		if sl == nil || st.ids.str(sl.id, sl.idLen) != id {
			t.Fatalf("get(%q) = %v", id, sl)
		}
	}
	for _, id := range []string{"", "t", "t100000", "x1", "t-1"} {
		if sl := st.get(id); sl != nil {
			t.Errorf("get(%q) found slot of %q", id, st.ids.str(sl.id, sl.idLen))
		}
	}
	// In batches, known and unknown ids mixed.
	fixes := make([]skyfence.Fix, locateChunk)
	out := make([]*slot, locateChunk)
	for base := 0; base < n+locateChunk; base += locateChunk / 2 {
		for i := range fixes {
			fixes[i].TerminalID = fmt.Sprintf("t%d", base+2*i)
		}
		st.getBatch(fixes, out)
		for i, sl := range out {
			if want := st.get(fixes[i].TerminalID); sl != want || (base+2*i < n) != (sl != nil) {
				t.Fatalf("getBatch: %s found %v, get found %v", fixes[i].TerminalID, sl, want)
			}
		}
	}
	seen := 0
	st.each(func(sl *slot) bool {
		if want := fmt.Sprintf("t%d", seen); st.ids.str(sl.id, sl.idLen) != want {
			t.Fatalf("each: slot %d is %q, want %q", seen, st.ids.str(sl.id, sl.idLen), want)
		}
		seen++
		return true
	})
	if seen != n {
		t.Errorf("each visited %d slots, want %d", seen, n)
	}
}

// Lookups take no lock while terminals are added: run with -race.
func TestSlotStoreConcurrent(t *testing.T) {
	st := newSlotStore()
	const writers, each = 4, 5_000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				sl := st.add(id)
				sl.mu.Lock()
				sl.dirty = true
				sl.mu.Unlock()
				if st.get(id) != sl {
					t.Errorf("%s not found right after it was added", id)
					return
				}
				// Readers of the others' terminals, found or not yet.
				if other := st.get(fmt.Sprintf("w%d-%d", (w+1)%writers, i)); other != nil {
					other.mu.Lock()
					_ = other.dirty
					other.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if got := st.n.Load(); got != writers*each {
		t.Errorf("%d slots, want %d", got, writers*each)
	}
}

// A record set into a slot comes back as it was, but for what only the
// store keeps: its times and its verifications' ids.
func TestSlotRecordRoundTrip(t *testing.T) {
	st := newSlotStore()
	at := time.Date(2026, 5, 1, 12, 0, 0, 123, time.UTC)
	recs := []*skyfence.Terminal{
		{ID: "t1", AccountID: "a1", Plan: "roam", Country: "DE", Status: skyfence.Active, CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
		{ID: "t2", AccountID: "a2", Plan: "roam", Country: "DE", Status: skyfence.Active, Groups: []string{"humanitarian", "press"}, Cell: "c12.34",
			Verifications: []skyfence.Verification{
				{ID: "ver-1", TerminalID: "t2", Region: "UA", Authority: "UA-MOD", Class: skyfence.Military, VerifiedAt: at},
				{ID: "ver-2", TerminalID: "t2", Region: "PL", Authority: "PL-UKE", VerifiedAt: at, ExpiresAt: at.Add(time.Hour), Revoked: true, RevokedAt: at.Add(time.Minute)},
			}},
		{ID: "t3", AccountID: "a1", Plan: "maritime", Country: "NO", Status: skyfence.Suspended},
		{ID: "t4", AccountID: "a9", Plan: "roam", Country: "DE", Status: skyfence.Active},
	}
	for _, r := range recs {
		sl := st.add(r.ID)
		st.setRecord(sl, r)
	}
	check := func(recs []*skyfence.Terminal) {
		t.Helper()
		for _, r := range recs {
			want := *r
			want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}
			want.Verifications = slices.Clone(r.Verifications)
			for i := range want.Verifications {
				want.Verifications[i].ID = ""
			}
			var got skyfence.Terminal
			st.record(st.get(r.ID), &got, make([]skyfence.Verification, 1))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("record of %s:\n got %+v\nwant %+v", r.ID, got, want)
			}
		}
	}
	check(recs)
	// A new record replaces the old whole, verifications and all.
	for _, vs := range [][]skyfence.Verification{recs[1].Verifications[1:], nil, recs[1].Verifications} {
		changed := *recs[1]
		changed.Verifications, changed.Groups, changed.Status = vs, nil, skyfence.Deactivated
		st.setRecord(st.get("t2"), &changed)
		check([]*skyfence.Terminal{&changed})
	}
	check([]*skyfence.Terminal{recs[0], recs[2], recs[3]})
	if st.get("t1").profile != st.get("t4").profile {
		t.Error("t1 and t4 (same plan, country, status and groups) do not share their profile")
	}
}

// A slot's last state goes to the store and comes back from it as it was,
// float32 altitude and speed aside.
func TestSlotStateRoundTrip(t *testing.T) {
	st := newSlotStore()
	sl := st.add("t1")
	f := skyfence.Fix{TerminalID: "t1", Time: time.Date(2026, 5, 1, 12, 0, 0, 5, time.UTC), Lat: 48.123456789, Lon: 37.987654321, AltM: 120, SpeedKmh: 42.5, ServingCell: "beam-7"}
	d := policy.Decision{Allow: false, Reason: policy.NoServiceZone, Rule: "front", Country: "UA", PolicyVersion: "v3"}
	sl.track = policy.Track{LastUnixNano: f.Time.UnixNano(), LastLat: f.Lat, LastLon: f.Lon, AbroadDay: 1234, CoastalDay: 20000, CoastalRun: 2, CoastalYearDays: 9,
		Near: policy.Anchor{AgeSec: 31, DLat: -7, DLon: 12}, Far: policy.Anchor{AgeSec: 400, DLat: 300, DLon: -1, HeldCentiKmh: 1234}}
	now := f.Time.Add(time.Second)
	st.setLast(sl, &f, &d, now)
	var saved skyfence.TerminalState
	st.state(sl, &saved, make([]byte, trackSize))
	want := skyfence.TerminalState{TerminalID: "t1", Fix: f, Reason: policy.NoServiceZone.String(), Rule: "front", Country: "UA", Policy: "v3", DecidedAt: now, Track: saved.Track}
	if !reflect.DeepEqual(saved, want) {
		t.Fatalf("state:\n got %+v\nwant %+v", saved, want)
	}
	other := newSlotStore()
	back := other.add("t1")
	other.restore(back, &saved)
	if back.track != sl.track {
		t.Errorf("track after restore %+v, want %+v", back.track, sl.track)
	}
	if got := other.lastFix(back); got != f {
		t.Errorf("fix after restore %+v, want %+v", got, f)
	}
	if got := other.decision(back); !reflect.DeepEqual(got, d) {
		t.Errorf("decision after restore %+v, want %+v", got, d)
	}
	if back.worthSaving(&f) {
		t.Error("a restored state is worth saving again at its own fix")
	}
}

// BenchmarkSlotLookup finds the slots of a million terminals in random
// order: through a sync.Map of *slot (what the service used before), one
// at a time through the index, and 64 at a time as Ingest does.
//
//	go test ./authorizer -run XXX -bench SlotLookup -benchtime 2000000x
func BenchmarkSlotLookup(b *testing.B) {
	const n = 1_000_000
	st := newSlotStore()
	var old sync.Map
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("sim-%07d", i)
		st.add(ids[i])
		old.Store(ids[i], &slot{})
	}
	fixes := make([]skyfence.Fix, n)
	for i, j := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		fixes[i].TerminalID = ids[j]
	}
	b.Run("sync.Map", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if v, ok := old.Load(fixes[i%n].TerminalID); !ok || v == nil {
				b.Fatal("not found")
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if st.get(fixes[i%n].TerminalID) == nil {
				b.Fatal("not found")
			}
		}
	})
	b.Run("getBatch", func(b *testing.B) {
		out := make([]*slot, locateChunk)
		for i := 0; b.Loop(); i += locateChunk {
			lo := i % (n - locateChunk)
			st.getBatch(fixes[lo:lo+locateChunk], out)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*locateChunk), "ns/lookup")
	})
}

// worthSaving's shortcuts agree with the great-circle distance.
func TestWorthSavingAgreesWithHaversine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for range 200_000 {
		sl := slot{savedSec: uint32(at.Unix()), savedLat: float32(r.Float64()*178 - 89), savedLon: float32(r.Float64()*360 - 180)}
		scale := []float64{0.001, 0.01, 0.05}[r.IntN(3)] // degrees: well under, about, well over 1 km
		f := skyfence.Fix{Time: at.Add(time.Minute),
			Lat: max(-90, min(90, float64(sl.savedLat)+scale*(2*r.Float64()-1))),
			Lon: float64(sl.savedLon) + scale*(2*r.Float64()-1)}
		want := policy.HaversineKm(float64(sl.savedLat), float64(sl.savedLon), f.Lat, f.Lon) > saveMoveKm
		if got := sl.worthSaving(&f); got != want {
			t.Fatalf("worthSaving from (%v, %v) to (%v, %v) = %v, the distance says %v", sl.savedLat, sl.savedLon, f.Lat, f.Lon, got, want)
		}
	}
}
