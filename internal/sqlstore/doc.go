// Package sqlstore is the SQL of skyfence.Store written once, for the two
// SQL stores (package sqlite and package postgres) to share: every query
// and its loop, on a Querier that each store adapts to its driver (Reader
// and Tx, which the stores embed); the checks of what a store accepts
// (times that fit, page limits, ids); the JSON documents a store keeps
// whole (policy changes, cases) and their revisions; and the bookkeeping
// of migrations. A Dialect says what the two SQLs do differently (row
// locks, the audit chain's head, how a terminal's groups are kept).
//
// What is left in a store is what differs: its connections and
// transactions, its bulk writes, and the transaction, lock and DDL its
// migrations run in.
//
// It never imports a database driver (database/sql, pgx, modernc's
// SQLite): a store hands it a Querier, and marks the driver's errors the
// shared code decides on (ErrNoRows, ErrUnique, ErrForeignKey) with Mark.
package sqlstore
