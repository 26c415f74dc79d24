package control

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// Transparency is the public transparency report: where service is
// restricted, since when, by which change, at whose request, and every
// request to change where service works, granted or not, with the
// rollbacks and why. It holds no personal data: no terminal, account, key
// or person.
type Transparency struct {
	GeneratedAt  time.Time     `json:"generated_at"`
	Policy       string        `json:"policy_version"`
	Restrictions []Restriction `json:"restrictions"`
	Requests     []Request     `json:"requests"`
	// OverdueReviews counts the emergency changes whose reviews are late
	// (Request.ReviewOverdue), in force or not, until two persons other
	// than the author have reviewed each.
	OverdueReviews int `json:"overdue_reviews"`
	// AuditCheckpoint is the audit log's latest signed checkpoint when
	// the report was made (a C2SP signed note; "" if it has none): what
	// the report was built from can be proved against it
	// (docs/AUDIT.md).
	AuditCheckpoint string `json:"audit_checkpoint"`
}

// Restriction is one measure in force that limits service somewhere.
type Restriction struct {
	Region   string `json:"region"`
	Name     string `json:"name"`
	Measure  string `json:"measure"` // in words, e.g. "embargoed", "no service", "speed cap 75 km/h"
	Rule     string `json:"rule"`
	Since    string `json:"since"` // when the change that brought it in took effect (RFC 3339), or "" if before the record
	ChangeID string `json:"change_id"`
	Title    string `json:"change_title"`
	Category string `json:"request_category"`
	// TerminalsAffected is how many terminals lost service by this
	// measure when it came in, per the change's impact preview (-1:
	// unknown).
	TerminalsAffected int `json:"terminals_affected"`
}

// Request is a policy change as the public sees it. A change is in force
// once, from InForce to Ended: a later rollback is a request of its own
// and changes neither.
type Request struct {
	ChangeID   string    `json:"change_id"`
	Title      string    `json:"title"`
	Requester  string    `json:"requester"` // the organisation that asked
	Category   string    `json:"category"`
	Outcome    string    `json:"outcome"` // the change's state: active, rejected, withdrawn, rolled_back...
	Emergency  bool      `json:"emergency"`
	Approvals  int       `json:"approvals"`
	ProposedAt time.Time `json:"proposed_at,omitzero"`
	InForce    time.Time `json:"in_force_at,omitzero"`
	Ended      time.Time `json:"ended_at,omitzero"`
	EndedBy    string    `json:"ended_by,omitempty"` // the change that took its place
	// RollsBack and Reason, for a rollback (or the return of the policy
	// before a change whose time limit ended): the change it undoes, and
	// why.
	RollsBack string `json:"rolls_back,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ReviewBy is when an emergency change's reviews are due;
	// ReviewOverdue says they are late and not all in.
	ReviewBy      time.Time `json:"review_by,omitzero"`
	ReviewOverdue bool      `json:"review_overdue,omitempty"`
}

// Transparency builds the report from the stored changes and the active
// policy. It needs no permission: it is public.
func (s *Service) Transparency(ctx context.Context) (*Transparency, error) {
	changes, err := allChanges(ctx, s.store, skyfence.ChangeFilter{})
	if err != nil {
		return nil, err
	}
	snap := s.auth.Snapshot()
	now := s.now().UTC()
	rep := &Transparency{GeneratedAt: now, Policy: snap.Version, Restrictions: []Restriction{}, Requests: []Request{}}
	switch cp, err := s.store.FindAuditCheckpoint(ctx, 0); {
	case err == nil:
		rep.AuditCheckpoint = string(cp.Note)
	case skyfence.ErrorCode(err) != skyfence.ENOTFOUND:
		return nil, err
	}
	// The versions that were in force, oldest first, with what each said.
	var history []*skyfence.PolicyChange
	for _, c := range changes {
		if !c.ActivatedAt.IsZero() {
			history = append(history, c)
		}
		if c.Author == System.Actor() && c.RollsBack == "" {
			continue // the initial policy is not a request
		}
		q := Request{ChangeID: c.ID, Title: c.Title, Requester: c.Requester, Category: string(c.Category),
			Outcome: string(c.State), Emergency: c.Emergency, Approvals: c.Approvals(), ProposedAt: c.ProposedAt, InForce: c.ActivatedAt,
			Ended: c.EndedAt, EndedBy: c.EndedBy, RollsBack: c.RollsBack, Reason: c.Reason, ReviewOverdue: c.Overdue(now, s.rules)}
		if c.Emergency {
			q.ReviewBy = c.ReviewBy
		}
		if q.ReviewOverdue {
			rep.OverdueReviews++
		}
		rep.Requests = append(rep.Requests, q)
	}
	slices.SortFunc(history, func(a, b *skyfence.PolicyChange) int { return a.ActivatedAt.Compare(b.ActivatedAt) })
	measures := make([]map[string]string, len(history))
	for i, c := range history {
		measures[i] = measuresOf(c)
	}
	for _, m := range s.currentMeasures(snap, now) {
		r := m
		r.TerminalsAffected = -1
		// Walk back while the same measure was in force.
		first := -1
		for i := len(history) - 1; i >= 0 && measures[i][r.Rule] == r.Measure; i-- {
			first = i
		}
		if l := licenceOf(snap, r.Region); strings.HasPrefix(r.Rule, "licence:") && l != nil && !l.ValidUntil.IsZero() {
			// A lapsed licence restricts by itself, from the day it ended.
			r.Since = l.ValidUntil.Format(time.RFC3339)
		} else if first >= 0 {
			c := history[first]
			r.Since, r.ChangeID, r.Title, r.Category = c.ActivatedAt.Format(time.RFC3339), c.ID, c.Title, string(c.Category)
			r.TerminalsAffected = lossesBy(c, r.Rule)
		}
		rep.Restrictions = append(rep.Restrictions, r)
	}
	return rep, nil
}

// currentMeasures lists what restricts service under snap at t.
func (s *Service) currentMeasures(snap *policy.Snapshot, t time.Time) []Restriction {
	var out []Restriction
	names := map[string]string{}
	for _, c := range s.atlas.Countries() {
		names[c.Code] = c.Name
	}
	for _, z := range snap.Source.Zones {
		names[policy.ZonePrefix+z.ID] = z.Name
	}
	for _, region := range snap.Regions() {
		st, ok := snap.StatusAt(region, t)
		if !ok || st.Status == policy.Available || !listed(snap, region) {
			continue
		}
		out = append(out, Restriction{Region: region, Name: names[region], Measure: string(st.Status), Rule: st.Rule})
	}
	for _, r := range snap.Source.Doc.Rules {
		if !r.ActiveAt(t) {
			continue
		}
		out = append(out, Restriction{Region: r.Region, Name: names[r.Region], Measure: describeRule(&r), Rule: r.ID})
	}
	return out
}

// licenceOf returns the licence the policy records for a region, or nil.
func licenceOf(snap *policy.Snapshot, region string) *policy.Licence {
	for _, r := range snap.Source.Doc.Regions {
		if r.Region == region {
			return r.Licence
		}
	}
	return nil
}

// listed reports whether the policy names the region (countries it does
// not list are not licensed by default, which is no measure of anyone's).
func listed(snap *policy.Snapshot, region string) bool {
	for _, r := range snap.Source.Doc.Regions {
		if r.Region == region {
			return true
		}
	}
	return false
}

// measuresOf returns what a stored change's policy said: rule id (or
// status rule) -> measure in words, as currentMeasures would say it.
func measuresOf(c *skyfence.PolicyChange) map[string]string {
	out := map[string]string{}
	if len(c.Files) == 0 {
		return out
	}
	doc, err := policy.Parse(c.Files[0].Data, c.Files[0].Name)
	if err != nil {
		return out
	}
	for _, r := range doc.Regions {
		if r.Status != "" {
			out["status:"+r.Region] = string(r.Status)
		}
	}
	for i := range doc.Rules {
		out[doc.Rules[i].ID] = describeRule(&doc.Rules[i])
	}
	return out
}

// describeRule says what a rule does, in words.
func describeRule(r *policy.Rule) string {
	var m string
	switch {
	case r.NoService:
		m = "no service"
	case r.RequireVerification != nil:
		m = "only terminals verified by " + r.RequireVerification.Authority
	case r.SpeedCapKmh != nil:
		m = fmt.Sprintf("speed cap %g km/h", *r.SpeedCapKmh)
	case r.AllowedPlans != nil:
		m = "plans allowed: " + strings.Join(r.AllowedPlans, ", ")
	case r.Roaming != nil:
		m = fmt.Sprintf("at most %d days abroad per trip", r.Roaming.MaxDaysAbroad)
	case r.Coastal != nil:
		m = fmt.Sprintf("coastal waters: %d days in a row, %d a year", r.Coastal.MaxConsecutiveDays, r.Coastal.MaxDaysPerYear)
	}
	if !r.Until.IsZero() {
		m += " until " + r.Until.Format(time.DateOnly)
	}
	return m
}

// lossesBy returns how many terminals a change's impact preview said would
// lose service by rule, or -1 if it has no preview.
func lossesBy(c *skyfence.PolicyChange, rule string) int {
	if len(c.Impact) == 0 {
		return -1
	}
	var imp policy.ImpactReport
	if err := json.Unmarshal(c.Impact, &imp); err != nil {
		return -1
	}
	n := 0
	for _, r := range imp.ByRule {
		if r.Rule == rule {
			n += r.Losses
		}
	}
	return n
}
