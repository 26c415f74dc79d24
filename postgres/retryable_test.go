package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skyfence/skyfence"
)

// TestRetryable checks which errors say EUNAVAILABLE: a serialization
// failure, a deadlock and a database that cannot be reached, and no other.
func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{&pgconn.PgError{Code: "40001", Message: "could not serialize access"}, skyfence.EUNAVAILABLE},
		{&pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, skyfence.EUNAVAILABLE},
		{fmt.Errorf("postgres: update: %w", &pgconn.PgError{Code: "40P01"}), skyfence.EUNAVAILABLE},
		{&pgconn.PgError{Code: "23505"}, skyfence.EINTERNAL},
		{&pgconn.PgError{Code: "25P02"}, skyfence.EINTERNAL}, // in an aborted transaction: retrying the statement is no use
		{errors.New("conn closed"), skyfence.EINTERNAL},
		// The database cannot be reached, or the connection was lost.
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, skyfence.EUNAVAILABLE},
		{fmt.Errorf("postgres: begin: %w", io.ErrUnexpectedEOF), skyfence.EUNAVAILABLE},
		{fmt.Errorf("postgres: begin: %w", pgconn.ErrConnClosed), skyfence.EUNAVAILABLE},
		{&pgconn.PgError{Code: "08006"}, skyfence.EUNAVAILABLE},
		{&pgconn.PgError{Code: "57P01"}, skyfence.EUNAVAILABLE},
		{context.Canceled, skyfence.EINTERNAL}, // the caller gave up
		// A code given already stays.
		{fmt.Errorf("%w: %w", skyfence.Errorf(skyfence.ECONFLICT, "x"), &pgconn.PgError{Code: "40001"}), skyfence.ECONFLICT},
	} {
		err := retryable(tc.err)
		if got := skyfence.ErrorCode(err); got != tc.code {
			t.Errorf("retryable(%v): code %q, want %q", tc.err, got, tc.code)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("retryable(%v) = %v, which does not wrap it", tc.err, err)
		}
	}
	if retryable(nil) != nil {
		t.Errorf("retryable(nil) != nil")
	}
}
