package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
)

// InclusionProof proves that entry Seq, whose leaf hash is LeafHash
// (AuditEntry.RecordHash), is in the tree of the first Size entries
// (tlog.RecordProof: check it with CheckInclusion or tlog.CheckRecord, the
// entry being the tree's record Seq-1).
type InclusionProof struct {
	Seq      int64       `json:"seq"`
	Size     int64       `json:"size"`
	LeafHash tlog.Hash   `json:"leaf_hash"`
	Proof    []tlog.Hash `json:"proof"`
}

// ConsistencyProof proves that the tree of the first Old entries is a
// prefix of the tree of the first Size (tlog.TreeProof).
type ConsistencyProof struct {
	Old   int64       `json:"old"`
	Size  int64       `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// treeSize returns the size of the log's latest checkpoint: proofs are of
// trees that were signed.
func treeSize(ctx context.Context, r skyfence.Reader) (int64, error) {
	c, err := r.FindAuditCheckpoint(ctx, 0)
	if err != nil {
		return 0, err
	}
	return c.Size, nil
}

func hashReader(ctx context.Context, r skyfence.Reader) tlog.HashReader {
	return tlog.HashReaderFunc(func(x []int64) ([]tlog.Hash, error) { return r.ReadAuditHashes(ctx, x) })
}

// ProveInclusion returns the proof that entry seq is in the tree of size
// entries, which must be signed (a checkpoint of at least that size): 0
// for the latest checkpoint's. EINVALID, naming the field, for a seq or
// size out of range.
func ProveInclusion(ctx context.Context, r skyfence.Reader, seq, size int64) (*InclusionProof, error) {
	latest, err := treeSize(ctx, r)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		size = latest
	}
	switch {
	case size < 1 || size > latest:
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "size", "size %d is not that of a signed tree: 1 to %d", size, latest)
	case seq < 1 || seq > size:
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "seq", "entry %d is not in the tree of %d entries", seq, size)
	}
	hr := hashReader(ctx, r)
	leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, seq-1)})
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(size, seq-1, hr)
	if err != nil {
		return nil, fmt.Errorf("audit: prove entry %d in %d: %w", seq, size, err)
	}
	return &InclusionProof{Seq: seq, Size: size, LeafHash: leaf[0], Proof: nonNil(p)}, nil
}

// ProveConsistency returns the proof that the tree of old entries is a
// prefix of the tree of size entries (0: the latest checkpoint's).
func ProveConsistency(ctx context.Context, r skyfence.Reader, old, size int64) (*ConsistencyProof, error) {
	latest, err := treeSize(ctx, r)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		size = latest
	}
	switch {
	case size < 1 || size > latest:
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "size", "size %d is not that of a signed tree: 1 to %d", size, latest)
	case old < 1 || old > size:
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "old", "old size %d is not from 1 to the size %d", old, size)
	}
	p, err := tlog.ProveTree(size, old, hashReader(ctx, r))
	if err != nil {
		return nil, fmt.Errorf("audit: prove %d consistent with %d: %w", old, size, err)
	}
	return &ConsistencyProof{Old: old, Size: size, Proof: nonNil(p)}, nil
}

// nonNil returns hs, empty rather than nil, so that JSON has [].
func nonNil(hs []tlog.Hash) []tlog.Hash {
	if hs == nil {
		return []tlog.Hash{}
	}
	return hs
}

// CheckInclusion checks p against c, a checkpoint (of p's size), and,
// if e is not nil, that p's leaf is e's.
func CheckInclusion(p *InclusionProof, c Checkpoint, e *skyfence.AuditEntry) error {
	if p.Size != c.Size {
		return fmt.Errorf("audit: the proof is for a tree of %d entries, the checkpoint of %d", p.Size, c.Size)
	}
	if e != nil && (e.Seq != p.Seq || e.RecordHash() != p.LeafHash) {
		return fmt.Errorf("audit: the proof is of another entry than entry %d as given", e.Seq)
	}
	if err := tlog.CheckRecord(p.Proof, p.Size, c.Root, p.Seq-1, p.LeafHash); err != nil {
		return fmt.Errorf("audit: entry %d is not in the checkpoint of %d entries: %w", p.Seq, c.Size, err)
	}
	return nil
}

// CheckConsistency checks p between the checkpoints old and c.
func CheckConsistency(p *ConsistencyProof, old, c Checkpoint) error {
	if p.Old != old.Size || p.Size != c.Size {
		return fmt.Errorf("audit: the proof is between %d and %d entries, the checkpoints of %d and %d", p.Old, p.Size, old.Size, c.Size)
	}
	if old.Origin != c.Origin {
		return fmt.Errorf("audit: the checkpoints are of two logs, %q and %q", old.Origin, c.Origin)
	}
	if err := tlog.CheckTree(p.Proof, c.Size, c.Root, old.Size, old.Root); err != nil {
		return fmt.Errorf("audit: the checkpoint of %d entries is not a prefix of that of %d: %w", old.Size, c.Size, err)
	}
	return nil
}

// LogKey returns the key in force at the log's latest checkpoint, as the
// note verifier key name+hash+keydata, the name being the log's origin:
// what GET /v1/audit/key serves.
func LogKey(ctx context.Context, r skyfence.Reader) (string, error) {
	c, err := r.FindAuditCheckpoint(ctx, 0)
	if err != nil {
		return "", err
	}
	text, err := SplitNote(c.Note)
	if err != nil {
		return "", err
	}
	cp, err := ParseCheckpoint(text)
	if err != nil {
		return "", err
	}
	var pub ed25519.PublicKey
	err = r.QueryAudit(ctx, skyfence.AuditQuery{Actions: []string{ActionKey}, Newest: true}, func(e *skyfence.AuditEntry) error {
		var d keyData
		if decodeStrict(e.Data, &d) != nil || d.KeyID != c.KeyID {
			return nil
		}
		raw, err := base64.StdEncoding.DecodeString(d.PublicKey)
		if err == nil && len(raw) == ed25519.PublicKeySize && KeyID(raw) == d.KeyID {
			pub = raw
			return errStop
		}
		return nil
	})
	switch {
	case err != nil && err != errStop:
		return "", err
	case pub == nil:
		return "", skyfence.Errorf(skyfence.EINTERNAL, "the audit log has no key entry for key %s, which signs its checkpoints: run skyfence audit verify", c.KeyID)
	}
	return VerifierKey(cp.Origin, pub)
}
