package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/skyfence/skyfence"
)

// algCosignature is the key ID algorithm byte of Ed25519 cosignatures
// (C2SP tlog-cosignature).
const algCosignature = 0x04

// cosignedMessage returns the bytes a cosignature/v1 signs: the header
// line, the time line and the checkpoint's note body.
func cosignedMessage(t uint64, text []byte) []byte {
	return append(fmt.Appendf(nil, "cosignature/v1\ntime %d\n", t), text...)
}

// cosignerHash is the key ID of a cosigner: SHA-256 of the name, a line
// feed, 0x04 and the public key, its first 4 bytes big-endian.
func cosignerHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignature})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Cosigner makes C2SP tlog-cosignature/v1 signatures (a note.Signer).
type Cosigner struct {
	name string
	s    *Signer
	now  func() time.Time
}

// NewCosigner returns the cosigner name with the key of s; now gives the
// time each cosignature states (nil: time.Now).
func NewCosigner(name string, s *Signer, now func() time.Time) *Cosigner {
	if now == nil {
		now = time.Now
	}
	return &Cosigner{name: name, s: s, now: now}
}

func (c *Cosigner) Name() string    { return c.name }
func (c *Cosigner) KeyHash() uint32 { return cosignerHash(c.name, c.s.PublicKey()) }

// Sign returns the timestamped signature of msg, a checkpoint's note body.
func (c *Cosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(c.now().Unix())
	return append(binary.BigEndian.AppendUint64(nil, t), c.s.sign(cosignedMessage(t, msg))...), nil
}

// VerifierKey returns the cosigner's verifier key: name+hash+base64 of
// 0x04 and the public key.
func (c *Cosigner) VerifierKey() string {
	return fmt.Sprintf("%s+%08x+%s", c.name, c.KeyHash(), base64.StdEncoding.EncodeToString(append([]byte{algCosignature}, c.s.PublicKey()...)))
}

// cosignatureVerifier verifies cosignature/v1 signatures (a note.Verifier).
type cosignatureVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	return t < 1<<63 && ed25519.Verify(v.pub, cosignedMessage(t, msg), sig[8:])
}

// NewCosignatureVerifier reads a cosigner's verifier key (as
// Cosigner.VerifierKey writes it).
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("audit: cosigner key %q is not name+hash+keydata", vkey)
	}
	h, herr := strconv.ParseUint(parts[1], 16, 32)
	raw, kerr := base64.StdEncoding.DecodeString(parts[2])
	if herr != nil || kerr != nil || len(parts[1]) != 8 || len(raw) != 1+ed25519.PublicKeySize || raw[0] != algCosignature {
		return nil, fmt.Errorf("audit: cosigner key %q: want 8 hex digits, then base64 of 0x04 and a 32-byte Ed25519 key", vkey)
	}
	v := &cosignatureVerifier{name: parts[0], hash: uint32(h), pub: raw[1:]}
	if v.name == "" || cosignerHash(v.name, v.pub) != v.hash {
		return nil, fmt.Errorf("audit: cosigner key %q: its hash is not that of its name and key", vkey)
	}
	return v, nil
}

// WitnessLog is what a witness asks of a log: its latest checkpoint, a
// consistency proof, and to take a cosignature.
type WitnessLog interface {
	Checkpoint(ctx context.Context) ([]byte, error)
	Consistency(ctx context.Context, old, size int64) (*ConsistencyProof, error)
	// AddCosignature hands the log its checkpoint cosigned: the note with
	// the witness's signature, and the witness's verifier key.
	AddCosignature(ctx context.Context, cosigned []byte, vkey string) error
}

// WitnessState is what a witness keeps between polls: the log's key,
// pinned on first use, and the latest checkpoint it verified and cosigned.
type WitnessState struct {
	LogKey     string `json:"log_key"`
	Checkpoint string `json:"checkpoint"`
}

// Witness polls a log and cosigns each checkpoint it finds consistent
// with the last one it holds; a conflict (a smaller tree, another root at
// the same size, a consistency proof that fails, a checkpoint not signed
// by the log's key) is an error it reports and keeps as evidence, next to
// its state file, without moving its state.
type Witness struct {
	Log       WitnessLog
	Cosigner  *Cosigner
	StateFile string
	// LogKey, if set, pins the log's note verifier key; else the state's
	// is used, or, on a first poll, the key served (trusted on first use).
	LogKey string
}

// ErrConflict is what a poll that found the log inconsistent with the
// witness's state wraps.
var ErrConflict = errors.New("the log is not consistent with the checkpoint the witness holds")

// Poll checks the log's latest checkpoint once, cosigns it and keeps it.
// serve is the log's key as served, used when none is pinned or held.
func (w *Witness) Poll(ctx context.Context, served func(ctx context.Context) (string, error)) (Checkpoint, error) {
	st, err := w.load()
	if err != nil {
		return Checkpoint{}, err
	}
	key := cmp.Or(w.LogKey, st.LogKey)
	if key == "" {
		if key, err = served(ctx); err != nil {
			return Checkpoint{}, err
		}
	}
	if st.LogKey != "" && key != st.LogKey {
		return Checkpoint{}, fmt.Errorf("audit: witness: the log key %q is not the %q the state holds", key, st.LogKey)
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: witness: log key: %w", err)
	}
	msg, err := w.Log.Checkpoint(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, w.conflict(st, msg, fmt.Sprintf("the checkpoint served is not signed by the log's key %s: %v", key, err))
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil || c.Origin != v.Name() {
		return Checkpoint{}, w.conflict(st, msg, fmt.Sprintf("the checkpoint served is not a checkpoint of the log %q: %v", v.Name(), err))
	}
	if st.Checkpoint != "" {
		old, err := ParseCheckpoint(st.Checkpoint)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("audit: witness state %s: %w", w.StateFile, err)
		}
		switch {
		case c.Size < old.Size:
			return c, w.conflict(st, msg, fmt.Sprintf("cut: the log shows %d entries, fewer than the %d of the checkpoint held", c.Size, old.Size))
		case c.Size == old.Size && c.Root != old.Root:
			return c, w.conflict(st, msg, fmt.Sprintf("fork: the log shows root %s for %d entries, the checkpoint held %s", c.Root, c.Size, old.Root))
		case c.Size > old.Size:
			p, err := w.Log.Consistency(ctx, old.Size, c.Size)
			if err == nil {
				err = CheckConsistency(p, old, c)
			}
			if err != nil {
				return c, w.conflict(st, msg, fmt.Sprintf("fork or rewrite: no proof that the tree of %d entries held is a prefix of the %d served: %v", old.Size, c.Size, err))
			}
		}
	}
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, w.Cosigner)
	if err != nil {
		return c, err
	}
	if err := w.Log.AddCosignature(ctx, cosigned, w.Cosigner.VerifierKey()); err != nil {
		return c, fmt.Errorf("audit: witness: post the cosignature: %w", err)
	}
	return c, w.save(WitnessState{LogKey: key, Checkpoint: n.Text})
}

func (w *Witness) load() (WitnessState, error) {
	var st WitnessState
	b, err := os.ReadFile(w.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return st, fmt.Errorf("audit: witness state %s: %w", w.StateFile, err)
	}
	return st, nil
}

// save writes the state to a new file and renames it over the old, so a
// crash leaves one or the other.
func (w *Witness) save(st WitnessState) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	tmp := w.StateFile + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("audit: witness state: %w", err)
	}
	return os.Rename(tmp, w.StateFile)
}

// conflict keeps the evidence of a conflict: the checkpoint held and the
// one served, with what is wrong, in a file beside the state.
func (w *Witness) conflict(st WitnessState, served []byte, what string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\nThe checkpoint the witness held (its body: it cosigned it):\n\n%s\nThe checkpoint the log served, as served:\n\n%s", what, st.Checkpoint, served)
	path := filepath.Join(filepath.Dir(w.StateFile), fmt.Sprintf("%s.evidence-%d.txt", filepath.Base(w.StateFile), time.Now().UnixNano()))
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return errors.Join(fmt.Errorf("%w: %s", ErrConflict, what), err)
	}
	return fmt.Errorf("%w: %s (evidence kept in %s)", ErrConflict, what, path)
}

// CheckCosignature checks a checkpoint cosigned by a witness, as a log
// takes it: vkey is the witness's verifier key, the cosignature must
// verify with it, and the note's text must be that of the log's
// checkpoint of its size. It returns the cosignature to store. EINVALID
// names what is wrong.
func CheckCosignature(ctx context.Context, r skyfence.Reader, cosigned []byte, vkey string) (*skyfence.AuditCosignature, error) {
	v, err := NewCosignatureVerifier(vkey)
	if err != nil {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "key", "%v", err)
	}
	n, err := note.Open(cosigned, note.VerifierList(v))
	if err != nil {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "note", "the note has no valid cosignature by %s: %v", v.Name(), err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "note", "%v", err)
	}
	stored, err := r.FindAuditCheckpoint(ctx, c.Size)
	if skyfence.ErrorCode(err) == skyfence.ENOTFOUND {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "note", "the log signed no checkpoint of size %d", c.Size)
	}
	if err != nil {
		return nil, err
	}
	if text, err := SplitNote(stored.Note); err != nil || text != n.Text {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "note", "the cosigned checkpoint of size %d is not the one the log signed", c.Size)
	}
	sig := n.Sigs[0]
	return &skyfence.AuditCosignature{Size: c.Size, Key: vkey, Line: "— " + sig.Name + " " + sig.Base64 + "\n", Time: time.Now().UTC()}, nil
}

// WithCosignatures returns the signed note msg with the cosignatures'
// lines after its own.
func WithCosignatures(msg []byte, cs []*skyfence.AuditCosignature) []byte {
	out := bytes.Clone(msg)
	for _, c := range cs {
		out = append(out, c.Line...)
	}
	return out
}
