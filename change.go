package skyfence

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ChangeState is where a policy change is in its life:
//
//	draft -> proposed -> approved -> active -> superseded
//	                  \-> rejected    \-> rolled_back, expired
//	draft, proposed, approved -> withdrawn
//	draft, proposed -> active (emergency, flagged unreviewed until reviewed)
//
// A change is in force at most once: it goes into force (active) once and
// leaves it once, so its ActivatedAt and EndedAt, once set, are its own
// for good. Putting an earlier policy back is a new change (a rollback,
// RollsBack) with that policy's files, reviewed like any other.
type ChangeState string

// Change states.
const (
	ChangeDraft      ChangeState = "draft"
	ChangeProposed   ChangeState = "proposed"
	ChangeApproved   ChangeState = "approved"
	ChangeActive     ChangeState = "active"
	ChangeSuperseded ChangeState = "superseded"
	ChangeRejected   ChangeState = "rejected"
	ChangeWithdrawn  ChangeState = "withdrawn"
	ChangeRolledBack ChangeState = "rolled_back"
	ChangeExpired    ChangeState = "expired"
)

// ChangeStates lists every state of a policy change.
var ChangeStates = []ChangeState{ChangeDraft, ChangeProposed, ChangeApproved, ChangeActive, ChangeSuperseded,
	ChangeRejected, ChangeWithdrawn, ChangeRolledBack, ChangeExpired}

// Valid reports whether s is one of ChangeStates.
func (s ChangeState) Valid() bool { return slices.Contains(ChangeStates, s) }

// RequestCategory says who asked for a change.
type RequestCategory string

// Request categories; every change names one (internal if skyfence's own
// people asked).
const (
	RequestRegulator        RequestCategory = "regulator"
	RequestGovernment       RequestCategory = "government"
	RequestCourtOrder       RequestCategory = "court_order"
	RequestInternalSecurity RequestCategory = "internal_security"
	RequestCommercial       RequestCategory = "commercial"
	RequestOther            RequestCategory = "other"
)

// RequestCategories lists every category.
var RequestCategories = []RequestCategory{RequestRegulator, RequestGovernment, RequestCourtOrder, RequestInternalSecurity, RequestCommercial, RequestOther}

// Valid reports whether c is one of RequestCategories.
func (c RequestCategory) Valid() bool { return slices.Contains(RequestCategories, c) }

// Actor is who acted: the key used and the person it belongs to. The
// two-person rule counts persons, not keys, and compares them with
// SamePerson.
type Actor struct {
	KeyID string `json:"key_id"`
	// PersonID is the person's ID in the registry (Person); empty in
	// records older than the registry.
	PersonID string `json:"person_id,omitempty"`
	Person   string `json:"person"` // the person's handle, for display
}

// Review is an approver's verdict on a change.
type Review struct {
	By      Actor     `json:"by"`
	Approve bool      `json:"approve"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// PolicyFile is one file of a proposed policy: the policy document (the
// first) or a zone file it names.
type PolicyFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// PolicyChange is a proposed, approved or past version of the policy, with
// who asked for it, who wrote it, who reviewed it and why.
type PolicyChange struct {
	ID            string          `json:"id"`
	State         ChangeState     `json:"state"`
	Title         string          `json:"title"`
	Justification string          `json:"justification"`
	Requester     string          `json:"requester"` // who asked, in words (an authority, a team)
	Category      RequestCategory `json:"category"`
	References    []string        `json:"references,omitempty"`
	Author        Actor           `json:"author"`
	Files         []PolicyFile    `json:"files"`
	Version       string          `json:"version"` // the compiled policy's content hash
	Base          string          `json:"base"`    // the version active when it was proposed
	NotBefore     time.Time       `json:"not_before,omitzero"`
	Expires       time.Time       `json:"expires,omitzero"` // a temporary change ends by itself
	Emergency     bool            `json:"emergency,omitempty"`
	ReviewBy      time.Time       `json:"review_by,omitzero"` // emergency: reviews due by then
	Reviews       []Review        `json:"reviews,omitempty"`
	Impact        json.RawMessage `json:"impact,omitempty"` // the impact preview (policy.ImpactReport) at proposal
	CreatedAt     time.Time       `json:"created_at"`
	ProposedAt    time.Time       `json:"proposed_at,omitzero"`
	ActivatedAt   time.Time       `json:"activated_at,omitzero"`
	EndedAt       time.Time       `json:"ended_at,omitzero"`
	// RollsBack, for a rollback, is the change it undoes: its files are
	// those of the change that was in force before that one, and it may
	// only go into force while that one is in force. A rollback drafted
	// by a person is reviewed like any change; one skyfence makes when a
	// change expires (Author System) puts back what the change's own
	// approvals, with its expiry, already approved.
	RollsBack string `json:"rolls_back,omitempty"`
	// Reason is why a rollback undoes the change it names: public (the
	// transparency report shows it), so it names no person.
	Reason string `json:"reason,omitempty"`
	// Replaced is the change that was in force when this one went into
	// force ("" for the first); EndedBy the change that took its place
	// when it left force. Its State says why it left.
	Replaced string `json:"replaced,omitempty"`
	EndedBy  string `json:"ended_by,omitempty"`
	Revision int64  `json:"revision"` // bumped by every update; guards concurrent ones
}

// ChangeRules are the governance settings.
type ChangeRules struct {
	// Approvals is how many distinct persons other than the author must
	// approve; default 2.
	Approvals int
	// EmergencyReview is how long after an emergency activation its
	// reviews are due; default 24 hours.
	EmergencyReview time.Duration
}

func (r ChangeRules) approvals() int {
	if r.Approvals <= 0 {
		return 2
	}
	return r.Approvals
}

func (r ChangeRules) emergencyReview() time.Duration {
	if r.EmergencyReview <= 0 {
		return 24 * time.Hour
	}
	return r.EmergencyReview
}

func conflictf(format string, args ...any) error { return Errorf(ECONFLICT, format, args...) }

// Propose submits a draft for review; only its author may.
func (c *PolicyChange) Propose(by Actor, at time.Time) error {
	switch {
	case c.State != ChangeDraft:
		return conflictf("change %s is %s, not a draft", c.ID, c.State)
	case !by.SamePerson(c.Author):
		return Errorf(EFORBIDDEN, "only the author may propose change %s", c.ID)
	}
	c.State, c.ProposedAt = ChangeProposed, at
	return nil
}

// Withdraw takes back a change not yet active; only its author may.
func (c *PolicyChange) Withdraw(by Actor, at time.Time) error {
	switch {
	case c.State != ChangeDraft && c.State != ChangeProposed && c.State != ChangeApproved:
		return conflictf("change %s is %s and cannot be withdrawn", c.ID, c.State)
	case !by.SamePerson(c.Author):
		return Errorf(EFORBIDDEN, "only the author may withdraw change %s", c.ID)
	}
	c.State, c.EndedAt = ChangeWithdrawn, at
	return nil
}

// Approvals returns the number of distinct persons who approved.
func (c *PolicyChange) Approvals() int { return approvals(c.Reviews) }

// approvals counts the distinct persons who approved.
func approvals(reviews []Review) int {
	var persons []Actor
	for _, r := range reviews {
		if r.Approve && !slices.ContainsFunc(persons, r.By.SamePerson) {
			persons = append(persons, r.By)
		}
	}
	return len(persons)
}

// checkReviewer is the two-person rule for one review of what author
// asked for (a policy change, a bulk cut-off): the author may not review
// it, and a person reviews once.
func checkReviewer(id string, author Actor, reviews []Review, r Review) error {
	if r.By.SamePerson(author) {
		return Errorf(EFORBIDDEN, "%s wrote %s and may not review it (two-person rule)", r.By, id)
	}
	for _, prev := range reviews {
		if prev.By.SamePerson(r.By) {
			return conflictf("%s has already reviewed %s", r.By, id)
		}
	}
	return nil
}

// AddReview records an approver's verdict. The author may not review their
// own change, and a person reviews once. A proposed change with enough
// approvals becomes approved; one rejection rejects it. An emergency change
// (put in force unreviewed) collects reviews the same way, in force or
// after it left force: enough approvals clear its unreviewed flag; a
// rejection leaves its state as it is but recorded, for a rollback
// decision.
func (c *PolicyChange) AddReview(r Review, rules ChangeRules) error {
	if c.State != ChangeProposed && !(c.Emergency && !c.ActivatedAt.IsZero()) {
		return conflictf("change %s is %s: there is nothing to review", c.ID, c.State)
	}
	if err := checkReviewer("change "+c.ID, c.Author, c.Reviews, r); err != nil {
		return err
	}
	c.Reviews = append(c.Reviews, r)
	if c.State == ChangeProposed {
		switch {
		case !r.Approve:
			c.State, c.EndedAt = ChangeRejected, r.At
		case c.Approvals() >= rules.approvals():
			c.State = ChangeApproved
		}
	}
	return nil
}

// CanActivate says whether an approved change may be activated at t.
func (c *PolicyChange) CanActivate(t time.Time) error {
	switch {
	case c.State != ChangeApproved:
		return conflictf("change %s is %s; only an approved change can be activated (%d approvals so far)", c.ID, c.State, c.Approvals())
	case !c.NotBefore.IsZero() && t.Before(c.NotBefore):
		return conflictf("change %s is scheduled for %s", c.ID, c.NotBefore.Format(time.RFC3339))
	case !c.Expires.IsZero() && !t.Before(c.Expires):
		return conflictf("change %s expired at %s before it was activated", c.ID, c.Expires.Format(time.RFC3339))
	}
	return nil
}

// ActivateEmergency readies a draft or proposed change to go into force at
// once, without the approvals (the caller then activates it and calls
// MarkActive); it stays flagged unreviewed until enough approvers have
// reviewed it, due by ReviewBy.
func (c *PolicyChange) ActivateEmergency(by Actor, justification string, at time.Time, rules ChangeRules) error {
	switch {
	case c.State != ChangeDraft && c.State != ChangeProposed:
		return conflictf("change %s is %s; an emergency activation takes a draft or a proposed change", c.ID, c.State)
	case strings.TrimSpace(justification) == "":
		return FieldErrorf(EINVALID, "justification", "an emergency activation needs a justification")
	}
	c.Emergency, c.ReviewBy = true, at.Add(rules.emergencyReview())
	c.Justification = fmt.Sprintf("%s\n\nEmergency activation by %s: %s", c.Justification, by.Person, justification)
	return nil
}

// Unreviewed reports whether an emergency change still lacks its approvals.
func (c *PolicyChange) Unreviewed(rules ChangeRules) bool {
	return c.Emergency && c.Approvals() < rules.approvals()
}

// Overdue reports whether an emergency change's reviews are late at t. It
// stays overdue, in force or not, until enough approvers have reviewed it.
func (c *PolicyChange) Overdue(t time.Time, rules ChangeRules) bool {
	return c.Unreviewed(rules) && t.After(c.ReviewBy)
}

// MarkActive records that the change is in force from at, in place of the
// change replaced ("" if none). ECONFLICT if it was in force before: a
// change goes into force once.
func (c *PolicyChange) MarkActive(replaced string, at time.Time) error {
	if !c.ActivatedAt.IsZero() {
		return conflictf("change %s was in force from %s; a change goes into force once (put its policy back with a rollback)",
			c.ID, c.ActivatedAt.Format(time.RFC3339))
	}
	c.State, c.ActivatedAt, c.Replaced = ChangeActive, at, replaced
	return nil
}

// End records that the active change is no longer in force from at:
// superseded by another, rolled back, or expired (state), and by which
// change. ECONFLICT if it is not in force.
func (c *PolicyChange) End(state ChangeState, by string, at time.Time) error {
	if c.State != ChangeActive {
		return conflictf("change %s is %s, not in force", c.ID, c.State)
	}
	c.State, c.EndedAt, c.EndedBy = state, at, by
	return nil
}

// CursorAfter is the cursor of the listing of policy changes after c:
// changes come newest first (Cursor.At is CreatedAt).
func (c *PolicyChange) CursorAfter() Cursor { return Cursor{At: c.CreatedAt, ID: c.ID} }
