package findings

import (
	"fmt"
	"strings"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// Finding is one verdict line, pathdiag-style: a check's level, what was
// found, what to do about it, and for the reader who asks "?" what the
// check tests, the model it applies and the figures it used.
type Finding struct {
	// Conn is the connection's ID (flow.Conn.ID), 0 for the capture.
	Conn int `json:"conn"`
	// Check names the check: "round_trips", "segments", "acks", "think",
	// "what_if", linkq's check names ("loss", "window", "mss", ...), or
	// "quality/" and a tcpstate issue name.
	Check   string      `json:"check"`
	Level   linkq.Level `json:"level"`
	Message string      `json:"message"`
	Action  string      `json:"action,omitempty"`
	// Tests says what the check tests and Model the rule or model it
	// applies.
	Tests string `json:"tests"`
	Model string `json:"model"`
	// Figures are the numbers the check used.
	Figures []Figure `json:"figures"`
}

// Figure is one number a check used, named.
type Figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// budgetModel is the model behind the checks that read the time budget.
const budgetModel = "explain's time budget: every gap between two packets of the connection is given one cause " +
	"(handshake, application turn, think time, window wait, loss, transfer), so the parts add up to its duration; " +
	"a turn that waits for the other side's answer pays one base RTT (Barford and Crovella's critical path)"

// Checks returns the verdict lines that explain's analysis of one
// connection supports: round trips, segment sizes, ACKs, think time and
// the duration at other RTTs. Shares are of the connection's duration.
func Checks(c *explain.Conn) []Finding {
	out := []Finding{roundTrips(c), segments(c), acks(c), think(c)}
	if w, ok := whatIf(c); ok {
		out = append(out, w)
	}
	for i := range out {
		out[i].Conn = c.ID
	}
	return out
}

func roundTrips(c *explain.Conn) Finding {
	b := &c.Budget
	rt := b.RoundTrip + b.Handshake
	share := Share(rt.Seconds(), b.Duration.Seconds())
	f := Finding{Check: "round_trips",
		Tests: "the share of the connection's time spent in application turns that each waited one round trip " +
			"(a request, then nothing until the first byte of its answer) and in the handshake",
		Model: budgetModel + "; fail above half of the duration with 10 turns or more, warn above a quarter",
		Figures: []Figure{{"turns", fmt.Sprint(c.Turns)}, {"round trips paid", fmt.Sprint(c.Model.RoundTrips)},
			{"base RTT", Millis(c.RTT)}, {"handshake + turns", Secs(rt)}, {"duration", Secs(b.Duration)},
			{"share", pct(share)}},
	}
	f.Message = fmt.Sprintf("the handshake and %d turns that each waited a round trip took %s, %s of the %s",
		c.Model.RoundTrips, Secs(rt), pct(share), Secs(b.Duration))
	switch {
	case share >= 0.5 && c.Turns >= 10:
		f.Level = linkq.Fail
		f.Action = "make fewer round trips: batch the requests (array fetch, pipelining, one statement for many rows, " +
			"a stored procedure); each turn costs one RTT however fast the link"
		if c.RTT > 10*time.Millisecond {
			p := c.Project(10*time.Millisecond, 0)
			f.Action += fmt.Sprintf(": at %s RTT (a LAN) this session takes %s, at %s %s", Millis(p.RTT), Secs(p.Duration),
				Millis(c.RTT), Secs(b.Duration))
		}
	case share >= 0.25:
		f.Level = linkq.Warning
		f.Action = "fewer, larger requests would save a round trip each"
	default:
		f.Level = linkq.Pass
	}
	return f
}

func segments(c *explain.Conn) Finding {
	s, name := c.SegmentsS2C, "server→client"
	if c.SegmentsC2S.Bytes > c.SegmentsS2C.Bytes {
		s, name = c.SegmentsC2S, "client→server"
	}
	f := Finding{Check: "segments",
		Tests: "whether the direction that carried most data sent it in full-size segments: segments below the MSS " +
			"in bulk phases (runs of 4 or more segments with no data the other way), not counting each phase's last",
		Model: "the reference is the sender's effective MSS (" + s.MSSSource.String() + "); a bulk transfer in small segments needs more segments, " +
			"ACKs and, window for window, round trips than full-size ones (Meek et al.: SQL*Net's small segments); " +
			"warn when half the non-final bulk segments are small",
		Figures: []Figure{{"direction", name}, {"MSS", fmt.Sprintf("%d B", s.MSS)}, {"data segments", fmt.Sprint(s.Segments)},
			{"mean segment", fmt.Sprintf("%.0f B", s.MeanSegment)}, {"below the MSS", pct(s.SmallShare)},
			{"bulk segments", fmt.Sprint(s.BulkSegments)}, {"small in bulk (non-final)", pct(s.NonFinalSmallShare)}},
	}
	switch {
	case s.BulkSegments < 8:
		f.Level = linkq.Info
		f.Message = fmt.Sprintf("no bulk transfer: %s sent %d segments of %.0f B on average, as requests and answers come",
			name, s.Segments, s.MeanSegment)
	case s.NonFinalSmallShare >= 0.5:
		f.Level = linkq.Warning
		f.Message = fmt.Sprintf("%s sent its bulk data in small segments: %s of them below the MSS of %d B (mean %.0f B)",
			name, pct(s.NonFinalSmallShare), s.MSS, s.MeanSegment)
		f.Action = fmt.Sprintf("let the sender write larger buffers (raise the application's send / SDU size); full-size "+
			"segments would have saved %d segments and %d round trips", s.SavedSegments, s.SavedRoundTrips)
	default:
		f.Level = linkq.Pass
		f.Message = fmt.Sprintf("%s sent its bulk data in full-size segments (%s below the MSS of %d B)", name,
			pct(s.NonFinalSmallShare), s.MSS)
	}
	return f
}

func acks(c *explain.Conn) Finding {
	a, s, name := c.AcksS2C, c.SegmentsS2C, "server→client"
	if c.SegmentsC2S.Bytes > c.SegmentsS2C.Bytes {
		a, s, name = c.AcksC2S, c.SegmentsC2S, "client→server"
	}
	f := Finding{Check: "acks",
		Tests: "how the receiver of the direction that carried most data acknowledged it: ACK advances per data segment, " +
			"and what carried them (pure ACKs, small application messages, requests)",
		Model: "RFC 5681: a receiver may ACK every second full-size segment (delayed ACK); an ACK for every segment of " +
			"a bulk transfer doubles the packets and, on a chatty protocol, means each segment waits for its answer; " +
			"warn when bulk data is acknowledged segment by segment",
		Figures: []Figure{{"direction", name}, {"data segments", fmt.Sprint(a.DataSegments)}, {"ACKs", fmt.Sprint(a.Advances)},
			{"ACKs per segment", fmt.Sprintf("%.2f", a.AcksPerSegment)}, {"most segments per ACK", upTo(maxCovered(a))},
			{"verdict", a.Verdict.String()}, {"carried by", a.Carrier.String()}},
	}
	f.Message = fmt.Sprintf("%s data: %d ACKs for %d segments (%.2f per segment, %s), carried by %s", name, a.Advances,
		a.DataSegments, a.AcksPerSegment, strings.ReplaceAll(a.Verdict.String(), "_", " "), strings.ReplaceAll(a.Carrier.String(), "_", " "))
	switch {
	case a.Verdict == explain.AckEverySegment && s.BulkSegments >= 8:
		f.Level = linkq.Warning
		f.Action = "every segment is acknowledged on its own: check for quick-ACK or TCP_NODELAY-style settings and small writes at the sender"
	case a.Verdict == explain.AckInsufficient:
		f.Level = linkq.Info
	default:
		f.Level = linkq.Pass
	}
	return f
}

func think(c *explain.Conn) Finding {
	b := &c.Budget
	share := Share(b.Think().Seconds(), b.Duration.Seconds())
	f := Finding{Check: "think",
		Tests: "the share of the connection's time the ends spent with all they needed and sent nothing: the client " +
			"between an answer and its next request, the server between a request and its answer beyond one round trip",
		Model:   budgetModel + "; warn when think time is half of the duration or more: no network change helps it",
		Figures: []Figure{{"client think", Secs(b.ClientThink)}, {"server think", Secs(b.ServerThink)}, {"share", pct(share)}},
	}
	f.Message = fmt.Sprintf("think time %s of the %s (client %s, server %s)", pct(share), Secs(b.Duration),
		Secs(b.ClientThink), Secs(b.ServerThink))
	if share >= 0.5 {
		f.Level = linkq.Warning
		who := "client"
		if b.ServerThink > b.ClientThink {
			who = "server"
		}
		f.Action = fmt.Sprintf("look at the %s's own work (query or processing time): the network is not what makes this slow", who)
	} else {
		f.Level = linkq.Pass
	}
	return f
}

// whatIf reports the duration at a tenth and at twice the RTT.
func whatIf(c *explain.Conn) (Finding, bool) {
	if c.RTT <= 0 {
		return Finding{}, false
	}
	lo := c.Project(c.RTT/10, 0)
	hi := c.Project(c.RTT*2, 0)
	return Finding{Check: "what_if", Level: linkq.Info,
		Message: fmt.Sprintf("at %s RTT it would take %s, at %s %s (%s as captured at %s)", Millis(lo.RTT), Secs(lo.Duration),
			Millis(hi.RTT), Secs(hi.Duration), Secs(c.Budget.Duration), Millis(c.RTT)),
		Tests: "how the duration depends on the round-trip time",
		Model: "explain's projection (NPAD's symptom scaling on the time budget): think times stay, the handshake, turns, " +
			"receiver-window stalls and loss recovery scale with the RTT, slow start is replayed, transfer keeps the rate",
		Figures: []Figure{{"RTT / 10", Secs(lo.Duration)}, {"RTT × 2", Secs(hi.Duration)}, {"round trips at RTT / 10", fmt.Sprint(lo.RoundTrips)}},
	}, true
}

// FromVerdict returns linkq's verdict on one connection as findings, with
// what each check tests (linkq.AboutCheck).
func FromVerdict(v linkq.Verdict) []Finding {
	var out []Finding
	for _, ck := range v.Checks {
		about := linkq.AboutCheck(ck.Name)
		name := ck.Name
		if ck.Dir != "" {
			name += " " + ck.Dir
		}
		f := Finding{Conn: v.Conn, Check: name, Level: ck.Level, Message: ck.Message, Action: ck.Action,
			Tests: about.Tests, Model: about.Model,
			Figures: []Figure{{"measured", trim(ck.Measured)}, {"limit", trim(ck.Limit)},
				{"target", fmt.Sprintf("%s at %s", v.TargetRate.String(), Millis(v.TargetRTT))},
				{"MSS used", fmt.Sprintf("%d B", v.MSS)}, {"Mathis C", fmt.Sprintf("%.2f", v.C)}}}
		out = append(out, f)
	}
	return out
}

// FromQueue returns explain's queue-space checks of one connection
// (explain.QueueChecks: a queue too small for the target's rate x RTT,
// and bufferbloat) against a target rate at a round-trip time; zero
// keeps the connection's own.
func FromQueue(c *explain.Conn, rtt time.Duration, rate units.BitRate) []Finding {
	var out []Finding
	for _, q := range explain.QueueChecks(c, explain.WhatIf{RTT: rtt, Rate: rate}) {
		f := Finding{Conn: c.ID, Check: q.Name, Level: linkq.Pass, Message: q.Detail, Action: q.Action,
			Figures: []Figure{{"measured", trim(q.Measured)}, {"limit", trim(q.Limit)},
				{"queue samples", fmt.Sprint(c.Queue.Samples)}, {"loaded RTT", Millis(c.Queue.LoadedRTT)}}}
		if !q.Pass {
			f.Level = linkq.Fail
		}
		switch q.Name {
		case "queue_too_small":
			f.Tests = "whether the bottleneck's queue can hold the target's rate x RTT: a connection that lost data while its queue stayed below it cannot reach the target without loss"
			f.Model = "the largest queue in bytes is (largest RTT under load - base RTT) x bottleneck rate, the RTT under load from timestamp echoes and data->ACK samples (NPAD's queue-space test)"
		default:
			f.Tests = "whether the queue under load adds more than half the target RTT (bufferbloat): every other exchange on the path waits that much longer"
			f.Model = "queueing delay is the RTT under load less the base RTT, from timestamp echoes and data->ACK samples"
		}
		out = append(out, f)
	}
	return out
}

func trim(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
}

// Caveats returns the capture-quality issues of one connection as
// warnings: what the capture lacks and which figures it undermines.
func Caveats(fc *flow.Conn) []Finding {
	var out []Finding
	for _, q := range fc.Quality {
		out = append(out, Finding{Conn: fc.ID, Check: "quality/" + q.Issue.String(), Level: linkq.Warning,
			Message: fmt.Sprintf("%s (%d): %s", strings.ReplaceAll(q.Issue.String(), "_", " "), q.Count, q.Affects),
			Tests:   "what the capture itself lacks or distorts (tcpstate's capture-quality issues)",
			Model:   "an issue undermines the figures it names; the others stand",
			Figures: []Figure{{"count", fmt.Sprint(q.Count)}}})
	}
	return out
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }
