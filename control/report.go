package control

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/skyfence/skyfence"
)

// CutoffReport is the report for a regulator: the terminals cut off and
// reinstated in a period, by region and grounds, and the appeals. It is
// built from the audit log, so it says what the tamper-evident record says;
// it reads the period's entries of case actions and appeals only (the
// log is indexed by time and action).
type CutoffReport struct {
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	GeneratedAt time.Time   `json:"generated_at"`
	Cutoffs     []ReportRow `json:"cutoffs"`
	Reinstated  []ReportRow `json:"reinstatements"`
	Appeals     AppealCount `json:"appeals"`
	// NoticesWithheld counts actions whose account holders were not told,
	// each with a documented reason in the audit log.
	NoticesWithheld int `json:"notices_withheld"`
}

// ReportRow counts terminals by region, grounds and action.
type ReportRow struct {
	Region    string              `json:"region"`
	Grounds   skyfence.Grounds    `json:"grounds"`
	Action    skyfence.ActionKind `json:"action"`
	Terminals int                 `json:"terminals"`
	Actions   int                 `json:"actions"`
}

// AppealCount counts the appeals filed and decided in the period.
type AppealCount struct {
	Filed   int `json:"filed"`
	Granted int `json:"granted"`
	Denied  int `json:"denied"`
}

// actionRecord is what the audit log keeps of a case action (applyDue).
type actionRecord struct {
	Action   skyfence.ActionKind  `json:"action"`
	Grounds  skyfence.Grounds     `json:"grounds"`
	State    skyfence.ActionState `json:"action_state"`
	Regions  map[string]int       `json:"regions"`
	Withheld string               `json:"notice_withheld"`
	Granted  *bool                `json:"granted"`
}

// CutoffReport builds the regulator's report for [from, to).
func (s *Service) CutoffReport(ctx context.Context, from, to time.Time) (*CutoffReport, error) {
	if _, err := require(ctx, ReadReports); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "to", "the period ends before it starts")
	}
	r := &CutoffReport{From: from.UTC(), To: to.UTC(), GeneratedAt: s.now().UTC()}
	type key struct {
		region  string
		grounds skyfence.Grounds
		action  skyfence.ActionKind
	}
	cut, back := map[key]*ReportRow{}, map[key]*ReportRow{}
	q := skyfence.AuditQuery{Since: from, Until: to, Actions: []string{"case.appeal", "case.action", "case.approve_action", "case.appeal_decision"}}
	err := s.store.QueryAudit(ctx, q, func(e *skyfence.AuditEntry) error {
		var a actionRecord
		switch e.Action {
		case "case.appeal":
			r.Appeals.Filed++
			return nil
		case "case.action", "case.approve_action", "case.appeal_decision":
			if err := json.Unmarshal(e.Data, &a); err != nil {
				return skyfence.Errorf(skyfence.EINTERNAL, "audit entry %d: %v", e.Seq, err)
			}
		default:
			return nil
		}
		if a.Granted != nil {
			if *a.Granted {
				r.Appeals.Granted++
			} else {
				r.Appeals.Denied++
			}
		}
		if a.State != skyfence.ActionApplied || a.Action == skyfence.ActionWarn {
			return nil
		}
		if a.Withheld != "" {
			r.NoticesWithheld++
		}
		rows := back
		if a.Action.CutsOff() {
			rows = cut
		}
		for region, n := range a.Regions {
			k := key{region, a.Grounds, a.Action}
			row := rows[k]
			if row == nil {
				row = &ReportRow{Region: region, Grounds: a.Grounds, Action: a.Action}
				rows[k] = row
			}
			row.Terminals += n
			row.Actions++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Cutoffs, r.Reinstated = sortedRows(cut), sortedRows(back)
	return r, nil
}

func sortedRows[K comparable](m map[K]*ReportRow) []ReportRow {
	out := make([]ReportRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ReportRow) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Grounds, b.Grounds), cmp.Compare(a.Action, b.Action))
	})
	return out
}
