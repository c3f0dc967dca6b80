package tcpstate

import (
	"math"
	"time"
)

// advance updates the direction's state after segment s (Wireshark's
// bookkeeping after the rules), then processes its ACK (RTT samples,
// spurious-retransmission evidence) and the bytes in flight.
func (c *Conn) advance(f, r *half, s *Segment, a *Analysis) {
	occupies := s.Len > 0 || s.Flags&(SYN|FIN) != 0
	if occupies && !a.Duplicate {
		f.remember(s, a)
		f.lastSend = s.Time
	}
	f.moveNxt(s, a)
	c.noteHeader(f, s, a)
	if s.Flags.Has(ACK) {
		f.hasAcked = true
		c.acked(f, r, s, a)
	}
	if s.Len > 0 {
		c.inFlight(f, r, a)
	}
}

// nextSeq returns one past the segment's sequence space as Wireshark
// counts it: SYN and FIN add one between them.
func nextSeq(s *Segment) Seq {
	n := s.Seq.Add(Size(s.Len))
	if s.Flags&(SYN|FIN) != 0 {
		n = n.Add(1)
	}
	return n
}

// remember adds segment s, which occupies sequence space, to the
// direction's unacknowledged segments (while fewer than maxUnacked are),
// marked sent twice when it is a retransmission or resends bytes sent
// before (a keep-alive's byte, an out-of-order segment), whose ACK is
// ambiguous too (Karn's rule).
func (f *half) remember(s *Segment, a *Analysis) {
	isRetx := a.Retransmitted()
	seglen := Size(s.Len)
	if !isRetx && seglen > 0 && f.sndNxtOK && s.Seq.LessThan(f.sndNxt) {
		isRetx = true
		f.markRetx(Span(s.Seq, seglen))
	}
	if f.segs == nil {
		f.segs = make([]sent, 0, 4) // a SYN-only connection needs one
	}
	if len(f.segs) == maxUnacked {
		a.Untracked = true
		return
	}
	f.segs = append(f.segs, sent{r: Range{s.Seq, nextSeq(s)}, idx: s.Index, t: s.Time.UnixNano(), retx: isRetx,
		len: clamp32(s.Len), hdr: clamp32(s.HeaderLen), wire: clamp32(s.WireLen)})
}

// clamp32 returns n as a uint32: 0 if negative, at most 2^32-1.
func clamp32(n int) uint32 {
	switch {
	case n < 0:
		return 0
	case uint64(n) > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(n)
}

// moveNxt advances SND.NXT and the highest in-order SND.NXT past the
// segment; a zero-window probe moves neither.
func (f *half) moveNxt(s *Segment, a *Analysis) {
	if a.Labels.Has(ZeroWindowProbe) {
		return
	}
	next := nextSeq(s)
	if !f.sndNxtOK || f.sndNxt.LessThan(next) {
		f.sndNxt, f.sndNxtOK, f.sndNxtIdx, f.sndNxtTime = next, true, s.Index, s.Time
	}
	if !f.maxAckOK || s.Seq == f.maxAck {
		f.maxAck, f.maxAckOK = f.sndNxt, true
	}
}

// noteHeader records what the segment's header tells the other side: its
// SEG.ACK, its window (scaled into Analysis.Window and the direction's
// largest window), its SACK blocks and its timestamp.
func (c *Conn) noteHeader(f *half, s *Segment, a *Analysis) {
	if s.Ack != f.lastAck {
		f.lastAckIdx, f.lastAckMov = s.Index, s.Time.UnixNano()
	}
	f.window, f.winIdx = uint32(s.Window), s.Index
	f.lastAck, f.lastAckT = s.Ack, s.Time
	f.lastLabels = a.Labels
	f.lastIdx = s.Index
	st := &c.Stats[c.dirOf(f)]
	if !s.Flags.Has(SYN) {
		f.firstAck = false
	}
	a.Window, a.WindowShift = f.scaled(s)
	st.MaxWindow = max(st.MaxWindow, uint64(a.Window))
	if st.MSS > 0 && uint32(s.Len) > st.MSS {
		f.oversize++
	}
	f.nsack = min(s.Opts.NSACK, MaxSACKBlocks)
	copy(f.sack[:], s.Opts.SACK[:f.nsack])
	if s.Flags.Has(ACK) {
		a.SACKHole = sackHole(s.Ack, f.sack[:f.nsack])
	}
	if s.Opts.HasTimestamps {
		f.sentTS(s)
	}
}

// sentTS remembers the TSval of segment s for the timestamp samples: a
// SYN's in its own slot, the others' in the ring, pure ACKs' included
// (their echo in the other side's data times the round trip under load).
func (f *half) sentTS(s *Segment) {
	t := s.Time.UnixNano()
	if s.Flags.Has(SYN) {
		if !f.hasSynTS {
			f.synTS, f.hasSynTS = tsEntry{t: t, val: s.Opts.TSVal, wire: clampWire(s.WireLen)}, true
		}
		return
	}
	if s.Flags.Has(RST) {
		return
	}
	if f.ts == nil {
		f.ts = newTSRing()
	}
	pure := s.Len == 0 && s.Flags&FIN == 0
	f.ts.sent(s.Opts.TSVal, t, clampWire(s.WireLen), pure, f.tsGap())
}

// tsGap is the least spacing of the TSvals kept: a 24th of the latest
// timestamp sample, so that the ring holds more than a round trip under
// load.
func (f *half) tsGap() time.Duration { return f.lastTS / 24 }

// scaled returns the receive window segment s advertises in bytes and the
// shift applied: the direction's window scale once negotiated (never on a
// SYN, RFC 7323 section 2.2); 0 when scaling is off or on a SYN; -1, the
// window left unscaled, while the scale is unknown.
func (f *half) scaled(s *Segment) (uint32, int8) {
	w := uint32(s.Window)
	switch {
	case s.Flags.Has(SYN) || f.winScale == -2:
		return w, 0
	case f.winScale < 0:
		return w, -1
	}
	return w << uint(f.winScale), f.winScale
}

// inFlight sets the bytes in flight of f's data after a segment with
// payload: see Conn.InFlight.
func (c *Conn) inFlight(f, r *half, a *Analysis) {
	fl, ok := f.inFlight(r)
	if !ok {
		return
	}
	a.InFlight = fl
	st := &c.Stats[c.dirOf(f)]
	st.MaxInFlight = max(st.MaxInFlight, fl)
}

// inFlight returns the bytes of f's data in flight, SACK-aware: from
// SND.UNA (see una) to SND.NXT, less the bytes r's last SACK blocks hold.
// ok is false when SND.UNA or SND.NXT is unknown, SND.UNA is beyond
// SND.NXT, or the result is not below 2^30 (no real window is larger).
func (f *half) inFlight(r *half) (uint32, bool) {
	una, ok := f.una(r)
	if !ok || !f.sndNxtOK || !una.LessThanEq(f.sndNxt) {
		return 0, false
	}
	out := Range{una, f.sndNxt}
	fl := uint64(out.Len())
	for i := 0; i < r.nsack; i++ {
		fl -= min(fl, uint64(r.sack[i].Range().Intersect(out).Len()))
	}
	if fl >= 1<<30 {
		return 0, false
	}
	return uint32(fl), true
}

// InFlight returns the bytes direction d has sent and the other side has
// not yet acknowledged, as after the latest segment: from SND.UNA (the
// other side's last ACK, or before it has ACKed anything in the capture
// the oldest segment of d still unacknowledged) to SND.NXT, less the bytes
// the other side's last SACK blocks report held (Wireshark's bytes in
// flight ignore SACK). ok is false when it cannot be told. It is cheap and
// may be called during the pass.
func (c *Conn) InFlight(d Dir) (uint32, bool) { return c.h[d].inFlight(&c.h[d.Reverse()]) }

// dirOf returns the direction h belongs to.
func (c *Conn) dirOf(h *half) Dir {
	if h == &c.h[0] {
		return ClientToServer
	}
	return ServerToClient
}

// acked processes the acknowledgment carried by segment s of f, which
// covers the data r sent: it removes the acknowledged segments, takes an
// RTT sample under Karn's rule, a timestamp-echo sample, and looks for
// evidence that r's recent retransmissions were spurious.
func (c *Conn) acked(f, r *half, s *Segment, a *Analysis) {
	match, matched, ambiguous := r.dropAcked(s.Ack)
	if matched {
		r.sample(s, a, match, ambiguous)
	}
	for i := 0; i < min(s.Opts.NSACK, MaxSACKBlocks); i++ {
		r.markSacked(s.Opts.SACK[i].Range())
	}
	f.echo(r, s, a)
	if r.nretx > 0 {
		c.spurious(r, s, a)
	}
}

// dropAcked removes the segments ack covers and trims one it covers in
// part. It returns the segment whose end ack matches exactly, if any, and
// whether a byte up to ack was sent more than once; the first ACK to
// advance SND.UNA ends a recovery.
func (r *half) dropAcked(ack Seq) (match sent, matched, ambiguous bool) {
	k := 0
	for i := range r.segs {
		g := &r.segs[i]
		switch {
		case g.r.End.LessThanEq(ack):
			ambiguous = ambiguous || g.retx
			if g.r.End == ack {
				match, matched = *g, true
			}
			continue // acknowledged: drop
		case g.r.First.LessThan(ack):
			ambiguous = ambiguous || g.retx
			g.r.First = ack
		}
		if k != i {
			r.segs[k] = *g
		}
		k++
	}
	if k < len(r.segs) {
		r.inRec = false
	}
	r.segs = r.segs[:k]
	return match, matched, ambiguous
}

// sample takes the data→ACK sample of segment g, which the ACK s matches
// exactly, unless a byte up to it was sent twice (Karn's rule, RFC 6298).
// A zero sample only says the clock could not tell: not taken.
func (r *half) sample(s *Segment, a *Analysis, g sent, ambiguous bool) {
	if ambiguous {
		a.Ambiguous = true
		return
	}
	a.AckOf, a.Acked = g.idx, g.size()
	d := time.Duration(s.Time.UnixNano() - g.t)
	if d <= 0 || g.sacked {
		return
	}
	a.RTT = d
	r.rtt.addFrames(d, clampWire(int(g.wire)), clampWire(s.WireLen))
	if r.srtt == 0 {
		r.srtt = d
	} else {
		r.srtt += (d - r.srtt) / 8 // RFC 6298, alpha = 1/8
	}
}

// markSacked marks the remembered segments inside block g as held by the
// receiver (see sent.sacked).
func (r *half) markSacked(g Range) {
	for i := range r.segs {
		if x := &r.segs[i]; !x.sacked && !x.r.Empty() && g.Contains(x.r.First) && g.Contains(x.r.End.Sub(1)) {
			x.sacked = true
		}
	}
}

// echo takes the timestamp-echo sample of segment s of f: the first echo
// of a TSval r sent (RFC 7323).
func (f *half) echo(r *half, s *Segment, a *Analysis) {
	o := &s.Opts
	if !o.HasTimestamps || o.TSEcr == 0 || (f.echoOK && o.TSEcr == f.lastEcho) {
		return
	}
	f.lastEcho, f.echoOK = o.TSEcr, true
	var e tsEntry
	ok := false
	if r.hasSynTS && r.synTS.val == o.TSEcr {
		e, ok, r.hasSynTS = r.synTS, true, false
	} else if r.ts != nil {
		e, ok = r.ts.echoed(o.TSEcr)
	}
	if !ok || e.ack && (s.Len == 0 || a.Resent > 0) {
		// A pure ACK's TSval times a round trip only when new data
		// echoes it (sent on the ACK's arrival); a keep-alive or a
		// window probe may echo it seconds later.
		return
	}
	if d := time.Duration(s.Time.UnixNano() - e.t); d > 0 {
		a.TSRTT, a.TSEchoAck = d, e.ack
		r.tsrtt.addFrames(d, e.wire, clampWire(s.WireLen))
		r.lastTS = d
	}
}

// spurious looks in ACK s for evidence that r's recent retransmissions
// were unneeded: a D-SACK block (RFC 2883: a first block below the
// cumulative ACK, or inside the second block) covering one, or the first
// ACK covering one echoing an older timestamp than it carried (RFC 3522).
func (c *Conn) spurious(r *half, s *Segment, a *Analysis) {
	st := &c.Stats[c.dirOf(r)]
	o := &s.Opts
	var dsack Range
	if o.NSACK > 0 {
		b := o.SACK[0]
		if b.Right.LessThanEq(s.Ack) || (o.NSACK > 1 && o.SACK[1].Left.LessThanEq(b.Left) && b.Right.LessThanEq(o.SACK[1].Right)) {
			dsack = b.Range()
		}
	}
	for i := 0; i < r.nretx; i++ {
		x := &r.retxs[i]
		if x.judged {
			continue
		}
		if x.r.Overlaps(dsack) {
			x.judged = true
			st.SpuriousDSACK++
			a.Unneeded, a.Evidence = x.idx, EvidenceDSACK
			continue
		}
		if x.r.First.LessThan(s.Ack) && s.Flags.Has(ACK) && x.hasTS && o.HasTimestamps {
			x.judged = true
			if int32(o.TSEcr-x.tsval) < 0 {
				st.SpuriousTS++
				a.Unneeded, a.Evidence = x.idx, EvidenceTS
			}
		}
	}
}

// sackHole returns the first hole SACK blocks report above ack: from ack
// to the lowest left edge above it (a D-SACK block, below ack, reports
// none); empty when there is none within 2^30 bytes.
func sackHole(ack Seq, blocks []SACKBlock) Range {
	var left Seq
	ok := false
	for _, b := range blocks {
		if ack.LessThan(b.Left) && ack.Size(b.Left) <= 1<<30 && (!ok || b.Left.LessThan(left)) {
			left, ok = b.Left, true
		}
	}
	if !ok {
		return Range{}
	}
	return Range{ack, left}
}
