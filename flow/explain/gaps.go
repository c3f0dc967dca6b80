package explain

import (
	"slices"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// lossOf judges segment s for the budget by tcpstate's labels (tshark's
// rules): a retransmission or an out-of-order segment carrying data is
// loss recovery, or an RTO wait when tcpstate found it sent on a timeout,
// as is a SYN or FIN sent again on a timeout (a FIN probed sooner, while
// the peer was slow to answer it, is no loss); a keep-alive is no loss.
func lossOf(s *tcpstate.Segment, an *tcpstate.Analysis) Cause {
	switch {
	case s.Len == 0 && s.Flags&(tcpstate.SYN|tcpstate.FIN) != 0 && an.Retransmitted() && an.Cause == tcpstate.CauseTimeout:
		return CauseRTO
	case s.Len == 0 || an.Labels.Has(tcpstate.KeepAlive):
		return 0
	case !an.Retransmitted() && !an.Labels.Has(tcpstate.OutOfOrder):
		return 0
	case an.Cause == tcpstate.CauseTimeout:
		return CauseRTO
	}
	return CauseLossRecovery
}

// gapCtx is one gap under attribution: from the previous event (at a) to
// segment s of direction d (at t); up is the transfer time an upstream
// bottleneck spent on data sent before it (see upstream), pend whether a
// rate still unknown may add to it.
type gapCtx struct {
	d    tcpstate.Dir
	s    *tcpstate.Segment
	a, t int64
	gap  time.Duration
	up   time.Duration
	pend bool
}

// event attributes the gap since the previous event, ending at segment s
// of direction d, which carries data, SYN, FIN or RST.
func (cs *connState) event(d tcpstate.Dir, s *tcpstate.Segment, t int64, an *tcpstate.Analysis) {
	g := gapCtx{d: d, s: s, a: cs.evT, t: t, gap: time.Duration(t - cs.evT)}
	defer func() { cs.evT, cs.evDir, cs.evValid, cs.evData = t, d, true, s.Len > 0 }()
	if cs.inHandshake() {
		cs.handshakeGap(&g, an)
		return
	}
	if !cs.evValid {
		// first event of a connection picked up mid-stream: the gap since
		// its first packet (pure ACKs) is the sender's own, or recovery
		// when its data comes into a hole the receiver reports
		if cs.d[d].holeOpen && s.Len > 0 {
			cs.sum[CauseLossRecovery] += g.gap
			return
		}
		cs.sum[think(d)] += g.gap
		return
	}
	g.up, g.pend = cs.upstream(g.a, g.gap)
	var c Cause
	switch loss := lossOf(s, an); {
	case loss != 0 || cs.d[d].holeOpen && s.Len > 0:
		c = cs.lossGap(&g, loss)
	case s.Len > 0 && an.UnseenTimeout:
		// the resend of a tail lost before the capture point
		c = cs.lossGap(&g, CauseRTO)
	case s.Flags.Has(tcpstate.RST) && cs.d[d].rtoArmed:
		// a sender that backed off gives up: the wait was a timeout
		cs.sum[CauseRTO] += g.gap
		c = CauseRTO
	case cs.evDir != d:
		c = cs.crossGap(&g)
	default:
		c = cs.sameGap(&g)
	}
	if r := &cs.run; r.active && r.dir == d && s.Len > 0 {
		if k := phaseGroup(c); k >= 0 {
			r.gaps[k] += g.gap
		}
	}
	if c != CauseTransfer {
		cs.stall(g.a, t, g.gap, c, s.Index)
	}
}

// handshakeGap attributes a gap of the handshake: the handshake's, but
// for what other traffic between the same hosts made it wait in the
// bottleneck queue beyond the leg (queue_cross, as in a crossing: a
// connection opened while a download fills the queue), and for a SYN or
// SYN/ACK sent again on its timer (tcpstate's timeout: the initial RTO, 1
// s by RFC 6298, 3 s on older stacks): that wait is a timeout (rto, and
// Model.SYNTimeouts for the what-if, which keeps it whatever the RTT).
func (cs *connState) handshakeGap(g *gapCtx, an *tcpstate.Analysis) {
	if g.s.Flags.Has(tcpstate.SYN) && lossOf(g.s, an) == CauseRTO {
		cs.synRTO += g.gap
		cs.stall(g.a, g.t, g.gap, cs.lossGap(g, CauseRTO), g.s.Index)
		return
	}
	var qc time.Duration
	if leg := cs.legOf(g.d); leg > 0 {
		if q, self := cs.queueNow(g.d, g.t); !self {
			qc = max(0, min(q, g.gap-leg))
		}
	}
	cs.sum[CauseQueueCross] += qc
	cs.sum[CauseHandshake] += g.gap - qc
}

// lossGap attributes a gap ending in a retransmission, or in data while
// a sequence hole of its direction is open: an RTO wait, or loss
// recovery, during which data flowing on is split with the rate.
func (cs *connState) lossGap(g *gapCtx, loss Cause) Cause {
	if loss == CauseRTO {
		cs.rtos++
		cs.sum[CauseRTO] += g.gap
		cs.d[g.d].rtoArmed = true
		return CauseRTO
	}
	if cs.evDir == g.d {
		return cs.book(g, CauseLossRecovery)
	}
	cs.sum[CauseTransfer] += g.up
	cs.sum[CauseLossRecovery] += g.gap - g.up
	cs.pendGap(g, uint8(CauseLossRecovery))
	return CauseLossRecovery
}

// crossGap attributes a gap from one side's event to the other's: the
// reaction of the event's sender to what passed the capture point. The
// leg from the capture point to that side and back, less the bottleneck's
// serialization of the frames that timed it (pathOf), is round trip (an
// application turn); then the serialization of the data the reaction
// waited for (transfer: the segment ending the gap when the capture is
// after the bottleneck, split at the end with the rate if it is not known
// yet; before the bottleneck the backlog, up); then the queueing the
// round trips under load showed at the time: other traffic's between the
// same hosts (cross), or the connection's own beyond the serialization
// counted (self; all of it transfer while the rate is unknown: the queue
// was the connection's own data); the rest is that side's think time. A
// gap too short to be a reaction (under half the leg) is that side's own
// pace.
func (cs *connState) crossGap(g *gapCtx) Cause {
	d, s := g.d, g.s
	leg, frames := cs.legTimed(d)
	r := g.gap - g.up
	if 2*r < leg {
		return cs.book(g, CauseWindowWait)
	}
	sigma, deferred := cs.sigma(d), false
	rt := min(r, cs.pathOf(d, leg, frames, sigma))
	var own time.Duration
	if s.Len > 0 && cs.downstream(d) {
		own = time.Duration(float64(s.WireLen) * sigma * 1e9)
		deferred = sigma == 0
	}
	q, self := cs.queueNow(d, g.t)
	var qs, qc time.Duration
	if self && sigma == 0 {
		own = max(own, q)
	}
	own = min(own, r-rt)
	if self && sigma > 0 {
		qs = max(0, min(q-own, r-rt-own))
	} else if !self {
		qc = max(0, min(q, r-rt-own))
	}
	acc := &cs.turn[d]
	acc.rt += rt
	acc.qSelf += qs
	acc.qCross += qc
	acc.rest += r - rt - own - qs - qc
	if deferred {
		acc.wire += uint64(max(s.WireLen, 0))
	}
	cs.sum[CauseTransfer] += g.up + own
	cs.pendGap(g, uint8(numCauses)+uint8(d))
	return dominant(d, rt, qs, qc, r-rt-own-qs-qc)
}

// dominant names the largest part of a crossing.
func dominant(d tcpstate.Dir, rt, qs, qc, rest time.Duration) Cause {
	switch {
	case qc > rt && qc > rest && qc > qs:
		return CauseQueueCross
	case qs > rt && qs > rest:
		return CauseQueueSelf
	case rt >= rest:
		return CauseRoundTrip
	}
	return think(d)
}

// sameGap attributes a gap between two events of one side: after its
// SYN, FIN or handshake ACK its own pace; a zero-window stall when the
// receiver advertised zero; a window wait (a receiver-window stall when
// the data in flight filled the receiver's window) when the other side's
// ACK, passing the capture point about a leg to this side earlier,
// explains its timing; else its think time. The gap between two
// back-to-back data segments feeds the rate estimate.
func (cs *connState) sameGap(g *gapCtx) Cause {
	d, s := g.d, g.s
	var c Cause
	switch {
	case !cs.evData:
		c = think(d)
	case cs.d[d.Reverse()].zeroWin || cs.d[d.Reverse()].winZero:
		c = CauseZeroWindow
	default:
		c = cs.released(d, g.a, g.t)
	}
	if cs.evData && s.Len >= 200 && g.gap > 0 {
		ds := &cs.d[d]
		ds.dataSp = ds.dataSp.add(float64(g.gap) / float64(max(s.WireLen, 1)))
	}
	return cs.book(g, c)
}

// released tells a window wait from the sender's think time: whether an
// ACK or window update of the other side (its trigger times), passing
// the capture point at least 0.9 leg before t, and not more than four
// legs before the previous event at a, explains data of d at t (the leg
// from the capture point to d's sender and back, plus the queue).
func (cs *connState) released(d tcpstate.Dir, a, t int64) Cause {
	leg := cs.legOf(d)
	tr, ok := cs.d[d.Reverse()].trigger(t - int64(leg*9/10))
	q, _ := cs.queueNow(d, t)
	slack := max(leg/2, 20*time.Millisecond) + q
	if cs.run.active && cs.run.dir == d && 4*time.Duration(t-a) < leg {
		// a short gap inside a run of d's data (seen from either end:
		// the data in flight may be past the capture point): the sender
		// pacing its window over the round trip (Linux paces at twice the
		// window per RTT in slow start), not thinking
		ok, tr = true, t-int64(leg)
	}
	if !ok || tr < a-int64(4*leg) || time.Duration(t-tr)-leg > slack {
		return think(d)
	}
	if cs.rwndFull(d) {
		return CauseReceiverWindow
	}
	return CauseWindowWait
}

// book books a gap's parts: the upstream transfer, then the rest to
// cause c, split later with the rate when the capture is after the
// bottleneck for d's data and the cause is one a segment's serialization
// hides in (see gapHist).
func (cs *connState) book(g *gapCtx, c Cause) Cause {
	cs.sum[CauseTransfer] += g.up
	r := g.gap - g.up
	if g.s.Len > 0 && cs.downstream(g.d) && histIndex(c) >= 0 {
		cs.farGap(g.d, c, r, g.s.WireLen)
		return c
	}
	cs.sum[c] += r
	cs.pendGap(g, uint8(c))
	return c
}

// rwndFull reports whether sender's data in flight before the current
// segment (tcpstate's bytes in flight after the previous packet) leaves
// less than a segment of the receiver's last advertised window.
func (cs *connState) rwndFull(sender tcpstate.Dir) bool {
	ds, rs := &cs.d[sender], &cs.d[sender.Reverse()]
	if !rs.winKnown || !ds.flightOK {
		return false
	}
	return uint64(ds.flight)+uint64(max(ds.maxSeg, 1)) > rs.win
}

// noteTrigger remembers that a packet of this side at t may have released
// the other side's data.
func (ds *dirState) noteTrigger(t int64) {
	ds.trig[ds.trigHead] = t
	ds.trigHead = (ds.trigHead + 1) % uint8(len(ds.trig))
	ds.trigLen = min(ds.trigLen+1, uint8(len(ds.trig)))
}

// trigger returns the latest trigger at or before t (false if none is
// remembered).
func (ds *dirState) trigger(t int64) (int64, bool) {
	n := uint8(len(ds.trig))
	for i := uint8(1); i <= ds.trigLen; i++ {
		if x := ds.trig[(ds.trigHead+n-i)%n]; x <= t {
			return x, true
		}
	}
	return 0, false
}

// stall keeps the longest stalls.
func (cs *connState) stall(start, end int64, gap time.Duration, c Cause, idx uint64) {
	if gap <= 0 || cs.base > 0 && gap < cs.base/2 {
		return
	}
	st := Stall{Start: time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC(), Duration: gap, Cause: c, Packet: idx}
	k := cs.opts.TopStalls
	if cs.stalls == nil {
		cs.stalls = make([]Stall, 0, k)
	}
	if len(cs.stalls) == k && cs.stalls[k-1].Duration >= st.Duration {
		return
	}
	if len(cs.stalls) == k {
		cs.stalls = cs.stalls[:k-1]
	}
	i, _ := slices.BinarySearchFunc(cs.stalls, st.Duration, func(x Stall, v time.Duration) int {
		if x.Duration > v {
			return -1
		}
		if x.Duration < v {
			return 1
		}
		return 0
	})
	cs.stalls = slices.Insert(cs.stalls, i, st)
}

// tail attributes the time after the last event, to the last packet:
// pure ACKs, window updates, keep-alives. During the handshake it is the
// handshake's; while a receiver advertises a zero window with data
// waiting, a zero-window stall; else the reaction of the last packet's
// sender to the last event (its leg less the serialization of the frames
// that timed it, then its think time), or that
// sender's own time when it sent the last event too.
func (cs *connState) tail() {
	gap := time.Duration(cs.last - cs.evT)
	if gap <= 0 {
		return
	}
	z := cs.lastDir
	var c Cause
	switch {
	case cs.inHandshake():
		c = CauseHandshake
		cs.sum[c] += gap
	case cs.stalledZero():
		c = CauseZeroWindow
		cs.sum[c] += gap
	case cs.evValid && z != cs.evDir:
		leg, frames := cs.legTimed(z)
		rt := min(gap, cs.pathOf(z, leg, frames, cs.sigma(z)))
		cs.sum[CauseRoundTrip] += rt
		cs.sum[think(z)] += gap - rt
		c = think(z)
		if rt >= gap-rt {
			c = CauseRoundTrip
		}
	default:
		c = think(z)
		cs.sum[c] += gap
	}
	cs.stall(cs.evT, cs.last, gap, c, cs.lastIdx)
}

// stalledZero reports whether a receiver's last window is zero while the
// other side has data in flight or waiting.
func (cs *connState) stalledZero() bool {
	for k := range cs.d {
		if cs.d[k].winZero && cs.d[k^1].segs > 0 {
			return true
		}
	}
	return false
}
