package series

import (
	"errors"
	"fmt"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// RTTSample is one round-trip time measured at the capture point: from a
// segment sent in direction Dir to the first ACK from the other side that
// covers its end.
type RTTSample struct {
	Time time.Time     `json:"time"` // when the ACK was captured
	RTT  time.Duration `json:"rtt_ns"`
	Dir  tcpstate.Dir  `json:"dir"` // direction of the acknowledged segment
	Seq  int64         `json:"seq"` // End of the acknowledged segment
}

type pending struct {
	start     int64
	end       int64
	t         time.Time
	ambiguous bool
}

// RTTSamples measures round-trip times from one connection's points, in
// capture order. A segment that occupies sequence space (data, SYN or
// FIN) and is not a retransmission waits for the first ACK from the other
// direction at or past its end; that ACK gives one sample, from the
// latest such segment it covers. By Karn's rule (RFC 6298 section 3) an
// ACK that covers retransmitted bytes gives none, nor one that covers
// data the receiver had already reported in a SACK block (its wait was
// for a hole, not a round trip). Captured at one end,
// the samples of the data that end sends are network round trips; those
// of the data it receives are its own ACK delay.
func RTTSamples(points []Point) []RTTSample {
	var out []RTTSample
	var q [2][]pending
	var re [2][][2]int64 // retransmitted ranges not yet acknowledged
	for _, p := range points {
		if p.Flags.Has(tcpstate.RST) {
			continue
		}
		if p.Flags.Has(tcpstate.ACK) {
			r := p.Dir.Reverse()
			// An ACK that covers retransmitted bytes is ambiguous.
			ambiguous := false
			k := 0
			for _, x := range re[r] {
				if x[0] < p.Ack {
					ambiguous = true
				}
				if x[1] > p.Ack {
					re[r][k] = x
					k++
				}
			}
			re[r] = re[r][:k]
			n := 0
			for n < len(q[r]) && q[r][n].end <= p.Ack {
				ambiguous = ambiguous || q[r][n].ambiguous
				n++
			}
			if n > 0 {
				last := q[r][n-1]
				if !ambiguous {
					out = append(out, RTTSample{Time: p.Time, RTT: p.Time.Sub(last.t), Dir: r, Seq: last.end})
				}
				q[r] = q[r][n:]
			}
			// Data the receiver reports holding in a SACK block has been
			// acknowledged: a later cumulative ACK of it times the hole
			// before it, not the round trip.
			for _, b := range p.SACK[:min(p.NSACK, len(p.SACK))] {
				for i := range q[r] {
					if q[r][i].end > b[0] && q[r][i].start < b[1] {
						q[r][i].ambiguous = true
					}
				}
			}
		}
		if p.End <= p.Seq {
			continue
		}
		if p.Retrans {
			re[p.Dir] = append(re[p.Dir], [2]int64{p.Seq, p.End})
			continue
		}
		q[p.Dir] = append(q[p.Dir], pending{start: p.Seq, end: p.End, t: p.Time})
	}
	return out
}

// MinRTT is the smallest RTT sample per interval: interval i covers
// [Start+i*Width, Start+(i+1)*Width). Min[i] is zero when the interval
// has no sample.
type MinRTT struct {
	Start time.Time       `json:"start"`
	Width time.Duration   `json:"width_ns"`
	Min   []time.Duration `json:"min_ns"`
}

// MaxIntervals bounds the intervals MinPerInterval makes.
const MaxIntervals = 1 << 20

// MinPerInterval bins samples by their Time from start at the given
// width and keeps each interval's smallest RTT. Samples before start are
// ignored. It fails when the samples would need more than MaxIntervals
// intervals: choose a wider interval.
func MinPerInterval(samples []RTTSample, start time.Time, width time.Duration) (MinRTT, error) {
	if width <= 0 {
		return MinRTT{}, errors.New("min rtt per interval: width must be positive")
	}
	m := MinRTT{Start: start, Width: width}
	for _, s := range samples {
		off := s.Time.Sub(start)
		if off < 0 {
			continue
		}
		i := int(off / width)
		if i >= MaxIntervals {
			return MinRTT{}, fmt.Errorf("min rtt per interval: a sample %v after the start needs more than %d intervals of %v", off, MaxIntervals, width)
		}
		for len(m.Min) <= i {
			m.Min = append(m.Min, 0)
		}
		if m.Min[i] == 0 || s.RTT < m.Min[i] {
			m.Min[i] = s.RTT
		}
	}
	return m, nil
}

// Turn is one request/response exchange as seen in the segments: the
// client sends data, then the server answers. It is the transaction a
// timeline draws when no application-protocol framing is at hand.
type Turn struct {
	Request       time.Time `json:"request"`        // first request segment
	RequestBytes  int64     `json:"request_bytes"`  // client payload in the turn
	FirstResponse time.Time `json:"first_response"` // zero when unanswered
	LastResponse  time.Time `json:"last_response"`
	ResponseBytes int64     `json:"response_bytes"` // server payload in the turn
}

// Turns splits one connection's points into turns: a turn starts with
// client data sent after the server has answered (or with the first
// client data) and holds the server data that follows. Retransmissions
// are ignored; server data before the first request (a greeting) is not
// a turn.
func Turns(points []Point) []Turn {
	var out []Turn
	for _, p := range points {
		if p.Len == 0 || p.Retrans || p.Flags.Has(tcpstate.RST) {
			continue
		}
		if p.Dir == tcpstate.ClientToServer {
			if len(out) == 0 || out[len(out)-1].ResponseBytes > 0 {
				out = append(out, Turn{Request: p.Time})
			}
			out[len(out)-1].RequestBytes += int64(p.Len)
			continue
		}
		if len(out) == 0 {
			continue
		}
		t := &out[len(out)-1]
		if t.ResponseBytes == 0 {
			t.FirstResponse = p.Time
		}
		t.LastResponse = p.Time
		t.ResponseBytes += int64(p.Len)
	}
	return out
}
