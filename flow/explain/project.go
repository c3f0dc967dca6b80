package explain

import "time"

// rtoMin is the smallest retransmission timeout of Linux (200 ms); a
// timeout is about the RTT plus this floor.
const rtoMin = 0.2

// Projection is a connection's duration projected to another base RTT and
// bottleneck rate.
type Projection struct {
	// RTTms and RateBps are the RTT and rate projected to.
	RTTms   float64 `json:"rtt_ms"`
	RateBps float64 `json:"rate_bytes_per_s"`
	// DurationS is the projected duration; Budget its parts.
	DurationS float64 `json:"duration_s"`
	Budget    Budget  `json:"budget"`
	// RoundTrips counts the round trips the session pays at that RTT:
	// handshake, application turns and slow-start rounds whose window
	// does not fill the path.
	RoundTrips int `json:"round_trips"`
	// SlowStartRounds is the part of RoundTrips spent growing windows.
	SlowStartRounds int `json:"slow_start_rounds"`
}

// Project returns the connection's duration projected to base round-trip
// time rtt and bottleneck rate bytesPerSec (zero keeps the observed
// value).
//
// Think times and zero-window stalls stay; the handshake, application
// turns, receiver-window stalls and loss recovery scale with the RTT;
// retransmission timeouts scale with RTT plus a 200 ms floor; transfer
// scales with the rate (only when the observed rate is known: a
// connection without back-to-back data segments, such as a chatty session
// of one-segment answers, keeps its serialization inside the far side's
// think time, and a rate change leaves it as it is). Window waits are
// replayed: each bulk phase is
// sent in slow-start rounds from the initial window, doubling per round,
// each round that does not fill the path (window x segment time < RTT)
// leaving the link idle for the rest of the round trip; the projected
// window wait is the observed one plus the replayed idle time at the new
// RTT and rate minus the replayed idle time at the observed ones.
func (c *Conn) Project(rtt time.Duration, bytesPerSec float64) Projection {
	r := c.RTTms / 1000
	r2 := rtt.Seconds()
	if r2 <= 0 {
		r2 = r
	}
	R, R2 := c.RateBps, bytesPerSec
	if R2 <= 0 {
		R2 = R
	}
	kRTT, kRate := 1.0, 1.0
	if r > 0 {
		kRTT = r2 / r
	}
	if R > 0 && R2 > 0 {
		kRate = R / R2
	}
	b := c.Budget
	p := Projection{RTTms: r2 * 1000, RateBps: R2}
	q := &p.Budget
	q.HandshakeS = b.HandshakeS * kRTT
	q.ClientThinkS = b.ClientThinkS
	q.ServerThinkS = b.ServerThinkS
	q.RoundTripS = b.RoundTripS * kRTT
	q.TransferS = b.TransferS * kRate
	idle0, _ := c.Model.replay(r, R)
	idle1, rounds := c.Model.replay(r2, R2)
	q.WindowWaitS = max(0, b.WindowWaitS+idle1-idle0)
	q.ReceiverWindowS = b.ReceiverWindowS * kRTT
	q.ZeroWindowS = b.ZeroWindowS
	q.LossRecoveryS = b.LossRecoveryS * kRTT
	q.RTOS = b.RTOS * (rtoMin + r2) / (rtoMin + r)
	q.DurationS = q.Sum()
	p.DurationS = q.DurationS
	p.SlowStartRounds = rounds
	p.RoundTrips = c.Model.RoundTrips + rounds
	if b.HandshakeS > 0 {
		p.RoundTrips++
	}
	return p
}

// replay runs the bulk phases through slow start at base RTT rtt (s) and
// rate (bytes/s) and returns the time the link sits idle waiting for ACKs
// and the number of such rounds. Each direction keeps its own window
// across phases.
func (m *Model) replay(rtt, rate float64) (idle float64, rounds int) {
	if rtt <= 0 || rate <= 0 {
		return 0, 0
	}
	iw := m.InitialWindow
	if iw <= 0 {
		iw = defaultIW
	}
	w := [2]int{iw, iw}
	for _, ph := range m.Phases {
		k := 0
		if ph.FromServer {
			k = 1
		}
		if ph.Segments == 0 {
			continue
		}
		seg := float64(ph.WireBytes) / float64(ph.Segments) / rate
		rem := ph.Segments
		for rem > w[k] {
			fl := float64(w[k]) * seg
			if fl >= rtt {
				break // the window fills the path: the rest streams at the rate
			}
			idle += rtt - fl
			rounds++
			rem -= w[k]
			w[k] = min(2*w[k], 1<<20)
		}
	}
	return idle, rounds
}
