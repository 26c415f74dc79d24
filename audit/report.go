package audit

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Head names an entry by its seq and hash: what a verifier writes down to
// check later that the chain still holds that entry, unchanged.
type Head struct {
	Seq  int64
	Hash []byte
}

// String returns "seq:hex-hash", the form ParseHead reads.
func (h Head) String() string { return fmt.Sprintf("%d:%x", h.Seq, h.Hash) }

// ParseHead reads a head written as "seq:hex-hash".
func ParseHead(s string) (Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 {
		return Head{}, fmt.Errorf("audit: head %q is not seq:hash", s)
	}
	h, err := hex.DecodeString(hash)
	if err != nil || len(h) != 32 {
		return Head{}, fmt.Errorf("audit: head %q: the hash is not 64 hex digits", s)
	}
	return Head{Seq: n, Hash: h}, nil
}

// Kind is what was done to the chain where a problem is.
type Kind uint8

// Kinds of problem.
const (
	// Changed: an entry's content no longer matches its hash, or its hash
	// was recomputed so that the next entry no longer links to it.
	Changed Kind = iota + 1
	// Deleted: entries are missing (a gap in seq, or the entries after
	// were renumbered).
	Deleted
	// Inserted: entries were added that the chain around them does not
	// link (a forged entry, a second one with the same seq, a copy).
	Inserted
	// Reordered: entries are present but out of order.
	Reordered
	// Rewritten: the chain is consistent, but not the one a checkpoint
	// signed or that holds the expected head: it was rebuilt and re-hashed
	// after them. The seq is the first entry they do not vouch for.
	Rewritten
	// Truncated: the chain ends before the expected head, or before the
	// size of a checkpoint.
	Truncated
	// BadSignature: a checkpoint or key entry whose signature does not
	// verify with the key in force, or names another key.
	BadSignature
	// Untrusted: a key entry starts a root of trust that is not pinned
	// (when keys are pinned, or when a key is already in force), or keys
	// are pinned and no key entry introduces one.
	Untrusted
	// Malformed: a checkpoint or key entry whose data is not what its
	// action says, or a checkpoint that is not a signed tree head.
	Malformed
	// Forked: a checkpoint seen earlier and one the log holds are both
	// signed by the key in force, but not of one history.
	Forked
	// BadTree: the store's tree hashes, from which it serves proofs, are
	// not the tree of its entries.
	BadTree
)

var kindNames = [...]string{"", "changed", "deleted", "inserted", "reordered", "rewritten", "truncated", "bad signature", "untrusted key", "malformed", "forked", "bad tree"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k > 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Problem is the first thing wrong with a chain.
type Problem struct {
	Seq    int64  // the first entry at fault
	Kind   Kind   // what was done there
	Detail string // what was found, in words
}

func (p *Problem) String() string { return fmt.Sprintf("entry %d %s: %s", p.Seq, p.Kind, p.Detail) }

// Trust says why Verify trusts a key.
type Trust uint8

// Trusts.
const (
	TrustFirstUse Trust = iota + 1 // the log's first key, no key pinned
	TrustPinned                    // one of VerifyOptions.PublicKeys
	TrustRotated                   // signed by the key in force before it
)

var trustNames = [...]string{"", "trusted on first use", "pinned", "rotated"}

func (t Trust) String() string {
	if int(t) < len(trustNames) && t > 0 {
		return trustNames[t]
	}
	return fmt.Sprintf("Trust(%d)", uint8(t))
}

// Key is a signing key that a key entry put in force.
type Key struct {
	ID        string
	PublicKey ed25519.PublicKey
	Seq       int64 // the key entry
	Trust     Trust
}

// Report is what Verify found. Past a problem it reads no further: the
// counts and heads are those of the entries before it.
type Report struct {
	Entries     int64 // entries verified, in order
	Checkpoints int   // checkpoints verified
	Keys        []Key // keys put in force, in order
	Head        Head  // the last entry verified (zero if none)
	// Signed is the last entry a verified checkpoint signs (zero if none):
	// entries after it are chained but not yet signed.
	Signed Head
	// Root is the root hash of the Merkle tree of the entries verified;
	// Origin the log's name in its checkpoints ("" if none).
	Root   tlog.Hash
	Origin string
	// TreeCheckpoints is how many of the log's own checkpoints (signed
	// tree heads) verified; Seen how many of VerifyOptions.Checkpoints.
	TreeCheckpoints int
	Seen            int
	Problem         *Problem // nil: the chain is sound
}

// VerifyOptions says what, besides the chain itself, to trust or expect.
type VerifyOptions struct {
	// PublicKeys pins the roots of trust: a key entry that starts a root
	// (the log's first) must put one of them in force, and the log must
	// have one. Empty: the log's first key is trusted on first use.
	PublicKeys []ed25519.PublicKey
	// ExpectHead, if set, is an entry the chain must still hold, as it was
	// written down from an earlier Report or export.
	ExpectHead *Head
	// Checkpoints are signed checkpoints seen earlier (served by the log,
	// kept by a witness, sent with a notice): the log must hold the tree
	// each signs, signed by the key in force at its size.
	Checkpoints []SeenCheckpoint
}

// SeenCheckpoint is a signed checkpoint (a note) and where it came from,
// to name it in a problem.
type SeenCheckpoint struct {
	Name string
	Note []byte
}
