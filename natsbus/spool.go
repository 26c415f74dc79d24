package natsbus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"

	"github.com/skyfence/skyfence/bus"
)

// spool is the append-only file events wait in while NATS is unreachable:
// one event a line (its CloudEvents JSON, which has no newline). Events are
// appended at the end and replayed from the read offset; when every event
// is replayed the file is emptied. Only the sender goroutine uses it.
type spool struct {
	f    *os.File
	max  int64
	size int64 // bytes in the file
	read int64 // offset of the first event not yet replayed
}

// openSpool opens (or creates) the spool at path, bounded to max bytes.
// Events left in it by an earlier process are pending: they are replayed
// first. A torn last line (a crash in mid-write) is cut off.
func openSpool(path string, max int64) (*spool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	s := &spool{f: f, max: max}
	if s.size, err = wholeLines(f); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// wholeLines truncates f after its last newline and returns its size.
func wholeLines(f *os.File) (int64, error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	n := int64(bytes.LastIndexByte(b, '\n') + 1)
	if n == int64(len(b)) {
		return n, nil
	}
	return n, f.Truncate(n)
}

// pending reports whether events wait to be replayed.
func (s *spool) pending() bool { return s.read < s.size }

// bytes returns how many bytes the spool holds.
func (s *spool) bytes() int64 { return s.size - s.read }

// append writes es at the end of the spool, in order, and syncs the file.
// An event that would take the spool past its bound is not written; append
// returns how many were.
func (s *spool) append(es []bus.Event) (int, error) {
	var buf []byte
	n := 0
	for _, e := range es {
		b, err := json.Marshal(e)
		if err != nil {
			return n, err
		}
		if s.size+int64(len(buf)+len(b)+1) > s.max {
			break
		}
		buf = append(append(buf, b...), '\n')
		n++
	}
	if len(buf) == 0 {
		return 0, nil
	}
	if _, err := s.f.WriteAt(buf, s.size); err != nil {
		return 0, err
	}
	s.size += int64(len(buf))
	return n, s.f.Sync()
}

// next reads up to max events from the read offset, and the offset after
// them. A line that does not decode is skipped (and counted by the caller:
// fewer events than lines).
func (s *spool) next(max int) (es []bus.Event, off int64, lines int, err error) {
	r := bufio.NewReader(io.NewSectionReader(s.f, s.read, s.size-s.read))
	off = s.read
	for lines < max {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, 0, err
		}
		off += int64(len(line))
		lines++
		var e bus.Event
		if json.Unmarshal(line, &e) == nil {
			es = append(es, e)
		}
	}
	return es, off, lines, nil
}

// advance marks the events before off as replayed, emptying the file once
// all are.
func (s *spool) advance(off int64) error {
	s.read = off
	if s.read < s.size {
		return nil
	}
	s.read, s.size = 0, 0
	return s.f.Truncate(0)
}

func (s *spool) close() error { return s.f.Close() }
