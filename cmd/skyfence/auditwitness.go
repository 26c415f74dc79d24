package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/skyfence/skyfence/audit"
)

const witnessUsage = `usage: skyfence audit witness --url URL --state FILE [flags]

witness polls the log's latest checkpoint at --url, checks that it is
signed by the log's key (--log-key, else the key held in the state, else
the key served, trusted on first use) and consistent with the checkpoint
held in the state (a consistency proof from the server), cosigns it
(C2SP tlog-cosignature/v1, with the witness key in --witness-key, created
if missing), posts the cosignature back (with the auditor API key --api-key)
and keeps it in the state. A log that shows fewer entries than held, another
root at the same size, or no proof of consistency is a fork or a cut: the
witness says so, keeps the two checkpoints as evidence beside the state
file, does not move its state, and exits 1.

flags:
`

func runAuditWitness(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("audit witness", flag.ContinueOnError)
	server := fs.String("url", "", "the log's server `URL`")
	state := fs.String("state", "", "the witness's state `FILE`")
	keyFile := fs.String("witness-key", "", "the witness's signing key `FILE` (default: STATE.key), created if missing")
	name := fs.String("name", "", "the witness's `name` in its cosignatures (a schema-less URL; default: skyfence-witness/KEYID)")
	logKey := fs.String("log-key", "", "pin the log's note verifier `KEY` (name+hash+keydata, or a file of it)")
	apiKey := fs.String("api-key", os.Getenv("SKYFENCE_KEY"), "an auditor's API `key` to post cosignatures [SKYFENCE_KEY]")
	interval := fs.Duration("interval", time.Minute, "how often to poll")
	once := fs.Bool("once", false, "poll once and exit")
	fs.Usage = func() { fmt.Fprint(e.stderr, witnessUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	if *server == "" || *state == "" {
		fmt.Fprintln(e.stderr, "skyfence audit witness: --url and --state are needed")
		return errUsage
	}
	s, err := audit.LoadOrCreateSigner(cmp.Or(*keyFile, *state+".key"))
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(*logKey); err == nil {
		*logKey = strings.TrimSpace(string(b))
	}
	src := httpProofs{base: strings.TrimSuffix(*server, "/")}
	w := &audit.Witness{
		Log:       witnessClient{src, *apiKey},
		Cosigner:  audit.NewCosigner(cmp.Or(*name, "skyfence-witness/"+s.KeyID()), s, nil),
		StateFile: *state,
		LogKey:    *logKey,
	}
	fmt.Fprintf(e.stderr, "witness %s\n", w.Cosigner.VerifierKey())
	t := time.NewTicker(*interval)
	defer t.Stop()
	for {
		c, err := w.Poll(ctx, src.key)
		switch {
		case errors.Is(err, audit.ErrConflict):
			fmt.Fprintf(e.stderr, "CONFLICT: %v\n", err)
			return exitError{1}
		case err != nil && *once:
			return err
		case err != nil:
			fmt.Fprintf(e.stderr, "poll failed, will retry: %v\n", err)
		default:
			fmt.Fprintf(e.stdout, "cosigned %s at %d entries, root %s\n", c.Origin, c.Size, c.Root)
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// witnessClient is the log as a witness sees it over HTTP.
type witnessClient struct {
	httpProofs
	apiKey string
}

func (c witnessClient) Checkpoint(ctx context.Context) ([]byte, error) { return c.checkpoint(ctx) }

func (c witnessClient) Consistency(ctx context.Context, old, size int64) (*audit.ConsistencyProof, error) {
	return c.consistency(ctx, old, size)
}

func (c witnessClient) AddCosignature(ctx context.Context, cosigned []byte, vkey string) error {
	body, _ := json.Marshal(map[string]string{"note": string(cosigned), "key": vkey})
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/v1/audit/cosignatures", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("POST /v1/audit/cosignatures: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}
