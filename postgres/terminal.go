package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlrows"
)

// terminalRow is a terminal as stored.
type terminalRow struct {
	id, accountID, plan, country, status, cell string
	groups                                     []string
	created, updated                           *int64
}

func (r *terminalRow) dest() []any {
	return []any{&r.id, &r.accountID, &r.plan, &r.country, &r.status, &r.groups, &r.cell, &r.created, &r.updated}
}

func (r *terminalRow) terminal() (*skyfence.Terminal, error) {
	status, err := skyfence.ParseTerminalStatus(r.status)
	if err != nil {
		return nil, fmt.Errorf("postgres: terminal %q: %w", r.id, err)
	}
	groups := r.groups
	if len(groups) == 0 {
		groups = nil
	}
	return &skyfence.Terminal{
		ID: r.id, AccountID: r.accountID, Plan: r.plan, Country: r.country, Status: status, Groups: groups, Cell: r.cell,
		CreatedAt: fromNanos(r.created), UpdatedAt: fromNanos(r.updated),
	}, nil
}

// terminals streams the terminals that w selects, in id order, at most
// limit of them (0: all), each with its verifications in id order, to fn.
// It is one query: the terminals joined with their verifications.
func (r reader) terminals(ctx context.Context, w conds, limit int, fn func(*skyfence.Terminal) error) error {
	page := ""
	if limit > 0 {
		w.args = append(w.args, limit)
		page = " LIMIT $" + strconv.Itoa(len(w.args))
	}
	rows, err := r.q.Query(ctx, `SELECT t.id, t.account_id, t.plan, t.country, t.status, t.groups, t.cell, t.created_at, t.updated_at,
		coalesce(v.id, ''), coalesce(v.terminal_id, ''), coalesce(v.region, ''), coalesce(v.authority, ''),
		coalesce(v.class, ''), v.verified_at, v.expires_at, coalesce(v.revoked, false), v.revoked_at
		FROM (SELECT * FROM terminals`+w.where()+` ORDER BY id`+page+`) t
		LEFT JOIN verifications v ON v.terminal_id = t.id
		ORDER BY t.id, v.id`, w.args...)
	if err != nil {
		return fmt.Errorf("postgres: find terminals: %w", err)
	}
	defer rows.Close()
	return sqlrows.Terminals(rows, "postgres: find terminals", func() (sqlrows.Row, error) {
		var tr terminalRow
		var vr verificationRow
		if err := rows.Scan(append(tr.dest(), vr.dest()...)...); err != nil {
			return sqlrows.Row{}, fmt.Errorf("postgres: find terminals: %w", err)
		}
		r := sqlrows.Row{ID: tr.id, Terminal: tr.terminal}
		if vr.id != "" {
			v, err := vr.verification()
			if err != nil {
				return r, err
			}
			r.Verification = &v
		}
		return r, nil
	}, fn)
}

// FindTerminalByID returns the terminal with its verifications, or
// ENOTFOUND.
func (r reader) FindTerminalByID(ctx context.Context, id string) (*skyfence.Terminal, error) {
	var w conds
	w.add("id = ", id)
	var found *skyfence.Terminal
	err := r.terminals(ctx, w, 0, func(t *skyfence.Terminal) error {
		found = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "terminal %q not found", id)
	}
	return found, nil
}

// FindTerminals returns a page of the terminals f selects, with their
// verifications, and the cursor of the next page ("" after the last).
// EINVALID for a negative limit; a limit over 1000 is taken as 1000.
func (r reader) FindTerminals(ctx context.Context, f skyfence.TerminalFilter) ([]*skyfence.Terminal, string, error) {
	limit, err := sqlrows.PageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	var w conds
	if f.AccountID != "" {
		w.add("account_id = ", f.AccountID)
	}
	if f.Country != "" {
		w.add("country = ", f.Country)
	}
	if f.Plan != "" {
		w.add("plan = ", f.Plan)
	}
	if f.Status != nil {
		w.add("status = ", f.Status.String())
	}
	if f.After != "" {
		w.add("id > ", f.After)
	}
	var ts []*skyfence.Terminal
	err = r.terminals(ctx, w, limit+1, func(t *skyfence.Terminal) error {
		ts = append(ts, t)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(ts) <= limit {
		return ts, "", nil
	}
	ts = ts[:limit]
	return ts, ts[limit-1].ID, nil
}

// ForEachTerminal calls fn for every terminal with its verifications, in id
// order, streaming from one query; it stops at fn's first error and returns
// it.
func (r reader) ForEachTerminal(ctx context.Context, fn func(*skyfence.Terminal) error) error {
	return r.terminals(ctx, conds{}, 0, fn)
}

// CreateTerminal stores a new terminal and the verifications it carries
// (whose TerminalID, if empty, is taken as the terminal's). EINVALID without
// an id or with an unknown status, ENOTFOUND if its account does not exist,
// ECONFLICT if the id exists.
func (t *tx) CreateTerminal(ctx context.Context, term *skyfence.Terminal) error {
	if err := needID("terminal", term.ID); err != nil {
		return err
	}
	if term.Status > skyfence.Deactivated {
		return skyfence.Errorf(skyfence.EINVALID, "terminal %q: unknown status %d", term.ID, term.Status)
	}
	if err := sqlrows.CheckTimes(term.CreatedAt, term.UpdatedAt); err != nil {
		return err
	}
	_, err := t.guarded(ctx, `INSERT INTO terminals (id, account_id, plan, country, status, groups, cell, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		term.ID, term.AccountID, term.Plan, term.Country, term.Status.String(), groups(term.Groups), term.Cell,
		nanos(term.CreatedAt), nanos(term.UpdatedAt))
	switch {
	case isConflict(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "terminal %q already exists", term.ID)
	case isMissingRef(err):
		return skyfence.Errorf(skyfence.ENOTFOUND, "terminal %q: account %q not found", term.ID, term.AccountID)
	case err != nil:
		return fmt.Errorf("postgres: create terminal %q: %w", term.ID, err)
	}
	for _, v := range term.Verifications {
		if v.TerminalID == "" {
			v.TerminalID = term.ID
		}
		if v.TerminalID != term.ID {
			return skyfence.Errorf(skyfence.EINVALID, "terminal %q: verification %q is for terminal %q", term.ID, v.ID, v.TerminalID)
		}
		if err := t.CreateVerification(ctx, &v); err != nil {
			return err
		}
	}
	return nil
}

// groups returns groups as stored: never NULL.
func groups(g []string) []string {
	if g == nil {
		return []string{}
	}
	return g
}

// UpdateTerminal applies u, sets UpdatedAt to at, and returns the terminal
// as it now is. EINVALID for an unknown status, ENOTFOUND for a missing
// terminal, ECONFLICT (and nothing changed) if u.IfStatus is set and the
// terminal's status is another. The condition on the status holds against
// concurrent transactions: an UPDATE waits for one that changed the row and
// rechecks its WHERE on the row it committed.
func (t *tx) UpdateTerminal(ctx context.Context, id string, u skyfence.TerminalUpdate, at time.Time) (*skyfence.Terminal, error) {
	if err := sqlrows.CheckTimes(at); err != nil {
		return nil, err
	}
	for _, s := range []*skyfence.TerminalStatus{u.Status, u.IfStatus} {
		if s != nil && *s > skyfence.Deactivated {
			return nil, skyfence.Errorf(skyfence.EINVALID, "terminal %q: unknown status %d", id, *s)
		}
	}
	var set conds
	set.add("updated_at = ", nanos(at))
	if u.Status != nil {
		set.add("status = ", u.Status.String())
	}
	if u.Plan != nil {
		set.add("plan = ", *u.Plan)
	}
	if u.Groups != nil {
		set.add("groups = ", groups(*u.Groups))
	}
	if u.Cell != nil {
		set.add("cell = ", *u.Cell)
	}
	// The conditions number their arguments after those of the SET list.
	w := conds{args: set.args}
	w.add("id = ", id)
	if u.IfStatus != nil {
		w.add("status = ", u.IfStatus.String())
	}
	tag, err := t.q.Exec(ctx, `UPDATE terminals SET `+strings.Join(set.list, ", ")+w.where(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: update terminal %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, t.whyNotUpdated(ctx, id, u.IfStatus)
	}
	return t.FindTerminalByID(ctx, id)
}

// whyNotUpdated returns the error of an update of the terminal that changed
// no row: ENOTFOUND if it does not exist, else ECONFLICT, its status not
// being ifStatus. (Terminals are never deleted: one that the update did not
// find does not exist.)
func (t *tx) whyNotUpdated(ctx context.Context, id string, ifStatus *skyfence.TerminalStatus) error {
	var status string
	err := t.q.QueryRow(ctx, `SELECT status FROM terminals WHERE id = $1`, id).Scan(&status)
	switch {
	case err != nil:
		return notFound(err, "terminal", id)
	case ifStatus == nil: // cannot happen: the row exists and nothing else conditions the update
		return fmt.Errorf("postgres: update terminal %q: no row changed", id)
	}
	return skyfence.Errorf(skyfence.ECONFLICT, "terminal %q is %s, not %s", id, status, *ifStatus)
}
