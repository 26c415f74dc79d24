package httpapi

import (
	"net/http"
	"strconv"
)

// The audit log's public routes (docs/AUDIT.md): its signed checkpoints,
// the key that signs them, inclusion and consistency proofs, and the
// tree's hashes as C2SP tlog-tiles. They hold hashes, no personal data;
// the entries themselves stay behind the auditor's role (GET /v1/audit).
func (s *Server) auditRoutes() []route {
	return []route{
		{"GET", "/v1/audit/checkpoint", true, false, s.auditCheckpoint},
		{"GET", "/v1/audit/checkpoint/cosigned", true, false, s.auditCosigned},
		{"POST", "/v1/audit/cosignatures", false, false, s.auditCosign},
		{"GET", "/v1/audit/key", true, false, s.auditKey},
		{"GET", "/v1/audit/proof/inclusion", true, false, s.auditInclusion},
		{"GET", "/v1/audit/proof/consistency", true, false, s.auditConsistency},
		{"GET", "/v1/audit/log/{path...}", true, false, s.auditTile},
	}
}

// sizeParam reads the query parameter name as a size or seq: 0 if absent.
func sizeParam(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, badQuery(name, "%s must be a whole number from 1, got %q", name, v)
	}
	return n, nil
}

// auditCheckpoint writes the latest checkpoint, or that of ?size=N, as
// its signed note.
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	size, err := sizeParam(r, "size")
	if err != nil {
		return err
	}
	c, err := s.svc.AuditCheckpoint(r.Context(), size)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if size == 0 {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, err = w.Write(c.Note)
	return err
}

func (s *Server) auditCosigned(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.AuditCosignedCheckpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, err = w.Write(c.Note)
	return err
}

// auditCosign takes a witness's cosignature: {"note": the checkpoint
// with the witness's signature, "key": the witness's verifier key}.
func (s *Server) auditCosign(w http.ResponseWriter, r *http.Request) error {
	err := s.svc.CosignAudit(r.Context(), func() ([]byte, string, error) {
		var in struct {
			Note string `json:"note"`
			Key  string `json:"key"`
		}
		err := decode(r, &in)
		return []byte(in.Note), in.Key, err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) auditKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.svc.AuditKey(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write([]byte(k + "\n"))
	return err
}

func (s *Server) auditInclusion(w http.ResponseWriter, r *http.Request) error {
	seq, err := sizeParam(r, "seq")
	if err != nil {
		return err
	}
	if seq == 0 {
		return badQuery("seq", "seq, the entry to prove, is missing")
	}
	size, err := sizeParam(r, "size")
	if err != nil {
		return err
	}
	p, err := s.svc.AuditInclusion(r.Context(), seq, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) auditConsistency(w http.ResponseWriter, r *http.Request) error {
	old, err := sizeParam(r, "old")
	if err != nil {
		return err
	}
	if old == 0 {
		return badQuery("old", "old, the size of the earlier tree, is missing")
	}
	size, err := sizeParam(r, "size")
	if err != nil {
		return err
	}
	p, err := s.svc.AuditConsistency(r.Context(), old, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// auditTile serves a tile of the tree's hashes (C2SP tlog-tiles, height
// 8); a full tile never changes.
func (s *Server) auditTile(w http.ResponseWriter, r *http.Request) error {
	data, full, err := s.svc.AuditTile(r.Context(), r.PathValue("path"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if full {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	_, err = w.Write(data)
	return err
}
