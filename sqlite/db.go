package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/sqlstore"
)

// busyTimeout is how long a write waits for another process's write
// transaction on the same file before failing.
const busyTimeout = 10 * time.Second

// DB is a skyfence.Store in an SQLite file. It is safe for concurrent use.
// Tx and SaveStates must not be called from inside the fn of a Tx: the
// writer connection is taken, and the call would wait for itself.
type DB struct {
	reader         // reads on r
	r      *sql.DB // the pool of read-only connections
	w      *sql.DB // the one writer connection
	logger *slog.Logger
	sealer sqlstore.Sealer
}

var _ skyfence.Store = (*DB)(nil)

// Open opens (creating it and its directory if missing) the database file at
// path and brings its schema up to date. A nil logger discards.
func Open(ctx context.Context, path string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || path == ":memory:" {
		return nil, skyfence.Errorf(skyfence.EINVALID, "sqlite: need a file path, not %q", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(abs,
		"_txlock=immediate",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, logger); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", abs, err)
	}
	r, err := sql.Open("sqlite", dsn(abs, "_query_only=1"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{reader: newReader(r), r: r, w: w, logger: logger}, nil
}

// dsn returns the driver's name for the file at abs with the parameters.
func dsn(abs string, params ...string) string {
	s := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?_pragma=busy_timeout(" + fmt.Sprint(busyTimeout.Milliseconds()) + ")"
	for _, p := range params {
		s += "&" + p
	}
	return s
}

// SetAuditSealer has every later transaction that appends audit entries
// sign the audit tree's head with s before it commits.
func (db *DB) SetAuditSealer(s skyfence.AuditSealer) { db.sealer.Set(s) }

// Close closes the database's connections.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Tx runs fn in one write transaction, committing if fn returns nil and
// rolling back if it returns an error or panics (the panic goes on). Reads
// inside fn see its writes; readers outside see them once committed.
func (db *DB) Tx(ctx context.Context, fn func(skyfence.Tx) error) error {
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			t.Rollback() // on error and on panic
		}
	}()
	x := &tx{reader: newReader(t), Tx: sqlstore.NewTx(adapter{t}, &dialect)}
	if err := fn(x); err != nil {
		return err
	}
	if err := x.SealAudit(ctx, db.sealer.Get()); err != nil {
		return err
	}
	done = true
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// querier is what reads and writes run on: the reader pool, or a
// transaction on the writer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements skyfence.Reader: the shared code, on the reader pool
// or a transaction.
type reader struct{ sqlstore.Reader }

func newReader(q querier) reader { return reader{sqlstore.NewReader(adapter{q}, &dialect)} }

// tx implements skyfence.Tx on a transaction of the writer.
type tx struct {
	reader
	sqlstore.Tx
}

var _ skyfence.Tx = (*tx)(nil)

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isConflict reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConflict(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isMissingRef reports whether err is a FOREIGN KEY violation: the row
// refers to one that does not exist.
func isMissingRef(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
