package census

// binCounts is one interval's traffic per direction.
type binCounts [numDirs]Count

// Count is a number of packets and of their frame bytes.
type Count struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

func (c *Count) add(n int) {
	c.Packets++
	c.Bytes += uint64(n)
}

func (c *Count) plus(o Count) {
	c.Packets += o.Packets
	c.Bytes += o.Bytes
}

// bins holds per-direction traffic in intervals of width base<<shift
// microseconds (times in microseconds reach the years 1 to 9999 that flow
// accepts; nanoseconds would not), aligned to multiples of the width since the Unix epoch,
// contiguous from the first interval with traffic to the last. When a
// packet would need more than max bins the width doubles (shift grows) and
// pairs of bins merge, as often as needed.
//
// Because the intervals are aligned to the epoch, not to the first packet,
// the bins after any set of packets depend on the set only: the width is
// the smallest base<<shift whose bins span the packets' times in at most
// max intervals, whatever their order. That is what lets shards bin their
// own packets and merge (mergeBins) to what one pass would have built.
type bins struct {
	base  int64 // interval in microseconds, at least 1
	shift uint
	max   int
	first int64 // index of b[0] in units of the width
	b     []binCounts
}

func newBins(base int64, maxBins int) bins {
	return bins{base: max(base, 1), max: max(maxBins, 2)}
}

func (s *bins) width() int64 { return s.base << s.shift }

// floorDiv is a/b rounded toward minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// add counts a packet of n bytes in direction d at time t (unix µs). The
// width stays below twice the span of the times seen (at most 2^59 µs for
// the years 1 to 9999), so it never overflows.
func (s *bins) add(t int64, d Dir, n int) {
	i := s.index(t)
	if len(s.b) == 0 {
		s.first = i
		s.b = append(s.b, binCounts{})
	}
	for !s.fits(min(i, s.first), max(i, s.last())) {
		s.coarsen()
		i = s.index(t)
	}
	s.extend(i)
	s.b[i-s.first][d].add(n)
}

func (s *bins) index(t int64) int64 { return floorDiv(t, s.width()) }

func (s *bins) last() int64 { return s.first + int64(len(s.b)) - 1 }

// fits reports whether bins lo..hi (at the current width) fit in max.
func (s *bins) fits(lo, hi int64) bool { return hi-lo < int64(s.max) && hi-lo >= 0 }

// extend makes room for bin i, which must fit with the bins held.
func (s *bins) extend(i int64) {
	if i < s.first {
		n := int(s.first - i)
		s.b = append(make([]binCounts, n, n+len(s.b)), s.b...)
		s.first = i
		return
	}
	for i > s.last() {
		s.b = append(s.b, binCounts{})
	}
}

// coarsen doubles the width: bin j of the new width holds old bins 2j and
// 2j+1 (floor(floor(t/w)/2) = floor(t/2w)).
func (s *bins) coarsen() {
	s.shift++
	if len(s.b) == 0 {
		return
	}
	nf := floorDiv(s.first, 2)
	nl := floorDiv(s.last(), 2)
	nb := make([]binCounts, nl-nf+1)
	for j, b := range s.b {
		k := floorDiv(s.first+int64(j), 2) - nf
		for d := range b {
			nb[k][d].plus(b[d])
		}
	}
	s.first, s.b = nf, nb
}

// mergeBins adds the bins of o into s (both of the same base and max).
func (s *bins) merge(o *bins) {
	if len(o.b) == 0 {
		return
	}
	o2 := *o
	o2.b = append([]binCounts(nil), o.b...)
	for o2.shift < s.shift {
		o2.coarsen()
	}
	for s.shift < o2.shift {
		s.coarsen()
	}
	if len(s.b) == 0 {
		s.first, s.b = o2.first, o2.b
		return
	}
	for !s.fits(min(s.first, o2.first), max(s.last(), o2.last())) {
		s.coarsen()
		o2.coarsen()
	}
	s.extend(o2.first)
	s.extend(o2.last())
	for j, b := range o2.b {
		k := o2.first + int64(j) - s.first
		for d := range b {
			s.b[k][d].plus(b[d])
		}
	}
}
