package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// proofSource is where prove gets checkpoints, the key and proofs: a
// server's public routes or the store.
type proofSource interface {
	checkpoint(ctx context.Context) ([]byte, error)
	key(ctx context.Context) (string, error)
	inclusion(ctx context.Context, seq, size int64) (*audit.InclusionProof, error)
	consistency(ctx context.Context, old, size int64) (*audit.ConsistencyProof, error)
}

func runAuditProve(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("audit prove", flag.ContinueOnError)
	var st StoreConfig
	st.flags(fs)
	server := fs.String("url", "", "ask the server at `URL` (its public routes) instead of opening the store")
	seq := fs.Int64("seq", 0, "prove entry `N` in the checkpoint's tree")
	oldFile := fs.String("old", "", "prove the tree of the checkpoint in `FILE` a prefix of the checkpoint's")
	cpFile := fs.String("checkpoint", "", "the signed checkpoint in `FILE` (default: the latest)")
	keyArg := fs.String("key", "", "the log's note verifier `KEY` (name+hash+keydata, or a file of it; default: the key the log serves)")
	fs.Usage = func() { fmt.Fprint(e.stderr, auditUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	if (*seq == 0) == (*oldFile == "") {
		fmt.Fprintln(e.stderr, "skyfence audit prove: give one of --seq N and --old FILE")
		return errUsage
	}
	var src proofSource
	if *server != "" {
		src = httpProofs{base: strings.TrimSuffix(*server, "/")}
	} else {
		s, err := st.open(ctx, slog.New(slog.DiscardHandler), true)
		if err != nil {
			return err
		}
		defer s.Close()
		src = storeProofs{s}
	}
	vkey := *keyArg
	if b, err := os.ReadFile(vkey); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	if vkey == "" {
		k, err := src.key(ctx)
		if err != nil {
			return err
		}
		vkey = k
		fmt.Fprintf(e.stderr, "trusting the key the log serves, %s: pin it with --key\n", vkey)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("--key %q: %w", vkey, err)
	}
	var msg []byte
	if *cpFile != "" {
		msg, err = os.ReadFile(*cpFile)
	} else {
		msg, err = src.checkpoint(ctx)
	}
	if err != nil {
		return err
	}
	c, err := openCheckpoint(msg, v)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", cmp.Or(*cpFile, "(the latest)"), err)
	}
	out := json.NewEncoder(e.stdout)
	if *seq != 0 {
		p, err := src.inclusion(ctx, *seq, c.Size)
		if err != nil {
			return err
		}
		out.Encode(p)
		if err := audit.CheckInclusion(p, c, nil); err != nil {
			fmt.Fprintf(e.stderr, "PROOF FAILS: %v\n", err)
			return exitError{1}
		}
		fmt.Fprintf(e.stderr, "ok: entry %d (leaf hash %s) is in the tree of %d entries with root %s, signed by %s\n", p.Seq, p.LeafHash, c.Size, c.Root, v.Name())
		return nil
	}
	b, err := os.ReadFile(*oldFile)
	if err != nil {
		return err
	}
	old, err := openCheckpoint(b, v)
	if err != nil {
		return fmt.Errorf("--old %s: %w", *oldFile, err)
	}
	p, err := src.consistency(ctx, old.Size, c.Size)
	if err != nil {
		return err
	}
	out.Encode(p)
	if err := audit.CheckConsistency(p, old, c); err != nil {
		fmt.Fprintf(e.stderr, "PROOF FAILS: %v\n", err)
		return exitError{1}
	}
	fmt.Fprintf(e.stderr, "ok: the tree of %d entries is a prefix of the tree of %d entries, both signed by %s\n", old.Size, c.Size, v.Name())
	return nil
}

// openCheckpoint verifies msg with v and reads its checkpoint, which must
// name v's log.
func openCheckpoint(msg []byte, v note.Verifier) (audit.Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return audit.Checkpoint{}, err
	}
	c, err := audit.ParseCheckpoint(n.Text)
	if err == nil && c.Origin != v.Name() {
		err = fmt.Errorf("it is of the log %q, the key of %q", c.Origin, v.Name())
	}
	return c, err
}

// storeProofs reads them from the store.
type storeProofs struct{ r skyfence.Reader }

func (p storeProofs) checkpoint(ctx context.Context) ([]byte, error) {
	c, err := p.r.FindAuditCheckpoint(ctx, 0)
	if err != nil {
		return nil, err
	}
	return c.Note, nil
}

func (p storeProofs) key(ctx context.Context) (string, error) { return audit.LogKey(ctx, p.r) }

func (p storeProofs) inclusion(ctx context.Context, seq, size int64) (*audit.InclusionProof, error) {
	return audit.ProveInclusion(ctx, p.r, seq, size)
}

func (p storeProofs) consistency(ctx context.Context, old, size int64) (*audit.ConsistencyProof, error) {
	return audit.ProveConsistency(ctx, p.r, old, size)
}

// httpProofs asks a server's public routes.
type httpProofs struct{ base string }

func (p httpProofs) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := p.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func (p httpProofs) checkpoint(ctx context.Context) ([]byte, error) {
	return p.get(ctx, "/v1/audit/checkpoint", nil)
}

func (p httpProofs) key(ctx context.Context) (string, error) {
	b, err := p.get(ctx, "/v1/audit/key", nil)
	return strings.TrimSpace(string(b)), err
}

func (p httpProofs) inclusion(ctx context.Context, seq, size int64) (*audit.InclusionProof, error) {
	var out audit.InclusionProof
	return &out, p.getJSON(ctx, "/v1/audit/proof/inclusion", url.Values{"seq": {fmt.Sprint(seq)}, "size": {fmt.Sprint(size)}}, &out)
}

func (p httpProofs) consistency(ctx context.Context, old, size int64) (*audit.ConsistencyProof, error) {
	var out audit.ConsistencyProof
	return &out, p.getJSON(ctx, "/v1/audit/proof/consistency", url.Values{"old": {fmt.Sprint(old)}, "size": {fmt.Sprint(size)}}, &out)
}

func (p httpProofs) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	b, err := p.get(ctx, path, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.Join(fmt.Errorf("GET %s: not a proof", path), err)
	}
	return nil
}
