package tcpstate

// maxHoles bounds the holes a coverage tracker remembers below its highest
// byte. When a new hole would exceed the bound the oldest is forgotten, so
// bytes that later fill it are not counted as unique: the count errs low,
// never high.
const maxHoles = 32

type hole struct{ first, end Seq }

// coverage counts the distinct bytes of sequence space covered by a
// direction's segments, so that retransmitted bytes are not counted twice.
// It keeps one past the highest byte seen and the holes below it, oldest
// first, in fixed storage (no allocation).
type coverage struct {
	started bool
	end     Seq
	n       int
	holes   [maxHoles + 1]hole
	unique  uint64
}

// add records the range [first, first+n) and returns how many of its bytes
// were not covered before.
func (c *coverage) add(first Seq, n Size) uint64 {
	if n == 0 {
		return 0
	}
	end := first.Add(n)
	if !c.started {
		c.started = true
		c.end = end
		c.unique += uint64(n)
		return uint64(n)
	}
	var fresh uint64
	below := end // the part of the range at or below the old end
	if c.end.LessThan(end) {
		if c.end.LessThan(first) {
			c.push(hole{c.end, first})
			fresh += uint64(n)
			below = first
		} else {
			fresh += uint64(c.end.Size(end))
			below = c.end
		}
		c.end = end
	}
	if first.LessThan(below) {
		fresh += c.fill(first, below)
	}
	c.unique += fresh
	return fresh
}

// push appends a hole, forgetting the oldest when full.
func (c *coverage) push(h hole) {
	if c.n == maxHoles {
		copy(c.holes[:], c.holes[1:c.n])
		c.n--
	}
	c.holes[c.n] = h
	c.n++
}

// fill removes [first, end) from the holes and returns the bytes removed.
// A contiguous range splits at most one hole in two, so the result fits in
// maxHoles+1 entries before trimming.
func (c *coverage) fill(first, end Seq) uint64 {
	var filled uint64
	var out [maxHoles + 1]hole
	k := 0
	for _, h := range c.holes[:c.n] {
		lo, hi := Max(h.first, first), Min(h.end, end)
		if !lo.LessThan(hi) {
			out[k] = h
			k++
			continue
		}
		filled += uint64(lo.Size(hi))
		if h.first.LessThan(lo) {
			out[k] = hole{h.first, lo}
			k++
		}
		if hi.LessThan(h.end) {
			out[k] = hole{hi, h.end}
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
