package sqlstore

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
)

// AlertColumns are the columns of alerts, in the order of alertRow and
// AlertValues.
const AlertColumns = `id, terminal_id, detector, severity, score, first_seen, last_seen, region, incident, explained, data`

// AlertUpsert ends an INSERT of alerts: an alert replaces the one stored
// with its id.
const AlertUpsert = `ON CONFLICT (id) DO UPDATE SET
	terminal_id = excluded.terminal_id, detector = excluded.detector, severity = excluded.severity,
	score = excluded.score, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
	region = excluded.region, incident = excluded.incident, explained = excluded.explained, data = excluded.data`

// alertRow is an alert as stored.
type alertRow struct {
	a                   skyfence.AlertRecord
	firstSeen, lastSeen NullNanos
}

func (r *alertRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.TerminalID, &a.Detector, &a.Severity, &a.Score, &r.firstSeen, &r.lastSeen, &a.Region, &a.Incident, &a.Explained, &a.Data}
}

// alert returns the stored alert: times in UTC, empty data nil.
func (r *alertRow) alert() *skyfence.AlertRecord {
	a := r.a
	a.FirstSeen, a.LastSeen = r.firstSeen.Time(), r.lastSeen.Time()
	if len(a.Data) == 0 {
		a.Data = nil
	}
	return &a
}

// AlertValues appends the values of AlertColumns for a, which CheckAlert
// passed, to dst (a buffer to reuse, or nil) and returns it. Data is stored
// byte for byte, nil as empty (the column is NOT NULL).
func AlertValues(dst []any, a *skyfence.AlertRecord) []any {
	data := a.Data
	if data == nil {
		data = []byte{}
	}
	return append(dst, a.ID, a.TerminalID, a.Detector, int32(a.Severity), a.Score, Nanos(a.FirstSeen), Nanos(a.LastSeen), a.Region, a.Incident, a.Explained, data)
}

// CheckAlertFilter returns EINVALID, naming the field, for a filter the
// stores do not take: a severity beyond 32 bits, a time out of range, or
// To not after From.
func CheckAlertFilter(f skyfence.AlertFilter) error {
	for _, v := range f.Severities {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return skyfence.FieldErrorf(skyfence.EINVALID, "severity", "severity %d is out of range", v)
		}
	}
	return checkWindow(f.From, f.To, f.After)
}

// checkWindow checks the time bounds and the cursor of a filter.
func checkWindow(from, to time.Time, after skyfence.Cursor) error {
	for _, c := range []struct {
		field string
		t     time.Time
	}{{"from", from}, {"to", to}, {"cursor", after.At}} {
		if !TimeFits(c.t) {
			return skyfence.FieldErrorf(skyfence.EINVALID, c.field, "time %s is out of range (years 1678 to 2262)", c.t.UTC().Format(time.RFC3339Nano))
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return skyfence.FieldErrorf(skyfence.EINVALID, "to", "to %s is not after from %s", to.UTC().Format(time.RFC3339Nano), from.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// AlertConds returns the conditions of the alerts f selects (the columns
// of the alerts table; f checked by CheckAlertFilter).
func AlertConds(f skyfence.AlertFilter) []Cond {
	var out []Cond
	for _, c := range []struct{ col, v string }{
		{"terminal_id", f.TerminalID}, {"detector", f.Detector}, {"region", f.Region}, {"incident", f.Incident},
	} {
		if c.v != "" {
			out = append(out, Cond{c.col + " = ?", []any{c.v}})
		}
	}
	if f.Explained != nil {
		out = append(out, Cond{"explained = ?", []any{*f.Explained}})
	}
	if len(f.Severities) > 0 {
		args := make([]any, len(f.Severities))
		for i, v := range f.Severities {
			args[i] = int32(v)
		}
		out = append(out, Cond{"severity IN (" + strings.Repeat("?, ", len(args)-1) + "?)", args})
	}
	if !f.From.IsZero() {
		out = append(out, Cond{"last_seen >= ?", []any{f.From.UnixNano()}})
	}
	if !f.To.IsZero() {
		out = append(out, Cond{"COALESCE(first_seen, last_seen) < ?", []any{f.To.UnixNano()}})
	}
	if !f.After.IsZero() {
		out = append(out, after("last_seen", f.After))
	}
	return out
}

// FindAlerts returns the alerts f selects, most recently seen first (by
// LastSeen, then by id, both descending), at most f.Limit of them (0: 100;
// over 1000: 1000), and the cursor of the next page (zero after the last).
// EINVALID for a negative limit or as CheckAlertFilter says.
func (r Reader) FindAlerts(ctx context.Context, f skyfence.AlertFilter) ([]*skyfence.AlertRecord, skyfence.Cursor, error) {
	var next skyfence.Cursor
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return nil, next, err
	}
	if err := CheckAlertFilter(f); err != nil {
		return nil, next, err
	}
	var conds []string
	var args []any
	for _, c := range AlertConds(f) {
		conds, args = append(conds, c.Expr), append(args, c.Args...)
	}
	as, err := list(ctx, r, "find alerts", `SELECT `+AlertColumns+` FROM alerts`+where(conds)+` ORDER BY last_seen DESC, id DESC LIMIT ?`,
		append(args, limit+1), func(scan func(...any) error) (*skyfence.AlertRecord, error) {
			var row alertRow
			err := scan(row.dest()...)
			return row.alert(), err
		})
	if err != nil {
		return nil, next, err
	}
	as, next = page(as, limit, (*skyfence.AlertRecord).CursorAfter)
	return as, next, nil
}
