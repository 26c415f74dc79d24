package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

func testVerification(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	terminals(t, s, "ut-1", "ut-2")
	vs := []*skyfence.Verification{
		{ID: "v-3", TerminalID: "ut-1", Region: "UA", Authority: "UA-MOD", Class: skyfence.Military, VerifiedAt: t0, ExpiresAt: t0.AddDate(0, 6, 0)},
		{ID: "v-1", TerminalID: "ut-2", Region: "UA", Authority: "UA-MOD", Class: skyfence.Civil, VerifiedAt: t0},
		{ID: "v-2", TerminalID: "ut-1", Region: "PL", Authority: "PL-MON", Class: skyfence.Government, VerifiedAt: t0},
	}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for _, v := range vs {
			if err := tx.CreateVerification(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	v3, v1, v2 := utcVerification(vs[0]), utcVerification(vs[1]), utcVerification(vs[2])
	got, err := s.FindVerificationByID(ctx, "v-3")
	if err != nil {
		t.Fatalf("FindVerificationByID: %v", err)
	}
	same(t, "FindVerificationByID", got, v3)

	for _, tc := range []struct {
		f    skyfence.VerificationFilter
		want []*skyfence.Verification
	}{
		{skyfence.VerificationFilter{}, []*skyfence.Verification{v1, v2, v3}},
		{skyfence.VerificationFilter{TerminalID: "ut-1"}, []*skyfence.Verification{v2, v3}},
		{skyfence.VerificationFilter{Region: "UA"}, []*skyfence.Verification{v1, v3}},
		{skyfence.VerificationFilter{TerminalID: "ut-1", Region: "UA"}, []*skyfence.Verification{v3}},
		{skyfence.VerificationFilter{TerminalID: "ut-9"}, nil},
	} {
		got, err := s.FindVerifications(ctx, tc.f)
		if err != nil {
			t.Fatalf("FindVerifications(%+v): %v", tc.f, err)
		}
		same(t, "FindVerifications", got, tc.want)
	}

	at := t0.Add(48 * time.Hour)
	var revoked *skyfence.Verification
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		revoked, err = tx.RevokeVerification(ctx, "v-3", at)
		return err
	})
	v3.Revoked, v3.RevokedAt = true, at.UTC()
	same(t, "RevokeVerification", revoked, v3)
	if revoked.ValidAt(at.Add(time.Hour)) {
		t.Errorf("revoked verification is valid after its revocation")
	}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		revoked, err = tx.RevokeVerification(ctx, "v-3", at.Add(time.Hour))
		return err
	})
	same(t, "RevokeVerification again (keeps the first revocation)", revoked, v3)
	term, err := s.FindTerminalByID(ctx, "ut-1")
	if err != nil {
		t.Fatalf("FindTerminalByID: %v", err)
	}
	same(t, "verifications of the terminal", term.Verifications, []skyfence.Verification{*v2, *v3})

	txCode(t, s, "RevokeVerification(missing)", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.RevokeVerification(ctx, "nope", at)
		return err
	})
	txCode(t, s, "RevokeVerification(zero time)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.RevokeVerification(ctx, "v-1", time.Time{})
		return err
	})
	for _, tc := range []struct {
		name, code string
		v          *skyfence.Verification
	}{
		{"existing id", skyfence.ECONFLICT, &skyfence.Verification{ID: "v-1", TerminalID: "ut-1"}},
		{"unknown terminal", skyfence.ENOTFOUND, &skyfence.Verification{ID: "v-9", TerminalID: "nope"}},
		{"no id", skyfence.EINVALID, &skyfence.Verification{TerminalID: "ut-1"}},
		{"no terminal", skyfence.EINVALID, &skyfence.Verification{ID: "v-9"}},
		{"unknown class", skyfence.EINVALID, &skyfence.Verification{ID: "v-9", TerminalID: "ut-1", Class: 5}},
	} {
		txCode(t, s, "CreateVerification("+tc.name+")", tc.code, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreateVerification(ctx, tc.v)
		})
	}
	_, err = s.FindVerificationByID(ctx, "v-9")
	wantCode(t, "FindVerificationByID(missing)", err, skyfence.ENOTFOUND)
}

func testKey(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	secret2, hash2, err := skyfence.NewKeySecret("k2")
	if err != nil {
		t.Fatal(err)
	}
	_, hash1, err := skyfence.NewKeySecret("k1")
	if err != nil {
		t.Fatal(err)
	}
	olena := &skyfence.Person{ID: "per-olena", Handle: "olena kovalenko", Name: "Olena Kovalenko", CreatedAt: t0}
	gw := &skyfence.Person{ID: "per-gw", Handle: "gateway", Name: "gateway", CreatedAt: t0}
	k2 := &skyfence.APIKey{ID: "k2", Name: "MOD partner", Role: skyfence.RolePartner, Region: "UA", Authority: "UA-MOD",
		PersonID: olena.ID, Person: olena.Handle, GrantedBy: "per-admin", Hash: hash2, CreatedAt: t0}
	k1 := &skyfence.APIKey{ID: "k1", Name: "gateway", Role: skyfence.RoleGateway, PersonID: gw.ID, Hash: hash1, CreatedAt: t0.Add(time.Second)}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.CreatePerson(ctx, olena); err != nil {
			return err
		}
		if err := tx.CreatePerson(ctx, gw); err != nil {
			return err
		}
		if err := tx.CreateKey(ctx, k2); err != nil {
			return err
		}
		return tx.CreateKey(ctx, k1)
	})
	want1, want2 := *k1, *k2
	want1.CreatedAt, want2.CreatedAt = k1.CreatedAt.UTC(), k2.CreatedAt.UTC()

	got, err := s.FindKeyByHash(ctx, skyfence.HashKeySecret(secret2))
	if err != nil {
		t.Fatalf("FindKeyByHash: %v", err)
	}
	same(t, "FindKeyByHash", got, &want2)
	keys, err := s.FindKeys(ctx)
	if err != nil {
		t.Fatalf("FindKeys: %v", err)
	}
	same(t, "FindKeys", keys, []*skyfence.APIKey{&want1, &want2})

	at := t0.Add(time.Hour + 7)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		got, err = tx.RevokeKey(ctx, "k2", at)
		return err
	})
	want2.RevokedAt = at.UTC()
	same(t, "RevokeKey", got, &want2)
	if !got.Revoked() {
		t.Errorf("RevokeKey: the key does not say it is revoked")
	}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		got, err = tx.RevokeKey(ctx, "k2", at.Add(time.Hour))
		return err
	})
	same(t, "RevokeKey again (keeps the first revocation)", got, &want2)
	got, err = s.FindKeyByHash(ctx, hash2)
	if err != nil {
		t.Fatalf("FindKeyByHash(revoked): %v", err)
	}
	same(t, "FindKeyByHash(revoked)", got, &want2)

	_, err = s.FindKeyByHash(ctx, skyfence.HashKeySecret("sfk_nope"))
	wantCode(t, "FindKeyByHash(unknown)", err, skyfence.ENOTFOUND)
	txCode(t, s, "RevokeKey(missing)", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.RevokeKey(ctx, "nope", at)
		return err
	})
	txCode(t, s, "RevokeKey(zero time)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
		_, err := tx.RevokeKey(ctx, "k1", time.Time{})
		return err
	})
	for _, tc := range []struct {
		name, code string
		k          *skyfence.APIKey
	}{
		{"existing id", skyfence.ECONFLICT, &skyfence.APIKey{ID: "k1", Role: skyfence.RoleViewer, PersonID: gw.ID, Hash: skyfence.HashKeySecret("x")}},
		{"existing hash", skyfence.ECONFLICT, &skyfence.APIKey{ID: "k3", Role: skyfence.RoleViewer, PersonID: gw.ID, Hash: hash1}},
		{"no hash", skyfence.EINVALID, &skyfence.APIKey{ID: "k4", Role: skyfence.RoleViewer, PersonID: gw.ID}},
		{"no id", skyfence.EINVALID, &skyfence.APIKey{Role: skyfence.RoleViewer, PersonID: gw.ID, Hash: skyfence.HashKeySecret("y")}},
		{"no person", skyfence.EINVALID, &skyfence.APIKey{ID: "k6", Role: skyfence.RoleViewer, Hash: skyfence.HashKeySecret("w")}},
		{"missing person", skyfence.ENOTFOUND, &skyfence.APIKey{ID: "k7", Role: skyfence.RoleViewer, PersonID: "per-nobody", Hash: skyfence.HashKeySecret("v")}},
	} {
		txCode(t, s, "CreateKey("+tc.name+")", tc.code, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.CreateKey(ctx, tc.k)
		})
	}

	// A person may hold several keys.
	k5 := &skyfence.APIKey{ID: "k5", Name: "MOD approver", Role: skyfence.RoleApprover, PersonID: k2.PersonID, Person: k2.Person,
		Pending: true, Hash: skyfence.HashKeySecret("z"), CreatedAt: t0}
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.CreateKey(ctx, k5) })
	want5 := *k5
	want5.CreatedAt = t0.UTC()
	keys, err = s.FindKeys(ctx)
	if err != nil {
		t.Fatalf("FindKeys: %v", err)
	}
	same(t, "FindKeys with two keys of one person", keys, []*skyfence.APIKey{&want1, &want2, &want5})
}
