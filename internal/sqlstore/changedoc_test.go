package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

func TestChangeDocRoundTrip(t *testing.T) {
	zone := time.FixedZone("UTC+5:45", 5*3600+45*60)
	now := time.Now() // with a monotonic clock reading
	c := &skyfence.PolicyChange{
		ID: "chg-1", State: skyfence.ChangeActive, Title: "a \x00 NUL, <html> & 🛰", References: []string{},
		Files:     []skyfence.PolicyFile{{Name: "a", Data: []byte{0xff, 0}}, {Name: "empty", Data: []byte{}}, {Name: "nil"}},
		Reviews:   []skyfence.Review{{By: skyfence.Actor{Person: "bob"}, Approve: true, At: now.In(zone)}},
		Impact:    []byte{},
		NotBefore: time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC).In(zone), CreatedAt: now, Revision: 4,
	}
	reviewAt := c.Reviews[0].At
	b, err := encodeChange(c, 5)
	if err != nil {
		t.Fatalf("encodeChange: %v", err)
	}
	if c.Revision != 4 || c.Reviews[0].At != reviewAt || c.References == nil {
		t.Errorf("encodeChange changed its argument: %+v", c)
	}
	n := normalizeChange(c)
	n.Revision = 5
	if want, _ := json.Marshal(n); string(b) != string(want) {
		t.Errorf("encodeChange: got %s, want json.Marshal of the normalized change, %s", b, want)
	}
	got, err := decodeChange(b)
	if err != nil {
		t.Fatalf("decodeChange: %v", err)
	}
	want := *c
	want.Revision, want.References, want.Impact = 5, nil, nil
	want.CreatedAt, want.NotBefore = now.UTC(), c.NotBefore.UTC()
	want.Reviews = []skyfence.Review{c.Reviews[0]}
	want.Reviews[0].At = now.UTC()
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, &want)
	}
	if got.CreatedAt != now.UTC() || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt: got %#v, want %#v", got.CreatedAt, now.UTC())
	}
}

func TestChangeDocRefuses(t *testing.T) {
	for name, edit := range map[string]func(*skyfence.PolicyChange){
		"unknown state":       func(c *skyfence.PolicyChange) { c.State = "limbo" },
		"no creation time":    func(c *skyfence.PolicyChange) { c.CreatedAt = time.Time{} },
		"time after 2262":     func(c *skyfence.PolicyChange) { c.EndedAt = time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC) },
		"review before 1678":  func(c *skyfence.PolicyChange) { c.Reviews[0].At = time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC) },
		"title not UTF-8":     func(c *skyfence.PolicyChange) { c.Title = "\xff" },
		"reference not UTF-8": func(c *skyfence.PolicyChange) { c.References = []string{"ok", "\xed\xa0\x80"} },
		"file name not UTF-8": func(c *skyfence.PolicyChange) { c.Files = []skyfence.PolicyFile{{Name: "\xc0"}} },
		"author not UTF-8":    func(c *skyfence.PolicyChange) { c.Author.Person = "\x80" },
		"review by not UTF-8": func(c *skyfence.PolicyChange) { c.Reviews[0].By.KeyID = "\xfe" },
	} {
		c := &skyfence.PolicyChange{ID: "chg-1", State: skyfence.ChangeDraft, CreatedAt: time.Unix(0, 0),
			Reviews: []skyfence.Review{{At: time.Unix(1, 0)}}}
		edit(c)
		if _, err := encodeChange(c, 0); skyfence.ErrorCode(err) != skyfence.EINVALID {
			t.Errorf("encodeChange(%s): %v, want code %q", name, err, skyfence.EINVALID)
		}
	}
}
