package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
)

// terminalRow is a terminal as stored, joined to one of its verifications
// (whose id is "" if it has none). One terminalRow serves every row of a
// query: what it builds is copied out of it.
type terminalRow struct {
	id, accountID, plan, country, status, cell string
	groups                                     GroupsColumn
	created, updated                           NullNanos
	v                                          verificationRow
	dest                                       []any
}

// terminalColumns are what terminalRow scans, in its order: the terminal
// t and its verification v (NULL if it has none).
const terminalColumns = `t.id, t.account_id, t.plan, t.country, t.status, t.groups, t.cell, t.created_at, t.updated_at,
	coalesce(v.id, ''), coalesce(v.terminal_id, ''), coalesce(v.region, ''), coalesce(v.authority, ''),
	coalesce(v.class, ''), v.verified_at, v.expires_at, coalesce(v.revoked, FALSE), v.revoked_at`

func newTerminalRow(d *Dialect) *terminalRow {
	r := &terminalRow{groups: d.ScanGroups()}
	r.dest = append([]any{&r.id, &r.accountID, &r.plan, &r.country, &r.status, r.groups.Dest(), &r.cell, &r.created, &r.updated},
		r.v.dest()...)
	return r
}

func (r *terminalRow) terminal(store string) (*skyfence.Terminal, error) {
	status, err := skyfence.ParseTerminalStatus(r.status)
	if err != nil {
		return nil, errorf(store, "terminal %q: %w", r.id, err)
	}
	groups, err := r.groups.Groups()
	if err != nil {
		return nil, errorf(store, "terminal %q: groups: %w", r.id, err)
	}
	if len(groups) == 0 {
		groups = nil
	}
	return &skyfence.Terminal{
		ID: r.id, AccountID: r.accountID, Plan: r.plan, Country: r.country, Status: status, Groups: groups, Cell: r.cell,
		CreatedAt: r.created.Time(), UpdatedAt: r.updated.Time(),
	}, nil
}

// terminals streams the terminals that conds (with args) select, in id
// order, at most limit of them (0: all), each with its verifications in id
// order, to fn. It is one query: the terminals joined with their
// verifications.
func (r Reader) terminals(ctx context.Context, conds []string, args []any, limit int, fn func(*skyfence.Terminal) error) error {
	page := ""
	if limit > 0 {
		page, args = " LIMIT ?", append(args, limit)
	}
	rows, err := r.q.Query(ctx, `SELECT `+terminalColumns+`
		FROM (SELECT * FROM terminals`+where(conds)+` ORDER BY id`+page+`) t
		LEFT JOIN verifications v ON v.terminal_id = t.id
		ORDER BY t.id, v.id`, args...)
	if err != nil {
		return r.errorf("find terminals: %w", err)
	}
	defer rows.Close()
	row := newTerminalRow(r.d)
	var cur *skyfence.Terminal
	for rows.Next() {
		if err := rows.Scan(row.dest...); err != nil {
			return r.errorf("find terminals: %w", err)
		}
		if cur == nil || cur.ID != row.id { // the first row of a terminal
			if cur != nil {
				if err := fn(cur); err != nil {
					return err
				}
			}
			if cur, err = row.terminal(r.d.Name); err != nil {
				return err
			}
		}
		if row.v.id != "" {
			v, err := row.v.verification(r.d.Name)
			if err != nil {
				return err
			}
			cur.Verifications = append(cur.Verifications, v)
		}
	}
	if err := rows.Err(); err != nil {
		return r.errorf("find terminals: %w", err)
	}
	if cur != nil {
		return fn(cur)
	}
	return nil
}

// FindTerminalByID returns the terminal with its verifications, or
// ENOTFOUND.
func (r Reader) FindTerminalByID(ctx context.Context, id string) (*skyfence.Terminal, error) {
	var found *skyfence.Terminal
	err := r.terminals(ctx, []string{"id = ?"}, []any{id}, 0, func(t *skyfence.Terminal) error {
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
func (r Reader) FindTerminals(ctx context.Context, f skyfence.TerminalFilter) ([]*skyfence.Terminal, string, error) {
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	var conds []string
	var args []any
	add := func(cond string, arg any) { conds, args = append(conds, cond), append(args, arg) }
	if f.AccountID != "" {
		add("account_id = ?", f.AccountID)
	}
	if f.Country != "" {
		add("country = ?", f.Country)
	}
	if f.Plan != "" {
		add("plan = ?", f.Plan)
	}
	if f.Status != nil {
		add("status = ?", f.Status.String())
	}
	if f.After != "" {
		add("id > ?", f.After)
	}
	var ts []*skyfence.Terminal
	err = r.terminals(ctx, conds, args, limit+1, func(t *skyfence.Terminal) error {
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
func (r Reader) ForEachTerminal(ctx context.Context, fn func(*skyfence.Terminal) error) error {
	return r.terminals(ctx, nil, nil, 0, fn)
}

// CreateTerminal stores a new terminal and the verifications it carries
// (whose TerminalID, if empty, is taken as the terminal's). EINVALID without
// an id or with an unknown status, ENOTFOUND if its account does not exist,
// ECONFLICT if the id exists.
func (t Tx) CreateTerminal(ctx context.Context, term *skyfence.Terminal) error {
	if err := NeedID("terminal", term.ID); err != nil {
		return err
	}
	if term.Status > skyfence.Deactivated {
		return skyfence.Errorf(skyfence.EINVALID, "terminal %q: unknown status %d", term.ID, term.Status)
	}
	if err := CheckTimes(term.CreatedAt, term.UpdatedAt); err != nil {
		return err
	}
	groups, err := t.r.d.Groups(term.Groups)
	if err != nil {
		return err
	}
	_, err = t.r.q.Try(ctx, `INSERT INTO terminals (id, account_id, plan, country, status, groups, cell, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		term.ID, term.AccountID, term.Plan, term.Country, term.Status.String(), groups, term.Cell,
		Nanos(term.CreatedAt), Nanos(term.UpdatedAt))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "terminal %q already exists", term.ID)
	case isForeignKey(err):
		return skyfence.Errorf(skyfence.ENOTFOUND, "terminal %q: account %q not found", term.ID, term.AccountID)
	case err != nil:
		return t.r.errorf("create terminal %q: %w", term.ID, err)
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

// UpdateTerminal applies u, sets UpdatedAt to at, and returns the terminal
// as it now is. EINVALID for an unknown status, ENOTFOUND for a missing
// terminal, ECONFLICT (and nothing changed) if u.IfStatus is set and the
// terminal's status is another. The condition on the status holds against
// concurrent transactions on PostgreSQL too: an UPDATE waits for one that
// changed the row and rechecks its WHERE on the row it committed.
func (t Tx) UpdateTerminal(ctx context.Context, id string, u skyfence.TerminalUpdate, at time.Time) (*skyfence.Terminal, error) {
	if err := CheckTimes(at); err != nil {
		return nil, err
	}
	for _, s := range []*skyfence.TerminalStatus{u.Status, u.IfStatus} {
		if s != nil && *s > skyfence.Deactivated {
			return nil, skyfence.Errorf(skyfence.EINVALID, "terminal %q: unknown status %d", id, *s)
		}
	}
	sets, args := []string{"updated_at = ?"}, []any{Nanos(at)}
	if u.Status != nil {
		sets, args = append(sets, "status = ?"), append(args, u.Status.String())
	}
	if u.Plan != nil {
		sets, args = append(sets, "plan = ?"), append(args, *u.Plan)
	}
	if u.Groups != nil {
		groups, err := t.r.d.Groups(*u.Groups)
		if err != nil {
			return nil, err
		}
		sets, args = append(sets, "groups = ?"), append(args, groups)
	}
	if u.Cell != nil {
		sets, args = append(sets, "cell = ?"), append(args, *u.Cell)
	}
	cond, args := " WHERE id = ?", append(args, id)
	if u.IfStatus != nil {
		cond, args = cond+" AND status = ?", append(args, u.IfStatus.String())
	}
	n, err := t.r.q.Exec(ctx, `UPDATE terminals SET `+strings.Join(sets, ", ")+cond, args...)
	if err != nil {
		return nil, t.r.errorf("update terminal %q: %w", id, err)
	}
	if n == 0 {
		return nil, t.whyNotUpdated(ctx, id, u.IfStatus)
	}
	return t.r.FindTerminalByID(ctx, id)
}

// whyNotUpdated returns the error of an update of the terminal that changed
// no row: ENOTFOUND if it does not exist, else ECONFLICT, its status not
// being ifStatus. (Terminals are never deleted: one that the update did not
// find does not exist.)
func (t Tx) whyNotUpdated(ctx context.Context, id string, ifStatus *skyfence.TerminalStatus) error {
	var status string
	err := t.r.q.QueryRow(ctx, `SELECT status FROM terminals WHERE id = ?`, id).Scan(&status)
	switch {
	case err != nil:
		return t.r.notFound(err, "terminal", id)
	case ifStatus == nil: // cannot happen: the row exists and nothing else conditions the update
		return t.r.errorf("update terminal %q: no row changed", id)
	}
	return skyfence.Errorf(skyfence.ECONFLICT, "terminal %q is %s, not %s", id, status, *ifStatus)
}
