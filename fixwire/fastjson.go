package fixwire

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// errSlowPath makes parseFixBatch hand the body to encoding/json, which
// accepts the same documents and explains what is wrong with the others.
var errSlowPath = errors.New("not in the fast path's form")

// parseFixBatch parses {"batch_id": "...", "fixes": [{...}, ...]} in the form
// gateways send: keys in any order, strings without escapes, the fields of
// a fix and no others. It is several times faster than encoding/json on
// this hot path; anything else returns errSlowPath and goes to the strict
// decoder (FuzzFixBatch checks that the two agree). It appends the fixes
// to fixes.
func parseFixBatch(b []byte, fixes []Fix) (batchID string, _ []Fix, err error) {
	p := fastParser{b: b}
	if !p.byte('{') {
		return "", nil, errSlowPath
	}
	seenFixes := false
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return "", nil, errSlowPath
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return "", nil, errSlowPath
		}
		switch key {
		case "batch_id":
			s, ok := p.str()
			if !ok {
				return "", nil, errSlowPath
			}
			batchID = strings.Clone(s)
		case "fixes":
			if seenFixes || !p.byte('[') {
				return "", nil, errSlowPath
			}
			seenFixes = true
			for i := 0; ; i++ {
				if p.byte(']') {
					break
				}
				if i > 0 && !p.byte(',') {
					return "", nil, errSlowPath
				}
				fixes = append(fixes, Fix{})
				if !p.fix(&fixes[len(fixes)-1]) {
					return "", nil, errSlowPath
				}
			}
		default:
			return "", nil, errSlowPath
		}
	}
	p.space()
	if p.i != len(p.b) {
		return "", nil, errSlowPath
	}
	return batchID, fixes, nil
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

// byte consumes c (after white space) if it comes next.
func (p *fastParser) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string of valid UTF-8 without escapes or control
// characters (encoding/json makes bytes that are not UTF-8 into U+FFFD).
// The result aliases the input: callers that keep it must copy it.
func (p *fastParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	ascii := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if len(s) == 0 {
				return "", true
			}
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			return unsafe.String(&s[0], len(s)), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// number reads a JSON number.
func (p *fastParser) number() (float64, bool) {
	p.space()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || (p.b[digits] == '0' && p.i-digits > 1) {
		return 0, false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		frac := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == frac {
			return 0, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		exp := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == exp {
			return 0, false
		}
	}
	s := p.b[start:p.i]
	v, err := strconv.ParseFloat(unsafe.String(&s[0], len(s)), 64)
	return v, err == nil
}

// parseFixLine parses one line of an NDJSON stream of fixes, a fix
// object alone, as parseFixBatch parses the fixes of a batch.
func parseFixLine(b []byte, f *Fix) bool {
	p := fastParser{b: b}
	if !p.fix(f) {
		return false
	}
	p.space()
	return p.i == len(p.b)
}

// fix reads one fix object into f, a zero Fix.
func (p *fastParser) fix(f *Fix) bool {
	if !p.byte('{') {
		return false
	}
	f.Lat, f.Lon, f.SpeedKmh = math.NaN(), math.NaN(), math.NaN()
	var seen uint8
	for first := true; ; first = false {
		if p.byte('}') {
			return true
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		var bit uint8
		switch key {
		case "terminal_id":
			bit = 1
			s, ok := p.str()
			if !ok {
				return false
			}
			f.TerminalID = strings.Clone(s)
		case "time":
			bit = 2
			s, ok := p.str()
			if !ok {
				return false
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return false
			}
			f.Time = t
		case "lat", "lon", "alt_m", "speed_kmh":
			v, ok := p.number()
			if !ok {
				return false
			}
			switch key {
			case "lat":
				bit, f.Lat = 4, v
			case "lon":
				bit, f.Lon = 8, v
			case "alt_m":
				bit, f.AltM = 16, v
			case "speed_kmh":
				bit, f.SpeedKmh = 32, v
			}
		case "cell":
			bit = 64
			s, ok := p.str()
			if !ok {
				return false
			}
			f.ServingCell = strings.Clone(s)
		default:
			return false
		}
		if seen&bit != 0 {
			return false // a repeated key: let encoding/json decide
		}
		seen |= bit
	}
}
