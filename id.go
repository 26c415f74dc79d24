package skyfence

import (
	"unicode"
	"unicode/utf8"
)

// MaxIDLen is the longest id a client may give, in bytes.
const MaxIDLen = 128

// ValidID checks an id a client gives for something it registers or
// sends (a terminal, an account, a capacity cell, a group, a batch of
// fixes): one to MaxIDLen bytes of valid UTF-8, every character visible
// (a letter, mark, digit, punctuation or symbol), so no space, no control
// character, nothing invisible or reserved (format characters such as
// U+200B or the bidirectional overrides, default-ignorable fillers such as
// U+3164, variation selectors, private use, unassigned or noncharacter code
// points) and no U+FFFD, the mark of bytes already lost. Ids are compared
// byte for byte: "ut-1" and "UT-1" are two ids.
//
// field names the id in the error (a JSON pointer such as "id" or
// "fixes/3/terminal_id"); the error is EINVALID, says which byte is at
// fault and never repeats the id, which may not be printable.
func ValidID(field, s string) error {
	switch {
	case s == "":
		return FieldErrorf(EINVALID, field, "missing %s", field)
	case len(s) > MaxIDLen:
		return FieldErrorf(EINVALID, field, "%s is %d bytes long, longer than %d", field, len(s), MaxIDLen)
	}
	for i := 0; i < len(s); {
		if c := s[i]; c > ' ' && c < utf8.RuneSelf-1 {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return FieldErrorf(EINVALID, field, "%s is not valid UTF-8 at byte %d", field, i)
		case !visible(r):
			return FieldErrorf(EINVALID, field, "%s has %U at byte %d: an id has only visible characters (letters, digits, punctuation, symbols), no space, control or invisible character", field, r, i)
		}
		i += n
	}
	return nil
}

// visible reports whether r may stand in an id.
func visible(r rune) bool {
	return r != ' ' && r != utf8.RuneError && unicode.IsPrint(r) &&
		!unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector, unicode.Noncharacter_Code_Point)
}
