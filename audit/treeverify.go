package audit

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
)

// frontier holds the hashes of the perfect subtrees a tree of some size
// splits into, by their stored hash index: all that tlog needs to add the
// next record and to hash the tree (a tlog.HashReader), in O(log n)
// memory.
type frontier map[int64]tlog.Hash

func (f frontier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := f[x]
		if !ok {
			return nil, fmt.Errorf("audit: tree hash %d is not on the frontier", x)
		}
		out[i] = h
	}
	return out, nil
}

// add adds record n, whose stored hashes (tlog.StoredHashes) are hashes:
// the subtrees they complete leave the frontier for their parent.
func (f frontier) add(n int64, hashes []tlog.Hash) {
	top := len(hashes) - 1
	for l := range top {
		delete(f, tlog.StoredHashIndex(l, (n>>l)-1))
	}
	f[tlog.StoredHashIndex(top, n>>top)] = hashes[top]
}

// errStop ends a ForEachAuditCheckpoint early.
var errStop = errors.New("stop")

// storedQueue reads the log's checkpoints a page at a time, in order of
// size.
type storedQueue struct {
	log  TreeLog
	from int64
	page []*skyfence.AuditCheckpoint
	done bool
}

// peek returns the next checkpoint, or nil after the last.
func (q *storedQueue) peek(ctx context.Context) (*skyfence.AuditCheckpoint, error) {
	if len(q.page) == 0 && !q.done {
		err := q.log.ForEachAuditCheckpoint(ctx, q.from, func(c *skyfence.AuditCheckpoint) error {
			q.page = append(q.page, c)
			if len(q.page) == pageSize {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, err
		}
		q.done = len(q.page) < pageSize
	}
	if len(q.page) == 0 {
		return nil, nil
	}
	return q.page[0], nil
}

func (q *storedQueue) pop() {
	q.from = q.page[0].Size + 1
	q.page = q.page[1:]
}

// checkTree adds e, just accepted, to the tree, and checks the
// checkpoints of its size: the log's own, then those seen earlier.
func (v *verifier) checkTree(ctx context.Context, e *skyfence.AuditEntry) (*Problem, error) {
	n := e.Seq - 1
	hashes, err := tlog.StoredHashesForRecordHash(n, e.RecordHash(), v.tree)
	if err != nil {
		return nil, err
	}
	v.tree.add(n, hashes)
	v.size = e.Seq
	// The root is hashed only at the sizes of checkpoints, and at the end.
	var root tlog.Hash
	if v.stored != nil {
		for {
			c, err := v.stored.peek(ctx)
			if err != nil {
				return nil, err
			}
			if c == nil || c.Size > e.Seq {
				break
			}
			v.stored.pop()
			if root, err = v.root(); err != nil {
				return nil, err
			}
			if p := v.checkStored(c, e, root); p != nil {
				return p, nil
			}
		}
	}
	for len(v.seen) > 0 && v.seen[0].c.Size <= e.Seq {
		s := v.seen[0]
		v.seen = v.seen[1:]
		if root, err = v.root(); err != nil {
			return nil, err
		}
		if p := v.checkSeen(s, e.Seq, root); p != nil {
			return p, nil
		}
	}
	return nil, nil
}

// root returns the root hash of the tree of the entries verified, and
// keeps it in the report.
func (v *verifier) root() (tlog.Hash, error) {
	if v.size == 0 {
		return tlog.Hash{}, nil
	}
	h, err := tlog.TreeHash(v.size, v.tree)
	v.rep.Root = h
	return h, err
}

// checkStored checks c, one of the log's checkpoints, at entry e, the
// last of the tree of c's size, whose root is root.
func (v *verifier) checkStored(c *skyfence.AuditCheckpoint, e *skyfence.AuditEntry, root tlog.Hash) *Problem {
	text, err := SplitNote(c.Note)
	var cp Checkpoint
	if err == nil {
		cp, err = ParseCheckpoint(text)
	}
	switch {
	case c.Size < e.Seq:
		return &Problem{Seq: c.Size, Kind: Malformed, Detail: fmt.Sprintf("a second checkpoint of size %d", c.Size)}
	case err != nil:
		return &Problem{Seq: e.Seq, Kind: Malformed, Detail: fmt.Sprintf("the log's checkpoint of size %d: %v", c.Size, err)}
	case cp.Size != c.Size || cp.Root != c.Root:
		return &Problem{Seq: e.Seq, Kind: Malformed, Detail: fmt.Sprintf("the log's checkpoint of size %d signs size %d and root %s, not its row's root %s", c.Size, cp.Size, cp.Root, c.Root)}
	case v.rep.Origin != "" && cp.Origin != v.rep.Origin:
		return &Problem{Seq: e.Seq, Kind: Malformed, Detail: fmt.Sprintf("the log's checkpoint of size %d names the log %q, the ones before it %q", c.Size, cp.Origin, v.rep.Origin)}
	}
	v.rep.Origin = cp.Origin
	if p := v.signedByKeyInForce(e.Seq, fmt.Sprintf("checkpoint of size %d", c.Size), c.KeyID); p != nil {
		return p
	}
	if _, err := OpenCheckpoint(c.Note, v.key.PublicKey); err != nil {
		return &Problem{Seq: e.Seq, Kind: BadSignature, Detail: fmt.Sprintf("the log's checkpoint of size %d does not verify with key %s", c.Size, v.key.ID)}
	}
	if cp.Root != root {
		return &Problem{Seq: v.agreed + 1, Kind: Rewritten, Detail: fmt.Sprintf(
			"the log's checkpoint of size %d signed root %s, but its entries give %s: entries after %s were rewritten", c.Size, cp.Root, root, v.agreedText())}
	}
	if v.pending != nil {
		return &Problem{Seq: v.pending.Seq, Kind: Forked, Detail: fmt.Sprintf(
			"%s; yet the log's checkpoint of size %d is signed by key %s and signs them: the key's holder signed two histories", v.pending.Detail, c.Size, v.key.ID)}
	}
	v.agreed = c.Size
	v.rep.TreeCheckpoints++
	v.rep.Signed = Head{Seq: e.Seq, Hash: e.Hash}
	return nil
}

// agreedText names the last checkpoint the tree matched.
func (v *verifier) agreedText() string {
	if v.agreed == 0 {
		return "the start (no checkpoint matches)"
	}
	return fmt.Sprintf("entry %d (the last checkpoint that matches)", v.agreed)
}

// checkSeen checks s, a checkpoint seen earlier, against the tree of size
// entries, whose root is root.
func (v *verifier) checkSeen(s seen, size int64, root tlog.Hash) *Problem {
	if s.c.Size < size {
		return nil // size 0: the empty tree, consistent with every tree
	}
	if v.rep.Origin != "" && s.c.Origin != v.rep.Origin {
		return &Problem{Seq: size, Kind: Untrusted, Detail: fmt.Sprintf("checkpoint %s is of the log %q, this log is %q", s.Name, s.c.Origin, v.rep.Origin)}
	}
	if v.key == nil {
		return &Problem{Seq: size, Kind: Untrusted, Detail: fmt.Sprintf("checkpoint %s is signed, but the log has no key in force at entry %d", s.Name, size)}
	}
	if _, err := OpenCheckpoint(s.Note, v.key.PublicKey); err != nil {
		for _, k := range v.rep.Keys {
			if _, err := OpenCheckpoint(s.Note, k.PublicKey); err == nil {
				return &Problem{Seq: size, Kind: BadSignature, Detail: fmt.Sprintf("checkpoint %s (size %d) is signed by key %s, but the key in force at entry %d is %s", s.Name, s.c.Size, k.ID, size, v.key.ID)}
			}
		}
		return &Problem{Seq: size, Kind: Untrusted, Detail: fmt.Sprintf(
			"checkpoint %s (size %d) is signed by none of the log's keys (the key in force at entry %d is %s): the log's keys were swapped, or it is another log", s.Name, s.c.Size, size, v.key.ID)}
	}
	if s.c.Root != root {
		detail := fmt.Sprintf("checkpoint %s signed root %s for the first %d entries, but they give %s", s.Name, s.c.Root, size, root)
		if v.agreed == size {
			return &Problem{Seq: size, Kind: Forked, Detail: fmt.Sprintf(
				"%s, and the log's own checkpoint of size %d, signed by key %s, signs them: the key's holder signed two histories", detail, size, v.key.ID)}
		}
		if v.pending == nil {
			v.pending = &Problem{Seq: v.agreed + 1, Kind: Rewritten, Detail: fmt.Sprintf("%s: entries after %s were rewritten", detail, v.agreedText())}
		}
		return nil
	}
	v.agreed = size
	v.rep.Seen++
	return nil
}

// finishTree checks, at the end of the entries, for checkpoints beyond
// them, a seen checkpoint not matched, and the store's tree hashes.
func (v *verifier) finishTree(ctx context.Context) (*Problem, error) {
	if _, err := v.root(); err != nil {
		return nil, err
	}
	if v.pending != nil {
		return v.pending, nil
	}
	if len(v.seen) > 0 {
		s := v.seen[len(v.seen)-1]
		return &Problem{Seq: v.prevSeq + 1, Kind: Truncated, Detail: fmt.Sprintf(
			"the log has %d entries, but checkpoint %s signed %d: its tail was cut", v.prevSeq, s.Name, s.c.Size)}, nil
	}
	if v.stored != nil {
		c, err := v.stored.peek(ctx)
		if err != nil {
			return nil, err
		}
		if c != nil {
			return &Problem{Seq: v.prevSeq + 1, Kind: Truncated, Detail: fmt.Sprintf(
				"the log has %d entries, but its own checkpoint of size %d signed more: its tail was cut", v.prevSeq, c.Size)}, nil
		}
	}
	if v.store == nil || v.prevSeq == 0 {
		return nil, nil
	}
	th, err := tlog.TreeHash(v.prevSeq, tlog.HashReaderFunc(func(x []int64) ([]tlog.Hash, error) { return v.store.ReadAuditHashes(ctx, x) }))
	switch {
	case skyfence.ErrorCode(err) == skyfence.ENOTFOUND:
		return nil, nil // a log older than its tree, not appended to since
	case err != nil:
		return nil, err
	case th != v.rep.Root:
		return &Problem{Seq: v.agreed + 1, Kind: BadTree, Detail: fmt.Sprintf(
			"the store's tree hashes give root %s for its %d entries, the entries give %s: the proofs it serves do not hold", th, v.prevSeq, v.rep.Root)}, nil
	}
	return nil, nil
}
