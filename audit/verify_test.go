package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

func TestVerifyReport(t *testing.T) {
	s := openSQLite(t, sqliteFile(t))
	k := signer(1)
	buildChain(t, s, k)
	es := entries(t, s)
	for _, tc := range []struct {
		name  string
		opts  audit.VerifyOptions
		trust audit.Trust
	}{
		{"first use", audit.VerifyOptions{}, audit.TrustFirstUse},
		{"pinned", audit.VerifyOptions{PublicKeys: []ed25519.PublicKey{signer(2).PublicKey(), k.PublicKey()}}, audit.TrustPinned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify(t, s, tc.opts)
			if rep.Problem != nil {
				t.Fatalf("problem %q in an untouched chain", rep.Problem)
			}
			if rep.Entries != chainLen || rep.Checkpoints != 2 {
				t.Errorf("%d entries, %d checkpoints; want %d, 2", rep.Entries, rep.Checkpoints, chainLen)
			}
			if len(rep.Keys) != 1 || rep.Keys[0].ID != k.KeyID() || rep.Keys[0].Seq != 1 || rep.Keys[0].Trust != tc.trust {
				t.Errorf("keys %+v, want %s at entry 1, %s", rep.Keys, k.KeyID(), tc.trust)
			}
			if want := (audit.Head{Seq: 22, Hash: es[21].Hash}); rep.Head.String() != want.String() {
				t.Errorf("head %s, want %s", rep.Head, want)
			}
			if want := (audit.Head{Seq: 17, Hash: es[16].Hash}); rep.Signed.String() != want.String() {
				t.Errorf("signed %s, want %s", rep.Signed, want)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	s := openSQLite(t, sqliteFile(t))
	a, b, c := signer(1), signer(2), signer(3)
	inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, nil, a) })
	appendEntries(t, s, 2, 3)
	inTx(t, s, func(tx skyfence.Tx) error { return a.Checkpoint(t.Context(), tx) })
	inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, a, b) })
	appendEntries(t, s, 7, 3)
	for _, tc := range []struct {
		name string
		fn   func(tx skyfence.Tx) error
	}{
		{"checkpoint with the old key", func(tx skyfence.Tx) error { return a.Checkpoint(t.Context(), tx) }},
		{"rotate from the old key", func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, a, c) }},
	} {
		if err := s.Tx(t.Context(), tc.fn); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("%s: %v, want a conflict", tc.name, err)
		}
	}
	inTx(t, s, func(tx skyfence.Tx) error { return b.Checkpoint(t.Context(), tx) })
	rep := verify(t, s, audit.VerifyOptions{})
	if rep.Problem != nil || rep.Checkpoints != 2 || len(rep.Keys) != 2 {
		t.Fatalf("report %+v, want 2 checkpoints, 2 keys and no problem", rep)
	}
	if k := rep.Keys[1]; k.ID != b.KeyID() || k.Seq != 6 || k.Trust != audit.TrustRotated {
		t.Errorf("second key %+v, want %s at entry 6, rotated", k, b.KeyID())
	}

	// The key in force is lost: a new root of trust, trusted only pinned.
	inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, nil, c) })
	inTx(t, s, func(tx skyfence.Tx) error { return c.Checkpoint(t.Context(), tx) })
	wantProblem(t, verify(t, s, audit.VerifyOptions{}), 11, audit.Untrusted)
	wantProblem(t, verify(t, s, audit.VerifyOptions{PublicKeys: []ed25519.PublicKey{c.PublicKey()}}), 1, audit.Untrusted)
	rep = verify(t, s, audit.VerifyOptions{PublicKeys: []ed25519.PublicKey{a.PublicKey(), c.PublicKey()}})
	if rep.Problem != nil || len(rep.Keys) != 3 || rep.Keys[2].Trust != audit.TrustPinned || rep.Signed.Seq != 11 {
		t.Errorf("report %+v, want 3 keys, the last pinned, signed up to entry 11, no problem", rep)
	}
}

func TestCheckpointEmptyLog(t *testing.T) {
	s := openSQLite(t, sqliteFile(t))
	err := s.Tx(t.Context(), func(tx skyfence.Tx) error { return signer(1).Checkpoint(t.Context(), tx) })
	if skyfence.ErrorCode(err) != skyfence.ECONFLICT {
		t.Errorf("Checkpoint of an empty log: %v, want a conflict", err)
	}
}

// privKey is the private key of signer(n).
func privKey(n byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, 32)) }

// signedCheckpoint returns checkpoint data as docs/AUDIT.md lays it out.
func signedCheckpoint(priv ed25519.PrivateKey, keyID string, seq int64, hash []byte) json.RawMessage {
	h := hex.EncodeToString(hash)
	sig := ed25519.Sign(priv, fmt.Appendf(nil, "skyfence-audit-checkpoint\n%d\n%s", seq, h))
	return fmt.Appendf(nil, `{"seq":%d,"hash":"%s","key_id":"%s","signature":"%s"}`, seq, h, keyID, base64.StdEncoding.EncodeToString(sig))
}

// TestForgedCheckpoints appends checkpoints through the store, so that the
// chain holds, with data that must not verify.
func TestForgedCheckpoints(t *testing.T) {
	k, other := signer(1), signer(2)
	for _, tc := range []struct {
		name string
		key  bool // register k first
		data func(es []*skyfence.AuditEntry) json.RawMessage
		seq  int64
		kind audit.Kind
	}{
		{"no key in force", false, func(es []*skyfence.AuditEntry) json.RawMessage {
			return signedCheckpoint(privKey(1), k.KeyID(), 3, es[2].Hash)
		}, 5, audit.BadSignature},
		{"signed by a key not in force", true, func(es []*skyfence.AuditEntry) json.RawMessage {
			return signedCheckpoint(privKey(2), other.KeyID(), 4, es[3].Hash)
		}, 5, audit.BadSignature},
		{"signed by another key than it names", true, func(es []*skyfence.AuditEntry) json.RawMessage {
			return signedCheckpoint(privKey(2), k.KeyID(), 4, es[3].Hash)
		}, 5, audit.BadSignature},
		{"a hash the chain does not have", true, func(es []*skyfence.AuditEntry) json.RawMessage {
			return signedCheckpoint(privKey(1), k.KeyID(), 3, es[3].Hash)
		}, 1, audit.Rewritten},
		{"signing itself", true, func(es []*skyfence.AuditEntry) json.RawMessage {
			return signedCheckpoint(privKey(1), k.KeyID(), 5, es[3].Hash)
		}, 5, audit.Malformed},
		{"data missing", true, func([]*skyfence.AuditEntry) json.RawMessage { return json.RawMessage(`{"seq":4}`) }, 5, audit.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSQLite(t, sqliteFile(t))
			if tc.key {
				inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, nil, k) })
				appendEntries(t, s, 2, 3)
			} else {
				appendEntries(t, s, 1, 4)
			}
			data := tc.data(entries(t, s))
			inTx(t, s, func(tx skyfence.Tx) error {
				return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: audit.Actor, Action: audit.ActionCheckpoint, Data: data})
			})
			wantProblem(t, verify(t, s, audit.VerifyOptions{}), tc.seq, tc.kind)
		})
	}
}

// TestStoresKeepDataExact checks that both stores give back the bytes of
// data and the time they were given, which the digest covers: JSON that a
// jsonb column would reorder or respace, and nanoseconds.
func TestStoresKeepDataExact(t *testing.T) {
	datas := []string{`{"z":1,  "a":[1.50, 2e3],"a":"dup","s":"\u00e9<&>"}`, `null`, ``, `"text"`, "{\n\t\"pretty\": true\n}"}
	for _, tc := range []struct {
		name string
		open func(t *testing.T) skyfence.Store
	}{
		{"sqlite", func(t *testing.T) skyfence.Store { return openSQLite(t, sqliteFile(t)) }},
		{"postgres", func(t *testing.T) skyfence.Store { s, _ := openPostgres(t); return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			for i, d := range datas {
				e := &skyfence.AuditEntry{Time: epoch.Add(time.Duration(i)), Actor: "a", Action: "b", Data: json.RawMessage(d)}
				inTx(t, s, func(tx skyfence.Tx) error { return tx.AppendAudit(t.Context(), e) })
			}
			for i, e := range entries(t, s) {
				if string(e.Data) != datas[i] || !e.Time.Equal(epoch.Add(time.Duration(i))) {
					t.Errorf("entry %d: data %q at %s, want %q at %s", e.Seq, e.Data, e.Time, datas[i], epoch.Add(time.Duration(i)))
				}
			}
			if rep := verify(t, s, audit.VerifyOptions{}); rep.Problem != nil {
				t.Errorf("problem %q", rep.Problem)
			}
		})
	}
}
