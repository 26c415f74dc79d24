package replay

import (
	"strings"
	"testing"
	"time"
)

// TestProgressShowsDrops: each progress line carries detection's drop
// count and how many since the line before.
func TestProgressShowsDrops(t *testing.T) {
	var b strings.Builder
	dropped := uint64(1234)
	begin := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	p := progress{w: &b, last: begin, sum: &Summary{SimSeconds: 10}, dropped: func() uint64 { return dropped }}
	p.line(begin.Add(time.Second), begin, 0)
	dropped = 5000
	p.line(begin.Add(2*time.Second), begin, 0)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "detection dropped 1,234 (+1,234)") || !strings.Contains(lines[1], "detection dropped 5,000 (+3,766)") {
		t.Fatalf("progress lines:\n%s", b.String())
	}
}
