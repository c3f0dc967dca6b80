package linkq

import "math"

// lnChoose returns ln C(n, k) for 0 ≤ k ≤ n.
func lnChoose(n, k uint64) float64 {
	a, _ := math.Lgamma(float64(n) + 1)
	b, _ := math.Lgamma(float64(k) + 1)
	c, _ := math.Lgamma(float64(n-k) + 1)
	return a - b - c
}

// fisherUpper is the one-sided p-value of Fisher's exact test for a 2×2
// table: of total items, marked are marked (lost packets); drawn of them
// form one group (the packets above a size split, or sent while both
// directions were busy), hit of which are marked. It returns P(X ≥ hit)
// for X hypergeometric (total, marked, drawn): the chance that a group of
// that size would hold at least that many marked items if marks fell
// at random — small when the group's rate is higher than the rest's.
//
// Terms are summed from the observed count away from the mode (the
// tail that is small is summed, the other subtracted from 1), with the
// ratio of consecutive terms, and stop once they no longer change the
// sum; the cost grows with the spread of X, not with total.
func fisherUpper(total, marked, drawn, hit uint64) float64 {
	if marked > total || drawn > total {
		return math.NaN()
	}
	lo := uint64(0)
	if drawn+marked > total {
		lo = drawn + marked - total
	}
	hi := min(drawn, marked)
	switch {
	case hit <= lo:
		return 1
	case hit > hi:
		return 0
	}
	// term(x) = C(marked, x)·C(total-marked, drawn-x) / C(total, drawn)
	term := func(x uint64) float64 {
		return math.Exp(lnChoose(marked, x) + lnChoose(total-marked, drawn-x) - lnChoose(total, drawn))
	}
	// ratio term(x+1)/term(x)
	up := func(x uint64) float64 {
		return float64(marked-x) * float64(drawn-x) / (float64(x+1) * float64(total-marked-drawn+x+1))
	}
	mode := uint64((float64(drawn) + 1) * (float64(marked) + 1) / (float64(total) + 2))
	if hit > mode {
		// upper tail, terms falling from hit on
		t := term(hit)
		sum := t
		for x := hit; x < hi && t > sum*1e-17; x++ {
			t *= up(x)
			sum += t
		}
		return min(sum, 1)
	}
	// 1 - P(X ≤ hit-1), terms falling from hit-1 down
	x := hit - 1
	t := term(x)
	sum := t
	for x > lo && t > sum*1e-17 {
		t /= up(x - 1)
		x--
		sum += t
	}
	return max(0, 1-sum)
}
