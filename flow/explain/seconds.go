package explain

import (
	"math"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// budgetS is a Budget in float seconds: the budget is built and the
// what-if model computed in seconds (splits at a rate, scalings), then
// rounded to the nanosecond once, in budget(). p holds the parts by
// Cause.
type budgetS struct {
	DurationS float64
	p         [numCauses]float64
}

// secondsOf returns b in seconds.
func secondsOf(b *Budget) budgetS {
	s := budgetS{DurationS: b.Duration.Seconds()}
	for c := Cause(0); c < numCauses; c++ {
		s.p[c] = b.Part(c).Seconds()
	}
	return s
}

// budget returns s rounded to the nanosecond.
func (s *budgetS) budget() Budget {
	b := Budget{Duration: roundNs(s.DurationS)}
	for c := Cause(0); c < numCauses; c++ {
		*b.part(c) = roundNs(s.p[c])
	}
	return b
}

// roundNs returns s seconds to the nearest nanosecond.
func roundNs(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Sum returns the sum of the parts.
func (s *budgetS) Sum() float64 {
	t := 0.0
	for _, x := range s.p {
		t += x
	}
	return t
}

// QueueS and ThinkS are Budget.Queue and Budget.Think in seconds.
func (s *budgetS) QueueS() float64 { return s.p[CauseQueueSelf] + s.p[CauseQueueCross] }
func (s *budgetS) ThinkS() float64 { return s.p[CauseClientThink] + s.p[CauseServerThink] }

// projS is a Projection as the what-if model computes it: seconds,
// milliseconds and bytes per second.
type projS struct {
	RTTms, RateBps  float64
	DurationS       float64
	Budget          budgetS
	BestS, WorstS   float64
	RoundTrips      int
	SlowStartRounds int
	Losses          float64
	Assumptions     []string
}

// projection returns p with its durations rounded to the nanosecond.
func (p *projS) projection() Projection {
	return Projection{RTT: roundNs(p.RTTms / 1000), Rate: units.BytesPerSecond(p.RateBps), Duration: roundNs(p.DurationS),
		Budget: p.Budget.budget(), Best: roundNs(p.BestS), Worst: roundNs(p.WorstS), RoundTrips: p.RoundTrips,
		SlowStartRounds: p.SlowStartRounds, Losses: p.Losses, Assumptions: p.Assumptions}
}
