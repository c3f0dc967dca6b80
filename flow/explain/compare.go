package explain

import (
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// WhatIf is a network to project onto: base RTT and bottleneck rate in
// bytes per second, and what Target holds beyond them (the loss rate when
// LossKnown, the queue limit in frames, the receive window in bytes). A
// zero field keeps the observed value; a zero WhatIf projects nothing.
type WhatIf struct {
	RTT         time.Duration `json:"rtt_ns"`
	RateBps     float64       `json:"rate_bytes_per_s"`
	Loss        float64       `json:"loss,omitempty"`
	LossKnown   bool          `json:"loss_known,omitempty"`
	QueueFrames int           `json:"queue_frames,omitempty"`
	RWnd        int           `json:"rwnd_bytes,omitempty"`
}

// Target returns the network w names.
func (w WhatIf) Target() Target {
	return Target{RTT: w.RTT, Rate: units.BytesPerSecond(w.RateBps), Loss: w.Loss, LossKnown: w.LossKnown,
		QueueFrames: w.QueueFrames, RWnd: w.RWnd}
}

// Row sums up one connection or a group of connections (a capture, a
// protocol) for a side-by-side comparison: the table a network engineer
// brings to the application team. Durations of several connections are
// added (connection-seconds), whether or not they overlapped.
type Row struct {
	Label string `json:"label"`
	Conns int    `json:"conns"`
	// DurationS is the summed connection duration.
	DurationS float64 `json:"duration_s"`
	// Bytes and Segments count payload bytes and data segments, both
	// directions; MeanSegment is Bytes / Segments.
	Bytes       uint64  `json:"bytes"`
	Segments    uint64  `json:"segments"`
	MeanSegment float64 `json:"mean_segment"`
	// SmallShare is the share of data segments below the MSS.
	SmallShare float64 `json:"small_share"`
	// AcksPerSegment is ACK advances per data segment, both directions.
	AcksPerSegment float64 `json:"acks_per_segment"`
	// Turns counts client application turns; RoundTrips the request to
	// response round trips paid.
	Turns      int `json:"turns"`
	RoundTrips int `json:"round_trips"`
	// RTTms is the smallest base RTT of the connections; RateBps the
	// largest bottleneck rate estimate (0: unknown).
	RTTms   float64 `json:"rtt_ms"`
	RateBps float64 `json:"rate_bytes_per_s"`
	// Budget adds up the connections' budgets.
	Budget Budget `json:"budget"`
	// Limit is the most common limit among the connections, weighted by
	// duration.
	Limit Limit `json:"limit"`
	// Projected is set when a WhatIf was given: the summed projection.
	Projected *Projection `json:"projected,omitempty"`
}

// Add adds projection o to p: durations, bounds, round trips, losses and
// budget parts summed, assumptions joined in first-seen order; the RTT and
// rate stay p's unless zero.
func (p *Projection) Add(o Projection) {
	p.DurationS += o.DurationS
	p.BestS += o.BestS
	p.WorstS += o.WorstS
	p.Losses += o.Losses
	p.RoundTrips += o.RoundTrips
	p.SlowStartRounds += o.SlowStartRounds
	for k := Cause(0); k < numCauses; k++ {
		*p.Budget.part(k) += o.Budget.Part(k)
	}
	p.Budget.DurationS += o.Budget.DurationS
	for _, a := range o.Assumptions {
		if !slices.Contains(p.Assumptions, a) {
			p.Assumptions = append(p.Assumptions, a)
		}
	}
	if p.RTTms == 0 {
		p.RTTms = o.RTTms
	}
	if p.RateBps == 0 {
		p.RateBps = o.RateBps
	}
}

// Summarize sums up conns under label, projecting them onto at unless it
// is zero.
func Summarize(label string, conns []*Conn, at WhatIf) Row {
	r := Row{Label: label, Conns: len(conns)}
	var adv uint64
	var small uint64
	weight := map[Limit]float64{}
	var proj *Projection
	if at != (WhatIf{}) {
		proj = &Projection{RTTms: units.Ms(at.RTT), RateBps: at.RateBps}
	}
	for _, c := range conns {
		b := &c.Budget
		r.DurationS += b.DurationS
		for k := Cause(0); k < numCauses; k++ {
			*r.Budget.part(k) += b.Part(k)
		}
		r.Budget.DurationS += b.DurationS
		r.Bytes += c.SegmentsC2S.Bytes + c.SegmentsS2C.Bytes
		r.Segments += c.SegmentsC2S.Segments + c.SegmentsS2C.Segments
		small += c.SegmentsC2S.Small + c.SegmentsS2C.Small
		adv += c.AcksC2S.Advances + c.AcksS2C.Advances
		r.Turns += c.Turns
		r.RoundTrips += c.Model.RoundTrips
		if c.RTTms > 0 && (r.RTTms == 0 || c.RTTms < r.RTTms) {
			r.RTTms = c.RTTms
		}
		r.RateBps = max(r.RateBps, c.RateBps)
		weight[c.Limit] += b.DurationS
		if proj != nil {
			proj.Add(c.ProjectTo(at.Target()))
		}
	}
	if r.Segments > 0 {
		r.MeanSegment = float64(r.Bytes) / float64(r.Segments)
		r.SmallShare = float64(small) / float64(r.Segments)
		r.AcksPerSegment = float64(adv) / float64(r.Segments)
	}
	best := -1.0
	for l := LimitUnknown; l <= LimitLoss; l++ {
		if w, ok := weight[l]; ok && w > best {
			best, r.Limit = w, l
		}
	}
	r.Projected = proj
	return r
}

// ByProtocol sums up conns per application protocol, protocols in the
// order their first connection appears.
func ByProtocol(conns []*Conn, at WhatIf) []Row {
	var order []string
	groups := map[string][]*Conn{}
	for _, c := range conns {
		if _, ok := groups[c.Proto]; !ok {
			order = append(order, c.Proto)
		}
		groups[c.Proto] = append(groups[c.Proto], c)
	}
	rows := make([]Row, 0, len(order))
	for _, p := range order {
		rows = append(rows, Summarize(p, groups[p], at))
	}
	return rows
}
