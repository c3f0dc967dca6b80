package tcpstate

import "strconv"

// Seq is a point in a TCP sequence space: a 32-bit value compared modulo
// 2^32 with serial-number arithmetic (RFC 1982, RFC 9293 section 3.4).
//
// A Seq is a position and a Size is a length: a Seq plus a Size is a Seq
// (Add), the distance between two Seqs is a Size (Size), and their order
// is LessThan. Seq is a defined integer type, so Go also compiles s + t,
// s - t and s < t for two Seqs; none of them means anything in a sequence
// space (a sum of two positions, an order that breaks at the wrap), and
// tcpstate never writes them. A struct type would make them fail to
// compile, at the price of a conversion in every caller and test literal;
// the methods are the only arithmetic used.
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

// InRange reports whether s lies in the half-open range [first, end), as
// Range{first, end}.Contains(s).
func (s Seq) InRange(first, end Seq) bool {
	return first.LessThanEq(s) && s.LessThan(end)
}

// InWindow reports whether s lies in the size bytes starting at first,
// [first, first+size), counted forward from first modulo 2^32 (the test
// of RFC 9293 section 3.10.7.4 for a receive window). Unlike LessThan it
// needs no order: a window of up to 2^32-1 bytes works.
func (s Seq) InWindow(first Seq, size Size) bool { return first.Size(s) < size }

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

// Range is the half-open range [First, End) of a sequence space, such as
// the bytes a segment carries or a SACK block. A range whose End is not
// after its First is empty.
type Range struct {
	First, End Seq
}

// Span returns the range of n bytes starting at first.
func Span(first Seq, n Size) Range { return Range{first, first.Add(n)} }

// Empty reports whether g holds no byte: End is not after First.
func (g Range) Empty() bool { return !g.First.LessThan(g.End) }

// Len returns the number of bytes in g, 0 when it is empty (a range of
// 2^31 bytes or more is empty too: its End is not after its First).
func (g Range) Len() Size {
	if g.Empty() {
		return 0
	}
	return g.First.Size(g.End)
}

// Contains reports whether s lies in g.
func (g Range) Contains(s Seq) bool { return s.InRange(g.First, g.End) }

// Overlaps reports whether g and h share a byte.
func (g Range) Overlaps(h Range) bool {
	return g.First.LessThan(h.End) && h.First.LessThan(g.End) && !g.Empty() && !h.Empty()
}

// Intersect returns the bytes g and h share; the result is empty (with
// Len 0) when they share none.
func (g Range) Intersect(h Range) Range {
	return Range{Max(g.First, h.First), Min(g.End, h.End)}
}

// Before returns the part of g before s: [First, min(End, s)), empty when
// s is not after First.
func (g Range) Before(s Seq) Range { return Range{g.First, Min(g.End, s)} }

// String returns the range as "[First,End)", e.g. "[1001,1101)".
func (g Range) String() string {
	return "[" + strconv.FormatUint(uint64(g.First), 10) + "," + strconv.FormatUint(uint64(g.End), 10) + ")"
}

// Range returns the block as a Range, [Left, Right).
func (b SACKBlock) Range() Range { return Range{b.Left, b.Right} }
