package replay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
	"github.com/skyfence/skyfence/sqlite"
)

// InProcess is a control.Service in this process over an SQLite database,
// deciding fixes as a server's ingest does, without HTTP, with detection
// running alongside as in a server.
type InProcess struct {
	Service *control.Service
	store   *sqlite.DB
	results sync.Pool // of *[]authorizer.Result
	detect  *detect.Queue
	done    chan error
	mu      sync.Mutex
	alerts  map[string]detect.Alert // the latest of each, evidence dropped
}

// NewInProcess starts a control.Service with the policy over a new SQLite
// database in dir, and a detection engine following up to terminals
// terminals (at least its default). Close stops them.
func NewInProcess(ctx context.Context, snap *policy.Snapshot, dir string, terminals int, log *slog.Logger) (*InProcess, error) {
	store, err := sqlite.Open(ctx, filepath.Join(dir, "skyfence.db"), log)
	if err != nil {
		return nil, err
	}
	dc := detect.DefaultConfig()
	dc.MaxTerminals = max(dc.MaxTerminals, terminals)
	engine, err := detect.New(dc, detect.Options{})
	if err != nil {
		store.Close()
		return nil, err
	}
	p := &InProcess{store: store, detect: detect.NewQueue(engine), done: make(chan error, 1), alerts: map[string]detect.Alert{}}
	if p.Service, err = control.New(ctx, control.Config{Store: store, Atlas: snap.Atlas(), Policy: snap, Logger: log, Detect: p.detect}); err != nil {
		store.Close()
		return nil, err
	}
	go func() { p.done <- p.detect.Run(context.Background(), p.keep) }()
	return p, nil
}

// keep is detection's sink: the service's alert book and p's own copy.
func (p *InProcess) keep(a detect.Alert) {
	p.Service.RecordAlert(a)
	a.Evidence, a.Related = nil, nil
	p.mu.Lock()
	p.alerts[a.ID] = a
	p.mu.Unlock()
}

// Dropped returns how many observations detection has dropped so far,
// its queue full: for Options.Dropped.
func (p *InProcess) Dropped() uint64 { return p.detect.Stats().Dropped }

// StopDetection lets detection finish what is queued and returns every
// alert it raised (their latest versions, without evidence).
func (p *InProcess) StopDetection() ([]detect.Alert, detect.QueueStats) {
	if p.detect != nil {
		p.detect.Close()
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]detect.Alert, 0, len(p.alerts))
	for _, a := range p.alerts {
		out = append(out, a)
	}
	var st detect.QueueStats
	if p.detect != nil {
		st = p.detect.Stats()
	}
	p.detect = nil
	return out, st
}

// importChunk is how many terminals one ImportTerminals call (one
// transaction) registers.
const importChunk = 50_000

// Register imports the fleet's terminals as they are (active, verified),
// as a migration would, in transactions of importChunk terminals.
func (p *InProcess) Register(ctx context.Context, f *sim.Fleet, log io.Writer) error {
	ctx = control.WithPrincipal(ctx, control.System)
	if err := p.Service.CreateAccount(ctx, &skyfence.Account{ID: sim.Account, Name: "simulated fleet"}); err != nil {
		return err
	}
	start, last := time.Now(), time.Now()
	for base := 0; base < f.Len(); base += importChunk {
		ts := make([]*skyfence.Terminal, 0, importChunk)
		for i := base; i < min(base+importChunk, f.Len()); i++ {
			ts = append(ts, f.Terminal(i))
		}
		if err := p.Service.ImportTerminals(ctx, ts, "simulated fleet"); err != nil {
			return err
		}
		if now := time.Now(); now.Sub(last) >= time.Second && log != nil {
			fmt.Fprintf(log, "registered %d of %d terminals\n", base+len(ts), f.Len())
			last = now
		}
	}
	if log != nil {
		fmt.Fprintf(log, "registered %d terminals in %.1f s\n", f.Len(), time.Since(start).Seconds())
	}
	return nil
}

// Send decides the fixes with the service's authorizer.
func (p *InProcess) Send(ctx context.Context, fixes []skyfence.Fix, out []Outcome) error {
	rp, _ := p.results.Get().(*[]authorizer.Result)
	if rp == nil {
		rp = new([]authorizer.Result)
	}
	defer p.results.Put(rp)
	res := slices.Grow((*rp)[:0], len(fixes))[:len(fixes)]
	*rp = res
	if err := p.Service.Authorizer().Ingest(fixes, res); err != nil {
		return err
	}
	for i := range res {
		out[i] = Outcome{Reason: res[i].Decision.Reason, Refused: res[i].Err != nil}
	}
	return nil
}

// Close stops detection, writes the last states and closes the service
// and the database.
func (p *InProcess) Close(ctx context.Context) error {
	p.StopDetection()
	err := p.Service.Close(ctx)
	if cerr := p.store.Close(); err == nil {
		err = cerr
	}
	return err
}
