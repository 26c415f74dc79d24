package authorizer

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/skyfence/skyfence/policy"
)

// A track saved in the older layout (trip start in Unix seconds, coastal
// days from 0) reads back in today's numbering; its coastal run is kept
// only while its last located fix was on its last coastal day.
func TestDecodeOldTrack(t *testing.T) {
	old := func(lastFix time.Time, abroadSince int64, coastalDay int32, run, year, yearDays uint16) []byte {
		var b []byte
		b = binary.BigEndian.AppendUint64(b, uint64(lastFix.UnixNano()))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(43.25))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(5.3))
		b = binary.BigEndian.AppendUint64(b, uint64(abroadSince))
		b = binary.BigEndian.AppendUint64(b, 0)
		b = binary.BigEndian.AppendUint32(b, uint32(coastalDay))
		b = binary.BigEndian.AppendUint16(b, run)
		b = binary.BigEndian.AppendUint16(b, year)
		b = binary.BigEndian.AppendUint16(b, yearDays)
		return b
	}
	noon := time.Date(2026, 6, 5, 12, 0, 0, 0, time.UTC)
	oldDay := int32(noon.Unix() / 86400) // the old numbering: 0 for 1970-01-01
	newDay := uint16(oldDay + 1)
	tests := []struct {
		name string
		in   []byte
		want policy.Track
	}{
		{"in coastal waters at the last fix", old(noon, noon.Unix()-86400, oldDay, 4, 2026, 9),
			policy.Track{LastUnixNano: noon.UnixNano(), LastLat: 43.25, LastLon: 5.3, AbroadDay: newDay - 1, CoastalDay: newDay, CoastalRun: 4, CoastalYearDays: 9}},
		{"a later fix elsewhere: the stay ended", old(noon.Add(48*time.Hour), 0, oldDay, 4, 2026, 9),
			policy.Track{LastUnixNano: noon.Add(48 * time.Hour).UnixNano(), LastLat: 43.25, LastLon: 5.3, CoastalDay: newDay, CoastalYearDays: 9}},
		{"never in coastal waters", old(noon, 0, 0, 0, 0, 0),
			policy.Track{LastUnixNano: noon.UnixNano(), LastLat: 43.25, LastLon: 5.3}},
		{"malformed: a new track", []byte{1, 2, 3}, policy.Track{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := policy.Track{AbroadDay: 99}
			decodeTrack(tc.in, &got)
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
