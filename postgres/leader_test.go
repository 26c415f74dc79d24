package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence/postgres"
)

// eventually polls cond until it holds, failing the test after a generous
// deadline (a bound on a hang, not a measure).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%s: not after %v", what, time.Since(start))
		}
	}
}

// terminate ends the server sessions of application name, as an operator
// would with pg_terminate_backend, and returns how many it ended.
func terminate(t *testing.T, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Two candidates on one store: exactly one leads. When the leader's
// connection is terminated, the other takes over; when that one closes,
// the first leads again. A store in another schema elects its own leader.
func TestLeaderElection(t *testing.T) {
	schema := freshSchema(t)
	names := [2]string{schema + "-a", schema + "-b"}
	var cands [2]*postgres.Leader
	for i, name := range names {
		cands[i] = open(t, schema).Campaign(name)
		t.Cleanup(func() { cands[i].Close() })
	}
	other := open(t, freshSchema(t)).Campaign(schema + "-other")
	defer other.Close()

	leader := -1
	eventually(t, "a leader", func() bool {
		for i, c := range cands {
			if c.Leading() {
				leader = i
			}
		}
		return leader >= 0
	})
	if cands[1-leader].Leading() {
		t.Fatal("both candidates lead")
	}
	eventually(t, "the other schema's leader", other.Leading)

	if n := terminate(t, "skyfence leader "+names[leader]); n != 1 {
		t.Fatalf("terminated %d sessions of the leader, want 1", n)
	}
	follower := 1 - leader
	eventually(t, "the follower taking over", func() bool { return cands[follower].Leading() && !cands[leader].Leading() })
	if !other.Leading() {
		t.Error("the other schema's leader lost the leadership too")
	}

	cands[follower].Close()
	eventually(t, "the first leader back after the second closed", cands[leader].Leading)
}
