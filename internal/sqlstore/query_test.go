package sqlstore

import (
	"errors"
	"io"
	"testing"
)

func TestDollars(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE id = ? AND b = ?`, `SELECT a FROM t WHERE id = $1 AND b = $2`},
		{`UPDATE t SET a = ?, b = 'why?' WHERE "c?" = ? LIMIT ?`, `UPDATE t SET a = $1, b = 'why?' WHERE "c?" = $2 LIMIT $3`},
		{`SELECT 'it''s ?' WHERE a = ?`, `SELECT 'it''s ?' WHERE a = $1`},
	} {
		if got := Dollars(c.in); got != c.want {
			t.Errorf("Dollars(%q):\ngot  %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestMark(t *testing.T) {
	err := Mark(io.ErrUnexpectedEOF, ErrUnique)
	if !errors.Is(err, ErrUnique) || !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrNoRows) {
		t.Errorf("Mark: errors.Is does not find the kind and the driver's error alone")
	}
	if err.Error() != io.ErrUnexpectedEOF.Error() {
		t.Errorf("Mark: message %q, want the driver's", err)
	}
	if Mark(nil, ErrUnique) != nil || MarkConstraint(nil, false, false) != nil {
		t.Errorf("Mark of nil is not nil")
	}
	if err := MarkConstraint(io.EOF, false, true); !errors.Is(err, ErrForeignKey) || errors.Is(err, ErrUnique) {
		t.Errorf("MarkConstraint(foreign key) = %v", err)
	}
}
