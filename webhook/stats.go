package webhook

import (
	"fmt"
	"io"
	"time"
)

// Stats are one endpoint's counts since Start.
type Stats struct {
	Endpoint string `json:"endpoint"`
	// Delivered: events the endpoint acknowledged (2xx).
	Delivered uint64 `json:"delivered"`
	// Retried: attempts after the first (each retry counts once).
	Retried uint64 `json:"retried"`
	// Failed: events given up on: a response not worth retrying (4xx
	// other than 408 and 429, 3xx), or out of attempts or age.
	Failed uint64 `json:"failed"`
	// Dropped: events that did not fit the queue, or were not delivered
	// when Close's deadline passed.
	Dropped uint64 `json:"dropped"`
	// Queued: events waiting now.
	Queued int `json:"queued"`
	// LastError is the last failed attempt's error, and LastErrorAt when.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Stats returns every endpoint's counts, in the order of the configuration.
func (s *Sender) Stats() []Stats {
	out := make([]Stats, len(s.eps))
	for i, ep := range s.eps {
		ep.mu.Lock()
		out[i] = Stats{
			Endpoint: ep.Name, Delivered: ep.delivered.Load(), Retried: ep.retried.Load(),
			Failed: ep.failed.Load(), Dropped: ep.dropped.Load(), Queued: len(ep.q),
			LastError: ep.lastErr, LastErrorAt: ep.lastErrAt,
		}
		ep.mu.Unlock()
	}
	return out
}

// WriteMetrics writes the stats in the Prometheus text format, one series
// per endpoint: skyfence_webhook_delivered_total, _retries_total,
// _failed_total, _dropped_total, skyfence_webhook_queued and
// skyfence_webhook_last_error_timestamp_seconds.
func (s *Sender) WriteMetrics(w io.Writer) {
	st := s.Stats()
	series := []struct {
		name, typ, help string
		value           func(Stats) float64
	}{
		{"skyfence_webhook_delivered_total", "counter", "Events webhook endpoints acknowledged.", func(x Stats) float64 { return float64(x.Delivered) }},
		{"skyfence_webhook_retries_total", "counter", "Webhook delivery attempts after the first.", func(x Stats) float64 { return float64(x.Retried) }},
		{"skyfence_webhook_failed_total", "counter", "Webhook events given up on (not retryable, out of attempts or age).", func(x Stats) float64 { return float64(x.Failed) }},
		{"skyfence_webhook_dropped_total", "counter", "Webhook events dropped: the endpoint's queue was full, or shutdown's deadline passed.", func(x Stats) float64 { return float64(x.Dropped) }},
		{"skyfence_webhook_queued", "gauge", "Webhook events waiting per endpoint.", func(x Stats) float64 { return float64(x.Queued) }},
		{"skyfence_webhook_last_error_timestamp_seconds", "gauge", "When a webhook delivery attempt last failed (0: never).", func(x Stats) float64 {
			if x.LastErrorAt.IsZero() {
				return 0
			}
			return float64(x.LastErrorAt.Unix())
		}},
	}
	for _, m := range series {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ)
		for _, x := range st {
			fmt.Fprintf(w, "%s{endpoint=%q} %g\n", m.name, x.Endpoint, m.value(x))
		}
	}
}
