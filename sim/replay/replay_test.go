package replay

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/examples"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
	"github.com/skyfence/skyfence/world"
)

var scenario = sync.OnceValues(func() (*policy.Snapshot, error) {
	d, err := world.Load(world.Res10m)
	if err != nil {
		return nil, err
	}
	a, err := atlas.New(d, geoindex.Options{})
	if err != nil {
		return nil, err
	}
	src, err := policy.LoadWith(examples.PolicyFile, examples.ReadPolicyFile)
	if err != nil {
		return nil, err
	}
	return policy.Compile(src, a)
})

func fleet(t *testing.T, n int, start time.Time) (*sim.Fleet, *policy.Snapshot) {
	t.Helper()
	snap, err := scenario()
	if err != nil {
		t.Fatal(err)
	}
	f, err := sim.Generate(sim.Config{Terminals: n, Seed: 3, Policy: snap, Start: start, Duration: 4 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return f, snap
}

func inProcess(t *testing.T, snap *policy.Snapshot) *InProcess {
	t.Helper()
	p, err := NewInProcess(t.Context(), snap, t.TempDir(), 0, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return p
}

// check asserts what every replay of f for dur must show: every fix sent
// and decided once, none refused, the counts adding up, and the fixed
// terminals (placed where they have service) always allowed.
func check(t *testing.T, f *sim.Fleet, dur time.Duration, sum *Summary) {
	t.Helper()
	want := len(f.AppendFixes(nil, f.Start(), f.Start().Add(dur)))
	if sum.Fixes != int64(want) || sum.Refused != 0 || sum.SimSeconds != dur.Seconds() {
		t.Fatalf("%d fixes (%d refused) over %v s, want %d (0) over %v", sum.Fixes, sum.Refused, sum.SimSeconds, want, dur.Seconds())
	}
	var total, byReason int64
	for _, n := range sum.Reasons {
		byReason += n
	}
	counts := f.Counts()
	for b, bs := range sum.ByBehaviour {
		total += bs.Fixes
		if bs.Terminals != counts[b] || bs.Behaviour != sim.Behaviour(b).String() || bs.Bad != sim.Behaviour(b).Bad() {
			t.Errorf("behaviour %d: %+v, fleet has %d %s", b, bs, counts[b], sim.Behaviour(b))
		}
		if b := sim.Behaviour(b); (b == sim.Residential || b == sim.Sponsored) && bs.Allowed != bs.Fixes {
			t.Errorf("%s: %d of %d fixes allowed, want all: %v", b, bs.Allowed, bs.Fixes, bs.Reasons)
		}
	}
	if total != sum.Fixes || byReason != sum.Fixes {
		t.Errorf("behaviours add up to %d fixes, reasons to %d; want %d", total, byReason, sum.Fixes)
	}
}

func TestRunInProcess(t *testing.T) {
	f, snap := fleet(t, 1500, time.Time{})
	const dur = 4 * time.Minute
	var sums []*Summary
	for range 2 {
		p := inProcess(t, snap)
		if err := p.Register(t.Context(), f, nil); err != nil {
			t.Fatal(err)
		}
		sum, err := Run(t.Context(), f, p, Options{Duration: dur, Batch: 100, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		check(t, f, dur, sum)
		sums = append(sums, sum)
	}
	if sums[0].counts != sums[1].counts {
		t.Errorf("two replays of one fleet decide differently:\n%s\n%s", sums[0].Text(), sums[1].Text())
	}
	if sums[0].Reasons["speed_limit"] == 0 || sums[0].Reasons["no_service_zone"] == 0 {
		t.Errorf("no drone or smuggled terminal denied in four minutes:\n%s", sums[0].Text())
	}
}

func TestRunHoldsTheSpeedup(t *testing.T) {
	f, snap := fleet(t, 300, time.Time{})
	p := inProcess(t, snap)
	if err := p.Register(t.Context(), f, nil); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	sum, err := Run(t.Context(), f, p, Options{Duration: 30 * time.Second, Speedup: 20})
	if err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(begin); wall < 1400*time.Millisecond || wall > 5*time.Second {
		t.Errorf("30 simulated seconds at 20x took %v, want about 1.5 s", wall)
	}
	check(t, f, 30*time.Second, sum)
}

// TestRunOverHTTP registers a fleet through the API of a real server on
// loopback and replays it there.
func TestRunOverHTTP(t *testing.T) {
	f, snap := fleet(t, 200, time.Time{})
	p := inProcess(t, snap)
	_, key, err := p.Service.CreateKey(control.WithPrincipal(t.Context(), control.System), control.KeyInput{Name: "sim", Role: skyfence.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httpapi.New(p.Service, slog.New(slog.DiscardHandler), nil)}
	go srv.Serve(ln)
	defer srv.Close()
	h := NewHTTP("http://"+ln.Addr().String(), key)
	if err := h.Register(t.Context(), f, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Register(t.Context(), f, nil); err != nil {
		t.Fatalf("registering again: %v", err)
	}
	// The server dated the verifications as it recorded them: the fleet
	// starts after that.
	f = f.At(time.Now().UTC().Truncate(time.Second).Add(time.Second))
	// Only terminals bought where service is refused (smuggled ones from
	// Kazakhstan or the Emirates) stay inactive.
	if n, most := h.NotActivated.Load(), f.Counts()[sim.Smuggled]; n > int64(most) {
		t.Errorf("%d terminals not activated, want at most the %d smuggled", n, most)
	}
	sum, err := Run(t.Context(), f, h, Options{Duration: 2 * time.Minute, Workers: 2, Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	check(t, f, 2*time.Minute, sum)
	st, err := p.Service.State(control.WithPrincipal(t.Context(), control.System), f.ID(0))
	if err != nil || st.Fix.Time.Before(f.Start()) {
		t.Errorf("the server's state of %s: %+v, %v", f.ID(0), st, err)
	}
}

// TestRunHoldsFixesNearTheClock replays a fleet that starts now: with
// MaxAhead, no fix may leave before the clock is within MaxAhead of it.
func TestRunHoldsFixesNearTheClock(t *testing.T) {
	f, snap := fleet(t, 300, time.Time{})
	p := inProcess(t, snap)
	if err := p.Register(t.Context(), f, nil); err != nil {
		t.Fatal(err)
	}
	f = f.At(time.Now().Truncate(time.Second))
	sum, err := Run(t.Context(), f, p, Options{Duration: 4 * time.Second, MaxAhead: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(f.Start()); wall < 2*time.Second {
		t.Errorf("fixes up to 3 s after a start now were sent within %v, 1 s ahead at most", wall)
	}
	check(t, f, 4*time.Second, sum)
}
