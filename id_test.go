package skyfence_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/skyfence/skyfence"
)

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		ok       bool
	}{
		{"plain", "ut-1", true},
		{"punctuation and symbols", "gw7/000123:a_b.c~#$€", true},
		{"letters of other scripts", "термінал-1", true},
		{"combining mark", "cafe\u0301", true},
		{"longest", strings.Repeat("a", skyfence.MaxIDLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", skyfence.MaxIDLen+1), false},
		{"multi-byte over the limit", strings.Repeat("é", skyfence.MaxIDLen/2) + "a", false},
		{"bell", "ut\a1", false},
		{"NUL", "ut\x001", false},
		{"newline", "ut-1\n", false},
		{"DEL", "ut\x7f1", false},
		{"C1 control", "ut\u00851", false},
		{"space", "ut 1", false},
		{"trailing space", "ut-1 ", false},
		{"no-break space", "ut\u00a01", false},
		{"ideographic space", "ut\u30001", false},
		{"zero-width space", "ut\u200b1", false},
		{"zero-width joiner", "ut\u200d1", false},
		{"right-to-left override", "ut\u202e1", false},
		{"byte order mark", "\ufeffut-1", false},
		{"hangul filler", "ut\u31641", false},
		{"variation selector", "ut\ufe0f1", false},
		{"private use", "ut\ue0001", false},
		{"noncharacter", "ut\ufdd01", false},
		{"replacement character", "ut\ufffd1", false},
		{"invalid UTF-8", "ut\xff1", false},
		{"truncated UTF-8", "ut\xe2\x82", false},
		{"surrogate half", "ut\xed\xa0\x801", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := skyfence.ValidID("fixes/3/terminal_id", tc.id)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidID(%q) = %v, want ok %v", tc.id, err, tc.ok)
			}
			if err == nil {
				return
			}
			e, _ := err.(*skyfence.Error)
			if e == nil || e.Code != skyfence.EINVALID || e.Field != "fixes/3/terminal_id" || !strings.Contains(e.Message, "terminal_id") {
				t.Errorf("ValidID(%q) = %#v, want an invalid error naming fixes/3/terminal_id", tc.id, err)
			}
			if tc.id != "" && strings.Contains(e.Message, tc.id) {
				t.Errorf("the message repeats the id: %q", e.Message)
			}
		})
	}
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"ut-1", "ut\a1", "ut\xff", "термінал", "a\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if skyfence.ValidID("id", s) != nil {
			return
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || r == ' ' || r == '\ufffd' {
				t.Fatalf("accepted %q with %U", s, r)
			}
		}
		if len(s) > skyfence.MaxIDLen || strings.ToValidUTF8(s, "") != s {
			t.Fatalf("accepted %q", s)
		}
	})
}

func ExampleValidID() {
	fmt.Println(skyfence.ValidID("id", "ut-1"))
	fmt.Println(skyfence.ValidID("fixes/3/terminal_id", "ut\a1"))
	fmt.Println(skyfence.ValidID("batch_id", "gw7 000123"))
	// Output:
	// <nil>
	// invalid: fixes/3/terminal_id: fixes/3/terminal_id has U+0007 at byte 2: an id has only visible characters (letters, digits, punctuation, symbols), no space, control or invisible character
	// invalid: batch_id: batch_id has U+0020 at byte 3: an id has only visible characters (letters, digits, punctuation, symbols), no space, control or invisible character
}
