package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/natsbus"
)

// Two authorizers split the four partitions of the stream of fixes
// (--fix-partitions): a gateway's batches published on NATS are decided,
// each part by the authorizer that owns its partition, and answered on
// the decision subjects.
func TestClusterFixStream(t *testing.T) {
	c := newCluster(t, natsURL(t))
	c.extra = []string{"--fix-partition-count", "4", "--fix-partitions", "0-1"}
	a1 := c.start(t, "a1", "")
	c.extra = []string{"--fix-partition-count", "4", "--fix-partitions", "2,3"}
	a2 := c.start(t, "a2", "")
	ids := []string{"t1", "t2", "t3", "t4", "t5", "t6"}
	setUp(t, a1, ids...)
	until(t, "a2 knows the terminals", func() bool {
		n, _ := strconv.Atoi(a2.metric(`skyfence_cluster_events_total{what="applied"}`))
		return n >= 2*len(ids) // terminal.changed for each creation and activation
	})

	pub, err := natsbus.OpenFixPublisher(natsbus.FixConfig{URL: c.nats, Namespace: c.namespace, Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var mu sync.Mutex
	var answers []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- pub.Decisions(ctx, []int{0, 1, 2, 3}, func(_ int, b []byte) { mu.Lock(); answers = append(answers, string(b)); mu.Unlock() })
	}()
	defer func() { cancel(); <-done }()
	t0 := time.Now().UTC().Add(-time.Minute)
	parts := 0
	for b := range 3 {
		var fixes []skyfence.Fix
		for _, id := range ids {
			fixes = append(fixes, skyfence.Fix{TerminalID: id, Time: t0.Add(time.Duration(b) * time.Second), Lat: berlinLat, Lon: berlinLon, SpeedKmh: 0})
		}
		to, err := pub.Publish(context.Background(), fmt.Sprintf("gw-%d", b), fixes)
		if err != nil {
			t.Fatal(err)
		}
		parts += len(to)
	}
	until(t, "every answer", func() bool { mu.Lock(); defer mu.Unlock(); return len(answers) == parts })
	mu.Lock()
	defer mu.Unlock()
	allows := 0
	for _, a := range answers {
		allows += strings.Count(a, `"allow":true`)
	}
	if allows != 3*len(ids) {
		t.Errorf("%d fixes allowed, want %d: %s", allows, 3*len(ids), answers)
	}
	n1, n2 := a1.metric("skyfence_cluster_fix_batches_total"), a2.metric("skyfence_cluster_fix_batches_total")
	if n1 == "0" || n2 == "0" {
		t.Errorf("batches decided by a1: %s, by a2: %s; want both to have decided some", n1, n2)
	}
}
