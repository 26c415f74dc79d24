package policy

import (
	"reflect"
	"strings"
)

// This file finds where two compiled policies decide alike, so that Impact
// decides there once: most changes touch a few regions, and most of a
// fleet is elsewhere.

// sameRegions says where two snapshots that share an atlas decide every
// terminal alike: where the position's country and zones are compiled
// alike in both, and so is everything that applies everywhere (the rules
// for "*", the plans, air_above_m). Alike means equal in every field but
// positions in the policy file, so it errs only towards deciding twice.
type sameRegions struct {
	global  bool
	country []bool // by atlas index; international last
	// zones give each set of zones of either snapshot a class: sets of
	// the same zones, in the same order, each compiled alike in both, have
	// the same class; a set with a zone that differs has -1.
	zones [2][]int32
}

func newSameRegions(old, new *Snapshot) *sameRegions {
	sr := &sameRegions{}
	if old.atlas != new.atlas {
		return sr
	}
	sr.global = alike(old.everywhere, new.everywhere) && alike(old.plans, new.plans) && old.airAboveM == new.airAboveM
	sr.country = make([]bool, len(old.countries)+1)
	for i := range old.countries {
		sr.country[i] = alike(old.countries[i], new.countries[i])
	}
	sr.country[len(old.countries)] = alike(old.international, new.international)
	classes := map[string]int32{}
	for k, s := range [2]*Snapshot{old, new} {
		sr.zones[k] = make([]int32, len(s.zoneRegions))
		for id, rs := range s.zoneRegions {
			names := make([]string, len(rs))
			class := int32(0)
			for i, r := range rs {
				names[i] = r.name
				if !alike(old.byName[r.name], new.byName[r.name]) {
					class = -1
				}
			}
			if class == 0 {
				key := strings.Join(names, "\x00")
				if class, _ = classes[key]; class == 0 {
					class = int32(len(classes) + 1)
					classes[key] = class
				}
			}
			sr.zones[k][id] = class
		}
	}
	return sr
}

// alike reports whether a terminal at a position decided under lo and
// under ln would be decided alike: see sameRegions.
func (sr *sameRegions) alike(ci int, lo, ln *Location) bool {
	if !sr.global || !sr.country[ci] {
		return false
	}
	c := sr.zones[0][lo.Zones]
	return c > 0 && c == sr.zones[1][ln.Zones]
}

var posType = reflect.TypeFor[Pos]()

// alike reports whether two values of compiled policy are equal in every
// field but those of type Pos, following pointers. Kinds a policy does not
// hold (functions, channels, interfaces) are never alike; neither is NaN.
func alike[T any](a, b T) bool {
	return alikeValues(reflect.ValueOf(a), reflect.ValueOf(b))
}

func alikeValues(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() || a.IsValid() && a.Type() != b.Type() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return a.Pointer() == b.Pointer() || alikeValues(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).Type != posType && !alikeValues(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Map:
		// Nil and empty differ: a rule's allowed plans may be empty.
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Kind() == reflect.Map {
			for it := a.MapRange(); it.Next(); {
				if !alikeValues(it.Value(), b.MapIndex(it.Key())) {
					return false
				}
			}
			return true
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !alikeValues(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	}
	return false
}
