package series

import "time"

// MinAcc keeps the smallest RTT per interval of a grid that covers every
// sample added, in bounded memory: when the samples would need more than
// its maximum number of intervals, the width doubles and pairs of
// intervals merge, so a capture of days fits as well as one of seconds.
// The intervals are aligned on multiples of the width since the Unix
// epoch, so two accumulators of the same initial width merge exactly
// (Merge), whatever the order their samples came in. The zero value is
// not usable: see NewMinAcc.
type MinAcc struct {
	width   time.Duration
	maxBins int
	first   int64 // index of interval 0, in widths since the epoch
	min     []time.Duration
}

// NewMinAcc returns an accumulator of intervals of the given width (at
// least 1 ms) that keeps at most maxBins of them (at least 2).
func NewMinAcc(width time.Duration, maxBins int) *MinAcc {
	return &MinAcc{width: max(width, time.Millisecond), maxBins: max(maxBins, 2)}
}

// Add keeps rtt if it is the smallest of its interval. A rtt that is not
// positive, or a time beyond the years 1678 to 2262, is ignored.
func (m *MinAcc) Add(t time.Time, rtt time.Duration) {
	at, ok := epochOffset(t)
	if rtt <= 0 || !ok {
		return
	}
	i := floorDiv(int64(at), int64(m.width))
	m.cover(i, i)
	j := floorDiv(int64(at), int64(m.width)) - m.first
	if v := m.min[j]; v == 0 || rtt < v {
		m.min[j] = rtt
	}
}

// cover makes the intervals reach from index lo to hi (in the current
// width), widening as needed; lo and hi are rescaled as it widens.
func (m *MinAcc) cover(lo, hi int64) {
	if len(m.min) == 0 {
		m.first = lo
		m.min = make([]time.Duration, 1, 16)
	}
	for {
		from, to := min(lo, m.first), max(hi, m.first+int64(len(m.min))-1)
		if to-from < int64(m.maxBins) {
			if from < m.first {
				m.min = append(make([]time.Duration, m.first-from, int64(len(m.min))+m.first-from), m.min...)
				m.first = from
			}
			for int64(len(m.min)) <= to-m.first {
				m.min = append(m.min, 0)
			}
			return
		}
		m.widen()
		lo, hi = floorDiv(lo, 2), floorDiv(hi, 2)
	}
}

// widen doubles the width, merging intervals 2k and 2k+1 (since the
// epoch) into k.
func (m *MinAcc) widen() {
	first := floorDiv(m.first, 2)
	last := floorDiv(m.first+int64(len(m.min))-1, 2)
	out := make([]time.Duration, last-first+1)
	for j, v := range m.min {
		k := floorDiv(m.first+int64(j), 2) - first
		if v > 0 && (out[k] == 0 || v < out[k]) {
			out[k] = v
		}
	}
	m.min, m.first, m.width = out, first, m.width*2
}

// Merge adds o's minima into m. Both must have been made with the same
// initial width and maximum; the result is what one accumulator fed both
// sets of samples would hold.
func (m *MinAcc) Merge(o *MinAcc) {
	if o == nil || len(o.min) == 0 {
		return
	}
	o2 := *o
	o2.min = append([]time.Duration(nil), o.min...)
	for o2.width < m.width {
		o2.widen()
	}
	for m.width < o2.width {
		m.widen()
		if len(m.min) == 0 {
			m.width = o2.width
		}
	}
	lo, hi := o2.first, o2.first+int64(len(o2.min))-1
	m.cover(lo, hi)
	for m.width > o2.width { // m widened to cover o's span
		o2.widen()
	}
	for j, v := range o2.min {
		k := o2.first + int64(j) - m.first
		if v > 0 && (m.min[k] == 0 || v < m.min[k]) {
			m.min[k] = v
		}
	}
}

// MinRTT returns the minima on their grid (empty when no sample was
// added): interval i starts at the Unix epoch plus (first+i) widths.
func (m *MinAcc) MinRTT() MinRTT {
	if len(m.min) == 0 {
		return MinRTT{Width: m.width}
	}
	return MinRTT{Start: time.Unix(0, m.first*int64(m.width)).UTC(), Width: m.width,
		Min: append([]time.Duration(nil), m.min...)}
}

// floorDiv returns ⌊a/b⌋ for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
