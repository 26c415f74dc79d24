package sqlstore

import (
	"context"
	"math"
	"time"

	"github.com/skyfence/skyfence"
)

// IncidentColumns are the columns of incidents, in the order of
// incidentRow and IncidentValues.
const IncidentColumns = `id, kind, state, start_at, end_at, opened_at, min_lat, min_lon, max_lat, max_lon, cells, terminals`

// IncidentUpsert ends an INSERT of incidents: an incident replaces the one
// stored with its id unless the stored one ends later (a version of it
// that detection replaced, written late, does not win over the newer).
const IncidentUpsert = `ON CONFLICT (id) DO UPDATE SET
	kind = excluded.kind, state = excluded.state, start_at = excluded.start_at, end_at = excluded.end_at,
	opened_at = excluded.opened_at, min_lat = excluded.min_lat, min_lon = excluded.min_lon,
	max_lat = excluded.max_lat, max_lon = excluded.max_lon, cells = excluded.cells, terminals = excluded.terminals
	WHERE incidents.end_at <= excluded.end_at`

// incidentRow is an incident as stored.
type incidentRow struct {
	i                 skyfence.Incident
	state             string
	start, end, opend int64
}

func (r *incidentRow) dest() []any {
	i := &r.i
	return []any{&i.ID, &i.Kind, &r.state, &r.start, &r.end, &r.opend, &i.MinLat, &i.MinLon, &i.MaxLat, &i.MaxLon, &i.Cells, &i.Terminals}
}

// incident returns the stored incident, times in UTC.
func (r *incidentRow) incident() *skyfence.Incident {
	i := r.i
	i.State = skyfence.IncidentState(r.state)
	i.Start, i.End, i.Opened = time.Unix(0, r.start).UTC(), time.Unix(0, r.end).UTC(), time.Unix(0, r.opend).UTC()
	return &i
}

// IncidentValues appends the values of IncidentColumns for i, which
// CheckIncident passed, to dst (a buffer to reuse, or nil) and returns it.
func IncidentValues(dst []any, i *skyfence.Incident) []any {
	return append(dst, i.ID, i.Kind, string(i.State), i.Start.UnixNano(), i.End.UnixNano(), i.Opened.UnixNano(),
		i.MinLat, i.MinLon, i.MaxLat, i.MaxLon, int32(i.Cells), int32(i.Terminals))
}

// CheckIncidents returns the error of CheckIncident for the first incident
// of a batch to save that it refuses.
func CheckIncidents(incidents []*skyfence.Incident) error {
	for n, i := range incidents {
		if err := CheckIncident(n, i); err != nil {
			return err
		}
	}
	return nil
}

// CheckIncident returns EINVALID for an incident the stores do not take:
// nil, without an id, in an unknown state, without a start, an end or an
// opening time, ending before it starts, with a time out of range, a
// coordinate that is not a number or counts beyond 32 bits. n is its place
// in its batch, for the message.
func CheckIncident(n int, i *skyfence.Incident) error {
	switch {
	case i == nil:
		return skyfence.Errorf(skyfence.EINVALID, "incident %d is nil", n)
	case i.ID == "":
		return skyfence.Errorf(skyfence.EINVALID, "incident %d: incident id is empty", n)
	case !i.State.Valid():
		return skyfence.Errorf(skyfence.EINVALID, "incident %q: unknown state %q (want one of %v)", i.ID, i.State, skyfence.IncidentStates)
	case i.Start.IsZero() || i.End.IsZero() || i.Opened.IsZero():
		return skyfence.Errorf(skyfence.EINVALID, "incident %q needs a start, an end and an opening time", i.ID)
	case i.End.Before(i.Start):
		return skyfence.Errorf(skyfence.EINVALID, "incident %q ends before it starts", i.ID)
	case math.IsNaN(i.MinLat) || math.IsNaN(i.MinLon) || math.IsNaN(i.MaxLat) || math.IsNaN(i.MaxLon):
		return skyfence.Errorf(skyfence.EINVALID, "incident %q has a NaN coordinate", i.ID)
	case i.Cells < 0 || i.Cells > math.MaxInt32 || i.Terminals < 0 || i.Terminals > math.MaxInt32:
		return skyfence.Errorf(skyfence.EINVALID, "incident %q: cells %d or terminals %d out of range", i.ID, i.Cells, i.Terminals)
	}
	return CheckTimes(i.Start, i.End, i.Opened)
}

// CheckIncidentFilter returns EINVALID, naming the field, for a filter the
// stores do not take: an unknown state, a time out of range, or To not
// after From.
func CheckIncidentFilter(f skyfence.IncidentFilter) error {
	if f.State != "" && !f.State.Valid() {
		return skyfence.FieldErrorf(skyfence.EINVALID, "state", "unknown incident state %q (want one of %v)", f.State, skyfence.IncidentStates)
	}
	return checkWindow(f.From, f.To, f.After)
}

// IncidentConds returns the conditions of the incidents f selects (f
// checked by CheckIncidentFilter).
func IncidentConds(f skyfence.IncidentFilter) []Cond {
	var out []Cond
	if f.State != "" {
		out = append(out, Cond{"state = ?", []any{string(f.State)}})
	}
	if !f.From.IsZero() {
		out = append(out, Cond{"end_at >= ?", []any{f.From.UnixNano()}})
	}
	if !f.To.IsZero() {
		out = append(out, Cond{"start_at < ?", []any{f.To.UnixNano()}})
	}
	if !f.After.IsZero() {
		out = append(out, after("start_at", f.After))
	}
	return out
}

// FindIncidents returns the incidents f selects, newest first (by Start,
// then by id, both descending), at most f.Limit of them (0: 100; over
// 1000: 1000), and the cursor of the next page (zero after the last).
func (r Reader) FindIncidents(ctx context.Context, f skyfence.IncidentFilter) ([]*skyfence.Incident, skyfence.Cursor, error) {
	var next skyfence.Cursor
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return nil, next, err
	}
	if err := CheckIncidentFilter(f); err != nil {
		return nil, next, err
	}
	var conds []string
	var args []any
	for _, c := range IncidentConds(f) {
		conds, args = append(conds, c.Expr), append(args, c.Args...)
	}
	is, err := list(ctx, r, "find incidents", `SELECT `+IncidentColumns+` FROM incidents`+where(conds)+` ORDER BY start_at DESC, id DESC LIMIT ?`,
		append(args, limit+1), func(scan func(...any) error) (*skyfence.Incident, error) {
			var row incidentRow
			err := scan(row.dest()...)
			return row.incident(), err
		})
	if err != nil {
		return nil, next, err
	}
	is, next = page(is, limit, (*skyfence.Incident).CursorAfter)
	return is, next, nil
}

// FindIncidentByID returns the incident, or ENOTFOUND.
func (r Reader) FindIncidentByID(ctx context.Context, id string) (*skyfence.Incident, error) {
	var row incidentRow
	if err := r.q.QueryRow(ctx, `SELECT `+IncidentColumns+` FROM incidents WHERE id = ?`, id).Scan(row.dest()...); err != nil {
		return nil, r.notFound(err, "incident", id)
	}
	return row.incident(), nil
}
