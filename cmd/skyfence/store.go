package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

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
func (c *StoreConfig) open(ctx context.Context, logger *slog.Logger, mustExist bool) (skyfence.Store, error) {
	switch c.Store {
	case "sqlite":
		path := filepath.Join(c.DataDir, "skyfence.db")
		if _, err := os.Stat(path); mustExist && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (set --data or SKYFENCE_DATA)", path)
		}
		return sqlite.Open(ctx, path, logger)
	case "postgres":
		if c.PostgresURL == "" {
			return nil, errors.New("--store postgres needs --postgres-url or SKYFENCE_POSTGRES_URL")
		}
		return postgres.Open(ctx, c.PostgresURL, logger)
	}
	return nil, fmt.Errorf("--store: unknown store %q (want sqlite or postgres)", c.Store)
}
