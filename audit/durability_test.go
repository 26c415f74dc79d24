package audit_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/postgres"
	"github.com/skyfence/skyfence/sqlite"
)

// The child of TestKillDurability: it appends to the sealed log named by
// the environment, one to three entries a transaction, and prints "ack
// SEQ" for the last entry of each transaction once it committed, until it
// is killed.
func TestKillDurabilityChild(t *testing.T) {
	kind, where := os.Getenv("SKYFENCE_KILL_CHILD"), os.Getenv("SKYFENCE_KILL_WHERE")
	if kind == "" {
		t.Skip("run by TestKillDurability")
	}
	ctx := context.Background()
	var s skyfence.Store
	var err error
	if kind == "sqlite" {
		s, err = sqlite.Open(ctx, where, nil)
	} else {
		url, schema, _ := strings.Cut(where, " ")
		s, err = postgres.Open(ctx, url, nil, postgres.WithSchema(schema))
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	k := signer(1)
	s.SetAuditSealer(&audit.Sealer{Signer: k, Origin: origin})
	if err := audit.Register(ctx, s, k); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		var last int64
		err := s.Tx(ctx, func(tx skyfence.Tx) error {
			for j := range 1 + i%3 {
				e := &skyfence.AuditEntry{Actor: "key-1", Action: "terminal.status", Subject: fmt.Sprintf("UT-%d-%d", i, j)}
				if err := tx.AppendAudit(ctx, e); err != nil {
					return err
				}
				last = e.Seq
			}
			return nil
		})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", last) // os.Stdout is unbuffered: written once committed
	}
}

// TestKillDurability kills a process appending to a sealed log with
// SIGKILL at random moments, SKYFENCE_KILL_TRIALS times (10 by default;
// docs/BENCHMARKS.md has 100), and checks after each that no acknowledged
// entry is missing, that the latest checkpoint covers exactly the
// committed entries, and that the log verifies against every checkpoint
// kept from the trials before.
func TestKillDurability(t *testing.T) {
	trials := 10
	if v := os.Getenv("SKYFENCE_KILL_TRIALS"); v != "" {
		trials, _ = strconv.Atoi(v)
	}
	for _, st := range []struct {
		name  string
		where func(t *testing.T) string
		open  func(t *testing.T, where string) (skyfence.Store, func())
	}{
		{"sqlite", func(t *testing.T) string { return sqliteFile(t) }, func(t *testing.T, where string) (skyfence.Store, func()) {
			s, err := sqlite.Open(t.Context(), where, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s, func() { s.Close() }
		}},
		{"postgres", func(t *testing.T) string {
			url := postgresURL(t)
			_, schema := openPostgres(t)
			return url + " " + schema
		},
			func(t *testing.T, where string) (skyfence.Store, func()) {
				url, schema, _ := strings.Cut(where, " ")
				s, err := postgres.Open(t.Context(), url, nil, postgres.WithSchema(schema))
				if err != nil {
					t.Fatal(err)
				}
				return s, func() { s.Close() }
			}},
	} {
		t.Run(st.name, func(t *testing.T) {
			where := st.where(t)
			var kept []audit.SeenCheckpoint
			var acked, lost, aheadBy int64
			for trial := range trials {
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillDurabilityChild$")
				cmd.Env = append(os.Environ(), "SKYFENCE_KILL_CHILD="+st.name, "SKYFENCE_KILL_WHERE="+where)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				lines := make(chan string)
				go func() {
					sc := bufio.NewScanner(out)
					for sc.Scan() {
						lines <- sc.Text()
					}
					close(lines)
				}()
				var last int64
				kill := time.After(time.Duration(rand.IntN(200)) * time.Millisecond)
			read:
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							break read
						}
						if n, err := strconv.ParseInt(strings.TrimPrefix(l, "ack "), 10, 64); err == nil {
							last = n
						} else {
							t.Fatalf("child: %s", l)
						}
					case <-kill:
						cmd.Process.Signal(syscall.SIGKILL)
						kill = nil
					}
				}
				cmd.Wait()
				s, closeStore := st.open(t, where)
				// PostgreSQL may still commit the transaction whose COMMIT
				// the child sent before it died: read the head before and
				// after the checkpoint until nothing moved in between.
				var head int64
				var c *skyfence.AuditCheckpoint
				for moved := true; moved; {
					before, _, err := s.AuditHead(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					if c, err = s.FindAuditCheckpoint(t.Context(), 0); err != nil && skyfence.ErrorCode(err) != skyfence.ENOTFOUND {
						t.Fatal(err)
					}
					if head, _, err = s.AuditHead(t.Context()); err != nil {
						t.Fatal(err)
					}
					moved = head != before
				}
				if head < last {
					lost += last - head
					t.Errorf("trial %d: entry %d was acknowledged, the log ends at %d", trial, last, head)
				}
				if head > 0 {
					if c == nil || c.Size != head {
						size := int64(0)
						if c != nil {
							size = c.Size
						}
						aheadBy = max(aheadBy, head-size)
						t.Errorf("trial %d: latest checkpoint of size %d, the log has %d entries", trial, size, head)
					} else {
						kept = append(kept, audit.SeenCheckpoint{Name: fmt.Sprintf("trial %d", trial), Note: c.Note})
					}
				}
				rep := verify(t, s, audit.VerifyOptions{Checkpoints: kept})
				if rep.Problem != nil {
					t.Errorf("trial %d: %s", trial, rep.Problem)
				}
				acked = max(acked, last)
				closeStore()
			}
			t.Logf("%s: %d trials, last acknowledged entry %d, %d acknowledged entries missing, checkpoint behind the log by at most %d entries",
				st.name, trials, acked, lost, aheadBy)
		})
	}
}
