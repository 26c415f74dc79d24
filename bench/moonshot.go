package bench

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
	"github.com/skyfence/skyfence/sqlite"
)

// MoonshotConfig says what Moonshot measures. Zero fields take their
// defaults.
type MoonshotConfig struct {
	Terminals int    // simulated fleet registered in the server; default 1,000,000
	Seed      uint64 // of the fleet; default 1
	// Rate is the offered load in fixes a second; default 666,667: ten
	// million terminals each reporting every 15 s.
	Rate        float64
	Batch       int           // fixes per request; default 1,000
	Connections int           // concurrent client connections; default 16
	Duration    time.Duration // how long the load is offered; default 10 s
	// Wire is the form of the batches and their answers: "json" (the
	// default) or "binary" (fixwire).
	Wire string
	// CPUProfile, if set, is the file the process's CPU profile during the
	// load is written to (server and load generator together).
	CPUProfile string
	Dir        string // where the SQLite database goes; default a temporary directory
	// Detect runs detection in the process, as serve does by default (the
	// default engine behind its queue, which drops rather than waits): its
	// CPU counts, and what it dropped during the load is reported.
	Detect bool
}

// MemoryResult is the memory a control.Service holds per terminal: its
// registry record, its slot and the decision engine's track, with one fix
// and decision each.
type MemoryResult struct {
	Terminals int `json:"terminals"`
	// HeapPerTerminal is the growth of the live Go heap (after a
	// collection) across importing the terminals and ingesting one fix
	// each, divided by Terminals; RSSPerTerminal is that of the resident
	// set, which includes SQLite's cache.
	HeapPerTerminal float64 `json:"heap_bytes_per_terminal"`
	RSSPerTerminal  float64 `json:"rss_bytes_per_terminal"`
	// For10MGB is HeapPerTerminal for ten million terminals, in GB.
	For10MGB  float64 `json:"heap_gb_for_10m"`
	ImportSec float64 `json:"import_s"` // ImportTerminals over SQLite, in transactions of 50,000
}

// MoonshotResult is what Moonshot measured.
type MoonshotResult struct {
	Machine     Machine      `json:"machine"`
	Memory      MemoryResult `json:"memory"`
	Terminals   int          `json:"terminals"`
	Wire        string       `json:"wire"`
	Batch       int          `json:"batch"`
	Connections int          `json:"connections"`
	Offered     float64      `json:"offered_per_s"`
	OfferSec    float64      `json:"offer_s"` // how long the load was offered
	Seconds     float64      `json:"seconds"` // from the first request due to the last answer
	// Batches offered (due before the offer ended), sent (the rest were
	// still waiting for a connection when it ended) and answered with 200.
	BatchesOffered  int64   `json:"batches_offered"`
	BatchesSent     int64   `json:"batches_sent"`
	BatchesAnswered int64   `json:"batches_answered"`
	Decided         int64   `json:"decided"`
	Refused         int64   `json:"refused"`
	Achieved        float64 `json:"achieved_per_s"`
	// Latencies of the batches answered, from when each was due (so time
	// spent waiting for a free connection counts), in ms.
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	CPUShare float64 `json:"cpu_share"`
	// CPUPerMillion is the CPU seconds (server and load generator) per
	// million fixes answered.
	CPUPerMillion float64 `json:"cpu_s_per_million"`
	Profile       string  `json:"profile,omitempty"`
	// With Detect: the observations ingest offered detection during the
	// load, and how many of them its queue dropped.
	Detect        bool  `json:"detect"`
	DetectOffered int64 `json:"detect_offered,omitempty"`
	DetectDropped int64 `json:"detect_dropped,omitempty"`
	DetectPending int64 `json:"detect_pending,omitempty"` // still queued when the load ended
}

// Moonshot measures the memory per terminal of a control.Service holding a
// simulated fleet, then offers its HTTP API a fixed load of fixes (open
// loop: each batch is due at its time whether or not the earlier ones were
// answered) from the same fleet moving on in simulated time, and measures
// what was decided and how late. The goal it is named for: ten million
// terminals every 15 s, about 670,000 fixes a second, with p99 batch
// latency under 50 ms.
func Moonshot(ctx context.Context, snap *policy.Snapshot, cfg MoonshotConfig, log io.Writer) (*MoonshotResult, error) {
	cfg.Terminals = cmp.Or(cfg.Terminals, 1_000_000)
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	cfg.Rate = cmp.Or(cfg.Rate, 10_000_000.0/15)
	cfg.Batch = cmp.Or(cfg.Batch, 1000)
	cfg.Connections = cmp.Or(cfg.Connections, 16)
	cfg.Duration = cmp.Or(cfg.Duration, 10*time.Second)
	cfg.Wire = cmp.Or(cfg.Wire, "json")
	if cfg.Wire != "json" && cfg.Wire != "binary" {
		return nil, fmt.Errorf("bench moonshot: wire %q: want json or binary", cfg.Wire)
	}
	dir, cleanup, err := workDir(cfg.Dir, "skyfence-moonshot-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	f, err := sim.Generate(sim.Config{Terminals: cfg.Terminals, Seed: cfg.Seed, Policy: snap})
	if err != nil {
		return nil, err
	}
	res := &MoonshotResult{Machine: machineFacts(), Terminals: cfg.Terminals, Wire: cfg.Wire, Batch: cfg.Batch, Connections: cfg.Connections,
		Offered: cfg.Rate, OfferSec: cfg.Duration.Seconds(), Detect: cfg.Detect}
	var queue *detect.Queue
	if cfg.Detect {
		engine, err := detect.New(detect.DefaultConfig(), detect.Options{})
		if err != nil {
			return nil, err
		}
		queue = detect.NewQueue(engine)
	}
	quiet := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "skyfence.db"), quiet)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	svc, err := loadFleet(ctx, snap, store, f, queue, &res.Memory, log)
	if err != nil {
		return nil, err
	}
	defer svc.Close(context.Background())
	if queue != nil {
		defer queue.Close()
		// The first interval's fixes went to detection too: start the
		// load once it has read them.
		for deadline := time.Now().Add(time.Minute); queue.Stats().Pending > 0 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
	}
	url, key, stop, err := loopback(ctx, svc, quiet)
	if err != nil {
		return nil, err
	}
	defer stop()
	n := int(cfg.Rate * cfg.Duration.Seconds() / float64(cfg.Batch))
	fmt.Fprintf(log, "bench moonshot: encoding %d batches of %d fixes in %s\n", n, cfg.Batch, cfg.Wire)
	bodies := encodeBatches(f, f.Interval(), n, cfg.Batch, cfg.Wire == "binary")
	if cfg.CPUProfile != "" {
		pf, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return nil, err
		}
		res.Profile = cfg.CPUProfile
	}
	fmt.Fprintf(log, "bench moonshot: offering %.0f fixes/s for %v over %d connections\n", cfg.Rate, cfg.Duration, cfg.Connections)
	var before detect.QueueStats
	if queue != nil {
		before = queue.Stats()
	}
	offer(ctx, url+"/v1/fixes", key, bodies, cfg, res)
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if queue != nil {
		after := queue.Stats()
		res.DetectDropped = int64(after.Dropped - before.Dropped)
		res.DetectOffered = int64(after.Offered-before.Offered) + res.DetectDropped // Offered counts those it accepted
		res.DetectPending = int64(after.Pending)
	}
	return res, nil
}

// loadFleet starts a control.Service over store (offering detection's
// queue, if not nil, every decided fix), imports the fleet's terminals and
// ingests the fixes of its first interval (one a terminal), measuring the
// memory that takes into m.
func loadFleet(ctx context.Context, snap *policy.Snapshot, store skyfence.Store, f *sim.Fleet, queue *detect.Queue, m *MemoryResult, log io.Writer) (*control.Service, error) {
	sys := control.WithPrincipal(ctx, control.System)
	var before, after runtime.MemStats
	debug.FreeOSMemory() // a collection, and what earlier work left goes back
	runtime.ReadMemStats(&before)
	rss0 := residentBytes()
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: snap.Atlas(), Policy: snap, Detect: queue})
	if err != nil {
		return nil, err
	}
	if queue != nil {
		go queue.Run(context.Background(), svc.RecordAlert) // until Moonshot closes the queue
	}
	if err := svc.CreateAccount(sys, &skyfence.Account{ID: sim.Account, Name: "simulated fleet"}); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench memory: importing %d terminals\n", f.Len())
	start := time.Now()
	const chunk = 50_000
	for base := 0; base < f.Len(); base += chunk {
		ts := make([]*skyfence.Terminal, 0, chunk)
		for i := base; i < min(base+chunk, f.Len()); i++ {
			ts = append(ts, f.Terminal(i))
		}
		if err := svc.ImportTerminals(sys, ts, "moonshot fleet"); err != nil {
			return nil, err
		}
	}
	m.ImportSec = time.Since(start).Seconds()
	fixes := f.AppendFixes(nil, f.Start(), f.Start().Add(f.Interval()))
	out := make([]authorizer.Result, authorizer.MaxBatch)
	for lo := 0; lo < len(fixes); lo += authorizer.MaxBatch {
		hi := min(lo+authorizer.MaxBatch, len(fixes))
		if err := svc.Authorizer().Ingest(fixes[lo:hi], out); err != nil {
			return nil, err
		}
	}
	fixes, out = nil, nil
	// Every terminal's first state is new: write them now, not in the
	// middle of the load.
	if err := svc.Flush(ctx); err != nil {
		return nil, err
	}
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	m.Terminals = f.Len()
	m.HeapPerTerminal = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(f.Len())
	m.RSSPerTerminal = float64(residentBytes()-rss0) / float64(f.Len())
	m.For10MGB = m.HeapPerTerminal * 10e6 / 1e9
	fmt.Fprintf(log, "bench memory: %.0f bytes of heap a terminal (%.0f resident), imported in %.1f s\n", m.HeapPerTerminal, m.RSSPerTerminal, m.ImportSec)
	return svc, nil
}

// residentBytes returns the process's resident set size from
// /proc/self/statm, or 0 where there is none.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// encodeBatches encodes n request bodies of batch fixes each, the fleet's
// fixes in time order from after its first interval on, in JSON or in
// the binary form.
func encodeBatches(f *sim.Fleet, from time.Duration, n, batch int, binary bool) [][]byte {
	bodies := make([][]byte, 0, n)
	var fixes []skyfence.Fix
	var enc fixwire.Encoder
	var wire []fixwire.Fix
	at := f.Start().Add(from)
	for len(bodies) < n {
		for len(fixes) < batch {
			fixes = f.AppendFixes(fixes, at, at.Add(time.Second))
			at = at.Add(time.Second)
		}
		wire = wire[:0]
		for _, fx := range fixes[:batch] {
			wire = append(wire, wireFix(fx))
		}
		if binary {
			bodies = append(bodies, enc.AppendRequest(nil, "", wire))
		} else {
			bodies = append(bodies, fixwire.AppendJSONRequest(make([]byte, 0, 150*batch), "", wire))
		}
		fixes = append(fixes[:0], fixes[batch:]...)
	}
	return bodies
}

// wireFix is fx as a gateway says it: lat, lon to 5 decimals, altitude
// to the metre, speed to 0.1 km/h, in whole seconds, in both forms.
func wireFix(fx skyfence.Fix) fixwire.Fix {
	round := func(v float64, decimals int) float64 {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
		return r
	}
	return fixwire.Fix{TerminalID: fx.TerminalID, Time: fx.Time.Truncate(time.Second), Lat: round(fx.Lat, 5), Lon: round(fx.Lon, 5),
		AltM: round(fx.AltM, 0), SpeedKmh: round(fx.SpeedKmh, 1)}
}

// offer sends bodies[k] when it is due, k batches' worth of the rate after
// the start, from cfg.Connections connections; a batch waits for a free
// connection, and those still waiting when the offer ends are not sent.
func offer(ctx context.Context, url, key string, bodies [][]byte, cfg MoonshotConfig, res *MoonshotResult) {
	type job struct {
		k   int
		due time.Time
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Connections, DisableCompression: true}}
	every := time.Duration(float64(cfg.Batch) / cfg.Rate * float64(time.Second))
	contentType := "application/json"
	if cfg.Wire == "binary" {
		contentType = fixwire.ContentType
	}
	work := make(chan job)
	var answered, decided, refused, sent atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var last atomic.Int64
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	begin := time.Now().Add(10 * time.Millisecond)
	end := begin.Add(cfg.Duration)
	var wg sync.WaitGroup
	for range cfg.Connections {
		wg.Go(func() {
			var mine []time.Duration
			var buf bytes.Buffer
			var dec fixwire.Decoder
			var results []fixwire.Result
			for j := range work {
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(bodies[j.k]))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", contentType)
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				buf.Reset()
				_, _ = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				out := buf.Bytes()
				done := time.Now()
				if resp.StatusCode != http.StatusOK {
					continue
				}
				mine = append(mine, done.Sub(j.due))
				last.Store(int64(done.Sub(begin)))
				answered.Add(1)
				var r int64
				if cfg.Wire == "binary" {
					// A gateway reads each result: the load generator does too.
					var err error
					if _, results, err = dec.Answer(out, results[:0]); err != nil {
						continue
					}
					for i := range results {
						if results[i].Err != nil {
							r++
						}
					}
				} else {
					r = int64(bytes.Count(out, []byte(`"error":`)))
				}
				refused.Add(r)
				decided.Add(int64(cfg.Batch) - r)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	offered := min(len(bodies), int((cfg.Duration+every-1)/every))
	for k := range offered {
		due := begin.Add(time.Duration(k) * every)
		if ctx.Err() != nil {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		select {
		case work <- job{k, due}:
		case <-time.After(time.Until(end)):
		}
		if !time.Now().Before(end) {
			break
		}
	}
	close(work)
	wg.Wait()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	res.Seconds = time.Duration(last.Load()).Seconds()
	res.BatchesOffered, res.BatchesSent, res.BatchesAnswered = int64(offered), sent.Load(), answered.Load()
	res.Decided, res.Refused = decided.Load(), refused.Load()
	if res.Seconds > 0 {
		res.Achieved = float64(res.Decided+res.Refused) / res.Seconds
		cpu := tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)
		res.CPUShare = cpu / res.Seconds / float64(runtime.NumCPU())
		if n := res.Decided + res.Refused; n > 0 {
			res.CPUPerMillion = cpu / float64(n) * 1e6
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds()) / 1000
	}
	res.P50Ms, res.P99Ms, res.MaxMs = q(0.5), q(0.99), q(1)
}

// Markdown renders the memory and the moonshot as two short tables.
func (r *MoonshotResult) Markdown() string {
	var b strings.Builder
	m := r.Memory
	fmt.Fprintf(&b, "Memory of a `control.Service` holding %s simulated terminals (registry record, slot, track, one fix and decision each), imported over SQLite in %.1f s:\n\n",
		thousands(float64(m.Terminals)), m.ImportSec)
	b.WriteString("| heap bytes/terminal | resident bytes/terminal | heap for 10 M terminals | target |\n|---:|---:|---:|---|\n")
	verdict := "met"
	if m.For10MGB >= 2 {
		verdict = "not met"
	}
	fmt.Fprintf(&b, "| %s | %s | %.1f GB | < 2 GB: %s |\n\n", thousands(m.HeapPerTerminal), thousands(m.RSSPerTerminal), m.For10MGB, verdict)
	fmt.Fprintf(&b, "The moonshot is ten million terminals each reporting every 15 s (666,667 fixes/s) with p99 batch latency under 50 ms. Here %s fixes/s were offered to the HTTP API on loopback, open loop, in batches of %d (%s) over %d connections for %.1f s, the server holding %s terminals, the load generator in the same process; latency counts from when each batch was due:\n\n",
		thousands(r.Offered), r.Batch, r.Wire, r.Connections, r.OfferSec, thousands(float64(r.Terminals)))
	b.WriteString("| offered/s | decided/s | of the offer | batches sent/offered | p50 ms | p99 ms | max ms | CPU share | CPU s per million | target |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	verdict = "met"
	if r.Achieved < 0.99*r.Offered || r.P99Ms >= 50 {
		verdict = "not met"
	}
	fmt.Fprintf(&b, "| %s | %s | %.0f %% | %s/%s | %.1f | %.1f | %.1f | %.0f %% | %.2f | p99 < 50 ms at the offer: %s |\n",
		thousands(r.Offered), thousands(r.Achieved), 100*r.Achieved/r.Offered, thousands(float64(r.BatchesSent)), thousands(float64(r.BatchesOffered)),
		r.P50Ms, r.P99Ms, r.MaxMs, 100*r.CPUShare, r.CPUPerMillion, verdict)
	if r.Detect {
		fmt.Fprintf(&b, "\nDetection ran in the process, as serve runs it (the default engine behind its queue; its CPU is in the figures above): ingest offered it %s observations during the load, and its queue dropped %s of them (%.1f %%); %s were still queued when the load ended.\n",
			thousands(float64(r.DetectOffered)), thousands(float64(r.DetectDropped)), 100*float64(r.DetectDropped)/max(1, float64(r.DetectOffered)), thousands(float64(r.DetectPending)))
	}
	return b.String()
}
