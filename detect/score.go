package detect

import (
	"math"
	"slices"
	"time"
)

// Label says that a terminal is a bad actor: what it does (a free name,
// such as the simulator's behaviours "smuggled", "drone", "spoof-jump",
// "spoof-clone") and when it began.
type Label struct {
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
}

// Scores is how well the detectors did against labels: precision per
// detector, and recall per detector and kind of bad actor.
type Scores struct {
	// Kinds are the kinds of the labels, sorted; every KindScore list
	// follows this order.
	Kinds []string `json:"kinds"`
	// Detectors holds one row per detector, in Detector order, and All
	// the row of any detector at all.
	Detectors []DetectorScore `json:"detectors"`
	All       DetectorScore   `json:"all"`
}

// DetectorScore is one detector's row (or "all"). A terminal counts once
// however many alerts it has.
type DetectorScore struct {
	Name string `json:"name"` // the detector's, or "all"
	// Flagged terminals have an alert of the detector. TruePositives of
	// them are labelled (of any kind: a detector catching a bad actor of
	// another kind is right) with an alert last seen at or after their
	// label's Start; the others are false positives, including bad actors
	// flagged only before they began.
	Flagged       int     `json:"flagged"`
	TruePositives int     `json:"true_positives"`
	Precision     float64 `json:"precision"` // TruePositives / Flagged; 0 if none flagged
	// Kinds is the recall of the detector for each kind of Scores.Kinds.
	Kinds []KindScore `json:"kinds"`
}

// KindScore is a detector's recall for one kind of bad actor.
type KindScore struct {
	Kind     string  `json:"kind"`
	Labelled int     `json:"labelled"` // terminals labelled with the kind
	Caught   int     `json:"caught"`   // of those, true positives of the detector
	Recall   float64 `json:"recall"`   // Caught / Labelled
	// The delay of a caught terminal is the time from its Start to the
	// first seen of its earliest alert last seen at or after Start (0 if
	// that alert opened before Start). MeanDelay is their mean, and
	// DelayP50, DelayP95 and DelayMax their median, 95th percentile
	// (nearest rank: the smallest delay at least 95 % of the caught are
	// within) and largest; all 0 if none was caught.
	MeanDelay time.Duration `json:"mean_delay"`
	DelayP50  time.Duration `json:"delay_p50"`
	DelayP95  time.Duration `json:"delay_p95"`
	DelayMax  time.Duration `json:"delay_max"`
}

// Score measures alerts against labels {terminal id -> label}, which name
// the bad actors only: a terminal without a label is honest. Repeated
// emissions of an alert, and several alerts of a terminal, count once. An
// alert that an incident explains (Alert.Explained) flags nothing: pass
// the last emission of each alert, so that one explained after it opened
// counts as its last emission says.
func Score(alerts []Alert, labels map[string]Label) Scores {
	var out Scores
	labelled := map[string]int{}
	for _, l := range labels {
		if labelled[l.Kind] == 0 {
			out.Kinds = append(out.Kinds, l.Kind)
		}
		labelled[l.Kind]++
	}
	slices.Sort(out.Kinds)

	// For each row (a detector, or all of them at index numDetectors), the
	// terminals flagged, and for true positives the earliest delay.
	type hit struct {
		good  bool
		delay time.Duration
	}
	var rows [numDetectors + 1]map[string]hit
	for i := range rows {
		rows[i] = map[string]hit{}
	}
	for i := range alerts {
		a := &alerts[i]
		if a.Detector >= numDetectors || a.Explained {
			continue
		}
		var h hit
		if l, ok := labels[a.TerminalID]; ok && !a.LastSeen.Before(l.Start) {
			h = hit{true, max(0, a.FirstSeen.Sub(l.Start))}
		}
		for _, r := range []int{int(a.Detector), int(numDetectors)} {
			old, seen := rows[r][a.TerminalID]
			if seen && (!h.good || old.good && old.delay <= h.delay) {
				continue
			}
			rows[r][a.TerminalID] = h
		}
	}
	row := func(name string, hits map[string]hit) DetectorScore {
		r := DetectorScore{Name: name, Flagged: len(hits)}
		delays := map[string][]time.Duration{}
		for id, h := range hits {
			if h.good {
				r.TruePositives++
				k := labels[id].Kind
				delays[k] = append(delays[k], h.delay)
			}
		}
		r.Precision = ratio(r.TruePositives, r.Flagged)
		for _, k := range out.Kinds {
			ds := delays[k]
			ks := KindScore{Kind: k, Labelled: labelled[k], Caught: len(ds), Recall: ratio(len(ds), labelled[k])}
			if len(ds) > 0 {
				slices.Sort(ds)
				var sum time.Duration
				for _, d := range ds {
					sum += d
				}
				ks.MeanDelay = sum / time.Duration(len(ds))
				ks.DelayP50, ks.DelayP95, ks.DelayMax = rank(ds, 0.50), rank(ds, 0.95), ds[len(ds)-1]
			}
			r.Kinds = append(r.Kinds, ks)
		}
		return r
	}
	for d := Detector(0); d < numDetectors; d++ {
		out.Detectors = append(out.Detectors, row(d.String(), rows[d]))
	}
	out.All = row("all", rows[numDetectors])
	return out
}

// rank returns the q-quantile of sorted by the nearest-rank method: the
// smallest value at least a share q of the values are at or below.
func rank(sorted []time.Duration, q float64) time.Duration {
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, k)]
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
