package tcpstate

// maxHoles bounds the holes a coverage tracker remembers below its highest
// byte. When a new hole would exceed the bound the oldest is forgotten, so
// bytes that later fill it are not counted as unique: the count errs low,
// never high.
const maxHoles = 32

// maxSpan bounds the sequence space a coverage tracker holds below its
// highest byte: no receive window is larger (RFC 7323 section 2.3). Within
// that span serial-number comparisons are a true order, so holes further
// below are dropped (still counted as never filled). A segment starting
// more than maxSpan away from the highest byte, either way, belongs to no
// stream the tracker can place (an impossible jump, or bytes below a
// dropped hole): its bytes count as new, and it is not tracked, so a
// repeat of it counts again (the count can then err high, by at most such
// segments' payload).
const maxSpan = 1 << 30

// coverage counts the distinct bytes of sequence space covered by a
// direction's segments, so that retransmitted bytes are not counted twice.
// It keeps one past the highest byte seen and the holes below it, oldest
// first, in fixed storage (no allocation).
type coverage struct {
	started bool
	end     Seq
	n       int
	holes   [maxHoles + 1]Range
	unique  uint64
	// forgotten counts the holes dropped for lying more than maxSpan
	// below the highest byte, never filled.
	forgotten uint64
}

// below returns how many bytes of g lie below the highest byte covered
// so far: bytes sent before, or filling a hole (none for a segment out of
// the span).
func (c *coverage) below(g Range) Size {
	if !c.started || c.outOfSpan(g) {
		return 0
	}
	return g.Before(c.end).Len()
}

// outOfSpan reports whether g starts more than maxSpan away from the
// highest byte.
func (c *coverage) outOfSpan(g Range) bool {
	d := g.First.Diff(c.end)
	return d > maxSpan || d < -maxSpan
}

// add records the range g and returns how many of its bytes were not
// covered before.
func (c *coverage) add(g Range) uint64 {
	n := g.Len()
	if n == 0 {
		return 0
	}
	if !c.started {
		c.started = true
		c.end = g.End
		c.unique += uint64(n)
		return uint64(n)
	}
	if c.outOfSpan(g) {
		c.unique += uint64(n)
		return uint64(n)
	}
	var fresh uint64
	below := g // the part of the range at or below the old end
	if c.end.LessThan(g.End) {
		if c.end.LessThan(g.First) {
			c.push(Range{c.end, g.First})
			fresh += uint64(n)
			below = Range{g.First, g.First}
		} else {
			fresh += uint64(c.end.Size(g.End))
			below = g.Before(c.end)
		}
		c.end = g.End
		c.trim()
	}
	if part := c.inSpan(below); !part.Empty() {
		fresh += c.fill(part)
	}
	c.unique += fresh
	return fresh
}

// inSpan returns the part of g within maxSpan below the highest byte:
// [end-maxSpan, end), empty when g lies wholly outside it.
func (c *coverage) inSpan(g Range) Range {
	floor := c.end.Sub(maxSpan)
	first, end := floor.Size(g.First), floor.Size(g.End)
	if end > maxSpan || end == 0 {
		return Range{floor, floor} // g ends outside the span (or at its start)
	}
	if first > end {
		first = 0 // g starts below the span
	}
	return Range{floor.Add(first), floor.Add(end)}
}

// trim drops the holes wholly more than maxSpan below the highest byte,
// counting them forgotten, and cuts the one across that bound.
func (c *coverage) trim() {
	k := 0
	for _, h := range c.holes[:c.n] {
		if h = c.inSpan(h); h.Empty() {
			c.forgotten++
			continue
		}
		c.holes[k] = h
		k++
	}
	c.n = k
}

// push appends a hole, forgetting the oldest when full.
func (c *coverage) push(h Range) {
	if c.n == maxHoles {
		copy(c.holes[:], c.holes[1:c.n])
		c.n--
	}
	c.holes[c.n] = h
	c.n++
}

// fill removes g from the holes and returns the bytes removed. Within
// maxSpan the holes are disjoint and ordered, so a contiguous range
// splits at most one hole in two and the result fits in maxHoles+1
// entries before trimming; a piece that would not fit is forgotten (the
// count errs low).
func (c *coverage) fill(g Range) uint64 {
	var filled uint64
	var out [maxHoles + 1]Range
	k := 0
	keep := func(h Range) {
		if k < len(out) {
			out[k] = h
			k++
		}
	}
	for _, h := range c.holes[:c.n] {
		x := h.Intersect(g)
		if x.Empty() {
			keep(h)
			continue
		}
		filled += uint64(x.Len())
		if h.First.LessThan(x.First) {
			keep(Range{h.First, x.First})
		}
		if x.End.LessThan(h.End) {
			keep(Range{x.End, h.End})
		}
	}
	if k > maxHoles {
		copy(out[:], out[1:k])
		k--
	}
	c.holes = out
	c.n = k
	return filled
}

// lostHoles returns the holes never filled: those held and those
// forgotten for lying too far below the highest byte.
func (c *coverage) lostHoles() uint64 { return uint64(c.n) + c.forgotten }
