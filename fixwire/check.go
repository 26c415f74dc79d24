package fixwire

import (
	"errors"
	"math"
	"strconv"

	"github.com/skyfence/skyfence"
)

// ReadBatch reads the body of POST /v1/fixes, in the binary form if
// binary, else in JSON, appending its fixes to fixes. Its errors refuse
// the batch whole, as the API says them (*skyfence.Error): a malformed
// body (EINVALID, naming the field, and the byte or line), more than
// MaxFixes fixes (ETOOLARGE), a batch_id that is not an id
// (skyfence.ValidID). Each fix is then checked on its own (Fix.Check).
func (d *Decoder) ReadBatch(body []byte, binary bool, fixes []Fix) (batchID string, _ []Fix, err error) {
	n := len(fixes)
	if binary {
		if batchID, fixes, err = d.Request(body, fixes); err != nil {
			return "", fixes[:n], d.apiError(err)
		}
	} else {
		if batchID, fixes, err = readJSON(body, fixes); err != nil {
			return "", fixes[:n], err
		}
		if d.MaxFixes > 0 && len(fixes)-n > d.MaxFixes {
			return batchID, fixes[:n], d.tooMany(len(fixes) - n)
		}
	}
	if batchID != "" {
		if err := skyfence.ValidID("batch_id", batchID); err != nil {
			return batchID, fixes, err
		}
	}
	return batchID, fixes, nil
}

// apiError is the API's error for a binary body that Request refused.
func (d *Decoder) apiError(err error) error {
	var tooMany *TooManyError
	var bad *Error
	switch {
	case errors.As(err, &tooMany):
		return d.tooMany(tooMany.Count)
	case errors.As(err, &bad):
		return skyfence.FieldErrorf(skyfence.EINVALID, bad.Field, "malformed %s body at byte %d: %s", ContentType, bad.Offset, bad.Problem)
	}
	return err
}

// tooMany refuses a batch of n fixes, in either form.
func (d *Decoder) tooMany(n int) error {
	return skyfence.FieldErrorf(skyfence.ETOOLARGE, "fixes", "a batch holds at most %d fixes, got %d; send more batches or stream NDJSON", d.MaxFixes, n)
}

// Check checks fix number i of a batch, in either form, and returns it as
// the fix the service decides: the one place of the rules, and the one
// conversion. Its field errors name the fix by its place: list/i/field
// ("fixes/3/lat", "line/12/time"), built only for a fix refused.
func (f *Fix) Check(list string, i int) (skyfence.Fix, error) {
	out := skyfence.Fix{TerminalID: f.TerminalID, Time: f.Time, AltM: f.AltM, SpeedKmh: skyfence.NoSpeed, Cell: f.Cell}
	field := func(name string) string { return list + "/" + strconv.Itoa(i) + "/" + name }
	if err := skyfence.ValidID("terminal_id", f.TerminalID); err != nil {
		return out, placed(err, field("terminal_id"))
	}
	if f.Cell != "" {
		if err := skyfence.ValidID("cell", f.Cell); err != nil {
			return out, placed(err, field("cell"))
		}
	}
	switch {
	case f.Time.IsZero():
		return out, skyfence.FieldErrorf(skyfence.EINVALID, field("time"), "missing time (RFC 3339)")
	case !(f.Lat >= -90 && f.Lat <= 90): // NaN too: not reported
		return out, skyfence.FieldErrorf(skyfence.EINVALID, field("lat"), "lat must be a number in [-90, 90]")
	case !(f.Lon >= -180 && f.Lon <= 180):
		return out, skyfence.FieldErrorf(skyfence.EINVALID, field("lon"), "lon must be a number in [-180, 180]")
	case !math.IsNaN(f.SpeedKmh) && !(f.SpeedKmh >= 0 && f.SpeedKmh < 1e5):
		return out, skyfence.FieldErrorf(skyfence.EINVALID, field("speed_kmh"), "speed_kmh must be a number in [0, 100000)")
	}
	out.Lat, out.Lon = f.Lat, f.Lon
	if !math.IsNaN(f.SpeedKmh) {
		out.SpeedKmh = f.SpeedKmh
	}
	return out, nil
}

// CheckBatch checks every fix of a batch (Check, as "fixes/i"): it
// appends the fixes that pass to ok, in order, and returns pre, per fix
// the error of its check, nil for those in ok; pre reuses the memory
// given.
func CheckBatch(fixes []Fix, ok []skyfence.Fix, pre []error) ([]skyfence.Fix, []error) {
	pre = append(pre[:0], make([]error, len(fixes))...)
	for i := range fixes {
		f, err := fixes[i].Check("fixes", i)
		if err != nil {
			pre[i] = err
			continue
		}
		ok = append(ok, f)
	}
	return ok, pre
}

// FromFix is f as a batch says it: a speed of skyfence.NoSpeed is not
// reported (NaN).
func FromFix(f *skyfence.Fix) Fix {
	speed := f.SpeedKmh
	if speed < 0 {
		speed = math.NaN()
	}
	return Fix{TerminalID: f.TerminalID, Time: f.Time, Lat: f.Lat, Lon: f.Lon, AltM: f.AltM, SpeedKmh: speed, Cell: f.Cell}
}

// placed is err, an *skyfence.Error, about the field at path.
func placed(err error, path string) error {
	if e, ok := err.(*skyfence.Error); ok {
		e.Field = path
	}
	return err
}
