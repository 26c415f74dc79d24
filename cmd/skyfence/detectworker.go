package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/natsbus"
	"github.com/skyfence/skyfence/webhook"
)

const detectWorkerUsage = `usage: skyfence detect-worker [flags]

Runs detection for a cluster whose authorizers run with --detect-mode
worker: reads the observation stream's partitions from NATS JetStream with
a durable consumer each, runs the detectors, stores the alerts in the
cluster's PostgreSQL (upserted by their stable ids) and publishes
io.skyfence.alert.raised on the cluster's event stream. A batch is
acknowledged after its alerts are stored: one the worker did not
acknowledge (it died) is delivered again, to the next worker reading the
partition. See docs/CLUSTER.md.

flags:
`

// workerConfig is detect-worker's configuration.
type workerConfig struct {
	StoreConfig
	NATSURL, Namespace, Node string
	Partitions               int
	Own                      string
	AckWait                  time.Duration
	DetectConfig             string
	Webhooks                 string
	Addr                     string
	LogLevel                 string
	SpoolMiB                 int64
}

func runDetectWorker(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("detect-worker", flag.ContinueOnError)
	var c workerConfig
	c.StoreConfig.flags(fs)
	fs.StringVar(&c.NATSURL, "nats-url", envOr("SKYFENCE_NATS_URL", ""), "NATS `URL` [SKYFENCE_NATS_URL]")
	fs.StringVar(&c.Namespace, "nats-namespace", envOr("SKYFENCE_NATS_NAMESPACE", "skyfence"), "the cluster's `name` on NATS, as its authorizers' [SKYFENCE_NATS_NAMESPACE]")
	fs.StringVar(&c.Node, "node", envOr("SKYFENCE_NODE", ""), "this worker's `name`, unique in the cluster (default: host name and process id) [SKYFENCE_NODE]")
	fs.IntVar(&c.Partitions, "obs-partitions", 16, "partitions of the observation stream, as the authorizers' --obs-partitions")
	fs.StringVar(&c.Own, "partitions", "all", "`list` of the partitions this worker reads: all, or numbers and ranges (0-7,12); every partition must be read by exactly one worker")
	fs.DurationVar(&c.AckWait, "ack-wait", 30*time.Second, "how long a batch delivered to a worker that does not acknowledge it waits before it is delivered again")
	fs.StringVar(&c.DetectConfig, "detect-config", envOr("SKYFENCE_DETECT_CONFIG", ""), "detection thresholds: a JSON `file` over the defaults (docs/DETECTION.md) [SKYFENCE_DETECT_CONFIG]")
	fs.StringVar(&c.Webhooks, "webhooks", envOr("SKYFENCE_WEBHOOKS", ""), "JSON or YAML `file` of webhook endpoints to send the alerts this worker raises to [SKYFENCE_WEBHOOKS]")
	fs.StringVar(&c.Addr, "addr", envOr("SKYFENCE_ADDR", ""), "listen `address` for GET /metrics; none if empty [SKYFENCE_ADDR]")
	fs.StringVar(&c.LogLevel, "log-level", envOr("SKYFENCE_LOG_LEVEL", "info"), "`level`: debug, info, warn or error [SKYFENCE_LOG_LEVEL]")
	fs.Int64Var(&c.SpoolMiB, "spool-mib", 64, "MiB of alert events kept on disk while NATS is unreachable")
	fs.Usage = func() { fmt.Fprint(e.stderr, detectWorkerUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	w, err := openWorker(ctx, c, e)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w during start-up (%v)", errStopped, context.Cause(ctx))
		}
		return err
	}
	return w.run(ctx)
}

// parsePartitions parses --partitions against n partitions.
func parsePartitions(s string, n int) ([]int, error) {
	if s == "" || s == "all" {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	seen := map[int]bool{}
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= n {
			return nil, fmt.Errorf("--partitions: %q: want numbers or ranges from 0 to %d", part, n-1)
		}
		for p := a; p <= b; p++ {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// worker is a running detect-worker.
type worker struct {
	cfg    workerConfig
	log    *slog.Logger
	store  skyfence.Store
	reader *natsbus.ObsReader
	bus    *natsbus.Bus
	events bus.Bus // the local bus (webhooks) and the cluster's
	local  *bus.Local
	source string
	parts  []int
	ln     net.Listener

	webhooks *webhook.Sender // nil without --webhooks

	mu     sync.Mutex // the engine is not safe for concurrent use
	engine *detect.Engine

	stored, raised, saveFailures atomic.Uint64
	metrics                      []func(io.Writer)
}

func openWorker(ctx context.Context, c workerConfig, e env) (_ *worker, err error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	switch {
	case c.Store != "postgres":
		return nil, errors.New("detect-worker needs --store postgres: the cluster's store")
	case c.NATSURL == "":
		return nil, errors.New("detect-worker needs --nats-url or SKYFENCE_NATS_URL")
	case c.AckWait <= 0:
		return nil, errors.New("--ack-wait must be positive")
	}
	w := &worker{cfg: c, log: log, local: bus.NewLocal()}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if w.parts, err = parsePartitions(c.Own, c.Partitions); err != nil {
		return nil, err
	}
	dc, err := detect.LoadConfig(c.DetectConfig)
	if err != nil {
		return nil, fmt.Errorf("--detect-config: %w", err)
	}
	if w.engine, err = detect.New(dc, detect.Options{}); err != nil {
		return nil, err
	}
	node := c.Node
	if node == "" {
		host, _ := os.Hostname()
		node = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	w.source = "/skyfence/detect/" + node
	if w.store, err = c.StoreConfig.open(ctx, log, true); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	if w.bus, err = natsbus.Open(natsbus.Config{URL: c.NATSURL, Name: "skyfence detect " + node, Namespace: c.Namespace,
		SpoolFile: filepath.Join(c.DataDir, "events-detect-"+node+".spool"), SpoolBytes: c.SpoolMiB << 20, Logger: log}); err != nil {
		return nil, err
	}
	w.events = tee{w.local, w.bus}
	if w.reader, err = natsbus.OpenObsReader(natsbus.ObsConfig{URL: c.NATSURL, Name: "skyfence detect obs " + node,
		Namespace: c.Namespace, Partitions: c.Partitions, AckWait: c.AckWait, Logger: log}); err != nil {
		return nil, err
	}
	w.metrics = append(w.metrics, w.writeMetrics)
	if w.webhooks, err = startWebhooks(c.Webhooks, w.local, func(f func(io.Writer)) { w.metrics = append(w.metrics, f) }, log); err != nil {
		return nil, err
	}
	if c.Addr != "" {
		if w.ln, err = net.Listen("tcp", c.Addr); err != nil {
			return nil, err
		}
	}
	log.Info("detect-worker: started", "node", node, "partitions", len(w.parts), "of", c.Partitions, "nats", c.NATSURL)
	fmt.Fprintf(e.stdout, "skyfence detect-worker %s is reading %d of %d partitions\n", node, len(w.parts), c.Partitions)
	return w, nil
}

// run reads the partitions until ctx ends, then stores what the engine
// flushes and closes.
func (w *worker) run(ctx context.Context) error {
	var srv *http.Server
	if w.ln != nil {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /metrics", func(rw http.ResponseWriter, _ *http.Request) {
			rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
			for _, f := range w.metrics {
				f(rw)
			}
		})
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(w.ln)
	}
	var wg sync.WaitGroup
	for _, p := range w.parts {
		wg.Go(func() {
			if err := w.reader.Read(ctx, p, func(obs []detect.Observation, _ bool) error { return w.handle(ctx, obs) }); err != nil && ctx.Err() == nil {
				w.log.Error("detect-worker: reading a partition stopped", "partition", p, "err", err)
			}
		})
	}
	wg.Wait()
	w.mu.Lock()
	flushed := append([]detect.Alert(nil), w.engine.Flush()...)
	incidents := w.engine.ChangedIncidents(nil)
	w.mu.Unlock()
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := w.save(fctx, flushed, incidents); err != nil {
		w.log.Warn("detect-worker: storing the alerts updated since their last emission", "err", err)
	}
	cancel()
	if srv != nil {
		srv.Close()
	}
	w.log.Info("detect-worker: stopped")
	return w.close()
}

// handle runs the engine over one batch and stores the alerts it raised
// or updated, and the GNSS interference incidents it opened, extended or
// closed, before returning, retrying while the store fails: the batch is
// acknowledged only after. It returns an error only when ctx ends first
// (the batch is then delivered again, to a fresh engine).
func (w *worker) handle(ctx context.Context, obs []detect.Observation) error {
	var alerts []detect.Alert
	w.mu.Lock()
	for i := range obs {
		alerts = append(alerts, w.engine.Process(&obs[i])...)
	}
	incidents := w.engine.ChangedIncidents(nil)
	w.mu.Unlock()
	for {
		err := w.save(ctx, alerts, incidents)
		if err == nil {
			break
		}
		w.saveFailures.Add(1)
		w.log.Warn("detect-worker: storing alerts; retrying", "alerts", len(alerts), "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	for i := range alerts {
		if alerts[i].Count <= 1 {
			w.emit(&alerts[i])
		}
	}
	return nil
}

// save upserts incidents and alerts in the store.
func (w *worker) save(ctx context.Context, alerts []detect.Alert, incidents []detect.Incident) error {
	if len(incidents) > 0 {
		recs := make([]*skyfence.Incident, len(incidents))
		for i := range incidents {
			recs[i] = control.IncidentRecord(&incidents[i])
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := w.store.SaveIncidents(sctx, recs)
		cancel()
		if err != nil {
			return err
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	recs := make([]*skyfence.AlertRecord, len(alerts))
	for i := range alerts {
		r, err := control.AlertRecord(&alerts[i])
		if err != nil {
			return err
		}
		recs[i] = r
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.store.SaveAlerts(sctx, recs); err != nil {
		return err
	}
	w.stored.Add(uint64(len(alerts)))
	return nil
}

// emit publishes alert.raised for a newly opened alert, with an event id
// made from the alert's: a batch delivered again raises the same alert,
// and JetStream stores its event once (within its duplicate window), and
// webhook receivers can tell it is the same event.
func (w *worker) emit(a *detect.Alert) {
	e, err := bus.New(w.source, bus.AlertRaised, a.TerminalID, time.Now(), a)
	if err != nil {
		w.log.Error("detect-worker: encoding an event", "err", err)
		return
	}
	e.ID = "raised-" + a.ID
	w.events.Publish(e)
	w.raised.Add(1)
}

func (w *worker) writeMetrics(out io.Writer) {
	st := w.reader.Stats()
	w.mu.Lock()
	es := w.engine.Stats()
	w.mu.Unlock()
	bs := w.bus.Stats()
	fmt.Fprintf(out, "# HELP skyfence_worker_batches_total Observation batches handled and acknowledged.\n# TYPE skyfence_worker_batches_total counter\nskyfence_worker_batches_total %d\n", st.Batches)
	fmt.Fprintf(out, "# HELP skyfence_worker_observations_total Observations in those batches.\n# TYPE skyfence_worker_observations_total counter\nskyfence_worker_observations_total %d\n", st.Observations)
	fmt.Fprintf(out, "# HELP skyfence_worker_redelivered_total Batches delivered more than once.\n# TYPE skyfence_worker_redelivered_total counter\nskyfence_worker_redelivered_total %d\n", st.Redelivered)
	fmt.Fprintf(out, "# HELP skyfence_worker_undecodable_total Batches dropped because they did not decode.\n# TYPE skyfence_worker_undecodable_total counter\nskyfence_worker_undecodable_total %d\n", st.Undecodable)
	fmt.Fprintf(out, "# HELP skyfence_worker_alerts_stored_total Alert versions written to the store.\n# TYPE skyfence_worker_alerts_stored_total counter\nskyfence_worker_alerts_stored_total %d\n", w.stored.Load())
	fmt.Fprintf(out, "# HELP skyfence_worker_alerts_raised_total Alerts opened and published.\n# TYPE skyfence_worker_alerts_raised_total counter\nskyfence_worker_alerts_raised_total %d\n", w.raised.Load())
	fmt.Fprintf(out, "# HELP skyfence_worker_save_failures_total Failed writes of alerts (retried; the batch waits).\n# TYPE skyfence_worker_save_failures_total counter\nskyfence_worker_save_failures_total %d\n", w.saveFailures.Load())
	fmt.Fprintf(out, "# HELP skyfence_worker_terminals Terminals the engine follows.\n# TYPE skyfence_worker_terminals gauge\nskyfence_worker_terminals %d\n", es.Terminals)
	fmt.Fprintf(out, "# HELP skyfence_worker_events_overflow_total Alert events dropped: queue and spool full.\n# TYPE skyfence_worker_events_overflow_total counter\nskyfence_worker_events_overflow_total %d\n", bs.Overflow)
}

func (w *worker) close() error {
	if w.webhooks != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := w.webhooks.Close(ctx); err != nil {
			w.log.Warn("detect-worker: webhooks", "err", err)
		}
		cancel()
	}
	var errs []error
	if w.reader != nil {
		w.reader.Close()
	}
	if w.bus != nil {
		errs = append(errs, w.bus.Close())
	}
	if w.store != nil {
		errs = append(errs, w.store.Close())
	}
	if w.ln != nil {
		w.ln.Close()
	}
	return errors.Join(errs...)
}
