package census

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBinsOrderFree bins random times (some before the epoch, some far
// apart) in one pass and in three parts merged, in shuffled orders, and
// requires the same bins: width, first index and counts.
func TestBinsOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		n := 1 + r.IntN(200)
		times := make([]int64, n)
		span := int64(1) << r.IntN(40)
		base := r.Int64N(1<<50) - 1<<49
		for i := range times {
			times[i] = base + r.Int64N(span)
		}
		maxBins := 2 + r.IntN(20)
		one := newBins(1+r.Int64N(1e6), maxBins)
		width := one.base
		for _, tm := range times {
			one.add(tm, Dir(tm&3), 100)
		}
		parts := []bins{newBins(width, maxBins), newBins(width, maxBins), newBins(width, maxBins)}
		r.Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
		for i, tm := range times {
			parts[i%3].add(tm, Dir(tm&3), 100)
		}
		merged := newBins(width, maxBins)
		for i := range parts {
			merged.merge(&parts[i])
		}
		assert.Equal(t, one.shift, merged.shift, "round %d", round)
		assert.Equal(t, one.first, merged.first, "round %d", round)
		assert.Equal(t, one.b, merged.b, "round %d", round)
		assert.LessOrEqual(t, len(one.b), maxBins)
		var total uint64
		for _, b := range one.b {
			for d := range b {
				total += b[d].Packets
			}
		}
		assert.Equal(t, uint64(n), total)
	}
}
