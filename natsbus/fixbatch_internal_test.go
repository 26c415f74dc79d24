package natsbus

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
)

// TestFixBatchJSONEscapes: the JSON batch published for the authorizers
// is valid JSON whatever the ids hold (strconv.AppendQuote wrote Go's \a
// and \x07, which no JSON parser reads), and says the same strings.
func TestFixBatchJSONEscapes(t *testing.T) {
	at := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	fixes := []skyfence.Fix{
		{TerminalID: "ut\a1", Time: at, Lat: 1, Lon: 2, SpeedKmh: skyfence.NoSpeed, ServingCell: "c\x00\u2028"},
		{TerminalID: "ut\xff2", Time: at, Lat: 1, Lon: 2, SpeedKmh: 3},
		{TerminalID: `"}],"x":"`, Time: at, Lat: 1, Lon: 2, SpeedKmh: 3},
	}
	var enc fixwire.Encoder
	var wire []fixwire.Fix
	b := appendFixBatch(&enc, &wire, false, "b\x7f\x01", fixes, []int{0, 1, 2})
	if !utf8.Valid(b) || !json.Valid(b) {
		t.Fatalf("not UTF-8 JSON: %q", b)
	}
	var got struct {
		BatchID string `json:"batch_id"`
		Fixes   []struct {
			TerminalID string `json:"terminal_id"`
			Cell       string
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"ut\a1", "ut\ufffd2", `"}],"x":"`}
	if got.BatchID != "b\x7f\x01" || len(got.Fixes) != 3 || got.Fixes[0].Cell != "c\x00\u2028" {
		t.Fatalf("read back %+v", got)
	}
	for i, w := range want {
		if got.Fixes[i].TerminalID != w {
			t.Errorf("fix %d: terminal_id %q, want %q", i, got.Fixes[i].TerminalID, w)
		}
	}
}
