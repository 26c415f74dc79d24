package authorizer

import (
	"fmt"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// A gateway sending ever new serving cells cannot grow the interned
// strings past their bound: past it, a new cell is not kept in the last
// state, and counted; cells already known still are.
func TestCellsAreBounded(t *testing.T) {
	st := newSlotStore()
	sl := st.add("t1")
	d := policy.Decision{Allow: true, Reason: policy.Ok}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	send := func(cell string) skyfence.Fix {
		at = at.Add(time.Second)
		f := skyfence.Fix{TerminalID: "t1", Time: at, Lat: 50, Lon: 30, ServingCell: cell}
		st.setLast(sl, &f, &d, at)
		return st.lastFix(sl)
	}
	if got := send("beam-1").ServingCell; got != "beam-1" {
		t.Fatalf("a first cell: kept %q", got)
	}
	for i := st.strs.n; i < maxInterned; i++ {
		st.strs.id(fmt.Sprintf("filler-%d", i))
	}
	if got := send("beam-new").ServingCell; got != "" {
		t.Errorf("a new cell past the bound: kept %q, want none", got)
	}
	if n := st.cellsNotKept.Load(); n != 1 {
		t.Errorf("cells not kept: %d, want 1", n)
	}
	if got := send("beam-1").ServingCell; got != "beam-1" {
		t.Errorf("a known cell past the bound: kept %q, want beam-1", got)
	}
	if st.strs.n != maxInterned {
		t.Errorf("interned strings: %d, want the bound %d", st.strs.n, maxInterned)
	}
}
