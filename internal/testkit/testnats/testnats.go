// Package testnats runs NATS servers for tests: an embedded nats-server
// with JetStream that a test can stop and start again (for outages), and
// the machine's server named by SKYFENCE_TEST_NATS_URL (CI sets it).
// Only tests import it (package testkit).
package testnats

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/skyfence/skyfence/natsbus"
)

// EnvURL names the machine's NATS server for tests.
const EnvURL = "SKYFENCE_TEST_NATS_URL"

// URL returns the machine's NATS server, skipping the test if EnvURL is
// not set.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Skipf("%s is not set (CI sets it to nats://127.0.0.1:4222)", EnvURL)
	}
	return url
}

var namespaces atomic.Int64

// Namespace returns a namespace of the test's own on the server at url,
// so that tests sharing a server do not see each other's streams; its
// streams (events, observations, fixes, decisions) are deleted at the
// test's cleanup.
func Namespace(t testing.TB, url string) string {
	ns := fmt.Sprintf("t%d_%d_%d", os.Getpid(), time.Now().UnixNano(), namespaces.Add(1))
	t.Cleanup(func() {
		nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
		if err != nil {
			return // an embedded server already stopped
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, natsbus.Stream(ns)) // absent if nothing was published
		_ = js.DeleteStream(ctx, natsbus.ObsStream(ns))
		_ = js.DeleteKeyValue(ctx, natsbus.PolicyBucket(ns))
		_ = js.DeleteStream(ctx, natsbus.FixStream(ns))
		_ = js.DeleteStream(ctx, natsbus.DecisionStream(ns))
	})
	return ns
}

// Server is an embedded nats-server with JetStream, its streams in a
// directory of the test's, on a port that stays the same across Stop and
// Start.
type Server struct {
	t    testing.TB
	opts server.Options
	s    *server.Server
}

// Start starts an embedded server, shut down at the test's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	ns := &Server{t: t, opts: server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true,
	}}
	ns.Start()
	ns.opts.Port = ns.s.Addr().(*net.TCPAddr).Port
	t.Cleanup(ns.Stop)
	return ns
}

// URL returns the server's client URL.
func (ns *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", ns.opts.Port) }

// Start starts the server (again, after Stop: same port, same streams).
func (ns *Server) Start() {
	ns.t.Helper()
	opts := ns.opts
	s, err := server.NewServer(&opts)
	if err != nil {
		ns.t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		ns.t.Fatal("nats-server did not start")
	}
	ns.s = s
}

// Stop shuts the server down, as an outage: clients lose their
// connections.
func (ns *Server) Stop() {
	if ns.s == nil {
		return
	}
	ns.s.Shutdown()
	ns.s.WaitForShutdown()
	ns.s = nil
}
