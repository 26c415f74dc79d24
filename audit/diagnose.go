package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/skyfence/skyfence"
)

// diagnose says what was done to the chain, given e, the entry that comes
// after the last verified one (v.prevSeq) but does not extend it: self says
// whether e's hash matches its content, link whether e links to the last
// verified entry. It names the first entry at fault, trying in turn:
//
//   - a seq at or below the last one: a copy or second entry (inserted), or
//     an entry out of order (reordered);
//   - e links to an entry ahead of it: reordered;
//   - the true successor of the last entry is ahead: e and those before it
//     were inserted;
//   - e links to the last entry: e was changed (its content, or its seq);
//   - e links to an earlier entry: the entries after that one were
//     inserted (and e renumbered, as a store with gapless seqs needs);
//   - a gap in seq before a consistent e: deleted;
//   - a consistent e at the right seq that links elsewhere: the last entry
//     was changed and its hash recomputed (or entries deleted and e
//     re-hashed: the chain cannot tell these apart);
//   - e consistent at a higher seq than its own: entries deleted and those
//     after renumbered; at a lower one: e's seq changed;
//   - else e was changed.
//
// It looks at most window entries back and ahead.
func (v *verifier) diagnose(ctx context.Context, st *stream, e *skyfence.AuditEntry, self, link bool) (*Problem, error) {
	want := v.prevSeq + 1
	if e.Seq < want {
		if s, ok := v.recent.find(e.Hash); ok {
			return &Problem{Seq: e.Seq, Kind: Inserted, Detail: fmt.Sprintf("a copy of entry %d comes again after entry %d", s, v.prevSeq)}, nil
		}
		if e.Seq == v.prevSeq {
			return &Problem{Seq: e.Seq, Kind: Inserted, Detail: fmt.Sprintf("a second entry %d", e.Seq)}, nil
		}
		return &Problem{Seq: e.Seq, Kind: Reordered, Detail: fmt.Sprintf("it comes after entry %d", v.prevSeq)}, nil
	}
	succ, forward, err := lookAhead(ctx, st, v.prevHash, e.PrevHash)
	if err != nil {
		return nil, err
	}
	switch {
	case forward:
		return &Problem{Seq: want, Kind: Reordered, Detail: fmt.Sprintf("the entry in its place (seq %d) links to a later one: entries were swapped or moved", e.Seq)}, nil
	case succ >= 0:
		return &Problem{Seq: want, Kind: Inserted, Detail: fmt.Sprintf(
			"%s before the one that links to entry %d", span(e.Seq, e.Seq+int64(succ), "stands", "stand"), v.prevSeq)}, nil
	case link && digestAt(e, want):
		return &Problem{Seq: e.Seq, Kind: Changed, Detail: fmt.Sprintf("its seq was changed from %d", want)}, nil
	case link && self:
		return &Problem{Seq: e.Seq, Kind: Changed, Detail: fmt.Sprintf("its seq was changed from %d and its hash recomputed", want)}, nil
	case link:
		return &Problem{Seq: e.Seq, Kind: Changed, Detail: "its content does not match its hash"}, nil
	}
	if s, ok := v.recent.find(e.PrevHash); ok {
		return &Problem{Seq: s + 1, Kind: Inserted, Detail: fmt.Sprintf(
			"entry %d links to entry %d, so %s not belong between them", e.Seq, s, span(s+1, v.prevSeq, "does", "do"))}, nil
	}
	switch {
	case e.Seq > want && self:
		return &Problem{Seq: want, Kind: Deleted, Detail: fmt.Sprintf("entry %d follows entry %d", e.Seq, v.prevSeq)}, nil
	case self && v.prevSeq == 0:
		return &Problem{Seq: e.Seq, Kind: Changed, Detail: "the first entry's prev_hash is not 32 zero bytes"}, nil
	case self:
		return &Problem{Seq: v.prevSeq, Kind: Changed, Detail: fmt.Sprintf(
			"entry %d does not link to it, so it was changed and its hash recomputed (or entries after it were deleted and entry %d re-hashed)", e.Seq, e.Seq)}, nil
	}
	for d := int64(1); d <= window; d++ {
		switch {
		case digestAt(e, e.Seq+d):
			return &Problem{Seq: want, Kind: Deleted, Detail: fmt.Sprintf(
				"%s, and entry %d now has seq %d", span(want, e.Seq+d-1, "is missing", "are missing"), e.Seq+d, e.Seq)}, nil
		case e.Seq-d > 0 && digestAt(e, e.Seq-d):
			return &Problem{Seq: e.Seq, Kind: Changed, Detail: fmt.Sprintf("its seq was changed from %d", e.Seq-d)}, nil
		}
	}
	return &Problem{Seq: e.Seq, Kind: Changed, Detail: fmt.Sprintf("its content does not match its hash, and it does not link to entry %d", v.prevSeq)}, nil
}

// lookAhead looks at most window entries ahead for the first that links
// to prev (at place succ, -1 if none), and for one whose hash e links to.
func lookAhead(ctx context.Context, st *stream, prev, e []byte) (succ int, forward bool, err error) {
	succ = -1
	for i := 0; i < window && (succ < 0 || !forward); i++ {
		f, err := st.peek(ctx, i)
		if f == nil || err != nil {
			return succ, forward, err
		}
		if succ < 0 && bytes.Equal(f.PrevHash, prev) {
			succ = i
		}
		forward = forward || bytes.Equal(f.Hash, e)
	}
	return succ, forward, nil
}

// digestAt reports whether e's hash is its digest had it seq instead.
func digestAt(e *skyfence.AuditEntry, seq int64) bool {
	c := *e
	c.Seq = seq
	return bytes.Equal(c.Digest(c.PrevHash), e.Hash)
}

// span names entries from to to: "entry 7 is", "entries 7 to 9 are".
func span(from, to int64, one, many string) string {
	if from == to {
		return fmt.Sprintf("entry %d %s", from, one)
	}
	return fmt.Sprintf("entries %d to %d %s", from, to, many)
}
