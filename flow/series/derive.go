package series

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// RTTSample is one round-trip time measured at the capture point:
// tcpstate's data→ACK sample, from a segment sent in direction Dir to the
// ACK from the other side that ends exactly at it (Karn's rule).
type RTTSample struct {
	Time time.Time     `json:"time"` // when the ACK was captured
	RTT  time.Duration `json:"rtt_ns"`
	Dir  tcpstate.Dir  `json:"dir"` // direction of the acknowledged segment
	Seq  int64         `json:"seq"` // End of the acknowledged segment
}

// RTTSamples is a list of RTT samples. It implements plot.RTTSampler.
type RTTSamples []RTTSample

// Len returns the number of samples.
func (s RTTSamples) Len() int { return len(s) }

// RTTSample returns sample i: when its ACK was captured, the round-trip
// time and the direction of the data it timed.
func (s RTTSamples) RTTSample(i int) (at time.Time, rtt time.Duration, dir tcpstate.Dir) {
	return s[i].Time, s[i].RTT, s[i].Dir
}

// MinRTT is the smallest RTT sample per interval: interval i covers
// [Start+i*Width, Start+(i+1)*Width). Min[i] is zero when the interval
// has no sample. MinRTT implements plot.MinRTTer.
type MinRTT struct {
	Start time.Time       `json:"start"`
	Width time.Duration   `json:"width_ns"`
	Min   []time.Duration `json:"min_ns"`
}

// Len returns the number of intervals held.
func (m MinRTT) Len() int { return len(m.Min) }

// Grid returns the start of interval 0 and the intervals' width.
func (m MinRTT) Grid() (start time.Time, width time.Duration) { return m.Start, m.Width }

// BinMin returns the smallest RTT of interval i, zero when it had no
// sample or lies outside the intervals held.
func (m MinRTT) BinMin(i int) time.Duration {
	if i < 0 || i >= len(m.Min) {
		return 0
	}
	return m.Min[i]
}

// MinRTTOf returns the capture-wide minimum RTT per interval of the data
// sent in direction d (Result.MinRTT[d]) on the result's grid; for a d
// that is no direction, none.
func (r *Result) MinRTTOf(d tcpstate.Dir) MinRTT {
	m := MinRTT{Start: r.Start, Width: r.Width}
	if d <= tcpstate.ServerToClient {
		m.Min = r.MinRTT[d]
	}
	return m
}

// MedianRTT returns the median RTT of the samples (the upper one of an
// even count), zero for none.
func MedianRTT(samples []RTTSample) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	v := make([]time.Duration, len(samples))
	for i := range samples {
		v[i] = samples[i].RTT
	}
	slices.Sort(v)
	return v[len(v)/2]
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

// Turn is one request/response exchange: the client sends data, then the
// server answers. SplitTurns finds them in the segments; TurnLog keeps
// the transactions appproto paired in an application protocol's messages.
type Turn struct {
	Request       time.Time `json:"request"`        // first request segment
	RequestBytes  int64     `json:"request_bytes"`  // client payload in the turn
	FirstResponse time.Time `json:"first_response"` // zero when unanswered
	LastResponse  time.Time `json:"last_response"`
	ResponseBytes int64     `json:"response_bytes"` // server payload in the turn
}

// Turns is a list of turns. It implements plot.Transactioner.
type Turns []Turn

// Len returns the number of turns.
func (ts Turns) Len() int { return len(ts) }

// Transaction returns when turn i's request was sent and when the first
// and the last byte of its response came (zero when unanswered).
func (ts Turns) Transaction(i int) (request, firstByte, lastByte time.Time) {
	return ts[i].Request, ts[i].FirstResponse, ts[i].LastResponse
}

// Within returns, in order, the turns whose request lies in w and whose
// response does not end after it, at most limit of them (limit ≤ 0: all).
func (ts Turns) Within(w Window, limit int) Turns {
	var out Turns
	for _, t := range ts {
		if !w.Contains(t.Request) || (!w.To.IsZero() && t.LastResponse.After(w.To)) {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, t)
	}
	return out
}

// SplitTurns splits one connection's points into turns: a turn starts
// with client data sent after the server has answered (or with the first
// client data) and holds the server data that follows. Retransmissions
// are ignored; server data before the first request (a greeting) is not
// a turn.
func SplitTurns(points []Point) Turns {
	var out Turns
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
