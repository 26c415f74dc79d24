package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// modulePath is the module of this source tree: `skyfence bench` runs the
// benchmarks only from a clone of it.
const modulePath = "github.com/skyfence/skyfence"

// benchNotHere says what to do where `skyfence bench` cannot run the
// benchmarks.
const benchNotHere = `the benchmarks are a command of their own, cmd/skyfence-bench, so that
this binary links none of the engines they compare against. Run skyfence
bench from inside a clone of ` + modulePath + ` (it needs
the Go toolchain), or, in the clone's root:
  go run ./cmd/skyfence-bench [suite] [flags]`

// runBench runs the benchmarks, cmd/skyfence-bench, with the same arguments:
// inside a clone of the source it builds the command there (go build, so
// the Go toolchain is needed) into a temporary directory and runs it in
// the current directory, with this command's streams, its exit status and
// an interrupt passed on. Elsewhere it says how to run them.
func runBench(ctx context.Context, e env) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root := sourceRoot(wd)
	if root == "" {
		return errors.New(benchNotHere)
	}
	tmp, err := os.MkdirTemp("", "skyfence-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "skyfence-bench")
	fmt.Fprintf(e.stderr, "skyfence bench: building cmd/skyfence-bench in %s\n", root)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/skyfence-bench")
	build.Dir, build.Stdout, build.Stderr = root, e.stderr, e.stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/skyfence-bench in %s: %w", root, err)
	}
	cmd := exec.CommandContext(ctx, bin, e.args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		// skyfence-bench has said what went wrong.
		return exitError{ee.ExitCode()}
	}
	return err
}

// sourceRoot returns the directory of the go.mod that the Go command would
// take for dir if it is this module's (dir is in a clone of the source),
// else "".
func sourceRoot(dir string) string {
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if modfile.ModulePath(b) == modulePath {
				return dir
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
