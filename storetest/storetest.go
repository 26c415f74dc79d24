// Package storetest is the one test suite that every skyfence.Store runs
// (package sqlite and package postgres alike), so that both keep exactly the
// semantics documented in the root package's store.go.
//
// A driver's test calls Run with a function that opens a fresh, empty store
// for a test (and closes and removes it at the test's cleanup), and
// RunShared with several handles on one database, as several processes
// would hold. Append and CheckChain serve a test of appends from several
// processes. BenchmarkSaveStates measures the write-behind of ingest,
// BenchmarkForEachTerminal the full scan behind impact previews.
//
// Fixtures are fixed: random data comes from seeded generators, and times
// carry nanoseconds and a zone other than UTC.
//
// storetest owns the store contract's tests. It imports only the domain
// (and golang.org/x/mod's tlog, to check the audit log's tree): never a
// store, whose tests pass it theirs, nor the service, HTTP or the bus.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// Run runs the suite; open must return a fresh, empty store for each test
// and release it at the test's cleanup. The tests run in parallel.
func Run(t *testing.T, open func(t *testing.T) skyfence.Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, skyfence.Store)
	}{
		{"Account", testAccount},
		{"Terminal", testTerminal},
		{"TerminalUpdate", testTerminalUpdate},
		{"TerminalIfStatus", testTerminalIfStatus},
		{"Times", testTimes},
		{"FindTerminals", testFindTerminals},
		{"ForEachTerminal", testForEachTerminal},
		{"Verification", testVerification},
		{"Key", testKey},
		{"KeyUpdate", testKeyUpdate},
		{"Person", testPerson},
		{"CellFIFO", testCellFIFO},
		{"CellCapacityChange", testCellCapacityChange},
		{"CellErrors", testCellErrors},
		{"FindCells", testFindCells},
		{"FindCellsPaging", testFindCellsPaging},
		{"TxRollback", testTxRollback},
		{"TxPanic", testTxPanic},
		{"TxIsolation", testTxIsolation},
		{"TxAfterError", testTxAfterError},
		{"AuditChain", testAuditChain},
		{"AuditFields", testAuditFields},
		{"AuditStream", testAuditStream},
		{"AuditQuery", testAuditQuery},
		{"AuditTree", testAuditTree},
		{"Change", testChange},
		{"ChangeRevisions", testChangeRevisions},
		{"FindChanges", testFindChanges},
		{"States", testStates},
		{"StatesErrors", testStatesErrors},
		{"Alerts", testAlerts},
		{"AlertsLimits", testAlertsLimits},
		{"AlertsErrors", testAlertsErrors},
		{"AlertsPaging", testAlertsPaging},
		{"Incidents", testIncidents},
		{"IncidentsErrors", testIncidentsErrors},
		{"Case", testCase},
		{"CaseErrors", testCaseErrors},
		{"FindCases", testFindCases},
		{"CaseDue", testCaseDue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

// t0 is the base time of the fixtures: nanoseconds and a zone other than
// UTC, so that a store dropping either fails.
var t0 = time.Date(2026, 3, 1, 12, 30, 15, 123456789, time.FixedZone("UTC+2", 2*3600))

// errStop is what callbacks return to stop an iteration.
var errStop = errors.New("stop")

// mustTx runs fn in a transaction of s and fails the test if it fails.
func mustTx(t testing.TB, s skyfence.Store, fn func(ctx context.Context, tx skyfence.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Tx(ctx, func(tx skyfence.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Tx: %v", err)
	}
}

// wantCode fails the test unless err has the code.
func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := skyfence.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// txCode runs fn in a transaction and fails the test unless it returns an
// error with the code.
func txCode(t testing.TB, s skyfence.Store, what, code string, fn func(ctx context.Context, tx skyfence.Tx) error) {
	t.Helper()
	ctx := t.Context()
	wantCode(t, what, s.Tx(ctx, func(tx skyfence.Tx) error { return fn(ctx, tx) }), code)
}

// same fails the test unless got and want are deeply equal.
func same(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, show(got), show(want))
	}
}

// show formats v for a failure message, following pointers and slices of
// pointers.
func show(v any) string {
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.Pointer && !rv.IsNil():
		return fmt.Sprintf("&%+v", rv.Elem().Interface())
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Pointer:
		s := "["
		for i := range rv.Len() {
			s += "\n\t" + show(rv.Index(i).Interface())
		}
		return s + "]"
	}
	return fmt.Sprintf("%+v", v)
}

// account creates an account with the id.
func account(t testing.TB, s skyfence.Store, id string) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		return tx.CreateAccount(ctx, &skyfence.Account{ID: id, Name: "Account " + id, CreatedAt: t0})
	})
}

// terminals creates an account and the terminals with the ids in it.
func terminals(t testing.TB, s skyfence.Store, ids ...string) {
	t.Helper()
	account(t, s, "acct")
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for _, id := range ids {
			if err := tx.CreateTerminal(ctx, &skyfence.Terminal{ID: id, AccountID: "acct", Plan: "residential", Country: "UA"}); err != nil {
				return err
			}
		}
		return nil
	})
}

// utcTerminal returns a copy of t as a store returns it: times in UTC, empty
// groups nil, verifications' terminal ids set.
func utcTerminal(t *skyfence.Terminal) *skyfence.Terminal {
	c := *t
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	if len(c.Groups) == 0 {
		c.Groups = nil
	}
	c.Verifications = nil
	for _, v := range t.Verifications {
		if v.TerminalID == "" {
			v.TerminalID = t.ID
		}
		c.Verifications = append(c.Verifications, *utcVerification(&v))
	}
	return &c
}

// utcVerification returns a copy of v with its times in UTC.
func utcVerification(v *skyfence.Verification) *skyfence.Verification {
	c := *v
	c.VerifiedAt, c.ExpiresAt, c.RevokedAt = utc(c.VerifiedAt), utc(c.ExpiresAt), utc(c.RevokedAt)
	return &c
}

// utc returns t in UTC, leaving the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
