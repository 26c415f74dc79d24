package skyfence

import (
	"slices"
	"time"
)

// CaseState is where an investigation is:
//
//	open -> investigating -> actioned -> closed
//	open, investigating -> closed (cleared, or nothing to act on)
//	actioned -> closed (cleared on appeal, or done)
type CaseState string

// Case states.
const (
	CaseOpen          CaseState = "open"
	CaseInvestigating CaseState = "investigating"
	CaseActioned      CaseState = "actioned"
	CaseClosed        CaseState = "closed"
)

// CaseStates lists every case state.
var CaseStates = []CaseState{CaseOpen, CaseInvestigating, CaseActioned, CaseClosed}

// Valid reports whether s is one of CaseStates.
func (s CaseState) Valid() bool { return slices.Contains(CaseStates, s) }

// ActionKind is what an investigator does about a case.
type ActionKind string

// Case actions. Suspend and deactivate cut the terminal off (deactivation
// for good); warn only notifies the account holder; clear ends the case as
// a false positive (reinstating a terminal the case suspended); reinstate
// gives a suspended terminal its service back.
const (
	ActionWarn       ActionKind = "warn"
	ActionSuspend    ActionKind = "suspend"
	ActionDeactivate ActionKind = "deactivate"
	ActionClear      ActionKind = "clear"
	ActionReinstate  ActionKind = "reinstate"
)

// ActionKinds lists every action.
var ActionKinds = []ActionKind{ActionWarn, ActionSuspend, ActionDeactivate, ActionClear, ActionReinstate}

// Valid reports whether k is one of ActionKinds.
func (k ActionKind) Valid() bool { return slices.Contains(ActionKinds, k) }

// CutsOff reports whether the action takes service away.
func (k ActionKind) CutsOff() bool { return k == ActionSuspend || k == ActionDeactivate }

// Grounds is why a terminal was cut off, in the closed list a regulator's
// report counts by.
type Grounds string

// The grounds for an action.
const (
	GroundsUnauthorizedRegion Grounds = "unauthorized_region" // used where it is not licensed or verified
	GroundsSmuggling          Grounds = "smuggling"           // sold or carried through a third country
	GroundsDrone              Grounds = "drone"               // flown on an unmanned aircraft
	GroundsSpoofing           Grounds = "spoofing"            // false or cloned positions
	GroundsSanctions          Grounds = "sanctions"           // a sanctioned person or embargoed region
	GroundsCourtOrder         Grounds = "court_order"
	GroundsTerms              Grounds = "terms"          // other breach of the terms of service
	GroundsFalsePositive      Grounds = "false_positive" // clear: nothing wrong was done
	GroundsAppealGranted      Grounds = "appeal_granted" // reinstated on appeal
	GroundsReview             Grounds = "review"         // reinstated on the operator's own review
)

// GroundsList lists every ground.
var GroundsList = []Grounds{GroundsUnauthorizedRegion, GroundsSmuggling, GroundsDrone, GroundsSpoofing, GroundsSanctions,
	GroundsCourtOrder, GroundsTerms, GroundsFalsePositive, GroundsAppealGranted, GroundsReview}

// Valid reports whether g is one of GroundsList.
func (g Grounds) Valid() bool { return slices.Contains(GroundsList, g) }

// Label is what a closed case says about the alerts that opened it: the
// labelled examples detection is tuned with.
type Label string

// Labels.
const (
	LabelNone          Label = ""
	LabelTruePositive  Label = "true_positive"
	LabelFalsePositive Label = "false_positive"
)

// CaseNote is an investigator's note.
type CaseNote struct {
	By   Actor     `json:"by"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Notice is what the account holder is told of an action, in words they
// can read. Withheld, if set, is the investigator's documented reason for
// not telling them (e.g. a court order forbids it); the notice is then not
// sent, and the reason is what the record shows.
type Notice struct {
	AccountID string    `json:"account_id"`
	Text      string    `json:"text"`
	Withheld  string    `json:"withheld,omitempty"`
	At        time.Time `json:"at"`
}

// ActionState is where an action is: a bulk cut-off waits for approvals,
// an action with a grace period waits for its time, and then it is applied.
type ActionState string

// Action states.
const (
	ActionPending   ActionState = "pending_approval" // bulk: needs the two-person rule
	ActionScheduled ActionState = "scheduled"        // approved, waiting for its grace period
	ActionApplied   ActionState = "applied"
	ActionRejected  ActionState = "rejected" // bulk: an approver said no
	ActionCancelled ActionState = "cancelled"
)

// CaseAction is one action on a case, with who did it and why.
type CaseAction struct {
	ID      string      `json:"id"`
	Kind    ActionKind  `json:"action"`
	State   ActionState `json:"state"`
	Grounds Grounds     `json:"grounds"`
	Reason  string      `json:"reason"`
	By      Actor       `json:"by"`
	At      time.Time   `json:"at"`
	// EffectiveAt is when the action takes effect: At, or later after a
	// grace period.
	EffectiveAt time.Time `json:"effective_at"`
	AppliedAt   time.Time `json:"applied_at,omitzero"`
	// Terminals are those the action applies to: the case's terminal, or
	// a bulk cut-off's selection.
	Terminals []string `json:"terminals"`
	Notice    *Notice  `json:"notice,omitempty"`
	// Reviews are the approvers' verdicts on a bulk action.
	Reviews []Review `json:"reviews,omitempty"`
}

// Appeal is the account holder's challenge of an action, and its outcome.
type Appeal struct {
	Statement string    `json:"statement"`
	FiledBy   Actor     `json:"filed_by"` // who recorded it (support, on the holder's behalf)
	FiledAt   time.Time `json:"filed_at"`
	Decided   bool      `json:"decided"`
	Granted   bool      `json:"granted"`
	Reason    string    `json:"reason,omitempty"`
	DecidedBy Actor     `json:"decided_by,omitzero"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// BulkSelection is what a bulk cut-off selects: terminals whose last known
// position is in a zone of the active policy or a country, narrowed by plan,
// account and verification. At least a zone or a country is needed.
type BulkSelection struct {
	Zone       string `json:"zone,omitempty"`
	Country    string `json:"country,omitempty"`
	Plan       string `json:"plan,omitempty"`
	AccountID  string `json:"account_id,omitempty"`
	Unverified bool   `json:"unverified,omitempty"` // only terminals with no verification for where they are
}

// Case is an investigation of a terminal (or, for a bulk cut-off, of a
// selection of terminals): the alerts that opened it, the notes, the
// actions with their notices, the appeals, and how it ended.
type Case struct {
	ID         string         `json:"id"`
	Title      string         `json:"title"`
	State      CaseState      `json:"state"`
	TerminalID string         `json:"terminal_id,omitempty"`
	AccountID  string         `json:"account_id,omitempty"`
	Region     string         `json:"region,omitempty"` // where the terminal was last decided, when opened
	Bulk       *BulkSelection `json:"bulk,omitempty"`
	Assignee   string         `json:"assignee,omitempty"` // a person
	OpenedBy   Actor          `json:"opened_by"`
	Alerts     []string       `json:"alerts,omitempty"`
	Notes      []CaseNote     `json:"notes,omitempty"`
	Actions    []CaseAction   `json:"actions,omitempty"`
	Appeals    []Appeal       `json:"appeals,omitempty"`
	Label      Label          `json:"label,omitempty"`
	Resolution string         `json:"resolution,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	ClosedAt   time.Time      `json:"closed_at,omitzero"`
	Revision   int64          `json:"revision"`
}

// CaseFilter selects cases; zero fields match everything. Results come most
// recently updated first.
type CaseFilter struct {
	State      CaseState
	Assignee   string
	TerminalID string
	AccountID  string
	Label      Label
	// DueBy selects the cases whose scheduled action (DueAt) is due by
	// then; the zero time does not select by it.
	DueBy time.Time
	// After continues a listing after the case it names, the last of the
	// page before; the zero value starts at the most recently updated.
	After Cursor
	Limit int // 0 means 100; at most 1000
}

// CursorAfter is the cursor of the listing of cases after c: cases come
// most recently updated first (Cursor.At is UpdatedAt). A case updated
// while a listing is paged moves to its top, ahead of the cursor: the later
// pages do not show it again (nor at all, if they had not reached it yet);
// a listing from the top does.
func (c *Case) CursorAfter() Cursor { return Cursor{At: c.UpdatedAt, ID: c.ID} }

// DueAt returns when the case's scheduled action takes effect, or the zero
// time if no action is scheduled (one waiting for approvals is not).
func (c *Case) DueAt() time.Time {
	if a := c.Pending(); a != nil && a.State == ActionScheduled {
		return a.EffectiveAt
	}
	return time.Time{}
}

// Closed reports whether the case is closed.
func (c *Case) Closed() bool { return c.State == CaseClosed }

func (c *Case) notClosed() error {
	if c.Closed() {
		return conflictf("case %s is closed", c.ID)
	}
	return nil
}

// Assign gives the case to a person; an open case is then being
// investigated.
func (c *Case) Assign(person string, at time.Time) error {
	if err := c.notClosed(); err != nil {
		return err
	}
	if person == "" {
		return FieldErrorf(EINVALID, "assignee", "name the person to assign the case to")
	}
	c.Assignee, c.UpdatedAt = person, at
	if c.State == CaseOpen {
		c.State = CaseInvestigating
	}
	return nil
}

// AddNote records a note; notes may be added to a closed case too (the
// record grows, it never shrinks).
func (c *Case) AddNote(n CaseNote) error {
	if n.Text == "" {
		return FieldErrorf(EINVALID, "text", "a note needs text")
	}
	c.Notes, c.UpdatedAt = append(c.Notes, n), n.At
	return nil
}

// Pending returns the action still waiting (for approvals or its grace
// period), or nil.
func (c *Case) Pending() *CaseAction {
	for i := range c.Actions {
		if s := c.Actions[i].State; s == ActionPending || s == ActionScheduled {
			return &c.Actions[i]
		}
	}
	return nil
}

// Action returns the action with id, or nil.
func (c *Case) Action(id string) *CaseAction {
	for i := range c.Actions {
		if c.Actions[i].ID == id {
			return &c.Actions[i]
		}
	}
	return nil
}

// CheckAction says whether action a may be added to the case. The service
// fills in the terminals and the notice and applies it.
func (c *Case) CheckAction(a *CaseAction) error {
	if err := c.notClosed(); err != nil {
		return err
	}
	switch {
	case !a.Kind.Valid():
		return FieldErrorf(EINVALID, "action", "unknown action %q (want one of %v)", a.Kind, ActionKinds)
	case a.Reason == "":
		return FieldErrorf(EINVALID, "reason", "an action needs a reason")
	case !a.Grounds.Valid():
		return FieldErrorf(EINVALID, "grounds", "unknown grounds %q (want one of %v)", a.Grounds, GroundsList)
	case c.Pending() != nil:
		return conflictf("case %s has action %s waiting (%s); cancel it first", c.ID, c.Pending().ID, c.Pending().State)
	case c.Bulk != nil && a.Kind != ActionSuspend && a.Kind != ActionDeactivate && a.Kind != ActionClear:
		return FieldErrorf(EINVALID, "action", "a bulk case takes suspend, deactivate or clear, not %s", a.Kind)
	case a.EffectiveAt.Before(a.At):
		return FieldErrorf(EINVALID, "grace", "an action cannot take effect before it is taken")
	}
	return nil
}

// Applied records that action a took effect at t, and moves the case on:
// a cut-off or warning leaves it actioned; clear closes it as a false
// positive; a reinstatement closes it.
func (c *Case) Applied(a *CaseAction, t time.Time) {
	a.State, a.AppliedAt, c.UpdatedAt = ActionApplied, t, t
	switch a.Kind {
	case ActionWarn, ActionSuspend, ActionDeactivate:
		c.State = CaseActioned
	case ActionClear:
		c.close(LabelFalsePositive, "cleared: "+a.Reason, t)
	case ActionReinstate:
		label := c.Label
		if a.Grounds == GroundsAppealGranted || a.Grounds == GroundsFalsePositive {
			label = LabelFalsePositive
		}
		c.close(label, "reinstated: "+a.Reason, t)
	}
}

func (c *Case) close(label Label, resolution string, t time.Time) {
	c.State, c.Label, c.Resolution, c.ClosedAt, c.UpdatedAt = CaseClosed, label, resolution, t, t
}

// Close ends the case. A case that was actioned is labelled a true
// positive; one closed without action keeps no label.
func (c *Case) Close(resolution string, t time.Time) error {
	if err := c.notClosed(); err != nil {
		return err
	}
	if resolution == "" {
		return FieldErrorf(EINVALID, "reason", "say how the case ended")
	}
	if p := c.Pending(); p != nil {
		return conflictf("case %s has action %s waiting (%s); cancel it first", c.ID, p.ID, p.State)
	}
	label := LabelNone
	if c.State == CaseActioned {
		label = LabelTruePositive
	}
	c.close(label, resolution, t)
	return nil
}

// CutOff returns the last applied cut-off of the case, or nil.
func (c *Case) CutOff() *CaseAction {
	for i := len(c.Actions) - 1; i >= 0; i-- {
		if a := &c.Actions[i]; a.State == ActionApplied && a.Kind.CutsOff() {
			return a
		}
	}
	return nil
}

// FileAppeal records the account holder's appeal of the case's cut-off.
// One appeal is open at a time.
func (c *Case) FileAppeal(ap Appeal) error {
	switch {
	case c.CutOff() == nil:
		return conflictf("case %s cut nothing off: there is nothing to appeal", c.ID)
	case ap.Statement == "":
		return FieldErrorf(EINVALID, "statement", "an appeal needs the holder's statement")
	}
	for _, prev := range c.Appeals {
		if !prev.Decided {
			return conflictf("case %s already has an appeal waiting for a decision", c.ID)
		}
	}
	c.Appeals, c.UpdatedAt = append(c.Appeals, ap), ap.FiledAt
	return nil
}

// DecideAppeal records the decision on the open appeal. The person who cut
// the terminal off may not decide its appeal.
func (c *Case) DecideAppeal(by Actor, granted bool, reason string, at time.Time) (*Appeal, error) {
	if reason == "" {
		return nil, FieldErrorf(EINVALID, "reason", "an appeal decision needs a reason")
	}
	for i := range c.Appeals {
		ap := &c.Appeals[i]
		if ap.Decided {
			continue
		}
		if cut := c.CutOff(); cut != nil && cut.By.SamePerson(by) {
			return nil, Errorf(EFORBIDDEN, "%s took the action appealed and may not decide the appeal", by)
		}
		ap.Decided, ap.Granted, ap.Reason, ap.DecidedBy, ap.DecidedAt = true, granted, reason, by, at
		c.UpdatedAt = at
		return ap, nil
	}
	return nil, conflictf("case %s has no appeal waiting for a decision", c.ID)
}

// Review records an approver's verdict on a pending bulk action, under the
// same two-person rule as a policy change: not its author, each person
// once, enough approvals approve it, one rejection rejects it. It reports
// whether the action is now approved.
func (a *CaseAction) Review(r Review, rules ChangeRules) (approved bool, err error) {
	if a.State != ActionPending {
		return false, conflictf("action %s is %s: there is nothing to review", a.ID, a.State)
	}
	if err := checkReviewer("action "+a.ID, a.By, a.Reviews, r); err != nil {
		return false, err
	}
	a.Reviews = append(a.Reviews, r)
	switch {
	case !r.Approve:
		a.State = ActionRejected
	case approvals(a.Reviews) >= rules.approvals():
		a.State = ActionScheduled
		return true, nil
	}
	return false, nil
}
