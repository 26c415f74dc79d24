// Package sqlite stores skyfence's state in one SQLite file, through the
// pure-Go driver modernc.org/sqlite: the embedded default, what a newcomer
// runs first and what the tests use.
//
// The file is in WAL mode with foreign keys on. Every write goes through one
// connection (SQLite allows one writer at a time; a transaction begins
// IMMEDIATE so that other processes sharing the file wait for it, up to the
// busy timeout, rather than fail half-way), and reads go through a separate
// pool of read-only connections that see the last committed state.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch, UTC, so a
// value read back equals the one written (in UTC) to the nanosecond; the zero
// time is NULL. Times outside the years 1678 to 2262 do not fit and are
// refused with EINVALID.
//
// A policy change is stored whole, as the JSON of internal/sqlstore (the
// bytes of json.Marshal, times in UTC), beside columns for its id, state,
// creation time and revision; UpdateChange is a compare-and-set on the
// revision. Transactions run one at a time, so a read-check-update in one
// Tx is safe here even without the compare-and-set fields; they are kept
// for the semantics PostgreSQL needs.
//
// The schema is versioned by the SQL files under migrations/, embedded in the
// binary and applied by Open in one transaction.
//
// sqlite owns the SQLite implementation of skyfence.Store and its
// migrations, over the SQL shared with postgres under internal/. It imports
// the domain: never the service, HTTP, the bus or an engine.
package sqlite
