package explain

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// Cross traffic: the other connections between the same two hosts, which
// share the connection's path and, where they overlap, its bottleneck
// queue. A download running while a chatty session talks fills the
// queue its answers wait in (queue_cross_s); projected to another link
// the two overlap differently (a download over in 50 ms on a LAN lasts
// seconds at 512 kbit/s), so the projection replays each large one at
// the target (see crossQueue) instead of scaling what was measured.
const (
	// maxPairConns is how many connections of a host pair are followed,
	// live and ended.
	maxPairConns = 8
	// crossMinBytes is the least a connection must carry one way to be
	// cross traffic worth replaying: a few flights, enough to build a
	// queue.
	crossMinBytes = 64 << 10
	// crossHorizon is how long before a connection another may have
	// started and still count.
	crossHorizon = time.Minute
)

// CrossFlow is another connection between the same hosts, large enough
// to queue at the bottleneck, that began before this one ended: when it
// began (Offset, from this connection's first packet; negative when
// before it), how long it lasted and what it carried each way.
type CrossFlow struct {
	ID       int           `json:"id"`
	Offset   time.Duration `json:"offset_s"`
	Duration time.Duration `json:"duration_s"`
	BytesC2S uint64        `json:"bytes_c2s"`
	BytesS2C uint64        `json:"bytes_s2c"`
}

// MarshalJSON writes the flow with its durations in seconds.
func (f CrossFlow) MarshalJSON() ([]byte, error) { return units.MarshalJSON(f) }

// AppendJSON appends the record MarshalJSON returns to dst (units.Appender).
func (f CrossFlow) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, f) }

// UnmarshalJSON reads what MarshalJSON writes.
func (f *CrossFlow) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, f) }

// pairConn is what a host pair remembers of an ended connection.
type pairConn struct {
	id          int32
	first, last int64
	bytes       [2]uint64
}

func summary(cs *connState) pairConn {
	return pairConn{id: cs.id, first: cs.first, last: cs.last, bytes: [2]uint64{cs.d[0].bytes, cs.d[1].bytes}}
}

// join counts cs among the pair's live connections (as far as there is
// room).
func (p *pairState) join(cs *connState) {
	for i := range p.live {
		if p.live[i] == nil {
			p.live[i] = cs
			return
		}
	}
}

// cross returns the other connections of the pair that are cross
// traffic for cs (CrossFlow), largest first, and moves cs from the live
// ones to the ended.
func (p *pairState) cross(cs *connState) []CrossFlow {
	var out []CrossFlow
	add := func(o pairConn) {
		if o.id == cs.id || o.bytes[0]+o.bytes[1] < crossMinBytes || o.first >= cs.last ||
			time.Duration(cs.first-o.first) > crossHorizon {
			return
		}
		out = append(out, CrossFlow{ID: int(o.id), Offset: time.Duration(o.first - cs.first), Duration: time.Duration(o.last - o.first),
			BytesC2S: o.bytes[0], BytesS2C: o.bytes[1]})
	}
	for i, o := range p.live {
		if o == nil {
			continue
		}
		if o == cs {
			p.live[i] = nil
			continue
		}
		add(summary(o))
	}
	for _, o := range p.ended[:min(p.nended, maxPairConns)] {
		add(o)
	}
	p.ended[p.nended%maxPairConns] = summary(cs)
	p.nended++
	slices.SortStableFunc(out, func(a, b CrossFlow) int {
		return cmp.Compare(b.BytesC2S+b.BytesS2C, a.BytesC2S+a.BytesS2C)
	})
	return out[:min(len(out), 4)]
}

// crossQueue returns the time the connection's turns wait, at the target
// n, in the queues its cross traffic builds there: each cross flow is
// replayed one way at a time as a fluid (handshake and request, then slow
// start from the initial window, doubling with the ACKs, the queue
// growing once the window exceeds the path and capped at the target's
// queue, the link draining it at the target's rate), and each of the
// connection's turns, spread over its projected duration own (without
// cross traffic), waits for the queue it meets in each direction.
func (c *Conn) crossQueue(n replayNet, own float64) float64 {
	turns := max(1, c.Model.RoundTrips)
	step := own / float64(turns)
	var qs []fluidQueue
	for _, f := range c.Cross {
		for _, b := range []uint64{f.BytesC2S, f.BytesS2C} {
			if b >= crossMinBytes {
				qs = append(qs, replayFluid(n, f.Offset.Seconds(), float64(b)))
			}
		}
	}
	total, t := 0.0, 0.0
	for range turns {
		w := 0.0
		for i := range qs {
			w += qs[i].delay(t)
		}
		total += w
		t += step + w
	}
	return total
}

// fluidQueue is a queue's delay over time: delays[i] seconds at start +
// i*dt.
type fluidQueue struct {
	start, dt float64
	delays    []float64
}

func (q *fluidQueue) delay(t float64) float64 {
	i := int(math.Floor((t - q.start) / q.dt))
	if i < 0 || i >= len(q.delays) {
		return 0
	}
	return q.delays[i]
}

// replayFluid replays a transfer of b bytes one way over n, starting at
// offset (s) with its handshake and request: the sender's window grows
// by what the ACKs of a round trip ago acknowledge (slow start, then one
// segment a round trip after a tail drop halved it), what it sends waits
// in the bottleneck queue (capped at the target's queue: the excess is
// dropped and sent again), the link drains it at the target's rate.
func replayFluid(n replayNet, offset, b float64) fluidQueue {
	const seg, steps = 1448.0, 16 // steps per round trip
	rate := n.rate
	if rate <= 0 || n.rtt <= 0 {
		return fluidQueue{dt: 1}
	}
	q := fluidQueue{start: offset + 2*n.rtt, dt: n.rtt / steps}
	limit := math.Inf(1)
	if n.queue > 0 {
		limit = float64(n.queue) * 1514
	}
	cwnd, ssthresh := float64(defaultIW)*seg, math.Inf(1)
	var sent, acked, queued float64
	var ring [steps]float64 // bytes the link sent, by step of the last round trip
	for i := 0; acked < b && i < 1<<16; i++ {
		a := ring[i%steps] // sent a round trip ago: acknowledged now
		acked += a
		if cwnd < ssthresh {
			cwnd += a
		} else {
			cwnd += a * seg / cwnd
		}
		send := min(b-sent, max(0, cwnd-(sent-acked)))
		sent += send
		queued += send
		if queued > limit {
			drop := queued - limit
			queued, sent = limit, sent-drop
			ssthresh = max(cwnd/2, 2*seg)
			cwnd = ssthresh
		}
		out := min(queued, rate*q.dt)
		queued -= out
		ring[i%steps] = out
		q.delays = append(q.delays, queued/rate)
	}
	return q
}
