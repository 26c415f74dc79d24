package httpapi

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/internal/jsonstr"
	"github.com/skyfence/skyfence/policy"
)

// The routes the web console reads: who the key is, every terminal's last
// state for the map, the live feed, and the audit log.
func (s *Server) consoleRoutes() []route {
	return []route{
		{"GET", "/v1/me", false, false, s.me},
		{"GET", "/v1/states", false, false, s.mapStates},
		{"GET", "/v1/events", false, false, s.events},
		{"GET", "/v1/audit", false, false, s.auditLog},
		{"GET", "/v1/audit/verify", false, false, s.verifyAudit},
	}
}

// me says who the key belongs to, so that the console shows what the
// role can use.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := control.PrincipalFrom(r.Context())
	return writeJSON(w, http.StatusOK, map[string]string{"key_id": p.KeyID, "person_id": p.PersonID, "person": p.Person,
		"role": string(p.Role), "region": p.Region, "authority": p.Authority})
}

// statesTick is how often the live feed sends the terminals that changed.
const statesTick = 2 * time.Second

// mapStates writes every terminal's last state in columns (see
// appendStates), gzipped when the client takes it: 100,000 terminals are
// about 3.5 MB, 1 MB gzipped.
func (s *Server) mapStates(w http.ResponseWriter, r *http.Request) error {
	states, err := s.svc.MapStates(r.Context())
	if err != nil {
		return err
	}
	b := appendStates(make([]byte, 0, 64+len(states)*40), states)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Vary", "Accept-Encoding")
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		_, err = w.Write(b)
		return err
	}
	w.Header().Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	return zw.Close()
}

// appendStates writes states as one JSON object of parallel arrays: id,
// lon, lat (5 decimals, about a metre), reason and status as indexes into
// the reasons and statuses arrays, and the country where it was decided. A
// terminal is allowed service where its reason is "ok".
func appendStates(b []byte, states []control.MapState) []byte {
	b = append(b, `{"reasons":[`...)
	for i := range policy.NumReasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, policy.Reason(i).String())
	}
	b = append(b, `],"statuses":[`...)
	for i := skyfence.Inactive; i <= skyfence.Deactivated; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, i.String())
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(len(states)), 10)
	column := func(name string, add func(b []byte, st *control.MapState) []byte) {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":[`...)
		for i := range states {
			if i > 0 {
				b = append(b, ',')
			}
			b = add(b, &states[i])
		}
		b = append(b, ']')
	}
	column("id", func(b []byte, st *control.MapState) []byte { return jsonstr.Append(b, st.ID) })
	column("lon", func(b []byte, st *control.MapState) []byte { return strconv.AppendFloat(b, st.Lon, 'f', 5, 64) })
	column("lat", func(b []byte, st *control.MapState) []byte { return strconv.AppendFloat(b, st.Lat, 'f', 5, 64) })
	column("reason", func(b []byte, st *control.MapState) []byte { return strconv.AppendUint(b, uint64(st.Reason), 10) })
	column("country", func(b []byte, st *control.MapState) []byte { return jsonstr.Append(b, st.Country) })
	column("status", func(b []byte, st *control.MapState) []byte { return strconv.AppendUint(b, uint64(st.Status), 10) })
	return append(b, '}')
}

// events is the console's live feed, as server-sent events: "hello" once
// the feed is watching, "states" every couple of seconds with the
// terminals that moved, were decided otherwise or changed status (the
// columns of GET /v1/states), and "cloudevent" for each event of the bus
// the caller may see (alerts, cases, cut-offs, registry and policy
// changes). A client that loads GET /v1/states after "hello" misses
// nothing. The request must accept text/event-stream.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	watch, err := s.svc.WatchStates(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		// A client that does not expect a stream would wait for its end.
		return skyfence.Errorf(skyfence.EINVALID, "GET /v1/events is an endless stream of server-sent events: send \"Accept: text/event-stream\"")
	}
	evc := make(chan bus.Event, 64)
	unsubscribe, err := s.svc.SubscribeEvents(ctx, "console", 256, func(e bus.Event) {
		select {
		case evc <- e:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return err
	}
	defer unsubscribe()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, data []byte) error {
		b := make([]byte, 0, len(data)+32)
		b = append(b, "event: "...)
		b = append(b, event...)
		b = append(b, "\ndata: "...)
		b = append(b, data...)
		b = append(b, "\n\n"...)
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	hello, _ := json.Marshal(map[string]string{"policy": s.auth.Snapshot().Version})
	if err := send("hello", hello); err != nil {
		return nil // the client went away
	}
	tick := time.NewTicker(statesTick)
	defer tick.Stop()
	idle := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.streams.closing():
			return nil
		case e := <-evc:
			b, _ := json.Marshal(e)
			if send("cloudevent", b) != nil {
				return nil
			}
		case <-tick.C:
			changed := watch.Changes()
			if len(changed) == 0 {
				// A comment now and then keeps proxies from closing an idle stream.
				if idle++; idle%8 == 0 {
					if _, err := w.Write([]byte(": idle\n\n")); err != nil || rc.Flush() != nil {
						return nil
					}
				}
				continue
			}
			if send("states", appendStates(nil, changed)) != nil {
				return nil
			}
		}
	}
}

// streams lets a shutdown end the live feeds, which would otherwise keep
// their connections busy for ever. The zero value is open.
type streams struct {
	mu     sync.Mutex
	done   chan struct{}
	closed bool
}

func (l *streams) closing() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == nil {
		l.done = make(chan struct{})
		if l.closed {
			close(l.done)
		}
	}
	return l.done
}

// CloseStreams ends every live feed (GET /v1/events) and any opened later.
// Register it with http.Server.RegisterOnShutdown, so that a graceful
// shutdown does not wait for feeds that never end by themselves.
func (s *Server) CloseStreams() {
	l := &s.streams
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.done != nil {
		close(l.done)
	}
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := control.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"), Subject: q.Get("subject")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badQuery("limit", "limit must be a whole number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return badQuery("before", "before must be an entry's seq (a whole number from 1), got %q", v)
		}
		f.Before = n
	}
	entries, err := s.svc.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.VerifyAudit(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{
		"ok": rep.Problem == nil, "entries": rep.Entries, "checkpoints": rep.Checkpoints,
		"head": rep.Head.String(), "signed": rep.Signed.String(),
	}
	if rep.Problem != nil {
		out["problem"] = map[string]any{"seq": rep.Problem.Seq, "kind": rep.Problem.Kind.String(), "detail": rep.Problem.Detail}
	}
	return writeJSON(w, http.StatusOK, out)
}
