package sim

import (
	"sync"
	"testing"

	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/examples"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/world"
)

// scenario compiles the embedded scenario policy once for every test.
var scenario = sync.OnceValues(func() (*policy.Snapshot, error) {
	d, err := world.Load(world.Res10m)
	if err != nil {
		return nil, err
	}
	a, err := atlas.New(d, geoindex.Options{})
	if err != nil {
		return nil, err
	}
	src, err := policy.LoadWith(examples.PolicyFile, examples.ReadPolicyFile)
	if err != nil {
		return nil, err
	}
	return policy.Compile(src, a)
})

func scenarioPolicy(t testing.TB) *policy.Snapshot {
	t.Helper()
	s, err := scenario()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
