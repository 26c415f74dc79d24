package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/skyfence/skyfence"
)

// Format is the format name of an export's header line.
const Format = "skyfence-audit/v1"

// header is an export's first line.
type header struct {
	Format     string `json:"format"`
	Hash       string `json:"hash"`
	Signature  string `json:"signature"`
	ExportedAt string `json:"exported_at"`
}

// line is an entry's line of an export, as read back. Data is the exact
// text of the data member; DataBase64 stands instead when the data is not
// compact JSON.
type line struct {
	Seq        *int64          `json:"seq"`
	Time       string          `json:"time"`
	Actor      *string         `json:"actor"`
	Action     *string         `json:"action"`
	Subject    *string         `json:"subject"`
	Reason     *string         `json:"reason"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
	Data       json.RawMessage `json:"data"`
	DataBase64 *string         `json:"data_base64"`
}

// Export writes the whole chain to w as JSON lines (docs/AUDIT.md): a
// header line, then one line per entry, in seq order, with every field:
//
//	{"seq":1,"time":"2026-03-01T12:00:00Z","actor":"...","action":"...","subject":"...","reason":"...","prev_hash":"<hex>","hash":"<hex>","data":{...}}
//
// time is exactly the text the digest covers (RFC 3339, UTC, nanoseconds
// without trailing zeros); data is last, and the text after "data": up to
// the closing brace is exactly the bytes the digest covers. Data that is not
// compact JSON (or is empty) is written as "data_base64" instead. It
// returns the last entry written. Export refuses a text field that is not
// UTF-8, which JSON could not carry byte for byte.
func Export(ctx context.Context, w io.Writer, log Log) (Head, error) {
	bw := bufio.NewWriter(w)
	h, _ := json.Marshal(header{Format: Format, Hash: "sha256", Signature: "ed25519", ExportedAt: time.Now().UTC().Format(time.RFC3339)})
	bw.Write(append(h, '\n'))
	var head Head
	var buf []byte
	for from := int64(1); ; {
		es, err := log.FindAudit(ctx, from, pageSize)
		if err != nil {
			return head, err
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if buf, err = appendLine(buf[:0], e); err != nil {
				return head, err
			}
			if _, err := bw.Write(buf); err != nil {
				return head, err
			}
			head = Head{Seq: e.Seq, Hash: e.Hash}
		}
		from = es[len(es)-1].Seq + 1
	}
	return head, bw.Flush()
}

// appendLine appends e's export line to b.
func appendLine(b []byte, e *skyfence.AuditEntry) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = appendString(b, "time", e.Time.UTC().Format(time.RFC3339Nano))
	for _, f := range []struct{ name, value string }{{"actor", e.Actor}, {"action", e.Action}, {"subject", e.Subject}, {"reason", e.Reason}} {
		if !utf8.ValidString(f.value) {
			return nil, fmt.Errorf("audit: entry %d: its %s is not UTF-8 and cannot be exported exactly", e.Seq, f.name)
		}
		b = appendString(b, f.name, f.value)
	}
	b = appendString(b, "prev_hash", hex.EncodeToString(e.PrevHash))
	b = appendString(b, "hash", hex.EncodeToString(e.Hash))
	if compact(e.Data) {
		b = append(append(b, `,"data":`...), e.Data...)
	} else {
		b = appendString(b, "data_base64", base64.StdEncoding.EncodeToString(e.Data))
	}
	return append(b, "}\n"...), nil
}

// appendString appends the member ,"name":"value".
func appendString(b []byte, name, value string) []byte {
	v, _ := json.Marshal(value) // a string always marshals
	return append(append(b, `,"`+name+`":`...), v...)
}

// compact reports whether data is UTF-8 JSON with no space outside its
// strings, so that it can stand in a line as it is.
func compact(data []byte) bool {
	if !utf8.Valid(data) || !json.Valid(data) {
		return false
	}
	var c bytes.Buffer
	return json.Compact(&c, data) == nil && bytes.Equal(c.Bytes(), data)
}

// VerifyExport verifies an export read from r, as Verify does a store: in
// the order of its lines, so a line moved is reported as reordered. The
// error is for a file that is not an export (a line that does not parse,
// named by its number), not for problems of the chain.
func VerifyExport(ctx context.Context, r io.Reader, opts VerifyOptions) (*Report, error) {
	src := &exportSource{sc: bufio.NewScanner(r)}
	src.sc.Buffer(nil, 64<<20)
	if !src.sc.Scan() {
		return nil, errors.Join(errors.New("audit: export is empty"), src.sc.Err())
	}
	var h header
	if err := json.Unmarshal(src.sc.Bytes(), &h); err != nil || h.Format != Format {
		return nil, fmt.Errorf("audit: line 1 is not a %s header", Format)
	}
	src.n = 1
	return verify(ctx, src, opts)
}

// exportSource reads the entries of an export.
type exportSource struct {
	sc *bufio.Scanner
	n  int // lines read
}

func (s *exportSource) next(context.Context) (*skyfence.AuditEntry, error) {
	if !s.sc.Scan() {
		return nil, s.sc.Err()
	}
	s.n++
	e, err := parseLine(s.sc.Bytes())
	if err != nil {
		return nil, fmt.Errorf("audit: export line %d: %w", s.n, err)
	}
	return e, nil
}

// parseLine reads an entry's line, refusing anything Export would not
// write: a verifier that hashes the text as written must agree with this
// one.
func parseLine(b []byte) (*skyfence.AuditEntry, error) {
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, err
	}
	if l.Seq == nil || l.Actor == nil || l.Action == nil || l.Subject == nil || l.Reason == nil {
		return nil, errors.New("a member is missing")
	}
	e := &skyfence.AuditEntry{Seq: *l.Seq, Actor: *l.Actor, Action: *l.Action, Subject: *l.Subject, Reason: *l.Reason}
	var err error
	if e.Time, err = time.Parse(time.RFC3339Nano, l.Time); err != nil || e.Time.UTC().Format(time.RFC3339Nano) != l.Time {
		return nil, fmt.Errorf("time %q is not RFC 3339 in UTC with no trailing zeros", l.Time)
	}
	if e.PrevHash, err = hex.DecodeString(l.PrevHash); err != nil {
		return nil, fmt.Errorf("prev_hash: %w", err)
	}
	if e.Hash, err = hex.DecodeString(l.Hash); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	switch {
	case l.Data != nil && l.DataBase64 == nil && compact(l.Data):
		// The bytes a verifier takes: from the first ,"data": to the last }.
		if i := bytes.Index(b, []byte(`,"data":`)); i < 0 || !bytes.Equal(b[i+len(`,"data":`):len(b)-1], l.Data) {
			return nil, errors.New(`"data" is not the last member`)
		}
		e.Data = l.Data
	case l.Data == nil && l.DataBase64 != nil:
		if e.Data, err = base64.StdEncoding.DecodeString(*l.DataBase64); err != nil {
			return nil, fmt.Errorf("data_base64: %w", err)
		}
	default:
		return nil, errors.New(`want one of "data" (compact JSON) and "data_base64"`)
	}
	return e, nil
}
