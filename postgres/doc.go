// Package postgres stores skyfence's state in PostgreSQL through
// github.com/jackc/pgx/v5: the store of a cluster, where many stateless
// processes share one database.
//
// Times are stored as bigint nanoseconds since the Unix epoch, UTC, exactly
// as in package sqlite (timestamptz would keep only microseconds), so a value
// read back equals the one written (in UTC) and an audit entry's digest
// verifies after a round trip on either store; the zero time is NULL. Times
// outside the years 1678 to 2262 do not fit and are refused with EINVALID.
//
// Every statement of a transaction that may fail on a constraint (a create,
// a claim) runs in a savepoint, so that, as in SQLite, its failure undoes it
// alone and the transaction goes on if the caller handles the error.
//
// Audit appends take turns on the one row of audit_head (SELECT ... FOR
// UPDATE), held until their transaction ends: the chain stays gapless across
// connections and processes, and an audited transaction should append its
// entries last, to hold that lock briefly and always after its other locks.
//
// Transactions run at READ COMMITTED. The compare-and-set updates
// (TerminalUpdate.IfStatus, UpdateChange on PolicyChange.Revision) put
// their condition in the UPDATE's WHERE, which PostgreSQL rechecks on the
// committed row after waiting for a concurrent writer: of two transactions
// that read one state and update it, the second gets ECONFLICT. A policy
// change is stored whole, as the JSON of internal/sqlstore (in a json
// column, which keeps the bytes of json.Marshal as they are), beside
// columns for its id, state, creation time and revision.
//
// When the server aborts a transaction to break a deadlock (SQLSTATE 40P01)
// or for a serialization failure (40001), the statement's error, and Tx's,
// has the code EUNAVAILABLE rather than EINTERNAL: the transaction is lost,
// but running it again from the start may succeed. The server's error stays
// in the chain (errors.As to *pgconn.PgError). So does an error because
// the database cannot be reached or the connection was lost (refused,
// reset, SQLSTATE class 08, the server shutting down): the API answers 503
// "unavailable", and the pool reconnects on its own when the server is
// back. Connecting times out after 5 s unless the URL sets connect_timeout.
//
// The schema is versioned by the SQL files under migrations/, embedded in the
// binary and applied by Open in one transaction under an advisory lock, so
// processes starting together apply each version once. WithSchema puts every
// table in a schema of its own, created if missing.
//
// postgres owns the PostgreSQL implementation of skyfence.Store and its
// migrations, over the SQL shared with sqlite under internal/. It imports
// the domain: never the service, HTTP, the bus or an engine.
package postgres
