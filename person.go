package skyfence

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Person is someone who holds API keys. The two-person rule counts
// persons: every key of one person, whatever its role, is that one person,
// and persons are compared by ID, never by a name as typed.
type Person struct {
	ID string `json:"id"`
	// Handle is the person's name in normal form (NormalizeHandle):
	// unique among persons, so "Eve", "eve " and "ＥＶＥ" are one handle.
	Handle string `json:"handle"`
	// Name is the name as it was first written, for display only.
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxHandleLen is the longest handle, in runes of its normal form.
const MaxHandleLen = 100

// SystemPerson is the person of skyfence's own actions (start-up,
// scheduled changes); no one else may have its handle.
const SystemPerson = "system"

// NormalizeHandle returns the normal form of a person's name: Unicode NFKC,
// case-folded, trimmed, inner runs of white space made one space. Two names
// with the same normal form name one person ("Eve", " eve", "EVE" and the
// fullwidth "Ｅｖｅ" are all "eve"). It refuses (EINVALID, field "person")
// an empty name, one longer than MaxHandleLen, one that is not UTF-8, and
// one with a character that shows nothing: control characters (Cc), format
// characters (Cf: zero-width spaces and joiners, bidirectional marks),
// line and paragraph separators, private-use and surrogate code points,
// variation selectors and other default-ignorable code points. Such a
// character would make a name that looks like another's and is not.
func NormalizeHandle(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", FieldErrorf(EINVALID, "person", "a person's name must be UTF-8")
	}
	for i, r := range name {
		if invisible(r) {
			return "", FieldErrorf(EINVALID, "person", "a person's name may not contain the invisible or control character %U (at byte %d)", r, i)
		}
	}
	h := fold(name)
	switch n := utf8.RuneCountInString(h); {
	case n == 0:
		return "", FieldErrorf(EINVALID, "person", "a person's name may not be empty")
	case n > MaxHandleLen:
		return "", FieldErrorf(EINVALID, "person", "a person's name is %d characters long, more than %d", n, MaxHandleLen)
	}
	return h, nil
}

// LegacyHandle is the handle of a person named before persons were
// first-class (a key's person, an author or reviewer recorded on a change
// or case): NormalizeHandle with the invisible characters dropped rather
// than refused, and the name cut to MaxHandleLen. Migration 0005 gave
// every key's person this handle, so that "E\u200bve" and "Eve" became
// one person; it returns "" for a name with nothing visible in it.
func LegacyHandle(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, name)
	h := fold(name)
	if r := []rune(h); len(r) > MaxHandleLen {
		h = strings.TrimSpace(string(r[:MaxHandleLen]))
	}
	return h
}

// fold is NFKC, full case folding, lower case, NFKC again (folding can
// undo the first normalization), then the white space trimmed and
// collapsed, repeated until nothing changes. Lower case after folding
// makes the letters that fold to capitals (Cherokee) settle on one form.
func fold(s string) string {
	for range 4 {
		next := norm.NFKC.String(cases.Lower(language.Und).String(cases.Fold().String(norm.NFKC.String(s))))
		next = strings.Join(strings.Fields(next), " ")
		if next == s {
			break
		}
		s = next
	}
	return s
}

// invisible reports whether r is a character that shows nothing or
// controls how others show.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
		r == utf8.RuneError
}

// CheckLabel reports whether s may be shown as a label (a key's name): UTF-8
// with nothing invisible in it, since a right-to-left override or a
// zero-width space in a label makes it read as another. EINVALID naming
// field and the byte at fault otherwise.
func CheckLabel(field, s string) error {
	if !utf8.ValidString(s) {
		return FieldErrorf(EINVALID, field, "%s must be UTF-8", field)
	}
	for i, r := range s {
		if invisible(r) {
			return FieldErrorf(EINVALID, field, "%s may not contain the invisible or control character %U (at byte %d)", field, r, i)
		}
	}
	return nil
}

// CheckHandle reports whether h is a handle in normal form, as the stores
// check every person they read or write: EINVALID if not.
func CheckHandle(h string) error {
	n, err := NormalizeHandle(h)
	if err != nil {
		return err
	}
	if n != h {
		return FieldErrorf(EINVALID, "handle", "handle %q is not in normal form (%q)", h, n)
	}
	return nil
}

// SamePerson reports whether a and b are one person. Actors recorded since
// persons are first-class carry a person ID and are compared by it alone.
// An actor recorded before (a draft or a review of an older build) carries
// only the name its key had: it is compared by LegacyHandle, which is the
// handle migration 0005 gave that key's person, so an old record and a new
// one of the same person still count as one.
func (a Actor) SamePerson(b Actor) bool {
	if a.PersonID != "" && b.PersonID != "" {
		return a.PersonID == b.PersonID
	}
	return LegacyHandle(a.Person) == LegacyHandle(b.Person)
}

// String names the actor for messages: the person's handle.
func (a Actor) String() string {
	if a.Person == "" {
		return fmt.Sprintf("key %s", a.KeyID)
	}
	return a.Person
}
