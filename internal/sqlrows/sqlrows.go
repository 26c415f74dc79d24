// Package sqlrows holds what the SQL stores (sqlite, postgres) do the same
// way: the queries and their loops, written once on a Querier that each
// store adapts to its driver (Reader and Tx, which the stores embed), and
// the checks, documents and migrations both use. What is left in a store
// is what differs: its connections and transactions, its locks (a
// Dialect says which), its bulk writes, and the transaction, lock and DDL
// its migrations run in.
package sqlrows

// Rows is what database/sql's and pgx's result sets share.
type Rows interface {
	Next() bool
	Err() error
}
