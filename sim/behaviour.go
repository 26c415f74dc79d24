package sim

import (
	"fmt"
	"strings"
)

// Behaviour is how a simulated terminal moves and reports. The package doc
// describes each profile.
type Behaviour uint8

// Behaviours. The first six are honest; the next four are bad actors, whose
// labels carry the time their bad behaviour starts. The last five are the
// confounders (ConfounderMix): two honest (train, crowd) and three bad
// actors that adapt to the detectors (drone-low, smuggled-rare,
// spoof-track).
const (
	Residential Behaviour = iota
	Roamer
	Ship
	Airliner
	Vehicle
	Sponsored
	Smuggled
	Drone
	SpoofJump
	SpoofClone
	Train
	Crowd
	DroneLow
	SmuggledRare
	SpoofTrack
	numBehaviours
)

// NumBehaviours is how many behaviours there are; they run from 0 to
// NumBehaviours-1.
const NumBehaviours = int(numBehaviours)

var behaviourNames = [...]string{"residential", "roamer", "ship", "airliner", "vehicle", "sponsored",
	"smuggled", "drone", "spoof-jump", "spoof-clone", "train", "crowd", "drone-low", "smuggled-rare", "spoof-track"}

// behaviourPlans is the plan each behaviour's terminals are registered on.
var behaviourPlans = [...]string{"residential", "roam", "maritime", "aviation", "roam", "sponsored",
	"roam", "roam", "roam", "roam", "roam", "residential", "roam", "roam", "roam"}

// badBehaviours marks the bad actors' behaviours.
var badBehaviours = [numBehaviours]bool{Smuggled: true, Drone: true, SpoofJump: true, SpoofClone: true,
	DroneLow: true, SmuggledRare: true, SpoofTrack: true}

func (b Behaviour) String() string {
	if int(b) < len(behaviourNames) {
		return behaviourNames[b]
	}
	return fmt.Sprintf("Behaviour(%d)", uint8(b))
}

// Bad reports whether the behaviour is a bad actor's.
func (b Behaviour) Bad() bool { return b < numBehaviours && badBehaviours[b] }

// Plan returns the plan of the scenario policy the behaviour's terminals
// are on.
func (b Behaviour) Plan() string { return behaviourPlans[b] }

// ParseBehaviour parses the String form of a behaviour.
func ParseBehaviour(s string) (Behaviour, error) {
	for i, n := range behaviourNames {
		if n == s {
			return Behaviour(i), nil
		}
	}
	return 0, fmt.Errorf("sim: unknown behaviour %q (want one of %s)", s, strings.Join(behaviourNames[:], ", "))
}

// Mix is the share of the fleet given each behaviour, by Behaviour; the
// shares need not add up to 1 (they are normalised).
type Mix [NumBehaviours]float64

// DefaultMix is the fleet of the scenario: mostly fixed terminals, a
// quarter on the move, and 4 % bad actors.
var DefaultMix = Mix{
	Residential: 0.53,
	Roamer:      0.08,
	Ship:        0.04,
	Airliner:    0.04,
	Vehicle:     0.15,
	Sponsored:   0.12,
	Smuggled:    0.015,
	Drone:       0.01,
	SpoofJump:   0.0075,
	SpoofClone:  0.0075,
}

// ConfounderMix is DefaultMix with the confounders of the real world
// added: honest fast movers (trains) and crowded sites, and bad actors
// that adapt (low drones under the speed cap, smuggled terminals switched
// on rarely, spoofers faking a moving track). Config.Confounders uses it
// and adds GNSS interference events.
var ConfounderMix = Mix{
	Residential:  0.50,
	Roamer:       0.08,
	Ship:         0.04,
	Airliner:     0.04,
	Vehicle:      0.14,
	Sponsored:    0.10,
	Smuggled:     0.015,
	Drone:        0.01,
	SpoofJump:    0.0075,
	SpoofClone:   0.0075,
	Train:        0.02,
	Crowd:        0.03,
	DroneLow:     0.005,
	SmuggledRare: 0.005,
	SpoofTrack:   0.005,
}

// counts splits n terminals by the mix, rounding so that they add up to n:
// each behaviour gets the floor of its share, and the remainders go to the
// largest fractions (ties to the earlier behaviour).
func (m Mix) counts(n int) ([NumBehaviours]int, error) {
	var out [NumBehaviours]int
	sum := 0.0
	for b, w := range m {
		if w < 0 {
			return out, fmt.Errorf("sim: negative share %v for %s", w, Behaviour(b))
		}
		sum += w
	}
	if sum == 0 {
		return out, fmt.Errorf("sim: the mix is empty")
	}
	var frac [NumBehaviours]float64
	left := n
	for b, w := range m {
		x := w / sum * float64(n)
		out[b] = int(x)
		frac[b] = x - float64(out[b])
		left -= out[b]
	}
	for ; left > 0; left-- {
		best := 0
		for b := range frac {
			if frac[b] > frac[best] {
				best = b
			}
		}
		out[best]++
		frac[best] = -1
	}
	return out, nil
}
