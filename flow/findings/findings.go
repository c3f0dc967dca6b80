// Package findings turns the analyses of packages flow/explain, flow/linkq
// and flow into what an analyst reads first: the conclusion in one
// sentence with its numbers, pathdiag-style verdict lines (pass / warning
// / fail, an action under each, and what each check tests), the
// capture-quality caveats, and the notes of a figure. The report and
// compare tools share it, so that both say the same thing.
//
// It is data-driven: the causes of a time budget are walked by
// explain.Cause value, so a cause explain adds later shows up under its
// own name; the network checks are linkq's, whatever they are.
//
// It sits above the analyses it reads (it imports flow/explain and
// flow/linkq, neither imports it), so that a Go program gets the same
// conclusion and verdicts the tools print; the tools keep only their
// layout.
package findings

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// Causes returns the causes of a time budget in explain's order, as far
// as explain names them.
func Causes() []explain.Cause {
	var out []explain.Cause
	for c := explain.Cause(0); c.String() != "unknown" && c < 64; c++ {
		out = append(out, c)
	}
	return out
}

// causeLabels are the readable names of the causes explain has today; a
// cause without one is named after its JSON name.
var causeLabels = map[string]string{
	"transfer":        "transfer at the bottleneck",
	"handshake":       "handshake",
	"client_think":    "client think time",
	"server_think":    "server think time",
	"round_trip":      "application turns (one round trip each)",
	"window_wait":     "waiting for ACKs (window, slow start)",
	"receiver_window": "receiver window full",
	"zero_window":     "zero window",
	"loss_recovery":   "loss recovery",
	"rto":             "retransmission timeouts",
	"queue_self":      "queueing behind its own data",
	"queue_cross":     "queueing behind other connections",
}

// CauseLabel returns the readable name of a cause of the time budget.
func CauseLabel(c explain.Cause) string {
	if l, ok := causeLabels[c.String()]; ok {
		return l
	}
	return strings.ReplaceAll(c.String(), "_", " ")
}

// Lost reports whether a cause is time the network cost (round trips,
// windows, loss), as against transfer at the bottleneck and the ends' own
// think time. A cause explain adds later counts as lost.
func Lost(c explain.Cause) bool {
	switch c.String() {
	case "transfer", "client_think", "server_think":
		return false
	}
	return true
}

// TimeLost returns the time of a budget that the network cost: every
// part but transfer and think time.
func TimeLost(b *explain.Budget) time.Duration {
	var s time.Duration
	for _, c := range Causes() {
		if Lost(c) {
			s += b.Part(c)
		}
	}
	return s
}

// limitPhrases say what a limit means, for the sentences.
var limitPhrases = map[string]string{
	"unknown":            "too little traffic to tell",
	"application":        "the ends' own think time",
	"round_trip_bound":   "round trips",
	"receiver_window":    "the receiver's window",
	"congestion_window":  "waiting for ACKs to open the window",
	"bandwidth":          "the bottleneck's rate",
	"loss":               "loss recovery",
	"refused":            "a refused connection",
	"reset":              "a reset",
	"queueing":           "queueing",
	"capture_incomplete": "an incomplete capture",
}

// LimitPhrase returns what a limit means in a sentence ("round trips").
func LimitPhrase(l explain.Limit) string {
	if p, ok := limitPhrases[l.String()]; ok {
		return p
	}
	return strings.ReplaceAll(l.String(), "_", " ")
}

// Secs formats a duration for a sentence: 30.8 s, 0.452 s, 1.2 ms.
func Secs(d time.Duration) string {
	s := d.Seconds()
	switch a := math.Abs(s); {
	case a == 0:
		return "0 s"
	case a < 0.01:
		return fmt.Sprintf("%.1f ms", s*1000)
	case a < 1:
		return fmt.Sprintf("%.3f s", s)
	case a < 100:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}

// Millis formats a round-trip time in milliseconds: 150.9 ms, 1.25 ms.
func Millis(d time.Duration) string {
	ms := units.Ms(d)
	if ms < 10 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// Rate formats a rate in bit/s with an SI prefix and three significant
// digits: 2 Mbit/s, 512 kbit/s.
func Rate(r units.BitRate) string {
	bps := float64(r)
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.3g Gbit/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.3g Mbit/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.3g kbit/s", bps/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", bps)
}

// Conclusion returns the sentence that says what c's time went on, with
// its numbers: for a chatty session "204 round trips × 150.9 ms = 30.8 s
// of the 31.6 s; segments are small (mean 228 B, 100% below the MSS) and
// each is acknowledged".
func Conclusion(c *explain.Conn) string {
	b := &c.Budget
	d := b.Duration
	var s string
	switch c.Limit.String() {
	case "round_trip_bound":
		n := c.Model.RoundTrips
		paid, rt := time.Duration(n)*c.RTT, b.RoundTrip+b.Handshake
		if math.Abs(float64(paid-rt)) <= 0.1*float64(rt) {
			s = fmt.Sprintf("%d round trips × %s = %s of the %s", n, Millis(c.RTT), Secs(paid), Secs(d))
		} else { // the turns waited longer than the base RTT
			s = fmt.Sprintf("%d round trips took %s of the %s (base RTT %s)", n, Secs(rt), Secs(d), Millis(c.RTT))
		}
		// explain counts queueing into the round trips' share: say how much
		// of it waited in a queue, and behind whom
		if q := b.Queue(); 10*q > d {
			who := "its own data"
			if b.QueueCross > b.QueueSelf {
				who = "other connections between the same hosts"
			}
			s += fmt.Sprintf(", and %s more in the bottleneck's queue behind %s (queueing up to %s above the base RTT)",
				Secs(q), who, Millis(c.Queue.MaxDelay))
		}
	case "bandwidth":
		s = fmt.Sprintf("transfer at the bottleneck (%s) took %s of the %s", Rate(c.Rate), Secs(b.Transfer), Secs(d))
	case "application":
		s = fmt.Sprintf("the ends' think time took %s of the %s (client %s, server %s): the network did not set the pace",
			Secs(b.Think()), Secs(d), Secs(b.ClientThink), Secs(b.ServerThink))
	case "congestion_window":
		s = fmt.Sprintf("waiting for ACKs to open the window took %s of the %s at %s RTT", Secs(b.WindowWait), Secs(d), Millis(c.RTT))
	case "receiver_window":
		s = fmt.Sprintf("the receiver's window held the sender back %s of the %s", Secs(b.ReceiverWindow+b.ZeroWindow), Secs(d))
	case "loss":
		s = fmt.Sprintf("loss recovery and timeouts took %s of the %s (%d retransmissions)",
			Secs(b.LossRecovery+b.RTO), Secs(d), c.AcksC2S.Retransmissions+c.AcksS2C.Retransmissions)
	case "unknown":
		return fmt.Sprintf("too little traffic to tell what limited it (%s, %d data segments)", Secs(d),
			c.SegmentsC2S.Segments+c.SegmentsS2C.Segments)
	default: // a limit explain added later: its largest cause
		top := largest(b)
		s = fmt.Sprintf("limited by %s: %s took %s of the %s", LimitPhrase(c.Limit), CauseLabel(top), Secs(b.Part(top)), Secs(d))
	}
	if seg := segmentClause(c); seg != "" {
		s += "; " + seg
	}
	return s
}

// largest returns the cause with the most time.
func largest(b *explain.Budget) explain.Cause {
	best := explain.Cause(0)
	for _, c := range Causes() {
		if b.Part(c) > b.Part(best) {
			best = c
		}
	}
	return best
}

// segmentClause describes c's segments and ACKs, the behaviour behind a
// chatty or a bulk session: "segments are small (mean 228 B, 100% below
// the MSS) and each is acknowledged".
func segmentClause(c *explain.Conn) string {
	r := explain.Summarize("", []*explain.Conn{c}, explain.WhatIf{})
	if r.Segments < 4 {
		return ""
	}
	var size string
	switch {
	case r.SmallShare >= 0.5:
		size = fmt.Sprintf("segments are small (mean %.0f B, %.0f%% below the MSS)", r.MeanSegment, 100*r.SmallShare)
	case r.SmallShare <= 0.1:
		size = "segments are full-size"
	default:
		size = fmt.Sprintf("%.0f%% of the segments are below the MSS", 100*r.SmallShare)
	}
	switch a := r.AcksPerSegment; {
	case a >= 0.9:
		return size + " and each is acknowledged"
	case a > 0:
		return fmt.Sprintf("%s, one ACK per %.1f", size, 1/a)
	}
	return size
}

// Share returns part/whole, zero for no whole.
func Share(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return part / whole
}

// Capture returns the sentence for a capture of many connections: how
// their time divides, by limit, and the conclusion for the one that lost
// the most; for one connection, its Conclusion.
func Capture(conns []*explain.Conn) string { return tallyOf(conns).Capture() }

// Compare returns the sentence that compares two captures (or groups of
// connections) a and b, labelled la and lb: which took longer, by how
// much, and why, each in its own numbers.
func Compare(la string, a []*explain.Conn, lb string, b []*explain.Conn) string {
	return CompareTallies(la, tallyOf(a), lb, tallyOf(b))
}

// FlowNotes returns the lines of a packet-flow figure's annotation: per
// direction the data segments, their mean size and the ACKs they drew
// (per segment, and how many one ACK covered at most), then turns and
// round trips. names name the directions.
func FlowNotes(c *explain.Conn, names [2]string) []string {
	out := []string{fmt.Sprintf("whole connection, %s:", Secs(c.Budget.Duration))}
	for d, x := range [2]struct {
		seg  explain.SegmentStats
		acks explain.AckStats
	}{{c.SegmentsC2S, c.AcksC2S}, {c.SegmentsS2C, c.AcksS2C}} {
		if x.seg.Segments == 0 {
			continue
		}
		line := fmt.Sprintf("%s: %d segments, mean %.0f B", names[d], x.seg.Segments, x.seg.MeanSegment)
		if x.acks.Advances > 0 {
			line += fmt.Sprintf("; %d ACKs (%.2f per segment", x.acks.Advances, x.acks.AcksPerSegment)
			if up := maxCovered(x.acks); up > 1 {
				line += fmt.Sprintf(", up to %s per ACK", upTo(up))
			}
			line += ")"
		}
		out = append(out, line)
	}
	out = append(out, fmt.Sprintf("%d turns, %d round trips paid: %s", c.Turns, c.Model.RoundTrips,
		Secs(c.Budget.RoundTrip+c.Budget.Handshake)))
	line := fmt.Sprintf("base RTT %s; limited by %s", Millis(c.RTT), LimitPhrase(c.Limit))
	return append(out, line)
}

// maxCovered returns the most segments one ACK covered (6: six or more).
func maxCovered(a explain.AckStats) int {
	for i := len(a.Covered) - 1; i >= 0; i-- {
		if a.Covered[i] > 0 {
			return i + 1
		}
	}
	return 0
}

func upTo(n int) string {
	if n >= 6 {
		return "6+"
	}
	return fmt.Sprint(n)
}

// WhatIfRow is one line of a what-if table: the connections' summed
// duration projected to an RTT and a rate.
type WhatIfRow struct {
	// Label says what changed: "as captured", "RTT 10 ms", ...
	Label      string
	RTT        time.Duration
	Rate       units.BitRate
	Duration   time.Duration
	RoundTrips int
	// Best and Worst bound a projection (explain.Projection; both
	// Duration as captured); Assumptions are its assumptions.
	Best, Worst time.Duration
	Assumptions []string
}

// WhatIfs projects conns to each RTT (at the observed rate) and to each
// rate (at the observed RTT), after a first row as captured.
func WhatIfs(conns []*explain.Conn, rtts []time.Duration, rates []units.BitRate) []WhatIfRow {
	w := NewWhatIfTally(rtts, rates)
	for _, c := range conns {
		w.Add(c)
	}
	return w.Rows()
}

// WhatIfTally is WhatIfs for connections as they come, in bounded
// memory: one Tally per row.
type WhatIfTally struct {
	labels  []string
	tallies []*Tally
}

// NewWhatIfTally returns the tally of the rows WhatIfs gives for rtts and
// rates.
func NewWhatIfTally(rtts []time.Duration, rates []units.BitRate) *WhatIfTally {
	w := &WhatIfTally{labels: []string{"as captured"}, tallies: []*Tally{NewTally(explain.WhatIf{})}}
	for _, rtt := range rtts {
		w.labels = append(w.labels, "RTT "+Millis(rtt))
		w.tallies = append(w.tallies, NewTally(explain.WhatIf{RTT: rtt}))
	}
	for _, r := range rates {
		w.labels = append(w.labels, "rate "+Rate(r))
		w.tallies = append(w.tallies, NewTally(explain.WhatIf{Rate: r}))
	}
	return w
}

// Add adds one connection's explanation.
func (w *WhatIfTally) Add(c *explain.Conn) {
	for _, t := range w.tallies {
		t.Add(c)
	}
}

// Rows returns the rows of WhatIfs.
func (w *WhatIfTally) Rows() []WhatIfRow {
	now := w.tallies[0].Row("")
	out := []WhatIfRow{{Label: w.labels[0], RTT: now.RTT, Rate: now.Rate, Duration: now.Duration, RoundTrips: now.RoundTrips,
		Best: now.Duration, Worst: now.Duration}}
	for i, t := range w.tallies[1:] {
		r := t.Row("")
		out = append(out, WhatIfRow{Label: w.labels[i+1], RTT: r.Projected.RTT, Rate: r.Projected.Rate,
			Duration: r.Projected.Duration, RoundTrips: r.Projected.RoundTrips,
			Best: r.Projected.Best, Worst: r.Projected.Worst, Assumptions: r.Projected.Assumptions})
	}
	return out
}

// Echoes returns the sentence for a capture's echoes: how many were
// answered, their RTTs, and the line through them (Meek et al.'s Figure
// 1): the fixed delay, and the rate of the single link whose
// serialization each way the slope would be (16/slope bit/s). It is
// empty when no echo was matched.
func Echoes(r *linkq.Report) string {
	e := r.Echo
	if e.Matched == 0 {
		return ""
	}
	s := fmt.Sprintf("%d echoes, %d answered", e.Requests, e.Matched)
	if lost := e.Lost + e.Corrupted + e.Late; lost > 0 {
		s += fmt.Sprintf(", %d lost, corrupted or late", lost)
	}
	p := r.FigurePath()
	if p == nil {
		return s
	}
	s += fmt.Sprintf("; RTT %.1f to %.1f ms", units.Ms(p.RTTMin), units.Ms(p.RTTMax))
	if f := p.Fit; f.OK && f.SlopeUsPerByte > 0 {
		s += fmt.Sprintf("; RTT = %.1f ms + %.2f µs per byte: a fixed delay of %.1f ms and the serialization of a %s link each way, "+
			"RMS %.3f ms", units.Ms(f.Intercept), f.SlopeUsPerByte, units.Ms(f.Intercept), Rate(units.BitRate(16/(f.SlopeUsPerByte/1e6))), units.Ms(f.RMSResid))
	}
	return s
}
