package linkq

import (
	"math"
	"math/big"
	"math/bits"
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// Point is one RTT sample placed for a fit: the packet size in bytes (see
// SizeBasis) and the round-trip time.
type Point struct {
	Size int           `json:"size"`
	RTT  time.Duration `json:"rtt_ms"`
}

// MarshalJSON writes the point with its RTT in milliseconds.
func (p Point) MarshalJSON() ([]byte, error) { return units.MarshalJSON(p) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (p Point) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, p) }

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Point) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, p) }

// Points is a list of points, as PathFit.Points holds them. It implements
// gonum's plotter.XYer (x the size, y the RTT in milliseconds), which
// plot.EchoFit draws.
type Points []Point

// Len returns the number of points.
func (ps Points) Len() int { return len(ps) }

// XY returns point i's size in bytes and RTT in milliseconds.
func (ps Points) XY(i int) (size, rttMs float64) { return float64(ps[i].Size), units.Ms(ps[i].RTT) }

// Line is a straight line RTT = Intercept + Slope·size fitted to points,
// in the units of Meek et al.'s Table 1.
type Line struct {
	// N is the number of points the line was fitted to.
	N int `json:"n"`
	// OK is false when the points do not determine a line (fewer than
	// two distinct sizes); the other fields are then zero.
	OK bool `json:"ok"`
	// Intercept is the RTT at size 0: the fixed delay (propagation,
	// switching) of the path.
	Intercept time.Duration `json:"intercept_ms"`
	// SlopeUsPerByte is the RTT added per byte of packet, in
	// microseconds: the serialization delay of the round trip.
	SlopeUsPerByte float64 `json:"slope_us_per_byte"`
	// SlopeSPerBit is the same slope in seconds per bit. Its inverse is
	// the rate (bit/s) of a single link that would produce it in one
	// direction, halved: see EstimatedSlope.
	SlopeSPerBit float64 `json:"slope_s_per_bit"`
	// RMSResid is the root mean square of the residuals (divided by N): Meek
	// et al.'s single number for a link's consistency.
	RMSResid time.Duration `json:"rms_ms"`
	// MaxResid is the largest absolute residual.
	MaxResid time.Duration `json:"max_resid_ms"`
}

// MarshalJSON writes the line with its durations in milliseconds.
func (l Line) MarshalJSON() ([]byte, error) { return units.MarshalJSON(l) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (l Line) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, l) }

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Line) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, l) }

// At returns the line's RTT at size bytes.
func (l Line) At(size float64) time.Duration {
	return msDuration(units.Ms(l.Intercept) + l.SlopeUsPerByte/1000*size)
}

// msDuration returns ms milliseconds to the nearest nanosecond.
func msDuration(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// NamedLine is a fitted line with the name a figure's legend gives it.
type NamedLine struct {
	Name string
	Line Line
}

// NamedLines is a list of named lines. It implements plot.FitLiner.
type NamedLines []NamedLine

// Len returns the number of lines.
func (ls NamedLines) Len() int { return len(ls) }

// FitLine returns line i's name, intercept (ms), slope (µs per byte) and
// RMS residual (ms): the axes' units of plot.EchoFit.
func (ls NamedLines) FitLine(i int) (name string, interceptMs, slopeUsPerByte, rmsMs float64) {
	l := &ls[i]
	return l.Name, units.Ms(l.Line.Intercept), l.Line.SlopeUsPerByte, units.Ms(l.Line.RMSResid)
}

func makeLine(n int, aMs, bMsPerByte float64) Line {
	return Line{N: n, OK: true, Intercept: msDuration(aMs), SlopeUsPerByte: bMsPerByte * 1000, SlopeSPerBit: bMsPerByte / 1000 / 8}
}

// residuals fills RMSResid and MaxResid of l over pts, from the fitted
// intercept icptMs (l.Intercept is it rounded to the nanosecond).
func (l *Line) residuals(pts []Point, icptMs float64) {
	var ss, mx float64
	for _, p := range pts {
		r := units.Ms(p.RTT) - (icptMs + l.SlopeUsPerByte/1000*float64(p.Size))
		ss += r * r
		mx = max(mx, math.Abs(r))
	}
	if len(pts) > 0 {
		l.RMSResid = msDuration(math.Sqrt(ss / float64(len(pts))))
	}
	l.MaxResid = msDuration(mx)
}

// OLS fits a line to pts by ordinary least squares.
func OLS(pts []Point) Line {
	var acc olsAcc
	for _, p := range pts {
		acc.add(p.Size, p.RTT)
	}
	l, icpt := acc.line()
	if l.OK {
		l.residuals(pts, icpt)
	}
	return l
}

// olsAcc accumulates a least-squares fit in one pass without keeping the
// points: exact integer sums of the sizes (bytes) and RTTs (nanoseconds),
// of their squares and of their products. The fit thus does not depend on
// the order the samples came in, and the accumulators of the parts of a
// capture add up to the whole's (merge).
type olsAcc struct {
	n            int
	sx           uint64
	sy, sxx, sxy u128
	syy          u128
}

// u128 is an unsigned 128-bit sum.
type u128 struct{ hi, lo uint64 }

func (a *u128) add(v u128) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, v.lo, 0)
	a.hi, _ = bits.Add64(a.hi, v.hi, c)
}

func mul(a, b uint64) u128 {
	hi, lo := bits.Mul64(a, b)
	return u128{hi, lo}
}

func (a u128) int() *big.Int {
	v := new(big.Int).SetUint64(a.hi)
	return v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(a.lo))
}

// add takes one sample: a size in bytes and an RTT (negative values count
// as zero).
func (a *olsAcc) add(size int, rtt time.Duration) {
	x, y := uint64(max(size, 0)), uint64(max(rtt, 0))
	a.n++
	a.sx += x
	a.sy.add(u128{0, y})
	a.sxx.add(mul(x, x))
	a.sxy.add(mul(x, y))
	a.syy.add(mul(y, y))
}

// merge adds the samples of b.
func (a *olsAcc) merge(b *olsAcc) {
	a.n += b.n
	a.sx += b.sx
	a.sy.add(b.sy)
	a.sxx.add(b.sxx)
	a.sxy.add(b.sxy)
	a.syy.add(b.syy)
}

// line returns the fitted line with its RMS residual, and its intercept
// in milliseconds before rounding to the nanosecond; MaxResid is left
// zero. With n samples and the sums S, the co-moments times n are
// Cxx = n·Sxx − Sx², Cxy = n·Sxy − Sx·Sy, Cyy = n·Syy − Sy²; the slope is
// Cxy/Cxx, the intercept (Sy·Cxx − Sx·Cxy)/(n·Cxx) and the residual sum
// of squares (Cyy·Cxx − Cxy²)/(n·Cxx), all computed exactly.
func (a *olsAcc) line() (l Line, icptMs float64) {
	if a.n < 2 {
		return Line{N: a.n}, 0
	}
	n := big.NewInt(int64(a.n))
	sx, sy := new(big.Int).SetUint64(a.sx), a.sy.int()
	co := func(sab *big.Int, sa, sb *big.Int) *big.Int {
		v := new(big.Int).Mul(n, sab)
		return v.Sub(v, new(big.Int).Mul(sa, sb))
	}
	cxx, cxy, cyy := co(a.sxx.int(), sx, sx), co(a.sxy.int(), sx, sy), co(a.syy.int(), sy, sy)
	if cxx.Sign() <= 0 {
		return Line{N: a.n}, 0
	}
	ratio := func(num, den *big.Int) float64 {
		f, _ := new(big.Rat).SetFrac(num, den).Float64()
		return f
	}
	b := ratio(cxy, cxx) // ns per byte
	den := new(big.Int).Mul(n, cxx)
	icpt := ratio(new(big.Int).Sub(new(big.Int).Mul(sy, cxx), new(big.Int).Mul(sx, cxy)), den)
	sse := ratio(new(big.Int).Sub(new(big.Int).Mul(cyy, cxx), new(big.Int).Mul(cxy, cxy)), den) // ns²
	l = makeLine(a.n, icpt/1e6, b/1e6)
	l.RMSResid = msDuration(math.Sqrt(max(sse, 0)/float64(a.n)) / 1e6)
	return l, icpt / 1e6
}

// theilSenMax bounds the points Theil–Sen uses: it looks at every pair, so
// more points are thinned to this many by taking every k-th.
const theilSenMax = 600

// TheilSen fits a line resistant to outliers: the slope is the median of
// the slopes between all pairs of points of different sizes, the
// intercept the median of RTT - slope·size (Theil 1950, Sen 1968). Up to
// 29 % of the points can be arbitrarily wrong without moving it. Above 600
// points it uses an evenly spaced subset (every k-th point); the residuals
// are over all points.
func TheilSen(pts []Point) Line {
	use := pts
	if len(pts) > theilSenMax {
		k := (len(pts) + theilSenMax - 1) / theilSenMax
		use = make([]Point, 0, theilSenMax)
		for i := 0; i < len(pts); i += k {
			use = append(use, pts[i])
		}
	}
	slopes := make([]float64, 0, len(use)*(len(use)-1)/2)
	for i := range use {
		for j := i + 1; j < len(use); j++ {
			dx := float64(use[j].Size - use[i].Size)
			if dx != 0 {
				slopes = append(slopes, (units.Ms(use[j].RTT)-units.Ms(use[i].RTT))/dx)
			}
		}
	}
	if len(slopes) == 0 {
		return Line{N: len(pts)}
	}
	b := median(slopes)
	icpt := make([]float64, len(use))
	for i, p := range use {
		icpt[i] = units.Ms(p.RTT) - b*float64(p.Size)
	}
	a := median(icpt)
	l := makeLine(len(pts), a, b)
	l.residuals(pts, a)
	return l
}

// median sorts v and returns its median.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Bin is the smallest RTT seen among the samples whose size falls in
// [Lo, Hi): queueing only ever adds delay, so the minimum per size is the
// least disturbed estimate of the path's RTT at that size.
type Bin struct {
	Lo    int `json:"lo"`
	Hi    int `json:"hi"`
	Count int `json:"count"`
	// MinRTT is the smallest RTT in the bin and MinSize the size of the
	// sample that had it.
	MinRTT  time.Duration `json:"min_rtt_ms"`
	MinSize int           `json:"min_size"`
}

// MarshalJSON writes the bin with its RTT in milliseconds.
func (b Bin) MarshalJSON() ([]byte, error) { return units.MarshalJSON(b) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (b Bin) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, b) }

// UnmarshalJSON reads what MarshalJSON writes.
func (b *Bin) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, b) }

// EstimatedSlope returns the RTT slope (seconds per byte) that a path
// whose packets cross store-and-forward links of the given rates
// in each direction would show, links much faster than these neglected:
// an echo of S bytes is serialized once per link on the way out and once
// per link on the way back, so RTT(S) = fixed + 2·Σ 8·S/rate_i, and the
// slope is 2·Σ 8/rate_i. For Meek et al.'s case of a fast backbone between
// two access lines A and B that is 16·(1/rateA + 1/rateB); for a single
// bottleneck link of rate r (the lab's emulated WAN), 16/r. Rates that are
// not positive are ignored; with none it returns 0.
func EstimatedSlope(lineSpeeds []units.BitRate) float64 {
	var s float64
	for _, r := range lineSpeeds {
		if r > 0 && !math.IsInf(float64(r), 0) {
			s += 16 / float64(r)
		}
	}
	return s
}
