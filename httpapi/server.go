// Package httpapi serves the skyfence API over HTTP: JSON in and out, API
// keys for authentication, the service's roles for authorization, and one
// place (errors.go) that maps error codes to HTTP statuses. The routes are
// described by openapi.json, served at /openapi.json.
//
// httpapi owns the routes, their JSON and the mapping of errors to statuses.
// It calls the service (control) and imports the engines' types, fixwire
// and the bus: never a store (sqlite, postgres) or NATS; cmd/skyfence wires
// those.
package httpapi

import (
	_ "embed"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
)

// OpenAPI is the OpenAPI 3 description of the routes.
//
//go:embed openapi.json
var OpenAPI []byte

// MaxBodyBytes bounds a request body (a batch of 10,000 fixes fits).
const MaxBodyBytes = 8 << 20

// Server is the HTTP face of a control.Service and of its authorizer,
// which decides the fixes.
type Server struct {
	svc     *control.Service
	auth    *authorizer.Core
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	ready   func() error
	streams streams     // the live feeds, ended by CloseStreams
	batches *batchCache // answers to fix batches by batch_id, for retries
}

// New returns a Server for svc. ready reports whether the service can take
// traffic (nil: always).
func New(svc *control.Service, log *slog.Logger, ready func() error) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, auth: svc.Authorizer(), log: log, mux: http.NewServeMux(), metrics: newMetrics(), ready: ready,
		batches: newBatchCache(DefaultBatchCacheBytes, DefaultBatchCacheAge)}
	s.AddMetrics(s.batches.writeMetrics)
	s.routes()
	return s
}

// route is one endpoint: its method and pattern, and the handler.
type route struct {
	method, pattern string
	public          bool
	stream          bool // the body may be an unbounded stream (checked line by line)
	h               func(w http.ResponseWriter, r *http.Request) error
}

func (s *Server) routeTable() []route {
	return slices.Concat([]route{
		{"GET", "/healthz", true, false, s.health},
		{"GET", "/readyz", true, false, s.readiness},
		{"GET", "/metrics", true, false, s.metricsHandler},
		{"GET", "/openapi.json", true, false, s.openapi},
		{"GET", "/v1/map", true, false, s.availability},
		{"GET", "/v1/transparency", true, false, s.transparencyJSON},
		{"GET", "/transparency", true, false, s.transparencyHTML},
		{"GET", "/v1/policy", false, false, s.getPolicy},
		{"POST", "/v1/accounts", false, false, s.createAccount},
		{"POST", "/v1/terminals", false, false, s.createTerminal},
		{"GET", "/v1/terminals", false, false, s.listTerminals},
		{"GET", "/v1/terminals/{id}", false, false, s.getTerminal},
		{"GET", "/v1/terminals/{id}/state", false, false, s.getState},
		{"POST", "/v1/terminals/{id}/status", false, false, s.setStatus},
		{"POST", "/v1/terminals/{id}/activate", false, false, s.activate},
		{"POST", "/v1/verifications", false, false, s.createVerification},
		{"GET", "/v1/verifications", false, false, s.listVerifications},
		{"POST", "/v1/verifications/{id}/revoke", false, false, s.revokeVerification},
		{"PUT", "/v1/cells/{id}", false, false, s.setCell},
		{"GET", "/v1/cells/{id}", false, false, s.getCell},
		{"POST", "/v1/fixes", false, true, s.ingest},
		{"POST", "/v1/changes", false, false, s.draftChange},
		{"GET", "/v1/changes", false, false, s.listChanges},
		{"GET", "/v1/changes/{id}", false, false, s.getChange},
		{"POST", "/v1/changes/{id}/propose", false, false, s.changeAction("propose")},
		{"POST", "/v1/changes/{id}/review", false, false, s.changeAction("review")},
		{"POST", "/v1/changes/{id}/activate", false, false, s.changeAction("activate")},
		{"POST", "/v1/changes/{id}/emergency", false, false, s.changeAction("emergency")},
		{"POST", "/v1/changes/{id}/withdraw", false, false, s.changeAction("withdraw")},
		{"POST", "/v1/policy/rollback", false, false, s.rollback},
		{"POST", "/v1/keys", false, false, s.createKey},
		{"GET", "/v1/keys", false, false, s.listKeys},
		{"POST", "/v1/keys/{id}/revoke", false, false, s.revokeKey},
	},
		s.consoleRoutes(),
		s.personRoutes(),
		s.auditRoutes(),
		s.caseRoutes(),
		s.alertRoutes(),
		s.importRoutes(),
	)
}

func (s *Server) routes() {
	for _, rt := range s.routeTable() {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, skyfence.Errorf(skyfence.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
	})
}

// Mount serves pattern (a net/http ServeMux pattern, e.g. "GET /map") with
// h, outside the API's authentication: the web console and the public map
// are mounted this way and authenticate their own API calls.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// wrap adds authentication, body limits, logging and metrics to a handler.
func (s *Server) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("httpapi: panic", "route", name, "panic", v)
				writeError(sw, skyfence.Errorf(skyfence.EINTERNAL, "internal error"))
			}
			d := time.Since(start)
			s.metrics.observe(name, sw.status, d)
			s.log.Debug("http", "route", name, "status", sw.status, "ms", float64(d.Microseconds())/1000)
		}()
		if !rt.stream {
			r.Body = http.MaxBytesReader(sw, r.Body, MaxBodyBytes)
		}
		if !rt.public {
			p, err := s.authenticate(r)
			if err != nil {
				writeError(sw, err)
				return
			}
			r = r.WithContext(control.WithPrincipal(r.Context(), p))
		}
		if !rt.stream && r.Method != http.MethodGet {
			if err := jsonContent(r.Header.Get("Content-Type")); err != nil {
				writeError(sw, err)
				return
			}
		}
		if err := rt.h(sw, r); err != nil {
			if skyfence.ErrorCode(err) == skyfence.EINTERNAL {
				s.log.Error("httpapi: request failed", "route", name, "err", err)
			}
			writeError(sw, err)
		}
	})
}

// jsonContent checks the Content-Type of a request to a JSON route: JSON
// (application/json, in UTF-8 if a charset is named), or none at all.
func jsonContent(ct string) error {
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return skyfence.Errorf(skyfence.EUNSUPPORTED, "Content-Type %q: this route takes application/json", ct)
}

// authenticate reads "Authorization: Bearer <key>" (or X-API-Key). The
// scheme is case-insensitive (RFC 7235): "bearer" and "BEARER" are Bearer.
func (s *Server) authenticate(r *http.Request) (*control.Principal, error) {
	secret := r.Header.Get("X-API-Key")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, skyfence.Errorf(skyfence.EUNAUTHORIZED, "Authorization must be \"Bearer <API key>\"")
		}
		secret = strings.TrimSpace(token)
	}
	if secret == "" {
		return nil, skyfence.Errorf(skyfence.EUNAUTHORIZED, "authentication required: send \"Authorization: Bearer <API key>\"")
	}
	return s.svc.Authenticate(r.Context(), secret)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readiness(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		if err := s.ready(); err != nil {
			return skyfence.Errorf(skyfence.EUNAVAILABLE, "not ready: %v", err)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "policy": s.auth.Snapshot().Version})
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(OpenAPI)
	return err
}

// Routes lists the routes as "METHOD /pattern", for checking the OpenAPI
// document against them.
func Routes() []string {
	var out []string
	for _, rt := range (&Server{}).routeTable() {
		out = append(out, rt.method+" "+rt.pattern)
	}
	return out
}
