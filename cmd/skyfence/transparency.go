package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/policy"
)

const transparencyUsage = `usage: skyfence transparency [--out DIR] [store flags]

Writes the public transparency report from a server's store: where service
is restricted, since when, by which change, at whose request, how many
terminals lost service; and every request to change where service works,
granted or not. No personal data. It writes DIR/transparency.html, for
people, and DIR/transparency.json, which carries the audit log's signed
checkpoint it was made at (audit_checkpoint). A running server serves the same at
/transparency and /v1/transparency.

flags:
`

func runTransparency(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("transparency", flag.ContinueOnError)
	var st StoreConfig
	st.flags(fs)
	out := fs.String("out", ".", "`directory` to write transparency.html and transparency.json to")
	fs.Usage = func() { fmt.Fprint(e.stderr, transparencyUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	store, err := st.open(ctx, quiet, true)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := newAtlas()
	if err != nil {
		return err
	}
	// The policy in force is the store's; the built-in one is only what a
	// service needs to start from.
	src, err := loadPolicy("")
	if err != nil {
		return err
	}
	initial, err := policy.Compile(src, a)
	if err != nil {
		return err
	}
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: a, Policy: initial, Logger: quiet})
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	rep, err := svc.Transparency(ctx)
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := httpapi.RenderTransparency(&page, rep); err != nil {
		return err
	}
	j, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	for name, b := range map[string][]byte{"transparency.html": page.Bytes(), "transparency.json": append(j, '\n')} {
		path := filepath.Join(*out, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", path)
	}
	fmt.Fprintf(e.stdout, "%d restrictions in force, %d requests recorded (policy %s)\n", len(rep.Restrictions), len(rep.Requests), rep.Policy)
	if rep.OverdueReviews > 0 {
		fmt.Fprintf(e.stdout, "%d emergency changes past their review deadline, not yet reviewed by two people\n", rep.OverdueReviews)
	}
	return nil
}
