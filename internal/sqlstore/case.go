package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/skyfence/skyfence"
)

// EncodeCase returns the document both stores keep for case c at revision:
// its JSON with Revision set. EINVALID for an unknown state, a zero
// CreatedAt or UpdatedAt (cases are ordered by it), a time out of range or
// a text that is not valid UTF-8 (it would not read back the same).
func EncodeCase(c *skyfence.Case, revision int64) ([]byte, error) {
	switch {
	case c.ID == "":
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "id", "case id is empty")
	case !c.State.Valid():
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "state", "case %q: unknown state %q", c.ID, c.State)
	case c.CreatedAt.IsZero() || c.UpdatedAt.IsZero():
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "updated_at", "case %q needs its creation and update times", c.ID)
	}
	if err := CheckTimes(c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.DueAt()); err != nil {
		return nil, err
	}
	for _, t := range caseTexts(c) {
		if !utf8.ValidString(t) {
			return nil, skyfence.Errorf(skyfence.EINVALID, "case %q holds text that is not valid UTF-8: %q", c.ID, t)
		}
	}
	n := *c
	n.Revision = revision
	b, err := json.Marshal(&n)
	if err != nil {
		return nil, fmt.Errorf("case %q: %w", c.ID, err)
	}
	return b, nil
}

// caseTexts returns every text of a case (json.Marshal would replace the
// bad bytes of one that is not UTF-8, so it would not read back the same).
func caseTexts(c *skyfence.Case) []string {
	out := []string{c.ID, c.Title, c.TerminalID, c.AccountID, c.Region, c.Assignee, c.Resolution}
	out = append(out, c.Alerts...)
	for _, n := range c.Notes {
		out = append(out, n.Text)
	}
	for _, a := range c.Actions {
		out = append(out, a.ID, a.Reason)
		out = append(out, a.Terminals...)
		if a.Notice != nil {
			out = append(out, a.Notice.Text, a.Notice.Withheld)
		}
		for _, r := range a.Reviews {
			out = append(out, r.Comment)
		}
	}
	for _, ap := range c.Appeals {
		out = append(out, ap.Statement, ap.Reason)
	}
	return out
}

// DecodeCase reads a document EncodeCase wrote.
func DecodeCase(doc []byte) (*skyfence.Case, error) {
	var c skyfence.Case
	if err := json.Unmarshal(doc, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// CheckCaseFilter returns EINVALID for a filter with an unknown state, or
// a DueBy or cursor out of range.
func CheckCaseFilter(f skyfence.CaseFilter) error {
	if f.State != "" && !f.State.Valid() {
		return skyfence.FieldErrorf(skyfence.EINVALID, "state", "unknown case state %q (want one of %v)", f.State, skyfence.CaseStates)
	}
	return CheckTimes(f.DueBy, f.After.At)
}

// Cond is one condition of a WHERE clause: Expr has a "?" where the driver
// writes the placeholder of each of Args, in order (SQLite keeps "?",
// PostgreSQL numbers them "$1", "$2"...).
type Cond struct {
	Expr string
	Args []any
}

// CaseConds returns the conditions of the cases f selects (the columns of
// the cases table; f checked by CheckCaseFilter).
func CaseConds(f skyfence.CaseFilter) []Cond {
	var out []Cond
	for _, c := range []struct{ col, v string }{
		{"state", string(f.State)}, {"assignee", f.Assignee}, {"terminal_id", f.TerminalID},
		{"account_id", f.AccountID}, {"label", string(f.Label)},
	} {
		if c.v != "" {
			out = append(out, Cond{c.col + " = ?", []any{c.v}})
		}
	}
	if !f.DueBy.IsZero() {
		out = append(out, Cond{"due_at > 0 AND due_at <= ?", []any{f.DueBy.UnixNano()}})
	}
	if !f.After.IsZero() {
		out = append(out, after("updated_at", f.After))
	}
	return out
}

// DueAt is the due_at column of a case: when its scheduled action takes
// effect, in Unix nanoseconds, or 0.
func DueAt(c *skyfence.Case) int64 {
	if t := c.DueAt(); !t.IsZero() {
		return t.UnixNano()
	}
	return 0
}

// FindCaseByID returns the case, or ENOTFOUND.
func (r Reader) FindCaseByID(ctx context.Context, id string) (*skyfence.Case, error) {
	var doc []byte
	if err := r.q.QueryRow(ctx, `SELECT doc FROM cases WHERE id = ?`, id).Scan(&doc); err != nil {
		return nil, r.notFound(err, "case", id)
	}
	c, err := DecodeCase(doc)
	if err != nil {
		return nil, r.errorf("case %q: %w", id, err)
	}
	return c, nil
}

// FindCases returns the cases f selects, most recently updated first, from
// f.After on, at most f.Limit of them (0: 100; over 1000: 1000), and where
// the next page starts.
func (r Reader) FindCases(ctx context.Context, f skyfence.CaseFilter) ([]*skyfence.Case, skyfence.Cursor, error) {
	var next skyfence.Cursor
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return nil, next, err
	}
	if err := CheckCaseFilter(f); err != nil {
		return nil, next, err
	}
	var conds []string
	var args []any
	for _, c := range CaseConds(f) {
		conds, args = append(conds, c.Expr), append(args, c.Args...)
	}
	rows, err := r.q.Query(ctx, `SELECT id, doc FROM cases`+where(conds)+
		` ORDER BY updated_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, next, r.errorf("find cases: %w", err)
	}
	defer rows.Close()
	cs, err := Docs(rows, "case", DecodeCase)
	if err != nil {
		return nil, next, r.errorf("find cases: %w", err)
	}
	cs, next = page(cs, limit, (*skyfence.Case).CursorAfter)
	return cs, next, nil
}

// CreateCase stores a new case at its Revision: EINVALID as EncodeCase
// says, ECONFLICT if the id exists.
func (t Tx) CreateCase(ctx context.Context, c *skyfence.Case) error {
	doc, err := EncodeCase(c, c.Revision)
	if err != nil {
		return err
	}
	_, err = t.r.q.Try(ctx, `INSERT INTO cases (id, state, terminal_id, account_id, assignee, label, updated_at, due_at, revision, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, string(c.State), c.TerminalID, c.AccountID, c.Assignee, string(c.Label),
		c.UpdatedAt.UnixNano(), DueAt(c), c.Revision, string(doc))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "case %q already exists", c.ID)
	case err != nil:
		return t.r.errorf("create case %q: %w", c.ID, err)
	}
	return nil
}

// UpdateCase stores c in place of the stored case if that is still at
// c.Revision, and then increments c.Revision. ECONFLICT (nothing changed)
// if it was updated since c was read; ENOTFOUND if there is no such case.
func (t Tx) UpdateCase(ctx context.Context, c *skyfence.Case) error {
	next := c.Revision + 1
	doc, err := EncodeCase(c, next)
	if err != nil {
		return err
	}
	n, err := t.r.q.Exec(ctx, `UPDATE cases SET state = ?, terminal_id = ?, account_id = ?, assignee = ?, label = ?,
		updated_at = ?, due_at = ?, revision = ?, doc = ? WHERE id = ? AND revision = ?`,
		string(c.State), c.TerminalID, c.AccountID, c.Assignee, string(c.Label), c.UpdatedAt.UnixNano(), DueAt(c), next, string(doc), c.ID, c.Revision)
	if err != nil {
		return t.r.errorf("update case %q: %w", c.ID, err)
	}
	if n == 0 {
		return t.staleRevision(ctx, "cases", "case", c.ID, c.Revision)
	}
	c.Revision = next
	return nil
}
