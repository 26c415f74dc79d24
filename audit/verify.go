package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
)

const (
	// pageSize is how many entries Verify reads at a time.
	pageSize = 1000
	// window is how many entries back a checkpoint may sign, and how far
	// back or ahead of a problem Verify looks to say what it is.
	window = 1024
)

// Verify walks the whole chain in order and reports the first problem: the
// entry at fault and what was done to it (changed, deleted, inserted,
// reordered); a checkpoint or key entry whose signature does not verify
// with the key in force; a checkpoint that does not sign the chain as it
// is; and, with opts, a root key that is not pinned or an expected head the
// chain no longer holds. The chain itself shows the first four; only
// checkpoints, a pinned key and an expected head show a tail cut off or a
// chain rewritten and re-hashed. The error is for failures to read, not for
// problems of the chain.
//
// It also builds the Merkle tree of the entries and checks against it
// every checkpoint the log holds, if log is a TreeLog (each must be signed
// by the key in force at its size and sign the tree of the entries up to
// it), the store's own tree hashes, and every checkpoint of
// opts.Checkpoints: a checkpoint seen earlier that the log no longer
// matches shows a tail cut (truncated), entries rewritten and re-hashed
// (rewritten), the key's holder signing two histories (forked), or the
// log's keys swapped (untrusted key).
func Verify(ctx context.Context, log Log, opts VerifyOptions) (*Report, error) {
	v, err := newVerifier(opts)
	if err != nil {
		return nil, err
	}
	if tl, ok := log.(TreeLog); ok {
		v.store = tl
		v.stored = &storedQueue{log: tl, from: 1}
	}
	return v.run(ctx, &logSource{log: log, from: 1})
}

// TreeLog is a Log that keeps the Merkle tree and its checkpoints: every
// skyfence.Reader is one.
type TreeLog interface {
	Log
	ReadAuditHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	ForEachAuditCheckpoint(ctx context.Context, from int64, fn func(*skyfence.AuditCheckpoint) error) error
}

// source yields entries in the order to verify; nil at the end.
type source interface {
	next(ctx context.Context) (*skyfence.AuditEntry, error)
}

// logSource reads a Log a page at a time.
type logSource struct {
	log  Log
	from int64
	page []*skyfence.AuditEntry
	done bool
}

func (s *logSource) next(ctx context.Context) (*skyfence.AuditEntry, error) {
	if len(s.page) == 0 && !s.done {
		var err error
		if s.page, err = s.log.FindAudit(ctx, s.from, pageSize); err != nil {
			return nil, err
		}
		s.done = len(s.page) == 0
	}
	if len(s.page) == 0 {
		return nil, nil
	}
	e := s.page[0]
	s.page = s.page[1:]
	s.from = max(s.from, e.Seq+1)
	return e, nil
}

// stream is a source that can be looked ahead of.
type stream struct {
	src   source
	ahead []*skyfence.AuditEntry
}

// peek returns the entry i places after the last one next returned, or nil
// past the end.
func (s *stream) peek(ctx context.Context, i int) (*skyfence.AuditEntry, error) {
	for len(s.ahead) <= i {
		e, err := s.src.next(ctx)
		if e == nil || err != nil {
			return nil, err
		}
		s.ahead = append(s.ahead, e)
	}
	return s.ahead[i], nil
}

func (s *stream) next(ctx context.Context) (*skyfence.AuditEntry, error) {
	e, err := s.peek(ctx, 0)
	if e != nil {
		s.ahead = s.ahead[1:]
	}
	return e, err
}

// recent remembers the hashes of the last window verified entries.
type recent struct {
	seqs   [window]int64
	hashes [window][]byte
}

func (r *recent) add(seq int64, hash []byte) {
	r.seqs[seq%window], r.hashes[seq%window] = seq, hash
}

// hash returns the hash of entry seq, if remembered.
func (r *recent) hash(seq int64) ([]byte, bool) {
	i := seq % window
	return r.hashes[i], seq > 0 && r.seqs[i] == seq
}

// find returns the seq of the remembered entry with the hash.
func (r *recent) find(hash []byte) (int64, bool) {
	for i, h := range r.hashes {
		if h != nil && bytes.Equal(h, hash) {
			return r.seqs[i], true
		}
	}
	return 0, false
}

// verifier is the state of one walk: the last verified entry, the key in
// force and the last verified checkpoint.
type verifier struct {
	opts       VerifyOptions
	rep        Report
	prevSeq    int64
	prevHash   []byte
	recent     recent
	key        *Key
	checkpoint int64 // the seq of the last verified checkpoint entry

	tree    frontier     // the tree of the entries verified
	size    int64        // how many entries it has
	seen    []seen       // opts.Checkpoints by size
	stored  *storedQueue // the log's own checkpoints (nil: none)
	store   TreeLog      // the log's tree hashes (nil: none)
	agreed  int64        // the size of the last checkpoint the tree matches
	pending *Problem     // a seen checkpoint the tree does not match
}

// seen is a checkpoint of opts.Checkpoints, its text parsed.
type seen struct {
	SeenCheckpoint
	c Checkpoint
}

func newVerifier(opts VerifyOptions) (*verifier, error) {
	v := &verifier{opts: opts, prevHash: make([]byte, 32), tree: frontier{}}
	for _, sc := range opts.Checkpoints {
		text, err := SplitNote(sc.Note)
		if err == nil {
			var c Checkpoint
			if c, err = ParseCheckpoint(text); err == nil {
				v.seen = append(v.seen, seen{sc, c})
				continue
			}
		}
		return nil, fmt.Errorf("checkpoint %s: %w", sc.Name, err)
	}
	slices.SortStableFunc(v.seen, func(a, b seen) int { return cmp.Compare(a.c.Size, b.c.Size) })
	return v, nil
}

func verify(ctx context.Context, src source, opts VerifyOptions) (*Report, error) {
	v, err := newVerifier(opts)
	if err != nil {
		return nil, err
	}
	return v.run(ctx, src)
}

func (v *verifier) run(ctx context.Context, src source) (*Report, error) {
	st := &stream{src: src}
	for {
		e, err := st.next(ctx)
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		p, err := v.check(ctx, st, e)
		if err != nil {
			return nil, err
		}
		if p == nil {
			p = v.accept(e)
		}
		if p == nil {
			p, err = v.checkTree(ctx, e)
			if err != nil {
				return nil, err
			}
		}
		if p != nil {
			v.rep.Problem = cmp.Or(v.pending, p)
			return &v.rep, nil
		}
	}
	p, err := v.finishTree(ctx)
	if err != nil {
		return nil, err
	}
	v.rep.Problem = cmp.Or(p, v.finish())
	return &v.rep, nil
}

// check returns nil if e extends the chain verified so far, else what is
// wrong (see diagnose).
func (v *verifier) check(ctx context.Context, st *stream, e *skyfence.AuditEntry) (*Problem, error) {
	self := bytes.Equal(e.Hash, e.Digest(e.PrevHash))
	link := bytes.Equal(e.PrevHash, v.prevHash)
	if e.Seq == v.prevSeq+1 && self && link {
		return nil, nil
	}
	return v.diagnose(ctx, st, e, self, link)
}

// accept takes e, which extends the chain, as verified, and checks what it
// says if it is a checkpoint or key entry.
func (v *verifier) accept(e *skyfence.AuditEntry) *Problem {
	v.prevSeq, v.prevHash = e.Seq, e.Hash
	v.recent.add(e.Seq, e.Hash)
	v.rep.Entries++
	v.rep.Head = Head{Seq: e.Seq, Hash: e.Hash}
	if h := v.opts.ExpectHead; h != nil && h.Seq == e.Seq && !bytes.Equal(h.Hash, e.Hash) {
		return &Problem{Seq: v.checkpoint + 1, Kind: Rewritten, Detail: fmt.Sprintf(
			"entry %d has hash %x, not the expected %x: the chain was rewritten %s", e.Seq, e.Hash, h.Hash, v.since())}
	}
	switch e.Action {
	case ActionCheckpoint:
		return v.acceptCheckpoint(e)
	case ActionKey:
		return v.acceptKey(e)
	}
	return nil
}

// since says from where the last verified checkpoint no longer vouches
// for the chain.
func (v *verifier) since() string {
	if v.checkpoint == 0 {
		return "from its start (no checkpoint vouches for any entry)"
	}
	return fmt.Sprintf("after the checkpoint at entry %d", v.checkpoint)
}

func (v *verifier) acceptCheckpoint(e *skyfence.AuditEntry) *Problem {
	var d checkpointData
	err := decodeStrict(e.Data, &d)
	hash, herr := hex.DecodeString(d.Hash)
	if err != nil || herr != nil || len(hash) != 32 || d.Seq < 1 || d.Seq >= e.Seq {
		return &Problem{Seq: e.Seq, Kind: Malformed, Detail: "checkpoint data is not {seq (an earlier entry), hash (64 hex digits), key_id, signature}"}
	}
	if p := v.signedByKeyInForce(e.Seq, "checkpoint", d.KeyID); p != nil {
		return p
	}
	if !verifySignature(v.key.PublicKey, checkpointMessage(d.Seq, d.Hash), d.Signature) {
		return &Problem{Seq: e.Seq, Kind: BadSignature, Detail: fmt.Sprintf("the checkpoint's signature does not verify with key %s", d.KeyID)}
	}
	got, ok := v.recent.hash(d.Seq)
	if !ok {
		return &Problem{Seq: e.Seq, Kind: Malformed, Detail: fmt.Sprintf("the checkpoint signs entry %d, more than %d entries back", d.Seq, window)}
	}
	if !bytes.Equal(got, hash) {
		return &Problem{Seq: v.checkpoint + 1, Kind: Rewritten, Detail: fmt.Sprintf(
			"the checkpoint at entry %d signed hash %s for entry %d, which now has %x: the chain was rewritten %s", e.Seq, d.Hash, d.Seq, got, v.since())}
	}
	v.checkpoint = e.Seq
	v.rep.Checkpoints++
	v.rep.Signed = Head{Seq: d.Seq, Hash: hash}
	return nil
}

// signedByKeyInForce returns a problem unless keyID is the key in force.
func (v *verifier) signedByKeyInForce(seq int64, what, keyID string) *Problem {
	switch {
	case v.key == nil:
		return &Problem{Seq: seq, Kind: BadSignature, Detail: fmt.Sprintf("a %s signed by key %s, but no key entry comes before it", what, keyID)}
	case keyID != v.key.ID:
		return &Problem{Seq: seq, Kind: BadSignature, Detail: fmt.Sprintf("a %s signed by key %s, but the key in force is %s", what, keyID, v.key.ID)}
	}
	return nil
}

func (v *verifier) acceptKey(e *skyfence.AuditEntry) *Problem {
	var d keyData
	err := decodeStrict(e.Data, &d)
	raw, perr := base64.StdEncoding.DecodeString(d.PublicKey)
	pub := ed25519.PublicKey(raw)
	if err != nil || perr != nil || len(pub) != ed25519.PublicKeySize || d.KeyID != KeyID(pub) {
		return &Problem{Seq: e.Seq, Kind: Malformed, Detail: "key data is not {key_id (of the public key), public_key (32 bytes, base64), previous_key_id, signature}"}
	}
	k := Key{ID: d.KeyID, PublicKey: pub, Seq: e.Seq, Trust: TrustRotated}
	signer := v.key
	if d.PreviousKeyID == "" {
		signer = &k
		pinned := slices.ContainsFunc(v.opts.PublicKeys, func(p ed25519.PublicKey) bool { return p.Equal(pub) })
		switch {
		case pinned:
			k.Trust = TrustPinned
		case len(v.opts.PublicKeys) > 0:
			return &Problem{Seq: e.Seq, Kind: Untrusted, Detail: fmt.Sprintf("key %s is not a pinned key", d.KeyID)}
		case v.key != nil:
			return &Problem{Seq: e.Seq, Kind: Untrusted, Detail: fmt.Sprintf("key %s starts a new root of trust while key %s is in force; pin it to accept it", d.KeyID, v.key.ID)}
		default:
			k.Trust = TrustFirstUse
		}
	} else if p := v.signedByKeyInForce(e.Seq, "key entry", d.PreviousKeyID); p != nil {
		return p
	}
	if !verifySignature(signer.PublicKey, keyMessage(&d), d.Signature) {
		return &Problem{Seq: e.Seq, Kind: BadSignature, Detail: fmt.Sprintf("the key entry's signature does not verify with key %s", signer.ID)}
	}
	v.rep.Keys = append(v.rep.Keys, k)
	v.key = &k
	return nil
}

// decodeStrict decodes data into v, refusing unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// finish checks, at the end of a chain without a problem, what opts
// expect of it as a whole.
func (v *verifier) finish() *Problem {
	if h := v.opts.ExpectHead; h != nil && v.prevSeq < h.Seq {
		return &Problem{Seq: v.prevSeq + 1, Kind: Truncated, Detail: fmt.Sprintf(
			"the chain ends at entry %d, before the expected head %d: it was cut short, and perhaps rewritten %s",
			v.prevSeq, h.Seq, v.since())}
	}
	if len(v.opts.PublicKeys) > 0 && len(v.rep.Keys) == 0 {
		return &Problem{Seq: 1, Kind: Untrusted, Detail: "no key entry puts a pinned key in force: nothing in the chain is signed"}
	}
	return nil
}
