package jsonstr_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/skyfence/skyfence/internal/jsonstr"
)

// reference is encoding/json's encoding of s, without HTML escaping.
func reference(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppend(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ut-1", `"ut-1"`},
		{"", `""`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"bell\a", `"bell\u0007"`},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"line\nbreak\r\ttab", `"line\nbreak\r\ttab"`},
		{"bad\xff\xfeutf8", `"bad\ufffd\ufffdutf8"`},
		{"термінал €", `"термінал €"`},
		{"js\u2028\u2029", `"js\u2028\u2029"`},
		{"<&>", `"<&>"`},
	} {
		if got := jsonstr.Append(nil, tc.in); string(got) != tc.want {
			t.Errorf("Append(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzAppend checks Append against encoding/json: the same bytes, valid
// UTF-8 and valid JSON, whatever the input.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"ut-1", "a\ab", "\xff", "\u2028", `"\`, "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := jsonstr.Append([]byte("x"), s)[1:]
		if want := reference(t, s); !bytes.Equal(got, want) {
			t.Fatalf("Append(%q) = %s, encoding/json %s", s, got, want)
		}
		var back string
		if !utf8.Valid(got) || json.Unmarshal(got, &back) != nil {
			t.Fatalf("Append(%q) = %s: not valid JSON", s, got)
		}
	})
}
