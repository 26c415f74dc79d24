package skyfence

import (
	"strings"
	"testing"
)

func TestNormalizeHandle(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"as typed", "Eve", "eve"},
		{"trailing space", "eve ", "eve"},
		{"upper case", "EVE", "eve"},
		{"fullwidth", "Ｅｖｅ", "eve"},
		{"no-break and ideographic spaces", "\u00a0Eve\u3000", "eve"},
		{"inner spaces", "Ana   María", "ana maría"},
		{"decomposed accent", "Ana Mari\u0301a", "ana maría"},
		{"sharp s folds", "Straße", "strasse"},
		{"ligature", "ﬁona", "fiona"},
	} {
		got, err := NormalizeHandle(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s: NormalizeHandle(%q) = %q, %v; want %q", tc.name, tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"spaces only", "  \u3000"},
		{"zero-width space", "E\u200bve"},
		{"zero-width joiner", "Ev\u200de"},
		{"zero-width non-joiner", "Ev\u200ce"},
		{"word joiner", "Eve\u2060"},
		{"right-to-left mark", "\u200fEve"},
		{"right-to-left override", "Eve\u202e"},
		{"bidi isolate", "\u2066Eve\u2069"},
		{"byte order mark", "\ufeffEve"},
		{"soft hyphen", "E\u00adve"},
		{"variation selector", "Eve\ufe0f"},
		{"hangul filler", "Eve\u3164"},
		{"tab", "Eve\t"},
		{"newline", "Eve\nAdmin"},
		{"NUL", "Eve\x00"},
		{"line separator", "Eve\u2028"},
		{"private use", "Eve\ue000"},
		{"invalid UTF-8", "Eve\xff"},
		{"too long", strings.Repeat("e", MaxHandleLen+1)},
	} {
		got, err := NormalizeHandle(tc.in)
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s: NormalizeHandle(%q) = %q, %v; want EINVALID", tc.name, tc.in, got, err)
		} else if e, _ := err.(*Error); e.Field != "person" {
			t.Errorf("%s: error names field %q, want person", tc.name, e.Field)
		}
	}
}

func TestLegacyHandle(t *testing.T) {
	for _, in := range []string{"Eve", "eve ", "EVE", "Ｅｖｅ", "E\u200bve", "\u202eEve\xff"} {
		if got := LegacyHandle(in); got != "eve" {
			t.Errorf("LegacyHandle(%q) = %q, want eve", in, got)
		}
	}
	if got := LegacyHandle("\u200b"); got != "" {
		t.Errorf("LegacyHandle of an invisible name = %q, want empty", got)
	}
}

func TestSamePerson(t *testing.T) {
	eve := Actor{KeyID: "k1", PersonID: "per-eve", Person: "eve"}
	for _, tc := range []struct {
		name string
		a, b Actor
		want bool
	}{
		{"one person, two keys", eve, Actor{KeyID: "k2", PersonID: "per-eve", Person: "eve"}, true},
		{"persons differ by id, whatever their handles", eve, Actor{KeyID: "k3", PersonID: "per-other", Person: "eve"}, false},
		{"a record older than persons, another spelling", eve, Actor{KeyID: "k4", Person: "EVE "}, true},
		{"an old record with an invisible character", Actor{KeyID: "k5", Person: "E\u200bve"}, eve, true},
		{"two old records", Actor{Person: "Ｅｖｅ"}, Actor{Person: "eve"}, true},
		{"another person's old record", eve, Actor{Person: "bob"}, false},
	} {
		if got := tc.a.SamePerson(tc.b); got != tc.want {
			t.Errorf("%s: %+v.SamePerson(%+v) = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.SamePerson(tc.a); got != tc.want {
			t.Errorf("%s (reversed): %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzNormalizeHandle: no input panics; a handle is in normal form (its
// own handle, accepted by CheckHandle) and has nothing invisible in it;
// the legacy handle of a name with a handle is that handle.
func FuzzNormalizeHandle(f *testing.F) {
	for _, s := range []string{"Eve", "eve ", "ＥＶＥ", "E\u200bve", "Straße", "ﬁ", "\u0130stanbul", "ǅ", "\u1e9e", "Ꭰ", "a\u0301\u0301", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := NormalizeHandle(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("NormalizeHandle(%q): %v, want EINVALID or a handle", s, err)
			}
			return
		}
		if again, err := NormalizeHandle(h); err != nil || again != h {
			t.Fatalf("NormalizeHandle(%q) = %q, whose handle is %q, %v", s, h, again, err)
		}
		if err := CheckHandle(h); err != nil {
			t.Fatalf("CheckHandle(%q): %v", h, err)
		}
		if l := LegacyHandle(s); l != h {
			t.Fatalf("LegacyHandle(%q) = %q, NormalizeHandle %q", s, l, h)
		}
	})
}
