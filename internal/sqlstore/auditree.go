package sqlstore

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
)

// auditState is what a transaction knows of its audit appends: whether it
// appended (and so must be sealed), the tree's size after them, and
// whether the stored tree was found complete.
type auditState struct {
	appended bool
	size     int64
	complete bool
}

// ReadAuditHashes returns the audit tree's stored hashes at the indexes,
// in their order (tlog.HashReader). ENOTFOUND for an index not stored.
func (r Reader) ReadAuditHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	byIdx := make(map[int64]tlog.Hash, len(indexes))
	args := make([]any, len(indexes))
	for i, x := range indexes {
		args[i] = x
	}
	err := r.each(ctx, "read audit tree", `SELECT idx, hash FROM audit_tree WHERE idx IN (?`+strings.Repeat(", ?", len(indexes)-1)+`)`, args,
		func(scan func(...any) error) error {
			var idx int64
			var h []byte
			if err := scan(&idx, &h); err != nil {
				return err
			}
			if len(h) != tlog.HashSize {
				return skyfence.Errorf(skyfence.EINTERNAL, "audit tree hash %d has %d bytes, not %d", idx, len(h), tlog.HashSize)
			}
			byIdx[idx] = tlog.Hash(h)
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := byIdx[x]
		if !ok {
			return nil, skyfence.Errorf(skyfence.ENOTFOUND, "audit tree hash %d is not stored", x)
		}
		out[i] = h
	}
	return out, nil
}

// hashReader is the tlog.HashReader of the tree r reads.
func (r Reader) hashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) { return r.ReadAuditHashes(ctx, indexes) })
}

// storedHashes returns how many hashes the stored tree has.
func (r Reader) storedHashes(ctx context.Context) (int64, error) {
	var n int64
	if err := r.q.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_tree`).Scan(&n); err != nil {
		return 0, r.errorf("audit tree: %w", err)
	}
	return n, nil
}

// addLeaf stores the hashes that entry e, the tree's record e.Seq-1,
// completes.
func (t Tx) addLeaf(ctx context.Context, e *skyfence.AuditEntry) error {
	n := e.Seq - 1
	hashes, err := tlog.StoredHashesForRecordHash(n, e.RecordHash(), t.r.hashReader(ctx))
	if err != nil {
		return t.r.errorf("audit tree: record %d: %w", n, err)
	}
	q := `INSERT INTO audit_tree (idx, hash) VALUES (?, ?)` + strings.Repeat(", (?, ?)", len(hashes)-1)
	args := make([]any, 0, 2*len(hashes))
	for i, h := range hashes {
		args = append(args, tlog.StoredHashIndex(0, n)+int64(i), h[:])
	}
	if _, err := t.r.q.Exec(ctx, q, args...); err != nil {
		return t.r.errorf("audit tree: record %d: %w", n, err)
	}
	return nil
}

// completeTree stores the tree's hashes for entries 1 to size that it
// lacks: those of a log older than the tree, on its first append since.
func (t Tx) completeTree(ctx context.Context, size int64) error {
	have, err := t.r.storedHashes(ctx)
	if err != nil {
		return err
	}
	// The records whose hashes are stored: the n with StoredHashCount(n)
	// == have.
	lo, hi := int64(0), size
	for lo < hi {
		m := lo + (hi-lo+1)/2
		if tlog.StoredHashCount(m) <= have {
			lo = m
		} else {
			hi = m - 1
		}
	}
	if tlog.StoredHashCount(lo) != have {
		return skyfence.Errorf(skyfence.EINTERNAL, "the audit tree holds %d hashes, not the hashes of whole records: run skyfence audit verify", have)
	}
	for from := lo + 1; from <= size; {
		es, err := t.r.FindAudit(ctx, from, 1000)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if e.Seq != from {
				return skyfence.Errorf(skyfence.EINTERNAL, "audit entry %d is missing: run skyfence audit verify", from)
			}
			if err := t.addLeaf(ctx, e); err != nil {
				return err
			}
			from++
		}
	}
	return nil
}

// SealAudit signs the audit tree's head with s, if the transaction
// appended entries and s is not nil, and stores the checkpoint: a store
// calls it last, right before it commits.
func (t Tx) SealAudit(ctx context.Context, s skyfence.AuditSealer) error {
	if s == nil || !t.a.appended {
		return nil
	}
	root, err := tlog.TreeHash(t.a.size, t.r.hashReader(ctx))
	if err != nil {
		return t.r.errorf("audit tree head %d: %w", t.a.size, err)
	}
	note, keyID, err := s.SealAudit(ctx, t.r, t.a.size, root)
	if err != nil {
		return err
	}
	if _, err := t.r.q.Exec(ctx, `INSERT INTO audit_checkpoints (size, root, key_id, note, time) VALUES (?, ?, ?, ?, ?)`,
		t.a.size, root[:], keyID, note, time.Now().UnixNano()); err != nil {
		return t.r.errorf("audit checkpoint %d: %w", t.a.size, err)
	}
	return nil
}

const checkpointColumns = `size, root, key_id, note, time`

// FindAuditCheckpoint returns the checkpoint of the tree of size entries,
// or the latest for size 0. ENOTFOUND if there is none.
func (r Reader) FindAuditCheckpoint(ctx context.Context, size int64) (*skyfence.AuditCheckpoint, error) {
	query, args := `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE size = ?`, []any{size}
	if size == 0 {
		query, args = `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY size DESC LIMIT 1`, nil
	}
	var c *skyfence.AuditCheckpoint
	err := r.checkpoints(ctx, query, args, func(x *skyfence.AuditCheckpoint) error { c = x; return nil })
	switch {
	case err != nil:
		return nil, err
	case c == nil && size == 0:
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "the audit log has no checkpoint yet")
	case c == nil:
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no audit checkpoint of size %d", size)
	}
	return c, nil
}

// ForEachAuditCheckpoint calls fn for every checkpoint with Size >= from,
// in order of size.
func (r Reader) ForEachAuditCheckpoint(ctx context.Context, from int64, fn func(*skyfence.AuditCheckpoint) error) error {
	return r.checkpoints(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE size >= ? ORDER BY size`, []any{from}, fn)
}

func (r Reader) checkpoints(ctx context.Context, query string, args []any, fn func(*skyfence.AuditCheckpoint) error) error {
	return r.each(ctx, "find audit checkpoints", query, args, func(scan func(...any) error) error {
		var c skyfence.AuditCheckpoint
		var root []byte
		var at int64
		if err := scan(&c.Size, &root, &c.KeyID, &c.Note, &at); err != nil {
			return err
		}
		if len(root) != tlog.HashSize {
			return skyfence.Errorf(skyfence.EINTERNAL, "audit checkpoint %d: its root has %d bytes, not %d", c.Size, len(root), tlog.HashSize)
		}
		c.Root, c.Time = tlog.Hash(root), time.Unix(0, at).UTC()
		return fn(&c)
	})
}

// Sealer holds a store's AuditSealer; its zero value holds none. It is safe
// for concurrent use.
type Sealer struct {
	p atomic.Pointer[skyfence.AuditSealer]
}

// Set makes s the sealer (nil: none).
func (x *Sealer) Set(s skyfence.AuditSealer) {
	if s == nil {
		x.p.Store(nil)
		return
	}
	x.p.Store(&s)
}

// Get returns the sealer, or nil.
func (x *Sealer) Get() skyfence.AuditSealer {
	if p := x.p.Load(); p != nil {
		return *p
	}
	return nil
}

// AddAuditCosignature stores c, keeping the first of the same checkpoint
// and key.
func (t Tx) AddAuditCosignature(ctx context.Context, c *skyfence.AuditCosignature) error {
	if _, err := t.r.q.Exec(ctx, `INSERT INTO audit_cosignatures (size, key, line, time) VALUES (?, ?, ?, ?) ON CONFLICT (size, key) DO NOTHING`,
		c.Size, c.Key, c.Line, c.Time.UnixNano()); err != nil {
		return t.r.errorf("audit cosignature of %d: %w", c.Size, err)
	}
	return nil
}

// FindAuditCosignatures returns the cosignatures of the checkpoint of
// size entries (0: the latest cosigned), by key.
func (r Reader) FindAuditCosignatures(ctx context.Context, size int64) ([]*skyfence.AuditCosignature, error) {
	cond, args := `size = ?`, []any{size}
	if size == 0 {
		cond, args = `size = (SELECT MAX(size) FROM audit_cosignatures)`, nil
	}
	out := []*skyfence.AuditCosignature{}
	err := r.each(ctx, "find audit cosignatures", `SELECT size, key, line, time FROM audit_cosignatures WHERE `+cond+` ORDER BY key`, args,
		func(scan func(...any) error) error {
			var c skyfence.AuditCosignature
			var at int64
			if err := scan(&c.Size, &c.Key, &c.Line, &at); err != nil {
				return err
			}
			c.Time = time.Unix(0, at).UTC()
			out = append(out, &c)
			return nil
		})
	return out, err
}
