package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func slowParse(b []byte) (string, []fixInput, error) {
	var in struct {
		BatchID string     `json:"batch_id"`
		Fixes   []fixInput `json:"fixes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return "", nil, err
	}
	if dec.More() {
		return "", nil, errSlowPath
	}
	return in.BatchID, in.Fixes, nil
}

// FuzzFixBatch checks that whatever the fast parser accepts, encoding/json
// accepts too, with the same result.
func FuzzFixBatch(f *testing.F) {
	f.Add([]byte(`{"batch_id":"b1","fixes":[{"terminal_id":"ut-1","time":"2026-06-15T12:00:00Z","lat":50.45,"lon":30.52,"speed_kmh":12.5}]}`))
	f.Add([]byte(`{"fixes":[{"lon":-1e2,"lat":0,"terminal_id":"x","time":"2026-06-15T12:00:00.123456789+02:00","alt_m":11000,"cell":"c1"},{"terminal_id":"y","time":"2026-01-01T00:00:00Z","lat":1,"lon":2}]}`))
	f.Add([]byte(` { "fixes" : [ ] , "batch_id" : "" } `))
	f.Add([]byte(`{"fixes":[{"terminal_id":"a\u00e9","lat":1}]}`))
	f.Add([]byte(`{"fixes":[{"lat":01}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, fixes, err := parseFixBatch(b, nil)
		if err != nil {
			return
		}
		sid, sfixes, serr := slowParse(b)
		if serr != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", serr, b)
		}
		if id != sid || len(fixes) != len(sfixes) {
			t.Fatalf("fast %q %d fixes, slow %q %d", id, len(fixes), sid, len(sfixes))
		}
		for i := range fixes {
			if !reflect.DeepEqual(fixes[i], sfixes[i]) {
				t.Fatalf("fix %d: fast %+v, slow %+v", i, fixes[i], sfixes[i])
			}
		}
	})
}

func TestFastPathTakesGatewayBatches(t *testing.T) {
	b := []byte(`{"batch_id":"b1","fixes":[{"terminal_id":"ut-1","time":"2026-06-15T12:00:00Z","lat":50.45,"lon":30.52,"speed_kmh":12.5},{"terminal_id":"ut-2","time":"2026-06-15T12:00:01Z","lat":-1,"lon":2}]}`)
	id, fixes, err := parseFixBatch(b, nil)
	if err != nil || id != "b1" || len(fixes) != 2 || *fixes[0].Lat != 50.45 || fixes[1].SpeedKmh != nil {
		t.Fatalf("got %q %+v %v", id, fixes, err)
	}
}
