package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/fixwire"
)

// ingest takes a batch of fixes and answers a decision (or an error) for
// each, in order: as one JSON object ({"fixes": [...]}), or in the binary
// form (Content-Type fixwire.ContentType), or, with Content-Type
// application/x-ndjson, as a stream of one fix per line answered by one
// result per line. A batch with a batch_id that this server answered
// recently is answered the same again (batches.go).
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-ndjson":
		return s.ingestStream(w, r)
	case fixwire.ContentType:
	default:
		if err := jsonContent(r.Header.Get("Content-Type")); err != nil {
			return skyfence.Errorf(skyfence.EUNSUPPORTED, "Content-Type %q: a batch of fixes is application/json, application/x-ndjson or %s", r.Header.Get("Content-Type"), fixwire.ContentType)
		}
	}
	form := answerForm(r.Header.Get("Accept"), mt == fixwire.ContentType)
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return jsonError(err)
	}
	st := batchPool.Get().(*batchState)
	defer st.put()
	if err := st.Read(buf.Bytes(), mt == fixwire.ContentType); err != nil {
		return err
	}
	batchID := st.ID
	var pending *batch // this batch, until its answer is kept for retries
	if batchID != "" {
		kept, p, err := s.batches.begin(r.Context(), control.PrincipalFrom(r.Context()).KeyID, batchID, s.batches.sum(st.Fixes), form)
		if err != nil {
			return err
		}
		if kept != nil {
			w.Header().Set("Content-Type", form)
			_, err = w.Write(kept)
			return err
		}
		pending = p
		defer func() {
			if pending != nil {
				s.batches.end(pending, nil) // it failed: a retry decides it anew
			}
		}()
	}
	if err := s.decide(r.Context(), st); err != nil {
		return err
	}
	bp := slicePool.Get().(*[]byte)
	b := (*bp)[:0]
	defer func() {
		if cap(b) <= 4<<20 {
			*bp = b[:0]
			slicePool.Put(bp)
		}
	}()
	b = st.AppendAnswer(b, form == fixwire.ContentType, st.decided)
	if pending != nil {
		s.batches.end(pending, b) // before writing: the gateway may never read it
		pending = nil
	}
	w.Header().Set("Content-Type", form)
	_, err := w.Write(b)
	s.metrics.decisions(st.results)
	return err
}

// answerForm is the media type of the answer to a batch: the request's
// form (binary or JSON) unless Accept names only the other one. Parameters
// and quality values are not weighed.
func answerForm(accept string, binaryIn bool) string {
	var wantJSON, wantWire bool
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.TrimSpace(mt) {
		case "application/json":
			wantJSON = true
		case fixwire.ContentType:
			wantWire = true
		}
	}
	if binaryIn && (wantWire || !wantJSON) || !binaryIn && wantWire && !wantJSON {
		return fixwire.ContentType
	}
	return "application/json"
}

// streamChunk is how many NDJSON fixes are decided and answered together.
const streamChunk = 1000

// MaxLineBytes bounds one line of an NDJSON stream of fixes (a fix takes
// about 100).
const MaxLineBytes = 64 << 10

// ingestStream decides an NDJSON stream of fixes, one per line, and
// answers a result per line, in chunks of streamChunk as the stream comes
// in. A line that is not a fix gets an error result naming it
// ("line/12/lat"; a line over MaxLineBytes: too_large, "line/12") and the
// stream goes on. The stream is bounded like every body: over
// MaxBodyBytes by its Content-Length, it is refused whole (413) before a
// line is read; else the lines read up to the limit are decided and
// answered, and the answer ends with an error line ({"error": ...},
// too_large, naming the line where the stream was cut).
func (s *Server) ingestStream(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > MaxBodyBytes {
		return skyfence.Errorf(skyfence.ETOOLARGE, "request body of %d bytes, larger than %d: send the stream in parts", r.ContentLength, MaxBodyBytes)
	}
	// Answers go out while the stream still comes in.
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
		return skyfence.Errorf(skyfence.EINTERNAL, "full-duplex streaming: %v", err)
	}
	// A handler that answered while reading closes the body before it
	// returns, else the server may read it behind it (golang/go#68560).
	defer r.Body.Close()
	br := bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, MaxBodyBytes), MaxLineBytes)
	w.Header().Set("Content-Type", "application/x-ndjson")
	var fixes []skyfence.Fix
	var ids []string
	var pre []error
	results := make([]authorizer.Result, streamChunk)
	line := 0
	wrote := false // the answer has begun: its status is sent
	flush := func() error {
		if len(fixes) == 0 {
			return nil
		}
		wrote = true
		var ok []skyfence.Fix
		for i := range fixes {
			if pre[i] == nil {
				ok = append(ok, fixes[i])
			}
		}
		if err := s.decideFixes(r.Context(), ok, results); err != nil {
			return err
		}
		var b []byte
		k := 0
		for i := range fixes {
			res := authorizer.Result{Err: pre[i]}
			if pre[i] == nil {
				res = results[k]
				k++
			}
			b = fixwire.AppendJSONResult(b, ids[i], &res.Decision, res.Err)
			b = append(b, '\n')
		}
		s.metrics.decisions(results[:k])
		fixes, ids, pre = fixes[:0], ids[:0], pre[:0]
		if _, err := w.Write(b); err != nil {
			return err
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return nil
	}
	for {
		text, readErr := br.ReadSlice('\n')
		long := false
		for readErr == bufio.ErrBufferFull { // the rest of an over-long line, dropped
			long = true
			_, readErr = br.ReadSlice('\n')
		}
		if readErr != nil && readErr != io.EOF {
			// The line being read is not decided: the stream was cut in it.
			if err := flush(); err != nil {
				return err
			}
			err := skyfence.Errorf(skyfence.EINVALID, "reading the stream after line %d: %v", line, readErr)
			if tooBig := (*http.MaxBytesError)(nil); errors.As(readErr, &tooBig) {
				err = skyfence.FieldErrorf(skyfence.ETOOLARGE, fmt.Sprintf("line/%d", line+1),
					"the stream is larger than %d bytes: it was read up to line %d; send the rest in another request", MaxBodyBytes, line)
			}
			if !wrote {
				return err
			}
			// The answer's last line, under the status already sent.
			b, _ := json.Marshal(errorBody{detailOf(err)})
			_, werr := w.Write(append(b, '\n'))
			return werr
		}
		if len(text) == 0 && readErr == io.EOF {
			break
		}
		line++
		var in fixwire.Fix
		var f skyfence.Fix
		var err error
		if text = bytes.TrimSpace(text); long {
			err = skyfence.FieldErrorf(skyfence.ETOOLARGE, fmt.Sprintf("line/%d", line), "line %d is longer than %d bytes", line, MaxLineBytes)
		} else if len(text) == 0 {
			if readErr == io.EOF {
				break
			}
			continue
		} else if in, err = fixwire.ReadLine(text, line); err == nil {
			f, err = in.Check("line", line)
		}
		fixes, ids, pre = append(fixes, f), append(ids, in.TerminalID), append(pre, err)
		if len(fixes) == streamChunk {
			if err := flush(); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	if len(fixes) > 0 {
		return flush()
	}
	return nil
}

// bufPool holds request bodies, and slicePool responses, of the ingest
// path.
var (
	bufPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	slicePool = sync.Pool{New: func() any { return new([]byte) }}
)

// putBuf returns a buffer to the pool unless it grew too large to keep.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		bufPool.Put(b)
	}
}
