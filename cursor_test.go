package skyfence

import (
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{
		{},
		{At: time.Date(2026, 11, 29, 8, 0, 0, 123456789, time.UTC), ID: "case-1"},
		{At: time.Unix(0, 0).UTC(), ID: "a/b c"},
	} {
		got, err := ParseCursor(c.String())
		if err != nil || got.ID != c.ID || !got.At.Equal(c.At) {
			t.Errorf("ParseCursor(%q) = %v, %v; want %v", c.String(), got, err, c)
		}
	}
	for _, s := range []string{"case-1", "!!", "MTIz", "eC9h", "MTIzLw"} {
		if _, err := ParseCursor(s); ErrorCode(err) != EINVALID {
			t.Errorf("ParseCursor(%q): %v, want %s", s, err, EINVALID)
		}
	}
}

// FuzzParseCursor: no input panics, and what parses prints back to
// the same cursor.
func FuzzParseCursor(f *testing.F) {
	f.Add("")
	f.Add(Cursor{At: time.Unix(1, 2), ID: "case-1"}.String())
	f.Add("MTIzLw")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		again, err := ParseCursor(c.String())
		if err != nil || again.ID != c.ID || !again.At.Equal(c.At) {
			t.Fatalf("%q parsed to %v, which reads back as %v, %v", s, c, again, err)
		}
	})
}
