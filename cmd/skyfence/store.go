package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/postgres"
	"github.com/skyfence/skyfence/sqlite"
)

// StoreConfig says which store a command opens: the flags and environment
// variables every command that reads the store shares with serve.
type StoreConfig struct {
	Store       string
	DataDir     string
	PostgresURL string
}

// envOr returns the environment variable name, or def if it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// flags binds the configuration to flags, with the environment as defaults.
func (c *StoreConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Store, "store", envOr("SKYFENCE_STORE", "sqlite"), "`store`: sqlite or postgres [SKYFENCE_STORE]")
	fs.StringVar(&c.DataDir, "data", envOr("SKYFENCE_DATA", "data"), "`directory` of the SQLite database (skyfence.db) and the audit key [SKYFENCE_DATA]")
	fs.StringVar(&c.PostgresURL, "postgres-url", envOr("SKYFENCE_POSTGRES_URL", ""), "PostgreSQL `URL` for --store postgres [SKYFENCE_POSTGRES_URL]")
}

// open opens the store. With mustExist it refuses an SQLite file that does
// not exist rather than create an empty one (an empty audit log verifies).
// On error the store is nil, never an interface holding a nil *DB.
func (c *StoreConfig) open(ctx context.Context, logger *slog.Logger, mustExist bool) (skyfence.Store, error) {
	switch c.Store {
	case "sqlite":
		path := filepath.Join(c.DataDir, "skyfence.db")
		if _, err := os.Stat(path); mustExist && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (set --data or SKYFENCE_DATA)", path)
		}
		db, err := sqlite.Open(ctx, path, logger)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		return db, nil
	case "postgres":
		if c.PostgresURL == "" {
			return nil, errors.New("--store postgres needs --postgres-url or SKYFENCE_POSTGRES_URL")
		}
		db, err := postgres.Open(ctx, c.PostgresURL, logger)
		if err != nil {
			// Not the URL: it may hold a password. pgx's errors name
			// the host, the user and the database.
			return nil, fmt.Errorf("store postgres (--postgres-url): %w", err)
		}
		return db, nil
	}
	return nil, fmt.Errorf("--store: unknown store %q (want sqlite or postgres)", c.Store)
}

// lockFile is the file of the data directory a server on SQLite holds
// locked while it runs.
const lockFile = "serve.lock"

// lockData takes the data directory's lock for a server on SQLite: a
// second server on the same database fails at start, rather than run
// beside the first with a registry of its own in memory (neither would
// see the other's changes). The lock goes when the file is closed or the
// process ends, however it ends; the file holds the process id, for the
// message of the next server refused.
func lockData(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("--data %s: locking %s: %w", dir, path, err)
		}
		who := "another skyfence serve"
		if b, _ := os.ReadFile(path); len(bytes.TrimSpace(b)) > 0 {
			who += " (pid " + string(bytes.TrimSpace(b)) + ")"
		}
		return nil, fmt.Errorf("--data %s: %s is using %s; stop it, or give this server another --data", dir, who, filepath.Join(dir, "skyfence.db"))
	}
	// The process id only makes that message better: failing to write it
	// does not matter.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}
