package skyfence_test

import (
	"os/exec"
	"strings"
	"testing"
)

// engines are the packages that decide and detect: pure code over the
// domain, with no storage, network or bus of their own, so that they can be
// tested, benchmarked and embedded alone.
var engines = []string{"geoindex", "world", "atlas", "zone", "policy", "detect", "fixwire", "sim", "authorizer"}

// drivers are what an engine must never reach, directly or through another
// package: the network's and the databases' libraries, and skyfence's own
// adapters to them.
var drivers = []string{
	"net/http",
	"database/sql",
	"github.com/jackc/pgx/v5",
	"modernc.org/sqlite",
	"github.com/nats-io/nats.go",
	"github.com/skyfence/skyfence/httpapi",
	"github.com/skyfence/skyfence/sqlite",
	"github.com/skyfence/skyfence/postgres",
	"github.com/skyfence/skyfence/natsbus",
	"github.com/skyfence/skyfence/control",
	"github.com/skyfence/skyfence/webhook",
	"github.com/skyfence/skyfence/sim/replay",
}

// TestEnginesImportNoDriver fails when an engine depends, directly or
// through any chain of imports, on a driver.
func TestEnginesImportNoDriver(t *testing.T) {
	for _, e := range engines {
		pkg := "github.com/skyfence/skyfence/" + e
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, d := range drivers {
			for _, dep := range deps {
				if dep == d || strings.HasPrefix(dep, d+"/") {
					t.Errorf("engine %s depends on driver %s", e, dep)
				}
			}
		}
	}
}

// servingBinary is the command that serves; benchOnly is what only the
// benchmarks (cmd/skyfence-bench) and the tests may link: the benchmark
// drivers and peers, the peers' engines, and the test harnesses.
const servingBinary = "github.com/skyfence/skyfence/cmd/skyfence"

var benchOnly = []string{
	"github.com/skyfence/skyfence/bench",
	"github.com/tidwall",
	"github.com/golang/geo",
	"github.com/skyfence/skyfence/internal/testkit",
	"github.com/skyfence/skyfence/storetest",
	"github.com/skyfence/skyfence/world/worldtest",
}

// TestServingBinaryLinksNoBenchmark fails when the serving binary depends,
// directly or through any chain of imports, on a benchmark driver or peer,
// or on a test harness.
func TestServingBinaryLinksNoBenchmark(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", servingBinary).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", servingBinary, err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range benchOnly {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("%s depends on %s", servingBinary, dep)
			}
		}
	}
}
