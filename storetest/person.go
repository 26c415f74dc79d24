package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// testPerson: persons are stored by normal-form handle, one person per
// handle, and a handle in another form is refused.
func testPerson(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	eve := &skyfence.Person{ID: "per-eve", Handle: "eve", Name: "Eve", CreatedAt: t0}
	ana := &skyfence.Person{ID: "per-ana", Handle: "ana maría", Name: "Ana María", CreatedAt: t0.Add(time.Second)}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.CreatePerson(ctx, eve); err != nil {
			return err
		}
		return tx.CreatePerson(ctx, ana)
	})
	wantEve, wantAna := *eve, *ana
	wantEve.CreatedAt, wantAna.CreatedAt = eve.CreatedAt.UTC(), ana.CreatedAt.UTC()
	got, err := s.FindPersonByID(ctx, "per-eve")
	if err != nil {
		t.Fatalf("FindPersonByID: %v", err)
	}
	same(t, "FindPersonByID", got, &wantEve)
	got, err = s.FindPersonByHandle(ctx, "ana maría")
	if err != nil {
		t.Fatalf("FindPersonByHandle: %v", err)
	}
	same(t, "FindPersonByHandle", got, &wantAna)
	all, err := s.FindPersons(ctx)
	if err != nil {
		t.Fatalf("FindPersons: %v", err)
	}
	same(t, "FindPersons (by handle)", all, []*skyfence.Person{&wantAna, &wantEve})
	_, err = s.FindPersonByID(ctx, "per-nobody")
	wantCode(t, "FindPersonByID(missing)", err, skyfence.ENOTFOUND)
	_, err = s.FindPersonByHandle(ctx, "Eve")
	wantCode(t, "FindPersonByHandle(not in normal form)", err, skyfence.ENOTFOUND)

	for _, tc := range []struct {
		name, code string
		p          *skyfence.Person
	}{
		{"existing id", skyfence.ECONFLICT, &skyfence.Person{ID: "per-eve", Handle: "eve 2"}},
		{"existing handle", skyfence.ECONFLICT, &skyfence.Person{ID: "per-eve-2", Handle: "eve"}},
		{"no id", skyfence.EINVALID, &skyfence.Person{Handle: "nobody"}},
		{"empty handle", skyfence.EINVALID, &skyfence.Person{ID: "per-x", Handle: ""}},
		{"upper case", skyfence.EINVALID, &skyfence.Person{ID: "per-x", Handle: "EVE"}},
		{"trailing space", skyfence.EINVALID, &skyfence.Person{ID: "per-x", Handle: "eve "}},
		{"fullwidth", skyfence.EINVALID, &skyfence.Person{ID: "per-x", Handle: "ｅｖｅ"}},
		{"zero-width space", skyfence.EINVALID, &skyfence.Person{ID: "per-x", Handle: "e\u200bve"}},
		{"bidi mark", skyfence.EINVALID, &skyfence.Person{ID: "per-x", Handle: "eve\u200f"}},
	} {
		txCode(t, s, "CreatePerson("+tc.name+")", tc.code, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreatePerson(ctx, tc.p)
		})
	}
}

// testKeyUpdate: a partner key is bound to an authority; a pending grant
// is approved once, by compare-and-set, and a revoked one not at all.
func testKeyUpdate(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	p := &skyfence.Person{ID: "per-p", Handle: "p", Name: "P", CreatedAt: t0}
	partner := &skyfence.APIKey{ID: "kp", Name: "old partner", Role: skyfence.RolePartner, Region: "UA", PersonID: p.ID, Person: p.Handle,
		Hash: skyfence.HashKeySecret("p"), CreatedAt: t0}
	grant := &skyfence.APIKey{ID: "ka", Name: "approver", Role: skyfence.RoleApprover, PersonID: p.ID, Person: p.Handle,
		GrantedBy: "per-admin-1", Pending: true, Hash: skyfence.HashKeySecret("a"), CreatedAt: t0}
	revoked := &skyfence.APIKey{ID: "kr", Name: "revoked", Role: skyfence.RoleApprover, PersonID: p.ID, Person: p.Handle,
		GrantedBy: "per-admin-1", Pending: true, Hash: skyfence.HashKeySecret("r"), CreatedAt: t0, RevokedAt: t0.Add(time.Minute)}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.CreatePerson(ctx, p); err != nil {
			return err
		}
		for _, k := range []*skyfence.APIKey{partner, grant, revoked} {
			if err := tx.CreateKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	authority := "UA-MOD"
	var got *skyfence.APIKey
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		got, err = tx.UpdateKey(ctx, "kp", skyfence.KeyUpdate{Authority: &authority})
		return err
	})
	want := *partner
	want.Authority, want.CreatedAt = authority, t0.UTC()
	same(t, "UpdateKey(authority)", got, &want)

	at := t0.Add(time.Hour + 3)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		got, err = tx.UpdateKey(ctx, "ka", skyfence.KeyUpdate{ApprovedBy: "per-admin-2", ApprovedAt: at})
		return err
	})
	wantGrant := *grant
	wantGrant.Pending, wantGrant.ApprovedBy, wantGrant.ApprovedAt, wantGrant.CreatedAt = false, "per-admin-2", at.UTC(), t0.UTC()
	same(t, "UpdateKey(approve)", got, &wantGrant)
	if got, err := s.FindKeyByID(ctx, "ka"); err != nil {
		t.Errorf("FindKeyByID: %v", err)
	} else {
		same(t, "FindKeyByID after approval", got, &wantGrant)
	}
	for _, tc := range []struct {
		name, id, code string
		u              skyfence.KeyUpdate
	}{
		{"approved twice", "ka", skyfence.ECONFLICT, skyfence.KeyUpdate{ApprovedBy: "per-admin-3", ApprovedAt: at}},
		{"a revoked grant", "kr", skyfence.ECONFLICT, skyfence.KeyUpdate{ApprovedBy: "per-admin-2", ApprovedAt: at}},
		{"a key never pending", "kp", skyfence.ECONFLICT, skyfence.KeyUpdate{ApprovedBy: "per-admin-2", ApprovedAt: at}},
		{"no approval time", "kr", skyfence.EINVALID, skyfence.KeyUpdate{ApprovedBy: "per-admin-2"}},
		{"missing key", "nope", skyfence.ENOTFOUND, skyfence.KeyUpdate{Authority: &authority}},
	} {
		txCode(t, s, "UpdateKey("+tc.name+")", tc.code, func(ctx context.Context, tx skyfence.Tx) error {
			_, err := tx.UpdateKey(ctx, tc.id, tc.u)
			return err
		})
	}
	_, err := s.FindKeyByID(ctx, "nope")
	wantCode(t, "FindKeyByID(missing)", err, skyfence.ENOTFOUND)
}

// LegacyKey is an API key as builds before migration 0005 stored it: a
// person by name only, as typed.
type LegacyKey struct{ ID, Name, Person string }

// LegacyKeys are keys of one Eve spelt five ways (one with a zero-width
// space inside), of Bob, and of a gateway named only by the key's name.
// A driver's test stores them in a schema at version 4, opens the store
// (which applies 0005) and calls CheckAdoptedPersons.
var LegacyKeys = []LegacyKey{
	{"k-eve-1", "eve's admin key", "Eve"},
	{"k-eve-2", "eve's approver key", "eve "},
	{"k-eve-3", "eve's author key", "EVE"},
	{"k-eve-4", "eve's emergency key", "Ｅｖｅ"},
	{"k-eve-5", "eve's other key", "E\u200bve"},
	{"k-bob", "bob's key", "Bob"},
	{"k-gw", "Gateway 1", ""},
}

// CheckAdoptedPersons checks that migration 0005 gave LegacyKeys their
// persons: the five Eves one person "eve", Bob another, the gateway a
// person of its key's name; every key working, none pending.
func CheckAdoptedPersons(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	keys, err := s.FindKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*skyfence.APIKey{}
	for _, k := range keys {
		byID[k.ID] = k
	}
	persons, err := s.FindPersons(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var handles []string
	for _, p := range persons {
		handles = append(handles, p.Handle)
	}
	same(t, "persons after migration 0005", handles, []string{"bob", "eve", "gateway 1"})
	eve, err := s.FindPersonByHandle(ctx, "eve")
	if err != nil {
		t.Fatal(err)
	}
	for _, lk := range LegacyKeys {
		k := byID[lk.ID]
		switch {
		case k == nil:
			t.Errorf("key %s is gone", lk.ID)
		case k.PersonID == "" || k.Pending:
			t.Errorf("key %s after migration: person %q, pending %v", lk.ID, k.PersonID, k.Pending)
		case strings.HasPrefix(lk.ID, "k-eve") && (k.PersonID != eve.ID || k.Person != "eve"):
			t.Errorf("key %s of %q is person %s %q, want Eve's %s \"eve\"", lk.ID, lk.Person, k.PersonID, k.Person, eve.ID)
		case !strings.HasPrefix(lk.ID, "k-eve") && k.PersonID == eve.ID:
			t.Errorf("key %s of %q became Eve's", lk.ID, lk.Person)
		}
	}
}
