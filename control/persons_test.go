package control_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
)

// rawStore is a store and a way around it: SQL run on its database
// directly, as an insider with database access would.
type rawStore struct {
	skyfence.Store
	exec func(t *testing.T, query string, args ...any) error
}

// forEachRawStore runs fn on a fresh store of every kind, with raw SQL.
func forEachRawStore(t *testing.T, fn func(t *testing.T, s rawStore)) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) {
			switch kind {
			case "sqlite":
				path := t.TempDir() + "/skyfence.db"
				store := teststore.SQLite(t, path)
				db, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				fn(t, rawStore{store, func(t *testing.T, q string, args ...any) error {
					_, err := db.ExecContext(t.Context(), q, args...)
					return err
				}})
			case "postgres":
				store, schema := teststore.Postgres(t)
				cfg, err := pgx.ParseConfig(os.Getenv(teststore.EnvPostgres))
				if err != nil {
					t.Fatal(err)
				}
				cfg.RuntimeParams["search_path"] = schema
				conn, err := pgx.ConnectConfig(t.Context(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close(context.Background()) })
				fn(t, rawStore{store, func(t *testing.T, q string, args ...any) error {
					for i := range args {
						q = strings.Replace(q, "?", fmt.Sprintf("$%d", i+1), 1)
					}
					_, err := conn.Exec(t.Context(), q, args...)
					return err
				}})
			}
		})
	}
}

// login authenticates a secret, failing the test if it does not work.
func login(t *testing.T, svc *control.Service, secret string) context.Context {
	t.Helper()
	p, err := svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return control.WithPrincipal(context.Background(), p)
}

// admins bootstraps the service and returns its two admins, logged in.
func admins(t *testing.T, svc *control.Service) (context.Context, context.Context) {
	t.Helper()
	secrets, err := svc.Bootstrap(context.Background())
	if err != nil || len(secrets) != 2 {
		t.Fatalf("bootstrap: %d keys, %v", len(secrets), err)
	}
	return login(t, svc, secrets[0]), login(t, svc, secrets[1])
}

// grant has admin make a key and, if it is a pending grant, second
// approve it; it returns the key's holder logged in.
func grant(t *testing.T, svc *control.Service, admin, second context.Context, in control.KeyInput) (*skyfence.APIKey, context.Context) {
	t.Helper()
	k, secret, err := svc.CreateKey(admin, in)
	if err != nil {
		t.Fatalf("create key %+v: %v", in, err)
	}
	if k.Pending {
		if _, err := svc.ApproveKey(second, k.ID, "checked who they are"); err != nil {
			t.Fatalf("approve key %s: %v", k.ID, err)
		}
	}
	return k, login(t, svc, secret)
}

// TestOnePersonManySpellings: Eve's keys, whatever way her name is
// written, are one person's, who may not review her own change; a name
// with an invisible character in it is refused.
func TestOnePersonManySpellings(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		svc := newService(t, store, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		a1, a2 := admins(t, svc)
		authorKey, eve := grant(t, svc, a1, a2, control.KeyInput{Name: "eve writes", Person: "Eve", Role: skyfence.RolePolicyAuthor})
		c := draft(t, svc, eve, control.ChangeInput{})
		if _, err := svc.ProposeChange(eve, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, spelling := range []string{"Eve", "eve ", "EVE", "Ｅｖｅ", " \u00a0eVe\u3000"} {
			k, as := grant(t, svc, a1, a2, control.KeyInput{Name: "approver " + spelling, Person: spelling, Role: skyfence.RoleApprover})
			if k.PersonID != authorKey.PersonID {
				t.Errorf("%q is person %s, Eve is %s", spelling, k.PersonID, authorKey.PersonID)
			}
			if _, err := svc.ReviewChange(as, c.ID, true, "mine, but another key"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
				t.Errorf("Eve as %q approving her own change: %v, want forbidden", spelling, err)
			}
		}
		for _, spelling := range []string{"E\u200bve", "Eve\u200d", "\u202eEve", "Eve\u200f", "Ev\u00ade"} {
			_, _, err := svc.CreateKey(a1, control.KeyInput{Name: "approver", Person: spelling, Role: skyfence.RoleApprover})
			if e, _ := err.(*skyfence.Error); e == nil || e.Code != skyfence.EINVALID || e.Field != "person" {
				t.Errorf("key for %q: %v, want invalid person", spelling, err)
			}
			if _, err := svc.CreatePerson(a1, control.PersonInput{Name: spelling}); skyfence.ErrorCode(err) != skyfence.EINVALID {
				t.Errorf("person %q: %v, want invalid", spelling, err)
			}
		}
		if _, err := svc.CreatePerson(a1, control.PersonInput{Name: "ＥＶＥ "}); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("registering Eve again as ＥＶＥ: %v, want conflict", err)
		}
		// Two other persons approve it.
		for _, who := range []string{"bob", "carol"} {
			_, as := grant(t, svc, a1, a2, control.KeyInput{Name: who, Role: skyfence.RoleApprover})
			if _, err := svc.ReviewChange(as, c.ID, true, "reviewed"); err != nil {
				t.Fatalf("%s approving: %v", who, err)
			}
		}
		if _, err := svc.ActivateChange(eve, c.ID); err != nil {
			t.Errorf("activate with two others' approvals: %v", err)
		}
	})
}

// TestAdminCannotMintASecondSelf: an admin who makes approver or admin
// keys for invented persons cannot use them, nor approve them, so their
// own change stays unapproved until a second admin vouches for each.
func TestAdminCannotMintASecondSelf(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		svc := newService(t, store, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		a1, a2 := admins(t, svc)
		c := draft(t, svc, a1, control.ChangeInput{})
		if _, err := svc.ProposeChange(a1, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			person string
			role   skyfence.Role
		}{
			{"mallory", skyfence.RoleApprover},
			{"trudy", skyfence.RoleApprover},
			{"admin 3", skyfence.RoleAdmin},
			{"erin", skyfence.RoleEmergency},
			{"ivan", skyfence.RoleInvestigator},
			{"paul", skyfence.RolePolicyAuthor},
		} {
			k, secret, err := svc.CreateKey(a1, control.KeyInput{Name: tc.person, Role: tc.role})
			if err != nil {
				t.Fatal(err)
			}
			if !k.Pending {
				t.Errorf("a %s key was made working by one admin", tc.role)
			}
			if _, err := svc.Authenticate(context.Background(), secret); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
				t.Errorf("the pending %s key of %s authenticated: %v", tc.role, tc.person, err)
			}
			if _, err := svc.ApproveKey(a1, k.ID, "it is me"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
				t.Errorf("admin 1 approving their own %s grant: %v", tc.role, err)
			}
		}
		if _, err := svc.ActivateChange(a1, c.ID); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("activated without approvals: %v", err)
		}
		// A grant for the second admin is not theirs to approve either.
		k, _, err := svc.CreateKey(a1, control.KeyInput{Name: "a2 approves", Person: "admin 2", Role: skyfence.RoleApprover})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ApproveKey(a2, k.ID, ""); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("admin 2 approving a grant to themselves: %v", err)
		}
		// Admin 1's own approver key, approved by admin 2, is still admin 1.
		_, self := grant(t, svc, a1, a2, control.KeyInput{Name: "a1 approves", Person: "Admin 1", Role: skyfence.RoleApprover})
		if _, err := svc.ReviewChange(self, c.ID, true, "with my approver key"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("admin 1 approving their own change with an approver key: %v", err)
		}
		// Non-service roles need no second admin.
		if k, _, err := svc.CreateKey(a1, control.KeyInput{Name: "dashboard", Role: skyfence.RoleViewer}); err != nil || k.Pending {
			t.Errorf("viewer key: pending %v, %v", k != nil && k.Pending, err)
		}
		var grants, approvals int
		entries, err := store.FindAudit(context.Background(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			switch e.Action {
			case "key.create":
				grants++
			case "key.approve":
				approvals++
			}
		}
		if grants < 9 || approvals != 1 {
			t.Errorf("audit: %d key.create and %d key.approve, want every grant and the one approval", grants, approvals)
		}
	})
}

// TestRawKeyRowsAreNobody: a key row written around the service, with a
// person by name only or a person row not in normal form, does not
// authenticate; one naming Eve's person by id is Eve, whatever name it
// carries.
func TestRawKeyRowsAreNobody(t *testing.T) {
	forEachRawStore(t, func(t *testing.T, s rawStore) {
		svc := newService(t, s, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		a1, a2 := admins(t, svc)
		evesKey, eve := grant(t, svc, a1, a2, control.KeyInput{Name: "eve", Person: "Eve", Role: skyfence.RolePolicyAuthor})
		c := draft(t, svc, eve, control.ChangeInput{})
		if _, err := svc.ProposeChange(eve, c.ID); err != nil {
			t.Fatal(err)
		}
		insert := func(id, person, personID string) string {
			secret := "sfk_" + id + "_raw"
			err := s.exec(t, `INSERT INTO api_keys (id, name, role, region, person, hash, created_at, person_id) VALUES (?, ?, 'approver', '', ?, ?, 1, ?)`,
				id, id, person, skyfence.HashKeySecret(secret), personID)
			if err != nil {
				t.Fatalf("raw insert of key %s: %v", id, err)
			}
			return secret
		}
		for _, tc := range []struct{ id, person string }{{"raw-1", "EVE "}, {"raw-2", "mallory"}, {"raw-3", "E\u200bve"}} {
			secret := insert(tc.id, tc.person, "")
			if _, err := svc.Authenticate(context.Background(), secret); skyfence.ErrorCode(err) != skyfence.EUNAUTHORIZED {
				t.Errorf("raw key of %q without a person id: %v, want unauthorized", tc.person, err)
			}
		}
		for _, tc := range []struct{ id, handle string }{{"per-raw-1", "Eve"}, {"per-raw-2", "eve "}, {"per-raw-3", "e\u200bve"}, {"per-raw-4", "ｅｖｅ"}} {
			if err := s.exec(t, `INSERT INTO persons (id, handle, name, created_at) VALUES (?, ?, ?, 1)`, tc.id, tc.handle, tc.handle); err != nil {
				continue // the database's own check refused it
			}
			secret := insert("key-"+tc.id, tc.handle, tc.id)
			if _, err := svc.Authenticate(context.Background(), secret); skyfence.ErrorCode(err) != skyfence.EUNAUTHORIZED {
				t.Errorf("raw key of a raw person %q: %v, want unauthorized", tc.handle, err)
			}
		}
		// A raw key of Eve's person, whatever name is written on it, is Eve.
		as := login(t, svc, insert("raw-eve", "someone else", evesKey.PersonID))
		if _, err := svc.ReviewChange(as, c.ID, true, "not me, honest"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("Eve's raw key named someone else approving her change: %v, want forbidden", err)
		}
	})
}

// TestPartnerBoundToAuthority: a partner key records its own authority's
// verifications, for its region, of the classes the policy lets that
// authority grant; one made before partner keys had an authority reads
// but does not verify until an admin binds it.
func TestPartnerBoundToAuthority(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		svc := newService(t, store, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		a1, _ := admins(t, svc)
		if err := svc.CreateAccount(a1, &skyfence.Account{ID: "acct-1"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"ut-1", "ut-2"} {
			if err := svc.CreateTerminal(a1, &skyfence.Terminal{ID: id, AccountID: "acct-1", Plan: "roam", Country: "UA"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct{ region, authority, field string }{
			{"UA", "", "authority"},
			{"UA", "PL-MOD", "authority"},
			{"UA", "US-DOD", "authority"},
			{"", "UA-MOD", "region"},
		} {
			_, _, err := svc.CreateKey(a1, control.KeyInput{Name: "partner", Role: skyfence.RolePartner, Region: tc.region, Authority: tc.authority})
			if e, _ := err.(*skyfence.Error); e == nil || e.Code != skyfence.EINVALID || e.Field != tc.field {
				t.Errorf("partner key for %q of %q: %v, want invalid %s", tc.region, tc.authority, err, tc.field)
			}
		}
		_, ua := grant(t, svc, a1, nil, control.KeyInput{Name: "UA defence ministry", Role: skyfence.RolePartner, Region: "UA", Authority: "UA-MOD"})
		_, pl := grant(t, svc, a1, nil, control.KeyInput{Name: "PL defence ministry", Role: skyfence.RolePartner, Region: "PL", Authority: "PL-MOD"})
		for _, tc := range []struct {
			name  string
			as    context.Context
			v     skyfence.Verification
			field string
		}{
			{"UA naming PL-MOD", ua, skyfence.Verification{TerminalID: "ut-1", Region: "UA", Authority: "PL-MOD", Class: skyfence.Military}, "authority"},
			{"UA naming US-DOD", ua, skyfence.Verification{TerminalID: "ut-1", Region: "UA", Authority: "US-DOD", Class: skyfence.Military}, "authority"},
			{"UA in another region", ua, skyfence.Verification{TerminalID: "ut-1", Region: "PL", Authority: "UA-MOD"}, "region"},
			{"PL granting military", pl, skyfence.Verification{TerminalID: "ut-1", Region: "PL", Authority: "PL-MOD", Class: skyfence.Military}, "class"},
			{"PL without naming itself, military", pl, skyfence.Verification{TerminalID: "ut-1", Region: "PL", Class: skyfence.Military}, "class"},
			{"an admin naming US-DOD", a1, skyfence.Verification{TerminalID: "ut-1", Region: "UA", Authority: "US-DOD", Class: skyfence.Military}, "authority"},
			{"an admin naming PL-MOD for UA", a1, skyfence.Verification{TerminalID: "ut-1", Region: "UA", Authority: "PL-MOD"}, "region"},
		} {
			err := svc.CreateVerification(tc.as, &tc.v)
			if e, _ := err.(*skyfence.Error); e == nil || e.Code != skyfence.EFORBIDDEN || e.Field != tc.field {
				t.Errorf("%s: %v, want forbidden %s", tc.name, err, tc.field)
			}
		}
		v := &skyfence.Verification{TerminalID: "ut-1", Region: "UA", Class: skyfence.Military}
		if err := svc.CreateVerification(ua, v); err != nil || v.Authority != "UA-MOD" {
			t.Errorf("UA verifying without naming itself: %v, authority %q", err, v.Authority)
		}
		if err := svc.CreateVerification(pl, &skyfence.Verification{TerminalID: "ut-2", Region: "PL", Class: skyfence.Government}); err != nil {
			t.Errorf("PL granting government: %v", err)
		}
		vs, _ := svc.Verifications(a1, skyfence.VerificationFilter{})
		if len(vs) != 2 {
			t.Errorf("%d verifications recorded, want the 2 allowed", len(vs))
		}

		// A partner key from before: it reads, it does not verify until bound.
		mustTx(t, store, func(tx skyfence.Tx) error {
			p, err := tx.FindPersonByHandle(context.Background(), "ua defence ministry")
			if err != nil {
				return err
			}
			return tx.CreateKey(context.Background(), &skyfence.APIKey{ID: "key-old", Name: "old UA key", Role: skyfence.RolePartner, Region: "UA",
				PersonID: p.ID, Person: p.Handle, Hash: skyfence.HashKeySecret("sfk_key-old_x"), CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		})
		old := login(t, svc, "sfk_key-old_x")
		if vs, err := svc.Verifications(old, skyfence.VerificationFilter{}); err != nil || len(vs) != 1 {
			t.Errorf("the unbound key reading its region: %d, %v", len(vs), err)
		}
		err := svc.CreateVerification(old, &skyfence.Verification{TerminalID: "ut-2", Region: "UA", Authority: "UA-MOD"})
		if e, _ := err.(*skyfence.Error); e == nil || e.Code != skyfence.EFORBIDDEN || e.Field != "authority" {
			t.Errorf("the unbound key verifying: %v, want forbidden authority", err)
		}
		if _, err := svc.BindKey(a1, "key-old", "PL-MOD"); skyfence.ErrorCode(err) != skyfence.EINVALID {
			t.Errorf("binding a UA key to PL-MOD: %v, want invalid", err)
		}
		if _, err := svc.BindKey(ua, "key-old", "UA-MOD"); skyfence.ErrorCode(err) != skyfence.EFORBIDDEN {
			t.Errorf("a partner binding a key: %v, want forbidden", err)
		}
		if k, err := svc.BindKey(a1, "key-old", "UA-MOD"); err != nil || k.Authority != "UA-MOD" {
			t.Fatalf("binding: %+v, %v", k, err)
		}
		if _, err := svc.BindKey(a1, "key-old", "UA-MOD"); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("binding again: %v, want conflict", err)
		}
		old = login(t, svc, "sfk_key-old_x")
		if err := svc.CreateVerification(old, &skyfence.Verification{TerminalID: "ut-2", Region: "UA"}); err != nil {
			t.Errorf("the bound key verifying: %v", err)
		}
		entries, _ := store.FindAudit(context.Background(), 1, 0)
		bound := false
		for _, e := range entries {
			bound = bound || (e.Action == "key.bind" && e.Subject == "key-old")
		}
		if !bound {
			t.Error("the binding is not in the audit log")
		}
	})
}

// TestBootstrapAdmins: a new store gets two admins, two persons, once; a
// store from before with one admin gets a second, once.
func TestBootstrapAdmins(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		svc := newService(t, store, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		a1, a2 := admins(t, svc)
		p1, p2 := control.PrincipalFrom(a1), control.PrincipalFrom(a2)
		if p1.PersonID == p2.PersonID || p1.Role != skyfence.RoleAdmin || p2.Role != skyfence.RoleAdmin {
			t.Errorf("bootstrap admins %+v and %+v, want two admin persons", p1, p2)
		}
		if more, err := svc.Bootstrap(context.Background()); err != nil || len(more) != 0 {
			t.Errorf("bootstrap again: %d keys, %v", len(more), err)
		}
	})
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		mustTx(t, store, func(tx skyfence.Tx) error {
			ctx := context.Background()
			if err := tx.CreatePerson(ctx, &skyfence.Person{ID: "per-old", Handle: "admin", Name: "admin"}); err != nil {
				return err
			}
			return tx.CreateKey(ctx, &skyfence.APIKey{ID: "key-old", Name: "bootstrap admin", Role: skyfence.RoleAdmin, PersonID: "per-old", Person: "admin", Hash: skyfence.HashKeySecret("old")})
		})
		svc := newService(t, store, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		secrets, err := svc.Bootstrap(context.Background())
		if err != nil || len(secrets) != 1 {
			t.Fatalf("bootstrap of a store with one admin: %d keys, %v", len(secrets), err)
		}
		if p := control.PrincipalFrom(login(t, svc, secrets[0])); p.PersonID == "per-old" {
			t.Error("the second admin is the first")
		}
		if more, _ := svc.Bootstrap(context.Background()); len(more) != 0 {
			t.Errorf("bootstrap again: %d keys", len(more))
		}
	})
	// Upgraded with two admins, one revokes the other and restarts: no new
	// admin appears.
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		mustTx(t, store, func(tx skyfence.Tx) error {
			ctx := context.Background()
			for _, who := range []string{"eve", "adam"} {
				if err := tx.CreatePerson(ctx, &skyfence.Person{ID: "per-" + who, Handle: who, Name: who}); err != nil {
					return err
				}
				if err := tx.CreateKey(ctx, &skyfence.APIKey{ID: "key-" + who, Name: who, Role: skyfence.RoleAdmin, PersonID: "per-" + who, Person: who, Hash: skyfence.HashKeySecret(who)}); err != nil {
					return err
				}
			}
			return nil
		})
		svc := newService(t, store, &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		defer svc.Close(context.Background())
		if secrets, err := svc.Bootstrap(context.Background()); err != nil || len(secrets) != 0 {
			t.Fatalf("bootstrap of a store with two admins: %d keys, %v", len(secrets), err)
		}
		eve := control.WithPrincipal(context.Background(), &control.Principal{KeyID: "key-eve", PersonID: "per-eve", Person: "eve", Role: skyfence.RoleAdmin})
		if _, err := svc.RevokeKey(eve, "key-adam", "gone"); err != nil {
			t.Fatal(err)
		}
		if secrets, _ := svc.Bootstrap(context.Background()); len(secrets) != 0 {
			t.Errorf("after eve revoked adam, a restart made %d admin keys", len(secrets))
		}
	})
}

func mustTx(t *testing.T, store skyfence.Store, fn func(tx skyfence.Tx) error) {
	t.Helper()
	if err := store.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestRawVerificationsLiftNothing: a military verification written into
// the store around the service, by an authority the policy does not list
// or by one that may not grant military, does not lift the 75 km/h cap of
// a terminal UA-MOD whitelisted (civil) once a restart reads it; UA-MOD's
// own military verification does.
func TestRawVerificationsLiftNothing(t *testing.T) {
	forEachRawStore(t, func(t *testing.T, s rawStore) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		svc := newService(t, s, clk)
		a1, _ := admins(t, svc)
		if err := svc.CreateAccount(a1, &skyfence.Account{ID: "acct-1"}); err != nil {
			t.Fatal(err)
		}
		military := map[string]string{"ut-us": "US-DOD", "ut-pl": "PL-MOD", "ut-ok": "UA-MOD"}
		for id, authority := range military {
			if err := svc.CreateTerminal(a1, &skyfence.Terminal{ID: id, AccountID: "acct-1", Plan: "roam", Country: "UA"}); err != nil {
				t.Fatal(err)
			}
			if err := svc.CreateVerification(a1, &skyfence.Verification{TerminalID: id, Region: "UA", Authority: "UA-MOD", Class: skyfence.Civil}); err != nil {
				t.Fatal(err)
			}
			if err := s.exec(t, `INSERT INTO verifications (id, terminal_id, region, authority, class, verified_at) VALUES (?, ?, 'UA', ?, 'military', 1)`,
				"ver-raw-"+id, id, authority); err != nil {
				t.Fatal(err)
			}
		}
		svc.Close(context.Background())
		svc = newService(t, s, clk) // a restart reads the terminals and their verifications
		defer svc.Close(context.Background())
		_, gw := grant(t, svc, a1, nil, control.KeyInput{Name: "gateway", Role: skyfence.RoleGateway})
		for id, authority := range military {
			if a, err := svc.Activate(a1, id, 50.45, 30.52); err != nil || a.Outcome != "activated" {
				t.Fatalf("activate %s: %+v %v", id, a, err)
			}
			clk.add(time.Minute)
			out := make([]authorizer.Result, 1)
			if err := ingest(svc, gw, []skyfence.Fix{{TerminalID: id, Time: clk.now(), Lat: 50.45, Lon: 30.52, SpeedKmh: 90}}, out); err != nil || out[0].Err != nil {
				t.Fatalf("ingest: %v %v", err, out[0].Err)
			}
			want := "speed_limit"
			if authority == "UA-MOD" {
				want = "ok"
			}
			if d := out[0].Decision; d.Reason.String() != want {
				t.Errorf("%s, military by %s, at 90 km/h in Kyiv: %s (exempt by %q), want %s", id, authority, d.Reason, d.ExemptBy, want)
			}
		}
	})
}
