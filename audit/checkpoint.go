package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/skyfence/skyfence"
)

// The actions of the entries this package appends, and their actor.
const (
	ActionCheckpoint = "audit.checkpoint"
	ActionKey        = "audit.key"
	Actor            = "system"
)

// Log is what this package reads of the audit chain. Every skyfence.Reader,
// skyfence.Tx and skyfence.Store is one.
type Log interface {
	// FindAudit returns the entries with Seq >= from, in order, at most
	// limit of them (0: all).
	FindAudit(ctx context.Context, from int64, limit int) ([]*skyfence.AuditEntry, error)
}

// checkpointData is the Data of a checkpoint entry: the entry it signs (seq
// and hex hash), the key that signs (KeyID), and the base64 signature over
// checkpointMessage.
type checkpointData struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

// checkpointMessage returns the bytes a checkpoint signs.
func checkpointMessage(seq int64, hexHash string) []byte {
	return fmt.Appendf(nil, "skyfence-audit-checkpoint\n%d\n%s", seq, hexHash)
}

// keyData is the Data of a key entry: the key it puts in force (its id and
// base64 public key), the key it succeeds ("" for a new root of trust), and
// the base64 signature over keyMessage by that key (by the new key itself
// for a root).
type keyData struct {
	KeyID         string `json:"key_id"`
	PublicKey     string `json:"public_key"`
	PreviousKeyID string `json:"previous_key_id"`
	Signature     string `json:"signature"`
}

// keyMessage returns the bytes a key entry signs.
func keyMessage(d *keyData) []byte {
	return fmt.Appendf(nil, "skyfence-audit-key\n%s\n%s\n%s", d.KeyID, d.PublicKey, d.PreviousKeyID)
}

// Checkpoint appends to the chain, in tx, a checkpoint that signs the
// chain's head: the last entry. It returns ECONFLICT if the chain is empty
// or if s is not the key in force (the key of the chain's last key entry;
// see Rotate).
func (s *Signer) Checkpoint(ctx context.Context, tx skyfence.Tx) error {
	head, err := findHead(ctx, tx)
	if err != nil {
		return err
	}
	if head == nil {
		return skyfence.Errorf(skyfence.ECONFLICT, "the audit log is empty: there is nothing to checkpoint")
	}
	return s.checkpoint(ctx, tx, head)
}

// checkpoint appends a checkpoint signing head, the chain's last entry.
func (s *Signer) checkpoint(ctx context.Context, tx skyfence.Tx, head *skyfence.AuditEntry) error {
	cur, err := keyInForce(ctx, tx, head.Seq)
	if err != nil {
		return err
	}
	if cur != s.id {
		return notInForce(s.id, cur)
	}
	d := checkpointData{Seq: head.Seq, Hash: hex.EncodeToString(head.Hash), KeyID: s.id}
	d.Signature = base64.StdEncoding.EncodeToString(s.sign(checkpointMessage(d.Seq, d.Hash)))
	return appendEntry(ctx, tx, ActionCheckpoint, d)
}

func notInForce(id, cur string) error {
	if cur == "" {
		return skyfence.Errorf(skyfence.ECONFLICT, "the audit log has no signing key: register key %s first (Rotate with no previous key)", id)
	}
	return skyfence.Errorf(skyfence.ECONFLICT, "the audit log's signing key is %s, not %s: rotate to it first", cur, id)
}

// Rotate appends to the chain, in tx, a key entry that puts next in force,
// signed by prev, the key in force now. With prev nil it starts a new root
// of trust, signed by next itself: the first key of a log, or a fresh start
// after the key in force was lost, which Verify accepts only if next is
// pinned (VerifyOptions.PublicKeys). It returns ECONFLICT if prev is not
// the key in force.
//
// Keep next's key file before committing tx, and put it in place of
// prev's after: CreateSigner(path + ".next"), Rotate, then rename the file
// over path. A server started between the commit and the rename refuses to
// checkpoint with the old key rather than sign for a key no longer in force.
func Rotate(ctx context.Context, tx skyfence.Tx, prev, next *Signer) error {
	if prev != nil {
		cur, err := currentKey(ctx, tx)
		if err != nil {
			return err
		}
		if cur != prev.id {
			return notInForce(prev.id, cur)
		}
	}
	return appendKey(ctx, tx, prev, next)
}

// appendKey appends the key entry putting next in force after prev.
func appendKey(ctx context.Context, tx skyfence.Tx, prev, next *Signer) error {
	d := keyData{KeyID: next.id, PublicKey: base64.StdEncoding.EncodeToString(next.PublicKey())}
	by := next
	if prev != nil {
		d.PreviousKeyID, by = prev.id, prev
	}
	d.Signature = base64.StdEncoding.EncodeToString(by.sign(keyMessage(&d)))
	return appendEntry(ctx, tx, ActionKey, d)
}

func appendEntry(ctx context.Context, tx skyfence.Tx, action string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &skyfence.AuditEntry{Actor: Actor, Action: action, Data: b})
}

// findHead returns the chain's last entry, or nil if the chain is empty.
// It refuses a head that the store's record of it does not match.
func findHead(ctx context.Context, r skyfence.Reader) (*skyfence.AuditEntry, error) {
	seq, hash, err := r.AuditHead(ctx)
	if err != nil || seq == 0 {
		return nil, err
	}
	es, err := r.FindAudit(ctx, seq, 1)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 || es[0].Seq != seq || !bytes.Equal(es[0].Hash, hash) {
		return nil, skyfence.Errorf(skyfence.EINTERNAL, "the audit log's head, entry %d, is not as the store records it: run skyfence audit verify", seq)
	}
	return es[0], nil
}

// currentKey returns the id of the key in force at the chain's head ("" if
// there is none).
func currentKey(ctx context.Context, r skyfence.Reader) (string, error) {
	head, err := findHead(ctx, r)
	if err != nil || head == nil {
		return "", err
	}
	return keyAt(ctx, r, head.Seq)
}

// scanPage is how many entries keyInForce reads at a time.
const scanPage = 256

// keyInForce returns the id of the key in force after entry seq: that of
// the last checkpoint or key entry up to it ("" if there is none). It reads
// back from seq, usually no further than the last checkpoint.
func keyInForce(ctx context.Context, log Log, seq int64) (string, error) {
	for hi := seq + 1; hi > 1; {
		lo := max(1, hi-scanPage)
		es, err := log.FindAudit(ctx, lo, int(hi-lo))
		if err != nil {
			return "", err
		}
		for i := len(es) - 1; i >= 0; i-- {
			e := es[i]
			if e.Seq >= hi || (e.Action != ActionCheckpoint && e.Action != ActionKey) {
				continue
			}
			var d struct {
				KeyID string `json:"key_id"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil || d.KeyID == "" {
				return "", skyfence.Errorf(skyfence.EINTERNAL, "audit entry %d (%s) names no key: run skyfence audit verify", e.Seq, e.Action)
			}
			return d.KeyID, nil
		}
		hi = lo
	}
	return "", nil
}

// verifySignature reports whether sig, in standard base64, is pub's
// signature of msg.
func verifySignature(pub ed25519.PublicKey, msg []byte, sig string) bool {
	b, err := base64.StdEncoding.DecodeString(sig)
	return err == nil && ed25519.Verify(pub, msg, b)
}
