package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skyfence/skyfence"
)

// TestRetryable checks which server errors say EUNAVAILABLE: a
// serialization failure and a deadlock, and no other.
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
