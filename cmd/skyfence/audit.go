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
       skyfence audit prove [--url URL | store flags] --seq N [--checkpoint FILE] [--key KEY]
       skyfence audit prove [--url URL | store flags] --old FILE [--checkpoint FILE] [--key KEY]
       skyfence audit witness --url URL --state FILE [flags] (see skyfence audit witness -h)

verify walks the whole audit log in order and prints what it holds (entries,
checkpoints, signing keys, the last signed entry, the head) and its first
problem: the entry changed, deleted, inserted or reordered, a checkpoint or
key entry whose signature does not verify, a checkpoint the log no longer
matches, a store whose Merkle tree is not that of its entries. The exit
status is 1 if there is a problem.

The log's first key is trusted on first use unless --public-key pins it.
--checkpoint FILE (repeatable), a signed checkpoint seen earlier (GET
/v1/audit/checkpoint, a witness's state), makes verify fail if the log no
longer holds that tree: its tail cut (truncated), entries rewritten and
re-hashed (rewritten), two histories signed (forked), its keys swapped
(untrusted key). --expect-head SEQ:HASH does the same for a head printed by
an earlier verify or export. --from-export FILE (- for standard input)
verifies an export instead of a store.

export verifies the log first (against --checkpoint FILE too, if given)
and refuses (exit 1, naming the problem) a log that does not verify; then it writes the whole log to standard output
as JSON lines, verifiable without skyfence (docs/AUDIT.md), and prints its
head on standard error.

prove prints the proof, as JSON, that entry N is in the tree a checkpoint
signs (--seq), or that the tree of an older checkpoint is a prefix of it
(--old), and checks it: exit 1 if it does not hold. The checkpoint is FILE,
or the latest one; its signature is checked with KEY (a note verifier key
name+hash+keydata, or a file holding one), or else with the key the log
serves. --url asks a server's public routes instead of opening the store.

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
	case "prove":
		return runAuditProve(ctx, sub)
	case "witness":
		return runAuditWitness(ctx, sub)
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
	checkpointFlag(fs, &opts)
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
	if rep.TreeCheckpoints > 0 || rep.Seen > 0 {
		fmt.Fprintf(w, "tree:        %d signed tree heads of log %q, %d seen earlier, verified\n", rep.TreeCheckpoints, rep.Origin, rep.Seen)
	}
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
		fmt.Fprintf(w, "root:        %s (the Merkle tree of entries 1 to %d)\n", rep.Root, rep.Head.Seq)
		fmt.Fprintln(w, "result:      ok")
	}
}

func runAuditExport(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	var st StoreConfig
	st.flags(fs)
	var opts audit.VerifyOptions
	checkpointFlag(fs, &opts)
	fs.Usage = func() { fmt.Fprint(e.stderr, auditUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	s, err := st.open(ctx, slog.New(slog.DiscardHandler), true)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := audit.Verify(ctx, s, opts)
	if err != nil {
		return err
	}
	if rep.Problem != nil {
		fmt.Fprintf(e.stderr, "skyfence audit export: the log does not verify, nothing exported: %s\n", rep.Problem)
		return exitError{1}
	}
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

// checkpointFlag adds --checkpoint FILE (repeatable) to opts.Checkpoints.
func checkpointFlag(fs *flag.FlagSet, opts *audit.VerifyOptions) {
	fs.Func("checkpoint", "fail unless the log holds the tree of the signed checkpoint in `FILE` (may repeat)", func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		opts.Checkpoints = append(opts.Checkpoints, audit.SeenCheckpoint{Name: path, Note: b})
		return nil
	})
}
