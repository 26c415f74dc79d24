package policy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestZeroDecisionDenies(t *testing.T) {
	var d Decision
	if d.Allow {
		t.Error("the zero Decision allows")
	}
	if d.Reason != Undecided || d.Reason == Ok {
		t.Errorf("the zero Decision's reason is %v, want undecided", d.Reason)
	}
	if m := d.Message(); m == "" || m == Ok.Message() {
		t.Errorf("the zero Decision's message is %q, want one that says there is no service", m)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"allow":false,"reason":"undecided"`) {
		t.Errorf("the zero Decision as JSON is %s, want allow false and reason undecided", b)
	}
	var back Decision
	if err := json.Unmarshal(b, &back); err != nil || back.Reason != Undecided {
		t.Errorf("the zero Decision's JSON read back: reason %v, %v; want undecided", back.Reason, err)
	}
}

func TestParseReasonFailsUndecided(t *testing.T) {
	r, err := ParseReason("maybe")
	if err == nil || r != Undecided {
		t.Errorf(`ParseReason("maybe") = %v, %v; want undecided and an error`, r, err)
	}
}

// TestReasonNames pins the codes clients switch on: adding Undecided as
// the zero value renamed none of them.
func TestReasonNames(t *testing.T) {
	want := []string{"ok", "unknown_terminal", "terminal_inactive", "terminal_suspended", "terminal_deactivated",
		"position_invalid", "region_not_available", "region_not_licensed", "region_embargoed",
		"no_service_zone", "verification_required", "plan_not_allowed", "speed_limit", "roaming_limit",
		"network_position", "cell_unknown"}
	var got []string
	for _, r := range Reasons() {
		got = append(got, r.String())
		if r.Message() == "" {
			t.Errorf("%v has no message", r)
		}
		if p, err := ParseReason(r.String()); p != r || err != nil {
			t.Errorf("ParseReason(%q) = %v, %v; want %v", r.String(), p, err, r)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Reasons() are %q, want %q", got, want)
	}
	if len(Reasons())+1 != NumReasons {
		t.Errorf("%d reasons and NumReasons %d, want NumReasons to count Undecided too", len(Reasons()), NumReasons)
	}
}

// TestReasonWireCodes pins the numbers of the binary wires: Ok and the
// denials keep the numbers they had when Ok was the zero value.
func TestReasonWireCodes(t *testing.T) {
	for _, tc := range []struct {
		r    Reason
		code byte
	}{
		{Ok, 0}, {UnknownTerminal, 1}, {PositionInvalid, 5}, {RegionEmbargoed, 8},
		{SpeedLimit, 12}, {NetworkPosition, 14}, {CellUnknown, 15}, {Undecided, 255},
	} {
		if got := tc.r.WireCode(); got != tc.code {
			t.Errorf("%v.WireCode() = %d, want %d", tc.r, got, tc.code)
		}
	}
	seen := map[byte]Reason{}
	for r := range Reason(NumReasons) {
		c := r.WireCode()
		if o, dup := seen[c]; dup {
			t.Errorf("%v and %v share wire code %d", o, r, c)
		}
		seen[c] = r
		if back := ReasonOfWireCode(c); back != r {
			t.Errorf("ReasonOfWireCode(%d) = %v, want %v", c, back, r)
		}
	}
	if r := ReasonOfWireCode(200); r != Undecided {
		t.Errorf("ReasonOfWireCode(200) = %v, want undecided", r)
	}
}
