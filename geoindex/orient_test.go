package geoindex

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestOrientMatchesExactArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Near-collinear triples: p on the segment ab, nudged by a few ulps.
	for i := 0; i < 200000; i++ {
		ax, ay := rng.Float64()*360-180, rng.Float64()*180-90
		bx, by := rng.Float64()*360-180, rng.Float64()*180-90
		s := rng.Float64()
		px, py := ax+s*(bx-ax), ay+s*(by-ay)
		for k := rng.IntN(3); k > 0; k-- {
			px = math.Nextafter(px, math.Inf(rng.IntN(2)*2-1))
		}
		got := orient(ax, ay, bx, by, px, py)
		want := orientBig(ax, ay, bx, by, px, py)
		if got != want {
			t.Fatalf("orient(%v,%v, %v,%v, %v,%v) = %d, want %d", ax, ay, bx, by, px, py, got, want)
		}
	}
}

func TestOrientExactCases(t *testing.T) {
	tests := []struct {
		name                   string
		ax, ay, bx, by, px, py float64
		want                   int
	}{
		{"left", 0, 0, 1, 0, 0.5, 1, 1},
		{"right", 0, 0, 1, 0, 0.5, -1, -1},
		{"on segment", 0, 0, 2, 2, 1, 1, 0},
		{"on extension", 0, 0, 2, 2, 3, 3, 0},
		{"degenerate edge", 1, 1, 1, 1, 5, 7, 0},
		{"0.1 steps are not collinear in binary", 0.1, 0.1, 0.3, 0.3, 0.2, 0.2, orientBig(0.1, 0.1, 0.3, 0.3, 0.2, 0.2)},
		{"tiny values", 1e-300, 1e-300, 2e-300, 2e-300, 3e-300, 3e-300, 0},
		{"subnormal offset", 0, 0, 1, 1, 0.5, 0.5 + 5e-324, orientBig(0, 0, 1, 1, 0.5, 0.5+5e-324)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := orient(tc.ax, tc.ay, tc.bx, tc.by, tc.px, tc.py); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
