package explain

import (
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// secPerByte returns the bottleneck's seconds per wire byte (0: unknown):
// the mean of the histogram bin holding the lower quartile of the per-byte
// spacing of consecutive far-side data segments.
func (cs *connState) secPerByte() float64 {
	if cs.spacingN < 3 {
		return 0
	}
	want := (cs.spacingN + 3) / 4
	n := 0
	for i, c := range cs.spacing {
		n += int(c)
		if n >= want {
			return cs.spSum[i] / float64(c) * 1e-9
		}
	}
	return 0
}

func (cs *connState) finish(fc *flow.Conn) *Conn {
	cs.endRun()
	out := &Conn{ID: fc.ID, Client: fc.Client, Server: fc.Server, First: cs.first, Last: cs.last,
		Vantage: cs.vantage, RTTms: ms(cs.base), RTTSamples: cs.nsamples, Turns: cs.turns}
	out.Proto, out.ProtoSource = protoOf(fc)
	sigma := cs.secPerByte()
	if sigma > 0 {
		out.RateBps = 1 / sigma
	}
	cs.budget(&out.Budget, sigma)
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
		PhasesDropped: cs.dropped, RTOs: cs.rtos}
	if len(cs.phases) > 0 && cs.phases[0].FirstFlight >= 2 {
		out.Model.InitialWindow = cs.phases[0].FirstFlight
	}
	out.Limit, out.Evidence = limit(out)
	return out
}

// budget fills b from the sums by cause, the trailing time after the last
// event, and the splits that need the bottleneck's seconds per byte sigma
// (application turns, far-side gaps).
func (cs *connState) budget(b *Budget, sigma float64) {
	b.DurationS = cs.last.Sub(cs.first).Seconds()
	// trailing time after the last event
	if tail := cs.last.Sub(cs.evT); tail > 0 {
		switch {
		case cs.hs >= 0 && cs.hs < 3:
			cs.sum[CauseHandshake] += tail
		case cs.evDir == cs.near && cs.lastDir != cs.near:
			cs.sum[CauseRoundTrip] += tail
		default:
			cs.sum[cs.think(cs.lastDir)] += tail
		}
	}
	for c := Cause(0); c < numCauses; c++ {
		*b.part(c) += cs.sum[c].Seconds()
	}
	cs.splitTurns(b, sigma)
	if cs.gh != nil {
		cs.splitFarGaps(b, sigma)
	}
}

// splitTurns splits the application turns: one base RTT each,
// serialization of the request and of the first answer segment, the rest
// the far side's think time.
func (cs *connState) splitTurns(b *Budget, sigma float64) {
	if cs.turnN == 0 {
		return
	}
	g := cs.turnGap.Seconds()
	rt := float64(cs.turnN) * cs.base.Seconds()
	tr := float64(cs.turnWire) * sigma
	if rt > g {
		rt, tr = g, 0
	} else if rt+tr > g {
		tr = g - rt
	}
	b.RoundTripS += rt
	b.TransferS += tr
	*b.part(cs.think(cs.near.Reverse())) += g - rt - tr
}

// splitFarGaps splits the far-side gaps: serialization of the segment
// ending each gap is transfer; a gap up to 1.5 times that is all transfer
// (jitter).
func (cs *connState) splitFarGaps(b *Budget, sigma float64) {
	for k, c := range splitCauses {
		if c == CauseServerThink {
			c = cs.think(cs.near.Reverse())
		}
		for i := range nbins {
			g, w := cs.gh.g[k][i], cs.gh.w[k][i]
			if g == 0 {
				continue
			}
			if sigma > 0 && binHi(i)*1e-9 <= 1.5*sigma {
				b.TransferS += g
				continue
			}
			tr := min(g, w*sigma)
			b.TransferS += tr
			*b.part(c) += g - tr
		}
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
	st.MSS, st.MSSSource = cs.effMSS(d)
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

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

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

// limit names the group of causes with the largest share of the duration.
func limit(c *Conn) (Limit, Evidence) {
	b := &c.Budget
	var e Evidence
	if b.DurationS <= 0 {
		return LimitUnknown, e
	}
	d := b.DurationS
	e.ApplicationShare = b.ThinkS() / d
	e.RoundTripShare = (b.HandshakeS + b.RoundTripS) / d
	e.WindowShare = b.WindowWaitS / d
	e.ReceiverShare = (b.ReceiverWindowS + b.ZeroWindowS) / d
	e.TransferShare = b.TransferS / d
	e.LossShare = (b.LossRecoveryS + b.RTOS) / d
	if c.RateBps > 0 {
		e.Utilisation = float64(c.SegmentsC2S.Bytes+c.SegmentsS2C.Bytes) / d / c.RateBps
	}
	e.TurnsTimesRTTS = float64(c.Turns) * c.RTTms / 1000
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
// appproto identified it, else by the server's port.
func protoOf(c *flow.Conn) (string, string) {
	if c.Proto != "" && c.Proto != "unknown" {
		return c.Proto, "appproto"
	}
	switch c.Server.Port() {
	case 1521, 1522, 1526:
		return "tns", "port"
	case 80, 8000, 8008, 8080, 8888:
		return "http", "port"
	case 443, 8443:
		return "tls", "port"
	case 5432:
		return "postgres", "port"
	case 3306:
		return "mysql", "port"
	case 1433:
		return "tds", "port"
	case 6379:
		return "redis", "port"
	}
	return "unknown", "port"
}
