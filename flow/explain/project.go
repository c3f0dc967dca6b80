package explain

import (
	"math"
	"time"

	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// rtoMin is the smallest retransmission timeout of Linux (200 ms); a
// timeout is about the RTT plus this floor.
const rtoMin = 0.2

// dupThresh is the duplicate ACKs a fast retransmit waits for (RFC 5681).
const dupThresh = 3.0

// DefaultRWnd is the receive window a projection assumes at the target
// when Target.RWnd is zero: the largest Linux's autotuning grows to by
// default (the third field of net.ipv4.tcp_rmem, 6 MB), which no path of
// the projections here fills.
const DefaultRWnd = 6 << 20

// Target is a network to project a connection onto (Conn.ProjectTo). Its
// zero value keeps the observed network.
type Target struct {
	// RTT is the base round-trip time as the handshake (or a ping) times
	// it: the path and the bottleneck's serialization of its two small
	// frames; zero keeps the observed. Each turn's round trip at the
	// target is this less the serialization at Rate of the connection's
	// SYN and SYN/ACK (Legs.HandshakeBytes: those whose direction's
	// serialization the turns price; without a handshake, two frames of
	// pingFrame bytes).
	RTT time.Duration
	// Rate is the bottleneck rate; zero keeps the observed.
	Rate units.BitRate
	// Loss is the target's packet loss probability in each direction (0
	// to 1), used when LossKnown is set (compare's -loss). Without it the
	// observed losses are priced at the target's RTT.
	Loss      float64
	LossKnown bool
	// QueueFrames is the bottleneck queue's limit in frames (compare's
	// -queue); zero: deep enough that no flight overflows it.
	QueueFrames int
	// RWnd is the largest receive window at the target in bytes (Linux's
	// autotuning maximum; compare's -rwnd); zero: DefaultRWnd.
	RWnd int
	// LossS2C, when LossS2CKnown is set too, is the loss probability from
	// server to client, Loss then being the client to server one
	// (compare's -loss P,Q): paths often lose more one way (a radio
	// uplink, a congested upstream).
	LossS2C      float64
	LossS2CKnown bool
}

// Projection is a connection's duration projected to another base RTT and
// bottleneck rate.
type Projection struct {
	// RTT and Rate are the RTT and rate projected to.
	RTT  time.Duration `json:"rtt_ms"`
	Rate units.BitRate `json:"rate_bytes_per_s"`
	// Duration is the projected duration (the expected case); Budget its
	// parts.
	Duration time.Duration `json:"duration_s"`
	Budget   Budget        `json:"budget"`
	// Best and Worst bound the duration for what the projection cannot
	// know: with a known loss rate, no random loss at all and the
	// expected losses plus two standard deviations (Poisson); without
	// one, the observed losses gone and kept. Both equal Duration when
	// nothing is uncertain.
	Best  time.Duration `json:"best_s"`
	Worst time.Duration `json:"worst_s"`
	// RoundTrips counts the round trips the session pays at that RTT:
	// handshake, application turns and slow-start rounds whose window
	// does not fill the path.
	RoundTrips int `json:"round_trips"`
	// SlowStartRounds is the part of RoundTrips spent growing windows.
	SlowStartRounds int `json:"slow_start_rounds"`
	// Losses is the number of losses priced at the target: the expected
	// random losses (Target.Loss) and the tail drops of flights that
	// overflow the queue (Target.QueueFrames).
	Losses float64 `json:"losses"`
	// Assumptions says what the projection took for granted, in words.
	Assumptions []string `json:"assumptions"`
}

// MarshalJSON writes the projection with its durations and rate in the
// units their names state.
func (p Projection) MarshalJSON() ([]byte, error) { return units.MarshalJSON(p) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (p Projection) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, p) }

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Projection) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, p) }

// Project returns the connection's duration projected to base round-trip
// time rtt and bottleneck rate (zero keeps the observed value): ProjectTo
// with only those two given.
func (c *Conn) Project(rtt time.Duration, rate units.BitRate) Projection {
	return c.ProjectTo(Target{RTT: rtt, Rate: rate})
}

// ProjectTo returns the connection's duration projected onto network t.
//
// Think times and zero-window stalls stay: they are the hosts'. The
// handshake costs one RTT and what the hosts took beyond it; application
// turns, receiver-window stalls and loss recovery scale with the RTT (the
// turns at most one RTT per request answered); retransmission timeouts
// with RTT plus a 200 ms floor; transfer (each exchange's serialization
// at the bottleneck) with the rate; queueing behind other traffic is
// replayed at the target when the connection lists Cross flows (see
// crossQueue), else scaled with the rate;
// queueing behind the connection's own data shrinks with a faster rate and
// never grows (see the package doc, What-if). Window waits are replayed: each bulk phase is
// sent in slow-start rounds from the initial window (restarted after an
// idle time over the RTO, RFC 5681 section 4.1, as Linux does), doubling
// per round up to the receive window; a round that does not fill the path
// leaves the link idle for the rest of the round trip, and a phase's last
// flight, which the window does not limit, is paced as Linux paces it
// (pacedSpread). The wait the replay does not explain (ACK clocking,
// other senders' pacing) scales down with the RTT and never up. With the
// target's loss known, the observed losses are dropped and the target's
// priced instead: a loss inside a bulk phase is repaired
// by fast recovery while the queue keeps the link busy, and costs only the
// halved window's regrowth when the queue is too shallow to keep the link
// busy after halving it (Mathis et al.'s sawtooth, one segment per round
// trip; none with a deep or unknown queue); any other loss (a lone request
// or answer, a flight's tail) costs a timeout of Linux's tail-loss probe
// or RTO, about 200 ms plus two RTTs; a slow-start flight that overflows
// the queue costs the regrowth once.
func (c *Conn) ProjectTo(t Target) Projection {
	k := newScales(c, t)
	b := secondsOf(&c.Budget)
	p := projS{RTTms: k.r2 * 1000, RateBps: k.R2}
	q := &p.Budget
	c.scaleParts(q, k)
	dst := replayNet{rtt: k.r2, rate: k.R2, rwnd: t.RWnd, queue: t.QueueFrames}
	if dst.rwnd <= 0 {
		dst.rwnd = DefaultRWnd
	}
	rep0 := c.Model.replay(replayNet{rtt: k.r, rate: k.R, rwnd: DefaultRWnd})
	rep1 := c.Model.replay(dst)
	rest := max(0, b.p[CauseWindowWait]-rep0.idle)
	q.p[CauseWindowWait] = rep1.idle + rest*min(1, k.kRTT)
	spread := c.priceLoss(&p, t, dst, k)
	regrow := float64(rep1.overflows) * regrowIdle(dst, c.meanWire())
	if rep1.overflows > 0 {
		// recovered by SACK while the queue keeps the link busy; what
		// costs is the halved window's regrowth when the queue is
		// shallower than the path
		q.p[CauseLossRecovery] += regrow
		p.Losses += float64(rep1.drops)
		p.Assumptions = append(p.Assumptions, "slow start overflows the queue: tail drops recovered while the queue keeps the link busy")
	}
	if t.RWnd <= 0 {
		p.Assumptions = append(p.Assumptions, "receive window: autotuned up to 6 MB (Linux's default)")
	}
	if c.RateFrom == RateUnknown {
		p.Assumptions = append(p.Assumptions, "capture's rate unknown: serialization inside think time stays")
	}
	if len(c.Cross) > 0 {
		// the other connections' queue at the target, replayed, in place
		// of what they made the connection wait on the captured link
		q.p[CauseQueueCross] = 0
		q.p[CauseQueueCross] = c.crossQueue(dst, q.Sum())
		p.Assumptions = append(p.Assumptions, "cross traffic: the other connections between the hosts replayed at the target, at the same start times")
	}
	if think := q.ThinkS(); think > thinkShare*q.Sum() && (k.kRTT < 1/thinkRTTRatio || k.kRTT > thinkRTTRatio) {
		p.Assumptions = append(p.Assumptions, assumeThink)
	}
	q.DurationS = q.Sum()
	p.DurationS = q.DurationS
	p.BestS, p.WorstS = p.DurationS, p.DurationS
	if t.LossKnown {
		p.BestS = p.DurationS - (q.p[CauseLossRecovery] + q.p[CauseRTO]) + regrow
		p.WorstS = p.DurationS + spread
	} else if lost := q.p[CauseLossRecovery] + q.p[CauseRTO]; lost > 0 {
		p.BestS = p.DurationS - lost
	}
	p.SlowStartRounds = rep1.rounds
	p.RoundTrips = c.Model.RoundTrips + rep1.rounds
	if b.p[CauseHandshake] > 0 {
		p.RoundTrips++
	}
	return p.projection()
}

// A projection names the think time it carries (assumeThink) when think
// is over thinkShare of the projected duration and the target's RTT is
// more than thinkRTTRatio times shorter or longer than the capture's.
// The hosts' time a turn follows the idle time before the turn, not the
// path: the lab's PostgreSQL server spent 0.14 ms a turn on a LAN with
// turns 1 ms apart, 0.44 ms on the same LAN with turns 50 ms apart and
// 0.54 ms on a 50 ms path (testdata/lab/think, TestThinkFollowsIdle). A
// capture shows its hosts at one idle time only, so the think stays as
// captured and the projection says so.
const (
	thinkShare    = 0.1
	thinkRTTRatio = 2.0
	assumeThink   = "think time as captured: the hosts' time a turn changes with the idle time between turns (often less when turns come closer together, more when further apart)"
)

// scales are a projection's RTTs (s), rates (bytes/s) and their ratios:
// observed and target.
//
// p and p2 are the path's round trip without the serialization of the
// frames that timed it (observed: the legs' frames, Legs.Serialization;
// at the target: the handshake's at its rate, see Target.RTT), kPath
// their ratio: what a turn's round trip scales by.
type scales struct {
	r, r2, R, R2, kRTT, kRate float64
	p, p2, kPath              float64
}

// pingFrame is the wire length of a SYN with the options Linux sends
// over IPv4 and Ethernet (MSS, SACK permitted, timestamps, window
// scale): the frame size a target's RTT is taken to be timed with when
// the connection's own handshake was not captured.
const pingFrame = 74

func newScales(c *Conn, t Target) scales {
	k := scales{r: c.RTT.Seconds(), r2: t.RTT.Seconds(), R: c.Rate.BytesPerSecond(), R2: float64(t.Rate) / 8, kRTT: 1, kRate: 1}
	if k.r2 <= 0 {
		k.r2 = k.r
	}
	if k.R2 <= 0 {
		k.R2 = k.R
	}
	if k.r > 0 {
		k.kRTT = k.r2 / k.r
	}
	if k.R > 0 && k.R2 > 0 {
		k.kRate = k.R / k.R2
	}
	k.p, k.p2, k.kPath = k.r, k.r2, k.kRTT
	if ser := c.Legs.Serialization.Seconds(); ser > 0 && ser < k.r && k.R2 > 0 {
		k.p = k.r - ser
		k.p2 = k.p
		if t.RTT > 0 {
			hs := c.Legs.HandshakeBytes
			if hs <= 0 {
				hs = 2 * pingFrame
			}
			k.p2 = max(0, k.r2-float64(hs)/k.R2)
		}
		k.kPath = k.p2 / k.p
	}
	return k
}

// scaleParts prices the parts that do not need a replay into q.
func (c *Conn) scaleParts(q *budgetS, k scales) {
	b := secondsOf(&c.Budget)
	if b.p[CauseHandshake] > 0 {
		// one round trip, and what the hosts took beyond it
		q.p[CauseHandshake] = b.p[CauseHandshake] * k.kRTT
		if b.p[CauseHandshake] > k.r {
			q.p[CauseHandshake] = k.r2 + b.p[CauseHandshake] - k.r
		}
	}
	q.p[CauseClientThink] = b.p[CauseClientThink]
	q.p[CauseServerThink] = b.p[CauseServerThink]
	q.p[CauseRoundTrip] = b.p[CauseRoundTrip] * k.kPath
	if n := c.Model.RoundTrips; n > 0 && k.kPath > 1 {
		// a round trip per request answered; crossings beyond those on a
		// short path (the hosts' quick reactions) do not grow with the RTT
		q.p[CauseRoundTrip] = min(q.p[CauseRoundTrip], max(b.p[CauseRoundTrip], float64(n)*k.p2))
	}
	q.p[CauseTransfer] = b.p[CauseTransfer] * k.kRate
	q.p[CauseQueueSelf] = b.p[CauseQueueSelf] * min(1, k.kRate)
	q.p[CauseQueueCross] = b.p[CauseQueueCross] * k.kRate
	q.p[CauseReceiverWindow] = b.p[CauseReceiverWindow] * k.kRTT
	q.p[CauseZeroWindow] = b.p[CauseZeroWindow]
}

// priceLoss prices the losses into p's budget: the target's when t gives
// its loss rate (returning two standard deviations of their cost), else
// the observed ones at the target's RTT, but for the waits on SYN or
// SYN/ACK timers (Model.SYNTimeouts: the initial RTO, whatever the RTT).
func (c *Conn) priceLoss(p *projS, t Target, dst replayNet, k scales) (spread float64) {
	q, b := &p.Budget, secondsOf(&c.Budget)
	if !t.LossKnown {
		syn := c.Model.SYNTimeouts.Seconds()
		q.p[CauseLossRecovery] = b.p[CauseLossRecovery] * k.kRTT
		q.p[CauseRTO] = max(0, b.p[CauseRTO]-syn)*(rtoMin+k.r2)/(rtoMin+k.r) + syn
		p.Assumptions = append(p.Assumptions, "loss unknown: the observed losses kept, priced at the target's RTT")
		return 0
	}
	var nb, nl float64
	for d, st := range [2]*SegmentStats{&c.SegmentsC2S, &c.SegmentsS2C} {
		pl := t.lossIn(tcpstate.Dir(d))
		bulk := float64(st.BulkSegments)
		lone := max(0, float64(st.Segments)-bulk)
		// the last segments of each bulk phase are tails: lost, they draw
		// too few duplicate ACKs for a fast retransmit and wait for a
		// timeout as a lone segment does (lab loss1-pg-fetch100: both
		// answers whose last segment was lost waited 0.343 s, frames 369
		// and 383)
		if ph := float64(st.BulkPhases); ph > 0 {
			tails := ph * min(dupThresh, bulk/ph)
			bulk, lone = bulk-tails, lone+tails
		}
		nb, nl = nb+pl*bulk, nl+pl*lone
	}
	q.p[CauseLossRecovery] = nb * regrowIdle(dst, c.meanWire())
	q.p[CauseRTO] = nl * (rtoMin + 2*k.r2)
	p.Losses = nb + nl
	if n := nb + nl; n > 0 {
		spread = 2 * math.Sqrt(n) * (q.p[CauseLossRecovery] + q.p[CauseRTO]) / n
	}
	p.Assumptions = append(p.Assumptions, "loss given: the observed losses dropped, the target's priced")
	return spread
}

// lossIn returns the target's loss probability in direction d (clamped
// to 0..1): Loss, or LossS2C from server to client when that is given.
func (t Target) lossIn(d tcpstate.Dir) float64 {
	p := t.Loss
	if d == tcpstate.ServerToClient && t.LossS2CKnown {
		p = t.LossS2C
	}
	if math.IsNaN(p) {
		return 0
	}
	return min(max(p, 0), 1)
}

// meanWire returns the mean wire size of the connection's bulk segments
// (1514 bytes when none).
func (c *Conn) meanWire() float64 {
	var w, n uint64
	for _, ph := range c.Model.Phases {
		w += ph.WireBytes
		n += uint64(ph.Segments)
	}
	if n == 0 {
		return 1514
	}
	return float64(w) / float64(n)
}

// pacingSS is Linux's pacing rate in slow start as a multiple of the
// window's rate, cwnd x MSS / SRTT (net.ipv4.tcp_pacing_ss_ratio, 200 %).
const pacingSS = 2.0

// pacedSpread returns how much longer than back to back a flight of segs
// segments of wire bytes, which a window of w segments does not limit,
// takes when Linux paces it at pacingSS times cwnd x MSS / RTT: cwnd is
// w or, grown in slow start, twice the flight (Linux grows it only while
// the window limits: tcp_is_cwnd_limited), so an answer is spread over
// about a quarter of the RTT. On a long path that
// outlasts the flight's serialization (lab geo-pg-fetch100, 600 ms at 2
// Mbit/s: answers of nine segments arrive 18 ms apart, frames 31-43, not
// the 6 ms of the link; m20, 50 ms at 20 Mbit/s: 1.16 ms apart, not 0.6).
func pacedSpread(n replayNet, segs int, wire float64, w int) float64 {
	if segs < 2 {
		return 0
	}
	cwnd := float64(max(w, 2*segs))
	paced := wire * n.rtt / (pacingSS * cwnd * max(wire-66, 1))
	return float64(segs-1) * max(0, paced-wire/n.rate)
}

// replayNet is the network a replay runs on: base RTT (s), rate
// (bytes/s), receive window (bytes) and queue limit (frames, 0: deep).
type replayNet struct {
	rtt, rate float64
	rwnd      int
	queue     int
}

// replayed is what a replay found: the time the link sat idle waiting
// for ACKs and the rounds of it, the flights that overflowed the queue
// and the segments they lost.
type replayed struct {
	idle      float64
	rounds    int
	overflows int
	drops     int
}

// bdpSegments returns the path's bandwidth-delay product in segments of
// wire bytes seg.
func (n replayNet) bdpSegments(seg float64) float64 {
	return n.rtt * n.rate / seg
}

// regrowIdle returns the idle time a loss in a bulk phase costs after
// fast recovery: the window halves from what the path and queue held; when
// that is below the path's BDP the link idles while it grows back by one
// segment per round trip (0 with a deep or unknown queue).
func regrowIdle(n replayNet, seg float64) float64 {
	if n.queue <= 0 || n.rate <= 0 || seg <= 0 {
		return 0
	}
	bdp := n.bdpSegments(seg)
	w := (bdp + float64(n.queue)) / 2
	if w >= bdp {
		return 0
	}
	return (bdp - w) * (bdp - w) / (2 * bdp) * n.rtt
}

// replay runs the bulk phases through slow start on network n and returns
// what it found. Each direction keeps its own window across phases,
// restarting from the initial window after an idle time over the RTO
// (about the RTT plus 200 ms) and capped by the receive window; a flight
// that would exceed the path and the queue (n.queue frames) overflows it
// once per direction, the window then halved.
func (m *Model) replay(n replayNet) replayed {
	var out replayed
	if n.rtt <= 0 || n.rate <= 0 {
		return out
	}
	iw := m.InitialWindow
	if iw <= 0 {
		iw = defaultIW
	}
	w := [2]int{iw, iw}
	overflowed := [2]bool{}
	for _, ph := range m.Phases {
		k := 0
		if ph.FromServer {
			k = 1
		}
		if ph.Segments == 0 {
			continue
		}
		wire := float64(ph.WireBytes) / float64(ph.Segments)
		if ph.IdleBefore.Seconds() > rtoMin+n.rtt {
			w[k] = iw
		}
		cap := max(1, int(float64(n.rwnd)/max(wire-66, 1)))
		seg := wire / n.rate
		rem := ph.Segments
		for rem > min(w[k], cap) {
			fl := float64(min(w[k], cap)) * seg
			if fl >= n.rtt {
				break // the window fills the path: the rest streams at the rate
			}
			out.idle += n.rtt - fl
			out.rounds++
			rem -= min(w[k], cap)
			w[k] = min(2*w[k], 1<<20)
		}
		if rem <= min(w[k], cap) {
			out.idle += pacedSpread(n, rem, wire, w[k])
		}
		if n.queue > 0 && !overflowed[k] {
			// slow start goes on while the rest streams: the window reaches
			// path + queue after about twice that many segments
			limit := n.bdpSegments(wire) + float64(n.queue)
			if float64(min(w[k], cap)) > limit || float64(rem) > 2*limit && float64(cap) > limit {
				overflowed[k] = true
				out.overflows++
				out.drops += int(math.Ceil(limit / 2))
				w[k] = max(iw, int(limit/2))
			}
		}
	}
	return out
}
