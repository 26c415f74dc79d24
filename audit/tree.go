package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
)

// Checkpoint is a tree head in the C2SP tlog-checkpoint format: the
// origin (the log's name), the tree's size (its entries 1 to Size) and
// its root hash.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text returns the checkpoint's text, the body of its signed note:
//
//	<origin>\n<size in decimal>\n<base64 of the root hash>\n
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint reads a checkpoint's text: the three lines of Text,
// then any extension lines, which it ignores. It refuses anything else
// (a size with a sign or leading zeros, a root not 32 bytes of base64),
// saying which line is wrong.
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("audit: checkpoint: the text does not end in a line feed")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("audit: checkpoint: %d lines, want origin, size and root hash", len(lines))
	}
	if c.Origin = lines[0]; c.Origin == "" {
		return c, errors.New("audit: checkpoint: line 1 (origin) is empty")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, fmt.Errorf("audit: checkpoint: line 2 (size) %q is not a size in decimal", lines[1])
	}
	c.Size = n
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, fmt.Errorf("audit: checkpoint: line 3 (root hash) %q is not 32 bytes of base64", lines[2])
	}
	c.Root = tlog.Hash(root)
	for i, l := range lines[3:] {
		if l == "" {
			return c, fmt.Errorf("audit: checkpoint: line %d is empty", i+4)
		}
	}
	return c, nil
}

// SplitNote returns the text of a signed note, unverified: everything up
// to the blank line before its signatures.
func SplitNote(msg []byte) (string, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return "", errors.New("audit: not a signed note: no blank line before signatures")
	}
	return string(msg[:i+1]), nil
}

// VerifierKey returns the note verifier key of pub for the log named
// origin, in the note format name+hash+keydata.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(origin, pub)
}

// noteSigner signs notes with the signer's key under the origin's name.
type noteSigner struct {
	s    *Signer
	name string
	hash uint32
}

func (n *noteSigner) Name() string                    { return n.name }
func (n *noteSigner) KeyHash() uint32                 { return n.hash }
func (n *noteSigner) Sign(msg []byte) ([]byte, error) { return n.s.sign(msg), nil }

// NoteSigner returns a note.Signer for the key under the name origin.
func (s *Signer) NoteSigner(origin string) (note.Signer, error) {
	vkey, err := VerifierKey(origin, s.PublicKey())
	if err != nil {
		return nil, fmt.Errorf("audit: origin %q: %w", origin, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &noteSigner{s: s, name: origin, hash: v.KeyHash()}, nil
}

// SignCheckpoint returns c as a signed note, signed by s.
func (s *Signer) SignCheckpoint(c Checkpoint) ([]byte, error) {
	ns, err := s.NoteSigner(c.Origin)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: c.Text()}, ns)
}

// OpenCheckpoint verifies msg, a signed checkpoint, with pub as the key of
// the log named in it, and returns the checkpoint. A note with other
// signatures too (a witness's) opens if pub's verifies.
func OpenCheckpoint(msg []byte, pub ed25519.PublicKey) (Checkpoint, error) {
	text, err := SplitNote(msg)
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := ParseCheckpoint(text)
	if err != nil {
		return c, err
	}
	vkey, err := VerifierKey(c.Origin, pub)
	if err != nil {
		return c, fmt.Errorf("audit: checkpoint origin %q: %w", c.Origin, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return c, err
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		return c, fmt.Errorf("audit: checkpoint of size %d is not signed by key %s: %w", c.Size, KeyID(pub), err)
	}
	return c, nil
}

// Sealer signs the audit tree's head in every transaction that appends
// entries (skyfence.AuditSealer): a store given one with SetAuditSealer
// leaves no committed entry unsigned. It signs with Signer as the log
// Origin and refuses, failing the transaction with ECONFLICT, if Signer
// is not the key in force after the transaction's entries (the log has no
// key yet: Register it; another key was rotated in: restart with it).
type Sealer struct {
	Signer *Signer
	Origin string
}

// SealAudit implements skyfence.AuditSealer.
func (s *Sealer) SealAudit(ctx context.Context, r skyfence.Reader, size int64, root tlog.Hash) ([]byte, string, error) {
	cur, err := keyAt(ctx, r, size)
	if err != nil {
		return nil, "", err
	}
	if cur != s.Signer.id {
		return nil, "", notInForce(s.Signer.id, cur)
	}
	msg, err := s.Signer.SignCheckpoint(Checkpoint{Origin: s.Origin, Size: size, Root: root})
	if err != nil {
		return nil, "", err
	}
	return msg, cur, nil
}

// keyAt returns the id of the key in force after entry size: that of the
// last key entry after the latest checkpoint, else the checkpoint's key.
// A log without a tree checkpoint yet is read back from size (keyInForce).
func keyAt(ctx context.Context, r skyfence.Reader, size int64) (string, error) {
	last, err := r.FindAuditCheckpoint(ctx, 0)
	switch {
	case skyfence.ErrorCode(err) == skyfence.ENOTFOUND:
		return keyInForce(ctx, r, size)
	case err != nil:
		return "", err
	case last.Size > size:
		return "", skyfence.Errorf(skyfence.EINTERNAL, "the audit log has a checkpoint of size %d beyond its %d entries: run skyfence audit verify", last.Size, size)
	}
	cur := last.KeyID
	for from := last.Size + 1; from <= size; {
		es, err := r.FindAudit(ctx, from, int(min(size-from+1, pageSize)))
		if err != nil {
			return "", err
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if e.Action == ActionKey {
				var d keyData
				if err := json.Unmarshal(e.Data, &d); err != nil || d.KeyID == "" {
					return "", skyfence.Errorf(skyfence.EINTERNAL, "audit entry %d (%s) names no key: run skyfence audit verify", e.Seq, e.Action)
				}
				cur = d.KeyID
			}
		}
		from = es[len(es)-1].Seq + 1
	}
	return cur, nil
}

// Register appends the signer's root key entry if the log has no key (a
// new root of trust, which verifiers trust on first use or by pinning),
// and fails with ECONFLICT if it has another in force. A server sets its
// Sealer on the store first, so that the key entry is sealed too.
func Register(ctx context.Context, store skyfence.Store, s *Signer) error {
	return store.Tx(ctx, func(tx skyfence.Tx) error {
		cur, err := currentKey(ctx, tx)
		if err != nil {
			return err
		}
		switch cur {
		case s.id:
			return nil
		case "":
			return appendKey(ctx, tx, nil, s)
		}
		return notInForce(s.id, cur)
	})
}
