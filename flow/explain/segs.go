package explain

import (
	"math"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// endEntry is an unacknowledged data segment: its end and wire bytes.
type endEntry struct {
	end  tcpstate.Seq
	wire uint32
}

// endRing holds a direction's unacknowledged data segments, oldest first:
// a ring that grows from 8 to 128 entries as needed; beyond, the oldest
// is pushed out unacknowledged (overflow counts them).
type endRing struct {
	e        []endEntry
	head, n  int
	overflow int
}

const maxEnds = 128

func (r *endRing) push(x endEntry) {
	if r.n == len(r.e) {
		if len(r.e) < maxEnds {
			grown := make([]endEntry, max(8, 2*len(r.e)))
			for i := 0; i < r.n; i++ {
				grown[i] = r.e[(r.head+i)%len(r.e)]
			}
			r.e, r.head = grown, 0
		} else {
			r.head = (r.head + 1) % len(r.e)
			r.n--
			r.overflow++
		}
	}
	r.e[(r.head+r.n)%len(r.e)] = x
	r.n++
}

// releaseEnds lets go of the storage of the direction's emptied ring of
// unacknowledged segments, once: a closed connection's (flow keeps it for
// its late packets, and a busy capture holds thousands), as tcpstate
// does its own list. A later push allocates it again and keeps it, so a
// connection that goes on after a RST does not allocate a ring per turn.
func (ds *dirState) releaseEnds() {
	if r := &ds.ends; r.n == 0 && r.e != nil && !ds.endsReleased {
		r.e, r.head, ds.endsReleased = nil, 0, true
	}
}

// popAcked removes the segments ack covers and returns how many (those
// pushed out included) and their wire bytes.
func (r *endRing) popAcked(ack tcpstate.Seq) (n int, wire uint64) {
	n = r.overflow
	r.overflow = 0
	for r.n > 0 && r.e[r.head].end.LessThanEq(ack) {
		wire += uint64(r.e[r.head].wire)
		r.head = (r.head + 1) % len(r.e)
		r.n--
		n++
	}
	return n, wire
}

// update moves the state on after segment s of direction d.
func (cs *connState) update(d tcpstate.Dir, s *tcpstate.Segment, t int64, an *tcpstate.Analysis) {
	if isEvent(s) {
		cs.d[0].zeroWin, cs.d[1].zeroWin = false, false
	}
	cs.covered = 0
	cs.noteWindow(d, s, t, an)
	if s.Flags.Has(tcpstate.ACK) {
		cs.noteAck(d, s, t)
	}
	if an.Data.Empty() {
		if s.Flags.Has(tcpstate.FIN) {
			cs.judgeSmall()
			cs.endRun()
			if an.Resent == 0 && !an.Retransmitted() {
				cs.noteNew(d)
			}
		}
		return
	}
	cs.noteData(d, s, t, an)
}

// noteWindow records the receive window segment s of d advertises, in
// bytes as tcpstate scaled it; a window that opens may release the other
// side's data (a trigger).
func (cs *connState) noteWindow(d tcpstate.Dir, s *tcpstate.Segment, t int64, an *tcpstate.Analysis) {
	if s.Flags.Has(tcpstate.RST) {
		return
	}
	ds := &cs.d[d]
	if s.Flags.Has(tcpstate.SYN) {
		ds.winKnown = false // a SYN's window is the handshake's, not the receiver's later one
		return
	}
	if an.WindowShift >= 0 {
		if ds.winKnown && uint64(an.Window) > ds.win {
			ds.noteTrigger(t)
		}
		ds.win, ds.winKnown = uint64(an.Window), true
	}
	ds.winZero = an.Window == 0
	if an.Labels.Has(tcpstate.ZeroWindow) {
		ds.zeroWin = true
	}
}

// noteAck follows the ACK segment s of d gives the other direction's
// data: the segments an advance covers (ACK behaviour, the ACK clock),
// the end of a hole, of a backoff.
func (cs *connState) noteAck(d tcpstate.Dir, s *tcpstate.Segment, t int64) {
	od := &cs.d[d.Reverse()]
	a := s.Ack
	if od.ackValid && !od.ackHigh.LessThan(a) {
		return
	}
	covered, wire := od.ends.popAcked(a)
	if covered > 0 {
		cs.advance(d, s, covered)
		cs.covered, cs.ackMore = covered, od.ends.n > 0
		cs.d[d].noteTrigger(t)
		if od.advMore && t > od.lastAdv && wire > 0 {
			od.ackSp = od.ackSp.add(float64(t-od.lastAdv) / float64(wire))
		}
		od.lastAdv, od.advMore = t, od.ends.n > 0
		od.rtoArmed = false
	}
	od.ackValid, od.ackHigh = true, a
	if od.holeOpen && !a.LessThan(od.holeEnd) {
		od.holeOpen = false
	}
}

// advance counts an ACK advance of segment s of d over covered segments
// of the other direction, by what carried it.
func (cs *connState) advance(d tcpstate.Dir, s *tcpstate.Segment, covered int) {
	st := &cs.d[d.Reverse()].acks
	st.Advances++
	st.Covered[min(covered, 6)-1]++
	switch {
	case s.Len == 0:
		st.Pure++
	case s.Len <= cs.opts.SmallMessage:
		st.SmallApp++
	default:
		st.Piggyback++
	}
}

// noteData counts a segment of d carrying data (an.Data): its size, and
// unless some of it was sent before (an.Resent) the end the receiver's
// ACK will cover, the turn and the run it belongs to, the bottleneck's
// backlog when the capture is before it.
func (cs *connState) noteData(d tcpstate.Dir, s *tcpstate.Segment, t int64, an *tcpstate.Analysis) {
	ds := &cs.d[d]
	ds.segs++
	ds.bytes += uint64(s.Len)
	ds.wire += uint64(max(s.WireLen, 0))
	ds.acks.DataSegments++
	ds.maxSeg = max(ds.maxSeg, s.Len)
	if !cs.downstream(d) {
		sigma := cs.sigma(d)
		ds.link.send(t, s.WireLen, sigma)
		if sigma == 0 {
			cs.logSend(d, t, s.WireLen, ds.lastData, ds.lastWire)
		}
	}
	prev := ds.lastData
	ds.lastData, ds.lastWire = t, s.WireLen
	cs.judgeSmall() // the previous new segment: was more data behind it?
	if an.Resent > 0 {
		if s.Len < ds.mss {
			ds.small++
		}
		return
	}
	ds.ends.push(endEntry{end: an.Data.End, wire: uint32(min(max(s.WireLen, 0), math.MaxUint32))})
	cs.noteNew(d)
	if d == tcpstate.ClientToServer && (!cs.payloadSeen || cs.payloadDir != d) {
		cs.turns++
	}
	cs.payloadSeen, cs.payloadDir = true, d
	inRun := cs.runAdd(d, s, t, prev)
	cs.small = pendingSmall{ok: true, dir: d, len: s.Len, inRun: inRun}
}

// noteNew follows who sent new data (or a FIN) last: the server doing so
// after the client is a request answered, a round trip paid
// (Model.RoundTrips). The order of new data does not depend on where the
// capture was taken, nor on what was lost and sent again, so the count is
// the same at the client, the server or in the middle.
func (cs *connState) noteNew(d tcpstate.Dir) {
	if d == tcpstate.ServerToClient && cs.newSeen && cs.newDir == tcpstate.ClientToServer {
		cs.turnN++
	}
	cs.newDir, cs.newSeen = d, true
}

// judgeSmall judges the pending new segment against its direction's
// effective MSS as known now (after the segment that followed it, which
// tells tcpstate whether it was the last of its burst).
func (cs *connState) judgeSmall() {
	p := &cs.small
	if !p.ok {
		return
	}
	p.ok = false
	ds := &cs.d[p.dir]
	mss := ds.mss
	small := p.len < mss
	if small {
		ds.small++
	}
	if !p.inRun || !cs.run.active || cs.run.dir != p.dir {
		return
	}
	r := &cs.run
	if small {
		r.small++
	}
	r.lastSmall = small
	bin := 4
	if small && mss > 0 {
		bin = min(p.len*4/mss, 3)
	}
	r.bins[bin]++
}

// runAdd adds a new data segment of d to the current run (starting one,
// ending the other direction's; prev is d's previous data segment, 0 for
// none); it returns true.
func (cs *connState) runAdd(d tcpstate.Dir, s *tcpstate.Segment, t, prev int64) bool {
	r := &cs.run
	if r.active && r.dir != d {
		cs.endRun()
	}
	if !r.active {
		*r = runState{active: true, dir: d, flights: 1, firstT: t}
		if prev > 0 {
			r.idleUs = uint32(min(max(t-prev, 0)/1e3, math.MaxUint32))
		}
	} else {
		// a new flight: a pause of half a round trip that is not just the
		// segment's serialization
		gap := time.Duration(t - r.lastT)
		sp := float64(gap) / float64(max(s.WireLen, 1))
		if cs.base > 0 && gap*2 > cs.base {
			ref := r.minSpacing
			if sigma := cs.sigma(d); sigma > 0 {
				ref = sigma * 1e9
			}
			if ref == 0 || sp > 2*ref {
				if r.flights == 1 {
					r.firstFlight = r.segs
				}
				r.flights++
			}
		}
		if sp > 0 && (r.minSpacing == 0 || sp < r.minSpacing) {
			r.minSpacing = sp
		}
	}
	r.segs++
	r.bytes += uint64(s.Len)
	r.wire += uint64(max(s.WireLen, 0))
	r.lastT = t
	return true
}

// endRun closes the current run, counting it when it is a bulk phase.
func (cs *connState) endRun() {
	r := &cs.run
	if !r.active {
		return
	}
	r.active = false
	if r.segs < cs.opts.MinBulkSegments {
		return
	}
	ds := &cs.d[r.dir]
	st := &ds.segStats
	st.BulkPhases++
	st.BulkSegments += uint64(r.segs)
	st.BulkBytes += r.bytes
	for i, n := range r.bins {
		st.SizeBins[i] += uint64(n)
	}
	nf := r.small
	if r.lastSmall {
		nf--
	}
	st.NonFinalSmall += uint64(max(nf, 0))
	st.Flights += r.flights
	if mss := ds.mss; mss > 0 {
		full := int((r.bytes + uint64(mss) - 1) / uint64(mss))
		if full < r.segs {
			st.SavedSegments += uint64(r.segs - full)
			perFlight := float64(r.segs) / float64(r.flights)
			need := int(math.Ceil(float64(full) / perFlight))
			st.SavedRoundTrips += max(r.flights-need, 0)
		}
	}
	if len(cs.phases) < cs.opts.MaxPhases {
		ph := Phase{FromServer: r.dir == tcpstate.ServerToClient, Segments: r.segs,
			Bytes: r.bytes, WireBytes: r.wire, Flights: r.flights, FirstFlight: r.firstFlight,
			Duration: time.Duration(r.lastT - r.firstT), IdleBefore: time.Duration(r.idleUs) * time.Microsecond}
		ph.Utilisation, ph.Limit = cs.phaseLimit(r, ph.Duration.Seconds())
		cs.phases = append(cs.phases, ph)
	} else {
		cs.dropped++
	}
}

// phaseLimit judges what limited one bulk phase: the bottleneck when the
// phase kept it at least 80 % busy, else the cause of most of the time
// between its segments.
func (cs *connState) phaseLimit(r *runState, dur float64) (float64, Limit) {
	sigma := cs.sigma(r.dir)
	util := 0.0
	if sigma > 0 && dur > 0 {
		util = min(float64(r.wire)*sigma/dur, 1)
	}
	if util >= 0.8 {
		return util, LimitBandwidth
	}
	best, l := time.Duration(0), LimitUnknown
	if sigma > 0 {
		l = LimitBandwidth
	}
	for k, d := range r.gaps {
		if d > best {
			best, l = d, phaseLimits[k]
		}
	}
	return util, l
}

// phaseLimits are the limits of the groups of causes that judge a bulk
// phase, in the order of phaseGroup.
var phaseLimits = [4]Limit{LimitCongestionWindow, LimitReceiverWindow, LimitLoss, LimitApplication}

// phaseGroup returns the group of cause c for a phase's limit: window
// waits, receiver-window and zero-window stalls, loss and RTO, think
// times; -1 for the others.
func phaseGroup(c Cause) int {
	switch c {
	case CauseWindowWait:
		return 0
	case CauseReceiverWindow, CauseZeroWindow:
		return 1
	case CauseLossRecovery, CauseRTO:
		return 2
	case CauseClientThink, CauseServerThink:
		return 3
	}
	return -1
}
