package tcpstate

// maxHoles bounds the holes a coverage tracker remembers below its highest
// byte. When a new hole would exceed the bound the oldest is forgotten, so
// bytes that later fill it are not counted as unique: the count errs low,
// never high.
const maxHoles = 32

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
}

// below returns how many bytes of g lie below the highest byte covered
// so far: bytes sent before, or filling a hole.
func (c *coverage) below(g Range) Size {
	if !c.started {
		return 0
	}
	return g.Before(c.end).Len()
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
	var fresh uint64
	below := g.End // the part of the range at or below the old end
	if c.end.LessThan(g.End) {
		if c.end.LessThan(g.First) {
			c.push(Range{c.end, g.First})
			fresh += uint64(n)
			below = g.First
		} else {
			fresh += uint64(c.end.Size(g.End))
			below = c.end
		}
		c.end = g.End
	}
	if g.First.LessThan(below) {
		fresh += c.fill(g.Before(below))
	}
	c.unique += fresh
	return fresh
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

// fill removes g from the holes and returns the bytes removed. A
// contiguous range splits at most one hole in two, so the result fits in
// maxHoles+1 entries before trimming.
func (c *coverage) fill(g Range) uint64 {
	var filled uint64
	var out [maxHoles + 1]Range
	k := 0
	for _, h := range c.holes[:c.n] {
		x := h.Intersect(g)
		if x.Empty() {
			out[k] = h
			k++
			continue
		}
		filled += uint64(x.Len())
		if h.First.LessThan(x.First) {
			out[k] = Range{h.First, x.First}
			k++
		}
		if x.End.LessThan(h.End) {
			out[k] = Range{x.End, h.End}
			k++
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
