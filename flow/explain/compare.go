package explain

import (
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// WhatIf is a network to project onto: base RTT and bottleneck rate
// (JSON: bytes per second), and what Target holds beyond them (the loss rate when
// LossKnown, the queue limit in frames, the receive window in bytes). A
// zero field keeps the observed value; a zero WhatIf projects nothing.
type WhatIf struct {
	RTT         time.Duration `json:"rtt_ns"`
	Rate        units.BitRate `json:"rate_bytes_per_s"`
	Loss        float64       `json:"loss,omitempty"`
	LossKnown   bool          `json:"loss_known,omitempty"`
	QueueFrames int           `json:"queue_frames,omitempty"`
	RWnd        int           `json:"rwnd_bytes,omitempty"`
	// LossS2C and LossS2CKnown: the server-to-client loss when it differs
	// from Loss (Target.LossS2C).
	LossS2C      float64 `json:"loss_s2c,omitempty"`
	LossS2CKnown bool    `json:"loss_s2c_known,omitempty"`
}

// MarshalJSON writes the network with its rate in bytes per second.
func (w WhatIf) MarshalJSON() ([]byte, error) { return units.MarshalJSON(w) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (w WhatIf) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, w) }

// UnmarshalJSON reads what MarshalJSON writes.
func (w *WhatIf) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, w) }

// Target returns the network w names.
func (w WhatIf) Target() Target {
	return Target(w)
}

// Row sums up one connection or a group of connections (a capture, a
// protocol) for a side-by-side comparison: the table a network engineer
// brings to the application team. Durations of several connections are
// added (connection-seconds), whether or not they overlapped.
type Row struct {
	Label string `json:"label"`
	Conns int    `json:"conns"`
	// Duration is the summed connection duration.
	Duration time.Duration `json:"duration_s"`
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
	// RTT is the smallest base RTT of the connections; Rate the largest
	// bottleneck rate estimate (0: unknown).
	RTT  time.Duration `json:"rtt_ms"`
	Rate units.BitRate `json:"rate_bytes_per_s"`
	// Budget adds up the connections' budgets.
	Budget Budget `json:"budget"`
	// Limit is the most common limit among the connections, weighted by
	// duration.
	Limit Limit `json:"limit"`
	// Projected is set when a WhatIf was given: the summed projection.
	Projected *Projection `json:"projected,omitempty"`
}

// MarshalJSON writes the row with its durations and rate in the units their names state.
func (r Row) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r Row) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Row) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, r) }

// Add adds projection o to p: durations, bounds, round trips, losses and
// budget parts summed, assumptions joined in first-seen order; the RTT and
// rate stay p's unless zero.
func (p *Projection) Add(o Projection) {
	p.Duration += o.Duration
	p.Best += o.Best
	p.Worst += o.Worst
	p.Losses += o.Losses
	p.RoundTrips += o.RoundTrips
	p.SlowStartRounds += o.SlowStartRounds
	for k := Cause(0); k < numCauses; k++ {
		*p.Budget.part(k) += o.Budget.Part(k)
	}
	p.Budget.Duration += o.Budget.Duration
	for _, a := range o.Assumptions {
		if !slices.Contains(p.Assumptions, a) {
			p.Assumptions = append(p.Assumptions, a)
		}
	}
	if p.RTT == 0 {
		p.RTT = o.RTT
	}
	if p.Rate == 0 {
		p.Rate = o.Rate
	}
}

// Summarize sums up conns under label, projecting them onto at unless it
// is zero.
func Summarize(label string, conns []*Conn, at WhatIf) Row {
	r := Row{Label: label, Conns: len(conns)}
	var adv uint64
	var small uint64
	weight := map[Limit]time.Duration{}
	var proj *Projection
	if at != (WhatIf{}) {
		proj = &Projection{RTT: at.RTT, Rate: at.Rate}
	}
	for _, c := range conns {
		b := &c.Budget
		r.Duration += b.Duration
		for k := Cause(0); k < numCauses; k++ {
			*r.Budget.part(k) += b.Part(k)
		}
		r.Budget.Duration += b.Duration
		r.Bytes += c.SegmentsC2S.Bytes + c.SegmentsS2C.Bytes
		r.Segments += c.SegmentsC2S.Segments + c.SegmentsS2C.Segments
		small += c.SegmentsC2S.Small + c.SegmentsS2C.Small
		adv += c.AcksC2S.Advances + c.AcksS2C.Advances
		r.Turns += c.Turns
		r.RoundTrips += c.Model.RoundTrips
		if c.RTT > 0 && (r.RTT == 0 || c.RTT < r.RTT) {
			r.RTT = c.RTT
		}
		r.Rate = max(r.Rate, c.Rate)
		weight[c.Limit] += b.Duration
		if proj != nil {
			proj.Add(c.ProjectTo(at.Target()))
		}
	}
	if r.Segments > 0 {
		r.MeanSegment = float64(r.Bytes) / float64(r.Segments)
		r.SmallShare = float64(small) / float64(r.Segments)
		r.AcksPerSegment = float64(adv) / float64(r.Segments)
	}
	best := time.Duration(-1)
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
