package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourceRoot(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if got := sourceRoot(filepath.Join(root, "cmd", "skyfence")); got != root {
		t.Errorf("in the clone's cmd/skyfence: %q, want %q", got, root)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(other, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := sourceRoot(filepath.Join(other, "sub")); got != "" {
		t.Errorf("in another module: %q, want none", got)
	}
}

// TestBenchRunsTheBenchCommand: from a clone, skyfence bench runs
// cmd/skyfence-bench with its arguments and its exit status.
func TestBenchRunsTheBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/skyfence-bench")
	}
	t.Parallel()
	_, errs, code := runCLI(t, "", "bench", "nosuch")
	if code != 2 || !strings.Contains(errs, `skyfence-bench: unknown suite "nosuch"`) {
		t.Errorf("bench nosuch: exit %d (want 2), %s", code, errs)
	}
}

// TestBenchOutsideAClone: elsewhere, skyfence bench says where the
// benchmarks are and how to run them.
func TestBenchOutsideAClone(t *testing.T) {
	t.Chdir(t.TempDir())
	_, errs, code := runCLI(t, "", "bench", "locate")
	if code != 1 || !strings.Contains(errs, "cmd/skyfence-bench") || !strings.Contains(errs, "go run ./cmd/skyfence-bench") {
		t.Errorf("exit %d, %s", code, errs)
	}
}
