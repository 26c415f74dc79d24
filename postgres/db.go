package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlstore"
)

// DB is a skyfence.Store in a PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	reader // reads on pool
	pool   *pgxpool.Pool
	logger *slog.Logger
	sealer sqlstore.Sealer
}

var _ skyfence.Store = (*DB)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	schema string
}

// WithSchema keeps every table in the named schema (created if missing)
// instead of the URL's search_path: a database can then hold several
// skyfence stores, one per test for instance.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string) and brings its schema up to date. A nil logger
// discards.
func Open(ctx context.Context, url string, logger *slog.Logger, opts ...Option) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// An unreachable server fails a request quickly rather than hang
		// it (connect_timeout in the URL overrides).
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if o.schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool, o.schema, logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return &DB{reader: newReader(retrying{pool}, nil), pool: pool, logger: logger}, nil
}

// SetAuditSealer has every later transaction that appends audit entries
// sign the audit tree's head with s before it commits.
func (db *DB) SetAuditSealer(s skyfence.AuditSealer) { db.sealer.Set(s) }

// Close closes the database's connections, waiting for those in use.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Tx runs fn in one transaction (READ COMMITTED), committing if fn returns
// nil and rolling back if it returns an error or panics (the panic goes
// on). While a ForEach... of the transaction streams, fn must not call
// other methods of it: the connection is busy.
//
// If the server aborts the transaction to break a deadlock, or for a
// serialization failure, the error of the statement (and of Tx, if fn
// returns it) has the code EUNAVAILABLE: running fn again in a new
// transaction may well succeed.
func (db *DB) Tx(ctx context.Context, fn func(skyfence.Tx) error) error {
	t, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", retryable(err))
	}
	done := false
	defer func() {
		if !done {
			t.Rollback(context.WithoutCancel(ctx)) // on error and on panic
		}
	}()
	x := newTx(t)
	if err := fn(x); err != nil {
		return retryable(err)
	}
	if err := x.SealAudit(ctx, db.sealer.Get()); err != nil {
		return retryable(err)
	}
	done = true
	if err := t.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", retryable(err))
	}
	return nil
}

// querier is what reads and writes run on: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader implements skyfence.Reader: the shared code, on the pool or a
// transaction.
type reader struct{ sqlstore.Reader }

// newReader returns the reader on q; t is the transaction q runs in, or
// nil.
func newReader(q querier, t *tx) reader { return reader{sqlstore.NewReader(adapter{q, t}, &dialect)} }

// tx implements skyfence.Tx on a transaction. Statements run on t with
// errors made retryable (retrying), t itself serving batches.
type tx struct {
	reader
	sqlstore.Tx
	t pgx.Tx
}

var _ skyfence.Tx = (*tx)(nil)

// newTx returns the tx of t: the shared code's statements that may fail on
// a constraint run in a savepoint of t (guarded).
func newTx(t pgx.Tx) *tx {
	x := &tx{t: t}
	x.reader = newReader(retrying{t}, x)
	x.Tx = sqlstore.NewTx(adapter{retrying{t}, x}, &dialect)
	return x
}

// guarded runs one statement in a savepoint, in one round trip when it
// succeeds: if it fails, the savepoint is rolled back and the transaction
// stays usable.
func (t *tx) guarded(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	b.Queue("SAVEPOINT skyfence_stmt")
	b.Queue(sql, args...)
	b.Queue("RELEASE SAVEPOINT skyfence_stmt")
	res := t.t.SendBatch(ctx, b)
	_, err := res.Exec()
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = res.Exec()
	}
	if err == nil {
		_, err = res.Exec()
	}
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if _, rerr := t.t.Exec(ctx, "ROLLBACK TO SAVEPOINT skyfence_stmt"); rerr != nil {
			return tag, retryable(errors.Join(err, rerr))
		}
	}
	return tag, retryable(err)
}

// SQLSTATEs recognised.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// retryable returns err with the code EUNAVAILABLE if the server aborted
// the transaction to let another go on (a deadlock, a serialization
// failure), which a new attempt may not meet, or if the database could not
// be reached; else (and if err has a code already) err itself. The
// driver's error stays in the chain.
func retryable(err error) error {
	var msg string
	switch s := sqlState(err); {
	case s == serializationFailure || s == deadlockDetected:
		msg = "the database aborted the transaction for a conflict with another one; try again"
	case unreachable(err):
		msg = "the database cannot be reached; try again"
	default:
		return err
	}
	var e *skyfence.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%w: %w", skyfence.Errorf(skyfence.EUNAVAILABLE, "%s", msg), err)
}

// unreachable reports whether err says the database could not be reached,
// the connection was lost, or the server will not take connections now
// (SQLSTATE class 08, shutting down, starting up, too many connections).
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch s := sqlState(err); {
	case s != "":
		return strings.HasPrefix(s, "08") || s == "57P01" || s == "57P02" || s == "57P03" || s == "53300"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false // the caller gave up: not the database's doing
	default:
		return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
			errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	}
}

// retrying is a querier whose errors are made retryable.
type retrying struct{ q querier }

func (r retrying) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := r.q.Exec(ctx, sql, args...)
	return tag, retryable(err)
}

func (r retrying) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := r.q.Query(ctx, sql, args...)
	if err != nil {
		return rows, retryable(err)
	}
	return retryingRows{rows}, nil
}

func (r retrying) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return retryingRow{r.q.QueryRow(ctx, sql, args...)}
}

type retryingRows struct{ pgx.Rows }

func (r retryingRows) Err() error { return retryable(r.Rows.Err()) }

type retryingRow struct{ pgx.Row }

func (r retryingRow) Scan(dest ...any) error { return retryable(r.Row.Scan(dest...)) }

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isConflict reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConflict(err error) bool { return sqlState(err) == uniqueViolation }

// isMissingRef reports whether err is a FOREIGN KEY violation: the row
// refers to one that does not exist.
func isMissingRef(err error) bool { return sqlState(err) == foreignKeyViolation }
