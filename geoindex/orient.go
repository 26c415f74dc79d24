package geoindex

import (
	"math"
	"math/big"
)

// orientErrBound is Shewchuk's ccwerrboundA for orient2d: when
// |det| > orientErrBound*(|l|+|r|) the floating-point sign of det = l - r is
// the sign of the exact value.
const orientErrBound = (3.0 + 16.0*0x1p-53) * 0x1p-53

// orient returns the sign of the cross product (b-a)×(p-a): +1 if p lies to
// the left of the directed line a->b, -1 if to the right, 0 if on it. The sign
// is exact for all finite inputs.
func orient(ax, ay, bx, by, px, py float64) int {
	l := (bx - ax) * (py - ay)
	r := (by - ay) * (px - ax)
	det := l - r
	if bound := orientErrBound * (math.Abs(l) + math.Abs(r)); det > bound {
		return 1
	} else if det < -bound {
		return -1
	}
	return orientExact(ax, ay, bx, by, px, py)
}

// orientExact evaluates the sign of (bx-ax)(py-ay) - (by-ay)(px-ax) without
// rounding. Differences are split into two exact float64 terms, products into
// two more with FMA, and the sixteen terms are summed into a nonoverlapping
// expansion whose most significant term carries the sign. Values so small
// that an error term could underflow go to math/big instead.
func orientExact(ax, ay, bx, by, px, py float64) int {
	var d [4][2]float64
	d[0][0], d[0][1] = twoDiff(bx, ax)
	d[1][0], d[1][1] = twoDiff(py, ay)
	d[2][0], d[2][1] = twoDiff(by, ay)
	d[3][0], d[3][1] = twoDiff(px, ax)
	for _, t := range d {
		for _, v := range t {
			if v != 0 && math.Abs(v) < 0x1p-480 {
				return orientBig(ax, ay, bx, by, px, py)
			}
		}
	}
	var terms [16]float64
	n := 0
	for _, u := range d[0] {
		for _, v := range d[1] {
			hi, lo := twoProduct(u, v)
			terms[n], terms[n+1] = hi, lo
			n += 2
		}
	}
	for _, u := range d[2] {
		for _, v := range d[3] {
			hi, lo := twoProduct(u, v)
			terms[n], terms[n+1] = -hi, -lo
			n += 2
		}
	}
	// Grow an expansion one term at a time (Shewchuk, "Adaptive Precision
	// Floating-Point Arithmetic", Grow-Expansion); its components stay
	// nonoverlapping and increasing in magnitude, so the last nonzero one
	// has the sign of the sum.
	var e [17]float64
	m := 0
	for _, t := range terms[:n] {
		q := t
		k := 0
		for i := 0; i < m; i++ {
			s, err := twoSum(q, e[i])
			if err != 0 {
				e[k] = err
				k++
			}
			q = s
		}
		e[k] = q
		m = k + 1
	}
	for i := m - 1; i >= 0; i-- {
		if e[i] > 0 {
			return 1
		} else if e[i] < 0 {
			return -1
		}
	}
	return 0
}

func orientBig(ax, ay, bx, by, px, py float64) int {
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	dx1 := new(big.Rat).Sub(r(bx), r(ax))
	dy1 := new(big.Rat).Sub(r(py), r(ay))
	dy2 := new(big.Rat).Sub(r(by), r(ay))
	dx2 := new(big.Rat).Sub(r(px), r(ax))
	return new(big.Rat).Sub(dx1.Mul(dx1, dy1), dy2.Mul(dy2, dx2)).Sign()
}

func twoSum(a, b float64) (s, err float64) {
	s = a + b
	bv := s - a
	av := s - bv
	return s, (a - av) + (b - bv)
}

func twoDiff(a, b float64) (d, err float64) {
	d = a - b
	bv := a - d
	av := d + bv
	return d, (a - av) + (bv - b)
}

func twoProduct(a, b float64) (p, err float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}
