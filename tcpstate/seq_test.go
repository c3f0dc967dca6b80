package tcpstate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSeqCompareWrap(t *testing.T) {
	for _, base := range []Seq{0, 1, 1 << 31, 0xffffffff, 0xfffffff0, 0x7fffffff} {
		next := base.Add(100)
		assert.True(t, base.LessThan(next), "%d < %d", base, next)
		assert.False(t, next.LessThan(base))
		assert.Equal(t, Size(100), base.Size(next))
		assert.Equal(t, int32(100), next.Diff(base))
		assert.Equal(t, int32(-100), base.Diff(next))
		assert.True(t, base.LessThanEq(base))
		assert.False(t, base.LessThan(base))
		assert.Equal(t, next, Max(base, next))
		assert.Equal(t, base, Min(next, base))
		assert.True(t, base.Add(50).InRange(base, next))
		assert.False(t, next.InRange(base, next))
		assert.Equal(t, base, next.Sub(100))
	}
	// Across the wrap: 0xfffffff0 + 0x20 = 0x10.
	assert.Equal(t, Seq(0x10), Seq(0xfffffff0).Add(0x20))
	assert.True(t, Seq(0xfffffff0).LessThan(0x10))
	// The largest ordered distance is 2^31 - 1.
	assert.True(t, Seq(5).LessThan(Seq(5).Add(1<<31-1)))
	// Exactly 2^31 apart: unordered both ways (RFC 1982 leaves it undefined).
	a, b := Seq(7), Seq(7).Add(1<<31)
	assert.False(t, a.LessThan(b))
	assert.False(t, b.LessThan(a))
	assert.Equal(t, int32(-1<<31), b.Diff(a))
}

func TestCoverage(t *testing.T) {
	var c coverage
	start := Seq(0xffffff00) // wraps during the test
	assert.Equal(t, uint64(100), c.add(Span(start, 100)))
	assert.Equal(t, uint64(0), c.add(Span(start, 100)), "a retransmission adds nothing")
	assert.Equal(t, uint64(100), c.add(Span(start.Add(300), 100)), "a jump leaves a hole")
	assert.Equal(t, uint64(50), c.add(Span(start.Add(150), 50)), "filling the middle of the hole")
	assert.Equal(t, uint64(150), c.add(Span(start.Add(50), 300)), "covers the holes [100,150) and [200,300)")
	assert.Equal(t, uint64(400), c.unique)
	assert.Equal(t, 0, c.n, "no hole left")
	assert.Equal(t, uint64(10), c.add(Span(start.Add(395), 15)), "overlaps the end")
	assert.Equal(t, uint64(410), c.unique)
}

func TestCoverageHoleBound(t *testing.T) {
	var c coverage
	c.add(Span(0, 1))
	// Make more holes than are remembered: one byte every other byte.
	for i := Size(2); i < 2*(maxHoles+10); i += 2 {
		c.add(Span(Seq(0).Add(i), 1))
	}
	assert.Equal(t, maxHoles, c.n)
	// Filling every hole: the forgotten (oldest) ones are not counted.
	var filled uint64
	for i := Size(1); i < 2*(maxHoles+10)-2; i += 2 {
		filled += c.add(Span(Seq(0).Add(i), 1))
	}
	assert.Equal(t, uint64(maxHoles), filled)
}

func TestRange(t *testing.T) {
	for _, base := range []Seq{0, 1 << 31, 0xffffff00} { // the last wraps
		g := Span(base, 100)
		assert.Equal(t, Size(100), g.Len())
		assert.False(t, g.Empty())
		assert.True(t, g.Contains(base))
		assert.True(t, g.Contains(base.Add(99)))
		assert.False(t, g.Contains(base.Add(100)), "half-open")
		assert.False(t, g.Contains(base.Sub(1)))
		h := Span(base.Add(60), 100)
		assert.True(t, g.Overlaps(h))
		assert.True(t, h.Overlaps(g))
		assert.Equal(t, Span(base.Add(60), 40), g.Intersect(h))
		assert.Equal(t, Size(40), h.Intersect(g).Len())
		far := Span(base.Add(100), 10)
		assert.False(t, g.Overlaps(far), "adjacent ranges share no byte")
		assert.True(t, g.Intersect(far).Empty())
		assert.Zero(t, g.Intersect(far).Len())
		assert.Equal(t, Span(base, 30), g.Before(base.Add(30)))
		assert.Equal(t, g, g.Before(base.Add(500)))
		assert.True(t, g.Before(base).Empty())
		empty := Range{base.Add(50), base.Add(50)}
		assert.True(t, empty.Empty())
		assert.False(t, g.Overlaps(empty), "an empty range inside shares no byte")
		assert.False(t, Range{base.Add(80), base.Add(20)}.Overlaps(g), "nor does an inverted one")
		assert.Equal(t, Span(base, 10), SACKBlock{base, base.Add(10)}.Range())
	}
	// 2^31 bytes or more have no order: empty.
	assert.True(t, Span(0, 1<<31).Empty())
	assert.Equal(t, Size(1<<31-1), Span(0, 1<<31-1).Len())
}

func TestInWindow(t *testing.T) {
	first := Seq(0xfffffff0)
	assert.True(t, first.InWindow(first, 1))
	assert.True(t, Seq(0x10).InWindow(first, 0x21), "across the wrap: 0x10 is 0x20 after first")
	assert.False(t, Seq(0x10).InWindow(first, 0x20))
	assert.False(t, first.Sub(1).InWindow(first, 100))
	assert.False(t, first.InWindow(first, 0), "an empty window holds nothing")
	// A window of 3 GiB: no serial order needed.
	assert.True(t, first.Add(3<<30).InWindow(first, 3<<30+1))
}

func TestLabelsRetransmitted(t *testing.T) {
	for l := Label(0); l < NumLabels; l++ {
		want := l == Retransmission || l == FastRetransmission || l == SpuriousRetransmission
		assert.Equal(t, want, Labels(0).With(l).Retransmitted(), "%s", l)
		a := Analysis{Labels: Labels(0).With(OutOfOrder).With(l)}
		assert.Equal(t, want, a.Retransmitted(), "%s with out-of-order", l)
	}
	assert.False(t, Labels(0).Retransmitted())
}

// TestUntracked: past 1000 unacknowledged segments a segment is not
// remembered, so its ACK gives no sample; its FIN still takes a sequence
// number, so the ACK of the FIN acknowledges nothing unseen.
func TestUntracked(t *testing.T) {
	c := NewConn()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seq := Seq(1)
	for i := uint64(1); i <= maxUnacked+1; i++ {
		f := ACK
		if i == maxUnacked+1 {
			f |= FIN
		}
		a := c.Add(ClientToServer, &Segment{Index: i, Time: now, Seq: seq, Ack: 1, Flags: f, Len: 10, Window: 1000})
		assert.Equal(t, i == maxUnacked+1, a.Untracked, "segment %d", i)
		seq = seq.Add(10)
	}
	now = now.Add(time.Millisecond)
	a := c.Add(ServerToClient, &Segment{Index: maxUnacked + 2, Time: now, Seq: 1, Ack: seq.Add(1), Flags: ACK, Window: 1000})
	assert.Zero(t, a.AckOf, "the segment the ACK ends was not remembered")
	assert.Zero(t, a.RTT)
	assert.False(t, a.Ambiguous)
	assert.Zero(t, a.Labels, "the FIN's number was counted: no ACKed unseen segment")
}

// TestCoverageSpan: a segment more than 2^30 bytes from the highest byte
// counts once and is not tracked; a hole left more than 2^30 below it is
// dropped, counted among the holes never filled.
func TestCoverageSpan(t *testing.T) {
	var c coverage
	assert.Equal(t, uint64(100), c.add(Span(0, 100)))
	assert.Equal(t, uint64(100), c.add(Span(1<<30+1000, 100)), "an impossible jump counts once")
	assert.Equal(t, Seq(100), c.end, "and is not tracked")
	assert.Equal(t, uint64(100), c.add(Span(1000, 100)), "leaves a hole [100, 1000)")
	assert.Equal(t, uint64(1), c.lostHoles())
	// One range of 2^30 bytes moves the highest byte to 1100 + 2^30: the
	// hole now lies more than 2^30 below it.
	assert.Equal(t, uint64(1<<30), c.add(Span(1100, 1<<30)))
	assert.Equal(t, 0, c.n, "the hole is out of the span")
	assert.Equal(t, uint64(1), c.lostHoles(), "still counted as never filled")
	assert.Equal(t, uint64(100), c.add(Span(500, 100)), "its bytes are now out of the span: counted once, untracked")
	assert.Equal(t, uint64(100+100+100+1<<30+100), c.unique)
}
