package fixwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/jsonstr"
)

// The JSON forms of a batch (docs/API.md): {"batch_id": "...", "fixes":
// [{...}, ...]}, or an NDJSON stream of one fix object a line. A fix's
// fields are terminal_id, time (RFC 3339), lat, lon, alt_m, speed_kmh and
// cell, each of which may be left out: then it is what the binary form
// says by leaving it out (Fix).

// readJSON reads a JSON batch, appending its fixes to fixes: by the fast
// path (fastjson.go) if it can, else by encoding/json, which accepts the
// same documents and says what is wrong with the others.
func readJSON(body []byte, fixes []Fix) (batchID string, _ []Fix, err error) {
	n := len(fixes)
	if batchID, out, err := parseFixBatch(body, fixes); err == nil {
		return batchID, out, nil
	}
	var in struct {
		BatchID string    `json:"batch_id"`
		Fixes   []jsonFix `json:"fixes"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return "", fixes[:n], JSONError(err)
	}
	if dec.More() {
		return "", fixes[:n], skyfence.Errorf(skyfence.EINVALID, "unexpected data after the JSON object")
	}
	fixes = fixes[:n]
	for i := range in.Fixes {
		fixes = append(fixes, in.Fixes[i].fix())
	}
	return in.BatchID, fixes, nil
}

// ReadLine reads line number line of an NDJSON stream of fixes: one fix
// object (what follows it on the line is not read). A line that is not a
// fix is an *skyfence.Error naming the field by the line
// ("line/12/lat"); the fix is then what could be read of it, its
// terminal id to be echoed in the line's answer.
func ReadLine(text []byte, line int) (Fix, error) {
	var f Fix
	if parseFixLine(text, &f) {
		return f, nil
	}
	var in jsonFix
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		err = JSONError(err)
		if e, ok := err.(*skyfence.Error); ok {
			e.Field = fmt.Sprintf("line/%d/%s", line, e.Field)
		}
		return in.fix(), err
	}
	return in.fix(), nil
}

// jsonFix is a fix as encoding/json reads it, for the bodies the fast
// path leaves to it: a field left out is a nil pointer, made NaN by fix
// at once.
type jsonFix struct {
	TerminalID string    `json:"terminal_id"`
	Time       time.Time `json:"time"`
	Lat        *float64  `json:"lat"`
	Lon        *float64  `json:"lon"`
	AltM       float64   `json:"alt_m"`
	SpeedKmh   *float64  `json:"speed_kmh"`
	Cell       string    `json:"cell"`
}

func (in *jsonFix) fix() Fix {
	given := func(v *float64) float64 {
		if v == nil {
			return math.NaN()
		}
		return *v
	}
	return Fix{TerminalID: in.TerminalID, Time: in.Time, Lat: given(in.Lat), Lon: given(in.Lon), AltM: in.AltM,
		SpeedKmh: given(in.SpeedKmh), ServingCell: in.Cell}
}

// JSONError is the API's error (*skyfence.Error, EINVALID) for a JSON
// body that encoding/json refused: the field at fault, or the byte. The
// API says it of every JSON body, a batch of fixes or not.
func JSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return skyfence.Errorf(skyfence.EINVALID, "empty request body: want a JSON object")
	case errors.As(err, &syn):
		return skyfence.Errorf(skyfence.EINVALID, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return skyfence.FieldErrorf(skyfence.EINVALID, typ.Field, "want %s, got JSON %s", typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return skyfence.FieldErrorf(skyfence.EINVALID, field, "unknown field %q", field)
	}
	var e *skyfence.Error
	if errors.As(err, &e) {
		return e
	}
	return skyfence.Errorf(skyfence.EINVALID, "malformed request: %v", err)
}

// AppendJSONRequest appends the JSON body of a batch of fixes to dst: the
// fields a fix leaves out (NaN, a zero time, altitude or cell) are left out; numbers are written
// in the fewest digits that read back the same.
func AppendJSONRequest(dst []byte, batchID string, fixes []Fix) []byte {
	dst = append(dst, '{')
	if batchID != "" {
		dst = append(dst, `"batch_id":`...)
		dst = jsonstr.Append(dst, batchID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"fixes":[`...)
	for i := range fixes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONFix(dst, &fixes[i])
	}
	return append(dst, "]}"...)
}

func appendJSONFix(b []byte, f *Fix) []byte {
	b = append(b, `{"terminal_id":`...)
	b = jsonstr.Append(b, f.TerminalID)
	if !f.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = f.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	num := func(name string, v float64) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	if !math.IsNaN(f.Lat) {
		num("lat", f.Lat)
	}
	if !math.IsNaN(f.Lon) {
		num("lon", f.Lon)
	}
	if math.Float64bits(f.AltM) != 0 { // -0 too, as the binary form
		num("alt_m", f.AltM)
	}
	if !math.IsNaN(f.SpeedKmh) {
		num("speed_kmh", f.SpeedKmh)
	}
	if f.ServingCell != "" {
		b = append(b, `,"cell":`...)
		b = jsonstr.Append(b, f.ServingCell)
	}
	return append(b, '}')
}
