package control

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
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
		Files: in.Files, Version: snap.Version, Base: s.snap.Load().Version,
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
		"not_before": c.NotBefore, "expires": c.Expires, "emergency": c.Emergency, "approvals": c.Approvals()}
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
		imp, err := json.Marshal(s.preview(s.snap.Load(), next))
		if err != nil {
			return err
		}
		c.Base, c.Impact = s.snap.Load().Version, imp
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

// activate is the one path by which a change goes into force: check, the
// store's record (the active change superseded, this one active, audited)
// in one transaction, then the atomic swap of the snapshot.
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
		if err := s.endActive(ctx, tx, skyfence.ChangeSuperseded, now); err != nil {
			return err
		}
		c.MarkActive(now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.SetSnapshot(snap)
	return c, nil
}

// endActive ends the change in force, if any.
func (s *Service) endActive(ctx context.Context, tx skyfence.Tx, state skyfence.ChangeState, at time.Time) error {
	active, _, err := tx.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return err
	}
	for _, a := range active {
		a.End(state, at)
		if err := tx.UpdateChange(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// Rollback puts the previous policy back into force in one step: the
// active change ends as rolled back and the change it superseded is active
// again.
func (s *Service) Rollback(ctx context.Context, reason string) (*skyfence.PolicyChange, error) {
	p, err := require(ctx, ActivatePolicy)
	if err != nil {
		return nil, err
	}
	return s.restorePrevious(ctx, p, skyfence.ChangeRolledBack, "policy.rollback", reason)
}

func (s *Service) restorePrevious(ctx context.Context, p *Principal, end skyfence.ChangeState, action, reason string) (*skyfence.PolicyChange, error) {
	if reason == "" {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "reason", "a rollback needs a reason")
	}
	now := s.now().UTC()
	var prev *skyfence.PolicyChange
	var snap *policy.Snapshot
	err := s.store.Tx(ctx, func(tx skyfence.Tx) error {
		old, err := allChanges(ctx, tx, skyfence.ChangeFilter{State: skyfence.ChangeSuperseded})
		if err != nil {
			return err
		}
		slices.SortFunc(old, func(a, b *skyfence.PolicyChange) int { return b.EndedAt.Compare(a.EndedAt) })
		if len(old) == 0 {
			return skyfence.Errorf(skyfence.ECONFLICT, "there is no previous policy to roll back to")
		}
		prev = old[0]
		if snap, err = s.compileFiles(prev.Files); err != nil {
			return err
		}
		if err := s.endActive(ctx, tx, end, now); err != nil {
			return err
		}
		prev.MarkActive(now)
		prev.EndedAt = time.Time{}
		if err := tx.UpdateChange(ctx, prev); err != nil {
			return err
		}
		return audit(ctx, tx, p, action, prev.ID, reason, changeSummary(prev))
	})
	if err != nil {
		return nil, err
	}
	s.SetSnapshot(snap)
	return prev, nil
}

// Tick carries out what time decides: approved changes whose scheduled time
// has come are activated, an active change that has expired gives way to
// the one before it, and case actions whose grace period has ended are
// applied. The server calls it every few seconds.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now()
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return err
	}
	for _, c := range active {
		if !c.Expires.IsZero() && !now.Before(c.Expires) {
			if _, err := s.restorePrevious(ctx, System, skyfence.ChangeExpired, "policy.expire", "the change's time limit ended"); err != nil {
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

// Overdue counts active emergency changes whose reviews are late.
func (s *Service) Overdue(ctx context.Context) (int, error) {
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	n := 0
	for _, c := range active {
		if c.Overdue(s.now(), s.rules) {
			n++
		}
	}
	return n, err
}

// adoptPolicy makes the store's active change the policy at start-up, or,
// on a first start, records the configured policy as the first change.
func (s *Service) adoptPolicy(ctx context.Context, initial *policy.Snapshot) error {
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return err
	}
	if len(active) > 0 {
		snap, err := s.compileFiles(active[0].Files)
		if err != nil {
			return fmt.Errorf("control: the active policy change %s: %w", active[0].ID, err)
		}
		s.snap.Store(snap)
		return nil
	}
	now := s.now().UTC()
	c := &skyfence.PolicyChange{
		ID: newID("chg-"), State: skyfence.ChangeActive, Title: "Initial policy",
		Justification: "The policy skyfence was first started with.", Requester: "internal",
		Category: skyfence.RequestOther, Author: System.Actor(), Files: filesOf(initial.Source),
		Version: initial.Version, CreatedAt: now, ActivatedAt: now,
	}
	return s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateChange(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, System, "policy.bootstrap", c.ID, c.Justification, changeSummary(c))
	})
}
