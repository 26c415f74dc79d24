package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sqlite"
	"github.com/skyfence/skyfence/world"
	"github.com/skyfence/skyfence/world/worldtest"
)

// ServeConfig says what Serve measures. Zero fields take their defaults.
type ServeConfig struct {
	Policy      string        // policy file; default examples/policy/policy.yaml
	Terminals   int           // fleet size; default 1,000,000
	Batch       int           // fixes per request; default 1,000
	Connections int           // concurrent client connections; default 4
	Duration    time.Duration // how long to drive the server; default 10 s
	Dir         string        // where the SQLite database goes; default a temporary directory
	NoDetect    bool          // run without detection (skyfence serve runs it)
}

// ServeResult is what Serve measured.
type ServeResult struct {
	Machine         Machine `json:"machine"`
	Terminals       int     `json:"terminals"`
	Batch           int     `json:"batch"`
	Connections     int     `json:"connections"`
	Seconds         float64 `json:"seconds"`
	Batches         int64   `json:"batches"`
	Decisions       int64   `json:"decisions"`
	Refused         int64   `json:"refused"` // fixes answered with an error
	DecisionsPerSec float64 `json:"decisions_per_s"`
	P50Ms           float64 `json:"p50_ms"`
	P99Ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	CPUSeconds      float64 `json:"cpu_s"`     // server and load generator together, one process
	CPUShare        float64 `json:"cpu_share"` // of the machine's cores over the run
	SetupSeconds    float64 `json:"setup_s"`   // building the fleet and the server
	AllowedShare    float64 `json:"allowed_share"`
	// Detection ran; decided fixes handed to it, and dropped by it (queue
	// full).
	Detection     bool   `json:"detection"`
	DetectOffered uint64 `json:"detect_offered"`
	DetectDropped uint64 `json:"detect_dropped"`
}

// Serve starts a skyfence server on loopback with a fresh SQLite store and a
// fleet of terminals, then drives it over HTTP with batches of fixes from
// several connections, as gateways would, and measures decisions per second
// and batch latency. The load generator runs in the same process, so the
// figures include its cost.
func Serve(ctx context.Context, cfg ServeConfig, logw io.Writer) (*ServeResult, error) {
	if cfg.Policy == "" {
		cfg.Policy = "examples/policy/policy.yaml"
	}
	cfg.Terminals = cmpOr(cfg.Terminals, 1_000_000)
	cfg.Batch = cmpOr(cfg.Batch, 1000)
	cfg.Connections = cmpOr(cfg.Connections, 4)
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
	}
	start := time.Now()
	dir, cleanup, err := workDir(cfg.Dir, "skyfence-bench-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	data, err := world.Load(world.Res10m)
	if err != nil {
		return nil, err
	}
	a, err := atlas.New(data, geoindex.Options{})
	if err != nil {
		return nil, err
	}
	src, err := policy.Load(cfg.Policy)
	if err != nil {
		return nil, err
	}
	snap, err := policy.Compile(src, a)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, dir+"/skyfence.db", log)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	// Detection runs as in skyfence serve, off the decision path.
	var queue *detect.Queue
	if !cfg.NoDetect {
		engine, err := detect.New(detect.DefaultConfig(), detect.Options{})
		if err != nil {
			return nil, err
		}
		queue = detect.NewQueue(engine)
	}
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: a, Policy: snap, Logger: log, Detect: queue})
	if err != nil {
		return nil, err
	}
	defer svc.Close(context.Background())
	if queue != nil {
		detected := make(chan error, 1)
		go func() { detected <- queue.Run(ctx, svc.RecordAlert) }()
		defer func() { queue.Close(); <-detected }()
	}
	admin := control.WithPrincipal(ctx, control.System)
	if err := svc.CreateAccount(admin, &skyfence.Account{ID: "bench", Name: "load test"}); err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "bench serve: importing %d terminals\n", cfg.Terminals)
	pts, err := fleet(svc, admin, data, cfg.Terminals)
	if err != nil {
		return nil, err
	}
	url, gateway, stop, err := loopback(ctx, svc, log)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &ServeResult{Machine: machineFacts(), Terminals: cfg.Terminals, Batch: cfg.Batch, Connections: cfg.Connections, SetupSeconds: time.Since(start).Seconds()}
	fmt.Fprintf(logw, "bench serve: driving %s for %v with %d connections\n", url, cfg.Duration, cfg.Connections)
	drive(ctx, url+"/v1/fixes", gateway, pts, cfg, res)
	if queue != nil {
		q := queue.Stats()
		res.Detection, res.DetectOffered, res.DetectDropped = true, q.Offered, q.Dropped
	}
	return res, nil
}

// workDir returns dir, or a fresh temporary directory (removed by cleanup)
// if dir is "".
func workDir(dir, prefix string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// loopback serves svc's API on a free loopback port and makes a gateway key
// for it; stop closes the server.
func loopback(ctx context.Context, svc *control.Service, log *slog.Logger) (url, key string, stop func(), err error) {
	admin := control.WithPrincipal(ctx, control.System)
	if _, key, err = svc.CreateKey(admin, control.KeyInput{Name: "bench gateway", Role: skyfence.RoleGateway}); err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	srv := &http.Server{Handler: httpapi.New(svc, log, nil)}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), key, func() { srv.Close() }, nil
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// fleet imports n active terminals, verified where the scenario needs it,
// at positions from worldtest.Points, and returns their positions.
func fleet(svc *control.Service, ctx context.Context, data *world.Data, n int) ([]geoindex.Point, error) {
	pts, err := worldtest.Points(data.Shapes(), n, 7)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(7, 8))
	plans := []string{"residential", "roam", "maritime", "aviation"}
	countries := []string{"UA", "DE", "FR", "US", "PL"}
	const chunk = 100_000
	for base := 0; base < n; base += chunk {
		ts := make([]*skyfence.Terminal, 0, chunk)
		for i := base; i < min(base+chunk, n); i++ {
			t := &skyfence.Terminal{ID: "ut-" + strconv.Itoa(i), AccountID: "bench", Plan: plans[rng.IntN(len(plans))],
				Country: countries[rng.IntN(len(countries))], Status: skyfence.Active}
			if t.Country == "UA" {
				t.Verifications = []skyfence.Verification{{Region: "UA", Authority: "UA-MOD", Class: skyfence.VerificationClass(rng.IntN(3)), VerifiedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
			}
			ts = append(ts, t)
		}
		if err := svc.ImportTerminals(ctx, ts, "load test fleet"); err != nil {
			return nil, err
		}
	}
	return pts, nil
}

// drive sends batches from cfg.Connections goroutines, each over its own
// share of the fleet, every terminal's fixes 15 s apart in its own time.
func drive(ctx context.Context, url, key string, pts []geoindex.Point, cfg ServeConfig, res *ServeResult) {
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Connections, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var batches, decisions, refused, allowed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	deadline := time.Now().Add(cfg.Duration)
	begin := time.Now()
	base := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Connections; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lo, hi := w*len(pts)/cfg.Connections, (w+1)*len(pts)/cfg.Connections
			var body []byte
			var mine []time.Duration
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			next, round := lo, 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				body = body[:0]
				body = append(body, `{"fixes":[`...)
				at := base.Add(time.Duration(round) * 15 * time.Second)
				for k := 0; k < cfg.Batch; k++ {
					if next == hi {
						next, round = lo, round+1
						at = base.Add(time.Duration(round) * 15 * time.Second)
					}
					if k > 0 {
						body = append(body, ',')
					}
					p := pts[next]
					body = append(body, `{"terminal_id":"ut-`...)
					body = strconv.AppendInt(body, int64(next), 10)
					body = append(body, `","time":"`...)
					body = at.AppendFormat(body, time.RFC3339)
					body = append(body, `","lat":`...)
					body = strconv.AppendFloat(body, p.Lat, 'f', 5, 64)
					body = append(body, `,"lon":`...)
					body = strconv.AppendFloat(body, p.Lon, 'f', 5, 64)
					body = append(body, `,"speed_kmh":`...)
					body = strconv.AppendInt(body, int64(rng.IntN(120)), 10)
					body = append(body, '}')
					next++
				}
				body = append(body, "]}"...)
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					continue
				}
				batches.Add(1)
				decisions.Add(int64(cfg.Batch))
				refused.Add(int64(bytes.Count(out, []byte(`"error":`))))
				allowed.Add(int64(bytes.Count(out, []byte(`"allow":true`))))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(begin)
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)
	slices.Sort(lat)
	q := func(f float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(int(f*float64(len(lat))), len(lat)-1)].Microseconds()) / 1000
	}
	res.Seconds = elapsed.Seconds()
	res.Batches, res.Decisions, res.Refused = batches.Load(), decisions.Load(), refused.Load()
	res.DecisionsPerSec = float64(res.Decisions) / elapsed.Seconds()
	res.P50Ms, res.P99Ms, res.MaxMs = q(0.5), q(0.99), q(1)
	res.CPUSeconds = cpu
	res.CPUShare = cpu / elapsed.Seconds() / float64(runtime.NumCPU())
	if res.Decisions > 0 {
		res.AllowedShare = float64(allowed.Load()) / float64(res.Decisions)
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// Markdown renders the result as a short table.
func (r *ServeResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Fleet of %d terminals, batches of %d fixes over %d loopback connections for %.1f s; %s, %d CPUs, %s, %s.\n\n",
		r.Terminals, r.Batch, r.Connections, r.Seconds, r.Machine.CPU, r.Machine.NumCPU, r.Machine.GoVersion, r.Machine.Date)
	b.WriteString("| decisions/s | batches | p50 ms | p99 ms | max ms | CPU share (server + load generator) | refused | allowed |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %.0f | %d | %.2f | %.2f | %.2f | %.0f %% | %d | %.1f %% |\n", r.DecisionsPerSec, r.Batches, r.P50Ms, r.P99Ms, r.MaxMs, 100*r.CPUShare, r.Refused, 100*r.AllowedShare)
	if r.Detection {
		fmt.Fprintf(&b, "\nDetection ran alongside: %d decided fixes offered, %d dropped (queue full).\n", r.DetectOffered, r.DetectDropped)
	} else {
		b.WriteString("\nDetection off.\n")
	}
	return b.String()
}
