package detect

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/skyfence/skyfence/policy"
)

// Detector names what raised an alert. The list is closed.
type Detector uint8

// Detectors.
const (
	// OriginDenied: repeated denied attempts in a restricted region
	// (embargoed, no service, verification required).
	OriginDenied Detector = iota
	// OriginPresence: sustained presence in a restricted region away from
	// the registered country, without a verification for it.
	OriginPresence
	// ImpossibleTravel: a move faster than the plan's ceiling.
	ImpossibleTravel
	// DroneMotion: sustained drone speed at low altitude with turns no
	// road vehicle makes, a loiter, or a take-off, on a plan that may not
	// fly.
	DroneMotion
	// PositionJump: out and back again faster than the plan's ceiling.
	PositionJump
	// ClonedPosition: the exact same position from many terminals.
	ClonedPosition
	// CellMismatch: a position far from the cell or beam said to serve it.
	CellMismatch
	// FutureTimestamp: a fix dated after it arrived.
	FutureTimestamp
	// Cluster: many unverified terminals in one small area of a
	// restricted region.
	Cluster
	numDetectors
)

// NumDetectors is how many detectors there are; they run from 0 to
// NumDetectors-1.
const NumDetectors = int(numDetectors)

var detectorNames = [numDetectors]string{
	"origin_denied", "origin_presence", "impossible_travel", "drone_motion", "position_jump",
	"cloned_position", "cell_mismatch", "future_timestamp", "cluster",
}

// summaries say what Alert.Value and Alert.Limit measure, detector by
// detector, unless the firing says otherwise (finding.format).
var summaries = [numDetectors]string{
	"%.0f denied attempts within the window (limit %.0f)",
	"%.1f h in a restricted region away from home, unverified (limit %.1f h)",
	"moved at %.0f km/h (plan ceiling %.0f km/h)",
	"%.0f sharp turns at drone speed and low altitude (limit %.0f)",
	"jumped %.0f km and back (limit %.0f km)",
	"exact position shared by %.0f terminals (limit %.0f)",
	"%.0f km from the centre of its serving cell (limit %.0f km)",
	"fix dated %.0f s after its arrival (limit %.0f s)",
	"%.0f unverified terminals in one grid cell (limit %.0f)",
}

func (d Detector) String() string {
	if d < numDetectors {
		return detectorNames[d]
	}
	return fmt.Sprintf("Detector(%d)", uint8(d))
}

// ParseDetector parses a detector's name.
func ParseDetector(s string) (Detector, error) {
	for i, n := range detectorNames {
		if n == s {
			return Detector(i), nil
		}
	}
	return 0, fmt.Errorf("detect: unknown detector %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (d Detector) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Detector) UnmarshalText(b []byte) error {
	v, err := ParseDetector(string(b))
	*d = v
	return err
}

// Severity ranks alerts for triage; it follows from the score.
type Severity uint8

// Severities.
const (
	Low    Severity = iota // score below 0.6
	Medium                 // score from 0.6
	High                   // score from 0.8
)

var severityNames = [...]string{"low", "medium", "high"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("detect: unknown severity %q", b)
}

func severityOf(score float64) Severity {
	switch {
	case score >= 0.8:
		return High
	case score >= 0.6:
		return Medium
	}
	return Low
}

// Alert is what a detector raised about a terminal. While it is open (it
// fired within Config.Cooldown) the same detector firing for the same
// terminal updates it: Count, LastSeen, Score (the highest seen), Value,
// Limit and Evidence.
type Alert struct {
	// ID is the same for the same terminal, detector and first fix, so that
	// a consumer can upsert alerts, and a replay gives the same ids.
	ID         string   `json:"id"`
	Detector   Detector `json:"detector"`
	TerminalID string   `json:"terminal_id"`
	Plan       string   `json:"plan"`
	Home       string   `json:"home"` // registered country
	Severity   Severity `json:"severity"`
	Score      float64  `json:"score"` // in [0, 1]
	// Count is how many times the detector fired while the alert was open.
	Count int `json:"count"`
	// FirstSeen and LastSeen are the times of the first and last fixes
	// that made the detector fire.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Value is what the detector measured the last time it fired and Limit
	// the threshold it exceeded, in the units Summary gives.
	Value   float64 `json:"value"`
	Limit   float64 `json:"limit"`
	Summary string  `json:"summary"`
	// Region is where the last firing fix was: the deciding rule's region
	// if any, else its country.
	Region string `json:"region,omitempty"`
	// Rule is the rule that decided the last firing fix, if any.
	Rule string `json:"rule,omitempty"`
	// Group names what the terminal shares with others for cloned_position
	// ("pos:LAT,LON") and cluster ("grid:LAT,LON"), and Related lists the
	// others (at most 31).
	Group   string   `json:"group,omitempty"`
	Related []string `json:"related,omitempty"`
	// Incident is the GNSS interference incident open where the terminal
	// was (by its network position) when the alert last fired, if any.
	// Explained is true if the incident explains the alert: the terminal
	// had jumped where it could not be, as every receiver around it did;
	// its score is then kept below medium (0.5 at most).
	Incident  string `json:"incident,omitempty"`
	Explained bool   `json:"explained,omitempty"`
	// Evidence holds the terminal's last moves when the alert opened and
	// each fix that fired it since, the last EvidenceMax of them, oldest
	// first.
	Evidence []Evidence `json:"evidence"`
}

// EvidenceMax is the most evidence an alert keeps.
const EvidenceMax = 16

// Evidence is one fix and what was decided for it. Rule, Region and Zones
// are kept only for the fixes that fired the detector; the earlier moves
// carry their position, time, country and reason.
type Evidence struct {
	Time     time.Time     `json:"time"`
	Lat      float64       `json:"lat"`
	Lon      float64       `json:"lon"`
	AltM     float64       `json:"alt_m"`
	SpeedKmh float64       `json:"speed_kmh"` // from the previous move, derived; -1 if none
	Cell     string        `json:"cell,omitempty"`
	Allow    bool          `json:"allow"`
	Reason   policy.Reason `json:"reason"`
	Country  string        `json:"country,omitempty"`
	Land     bool          `json:"land"`
	Rule     string        `json:"rule,omitempty"`
	Region   string        `json:"region,omitempty"`
	Zones    []string      `json:"zones,omitempty"`
	Fired    bool          `json:"fired"` // this fix fired the detector
}

// alertID is stable for a terminal, detector and first firing time.
func alertID(d Detector, terminal string, first int64) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", d, terminal, first)
	return "al_" + hex.EncodeToString(h.Sum(nil))
}

// openAlert is an alert while it may still be updated.
type openAlert struct {
	Alert
	format   string   // of Summary, for Value and Limit
	last     int64    // LastSeen, unix ns
	emitted  int64    // when last emitted, unix ns
	severity Severity // as last emitted
}

// alertKey names the open alert of one terminal (its slot) and detector.
type alertKey struct {
	slot int32
	det  Detector
}

// finding is one firing of a detector.
type finding struct {
	det          Detector
	score        float64 // clipped to [0, 1]
	value, limit float64
	group        *group // for cloned_position and cluster
	format       string // of the summary; summaries[det] if ""
}

// fire opens or updates the alert of slot si for f at time at, and emits
// it if it opened, its severity rose or it was last emitted UpdateEvery
// ago. tr is the terminal's own observation that fired, or nil when a
// group fires its members on another terminal's observation.
func (e *Engine) fire(si int32, f finding, at int64, tr *trigger) {
	if e.lim.disabled[f.det] {
		return
	}
	var ev *Evidence
	if tr != nil {
		x := tr.evidence()
		ev = &x
	}
	st := &e.states[si]
	key := alertKey{si, f.det}
	bit := uint16(1) << f.det
	var oa *openAlert
	if st.open&bit != 0 {
		oa = e.open[key]
		if at-oa.last > e.lim.cooldown {
			delete(e.open, key)
			st.open &^= bit
			oa = nil
		}
	}
	// Two decimals: enough to rank, and sums such as 0.4+0.2 land on the
	// severity thresholds exactly.
	score := math.Round(min(max(f.score, 0), 1)*100) / 100
	opened := oa == nil
	if opened {
		oa = &openAlert{Alert: Alert{
			ID: alertID(f.det, st.id, at), Detector: f.det, TerminalID: st.id, Plan: st.plan, Home: st.home,
			FirstSeen: time.Unix(0, at).UTC(), Evidence: e.history(st, ev),
		}}
		if f.group != nil {
			oa.Group = f.group.name(f.det, e.lim.clusterDeg)
		}
		e.open[key] = oa
		st.open |= bit
		e.stats.Alerts++
	} else {
		e.stats.Updates++
		if ev != nil {
			if len(oa.Evidence) == EvidenceMax {
				oa.Evidence = slices.Delete(oa.Evidence, 0, 1)
			}
			oa.Evidence = append(oa.Evidence, *ev)
		}
	}
	inc, explained := e.incidentOf(si, &f, at)
	if inc != "" {
		oa.Incident = inc
	}
	if explained && (opened || oa.Explained) {
		oa.Explained = true
		score = min(score, explainedScore)
	} else {
		oa.Explained = false
	}
	oa.Count++
	// A group fires its members at another terminal's time, which may be
	// a little behind theirs.
	oa.last = max(oa.last, at)
	oa.LastSeen = time.Unix(0, oa.last).UTC()
	oa.Score = max(oa.Score, score)
	oa.Severity = severityOf(oa.Score)
	oa.Value, oa.Limit, oa.format = f.value, f.limit, f.format
	if oa.format == "" {
		oa.format = summaries[f.det]
	}
	if ev != nil {
		oa.Region, oa.Rule = ev.Region, ev.Rule
		if oa.Region == "" {
			oa.Region = ev.Country
		}
	}
	if !opened && oa.Severity <= oa.severity && at-oa.emitted < e.lim.updateEvery {
		return
	}
	if f.group != nil {
		oa.Related = f.group.others(st.id, at, e.groupWindow(f.det))
	}
	e.out = append(e.out, oa.emit())
}

// emit returns a copy of the alert for the caller and notes that it was
// emitted.
func (oa *openAlert) emit() Alert {
	oa.emitted, oa.severity = oa.last, oa.Severity
	a := oa.Alert
	a.Summary = fmt.Sprintf(oa.format, a.Value, a.Limit)
	a.Related = slices.Clone(a.Related)
	a.Evidence = slices.Clone(a.Evidence)
	return a
}

// Flush returns every open alert updated since it was last emitted (the
// firings UpdateEvery held back), ordered by first seen, then id: what a
// consumer calls at the end of a stream, or now and then, to see the
// latest counts. The slice is reused as Process's is.
func (e *Engine) Flush() []Alert {
	e.out = e.out[:0]
	for _, oa := range e.open {
		if oa.emitted != oa.last {
			e.out = append(e.out, oa.emit())
		}
	}
	slices.SortFunc(e.out, func(a, b Alert) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return e.out
}

// history is the evidence an alert opens with: the terminal's last moves,
// then the firing fix (ev, if any) in place of its own move.
func (e *Engine) history(st *termState, ev *Evidence) []Evidence {
	out := make([]Evidence, 0, ringSize+1)
	for i := int(st.n) - 1; i >= 0; i-- {
		s := st.at(i)
		if ev != nil && i == 0 && s.t == ev.Time.UnixNano() {
			break
		}
		out = append(out, Evidence{
			Time: time.Unix(0, s.t).UTC(), Lat: s.lat, Lon: s.lon, AltM: float64(s.alt),
			SpeedKmh: float64(s.speed), Allow: s.flags&flagAllow != 0, Reason: s.reason,
			Country: e.countries.name(s.country), Land: s.flags&flagLand != 0,
		})
	}
	if ev != nil {
		out = append(out, *ev)
	}
	return out
}
