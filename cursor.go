package skyfence

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cursor is a place in a listing that comes newest first by a time and
// then by id (cases by UpdatedAt, policy changes by CreatedAt): the items
// after it have a time before At, or At and an ID smaller than ID.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the start of a listing.
func (c Cursor) IsZero() bool { return c.ID == "" && c.At.IsZero() }

// String encodes c for an API: opaque to clients, read back by
// ParseCursor; "" for the zero cursor.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d/%s", c.At.UnixNano(), c.ID))
}

// ParseCursor reads what Cursor.String wrote; "" is the zero cursor.
// EINVALID, naming the field "cursor", for anything else.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := FieldErrorf(EINVALID, "cursor", "%q is not a cursor of this listing: pass next_cursor as it came", s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	nanos, id, ok := strings.Cut(string(b), "/")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if !ok || err != nil || id == "" {
		return Cursor{}, bad
	}
	return Cursor{At: time.Unix(0, n).UTC(), ID: id}, nil
}
