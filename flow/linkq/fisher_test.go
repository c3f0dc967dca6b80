package linkq

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
)

// exactUpper is P(X ≥ hit) for X hypergeometric, summed with exact
// binomial coefficients: the reference for fisherUpper.
func exactUpper(total, marked, drawn, hit int64) float64 {
	num := new(big.Int)
	for x := hit; x <= min(drawn, marked); x++ {
		if drawn-x > total-marked {
			continue
		}
		t := new(big.Int).Binomial(marked, x)
		num.Add(num, t.Mul(t, new(big.Int).Binomial(total-marked, drawn-x)))
	}
	f, _ := new(big.Rat).SetFrac(num, new(big.Int).Binomial(total, drawn)).Float64()
	return f
}

// Fisher's tea-tasting experiment: 8 cups, 4 with milk first, the lady
// picks 4 and gets 3 right: P = (C(4,3)·C(4,1) + 1)/C(8,4) = 17/70; all 4
// right: 1/70.
func TestFisherUpperTea(t *testing.T) {
	assert.InDelta(t, 17.0/70, fisherUpper(8, 4, 4, 3), 1e-12)
	assert.InDelta(t, 1.0/70, fisherUpper(8, 4, 4, 4), 1e-12)
	assert.Equal(t, 1.0, fisherUpper(8, 4, 4, 0), "at least none: certain")
	assert.Equal(t, 0.0, fisherUpper(8, 4, 4, 5), "more hits than marked items: impossible")
}

// Every table of up to 40 items against the exact sum, both tails of the
// algorithm (hit above and below the mode).
func TestFisherUpperExact(t *testing.T) {
	for total := int64(1); total <= 40; total += 3 {
		for marked := int64(0); marked <= total; marked += 2 {
			for drawn := int64(0); drawn <= total; drawn += 3 {
				for hit := int64(0); hit <= min(marked, drawn)+1; hit++ {
					want := exactUpper(total, marked, drawn, hit)
					got := fisherUpper(uint64(total), uint64(marked), uint64(drawn), uint64(hit))
					if math.Abs(got-want) > 1e-9*math.Max(1, want) && math.Abs(got-want) > 1e-12 {
						t.Fatalf("fisherUpper(%d, %d, %d, %d) = %g, exact %g", total, marked, drawn, hit, got, want)
					}
				}
			}
		}
	}
}

// Large tables stay accurate: 100 of 5000 packets lost, among the 500
// largest 16 (mean 10: the upper tail) or 6 (the lower tail subtracted
// from 1); the exact sum is the reference.
func TestFisherUpperLarge(t *testing.T) {
	for _, hit := range []int64{6, 10, 16, 40} {
		assert.InEpsilon(t, exactUpper(5000, 100, 500, hit), fisherUpper(5000, 100, 500, uint64(hit)), 1e-9, "hit %d", hit)
	}
	assert.Less(t, fisherUpper(1000000, 2000, 100000, 1200), 1e-300, "far in the tail: underflows to about 0")
}
