package sqlstore

// The stored form of a skyfence.PolicyChange, the same bytes in both
// stores: the JSON of the change (json.Marshal) with its times in UTC.
//
// A change read back equals the one written with its times in UTC (the
// location UTC, no monotonic clock reading) and its empty References,
// Reviews and Impact nil, as json's omitempty drops them. encodeChange
// refuses with EINVALID a change that would not come back so: a text that
// is not valid UTF-8 (json.Marshal would replace its bad bytes) or a time
// that the stores cannot hold.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/skyfence/skyfence"
)

// checkChangeState returns EINVALID unless s is one of skyfence.ChangeStates
// (which the stores' schemas list too).
func checkChangeState(s skyfence.ChangeState) error {
	if !s.Valid() {
		return skyfence.Errorf(skyfence.EINVALID, "unknown change state %q", s)
	}
	return nil
}

// normalizeChange returns a copy of c as a store returns it: times in UTC
// (which drops the monotonic clock reading too) and empty References,
// Reviews and Impact nil. c is not changed.
func normalizeChange(c *skyfence.PolicyChange) *skyfence.PolicyChange {
	n := *c
	for _, t := range []*time.Time{&n.NotBefore, &n.Expires, &n.ReviewBy, &n.CreatedAt, &n.ProposedAt, &n.ActivatedAt, &n.EndedAt} {
		*t = utc(*t)
	}
	if len(n.References) == 0 {
		n.References = nil
	}
	if len(n.Impact) == 0 {
		n.Impact = nil
	}
	if len(n.Reviews) == 0 {
		n.Reviews = nil
	} else {
		n.Reviews = slices.Clone(n.Reviews)
		for i := range n.Reviews {
			n.Reviews[i].At = utc(n.Reviews[i].At)
		}
	}
	return &n
}

// utc returns t in UTC, leaving the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// encodeChange returns the document to store for c at the revision: the JSON of
// normalizeChange(c) with Revision set to revision. EINVALID for an unknown
// state, a zero CreatedAt (changes are ordered by it), a time outside the
// years 1678 to 2262, or a change that would not read back equal.
func encodeChange(c *skyfence.PolicyChange, revision int64) ([]byte, error) {
	if !c.State.Valid() {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "state", "change %q: unknown state %q", c.ID, c.State)
	}
	if c.CreatedAt.IsZero() {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "created_at", "change %q has no creation time", c.ID)
	}
	times := []time.Time{c.NotBefore, c.Expires, c.ReviewBy, c.CreatedAt, c.ProposedAt, c.ActivatedAt, c.EndedAt}
	for _, r := range c.Reviews {
		times = append(times, r.At)
	}
	for _, t := range times {
		if !TimeFits(t) {
			return nil, skyfence.Errorf(skyfence.EINVALID, "change %q: time %s is out of range (years 1678 to 2262)",
				c.ID, t.UTC().Format(time.RFC3339Nano))
		}
	}
	n := normalizeChange(c)
	n.Revision = revision
	b, err := json.Marshal(n)
	if err != nil {
		return nil, skyfence.Errorf(skyfence.EINVALID, "change %q cannot be encoded: %v", c.ID, err)
	}
	back, err := decodeChange(b)
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(back, n) {
		return nil, skyfence.Errorf(skyfence.EINVALID, "change %q would not read back as written: a text in it is not valid UTF-8", c.ID)
	}
	return b, nil
}

// decodeChange returns the change a document holds. Fields it does not know are
// ignored: a document written by a newer build still reads.
func decodeChange(b []byte) (*skyfence.PolicyChange, error) {
	var c skyfence.PolicyChange
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("policy change document: %w", err)
	}
	return &c, nil
}
