package control

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/zone"
)

// CaseInput opens an investigation of one terminal.
type CaseInput struct {
	TerminalID string   `json:"terminal_id"`
	Title      string   `json:"title"`
	AlertIDs   []string `json:"alert_ids"`
	Note       string   `json:"note"`
}

// OpenCase opens a case on a terminal, linking the alerts that raised the
// suspicion (they must be the terminal's).
func (s *Service) OpenCase(ctx context.Context, in CaseInput) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	if in.Title == "" {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "title", "a case needs a title")
	}
	t, err := s.store.FindTerminalByID(ctx, in.TerminalID)
	if err != nil {
		return nil, skyfence.FieldErrorf(skyfence.ErrorCode(err), "terminal_id", "%v", err)
	}
	if err := s.checkAlerts(ctx, t.ID, in.AlertIDs); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &skyfence.Case{
		ID: newID("case-"), Title: in.Title, State: skyfence.CaseOpen, TerminalID: t.ID, AccountID: t.AccountID,
		Region: s.regionOf(t.ID), OpenedBy: p.Actor(), Alerts: in.AlertIDs, CreatedAt: now, UpdatedAt: now,
	}
	if in.Note != "" {
		c.Notes = []skyfence.CaseNote{{By: p.Actor(), Text: in.Note, At: now}}
	}
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateCase(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, p, "case.open", c.ID, in.Title, map[string]any{"terminal": t.ID, "alerts": in.AlertIDs, "region": c.Region})
	})
	if err != nil {
		return nil, err
	}
	s.emit(bus.CaseChanged, c.ID, c)
	return c, nil
}

// checkAlerts returns EINVALID unless every id is a stored alert of the
// terminal.
func (s *Service) checkAlerts(ctx context.Context, terminal string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.flushAlerts(ctx); err != nil {
		return err
	}
	recs, _, err := s.store.FindAlerts(ctx, skyfence.AlertFilter{TerminalID: terminal, Limit: 1000})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(recs, func(r *skyfence.AlertRecord) bool { return r.ID == id }) {
			return skyfence.FieldErrorf(skyfence.EINVALID, "alert_ids", "no alert %q of terminal %q", id, terminal)
		}
	}
	return nil
}

// regionOf returns the country of a terminal's last decision, or "".
func (s *Service) regionOf(id string) string {
	st, err := s.State(WithPrincipal(context.Background(), System), id)
	if err != nil {
		return ""
	}
	return st.Country
}

// Cases lists cases, most recently updated first, a page at a time, and
// says where the next page starts (the zero cursor after the last).
func (s *Service) Cases(ctx context.Context, f skyfence.CaseFilter) ([]*skyfence.Case, skyfence.Cursor, error) {
	if _, err := require(ctx, ReadCases); err != nil {
		return nil, skyfence.Cursor{}, err
	}
	return s.store.FindCases(ctx, f)
}

// CaseView is a case with its evidence: the terminal's record and last
// state, and the linked alerts with the fixes that fired them (the track).
type CaseView struct {
	Case     *skyfence.Case `json:"case"`
	Evidence Evidence       `json:"evidence"`
}

// Evidence is what a case rests on.
type Evidence struct {
	Terminal *skyfence.Terminal      `json:"terminal,omitempty"`
	State    *skyfence.TerminalState `json:"state,omitempty"`
	Alerts   []detect.Alert          `json:"alerts"`
}

// Case returns a case with its evidence.
func (s *Service) Case(ctx context.Context, id string) (*CaseView, error) {
	if _, err := require(ctx, ReadCases); err != nil {
		return nil, err
	}
	c, err := s.store.FindCaseByID(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &CaseView{Case: c, Evidence: Evidence{Alerts: []detect.Alert{}}}
	if c.TerminalID == "" {
		return v, nil
	}
	if v.Evidence.Terminal, err = s.store.FindTerminalByID(ctx, c.TerminalID); err != nil {
		return nil, err
	}
	if st, err := s.State(WithPrincipal(ctx, System), c.TerminalID); err == nil {
		v.Evidence.State = st
	}
	if len(c.Alerts) > 0 {
		all, _, err := s.Alerts(WithPrincipal(ctx, System), skyfence.AlertFilter{TerminalID: c.TerminalID, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, a := range all {
			if slices.Contains(c.Alerts, a.ID) {
				v.Evidence.Alerts = append(v.Evidence.Alerts, a)
			}
		}
	}
	return v, nil
}

// updateCase loads a case, applies fn and stores it with an audit entry in
// one transaction; after the commit it publishes the case and the records
// of the terminals fn changed.
func (s *Service) updateCase(ctx context.Context, p *Principal, id, action, reason string,
	fn func(c *skyfence.Case, tx skyfence.Tx) (data map[string]any, changed []*skyfence.Terminal, err error)) (*skyfence.Case, error) {
	var c *skyfence.Case
	var changed []*skyfence.Terminal
	err := s.store.Tx(ctx, func(tx skyfence.Tx) error {
		var err error
		if c, err = tx.FindCaseByID(ctx, id); err != nil {
			return err
		}
		var data map[string]any
		if data, changed, err = fn(c, tx); err != nil {
			return err
		}
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		if data == nil {
			data = map[string]any{}
		}
		data["state"], data["terminal"] = c.State, c.TerminalID
		return audit(ctx, tx, p, action, c.ID, reason, data)
	})
	if err != nil {
		return nil, err
	}
	for _, t := range changed {
		s.publish(t)
	}
	s.emit(bus.CaseChanged, c.ID, c)
	return c, nil
}

// AssignCase gives a case to a person.
func (s *Service) AssignCase(ctx context.Context, id, person string) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	return s.updateCase(ctx, p, id, "case.assign", "", func(c *skyfence.Case, _ skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		return map[string]any{"assignee": person}, nil, c.Assign(person, s.now().UTC())
	})
}

// NoteCase adds an investigator's note to a case.
func (s *Service) NoteCase(ctx context.Context, id, text string) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	return s.updateCase(ctx, p, id, "case.note", text, func(c *skyfence.Case, _ skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		return nil, nil, c.AddNote(skyfence.CaseNote{By: p.Actor(), Text: text, At: s.now().UTC()})
	})
}

// CloseCase ends a case with how it ended.
func (s *Service) CloseCase(ctx context.Context, id, resolution string) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	return s.updateCase(ctx, p, id, "case.close", resolution, func(c *skyfence.Case, _ skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		err := c.Close(resolution, s.now().UTC())
		return map[string]any{"label": c.Label}, nil, err
	})
}

// ActionInput is an investigator's action on a case.
type ActionInput struct {
	Action  skyfence.ActionKind `json:"action"`
	Grounds skyfence.Grounds    `json:"grounds"`
	Reason  string              `json:"reason"`
	// Notice is what the account holder is told, in words they can read;
	// a cut-off or warning needs one unless WithholdNotice documents why
	// the holder is not told.
	Notice         string `json:"notice"`
	WithholdNotice string `json:"withhold_notice"`
	// Grace delays the action's effect (a cut-off announced ahead).
	Grace Duration `json:"grace"`
}

// Duration is an action's grace period, written as "36h" in JSON.
type Duration time.Duration

// UnmarshalJSON reads a duration in Go's notation ("90m", "24h"); its
// error names the field "grace".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return skyfence.FieldErrorf(skyfence.EINVALID, "grace", "a grace period is a string like \"24h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return skyfence.FieldErrorf(skyfence.EINVALID, "grace", "%q is not a grace period like \"24h\"", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as "24h0m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ActOnCase takes an action on a case: warn, suspend, deactivate, clear or
// reinstate. The action is audited with who took it and why, the account
// holder gets the notice (unless withheld with a documented reason), and a
// cut-off takes effect on the next decision for the terminal, or after the
// grace period. A bulk case's cut-off waits for approvals (ReviewAction).
func (s *Service) ActOnCase(ctx context.Context, id string, in ActionInput) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c, err := s.updateCase(ctx, p, id, "case.action", in.Reason, func(c *skyfence.Case, tx skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		a, err := s.newAction(c, p, in, now)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case c.Bulk != nil:
			a.Terminals, a.State = bulkTerminals(c), skyfence.ActionPending
		case c.TerminalID != "":
			a.Terminals = []string{c.TerminalID}
		}
		if a.Kind == skyfence.ActionReinstate || a.Kind == skyfence.ActionClear {
			if err := s.checkReinstate(c, &a); err != nil {
				return nil, nil, err
			}
		}
		c.Actions = append(c.Actions, a)
		return s.applyDue(ctx, tx, p, c, now)
	})
	if err != nil {
		return nil, err
	}
	s.emitCutoffs(ctx, c.ID, &c.Actions[len(c.Actions)-1])
	return c, nil
}

// newAction makes the next action of case c from the investigator's input,
// scheduled (at once, or after its grace period), checked against the
// case, with the account holder's notice.
func (s *Service) newAction(c *skyfence.Case, p *Principal, in ActionInput, now time.Time) (skyfence.CaseAction, error) {
	a := skyfence.CaseAction{
		ID: fmt.Sprintf("act-%d", len(c.Actions)+1), Kind: in.Action, State: skyfence.ActionScheduled, Grounds: in.Grounds,
		Reason: in.Reason, By: p.Actor(), At: now, EffectiveAt: now.Add(time.Duration(in.Grace)),
	}
	if a.Grounds == "" {
		a.Grounds = defaultGrounds(in.Action)
	}
	if err := c.CheckAction(&a); err != nil {
		return a, err
	}
	return a, s.checkNotice(c, &a, in, now)
}

// defaultGrounds is the grounds of an action that need not name them.
func defaultGrounds(k skyfence.ActionKind) skyfence.Grounds {
	switch k {
	case skyfence.ActionClear:
		return skyfence.GroundsFalsePositive
	case skyfence.ActionReinstate:
		return skyfence.GroundsReview
	}
	return ""
}

// checkNotice attaches the account holder's notice to a, or refuses an
// action that cuts off or warns without one and without a documented
// exception.
func (s *Service) checkNotice(c *skyfence.Case, a *skyfence.CaseAction, in ActionInput, now time.Time) error {
	needs := a.Kind.CutsOff() || a.Kind == skyfence.ActionWarn
	switch {
	case in.Notice == "" && in.WithholdNotice == "" && needs:
		return skyfence.FieldErrorf(skyfence.EINVALID, "notice",
			"a %s needs a notice the account holder can read, or withhold_notice with the documented reason they are not told", a.Kind)
	case in.Notice == "" && in.WithholdNotice == "":
		return nil
	}
	a.Notice = &skyfence.Notice{AccountID: c.AccountID, Text: in.Notice, Withheld: in.WithholdNotice, At: now}
	return nil
}

// checkReinstate refuses to give back service the case did not take.
func (s *Service) checkReinstate(c *skyfence.Case, a *skyfence.CaseAction) error {
	cut := c.CutOff()
	if a.Kind == skyfence.ActionReinstate && (cut == nil || cut.Kind != skyfence.ActionSuspend) {
		return skyfence.Errorf(skyfence.ECONFLICT, "case %s suspended nothing: there is nothing to reinstate (a deactivation is for good)", c.ID)
	}
	if cut != nil && cut.Kind == skyfence.ActionSuspend {
		a.Terminals = cut.Terminals
	} else {
		a.Terminals = nil // clearing a case that cut nothing off changes no terminal
	}
	return nil
}

// bulkTerminals returns the terminals a bulk case selected when it was
// proposed: those of its first action.
func bulkTerminals(c *skyfence.Case) []string {
	if len(c.Actions) > 0 {
		return c.Actions[0].Terminals
	}
	return nil
}

// applyDue applies the case's scheduled action if its time has come: the
// terminals' statuses change in tx, and the audit data says what happened
// where (the regulator's report counts it).
func (s *Service) applyDue(ctx context.Context, tx skyfence.Tx, p *Principal, c *skyfence.Case, now time.Time) (map[string]any, []*skyfence.Terminal, error) {
	a := c.Pending()
	if a == nil {
		return nil, nil, nil
	}
	data := map[string]any{"action": a.Kind, "action_id": a.ID, "grounds": a.Grounds, "action_state": a.State,
		"effective_at": a.EffectiveAt, "terminals": len(a.Terminals)}
	if a.Notice != nil {
		data["notified"] = a.Notice.Withheld == ""
		if a.Notice.Withheld != "" {
			data["notice_withheld"] = a.Notice.Withheld
		}
	}
	if a.State != skyfence.ActionScheduled || now.Before(a.EffectiveAt) {
		return data, nil, nil
	}
	var to skyfence.TerminalStatus
	switch a.Kind {
	case skyfence.ActionSuspend:
		to = skyfence.Suspended
	case skyfence.ActionDeactivate:
		to = skyfence.Deactivated
	case skyfence.ActionReinstate, skyfence.ActionClear:
		to = skyfence.Active
	}
	var changed []*skyfence.Terminal
	regions := map[string]int{}
	if a.Kind != skyfence.ActionWarn {
		for _, id := range a.Terminals {
			out, promoted, err := s.setStatusTx(ctx, tx, p, id, to, "case "+c.ID+": "+a.Reason)
			switch {
			case skyfence.ErrorCode(err) == skyfence.ECONFLICT && c.Bulk != nil:
				continue // deactivated meanwhile: a bulk action skips it
			case err != nil:
				return nil, nil, fmt.Errorf("terminal %s: %w", id, err)
			case out == nil:
				continue // already in that status
			}
			changed = append(changed, out)
			if promoted != nil {
				changed = append(changed, promoted)
			}
			// A suspended terminal's decisions name no country: fall back
			// to where the case placed it.
			regions[cmp.Or(s.regionOf(id), c.Region, "unknown")]++
		}
	}
	c.Applied(a, now)
	data["action_state"], data["applied"], data["regions"] = a.State, len(changed), regions
	return data, changed, nil
}

// ApplyDueActions applies the case actions whose grace period has ended;
// the server calls it with Tick.
func (s *Service) ApplyDueActions(ctx context.Context) error {
	now := s.now().UTC()
	// Up to a page a call: what is left is applied at the next Tick.
	cases, _, err := s.store.FindCases(ctx, skyfence.CaseFilter{DueBy: now, Limit: 1000})
	if err != nil {
		return err
	}
	for _, c := range cases {
		a := c.Pending()
		if a == nil || a.State != skyfence.ActionScheduled || now.Before(a.EffectiveAt) {
			continue // changed since it was listed
		}
		id := a.ID
		done, err := s.updateCase(ctx, System, c.ID, "case.action", "grace period ended",
			func(c *skyfence.Case, tx skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
				return s.applyDue(ctx, tx, System, c, now)
			})
		if err != nil {
			return fmt.Errorf("case %s: %w", c.ID, err)
		}
		s.emitCutoffs(ctx, done.ID, done.Action(id))
	}
	return nil
}

// CancelAction cancels a case's action still waiting for approvals or its
// grace period.
func (s *Service) CancelAction(ctx context.Context, id, reason string) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "reason", "a cancellation needs a reason")
	}
	return s.updateCase(ctx, p, id, "case.cancel", reason, func(c *skyfence.Case, _ skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		a := c.Pending()
		if a == nil {
			return nil, nil, skyfence.Errorf(skyfence.ECONFLICT, "case %s has no action waiting", c.ID)
		}
		a.State, c.UpdatedAt = skyfence.ActionCancelled, s.now().UTC()
		return map[string]any{"action_id": a.ID, "action": a.Kind}, nil, nil
	})
}

// FileAppeal records the account holder's appeal of a case's cut-off (taken
// by support on their behalf).
func (s *Service) FileAppeal(ctx context.Context, id, statement string) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	return s.updateCase(ctx, p, id, "case.appeal", statement, func(c *skyfence.Case, _ skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		err := c.FileAppeal(skyfence.Appeal{Statement: statement, FiledBy: p.Actor(), FiledAt: s.now().UTC()})
		return map[string]any{"region": c.Region}, nil, err
	})
}

// DecideAppeal records the decision on a case's open appeal; granting it
// reinstates the suspended terminal in the same step. The person who cut
// the terminal off may not decide.
func (s *Service) DecideAppeal(ctx context.Context, id string, grant bool, reason string) (*skyfence.Case, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c, err := s.updateCase(ctx, p, id, "case.appeal_decision", reason, func(c *skyfence.Case, tx skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		if _, err := c.DecideAppeal(p.Actor(), grant, reason, now); err != nil {
			return nil, nil, err
		}
		data := map[string]any{"granted": grant, "region": c.Region}
		if !grant {
			return data, nil, nil
		}
		a := skyfence.CaseAction{ID: fmt.Sprintf("act-%d", len(c.Actions)+1), Kind: skyfence.ActionReinstate, State: skyfence.ActionScheduled,
			Grounds: skyfence.GroundsAppealGranted, Reason: reason, By: p.Actor(), At: now, EffectiveAt: now}
		if err := s.checkReinstate(c, &a); err != nil {
			return nil, nil, err
		}
		c.Actions = append(c.Actions, a)
		applied, changed, err := s.applyDue(ctx, tx, p, c, now)
		for k, v := range applied {
			data[k] = v
		}
		return data, changed, err
	})
	if err == nil && grant {
		s.emitCutoffs(ctx, c.ID, &c.Actions[len(c.Actions)-1])
	}
	return c, err
}

// emitCutoffs publishes a bus.Cutoff event per terminal of an applied
// action that took service away or gave it back, with the audit entry
// that records it and its inclusion proof (audit_receipt), so that the
// account holder can prove later what was decided and when.
func (s *Service) emitCutoffs(ctx context.Context, caseID string, a *skyfence.CaseAction) {
	if a.State != skyfence.ActionApplied || a.Kind == skyfence.ActionWarn {
		return
	}
	receipt, err := s.auditReceipt(ctx, caseID, a.ID)
	if err != nil {
		s.log.Warn("cut-off notice without its audit receipt", "case", caseID, "action", a.ID, "err", err)
	}
	for _, t := range a.Terminals {
		s.emit(bus.Cutoff, t, map[string]any{"terminal_id": t, "case_id": caseID, "action": a.Kind,
			"grounds": a.Grounds, "service": !a.Kind.CutsOff(), "notice": a.Notice, "audit_receipt": receipt})
	}
}

// ReviewAction records an approver's verdict on a bulk case's pending
// action, under the two-person rule of policy changes; the approval that
// completes it applies it (or schedules it, after a grace period).
func (s *Service) ReviewAction(ctx context.Context, id string, approve bool, comment string) (*skyfence.Case, error) {
	p, err := require(ctx, ReviewCutoffs)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	action := "case.reject_action"
	if approve {
		action = "case.approve_action"
	}
	var applied *skyfence.CaseAction
	c, err := s.updateCase(ctx, p, id, action, comment, func(c *skyfence.Case, tx skyfence.Tx) (map[string]any, []*skyfence.Terminal, error) {
		a := c.Pending()
		if a == nil {
			return nil, nil, skyfence.Errorf(skyfence.ECONFLICT, "case %s has no action waiting for review", c.ID)
		}
		approved, err := a.Review(skyfence.Review{By: p.Actor(), Approve: approve, Comment: comment, At: now}, s.rules)
		if err != nil {
			return nil, nil, err
		}
		c.UpdatedAt = now
		if !approved {
			return map[string]any{"action_id": a.ID, "action_state": a.State}, nil, nil
		}
		applied = a
		return s.applyDue(ctx, tx, p, c, now)
	})
	if err == nil && applied != nil {
		s.emitCutoffs(ctx, c.ID, c.Action(applied.ID))
	}
	return c, err
}

// BulkInput proposes cutting off every terminal a selection holds.
type BulkInput struct {
	Title     string                 `json:"title"`
	Selection skyfence.BulkSelection `json:"selection"`
	ActionInput
}

// BulkImpact is what a bulk cut-off would do, shown before anyone approves
// it.
type BulkImpact struct {
	Terminals int            `json:"terminals"`
	ByCountry map[string]int `json:"by_country"`
	ByPlan    map[string]int `json:"by_plan"`
	Verified  int            `json:"verified"` // of them, holding a verification valid where they are
	Accounts  int            `json:"accounts"`
	Sample    []string       `json:"sample"` // the first terminals by id
	ids       []string       // all of them, by id
}

// PreviewBulk returns what a bulk cut-off with the selection would do.
func (s *Service) PreviewBulk(ctx context.Context, sel skyfence.BulkSelection) (*BulkImpact, error) {
	if _, err := require(ctx, ReadCases); err != nil {
		return nil, err
	}
	return s.selectBulk(sel)
}

// selectBulk runs the selection over every terminal's last known position.
func (s *Service) selectBulk(sel skyfence.BulkSelection) (*BulkImpact, error) {
	snap := s.auth.Snapshot()
	switch {
	case sel.Zone == "" && sel.Country == "":
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "selection", "a bulk cut-off selects by zone or country")
	case sel.Zone != "" && !slices.ContainsFunc(snap.Source.Zones, func(z zone.Zone) bool { return z.ID == sel.Zone }):
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "selection.zone", "the active policy has no zone %q", sel.Zone)
	}
	imp := &BulkImpact{ByCountry: map[string]int{}, ByPlan: map[string]int{}}
	accounts := map[string]bool{}
	now := s.now()
	s.auth.ForEachState(func(t *skyfence.Terminal, last *skyfence.Fix, _ *policy.Decision) bool {
		if last == nil || t.Status == skyfence.Deactivated || sel.Plan != "" && t.Plan != sel.Plan ||
			sel.AccountID != "" && t.AccountID != sel.AccountID {
			return true
		}
		d := snap.Decide(t, nil, *last)
		if sel.Country != "" && d.Country != sel.Country || sel.Zone != "" && !slices.Contains(d.Zones, sel.Zone) {
			return true
		}
		verified := slices.ContainsFunc(t.Verifications, func(v skyfence.Verification) bool {
			return v.Region == d.Country && v.ValidAt(now)
		})
		if sel.Unverified && verified {
			return true
		}
		imp.ids = append(imp.ids, t.ID)
		imp.ByCountry[cmp.Or(d.Country, "sea")]++
		imp.ByPlan[t.Plan]++
		accounts[t.AccountID] = true
		if verified {
			imp.Verified++
		}
		return true
	})
	slices.Sort(imp.ids)
	imp.Terminals, imp.Accounts = len(imp.ids), len(accounts)
	imp.Sample = imp.ids[:min(len(imp.ids), 20)]
	if imp.Sample == nil {
		imp.Sample = []string{} // an empty sample is [], never null
	}
	return imp, nil
}

// ProposeBulkCutoff opens a bulk case: its selection's impact is computed
// now and kept with it, and its cut-off waits for approvals by persons
// other than the proposer, as a policy change does.
func (s *Service) ProposeBulkCutoff(ctx context.Context, in BulkInput) (*skyfence.Case, *BulkImpact, error) {
	p, err := require(ctx, WorkCases)
	if err != nil {
		return nil, nil, err
	}
	if in.Title == "" {
		return nil, nil, skyfence.FieldErrorf(skyfence.EINVALID, "title", "a bulk cut-off needs a title")
	}
	if !in.Action.CutsOff() {
		return nil, nil, skyfence.FieldErrorf(skyfence.EINVALID, "action", "a bulk cut-off suspends or deactivates, not %q", in.Action)
	}
	imp, err := s.selectBulk(in.Selection)
	if err != nil {
		return nil, nil, err
	}
	if imp.Terminals == 0 {
		return nil, nil, skyfence.FieldErrorf(skyfence.EINVALID, "selection", "the selection holds no terminal")
	}
	now := s.now().UTC()
	sel := in.Selection
	c := &skyfence.Case{ID: newID("case-"), Title: in.Title, State: skyfence.CaseInvestigating, Bulk: &sel,
		Region: cmp.Or(sel.Country, sel.Zone), OpenedBy: p.Actor(), Assignee: p.Person, CreatedAt: now, UpdatedAt: now}
	a, err := s.newAction(c, p, in.ActionInput, now)
	if err != nil {
		return nil, nil, err
	}
	a.State, a.Terminals = skyfence.ActionPending, imp.ids
	c.Actions = []skyfence.CaseAction{a}
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateCase(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, p, "case.bulk_propose", c.ID, in.Reason, map[string]any{"selection": sel, "action": a.Kind,
			"grounds": a.Grounds, "terminals": imp.Terminals, "by_country": imp.ByCountry, "verified": imp.Verified})
	})
	if err != nil {
		return nil, nil, err
	}
	s.emit(bus.CaseChanged, c.ID, c)
	return c, imp, nil
}
