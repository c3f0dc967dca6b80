package tcpstate

import "time"

// LegSource says which evidence a leg of the round trip was estimated from.
type LegSource uint8

// Leg sources.
const (
	// LegNone: no evidence; the leg is zero.
	LegNone LegSource = iota
	// LegHandshake: the handshake (SYN→SYN/ACK for the server leg,
	// SYN/ACK→ACK for the client leg).
	LegHandshake
	// LegData: the smallest data→ACK sample of the data going to that end
	// (Karn's rule).
	LegData
	// LegTimestamps: the smallest timestamp-echo sample of the segments
	// going to that end (RFC 7323).
	LegTimestamps
)

var legSourceNames = [...]string{"none", "handshake", "data_ack", "timestamps"}

// String returns the source's name as written in reports.
func (s LegSource) String() string {
	if int(s) < len(legSourceNames) {
		return legSourceNames[s]
	}
	return "unknown"
}

// MarshalText makes a LegSource appear by name in JSON.
func (s LegSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Legs is where the capture point sits on the path, as the connection's
// timing tells: the round trip is split at the capture point into a leg
// to each end and back. ToServer is the time from the capture point to
// the server and back (a client segment passing the capture point, then
// the server's answer passing it), ToClient the same towards the client;
// their sum is the whole round trip, wherever the capture was taken. At
// the client ToClient is about zero, at the server ToServer.
//
// Each leg is the smallest of its samples: the handshake's (SYN→SYN/ACK,
// SYN/ACK→ACK), the data→ACK samples of the data going to that end and
// the timestamp echoes of the segments going to that end (data and pure
// ACKs; see Analysis.TSRTT). The smallest is the base leg, without
// queueing or delayed ACKs; the samples above it are the leg under load.
// When the client sent its SYN more than once and the SYN/ACK's
// timestamp echo does not tell which copy it answers (Handshake.Matched),
// SYN→SYN/ACK is not used (Karn's rule, RFC 6298) unless nothing else
// times the server leg, and then from the first SYN, an upper bound.
type Legs struct {
	ToServer, ToClient time.Duration
	// ServerFrom and ClientFrom say which sample gave each leg.
	ServerFrom, ClientFrom LegSource
	// ServerFrames and ClientFrames are the wire lengths of the two
	// frames that timed each leg: the one that passed the capture point
	// toward that end, then its answer coming back (SYN and SYN/ACK for
	// the handshake's server leg; a data segment and its ACK; a segment
	// and the one echoing its timestamp). A bottleneck between the capture
	// point and that end serialized them inside the leg. Zero when the
	// leg is unknown, or a length unknown (Segment.WireLen 0); clamped
	// to 65,535 (a merged offload frame never times a smallest leg).
	ServerFrames, ClientFrames [2]uint16
	// Vantage is where the split places the capture (see Vantage).
	Vantage Vantage
}

// RTT returns the whole base round trip, ToServer + ToClient.
func (l Legs) RTT() time.Duration { return l.ToServer + l.ToClient }

// To returns the leg from the capture point to the receiver of direction
// d's data and back: ToServer for ClientToServer, ToClient for
// ServerToClient.
func (l Legs) To(d Dir) time.Duration {
	if d == ClientToServer {
		return l.ToServer
	}
	return l.ToClient
}

// Known reports whether both legs rest on some evidence.
func (l Legs) Known() bool { return l.ServerFrom != LegNone && l.ClientFrom != LegNone }

// leg is one leg's estimate under way: the smallest sample so far.
type leg struct {
	d   time.Duration
	src LegSource
	w   [2]uint16 // the frames that timed it (Legs.ServerFrames)
}

func (g *leg) offer(d time.Duration, src LegSource, w [2]uint16) {
	if d < 0 || src == LegNone {
		return
	}
	if g.src == LegNone || d < g.d {
		g.d, g.src, g.w = d, src, w
	}
}

// Legs returns the capture point's legs and vantage as estimated so far.
// It is cheap (no allocation; the last result is kept until the handshake
// or a smallest RTT sample changes) and may be called during the pass.
func (c *Conn) Legs() Legs {
	k := legsKey{hs: c.hsGen}
	for d := range c.h {
		k.min[2*d], k.min[2*d+1] = c.h[d].rtt.lowest(), c.h[d].tsrtt.lowest()
	}
	if !c.legsOK || k != c.legsKey {
		c.legsKey, c.legs, c.legsOK = k, c.computeLegs(), true
	}
	return c.legs
}

// legsKey is what Legs depends on: the handshake's changes (Conn.hsGen)
// and each sampler's smallest sample.
type legsKey struct {
	hs  uint32
	min [4]time.Duration
}

// lowest returns the smallest sample, -1 before the first.
func (s *sampler) lowest() time.Duration {
	if s.n == 0 {
		return -1
	}
	return s.min
}

// computeLegs is Legs without its cache.
func (c *Conn) computeLegs() Legs {
	hs := &c.hs
	// toward[d]: the leg to the receiver of direction d's data, d counted
	// from the handshake's client (flow names the SYN's sender the client).
	var toward [2]leg
	toServer, toClient, ok := hs.Legs()
	cl := hs.Client
	if !hs.HaveSYN {
		cl = ClientToServer
	}
	toSYNACK := [2]uint16{hs.SYNWire, hs.SYNACKWire}
	if ok && !hs.Ambiguous() {
		toward[cl].offer(toServer, LegHandshake, toSYNACK)
	}
	if ok {
		toward[cl.Reverse()].offer(toClient, LegHandshake, [2]uint16{hs.SYNACKWire, hs.ACKWire})
	}
	for d := range c.h {
		if h := &c.h[d]; h.rtt.n > 0 {
			toward[d].offer(h.rtt.min, LegData, h.rtt.minWire)
		}
		if h := &c.h[d]; h.tsrtt.n > 0 {
			toward[d].offer(h.tsrtt.min, LegTimestamps, h.tsrtt.minWire)
		}
	}
	if ok && hs.Ambiguous() && toward[cl].src == LegNone {
		// Nothing else times the server leg: from the first SYN, an
		// upper bound.
		toward[cl].offer(hs.SYNACK.Sub(hs.FirstSYN), LegHandshake, toSYNACK)
	}
	l := Legs{ToServer: toward[cl].d, ServerFrom: toward[cl].src, ServerFrames: toward[cl].w,
		ToClient: toward[cl.Reverse()].d, ClientFrom: toward[cl.Reverse()].src, ClientFrames: toward[cl.Reverse()].w}
	l.Vantage = vantageOf(l)
	return l
}

// vantageOf places the capture from the legs: near the client when the
// server leg is at least 80 % of the round trip, near the server when the
// client leg is, in the middle otherwise; unknown without both legs, or
// when the round trip is under 200 µs (loopback, one host).
func vantageOf(l Legs) Vantage {
	if !l.Known() {
		return VantageUnknown
	}
	a, b := l.ToServer, l.ToClient
	if a+b < 200*time.Microsecond {
		return VantageUnknown
	}
	f := float64(a) / float64(a+b)
	switch {
	case f >= 0.8:
		return VantageClient
	case f <= 0.2:
		return VantageServer
	}
	return VantageMiddle
}

// Vantage infers where the capture was taken from the legs (see Legs):
// the handshake's split, and the smallest data→ACK and timestamp samples
// of each direction.
func (c *Conn) Vantage() Vantage { return c.Legs().Vantage }
