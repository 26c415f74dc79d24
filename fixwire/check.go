package fixwire

import (
	"errors"
	"math"
	"strconv"

	"github.com/skyfence/skyfence"
)

// Batch is a batch of fixes, POST /v1/fixes's body, being read (Read),
// checked (Check) and answered (AppendAnswer), with the memory of each
// step: reuse it (pool it) to reuse that memory, after Reset. It is not
// safe for concurrent use.
type Batch struct {
	// Decoder reads the body; its MaxFixes bounds the batch.
	Decoder Decoder
	ID      string // the batch_id, "" if none
	Fixes   []Fix  // as sent
	// Checked holds the fixes that passed Check, in order, and Refused
	// per fix the error of its check, nil for those in Checked.
	Checked []skyfence.Fix
	Refused []error
	enc     Encoder
}

// Reset empties the batch, keeping its memory, for the next.
func (b *Batch) Reset() {
	clear(b.Fixes) // their strings
	clear(b.Checked)
	clear(b.Refused)
	b.ID, b.Fixes, b.Checked, b.Refused = "", b.Fixes[:0], b.Checked[:0], b.Refused[:0]
}

// Read reads the body of a batch, in the binary form if binary, else in
// JSON; its fixes are good until Reset. Its errors refuse the batch
// whole, as the API says them (*skyfence.Error): a malformed body
// (EINVALID, naming the field, and the byte or line), more than MaxFixes
// fixes (ETOOLARGE), a batch_id that is not an id (skyfence.ValidID).
func (b *Batch) Read(body []byte, binary bool) error {
	var err error
	if binary {
		b.ID, b.Fixes, err = b.Decoder.Request(body, b.Fixes[:0])
		err = b.Decoder.apiError(err)
	} else {
		b.ID, b.Fixes, err = readJSON(body, b.Fixes[:0])
		if err == nil && b.Decoder.MaxFixes > 0 && len(b.Fixes) > b.Decoder.MaxFixes {
			err = b.Decoder.tooMany(len(b.Fixes))
		}
	}
	if err != nil {
		return err
	}
	if b.ID != "" {
		return skyfence.ValidID("batch_id", b.ID)
	}
	return nil
}

// Check checks every fix of the batch (Fix.Check, as "fixes/i") into
// Checked and Refused.
func (b *Batch) Check() {
	b.Checked, b.Refused = b.Checked[:0], append(b.Refused[:0], make([]error, len(b.Fixes))...)
	for i := range b.Fixes {
		b.Checked = append(b.Checked, skyfence.Fix{}) // checked in place: a fix is 100 bytes
		if err := b.Fixes[i].check(&b.Checked[len(b.Checked)-1], "fixes", i); err != nil {
			b.Refused[i] = err
			b.Checked = b.Checked[:len(b.Checked)-1]
		}
	}
}

// apiError is the API's error for a binary body that Request refused, nil
// for nil.
func (d *Decoder) apiError(err error) error {
	if err == nil {
		return nil
	}
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
	var out skyfence.Fix
	err := f.check(&out, list, i)
	return out, err
}

// check is Check into out.
func (f *Fix) check(out *skyfence.Fix, list string, i int) error {
	*out = skyfence.Fix{TerminalID: f.TerminalID, Time: f.Time, AltM: f.AltM, SpeedKmh: skyfence.NoSpeed, ServingCell: f.ServingCell}
	field := func(name string) string { return list + "/" + strconv.Itoa(i) + "/" + name }
	if err := skyfence.ValidID("terminal_id", f.TerminalID); err != nil {
		return placed(err, field("terminal_id"))
	}
	if f.ServingCell != "" {
		if err := skyfence.ValidID("cell", f.ServingCell); err != nil {
			return placed(err, field("cell"))
		}
	}
	switch {
	case f.Time.IsZero():
		return skyfence.FieldErrorf(skyfence.EINVALID, field("time"), "missing time (RFC 3339)")
	case !(f.Lat >= -90 && f.Lat <= 90): // NaN too: not reported
		return skyfence.FieldErrorf(skyfence.EINVALID, field("lat"), "lat must be a number in [-90, 90]")
	case !(f.Lon >= -180 && f.Lon <= 180):
		return skyfence.FieldErrorf(skyfence.EINVALID, field("lon"), "lon must be a number in [-180, 180]")
	case !math.IsNaN(f.SpeedKmh) && !(f.SpeedKmh >= 0 && f.SpeedKmh < 1e5):
		return skyfence.FieldErrorf(skyfence.EINVALID, field("speed_kmh"), "speed_kmh must be a number in [0, 100000)")
	}
	out.Lat, out.Lon = f.Lat, f.Lon
	if !math.IsNaN(f.SpeedKmh) {
		out.SpeedKmh = f.SpeedKmh
	}
	return nil
}

// FromFix is f as a batch says it: a speed of skyfence.NoSpeed is not
// reported (NaN).
func FromFix(f *skyfence.Fix) Fix {
	speed := f.SpeedKmh
	if speed < 0 {
		speed = math.NaN()
	}
	return Fix{TerminalID: f.TerminalID, Time: f.Time, Lat: f.Lat, Lon: f.Lon, AltM: f.AltM, SpeedKmh: speed, ServingCell: f.ServingCell}
}

// placed is err, an *skyfence.Error, about the field at path.
func placed(err error, path string) error {
	if e, ok := err.(*skyfence.Error); ok {
		e.Field = path
	}
	return err
}
