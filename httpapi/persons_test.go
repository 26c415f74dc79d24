package httpapi_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
)

// forEachStore runs fn on an API over a fresh store of every kind.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env, store skyfence.Store)) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) {
			store := teststore.Open(t, kind)
			fn(t, newEnvOn(t, store), store)
		})
	}
}

// newKey has admin make a key from in and stores its secret as e.keys[as];
// it returns the key as created (pending or not).
func (e *env) newKey(as string, in map[string]string) skyfence.APIKey {
	e.t.Helper()
	var out struct {
		Secret string
		Key    skyfence.APIKey
	}
	e.must("admin", "POST", "/v1/keys", in, 201, &out)
	e.keys[as] = out.Secret
	return out.Key
}

// proposeExample drafts and proposes the example policy as key, returning
// the change's id.
func (e *env) proposeExample(key string) string {
	e.t.Helper()
	doc, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	zones, err := os.ReadFile("../examples/policy/zones.geojson")
	if err != nil {
		e.t.Fatal(err)
	}
	var c struct{ ID string }
	e.must(key, "POST", "/v1/changes", map[string]any{"title": "same again", "justification": "a test", "requester": "internal", "category": "other",
		"files": []map[string]string{{"name": "policy.yaml", "content": string(doc)}, {"name": "zones.geojson", "content": string(zones)}}}, 201, &c)
	e.must(key, "POST", "/v1/changes/"+c.ID+"/propose", nil, 200, nil)
	return c.ID
}

// TestHTTPOnePersonManySpellings: over HTTP, Eve's keys made under five
// spellings of her name are one person's, and none approves her change;
// a name with a zero-width space is refused; the registry lists her once.
func TestHTTPOnePersonManySpellings(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env, _ skyfence.Store) {
		author := e.newKey("eve", map[string]string{"name": "eve writes", "person": "Eve", "role": "policy_author"})
		if !author.Pending {
			t.Fatal("a policy_author key worked without a second admin")
		}
		e.wantError("eve", "GET", "/v1/changes", nil, 403, "forbidden", "")
		e.wantError("admin", "POST", "/v1/keys/"+author.ID+"/approve", nil, 403, "forbidden", "")
		e.must("admin2", "POST", "/v1/keys/"+author.ID+"/approve", map[string]string{"comment": "it is Eve"}, 200, nil)
		e.wantError("admin2", "POST", "/v1/keys/"+author.ID+"/approve", nil, 409, "conflict", "")
		id := e.proposeExample("eve")
		for i, spelling := range []string{"Eve", "eve ", "EVE", "Ｅｖｅ", "\u00a0eve\u3000"} {
			as := "eve-approver-" + string(rune('a'+i))
			k := e.newKey(as, map[string]string{"name": as, "person": spelling, "role": "approver"})
			if k.PersonID != author.PersonID || k.Person != "eve" {
				t.Errorf("%q: person %s %q, want Eve's %s", spelling, k.PersonID, k.Person, author.PersonID)
			}
			e.must("admin2", "POST", "/v1/keys/"+k.ID+"/approve", nil, 200, nil)
			e.wantError(as, "POST", "/v1/changes/"+id+"/review", map[string]any{"approve": true, "comment": "another key of mine"}, 403, "forbidden", "")
		}
		for _, spelling := range []string{"E\u200bve", "Eve\u200d", "\u200fEve", "Eve\u0007"} {
			e.wantError("admin", "POST", "/v1/keys", map[string]string{"name": "approver", "person": spelling, "role": "approver"}, 400, "invalid", "person")
			e.wantError("admin", "POST", "/v1/persons", map[string]string{"name": spelling}, 400, "invalid", "name")
			// The key's name is a label the console shows beside the person:
			// invisible characters would make it read as another's.
			e.wantError("admin", "POST", "/v1/keys", map[string]string{"name": spelling + " approver", "person": "Eve", "role": "approver"}, 400, "invalid", "name")
		}
		e.wantError("admin", "POST", "/v1/keys", map[string]string{"name": "\u202eUA-MOD", "person": "Mallory", "role": "viewer"}, 400, "invalid", "name")
		e.wantError("admin", "POST", "/v1/persons", map[string]string{"name": "ＥＶＥ"}, 409, "conflict", "name")
		var list struct{ Persons []skyfence.Person }
		e.must("admin", "GET", "/v1/persons", nil, 200, &list)
		eves := 0
		for _, p := range list.Persons {
			if p.Handle == "eve" {
				eves++
			}
		}
		if eves != 1 {
			t.Errorf("the registry lists %d Eves: %+v", eves, list.Persons)
		}
		var one struct {
			Person skyfence.Person
			Keys   []skyfence.APIKey
		}
		e.must("admin", "GET", "/v1/persons/"+author.PersonID, nil, 200, &one)
		if one.Person.Handle != "eve" || len(one.Keys) != 6 {
			t.Errorf("Eve holds %d keys (%+v), want 6", len(one.Keys), one.Person)
		}
		e.wantError("viewer", "GET", "/v1/persons", nil, 403, "forbidden", "")
	})
}

// TestHTTPAdminCannotMintASecondSelf: an admin's approver keys for made-up
// persons do not work and cannot be approved by that admin, so the
// admin's own draft stays unapproved.
func TestHTTPAdminCannotMintASecondSelf(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env, _ skyfence.Store) {
		id := e.proposeExample("admin")
		for _, who := range []string{"mallory", "trudy"} {
			k := e.newKey(who, map[string]string{"name": who, "role": "approver"})
			e.wantError(who, "POST", "/v1/changes/"+id+"/review", map[string]any{"approve": true}, 403, "forbidden", "")
			e.wantError("admin", "POST", "/v1/keys/"+k.ID+"/approve", nil, 403, "forbidden", "")
		}
		k := e.newKey("admin3", map[string]string{"name": "admin 3", "role": "admin"})
		e.wantError("admin3", "GET", "/v1/keys", nil, 403, "forbidden", "")
		e.wantError("admin", "POST", "/v1/keys/"+k.ID+"/approve", nil, 403, "forbidden", "")
		e.wantError("admin", "POST", "/v1/changes/"+id+"/activate", nil, 409, "conflict", "")
	})
}

// TestHTTPPartnerBoundToAuthority: over HTTP, a partner records only its
// authority's verifications, for its region, of classes the policy lets
// that authority grant; a key from before partner keys had an authority
// reads, and verifies once an admin binds it.
func TestHTTPPartnerBoundToAuthority(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env, store skyfence.Store) {
		e.register("ut-1", "roam", "UA", false)
		e.wantError("admin", "POST", "/v1/keys", map[string]string{"name": "p", "role": "partner", "region": "UA"}, 400, "invalid", "authority")
		e.wantError("admin", "POST", "/v1/keys", map[string]string{"name": "p", "role": "partner", "region": "UA", "authority": "PL-MOD"}, 400, "invalid", "authority")
		e.wantError("admin", "POST", "/v1/keys", map[string]string{"name": "p", "role": "viewer", "authority": "UA-MOD"}, 400, "invalid", "authority")
		for _, tc := range []struct {
			name, key string
			body      map[string]string
			field     string
		}{
			{"PL-MOD military", "partner-UA", map[string]string{"terminal_id": "ut-1", "region": "UA", "authority": "PL-MOD", "class": "military"}, "authority"},
			{"US-DOD military", "partner-UA", map[string]string{"terminal_id": "ut-1", "region": "UA", "authority": "US-DOD", "class": "military"}, "authority"},
			{"another region", "partner-UA", map[string]string{"terminal_id": "ut-1", "region": "PL", "authority": "UA-MOD"}, "region"},
			{"a class its authority may not grant", "partner-PL", map[string]string{"terminal_id": "ut-1", "region": "PL", "authority": "PL-MOD", "class": "military"}, "class"},
			{"an admin naming US-DOD", "admin", map[string]string{"terminal_id": "ut-1", "region": "UA", "authority": "US-DOD", "class": "military"}, "authority"},
		} {
			e.wantError(tc.key, "POST", "/v1/verifications", tc.body, 403, "forbidden", tc.field)
		}
		var v skyfence.Verification
		e.must("partner-UA", "POST", "/v1/verifications", map[string]string{"terminal_id": "ut-1", "region": "UA", "class": "military"}, 201, &v)
		if v.Authority != "UA-MOD" {
			t.Errorf("the verification carries %q, want the key's UA-MOD", v.Authority)
		}

		// A partner key from before: reads, does not verify, is bound, verifies.
		err := store.Tx(context.Background(), func(tx skyfence.Tx) error {
			ctx := context.Background()
			if err := tx.CreatePerson(ctx, &skyfence.Person{ID: "per-old", Handle: "old partner", Name: "old partner"}); err != nil {
				return err
			}
			return tx.CreateKey(ctx, &skyfence.APIKey{ID: "key-old", Name: "old UA key", Role: skyfence.RolePartner, Region: "UA",
				PersonID: "per-old", Person: "old partner", Hash: skyfence.HashKeySecret("sfk_key-old_x"), CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		})
		if err != nil {
			t.Fatal(err)
		}
		e.keys["old"] = "sfk_key-old_x"
		var list struct{ Verifications []skyfence.Verification }
		e.must("old", "GET", "/v1/verifications", nil, 200, &list)
		if len(list.Verifications) != 1 {
			t.Errorf("the old key reads %d verifications, want 1", len(list.Verifications))
		}
		e.wantError("old", "POST", "/v1/verifications", map[string]string{"terminal_id": "ut-1", "region": "UA", "authority": "UA-MOD"}, 403, "forbidden", "authority")
		e.wantError("admin", "POST", "/v1/keys/key-old/authority", map[string]string{"authority": "PL-MOD"}, 400, "invalid", "authority")
		e.wantError("partner-UA", "POST", "/v1/keys/key-old/authority", map[string]string{"authority": "UA-MOD"}, 403, "forbidden", "")
		var bound skyfence.APIKey
		e.must("admin", "POST", "/v1/keys/key-old/authority", map[string]string{"authority": "UA-MOD"}, 200, &bound)
		if bound.Authority != "UA-MOD" {
			t.Errorf("bound to %q", bound.Authority)
		}
		e.wantError("admin", "POST", "/v1/keys/key-old/authority", map[string]string{"authority": "UA-MOD"}, 409, "conflict", "")
		e.must("old", "POST", "/v1/verifications", map[string]string{"terminal_id": "ut-1", "region": "UA", "class": "civil"}, 201, nil)
	})
}
