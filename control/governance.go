package control

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// ChangeInput is a policy change as its author submits it.
type ChangeInput struct {
	Title         string                   `json:"title"`
	Justification string                   `json:"justification"`
	Requester     string                   `json:"requester"`
	Category      skyfence.RequestCategory `json:"category"`
	References    []string                 `json:"references"`
	// Files are the policy document (first) and the zone files it names,
	// by the names it uses.
	Files     []skyfence.PolicyFile `json:"files"`
	NotBefore time.Time             `json:"not_before"`
	Expires   time.Time             `json:"expires"`
}

// compileFiles compiles a policy from a change's files.
func (s *Service) compileFiles(files []skyfence.PolicyFile) (*policy.Snapshot, error) {
	if len(files) == 0 {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "files", "a change needs its policy file")
	}
	read := func(name string) ([]byte, error) {
		for _, f := range files {
			if filepath.Clean(f.Name) == filepath.Clean(name) {
				return f.Data, nil
			}
		}
		return nil, fmt.Errorf("no file %q in the change", name)
	}
	src, err := policy.LoadWith(files[0].Name, read)
	if err == nil {
		var snap *policy.Snapshot
		if snap, err = policy.Compile(src, s.atlas); err == nil {
			return snap, nil
		}
	}
	return nil, skyfence.FieldErrorf(skyfence.EINVALID, "files", "the policy does not compile:\n%v", err)
}

// filesOf returns the files a compiled policy came from.
func filesOf(src *policy.Source) []skyfence.PolicyFile {
	files := []skyfence.PolicyFile{{Name: filepath.Base(src.File), Data: src.Raw}}
	for i, z := range src.Doc.Zones {
		files = append(files, skyfence.PolicyFile{Name: z.File, Data: src.ZoneRaws[i]})
	}
	return files
}

// DraftChange records a new policy change as a draft. Its files must
// compile: a draft that cannot become a policy is refused at once.
func (s *Service) DraftChange(ctx context.Context, in ChangeInput) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, DraftPolicy)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Title == "":
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "title", "a change needs a title")
	case in.Justification == "":
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "justification", "a change needs a justification")
	case in.Requester == "":
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "requester", "say who asked for the change (\"internal\" if no one outside)")
	case !slices.Contains(skyfence.RequestCategories, in.Category):
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "category", "unknown request category %q (want one of %v)", in.Category, skyfence.RequestCategories)
	case !in.Expires.IsZero() && !in.Expires.After(in.NotBefore) && !in.NotBefore.IsZero():
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "expires", "expires is not after not_before")
	}
	snap, err := s.compileFiles(in.Files)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &skyfence.PolicyChange{
		ID: newID("chg-"), State: skyfence.ChangeDraft, Title: in.Title, Justification: in.Justification,
		Requester: in.Requester, Category: in.Category, References: in.References, Author: p.Actor(),
		Files: in.Files, Version: snap.Version, Base: s.auth.Snapshot().Version,
		NotBefore: in.NotBefore.UTC(), Expires: in.Expires.UTC(), CreatedAt: now,
	}
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateChange(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, p, "policy.draft", c.ID, c.Justification, changeSummary(c))
	})
	return c, err
}

// changeSummary is what the audit log keeps of a change: everything but
// the files, which the change itself holds (the version names them).
func changeSummary(c *skyfence.PolicyChange) map[string]any {
	return map[string]any{"title": c.Title, "state": c.State, "version": c.Version, "base": c.Base,
		"requester": c.Requester, "category": c.Category, "references": c.References,
		"not_before": c.NotBefore, "expires": c.Expires, "emergency": c.Emergency, "approvals": c.Approvals(),
		"rolls_back": c.RollsBack, "replaced": c.Replaced, "ended_by": c.EndedBy}
}

// update loads a change, applies fn and stores it with an audit entry, all
// in one transaction (the revision guards against a concurrent update).
func (s *Service) update(ctx context.Context, p *Principal, id, action, reason string, fn func(c *skyfence.PolicyChange, tx skyfence.Tx) error) (*skyfence.PolicyChange, error) {
	var c *skyfence.PolicyChange
	err := s.store.Tx(ctx, func(tx skyfence.Tx) error {
		var err error
		if c, err = tx.FindChangeByID(ctx, id); err != nil {
			return err
		}
		if err := fn(c, tx); err != nil {
			return err
		}
		if err := tx.UpdateChange(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, p, action, c.ID, reason, changeSummary(c))
	})
	return c, err
}

// ProposeChange submits a draft for review, with the impact preview
// computed now over every terminal's last known position.
func (s *Service) ProposeChange(ctx context.Context, id string) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, DraftPolicy)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p, id, "policy.propose", "", func(c *skyfence.PolicyChange, _ skyfence.Tx) error {
		if err := c.Propose(p.Actor(), s.now().UTC()); err != nil {
			return err
		}
		next, err := s.compileFiles(c.Files)
		if err != nil {
			return err
		}
		imp, err := json.Marshal(s.preview(s.auth.Snapshot(), next))
		if err != nil {
			return err
		}
		c.Base, c.Impact = s.auth.Snapshot().Version, imp
		return nil
	})
}

// ReviewChange records an approver's verdict (the two-person rule is the
// change's own: see skyfence.PolicyChange.AddReview).
func (s *Service) ReviewChange(ctx context.Context, id string, approve bool, comment string) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, ReviewPolicy)
	if err != nil {
		return nil, err
	}
	action := "policy.reject"
	if approve {
		action = "policy.approve"
	}
	return s.update(ctx, p, id, action, comment, func(c *skyfence.PolicyChange, _ skyfence.Tx) error {
		return c.AddReview(skyfence.Review{By: p.Actor(), Approve: approve, Comment: comment, At: s.now().UTC()}, s.rules)
	})
}

// WithdrawChange takes back a change not yet active.
func (s *Service) WithdrawChange(ctx context.Context, id, reason string) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, DraftPolicy)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p, id, "policy.withdraw", reason, func(c *skyfence.PolicyChange, _ skyfence.Tx) error {
		return c.Withdraw(p.Actor(), s.now().UTC())
	})
}

// ActivateChange puts an approved change into force: every decision from
// then on uses it, and the change it replaces is superseded.
func (s *Service) ActivateChange(ctx context.Context, id string) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, ActivatePolicy)
	if err != nil {
		return nil, err
	}
	return s.activate(ctx, p, id, "policy.activate", "", func(c *skyfence.PolicyChange) error {
		return c.CanActivate(s.now())
	})
}

// EmergencyActivate puts a draft or proposed change into force at once,
// without approvals; it stays flagged unreviewed until approvers review it.
func (s *Service) EmergencyActivate(ctx context.Context, id, justification string) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, EmergencyPolicy)
	if err != nil {
		return nil, err
	}
	return s.activate(ctx, p, id, "policy.emergency", justification, func(c *skyfence.PolicyChange) error {
		return c.ActivateEmergency(p.Actor(), justification, s.now().UTC(), s.rules)
	})
}

// activate is the one path by which a person's change goes into force:
// check, the store's record (the change in force ended, this one active,
// audited) in one transaction, then the atomic swap of the snapshot.
func (s *Service) activate(ctx context.Context, p *Principal, id, action, reason string, check func(*skyfence.PolicyChange) error) (*skyfence.PolicyChange, error) {
	var snap *policy.Snapshot
	now := s.now().UTC()
	c, err := s.update(ctx, p, id, action, reason, func(c *skyfence.PolicyChange, tx skyfence.Tx) error {
		if err := check(c); err != nil {
			return err
		}
		var err error
		if snap, err = s.compileFiles(c.Files); err != nil {
			return err
		}
		end := skyfence.ChangeSuperseded
		if c.RollsBack != "" {
			end = skyfence.ChangeRolledBack
		}
		return s.putInForce(ctx, tx, c, end, now)
	})
	if err != nil {
		return nil, err
	}
	s.setSnapshot(snap)
	return c, nil
}

// putInForce records in tx that c goes into force at now: the change in
// force ends as end, naming c, and c is active in its place, naming it. A
// rollback goes into force only while the change it undoes is in force
// (ECONFLICT otherwise: what it was reviewed to undo is no longer there).
// The caller stores c.
func (s *Service) putInForce(ctx context.Context, tx skyfence.Tx, c *skyfence.PolicyChange, end skyfence.ChangeState, now time.Time) error {
	active, _, err := tx.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return err
	}
	replaced := ""
	if len(active) > 0 {
		replaced = active[0].ID
	}
	if c.RollsBack != "" && c.RollsBack != replaced {
		return skyfence.Errorf(skyfence.ECONFLICT, "change %s rolls back %s, which is no longer in force (%s is): draft a rollback of the change in force",
			c.ID, c.RollsBack, cmp.Or(replaced, "none"))
	}
	for _, a := range active {
		if err := a.End(end, c.ID, now); err != nil {
			return err
		}
		if err := tx.UpdateChange(ctx, a); err != nil {
			return err
		}
	}
	return c.MarkActive(replaced, now)
}

// previousOf returns the change that was in force before c, which a
// rollback of c puts back: the one c replaced, or, for a change recorded
// before changes named it, the last to leave force when c came in.
// ECONFLICT if there is none.
func previousOf(ctx context.Context, r skyfence.Reader, c *skyfence.PolicyChange) (*skyfence.PolicyChange, error) {
	if c.Replaced != "" {
		return r.FindChangeByID(ctx, c.Replaced)
	}
	var prev *skyfence.PolicyChange
	for _, st := range []skyfence.ChangeState{skyfence.ChangeSuperseded, skyfence.ChangeRolledBack, skyfence.ChangeExpired} {
		old, err := allChanges(ctx, r, skyfence.ChangeFilter{State: st})
		if err != nil {
			return nil, err
		}
		for _, o := range old {
			if o.ID != c.ID && !o.EndedAt.After(c.ActivatedAt) && (prev == nil || o.EndedAt.After(prev.EndedAt)) {
				prev = o
			}
		}
	}
	if prev == nil {
		return nil, skyfence.Errorf(skyfence.ECONFLICT, "change %s is the first policy on record: there is no previous policy to roll back to", c.ID)
	}
	return prev, nil
}

// RollbackInput is a rollback as its author asks for it.
type RollbackInput struct {
	// Reason is why the change in force is undone. It is public: the
	// transparency report shows it.
	Reason     string                   `json:"reason"`
	Requester  string                   `json:"requester"` // "internal" if empty
	Category   skyfence.RequestCategory `json:"category"`  // other if empty
	References []string                 `json:"references"`
}

// DraftRollback drafts the change that undoes the change in force: its
// files are those of the change in force before it, RollsBack names the
// change it undoes, and the reason is its justification. It puts nothing
// in force: like any change it is proposed (with its impact preview),
// approved by persons other than its author and activated, or activated
// at once through the emergency path (EmergencyActivate) with its role,
// its justification and its review deadline; and it goes into force only
// while the change it undoes is in force. ECONFLICT if no change is in
// force or the one in force is the first on record.
func (s *Service) DraftRollback(ctx context.Context, in RollbackInput) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, DraftPolicy)
	if err != nil {
		return nil, err
	}
	in.Requester, in.Category = cmp.Or(in.Requester, "internal"), cmp.Or(in.Category, skyfence.RequestOther)
	switch {
	case strings.TrimSpace(in.Reason) == "":
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "reason", "a rollback needs a reason")
	case !slices.Contains(skyfence.RequestCategories, in.Category):
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "category", "unknown request category %q (want one of %v)", in.Category, skyfence.RequestCategories)
	}
	now := s.now().UTC()
	var c *skyfence.PolicyChange
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		active, _, err := tx.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
		if err != nil {
			return err
		}
		if len(active) == 0 {
			return skyfence.Errorf(skyfence.ECONFLICT, "no policy change is in force: there is nothing to roll back")
		}
		undo := active[0]
		prev, err := previousOf(ctx, tx, undo)
		if err != nil {
			return err
		}
		snap, err := s.compileFiles(prev.Files)
		if err != nil {
			return err
		}
		c = &skyfence.PolicyChange{
			ID: newID("chg-"), State: skyfence.ChangeDraft, Title: "Roll back: " + undo.Title,
			Justification: fmt.Sprintf("%s\n\nRolls back change %s (%s), putting back the policy of change %s (version %s).",
				in.Reason, undo.ID, undo.Title, prev.ID, prev.Version),
			Reason: in.Reason, RollsBack: undo.ID, Requester: in.Requester, Category: in.Category, References: in.References,
			Author: p.Actor(), Files: prev.Files, Version: snap.Version, Base: undo.Version, CreatedAt: now,
		}
		if err := tx.CreateChange(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, p, "policy.draft", c.ID, in.Reason, changeSummary(c))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// expire ends the active change c, whose time limit has come, by putting
// back the policy in force before it: skyfence records, on its own
// (Author System), the rollback of c with that policy's files and puts it
// in force at once, c ending as expired, in one transaction audited as
// policy.expire. No person's review is skipped: c's approvers approved its
// time limit, and with it the return of the policy it replaced, which
// their impact preview of c showed the other way round.
func (s *Service) expire(ctx context.Context, id string) error {
	now := s.now().UTC()
	var snap *policy.Snapshot
	var fallback *skyfence.PolicyChange
	err := s.store.Tx(ctx, func(tx skyfence.Tx) error {
		c, err := tx.FindChangeByID(ctx, id)
		if err != nil {
			return err
		}
		if c.State != skyfence.ChangeActive || c.Expires.IsZero() || now.Before(c.Expires) {
			return nil // another authorizer was first
		}
		prev, err := previousOf(ctx, tx, c)
		if err != nil {
			return err
		}
		if snap, err = s.compileFiles(prev.Files); err != nil {
			return err
		}
		imp, err := json.Marshal(s.preview(s.auth.Snapshot(), snap))
		if err != nil {
			return err
		}
		reason := fmt.Sprintf("the time limit of change %s ended at %s", c.ID, c.Expires.Format(time.RFC3339))
		fallback = &skyfence.PolicyChange{
			ID: newID("chg-"), State: skyfence.ChangeDraft, Title: "End of: " + c.Title,
			Justification: fmt.Sprintf("The time limit of change %s (%s) ended; the policy of change %s (version %s), in force before it, is back as %s's approvals, with its expiry, approved.",
				c.ID, c.Title, prev.ID, prev.Version, c.ID),
			Reason: reason, RollsBack: c.ID, Requester: "internal", Category: skyfence.RequestOther, Author: System.Actor(),
			Files: prev.Files, Version: snap.Version, Base: c.Version, Impact: imp, CreatedAt: now, ProposedAt: now,
		}
		if err := s.putInForce(ctx, tx, fallback, skyfence.ChangeExpired, now); err != nil {
			return err
		}
		if err := tx.CreateChange(ctx, fallback); err != nil {
			return err
		}
		return audit(ctx, tx, System, "policy.expire", fallback.ID, reason, changeSummary(fallback))
	})
	if err != nil || fallback == nil {
		return err
	}
	s.setSnapshot(snap)
	return nil
}

// Tick carries out what time decides: approved changes whose scheduled time
// has come are activated (their approvals approved the time), an active
// change that has expired gives way to the one before it (expire), and
// case actions whose grace period has ended are applied. The server calls
// it every few seconds.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now()
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return err
	}
	for _, c := range active {
		if !c.Expires.IsZero() && !now.Before(c.Expires) {
			if err := s.expire(ctx, c.ID); err != nil {
				return err
			}
		}
	}
	approved, err := allChanges(ctx, s.store, skyfence.ChangeFilter{State: skyfence.ChangeApproved})
	if err != nil {
		return err
	}
	for _, c := range approved {
		if !c.NotBefore.IsZero() && c.CanActivate(now) == nil {
			if _, err := s.activate(ctx, System, c.ID, "policy.activate", "scheduled", func(c *skyfence.PolicyChange) error { return c.CanActivate(now) }); err != nil {
				return err
			}
		}
	}
	return s.ApplyDueActions(ctx)
}

// Change returns a policy change.
func (s *Service) Change(ctx context.Context, id string) (*skyfence.PolicyChange, error) {
	if _, err := require(ctx, ReadChanges); err != nil {
		return nil, err
	}
	return s.store.FindChangeByID(ctx, id)
}

// ChangeView is a change as the API shows it: with whether it still lacks
// its reviews.
type ChangeView struct {
	*skyfence.PolicyChange
	Unreviewed bool `json:"unreviewed"`
	Overdue    bool `json:"overdue"`
}

// View adds the review flags to a change.
func (s *Service) View(c *skyfence.PolicyChange) ChangeView {
	return ChangeView{c, c.Unreviewed(s.rules), c.Overdue(s.now(), s.rules)}
}

// Changes lists policy changes, newest first, a page at a time, and says
// where the next page starts (the zero cursor after the last).
func (s *Service) Changes(ctx context.Context, f skyfence.ChangeFilter) ([]*skyfence.PolicyChange, skyfence.Cursor, error) {
	if _, err := require(ctx, ReadChanges); err != nil {
		return nil, skyfence.Cursor{}, err
	}
	return s.store.FindChanges(ctx, f)
}

// allChanges returns every policy change f selects, newest first, reading
// page after page.
func allChanges(ctx context.Context, r skyfence.Reader, f skyfence.ChangeFilter) ([]*skyfence.PolicyChange, error) {
	f.Limit = 1000
	var all []*skyfence.PolicyChange
	for {
		cs, next, err := r.FindChanges(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
		if next.IsZero() {
			return all, nil
		}
		f.After = next
	}
}

// Overdue counts the emergency changes whose reviews are late, in force
// or not: each counts until enough approvers have reviewed it. It reads
// every change (policy changes are few: each is a reviewed decision).
func (s *Service) Overdue(ctx context.Context) (int, error) {
	all, err := allChanges(ctx, s.store, skyfence.ChangeFilter{})
	n := 0
	for _, c := range all {
		if c.Overdue(s.now(), s.rules) {
			n++
		}
	}
	return n, err
}

// adoptPolicy returns the policy to put in force at start-up: the store's
// active change, or, on a first start, the configured policy, recorded as
// the first change.
func (s *Service) adoptPolicy(ctx context.Context, initial *policy.Snapshot) (*policy.Snapshot, error) {
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return nil, err
	}
	if len(active) > 0 {
		snap, err := s.compileFiles(active[0].Files)
		if err != nil {
			return nil, fmt.Errorf("control: the active policy change %s: %w", active[0].ID, err)
		}
		if snap.Version != initial.Version {
			s.log.Warn("control: the policy given at start-up is not the one in force and is not used: put it in force through a reviewed change",
				"given", initial.Version, "in_force", snap.Version, "change", active[0].ID)
		}
		return snap, nil
	}
	now := s.now().UTC()
	c := &skyfence.PolicyChange{
		ID: newID("chg-"), State: skyfence.ChangeActive, Title: "Initial policy",
		Justification: "The policy skyfence was first started with.", Requester: "internal",
		Category: skyfence.RequestOther, Author: System.Actor(), Files: filesOf(initial.Source),
		Version: initial.Version, CreatedAt: now, ActivatedAt: now,
	}
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateChange(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, System, "policy.bootstrap", c.ID, c.Justification, changeSummary(c))
	})
	if err != nil {
		return nil, err
	}
	return initial, nil
}

// preview is the impact of replacing old by next over every terminal's
// last known position.
func (s *Service) preview(old, next *policy.Snapshot) *policy.ImpactReport {
	var in []policy.ImpactInput
	s.auth.ForEachState(func(t *skyfence.Terminal, last *skyfence.Fix, _ *policy.Decision) bool {
		rec := *t
		rec.Verifications = slices.Clone(t.Verifications)
		item := policy.ImpactInput{Terminal: &rec}
		if last != nil {
			item.Fix = *last
		}
		in = append(in, item)
		return true
	})
	return policy.Impact(old, next, s.now(), in, policy.ImpactOptions{})
}
