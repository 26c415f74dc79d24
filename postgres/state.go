package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlstore"
)

// stateColumnList is sqlstore.StateColumns as a list, for COPY.
var stateColumnList = columnList(sqlstore.StateColumns)

// columnList returns a list of columns written "a, b, c" as a slice.
func columnList(columns string) []string {
	return strings.Split(strings.ReplaceAll(columns, " ", ""), ",")
}

// SaveStates upserts the states: COPY into a temporary table, then one
// INSERT ... ON CONFLICT from it, in one transaction. Of two states of one
// terminal in the batch the later wins. Fix.TerminalID is not stored: a
// state read back has its TerminalID there. EINVALID (and nothing written)
// for a nil state, an empty terminal id or a time out of range.
func (db *DB) SaveStates(ctx context.Context, states []*skyfence.TerminalState) error {
	if err := sqlstore.CheckStates(states); err != nil {
		return err
	}
	batch := lastOfEach(states, func(s *skyfence.TerminalState) string { return s.TerminalID })
	return db.upsert(ctx, fmt.Sprintf("save %d states", len(batch)), "terminal_states", sqlstore.StateColumns, stateColumnList,
		sqlstore.StateUpsert, len(batch), func(i int) ([]any, error) { return sqlstore.StateValues(nil, batch[i]), nil })
}

// lastOfEach returns the last of items with each key, in their order: ON
// CONFLICT may not touch a row twice.
func lastOfEach[T any](items []T, key func(T) string) []T {
	last := make(map[string]int, len(items)) // the index of each key's last item
	for i, it := range items {
		last[key(it)] = i
	}
	out := make([]T, 0, len(last))
	for i, it := range items {
		if last[key(it)] == i {
			out = append(out, it)
		}
	}
	return out
}

// upsert writes n rows (row(i) the values of the i-th, in the order of
// columns, and of list, its columns as a list) into table in one
// transaction: COPY into a temporary table like it, then one INSERT from
// that ending with onConflict. what names the write in errors. Nothing for
// none.
func (db *DB) upsert(ctx context.Context, what, table, columns string, list []string, onConflict string, n int, row func(i int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	fail := func(err error) error { return fmt.Errorf("postgres: %s: %w", what, retryable(err)) }
	t, err := db.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer t.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	// One temporary table per connection, emptied at each commit.
	in := table + "_in"
	if _, err := t.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS `+in+` (LIKE `+table+`) ON COMMIT DELETE ROWS`); err != nil {
		return fail(err)
	}
	if _, err := t.CopyFrom(ctx, pgx.Identifier{in}, list, pgx.CopyFromSlice(n, row)); err != nil {
		return fail(err)
	}
	if _, err := t.Exec(ctx, `INSERT INTO `+table+` (`+columns+`) SELECT `+columns+` FROM `+in+` `+onConflict); err != nil {
		return fail(err)
	}
	if err := t.Commit(ctx); err != nil {
		return fail(err)
	}
	return nil
}
