package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
)

// HTTP is a skyfence server reached over its HTTP API (docs/API.md) with an
// API key that may register terminals and send fixes (admin).
type HTTP struct {
	URL    string // the server's base URL, e.g. http://127.0.0.1:8080
	Key    string
	Client *http.Client
	// Conns is how many requests Register sends at once; default 8.
	Conns int
	// NotActivated counts the terminals Register could not activate (the
	// policy refused them where they were and at home): their fixes are
	// decided terminal_inactive.
	NotActivated atomic.Int64
}

// NewHTTP returns a target for the server at url.
func NewHTTP(url, key string) *HTTP {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	return &HTTP{URL: strings.TrimSuffix(url, "/"), Key: key, Client: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// Register creates the fleet's account (if missing) and, for each
// terminal, registers it, records its verification, and activates it at
// home (sim.Fleet.Home: where it was bought), or if the policy refuses
// that, where it is at the fleet's start. A terminal already registered is
// left as it is. The API has no
// bulk import: that is three or four requests per terminal.
func (h *HTTP) Register(ctx context.Context, f *sim.Fleet, log io.Writer) error {
	err := h.post(ctx, "/v1/accounts", map[string]string{"id": sim.Account, "name": "simulated fleet"}, nil)
	if err != nil && !isCode(err, "conflict") {
		return err
	}
	var next atomic.Int64
	var done atomic.Int64
	errs := make([]error, max(h.Conns, 8))
	start := time.Now()
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= f.Len() || ctx.Err() != nil {
					return
				}
				if errs[w] = h.register(ctx, f, i); errs[w] != nil {
					return
				}
				if n := done.Add(1); n%10000 == 0 && log != nil {
					fmt.Fprintf(log, "registered %d of %d terminals (%.0f/s)\n", n, f.Len(), float64(n)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if log != nil {
		fmt.Fprintf(log, "registered %d terminals in %.1f s; %d could not be activated\n", f.Len(), time.Since(start).Seconds(), h.NotActivated.Load())
	}
	return ctx.Err()
}

func (h *HTTP) register(ctx context.Context, f *sim.Fleet, i int) error {
	t := f.Terminal(i)
	err := h.post(ctx, "/v1/terminals", map[string]string{"id": t.ID, "account_id": t.AccountID, "plan": t.Plan, "country": t.Country}, nil)
	if isCode(err, "conflict") {
		return nil // registered by an earlier run
	}
	if err != nil {
		return err
	}
	for _, v := range t.Verifications {
		if err := h.post(ctx, "/v1/verifications", map[string]any{"terminal_id": t.ID, "region": v.Region, "authority": v.Authority, "class": v.Class}, nil); err != nil {
			return err
		}
	}
	spots := [][2]float64{f.Home(i)}
	if here, on := f.FixAt(i, f.Start()); on {
		spots = append(spots, [2]float64{here.Lat, here.Lon})
	}
	for _, p := range spots {
		var a struct {
			Outcome string `json:"outcome"`
		}
		err := h.post(ctx, "/v1/terminals/"+t.ID+"/activate", map[string]float64{"lat": p[0], "lon": p[1]}, &a)
		if e, ok := err.(*apiError); ok && e.Status == http.StatusConflict && e.Code == "" {
			continue // refused here by the policy
		}
		if err != nil {
			return err
		}
		if a.Outcome == "activated" {
			return nil
		}
		break // waitlisted: it stays inactive until there is room
	}
	h.NotActivated.Add(1)
	return nil
}

// apiError is an error answer of the API.
type apiError struct {
	Status int
	Code   string `json:"code"`
	Msg    string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

func isCode(err error, code string) bool {
	e, ok := err.(*apiError)
	return ok && e.Code == code
}

func (h *HTTP) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return h.do(ctx, path, body, out)
}

func (h *HTTP) do(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, "POST", h.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error apiError `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		e.Error.Status = resp.StatusCode
		if e.Error.Code == "" {
			e.Error.Msg = strings.TrimSpace(string(b))
		}
		return &e.Error
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// gatewayFix is f as a gateway says it: lat, lon to 6 decimals, altitude
// to the metre, speed to 0.1 km/h, in whole seconds.
func gatewayFix(f *skyfence.Fix) fixwire.Fix {
	round := func(v float64, decimals int) float64 {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
		return r
	}
	return fixwire.Fix{TerminalID: f.TerminalID, Time: f.Time.UTC().Truncate(time.Second), Lat: round(f.Lat, 6), Lon: round(f.Lon, 6),
		AltM: round(f.AltM, 0), SpeedKmh: round(f.SpeedKmh, 1)}
}

// Send posts the fixes to /v1/fixes in one batch.
func (h *HTTP) Send(ctx context.Context, fixes []skyfence.Fix, out []Outcome) error {
	wire := make([]fixwire.Fix, len(fixes))
	for i := range fixes {
		wire[i] = gatewayFix(&fixes[i])
	}
	body := fixwire.AppendJSONRequest(make([]byte, 0, 128*len(fixes)), "", wire)
	var res struct {
		Results []struct {
			Reason string          `json:"reason"`
			Error  json.RawMessage `json:"error"`
		} `json:"results"`
	}
	if err := h.do(ctx, "/v1/fixes", body, &res); err != nil {
		return err
	}
	if len(res.Results) != len(fixes) {
		return fmt.Errorf("replay: %d results for %d fixes", len(res.Results), len(fixes))
	}
	for i, r := range res.Results {
		if r.Error != nil {
			out[i] = Outcome{Refused: true}
			continue
		}
		reason, err := policy.ParseReason(r.Reason)
		if err != nil {
			return fmt.Errorf("replay: result %d: %v", i, err)
		}
		out[i] = Outcome{Reason: reason}
	}
	return nil
}
