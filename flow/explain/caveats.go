package explain

import (
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// Caveat is one reason to doubt figures of an explanation: a capture
// quality issue tcpstate found on the connection (its name, count and
// what it undermines, tcpstate.Quality), or one of the explanation's own
// (CaveatVantageUnknown, CaveatRateUnknown), with the figures of Conn it
// undermines, by their JSON names.
type Caveat struct {
	Issue   string   `json:"issue"`
	Count   uint64   `json:"count"`
	Figures []string `json:"figures"`
	Affects string   `json:"affects"`
}

// The explanation's own caveats.
const (
	// CaveatVantageUnknown: the handshake and the samples could not place
	// the capture on the path; the budget takes it to be at the client.
	CaveatVantageUnknown = "vantage_unknown"
	// CaveatRateUnknown: bulk data was sent but neither side of the
	// capture showed the bottleneck rate.
	CaveatRateUnknown = "rate_unknown"
)

// issueFigures names the figures each tcpstate issue undermines.
var issueFigures = map[tcpstate.Issue][]string{
	tcpstate.IssueCaptureLoss: {"budget.loss_recovery_s", "budget.rto_s", "model.rtos", "limit", "acks_c2s.retransmissions", "acks_s2c.retransmissions"},
	tcpstate.IssueOneSided:    {"vantage", "legs", "rtt_ms", "budget", "limit", "acks_c2s", "acks_s2c"},
	tcpstate.IssueSnaplen:     {"proto", "turns", "transactions", "segments_c2s.multi_segment_messages", "segments_s2c.multi_segment_messages"},
	tcpstate.IssueOversize: {"segments_c2s.small_share", "segments_s2c.small_share", "segments_c2s.size_bins", "segments_s2c.size_bins",
		"segments_c2s.saved_segments", "segments_s2c.saved_segments", "acks_c2s.covered", "acks_s2c.covered", "rate_bytes_per_s", "budget.transfer_s"},
	tcpstate.IssueTimeBackwards: {"budget", "stalls", "rtt_ms", "legs", "queue"},
	tcpstate.IssueNoHandshake:   {"vantage", "legs", "rtt_ms", "budget.handshake_s", "budget.receiver_window_s", "segments_c2s.mss", "segments_s2c.mss"},
	tcpstate.IssueBadOptions:    {"segments_c2s.mss", "segments_s2c.mss", "budget.receiver_window_s", "queue"},
	tcpstate.IssueWScale:        {"budget.receiver_window_s"},
	tcpstate.IssueSeqJump:       {"budget", "acks_c2s", "acks_s2c", "limit"},
	tcpstate.IssueDuplicates:    {"acks_c2s.retransmissions", "acks_s2c.retransmissions", "acks_c2s.dup_acks", "acks_s2c.dup_acks"},
}

// caveats lists what undermines c's figures: fc's quality issues, then
// the explanation's own doubts.
func caveats(fc *flow.Conn, c *Conn) []Caveat {
	out := []Caveat{}
	for _, q := range fc.Quality {
		out = append(out, Caveat{Issue: q.Issue.String(), Count: q.Count, Figures: issueFigures[q.Issue], Affects: q.Affects})
	}
	if c.Vantage == tcpstate.VantageUnknown && c.Limit != LimitNone && c.SegmentsC2S.Bytes+c.SegmentsS2C.Bytes > 0 {
		out = append(out, Caveat{Issue: CaveatVantageUnknown, Count: 1,
			Figures: []string{"budget.round_trip_s", "budget.client_think_s", "budget.server_think_s", "limit"},
			Affects: "the capture could not be placed on the path (no handshake, or a round trip under 200 us): it is taken to be at the client, so the round trip to the client, if any, counts as client think time"})
	}
	if c.RateFrom == RateUnknown && c.SegmentsC2S.BulkPhases+c.SegmentsS2C.BulkPhases > 0 {
		out = append(out, Caveat{Issue: CaveatRateUnknown, Count: 1,
			Figures: []string{"rate_bytes_per_s", "budget.transfer_s", "queue.max_bytes"},
			Affects: "bulk data was sent but the capture showed no bottleneck rate (no back-to-back arrivals after it, no ACK clock before it): serialization stays inside the waits and think times, and a rate projection changes nothing"})
	}
	return out
}
