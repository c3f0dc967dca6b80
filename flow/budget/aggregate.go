package budget

import (
	"fmt"
	"slices"
)

// MaxSamples bounds the values a quantile aggregate (p50, p95, ...) keeps.
// Up to this many its quantiles are exact; beyond, a deterministic uniform
// reservoir (Vitter's algorithm R with a fixed-seed generator) keeps a
// sample of them, so the quantile is an estimate whose rank error is about
// 1/sqrt(MaxSamples) (±1.6 % of rank). count, sum, mean, min and max are
// always exact.
const MaxSamples = 4096

// accumulator gathers one aggregate's values in bounded memory.
type accumulator struct {
	n        uint64 // values added
	missing  uint64 // items without the value
	why      absent // why the first missing one had none
	sum      float64
	min, max float64
	keep     []float64 // quantile sample, at most MaxSamples
	rnd      uint64
	sorted   bool
}

func (a *accumulator) add(v float64, quantile bool) {
	a.n++
	a.sum += v
	if a.n == 1 || v < a.min {
		a.min = v
	}
	if a.n == 1 || v > a.max {
		a.max = v
	}
	if !quantile {
		return
	}
	a.sorted = false
	if len(a.keep) < MaxSamples {
		a.keep = append(a.keep, v)
		return
	}
	if a.rnd == 0 {
		a.rnd = 0x9e3779b97f4a7c15
	}
	a.rnd ^= a.rnd << 13
	a.rnd ^= a.rnd >> 7
	a.rnd ^= a.rnd << 17
	if j := a.rnd % a.n; j < MaxSamples {
		a.keep[j] = v
	}
}

func (a *accumulator) skip(why absent) {
	if a.missing == 0 {
		a.why = why
	}
	a.missing++
}

// result is the aggregate e over the values added. count is the number of
// items selected, whatever their values; the others have no value over an
// empty set.
func (a *accumulator) result(e *expr) (float64, absent) {
	if e.agg == aggCount {
		return float64(a.n), ""
	}
	if a.n == 0 {
		return 0, absent(fmt.Sprintf("%s has no value: %s", e.source(), a.why))
	}
	switch e.agg {
	case aggSum:
		return a.sum, ""
	case aggMean:
		return a.sum / float64(a.n), ""
	case aggMin:
		return a.min, ""
	case aggMax:
		return a.max, ""
	}
	if !a.sorted {
		slices.Sort(a.keep)
		a.sorted = true
	}
	// nearest rank, as tcpstate's RTT quantiles (the 0.999999 absorbs the
	// rounding of q*n, so that 0.95*200 is rank 190)
	i := int(e.q*float64(len(a.keep))+0.999999) - 1
	return a.keep[max(0, min(i, len(a.keep)-1))], ""
}
