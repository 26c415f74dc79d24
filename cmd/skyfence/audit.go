package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/skyfence/skyfence/audit"
)

const auditUsage = `usage: skyfence audit verify [flags]
       skyfence audit export [flags] > audit.jsonl

verify walks the whole audit log in order and prints what it holds (entries,
checkpoints, signing keys, the last signed entry, the head) and its first
problem: the entry changed, deleted, inserted or reordered, a checkpoint or
key entry whose signature does not verify, a checkpoint the chain no longer
matches. The exit status is 1 if there is a problem.

The log's first key is trusted on first use unless --public-key pins it.
The chain alone cannot show a tail cut off, or rewritten after the last
checkpoint: --expect-head SEQ:HASH, a head printed by an earlier verify or
export, can. --from-export FILE (- for standard input) verifies an export
instead of a store.

export writes the whole log to standard output as JSON lines, verifiable
without skyfence (docs/AUDIT.md), and prints its head on standard error.

The store flags are those of skyfence serve, with the same environment
variables (in brackets).

flags:
`

func runAudit(ctx context.Context, e env) error {
	if len(e.args) == 0 {
		fmt.Fprint(e.stderr, auditUsage)
		return errUsage
	}
	sub := env{e.args[1:], e.stdin, e.stdout, e.stderr}
	switch e.args[0] {
	case "verify":
		return runAuditVerify(ctx, sub)
	case "export":
		return runAuditExport(ctx, sub)
	case "-h", "--help", "help":
		fmt.Fprint(e.stderr, auditUsage)
		return flag.ErrHelp
	}
	fmt.Fprintf(e.stderr, "skyfence audit: unknown subcommand %q\n\n%s", e.args[0], auditUsage)
	return errUsage
}

func runAuditVerify(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	var st StoreConfig
	st.flags(fs)
	var opts audit.VerifyOptions
	fs.Func("public-key", "pin the log's first key to the one in `FILE` (PEM or base64; may repeat)", func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		k, err := audit.ParsePublicKey(b)
		if err != nil {
			return err
		}
		opts.PublicKeys = append(opts.PublicKeys, k)
		return nil
	})
	fs.Func("expect-head", "fail unless the log still holds the entry `SEQ:HASH`", func(s string) error {
		h, err := audit.ParseHead(s)
		if err != nil {
			return err
		}
		opts.ExpectHead = &h
		return nil
	})
	export := fs.String("from-export", "", "verify the export in `FILE` (- for standard input) instead of a store")
	fs.Usage = func() { fmt.Fprint(e.stderr, auditUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	rep, err := verifyAudit(ctx, e, &st, *export, opts)
	if err != nil {
		return err
	}
	printReport(e.stdout, rep)
	if rep.Problem != nil {
		return exitError{1}
	}
	return nil
}

// verifyAudit verifies the export at path if there is one, else the store.
func verifyAudit(ctx context.Context, e env, st *StoreConfig, path string, opts audit.VerifyOptions) (*audit.Report, error) {
	switch path {
	case "":
		s, err := st.open(ctx, slog.New(slog.DiscardHandler), true)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		return audit.Verify(ctx, s, opts)
	case "-":
		return audit.VerifyExport(ctx, e.stdin, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.VerifyExport(ctx, f, opts)
}

func printReport(w io.Writer, rep *audit.Report) {
	if rep.Problem != nil {
		fmt.Fprintf(w, "entries:     %d verified before the problem\n", rep.Entries)
	} else {
		fmt.Fprintf(w, "entries:     %d\n", rep.Entries)
	}
	fmt.Fprintf(w, "checkpoints: %d\n", rep.Checkpoints)
	for _, k := range rep.Keys {
		fmt.Fprintf(w, "key:         %s from entry %d, %s (public key %s)\n", k.ID, k.Seq, k.Trust, base64.StdEncoding.EncodeToString(k.PublicKey))
	}
	if rep.Signed.Seq == 0 {
		fmt.Fprintln(w, "signed:      no entry (no checkpoint)")
	} else {
		fmt.Fprintf(w, "signed:      up to entry %d\n", rep.Signed.Seq)
	}
	switch {
	case rep.Problem != nil:
		fmt.Fprintf(w, "PROBLEM:     %s\n", rep.Problem)
	case rep.Head.Seq == 0:
		fmt.Fprintln(w, "result:      ok (the log is empty)")
	default:
		fmt.Fprintf(w, "head:        %s\n", rep.Head)
		fmt.Fprintln(w, "result:      ok")
	}
}

func runAuditExport(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	var st StoreConfig
	st.flags(fs)
	fs.Usage = func() { fmt.Fprint(e.stderr, auditUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	s, err := st.open(ctx, slog.New(slog.DiscardHandler), true)
	if err != nil {
		return err
	}
	defer s.Close()
	head, err := audit.Export(ctx, e.stdout, s)
	if err != nil {
		return err
	}
	if head.Seq == 0 {
		fmt.Fprintln(e.stderr, "the audit log is empty")
		return nil
	}
	fmt.Fprintf(e.stderr, "exported entries 1 to %d; head %s\n", head.Seq, head)
	return nil
}
