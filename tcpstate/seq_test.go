package tcpstate

import (
	"testing"

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
	assert.Equal(t, uint64(100), c.add(start, 100))
	assert.Equal(t, uint64(0), c.add(start, 100), "a retransmission adds nothing")
	assert.Equal(t, uint64(100), c.add(start.Add(300), 100), "a jump leaves a hole")
	assert.Equal(t, uint64(50), c.add(start.Add(150), 50), "filling the middle of the hole")
	assert.Equal(t, uint64(150), c.add(start.Add(50), 300), "covers the holes [100,150) and [200,300)")
	assert.Equal(t, uint64(400), c.unique)
	assert.Equal(t, 0, c.n, "no hole left")
	assert.Equal(t, uint64(10), c.add(start.Add(395), 15), "overlaps the end")
	assert.Equal(t, uint64(410), c.unique)
}

func TestCoverageHoleBound(t *testing.T) {
	var c coverage
	c.add(0, 1)
	// Make more holes than are remembered: one byte every other byte.
	for i := Size(2); i < 2*(maxHoles+10); i += 2 {
		c.add(Seq(0).Add(i), 1)
	}
	assert.Equal(t, maxHoles, c.n)
	// Filling every hole: the forgotten (oldest) ones are not counted.
	var filled uint64
	for i := Size(1); i < 2*(maxHoles+10)-2; i += 2 {
		filled += c.add(Seq(0).Add(i), 1)
	}
	assert.Equal(t, uint64(maxHoles), filled)
}
