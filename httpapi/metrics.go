package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/policy"
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// metrics is a small Prometheus text-format registry: request counts and
// latency histograms per route, decisions by reason.
type metrics struct {
	mu       sync.Mutex
	routes   map[string]*routeMetrics
	byReason [policy.NumReasons]atomic.Uint64
	more     []func(io.Writer) // AddMetrics
}

type routeMetrics struct {
	codes   map[int]uint64
	buckets []uint64
	sum     float64
	count   uint64
}

func newMetrics() *metrics { return &metrics{routes: map[string]*routeMetrics{}} }

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rm := m.routes[route]
	if rm == nil {
		rm = &routeMetrics{codes: map[int]uint64{}, buckets: make([]uint64, len(latencyBuckets))}
		m.routes[route] = rm
	}
	rm.codes[status]++
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			rm.buckets[i]++
		}
	}
	rm.sum += sec
	rm.count++
}

func (m *metrics) decisions(rs []authorizer.Result) {
	for i := range rs {
		if rs[i].Err == nil {
			m.byReason[rs[i].Decision.Reason].Add(1)
		}
	}
}

// AddMetrics adds what write writes (Prometheus text format) to /metrics:
// the metrics of parts the server does not own, such as webhooks.
func (s *Server) AddMetrics(write func(w io.Writer)) {
	s.metrics.mu.Lock()
	s.metrics.more = append(s.metrics.more, write)
	s.metrics.mu.Unlock()
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	var b strings.Builder
	m := s.metrics
	b.WriteString("# HELP skyfence_decisions_total Decisions made over HTTP, by reason.\n# TYPE skyfence_decisions_total counter\n")
	for i := range m.byReason {
		fmt.Fprintf(&b, "skyfence_decisions_total{reason=%q} %d\n", policy.Reason(i).String(), m.byReason[i].Load())
	}
	st := &s.auth.Stats
	b.WriteString("# HELP skyfence_fixes_total Fixes received by ingest.\n# TYPE skyfence_fixes_total counter\n")
	fmt.Fprintf(&b, "skyfence_fixes_total %d\n", st.Fixes.Load())
	b.WriteString("# HELP skyfence_fixes_rejected_total Fixes refused (malformed or out of order).\n# TYPE skyfence_fixes_rejected_total counter\n")
	fmt.Fprintf(&b, "skyfence_fixes_rejected_total %d\n", st.Rejected.Load())
	b.WriteString("# HELP skyfence_store_errors_total Failed writes of terminal states to the store.\n# TYPE skyfence_store_errors_total counter\n")
	fmt.Fprintf(&b, "skyfence_store_errors_total %d\n", s.svc.StoreErrors())
	b.WriteString("# HELP skyfence_cells_not_kept_total Serving cells of fixes not kept in last states (too many distinct cells).\n# TYPE skyfence_cells_not_kept_total counter\n")
	fmt.Fprintf(&b, "skyfence_cells_not_kept_total %d\n", s.auth.CellsNotKept())
	as := s.svc.AlertStats()
	b.WriteString("# HELP skyfence_detect_observations_total Decided fixes handed to detection.\n# TYPE skyfence_detect_observations_total counter\n")
	fmt.Fprintf(&b, "skyfence_detect_observations_total %d\n", as.Queue.Offered)
	b.WriteString("# HELP skyfence_detect_dropped_total Decided fixes detection dropped because its queue was full.\n# TYPE skyfence_detect_dropped_total counter\n")
	fmt.Fprintf(&b, "skyfence_detect_dropped_total %d\n", as.Queue.Dropped)
	b.WriteString("# HELP skyfence_alerts_recorded_total Alerts detection raised or updated.\n# TYPE skyfence_alerts_recorded_total counter\n")
	fmt.Fprintf(&b, "skyfence_alerts_recorded_total %d\n", as.Recorded)
	if n, err := s.svc.Overdue(r.Context()); err == nil {
		b.WriteString("# HELP skyfence_policy_reviews_overdue Emergency policy changes whose reviews are late, in force or not, until two persons other than the author review each.\n# TYPE skyfence_policy_reviews_overdue gauge\n")
		fmt.Fprintf(&b, "skyfence_policy_reviews_overdue %d\n", n)
	}
	m.mu.Lock()
	names := make([]string, 0, len(m.routes))
	for n := range m.routes {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteString("# HELP skyfence_http_requests_total HTTP requests by route and status.\n# TYPE skyfence_http_requests_total counter\n")
	for _, n := range names {
		codes := m.routes[n].codes
		keys := make([]int, 0, len(codes))
		for c := range codes {
			keys = append(keys, c)
		}
		sort.Ints(keys)
		for _, c := range keys {
			fmt.Fprintf(&b, "skyfence_http_requests_total{route=%q,code=\"%d\"} %d\n", n, c, codes[c])
		}
	}
	b.WriteString("# HELP skyfence_http_request_seconds HTTP request latency by route.\n# TYPE skyfence_http_request_seconds histogram\n")
	for _, n := range names {
		rm := m.routes[n]
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "skyfence_http_request_seconds_bucket{route=%q,le=\"%g\"} %d\n", n, le, rm.buckets[i])
		}
		fmt.Fprintf(&b, "skyfence_http_request_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", n, rm.count)
		fmt.Fprintf(&b, "skyfence_http_request_seconds_sum{route=%q} %g\n", n, rm.sum)
		fmt.Fprintf(&b, "skyfence_http_request_seconds_count{route=%q} %d\n", n, rm.count)
	}
	more := m.more
	m.mu.Unlock()
	for _, write := range more {
		write(&b)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, err := w.Write([]byte(b.String()))
	return err
}
