package explain

import (
	"fmt"
	"time"

	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Queueing delay: a round trip under load less the base RTT. Only samples
// that hold no think time are used: a timestamp echo of a pure ACK's
// TSval by data of the other side (sent when the ACK arrived: ACK
// clocking; tcpstate.Analysis.TSEchoAck), and a data->ACK sample of a
// pure ACK covering two or more segments, or one while more data was
// still coming (sent at once, RFC 5681, not on the delayed-ACK timer,
// which only fires when nothing more arrives).
const (
	// queueWindow is how far back a connection looks for its host pair's
	// samples when it prices a turn; within queueRecent of the turn the
	// smallest sample counts (a delayed ACK among them does not), else the
	// latest one.
	queueWindow = 250 * time.Millisecond
	queueRecent = 60 * time.Millisecond
	// queueRing is how many of the latest samples are kept per leg.
	queueRing = 8
)

// qSample is one queueing-delay sample: when it was taken, the delay in
// microseconds and the connection (flow's ID) it came from.
type qSample struct {
	t    int64
	q    int32
	conn int32
}

// qRing holds a leg's latest samples.
type qRing struct {
	e    [queueRing]qSample
	n    uint8
	next uint8
}

func (r *qRing) add(x qSample) {
	r.e[r.next] = x
	r.next = (r.next + 1) % queueRing
	r.n = min(r.n+1, queueRing)
}

// now returns the queueing delay at t: the smallest of the samples taken
// within queueRecent before t, else the latest within queueWindow; and
// the connection it came from (ok false when none). A queue filling up
// grows by its drain rate: the samples of the last few round trips of
// ACKs, not of the last round trip, tell its level.
func (r *qRing) now(t int64) (time.Duration, int32, bool) {
	var best, latest qSample
	ok, any := false, false
	for i := uint8(0); i < r.n; i++ {
		x := r.e[i]
		if x.t > t || t-x.t > int64(queueWindow) {
			continue
		}
		if !any || x.t > latest.t {
			latest, any = x, true
		}
		if t-x.t <= int64(queueRecent) && (!ok || x.q < best.q) {
			best, ok = x, true
		}
	}
	if !ok {
		best, ok = latest, any
	}
	return time.Duration(best.q) * time.Microsecond, best.conn, ok
}

// pairState is the record of one pair of hosts with live connections:
// the latest queueing samples of each leg, indexed by the direction of
// the segments whose sender is at that leg's end (see connState.legOf).
// Every connection between the two hosts sees the same bottleneck queue.
//
// legs holds the smallest legs its connections have measured (the leg to
// the sender of each direction's segments; 0: none yet): the same path,
// so a connection opened into a full queue, whose own handshake timed the
// queue too, prices its turns with the base legs the others saw;
// frames are the wire lengths of the frames that timed each
// (tcpstate.Legs' frames).
type pairState struct {
	key    hostPair
	refs   int
	q      [2]qRing
	legs   [2]time.Duration
	frames [2][2]uint16
	// live and ended are the pair's connections, for their cross
	// traffic (see CrossFlow): the live ones as far as there is room, the
	// latest ended ones.
	live   [maxPairConns]*connState
	ended  [maxPairConns]pairConn
	nended int
}

// noteLegs offers a connection's legs to the pair.
func (p *pairState) noteLegs(l *tcpstate.Legs) {
	if l.ClientFrom != tcpstate.LegNone && (p.legs[0] == 0 || l.ToClient < p.legs[0]) {
		p.legs[0], p.frames[0] = l.ToClient, l.ClientFrames
	}
	if l.ServerFrom != tcpstate.LegNone && (p.legs[1] == 0 || l.ToServer < p.legs[1]) {
		p.legs[1], p.frames[1] = l.ToServer, l.ServerFrames
	}
}

// connQueue is a connection's own queueing samples, per leg (indexed as
// pairState.q): the latest four (in microseconds); and the largest of
// their smallest.
type connQueue struct {
	last    [2][4]int32
	n       [2]int
	samples int
	max     time.Duration
}

func (q *connQueue) add(leg tcpstate.Dir, d time.Duration) {
	l := &q.last[leg]
	l[q.n[leg]%4] = int32(min(d/time.Microsecond, 1<<31-1))
	q.n[leg]++
	q.samples++
	m := l[0]
	for i := 1; i < min(q.n[leg], 4); i++ {
		m = min(m, l[i])
	}
	q.max = max(q.max, time.Duration(m)*time.Microsecond)
}

// queueSample takes the queueing-delay sample segment s of d gives, if
// any, for the connection and its host pair.
func (cs *connState) queueSample(d tcpstate.Dir, s *tcpstate.Segment, an *tcpstate.Analysis, t int64) {
	var rtt time.Duration
	switch {
	case an.TSRTT > 0 && an.TSEchoAck && s.Len > 0:
		rtt = an.TSRTT
	case an.RTT > 0 && s.Len == 0 && (cs.covered >= 2 || cs.covered == 1 && cs.ackMore):
		rtt = an.RTT
	default:
		return
	}
	if cs.legs.ClientFrom == tcpstate.LegNone && cs.legs.ServerFrom == tcpstate.LegNone {
		return
	}
	q := max(0, rtt-cs.legOf(d))
	cs.q.add(d, q)
	if cs.pair != nil {
		cs.pair.q[d].add(qSample{t: t, q: int32(min(q/time.Microsecond, 1<<31-1)), conn: cs.id})
	}
}

// queueNow returns the queueing delay on the leg to direction d's sender
// at t, from the host pair's samples, and whether they came from the
// connection itself (self-inflicted) rather than other traffic.
func (cs *connState) queueNow(d tcpstate.Dir, t int64) (time.Duration, bool) {
	if cs.pair == nil {
		return 0, true
	}
	q, from, ok := cs.pair.q[d].now(t)
	if !ok {
		return 0, true
	}
	return q, from == cs.id
}

// result returns the connection's Queue figures at base RTT base and rate
// bytesPerSec.
func (q *connQueue) result(base time.Duration, bytesPerSec float64) Queue {
	out := Queue{Samples: q.samples, MaxDelay: q.max}
	if q.samples > 0 {
		out.LoadedRTT = base + q.max
	}
	out.MaxBytes = q.max.Seconds() * bytesPerSec
	return out
}

// QueueCheck is one pathdiag-style check of the bottleneck queue a
// connection saw (Mathis, Heffner and Reddy's NPAD: a target rate and RTT,
// pass or fail, an action), for a report or a verdict to show.
type QueueCheck struct {
	// Name is "queue_too_small" or "bufferbloat".
	Name string `json:"name"`
	Pass bool   `json:"pass"`
	// Measured and Limit are the figure and what it is held to: the
	// largest queue and the target's bandwidth-delay product in bytes, or
	// the largest queueing delay and half the target RTT in milliseconds.
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Detail   string  `json:"detail"`
	Action   string  `json:"action,omitempty"`
}

// QueueChecks holds c's queue to a target rate and RTT (a zero field of
// target keeps the connection's own):
//
//   - queue_too_small fails when the connection lost data (a
//     retransmission by fast retransmit, SACK or timeout) while its
//     largest queue stayed below target rate x target RTT: the bottleneck
//     drops before a sender reaches the target, so no single connection
//     will fill the path without loss;
//   - bufferbloat fails when the largest queueing delay exceeds half the
//     target RTT: under load every other exchange on the path waits that
//     much longer.
//
// A check is left out when its figures are unknown (no rate, no samples).
func QueueChecks(c *Conn, target WhatIf) []QueueCheck {
	rtt, rate := target.RTT.Seconds(), target.Rate.BytesPerSecond()
	if rtt <= 0 {
		rtt = c.RTT.Seconds()
	}
	if rate <= 0 {
		rate = c.Rate.BytesPerSecond()
	}
	var out []QueueCheck
	if c.Queue.Samples > 0 && rate > 0 && rtt > 0 {
		bdp := rate * rtt
		lost := c.Model.RTOs > 0 || c.Budget.LossRecovery > 0
		q := QueueCheck{Name: "queue_too_small", Pass: !lost || c.Queue.MaxBytes >= bdp, Measured: c.Queue.MaxBytes, Limit: bdp,
			Detail: fmt.Sprintf("largest queue %.0f B against the target's %.0f B (rate x RTT); loss seen: %v", c.Queue.MaxBytes, bdp, lost)}
		if !q.Pass {
			q.Action = "enlarge the bottleneck buffer to at least the target rate x RTT, or pace the sender below the rate"
		}
		out = append(out, q)
	}
	if c.Queue.Samples > 0 && rtt > 0 {
		half := rtt * 1000 / 2
		delay := units.Ms(c.Queue.MaxDelay)
		q := QueueCheck{Name: "bufferbloat", Pass: delay <= half, Measured: delay, Limit: half,
			Detail: fmt.Sprintf("largest queueing delay %.1f ms against half the target RTT, %.1f ms", delay, half)}
		if !q.Pass {
			q.Action = "shorten the bottleneck queue: active queue management (fq_codel, CAKE) or a smaller buffer"
		}
		out = append(out, q)
	}
	return out
}
