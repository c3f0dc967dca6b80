package tcpstate

// Seq is a point in a TCP sequence space: a 32-bit value compared modulo
// 2^32 with serial-number arithmetic (RFC 1982, RFC 9293 section 3.4).
//
// A Seq is a position and a Size is a length; a Seq plus a Size is a Seq,
// the distance between two Seqs is a Size, and two Seqs cannot be added.
type Seq uint32

// Size is a length in a TCP sequence space, such as a segment length
// (SEG.LEN) or a window (SND.WND).
type Size uint32

// Add returns the point n bytes after s, wrapping modulo 2^32.
func (s Seq) Add(n Size) Seq { return s + Seq(n) }

// Sub returns the point n bytes before s, wrapping modulo 2^32.
func (s Seq) Sub(n Size) Seq { return s - Seq(n) }

// Size returns the distance from s forward to t, modulo 2^32. It is only
// meaningful when s is not after t.
func (s Seq) Size(t Seq) Size { return Size(t - s) }

// Diff returns the signed distance from t to s (s - t) in serial-number
// arithmetic: positive when s is after t. At exactly 2^31 apart the order
// is undefined by RFC 1982; Diff then returns -2^31.
func (s Seq) Diff(t Seq) int32 { return int32(s - t) }

// LessThan reports whether s comes strictly before t. Points exactly 2^31
// apart are unordered (RFC 1982 leaves the comparison undefined): neither
// is less than the other.
func (s Seq) LessThan(t Seq) bool {
	d := uint32(t - s)
	return d != 0 && d < 1<<31
}

// LessThanEq reports whether s equals t or comes before it.
func (s Seq) LessThanEq(t Seq) bool { return s == t || s.LessThan(t) }

// InRange reports whether s lies in the half-open range [first, end).
func (s Seq) InRange(first, end Seq) bool {
	return first.LessThanEq(s) && s.LessThan(end)
}

// Max returns the later of s and t.
func Max(s, t Seq) Seq {
	if s.LessThan(t) {
		return t
	}
	return s
}

// Min returns the earlier of s and t.
func Min(s, t Seq) Seq {
	if t.LessThan(s) {
		return t
	}
	return s
}
