package control

import (
	"context"
	"encoding/json"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
	auditchain "github.com/skyfence/skyfence/audit"
)

// The audit log's public face: its signed checkpoints, its key, proofs and
// the tree's tiles hold hashes and no personal data, so they need no
// permission (the entries do: AuditLog).

// AuditCheckpoint returns the log's checkpoint of size entries, or its
// latest for size 0, with the witnesses' cosignatures of it in its note.
func (s *Service) AuditCheckpoint(ctx context.Context, size int64) (*skyfence.AuditCheckpoint, error) {
	if size < 0 {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "size", "size %d is negative", size)
	}
	c, err := s.store.FindAuditCheckpoint(ctx, size)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.FindAuditCosignatures(ctx, c.Size)
	if err != nil {
		return nil, err
	}
	c.Note = auditchain.WithCosignatures(c.Note, cs)
	return c, nil
}

// AuditCosignedCheckpoint returns the latest checkpoint that a witness
// cosigned, with every cosignature of it. ENOTFOUND if none is.
func (s *Service) AuditCosignedCheckpoint(ctx context.Context) (*skyfence.AuditCheckpoint, error) {
	cs, err := s.store.FindAuditCosignatures(ctx, 0)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no witness has cosigned a checkpoint of the audit log yet")
	}
	c, err := s.store.FindAuditCheckpoint(ctx, cs[0].Size)
	if err != nil {
		return nil, err
	}
	c.Note = auditchain.WithCosignatures(c.Note, cs)
	return c, nil
}

// CosignAudit takes a witness's cosignature of one of the log's
// checkpoints (audit.CheckCosignature says what it checks). It needs the
// permission to read the audit log: a witness holds an auditor's key.
// Cosignatures are not audit entries: they change nothing, and a witness
// polling an idle log would otherwise never see it idle.
// read reads the cosigned note and the witness's key, once the caller's
// permission is checked, so that a caller without it learns nothing of
// what it sent.
func (s *Service) CosignAudit(ctx context.Context, read func() (cosigned []byte, vkey string, err error)) error {
	if _, err := require(ctx, ReadAudit); err != nil {
		return err
	}
	cosigned, vkey, err := read()
	if err != nil {
		return err
	}
	c, err := auditchain.CheckCosignature(ctx, s.store, cosigned, vkey)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx skyfence.Tx) error { return tx.AddAuditCosignature(ctx, c) })
}

// AuditKey returns the key that signs the log's checkpoints, in note
// verifier key form.
func (s *Service) AuditKey(ctx context.Context) (string, error) {
	return auditchain.LogKey(ctx, s.store)
}

// AuditInclusion proves entry seq in the tree of size entries (0: the
// latest checkpoint's).
func (s *Service) AuditInclusion(ctx context.Context, seq, size int64) (*auditchain.InclusionProof, error) {
	return auditchain.ProveInclusion(ctx, s.store, seq, size)
}

// AuditConsistency proves the tree of old entries a prefix of that of
// size entries (0: the latest checkpoint's).
func (s *Service) AuditConsistency(ctx context.Context, old, size int64) (*auditchain.ConsistencyProof, error) {
	return auditchain.ProveConsistency(ctx, s.store, old, size)
}

// TileHeight is the height of the tiles AuditTile serves, as C2SP
// tlog-tiles has it.
const TileHeight = 8

// AuditTile returns the tile at path, a C2SP tlog-tiles path
// "tile/<L>/<N>[.p/<W>]" (N in groups of three digits, each but the last
// with an x), and whether it is a full tile (which never changes). Tiles
// beyond the latest checkpoint's tree are ENOTFOUND.
func (s *Service) AuditTile(ctx context.Context, path string) ([]byte, bool, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok || strings.HasPrefix(rest, "entries/") {
		return nil, false, skyfence.FieldErrorf(skyfence.ENOTFOUND, "path", "no tile %q: tiles are tile/<L>/<N>[.p/<W>]", path)
	}
	t, err := tlog.ParseTilePath("tile/8/" + rest)
	if err != nil || t.H != TileHeight {
		return nil, false, skyfence.FieldErrorf(skyfence.ENOTFOUND, "path", "no tile %q: tiles are tile/<L>/<N>[.p/<W>]", path)
	}
	last, err := s.store.FindAuditCheckpoint(ctx, 0)
	if err != nil {
		return nil, false, err
	}
	// The tile's last hash covers records up to this one: beyond the
	// signed tree it does not exist yet.
	shift := t.L * TileHeight
	hashes := t.N*(1<<TileHeight) + int64(t.W)
	if shift >= 63 || hashes > last.Size>>shift {
		return nil, false, skyfence.FieldErrorf(skyfence.ENOTFOUND, "path", "tile %q is beyond the signed tree of %d entries", path, last.Size)
	}
	data, err := tlog.ReadTileData(t, tlog.HashReaderFunc(func(x []int64) ([]tlog.Hash, error) { return s.store.ReadAuditHashes(ctx, x) }))
	if err != nil {
		return nil, false, err
	}
	return data, t.W == 1<<TileHeight, nil
}

// AuditReceipt is what a cut-off notice carries of the audit log: the
// entry that records the action, the signed checkpoint of the tree it is
// in, and the proof that it is in it (docs/AUDIT.md).
type AuditReceipt struct {
	Entry      *skyfence.AuditEntry       `json:"entry"`
	Checkpoint string                     `json:"checkpoint"`
	Proof      *auditchain.InclusionProof `json:"inclusion_proof"`
}

// auditReceipt finds the latest audit entry about case caseID whose data
// names action actionID, and proves it in the latest checkpoint.
func (s *Service) auditReceipt(ctx context.Context, caseID, actionID string) (*AuditReceipt, error) {
	var entry *skyfence.AuditEntry
	err := s.store.QueryAudit(ctx, skyfence.AuditQuery{Subject: caseID, ActionPrefix: "case.", Newest: true, Limit: 20}, func(e *skyfence.AuditEntry) error {
		var d struct {
			ActionID string `json:"action_id"`
		}
		if entry == nil && json.Unmarshal(e.Data, &d) == nil && d.ActionID == actionID {
			entry = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if entry == nil {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no audit entry of case %s names action %s", caseID, actionID)
	}
	c, err := s.store.FindAuditCheckpoint(ctx, 0)
	if err != nil {
		return nil, err
	}
	p, err := auditchain.ProveInclusion(ctx, s.store, entry.Seq, c.Size)
	if err != nil {
		return nil, err
	}
	return &AuditReceipt{Entry: entry, Checkpoint: string(c.Note), Proof: p}, nil
}
