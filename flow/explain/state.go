package explain

import (
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// dirState is one direction's sending state, its receiver's ACKs of it,
// and what its sender tells the other direction (its window, its ACK
// times).
type dirState struct {
	segs, bytes, wire uint64
	maxSeg            int
	small             uint64 // data segments below the MSS
	acks              AckStats
	segStats          SegmentStats
	ackValid          bool
	ackHigh           tcpstate.Seq // receiver's highest ACK of this direction
	// ends holds the data segments not yet acknowledged, oldest first.
	ends         endRing
	holeOpen     bool
	endsReleased bool // ends' emptied storage was released (releaseEnds)
	holeEnd      tcpstate.Seq
	// mss is the direction's effective MSS (tcpstate.Conn.EffectiveMSS)
	// after the latest packet, and mssFrom what it rests on.
	mss     int
	mssFrom tcpstate.MSSSource

	// This side as the receiver of the other direction: its window.
	win      uint64 // the last advertised window, in bytes
	winKnown bool
	zeroWin  bool // advertised a zero window since the last event
	winZero  bool // the last advertised window is zero
	// flight is this direction's data in flight after the previous
	// packet (tcpstate.Conn.InFlight), valid if flightOK.
	flight   uint32
	flightOK bool

	// trig holds the times of this side's latest packets that advanced
	// the ACK of the other direction's data or opened its window: what
	// may have released the other side's next data.
	trig     [16]int64
	trigHead uint8
	trigLen  uint8

	// The bottleneck rate of this direction's data: the spacing of its
	// back-to-back data (dataSp) and of the ACKs of it (ackSp).
	dataSp   *spacing
	ackSp    *spacing
	lastData int64 // time of the latest data segment
	lastWire int   // and its wire bytes
	lastAdv  int64 // time of the latest ACK advance of this data
	advMore  bool  // data was still unacknowledged after it
	// link is the bottleneck's backlog of this direction's data, when
	// the capture is upstream of it (see vlink).
	link vlink
	// rtoArmed: the sender is backing off (its latest data was resent on
	// a timeout and not yet acknowledged); a RST from it then ends the
	// backoff.
	rtoArmed bool
}

// runState is the current run of data segments in one direction.
type runState struct {
	active bool
	dir    tcpstate.Dir
	// idleUs is the time from the direction's previous data to the run's
	// first segment in microseconds (saturated; in the struct's padding)
	idleUs      uint32
	segs        int
	bytes       uint64
	wire        uint64
	small       int
	lastSmall   bool
	bins        [5]uint32
	flights     int
	firstFlight int
	firstT      int64
	lastT       int64
	minSpacing  float64
	// gaps ending in the run's segments, by the group of their cause
	// that judges a phase (see phaseGroup)
	gaps [4]time.Duration
}

// turnAcc adds up the crossings toward one side (a gap from the other
// side's event to this side's): the leg to this side and back is round
// trip, then queueing, then this side's think time, less the transfer the
// rate, known at the end, gives the segment that ended each.
type turnAcc struct {
	rt, qSelf, qCross time.Duration
	rest              time.Duration // think time before the transfer split
	wire              uint64        // downstream wire bytes ending the crossings
}

// pendingSmall is the latest new data segment, judged small or full once
// it is known whether more data followed it (tcpstate's EffectiveMSS
// learns from that).
type pendingSmall struct {
	ok    bool
	dir   tcpstate.Dir
	len   int
	inRun bool
}

// connState is one live connection's explanation under way.
type connState struct {
	opts   *Options
	pair   *pairState
	id     int32
	hs     int8 // 0 none, 1 SYN seen, 2 SYN/ACK seen, 3 done, -1 no handshake
	ending tcpstate.Ending
	first  int64
	last   int64
	n      uint64

	legs tcpstate.Legs
	// base is the connection's own base round trip (its legs together),
	// nsamples the round-trip samples tcpstate took.
	base     time.Duration
	nsamples int

	d [2]dirState

	// the last event (data, SYN, FIN, RST or the handshake's end)
	evT     int64
	evDir   tcpstate.Dir
	evValid bool
	evData  bool
	lastDir tcpstate.Dir
	lastIdx uint64 // the latest packet's index
	covered int    // data segments the latest packet's ACK advance covered
	ackMore bool   // and whether data of that direction was still unacknowledged after it

	sum   [numCauses]time.Duration
	turn  [2]turnAcc // by the direction of the event ending the crossing
	turnN int        // requests answered: round trips paid (see noteNew)
	// the side of the latest new data or FIN (the handshake's ACK counts
	// as the client's)
	newDir  tcpstate.Dir
	newSeen bool
	// the wire bytes of the SYN and of the SYN/ACK answering it, by
	// direction (Legs.HandshakeBytes)
	hsWire [2]uint16
	gh     *gapHist // allocated with the first gap kept
	pre    *preRate // an upstream sender's first flights, until its rate is known
	small  pendingSmall

	stalls []Stall
	rtos   int
	synRTO time.Duration // waits on SYN or SYN/ACK timers (in rtos and sum)
	q      connQueue

	turns       int
	payloadDir  tcpstate.Dir
	payloadSeen bool

	run     runState
	phases  []Phase
	dropped int
}

func (cs *connState) init(o *Options, id int, p *pairState) {
	stalls, phases, gh := cs.stalls[:0], cs.phases[:0], cs.gh
	if gh != nil {
		gh.bins = gh.bins[:0]
	}
	ends := [2][]endEntry{cs.d[0].ends.e[:0], cs.d[1].ends.e[:0]}
	sp := [2][2]*spacing{{cs.d[0].dataSp, cs.d[0].ackSp}, {cs.d[1].dataSp, cs.d[1].ackSp}}
	*cs = connState{opts: o, pair: p, id: int32(id), stalls: stalls, phases: phases, gh: gh}
	for k := range cs.d {
		cs.d[k].ends.e = ends[k]
		cs.d[k].dataSp, cs.d[k].ackSp = sp[k][0].reset(), sp[k][1].reset()
	}
}

// add feeds segment s of direction d, with tcpstate's analysis of it (an)
// and the connection's TCP state after it (tc).
func (cs *connState) add(d tcpstate.Dir, s *tcpstate.Segment, an *tcpstate.Analysis, tc *tcpstate.Conn) {
	t := cs.clock(d, s)
	cs.count(d, an)
	if an.Duplicate {
		// A capture copy: its time is the connection's and its labels are
		// counted as tshark counts them; nothing else.
		return
	}
	cs.facts(tc, an)
	ds := &cs.d[d]
	// A hole in d's data: tcpstate's "previous segment not captured" on a
	// segment with data, open until the receiver's ACK reaches it.
	if g := an.Data; !g.Empty() && an.Labels.Has(tcpstate.LostSegment) && !ds.holeOpen {
		ds.holeOpen, ds.holeEnd = true, g.First
	}
	// A hole in the other direction's data its receiver reports in SACK
	// blocks (tcpstate's SACKHole) before the capture has seen any of
	// that data: the capture began inside a loss recovery, which no label
	// can show (the lost bytes and the dup ACKs before were not captured).
	if h := an.SACKHole; !h.Empty() {
		if od := &cs.d[d.Reverse()]; od.segs == 0 && !od.holeOpen {
			od.holeOpen, od.holeEnd = true, h.End
		}
	}
	if cs.hs == 1 || cs.hs == 2 {
		h := tc.Handshake()
		cs.handshake(d, s, t, &h)
	}
	if isEvent(s) && !unneeded(s, an) {
		cs.event(d, s, t, an)
	}
	cs.update(d, s, t, an)
	for k := range cs.d {
		cs.d[k].flight, cs.d[k].flightOK = tc.InFlight(tcpstate.Dir(k))
	}
	cs.queueSample(d, s, an, t)
	if cs.pre != nil {
		cs.resolvePending(false)
	}
	if tc.Closed() {
		for k := range cs.d {
			cs.d[k].releaseEnds()
		}
	}
}

// unneeded reports whether s is a resend of data only that was unneeded
// (tcpstate's spurious retransmission: the receiver had acknowledged the
// data when it passed the capture point) and not sent on a timeout (a
// sender that heard none of the ACKs, lost beyond the capture point, did
// wait): a probe or a fast resend that changes nothing on the timeline,
// so it is no event and costs nothing. Its counts stay (tshark's
// retransmissions).
func unneeded(s *tcpstate.Segment, an *tcpstate.Analysis) bool {
	return an.Labels.Has(tcpstate.SpuriousRetransmission) && an.Cause != tcpstate.CauseTimeout && !s.Flags.Has(tcpstate.SYN) &&
		!s.Flags.Has(tcpstate.FIN) && !s.Flags.Has(tcpstate.RST)
}

// facts reads what tcpstate knows after the segment: the legs, the
// effective MSS of each direction, the ending, the samples taken.
func (cs *connState) facts(tc *tcpstate.Conn, an *tcpstate.Analysis) {
	cs.legs = tc.Legs()
	cs.base = cs.legs.RTT()
	if cs.pair != nil {
		cs.pair.noteLegs(&cs.legs)
	}
	for k := range cs.d {
		cs.d[k].mss, cs.d[k].mssFrom = tc.EffectiveMSS(tcpstate.Dir(k))
	}
	cs.ending = tc.Ending()
	if an.RTT > 0 {
		cs.nsamples++
	}
	if an.TSRTT > 0 {
		cs.nsamples++
	}
}

// count counts tcpstate's labels in the ACK statistics: a retransmission
// in its direction's, a duplicate ACK in the statistics of the data it
// acknowledges.
func (cs *connState) count(d tcpstate.Dir, an *tcpstate.Analysis) {
	if an.Retransmitted() {
		cs.d[d].acks.Retransmissions++
	}
	if an.Labels.Has(tcpstate.DupAck) {
		cs.d[d.Reverse()].acks.DupAcks++
	}
}

// clock starts the connection on its first packet, counts the packet and
// returns its time (Unix nanoseconds), kept from going backwards.
func (cs *connState) clock(d tcpstate.Dir, s *tcpstate.Segment) int64 {
	t := nanos(s.Time)
	if cs.n == 0 {
		cs.first, cs.evT, cs.last = t, t, t
		if s.Flags.Has(tcpstate.SYN) && !s.Flags.Has(tcpstate.ACK) && d == tcpstate.ClientToServer {
			cs.hs = 1
		} else {
			cs.hs = -1
		}
	}
	cs.n++
	if t < cs.last {
		t = cs.last // a clock stepping back: keep time monotonic
	} else {
		cs.last = t
	}
	cs.lastDir, cs.lastIdx = d, s.Index
	return t
}

// handshake follows the handshake as tcpstate tracks it (h, after
// segment s of d) for the budget: the SYN/ACK, then the client's ACK
// that ends it, recorded as a client event. Data before the handshake
// completed as seen (part of it was not captured), or a RST, ends it too.
func (cs *connState) handshake(d tcpstate.Dir, s *tcpstate.Segment, t int64, h *tcpstate.Handshake) {
	if s.Len > 0 && !s.Flags.Has(tcpstate.SYN) && (cs.hs == 1 || d == tcpstate.ServerToClient) {
		cs.hs = 3
		cs.sum[CauseHandshake] += time.Duration(t - cs.evT)
		cs.evT = t
		return
	}
	switch cs.hs {
	case 1:
		if h.HaveSYNACK {
			cs.hs = 2
			cs.hsWire[h.Client], cs.hsWire[h.Client.Reverse()] = h.SYNWire, h.SYNACKWire
		}
	case 2:
		if h.HaveACK {
			cs.hs = 3
			cs.sum[CauseHandshake] += time.Duration(t - cs.evT)
			cs.evT, cs.evDir, cs.evValid, cs.evData = t, tcpstate.ClientToServer, true, false
			cs.newDir, cs.newSeen = tcpstate.ClientToServer, true
		}
	}
}

// inHandshake reports whether the handshake is under way.
func (cs *connState) inHandshake() bool { return cs.hs == 1 || cs.hs == 2 }

// legOf returns the leg from the capture point to the sender of
// direction d's segments and back: the time that side's reaction to what
// just passed the capture point takes to come back (ToClient for the
// client's segments, ToServer for the server's). Unknown legs are zero:
// a capture placed nowhere is taken to be at the client, whose leg is
// then zero and the server's the whole round trip.
func (cs *connState) legOf(d tcpstate.Dir) time.Duration {
	l, _ := cs.legTimed(d)
	return l
}

// legTimed returns legOf(d) and the wire lengths of the frames that timed
// it (tcpstate.Legs' frames): the connection's own, or the pair's.
func (cs *connState) legTimed(d tcpstate.Dir) (time.Duration, [2]uint16) {
	l, f := cs.legs.ToServer, cs.legs.ServerFrames
	if d == tcpstate.ClientToServer {
		l, f = cs.legs.ToClient, cs.legs.ClientFrames
	}
	if cs.pair != nil {
		if p := cs.pair.legs[d]; p > 0 && p < l {
			return p, cs.pair.frames[d]
		}
	}
	return l, f
}

// legFrames returns the serialization at the bottleneck, at the rates
// known so far, of the frames f that timed legOf(d) (legTimed) and
// crossed the bottleneck inside it, and their wire bytes: the frame going
// toward d's sender when the capture is before the bottleneck for it, and
// the answer coming back in d when the capture is after it; each only
// when its direction's rate is known. sigmaD is cs.sigma(d), which the
// caller has at hand.
func (cs *connState) legFrames(d tcpstate.Dir, f [2]uint16, sigmaD float64) (time.Duration, int) {
	var sec float64
	var n int
	if out := d.Reverse(); f[0] > 0 && !cs.downstream(out) {
		if sg := cs.sigma(out); sg > 0 {
			sec, n = sec+float64(f[0])*sg, n+int(f[0])
		}
	}
	if sigmaD > 0 && cs.downstream(d) {
		sec, n = sec+float64(f[1])*sigmaD, n+int(f[1])
	}
	return time.Duration(sec * 1e9), n
}

// pathOf returns leg l to d's sender and back, timed by frames f
// (legTimed), less those frames' serialization (legFrames): the path's own
// time, the part of a turn that is round trip.
func (cs *connState) pathOf(d tcpstate.Dir, l time.Duration, f [2]uint16, sigmaD float64) time.Duration {
	ser, _ := cs.legFrames(d, f, sigmaD)
	return max(0, l-ser)
}

// downstream reports whether the capture point is after the bottleneck
// for direction d's data: nearer its receiver than its sender (data then
// arrives spaced by the bottleneck). Placed nowhere, the capture is taken
// to be at the client.
func (cs *connState) downstream(d tcpstate.Dir) bool {
	l := &cs.legs
	if !l.Known() {
		return d == tcpstate.ServerToClient
	}
	if d == tcpstate.ServerToClient {
		return l.ToClient <= l.ToServer
	}
	return l.ToServer < l.ToClient
}

func think(side tcpstate.Dir) Cause {
	if side == tcpstate.ClientToServer {
		return CauseClientThink
	}
	return CauseServerThink
}
