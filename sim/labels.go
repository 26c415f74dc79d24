package sim

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// WriteLabels writes every terminal's label as CSV, one line per terminal
// in index order after a header:
//
//	terminal_id,behaviour,bad,bad_from,plan,country
//
// bad is true or false; bad_from is the time (RFC 3339) the bad behaviour
// starts, empty for honest terminals; country is the registered one.
func (f *Fleet) WriteLabels(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("terminal_id,behaviour,bad,bad_from,plan,country\n")
	var line []byte
	for i := range f.Len() {
		l := f.Label(i)
		line = append(line[:0], l.ID...)
		line = append(line, ',')
		line = append(line, l.Behaviour.String()...)
		line = append(line, ',')
		line = strconv.AppendBool(line, l.Bad)
		line = append(line, ',')
		if l.Bad {
			line = l.BadFrom.UTC().AppendFormat(line, time.RFC3339)
		}
		line = append(line, ',')
		line = append(line, l.Plan...)
		line = append(line, ',')
		line = append(line, l.Country...)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
