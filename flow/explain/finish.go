package explain

import (
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

func (cs *connState) finish(fc *flow.Conn) *Conn {
	cs.judgeSmall()
	cs.endRun()
	cs.resolvePending(true)
	out := &Conn{ID: fc.ID, Client: fc.Client, Server: fc.Server,
		First: time.Unix(0, cs.first).UTC(), Last: time.Unix(0, cs.last).UTC(),
		Vantage: cs.legs.Vantage, Ending: cs.ending, RTT: cs.base, RTTSamples: cs.nsamples, Turns: cs.turns}
	l := &cs.legs
	out.Legs = Legs{ToServer: cs.legOf(tcpstate.ServerToClient), ToClient: cs.legOf(tcpstate.ClientToServer),
		ServerFrom: l.ServerFrom, ClientFrom: l.ClientFrom}
	out.RTT = out.Legs.ToServer + out.Legs.ToClient
	for _, d := range []tcpstate.Dir{tcpstate.ClientToServer, tcpstate.ServerToClient} {
		sigma := cs.sigma(d)
		_, frames := cs.legTimed(d)
		ser, n := cs.legFrames(d, frames, sigma)
		out.Legs.Serialization += ser
		out.Legs.FrameBytes += n
		if sigma > 0 {
			out.Legs.HandshakeBytes += int(cs.hsWire[d])
		}
	}
	out.Proto, out.ProtoSource = protoOf(fc, cs.opts.Registry)
	if cs.d[0].bytes+cs.d[1].bytes == 0 {
		out.Proto, out.ProtoSource = "none", "no_payload"
	}
	rate, from := cs.rate()
	out.Rate, out.RateFrom = units.BytesPerSecond(rate), from
	var bs budgetS
	cs.budget(&bs)
	out.Budget = bs.budget()
	for d := range 2 {
		cs.finishDir(tcpstate.Dir(d))
	}
	out.AcksC2S, out.AcksS2C = cs.d[0].acks, cs.d[1].acks
	if fc.App.Turns > 0 {
		out.Turns = int(fc.App.Turns)
	}
	out.Transactions = fc.App.Transactions
	out.SegmentsC2S, out.SegmentsS2C = cs.d[0].segStats, cs.d[1].segStats

	out.Stalls = append([]Stall(nil), cs.stalls...)
	out.Model = Model{RoundTrips: cs.turnN, InitialWindow: defaultIW, Phases: append([]Phase(nil), cs.phases...),
		PhasesDropped: cs.dropped, RTOs: cs.rtos, SYNTimeouts: cs.synRTO}
	if iw := cs.initialWindow(); iw > 0 {
		out.Model.InitialWindow = iw
	}
	out.Queue = cs.q.result(out.RTT, rate)
	out.Limit, out.Evidence = limit(out, &bs)
	if out.SegmentsC2S.Bytes+out.SegmentsS2C.Bytes == 0 {
		out.Limit = LimitNone
	}
	out.Caveats = caveats(fc, out)
	if cs.pair != nil {
		out.Cross = cs.pair.cross(cs)
	}
	return out
}

// initialWindow returns the first flight of the first bulk phase when it
// was window-limited: a burst the bottleneck serialized in under half the
// base RTT, so that the link then sat idle waiting for ACKs. A longer
// flight (a LAN's, or one into a slow link) was ended by the ACK clock or
// the data, and says nothing of the window; 0 then.
func (cs *connState) initialWindow() int {
	if len(cs.phases) == 0 || cs.phases[0].FirstFlight < 2 || cs.base <= 0 {
		return 0
	}
	ph := &cs.phases[0]
	d := tcpstate.ClientToServer
	if ph.FromServer {
		d = tcpstate.ServerToClient
	}
	sigma := cs.sigma(d)
	if sigma <= 0 || ph.Segments == 0 {
		return 0
	}
	flight := float64(ph.FirstFlight) * float64(ph.WireBytes) / float64(ph.Segments) * sigma
	if 2*flight >= cs.base.Seconds() {
		return 0
	}
	return ph.FirstFlight
}

// rate returns the bottleneck rate of the direction that carried the most
// wire bytes, and how it was measured (0: unknown).
func (cs *connState) rate() (float64, RateSource) {
	d := tcpstate.ServerToClient
	if cs.d[0].wire > cs.d[1].wire {
		d = tcpstate.ClientToServer
	}
	sigma := cs.sigma(d)
	if sigma <= 0 {
		return 0, RateUnknown
	}
	if cs.opts.CaptureRate > 0 {
		return 1 / sigma, RateGiven
	}
	if cs.downstream(d) {
		return 1 / sigma, RateDataSpacing
	}
	return 1 / sigma, RateACKClock
}

// budget fills b from the sums by cause, the tail after the last event,
// and the splits that need each direction's rate (the crossings, the
// gaps before data segments after the bottleneck).
func (cs *connState) budget(b *budgetS) {
	b.DurationS = time.Duration(cs.last - cs.first).Seconds()
	cs.tail()
	for c := Cause(0); c < numCauses; c++ {
		b.p[c] += cs.sum[c].Seconds()
	}
	for k := range cs.turn {
		d := tcpstate.Dir(k)
		acc := &cs.turn[k]
		rest := acc.rest.Seconds()
		tr := min(float64(acc.wire)*cs.sigma(d), rest)
		b.p[CauseTransfer] += tr
		b.p[think(d)] += rest - tr
		b.p[CauseRoundTrip] += acc.rt.Seconds()
		b.p[CauseQueueSelf] += acc.qSelf.Seconds()
		b.p[CauseQueueCross] += acc.qCross.Seconds()
	}
	for _, d := range []tcpstate.Dir{tcpstate.ClientToServer, tcpstate.ServerToClient} {
		cs.splitGaps(b, d, cs.sigma(d))
	}
}

// finishDir completes direction d's ACK and segment statistics.
func (cs *connState) finishDir(d tcpstate.Dir) {
	ds := &cs.d[d]
	a := &ds.acks
	if a.DataSegments > 0 {
		a.AcksPerSegment = float64(a.Advances) / float64(a.DataSegments)
	}
	var covered uint64
	for i, n := range a.Covered {
		covered += uint64(i+1) * n
	}
	if a.Advances > 0 {
		a.MeanCovered = float64(covered) / float64(a.Advances)
	}
	a.Verdict = ackVerdict(a)
	a.Carrier = carrier(a)
	st := &ds.segStats
	st.MSS, st.MSSSource = ds.mss, ds.mssFrom
	st.MaxSegment = ds.maxSeg
	st.Segments, st.Bytes = ds.segs, ds.bytes
	if ds.segs > 0 {
		st.MeanSegment = float64(ds.bytes) / float64(ds.segs)
		st.Small = ds.small
		st.SmallShare = float64(ds.small) / float64(ds.segs)
	}
	if nonFinal := st.BulkSegments - uint64(st.BulkPhases); nonFinal > 0 {
		st.NonFinalSmallShare = float64(st.NonFinalSmall) / float64(nonFinal)
	}
	st.SavedAcks = float64(st.SavedSegments) * a.AcksPerSegment
}

func ackVerdict(a *AckStats) AckVerdict {
	if a.Advances < 4 || a.DataSegments < 8 {
		return AckInsufficient
	}
	n := float64(a.Advances)
	one := float64(a.Covered[0]) / n
	three := float64(a.Covered[2]+a.Covered[3]+a.Covered[4]+a.Covered[5]) / n
	switch {
	case three >= 0.25 || a.MeanCovered >= 2.5:
		return AckStretch
	case one >= 0.9:
		return AckEverySegment
	}
	return AckDelayed
}

func carrier(a *AckStats) AckCarrier {
	if a.Advances == 0 {
		return CarrierNone
	}
	half := a.Advances / 2
	switch {
	case a.Pure > half:
		return CarrierPureTCP
	case a.SmallApp > half:
		return CarrierApplication
	case a.Piggyback > half:
		return CarrierPiggyback
	}
	return CarrierMixed
}

// limit names the group of causes with the largest share of the
// duration, budget b of c in seconds.
func limit(c *Conn, b *budgetS) (Limit, Evidence) {
	var e Evidence
	if b.DurationS <= 0 {
		return LimitUnknown, e
	}
	d := b.DurationS
	e.ApplicationShare = b.ThinkS() / d
	e.QueueShare = b.QueueS() / d
	e.RoundTripShare = (b.p[CauseHandshake]+b.p[CauseRoundTrip])/d + e.QueueShare
	e.WindowShare = b.p[CauseWindowWait] / d
	e.ReceiverShare = (b.p[CauseReceiverWindow] + b.p[CauseZeroWindow]) / d
	e.TransferShare = b.p[CauseTransfer] / d
	e.LossShare = (b.p[CauseLossRecovery] + b.p[CauseRTO]) / d
	if c.Rate > 0 {
		e.Utilisation = float64(c.SegmentsC2S.Bytes+c.SegmentsS2C.Bytes) / d / c.Rate.BytesPerSecond()
	}
	e.TurnsTimesRTT = time.Duration(c.Turns) * c.RTT
	best, l := -1.0, LimitUnknown
	for _, x := range []struct {
		s float64
		l Limit
	}{{e.RoundTripShare, LimitRoundTrip}, {e.TransferShare, LimitBandwidth}, {e.WindowShare, LimitCongestionWindow},
		{e.ReceiverShare, LimitReceiverWindow}, {e.LossShare, LimitLoss}, {e.ApplicationShare, LimitApplication}} {
		if x.s > best {
			best, l = x.s, x.l
		}
	}
	return l, e
}

// protoOf names the connection's application protocol: as package
// appproto identified it, else by the server's port in the registry's
// table of well-known ports (Options.Registry), the one port table.
func protoOf(c *flow.Conn, reg *appproto.Registry) (string, string) {
	if c.Proto != "" && c.Proto != "unknown" {
		return c.Proto, "appproto"
	}
	if name, ok := reg.ServerPort(c.Server.Port()); ok {
		return name, "port"
	}
	return "unknown", "port"
}
