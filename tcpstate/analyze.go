package tcpstate

import (
	"math"
	"time"
)

// maxUnacked bounds the sent-but-unacknowledged segments remembered per
// direction (Wireshark keeps at most 1000 too); beyond it new segments
// are not remembered, so they give no RTT sample and no reference.
const maxUnacked = 1000

// maxRetx bounds the recent retransmissions remembered per direction for
// the spurious-retransmission evidence (D-SACK, timestamps).
const maxRetx = 8

// sent is one segment sent and not yet acknowledged.
type sent struct {
	seq, end Seq // [seq, end), SYN and FIN counted
	idx      uint64
	t        time.Time
	retx     bool // sent more than once (Karn's rule: no RTT sample)
}

// retx is a recent retransmission awaiting evidence that it was spurious.
type retx struct {
	seq, end Seq
	idx      uint64
	tsval    uint32
	hasTS    bool
	judged   bool
}

// half is the analysis state of one direction of a connection: what its
// sender has sent (SND.NXT and the unacknowledged segments) and what it
// last told the other side (SEG.ACK, SEG.WND).
type half struct {
	// Wireshark-compatible sequence analysis.
	sndNxt     Seq // one past the highest sequence number sent (SND.NXT)
	sndNxtOK   bool
	sndNxtIdx  uint64
	sndNxtTime time.Time
	maxAck     Seq // highest in-order SND.NXT ("max seq to be acked")
	maxAckOK   bool
	lastAck    Seq // SEG.ACK of the direction's last segment (0: none yet)
	lastAckT   time.Time
	lastAckIdx uint64 // segment that last moved lastAck
	window     uint32 // SEG.WND of the last segment, unscaled
	winIdx     uint64 // segment that carried window
	firstAck   bool   // no segment but SYNs sent yet: window is unscaled
	winScale   int8   // -1 unknown, -2 no scaling, else the shift
	dupAcks    int32
	lastNonDup uint64
	lastLabels Labels
	lastIdx    uint64
	lastSend   time.Time // last segment with data, SYN or FIN
	hasAcked   bool      // sent a segment with ACK

	segs []sent
	// sack holds the SACK blocks of the direction's last segment.
	sack  [MaxSACKBlocks]SACKBlock
	nsack int
	retxs [maxRetx]retx
	nretx int
	inRec bool // a retransmission was sent since SND.UNA last advanced

	srtt     time.Duration
	ts       tsRing
	lastEcho uint32
	echoOK   bool
	rtt      sampler // data→ACK samples of this direction's data
	tsrtt    sampler // timestamp-echo samples of this direction's TSvals
	oversize uint64
}

func (h *half) init() {
	h.window = math.MaxUint32
	h.winScale = -1
	h.firstAck = true
}

// shift returns the window scale to apply to h.window.
func (h *half) shift() uint8 {
	if h.firstAck || h.winScale < 0 {
		return 0
	}
	return uint8(h.winScale)
}

// since returns now - t, or a huge duration when time went backwards (as
// an unsigned difference would be), so that "within" tests fail.
func since(now, t time.Time) time.Duration {
	d := now.Sub(t)
	if d < 0 {
		return math.MaxInt64
	}
	return d
}

// analyze runs the sequence analysis on segment s of direction d, filling
// c.an. The rules and their order follow Wireshark's documented TCP
// analysis (see the package documentation).
func (c *Conn) analyze(d Dir, s *Segment) {
	a := &c.an
	f, r := &c.h[d], &c.h[d.Reverse()]
	now := s.Time
	seq, ack := s.Seq, s.Ack
	seglen := Size(s.Len)
	win := uint32(s.Window)
	ctl := s.Flags & (SYN | FIN | RST)
	var ls Labels
	set := func(l Label, ref uint64) {
		ls = ls.With(l)
		a.Ref[l] = ref
	}

	// Window scaling, negotiated in the SYNs (RFC 7323 section 2).
	if s.Flags.Has(SYN) {
		if s.Opts.HasWScale {
			ws := s.Opts.WScale
			if ws > 14 {
				ws = 14
				c.wsClamped++
				a.Anomaly |= AnomalyWScale
			}
			f.winScale = int8(ws)
		}
		switch {
		case f.winScale == -1:
			f.winScale, r.winScale = -2, -2
		case s.Flags.Has(ACK) && r.winScale == -2:
			f.winScale = -2
		}
		if !s.Flags.Has(ACK) {
			c.mruSyn = now
		}
	} else if s.Flags.Has(ACK) && c.firstRTT == 0 && !c.mruSyn.IsZero() {
		c.firstRTT = max(now.Sub(c.mruSyn), 0)
	}
	if jump := seq.Diff(f.sndNxt); f.sndNxtOK && (jump > 1<<30 || jump < -(1<<30)) {
		c.seqJumps++
		a.Anomaly |= AnomalySeqJump
	}

	// Zero-window probe.
	if seglen == 1 && f.sndNxtOK && seq == f.sndNxt && r.window == 0 {
		set(ZeroWindowProbe, r.winIdx)
		goto finishedFwd
	}
	if win == 0 && ctl == 0 {
		set(ZeroWindow, 0)
	}
	if f.sndNxtOK && f.sndNxt.LessThan(seq) && !s.Flags.Has(RST) {
		set(LostSegment, f.sndNxtIdx)
	}
	if seglen <= 1 && f.sndNxtOK && seq == f.sndNxt.Sub(1) && ctl == 0 {
		set(KeepAlive, f.sndNxtIdx)
	}
	if seglen == 0 && win != 0 && win != f.window && f.sndNxtOK && seq == f.sndNxt && ack == f.lastAck && ctl == 0 {
		set(WindowUpdate, f.winIdx)
	}
	if seglen > 0 && r.winScale != -1 && ctl == 0 &&
		seq.Add(seglen) == r.lastAck.Add(Size(r.window<<r.shift())) {
		set(WindowFull, r.winIdx)
	}
	if seglen == 0 && win != 0 && win == f.window && f.sndNxtOK && seq == f.sndNxt && ack == f.lastAck &&
		r.lastLabels.Has(KeepAlive) && ctl == 0 {
		set(KeepAliveAck, r.lastIdx)
		goto finishedFwd
	}
	if seglen == 0 && win == 0 && win == f.window && f.sndNxtOK && seq == f.sndNxt && ack == f.lastAck &&
		r.lastLabels.Has(ZeroWindowProbe) && ctl == 0 {
		set(ZeroWindowProbeAck, r.lastIdx)
		goto finishedFwd
	}
	if seglen == 0 && win != 0 && win == f.window && f.sndNxtOK && seq == f.sndNxt && ack == f.lastAck && ctl == 0 {
		f.dupAcks++
		set(DupAck, f.lastNonDup)
		a.DupAckNum = uint32(f.dupAcks)
	}

finishedFwd:
	if ack != f.lastAck {
		f.lastNonDup = s.Index
		f.dupAcks = 0
	}
	// ACKed unseen segment: beyond the highest in-order byte of the other
	// direction.
	if r.maxAckOK && r.maxAck.LessThan(ack) && s.Flags.Has(ACK) {
		set(AckedUnseen, r.sndNxtIdx)
		r.maxAck = r.sndNxt // report each hole once
	}

	// Retransmission, fast retransmission, spurious retransmission,
	// out-of-order.
	if seglen > 0 || s.Flags&(SYN|FIN) != 0 {
		notAdv := f.sndNxtOK && seq.LessThan(f.sndNxt)
		if ls.Has(KeepAlive) {
			goto finishedRetx
		}
		if seglen > 1 && f.sndNxtOK && f.sndNxt.Sub(1) == seq {
			notAdv = false
		}
		if seglen > 0 && r.lastAck != 0 && seq.Add(seglen).LessThanEq(r.lastAck) {
			set(SpuriousRetransmission, r.lastAckIdx)
			goto finishedRetx
		}
		if notAdv && r.dupAcks >= 2 && r.lastAck == seq && since(now, r.lastAckT) < 20*time.Millisecond {
			set(FastRetransmission, r.lastNonDupAckRef())
			goto finishedRetx
		}
		thres := 3 * time.Millisecond
		if c.firstRTT > 0 {
			thres = c.firstRTT
		}
		if notAdv && since(now, f.sndNxtTime) < thres && f.sndNxt != seq.Add(s.SeqLen()) {
			set(OutOfOrder, f.sndNxtIdx)
			goto finishedRetx
		}
		if notAdv {
			set(Retransmission, f.original(seq, seglen, f.sndNxtIdx))
		}
	}
finishedRetx:
	a.Labels = ls
	if ls.Has(Retransmission) || ls.Has(FastRetransmission) || ls.Has(SpuriousRetransmission) {
		a.Cause = c.cause(f, r, s, ls)
		f.noteRetx(s)
	}
	c.advance(f, r, s, a)
}

// lastNonDupAckRef returns the packet the duplicate ACKs repeat.
func (h *half) lastNonDupAckRef() uint64 { return h.lastNonDup }

// original returns the packet that first sent byte seq, or def.
func (h *half) original(seq Seq, n Size, def uint64) uint64 {
	end := seq.Add(max(n, 1))
	for i := range h.segs {
		g := &h.segs[i]
		if g.seq.LessThan(end) && seq.LessThan(g.end) {
			return g.idx
		}
	}
	return def
}

// cause tells why retransmission s was sent (see Cause).
func (c *Conn) cause(f, r *half, s *Segment, ls Labels) Cause {
	if ls.Has(FastRetransmission) {
		return CauseFast
	}
	if (r.dupAcks >= 1 && r.lastAck == s.Seq) || (r.nsack > 0 && r.lastAck.LessThanEq(s.Seq)) {
		return CauseFast
	}
	if f.lastSend.IsZero() {
		return CauseUnknown
	}
	idle := s.Time.Sub(f.lastSend)
	// The sender's round trip: its smoothed data→ACK samples cover only
	// the capture point to the receiver and back, so take at least the
	// handshake's full round trip.
	srtt := max(f.srtt, c.firstRTT)
	// SND.UNA: the receiver's last ACK, or without one in the capture the
	// oldest segment still remembered as unacknowledged.
	una, unaOK := r.lastAck, r.hasAcked
	if !unaOK && len(f.segs) > 0 {
		una, unaOK = f.segs[0].seq, true
	}
	tail := s.Seq.Add(s.SeqLen()) == f.sndNxt
	if tail && !f.inRec && srtt > 0 && idle > 0 {
		if s.Seq != una || idle < srtt+200*time.Millisecond {
			// The tail sent again while earlier data is outstanding, or
			// sooner than any RTO (at least SRTT + 200 ms in practice).
			return CauseTLP
		}
	}
	if unaOK && s.Seq == una && idle >= 200*time.Millisecond {
		return CauseTimeout
	}
	return CauseUnknown
}

// noteRetx remembers a retransmission for the spurious evidence, and
// marks the segments it covers as sent twice (Karn's rule).
func (f *half) noteRetx(s *Segment) {
	f.inRec = true
	end := s.Seq.Add(s.SeqLen())
	f.markRetx(s.Seq, end)
	if f.nretx == maxRetx {
		copy(f.retxs[:], f.retxs[1:])
		f.nretx--
	}
	f.retxs[f.nretx] = retx{seq: s.Seq, end: end, idx: s.Index, tsval: s.Opts.TSVal, hasTS: s.Opts.HasTimestamps}
	f.nretx++
}

// markRetx marks the remembered segments overlapping [seq, end) as sent
// more than once.
func (f *half) markRetx(seq, end Seq) {
	for i := range f.segs {
		g := &f.segs[i]
		if g.seq.LessThan(end) && seq.LessThan(g.end) {
			g.retx = true
		}
	}
}

// advance updates the direction's state after segment s (Wireshark's
// bookkeeping after the rules), then processes its ACK: RTT samples,
// in-flight, spurious-retransmission evidence.
func (c *Conn) advance(f, r *half, s *Segment, a *Analysis) {
	now := s.Time
	seq, ack := s.Seq, s.Ack
	seglen := Size(s.Len)
	isRetx := a.Labels.Has(Retransmission) || a.Labels.Has(FastRetransmission) || a.Labels.Has(SpuriousRetransmission)
	nextSeq := seq.Add(seglen)
	if !isRetx && seglen > 0 && f.sndNxtOK && seq.LessThan(f.sndNxt) {
		// Bytes sent before (a keep-alive's byte, an out-of-order
		// segment): an ACK of them is ambiguous too (Karn's rule).
		isRetx = true
		f.markRetx(seq, seq.Add(seglen))
	}
	if seglen > 0 || s.Flags&(SYN|FIN) != 0 {
		if f.segs == nil {
			f.segs = make([]sent, 0, 16)
		}
		if len(f.segs) < maxUnacked {
			if s.Flags&(SYN|FIN) != 0 {
				nextSeq = nextSeq.Add(1)
			}
			f.segs = append(f.segs, sent{seq: seq, end: nextSeq, idx: s.Index, t: now, retx: isRetx})
		}
		f.lastSend = now
	}
	zwp := a.Labels.Has(ZeroWindowProbe)
	if (!f.sndNxtOK || f.sndNxt.LessThan(nextSeq)) && !zwp {
		f.sndNxt, f.sndNxtOK, f.sndNxtIdx, f.sndNxtTime = nextSeq, true, s.Index, now
	}
	if (!f.maxAckOK || seq == f.maxAck) && !zwp {
		f.maxAck, f.maxAckOK = f.sndNxt, true
	}
	if ack != f.lastAck {
		f.lastAckIdx = s.Index
	}
	f.window, f.winIdx = uint32(s.Window), s.Index
	f.lastAck, f.lastAckT = ack, now
	f.lastLabels = a.Labels
	f.lastIdx = s.Index
	if !s.Flags.Has(SYN) {
		f.firstAck = false
		// The largest receive window advertised, scaled when known.
		w := uint64(s.Window)
		if f.winScale >= 0 {
			w <<= uint(f.winScale)
		}
		st := &c.Stats[c.dirOf(f)]
		st.MaxWindow = max(st.MaxWindow, w)
	} else {
		st := &c.Stats[c.dirOf(f)]
		st.MaxWindow = max(st.MaxWindow, uint64(s.Window))
	}
	if mss := c.Stats[c.dirOf(f)].MSS; mss > 0 && uint32(s.Len) > mss {
		f.oversize++
	}
	f.nsack = min(s.Opts.NSACK, MaxSACKBlocks)
	copy(f.sack[:], s.Opts.SACK[:f.nsack])
	if s.Opts.HasTimestamps && (seglen > 0 || s.Flags&(SYN|FIN) != 0) {
		f.ts.sent(s.Opts.TSVal, now)
	}

	if s.Flags.Has(ACK) {
		f.hasAcked = true
		c.acked(f, r, s, a)
	}

	// Bytes in flight of this direction after the segment, SACK-aware:
	// from SND.UNA (the receiver's last ACK, or before it has ACKed
	// anything the oldest segment remembered) to SND.NXT, less the bytes
	// the receiver's last SACK blocks hold.
	una, unaOK := r.lastAck, r.hasAcked
	if !unaOK && len(f.segs) > 0 {
		una, unaOK = f.segs[0].seq, true
	}
	if seglen > 0 && f.sndNxtOK && unaOK {
		if una.LessThanEq(f.sndNxt) {
			fl := uint64(una.Size(f.sndNxt))
			for i := 0; i < r.nsack; i++ {
				b := r.sack[i]
				lo, hi := Max(b.Left, una), Min(b.Right, f.sndNxt)
				if lo.LessThan(hi) {
					fl -= min(fl, uint64(lo.Size(hi)))
				}
			}
			if fl < 1<<30 {
				a.InFlight = uint32(fl)
				st := &c.Stats[c.dirOf(f)]
				st.MaxInFlight = max(st.MaxInFlight, a.InFlight)
			}
		}
	}
}

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
	now := s.Time
	ack := s.Ack
	// Data→ACK samples: the segment whose end the ACK matches exactly,
	// if no byte up to the ACK was sent twice.
	k := 0
	ambiguous := false
	var match sent
	matched := false
	for i := range r.segs {
		g := &r.segs[i]
		switch {
		case g.end.LessThanEq(ack):
			if g.retx {
				ambiguous = true
			}
			if g.end == ack {
				match, matched = *g, true
			}
			continue // acknowledged: drop
		case g.seq.LessThan(ack):
			if g.retx {
				ambiguous = true
			}
			g.seq = ack
		}
		r.segs[k] = *g
		k++
	}
	advanced := k < len(r.segs)
	r.segs = r.segs[:k]
	if matched && !ambiguous {
		a.AckOf = match.idx
		// A zero sample only says the clock could not tell: not taken.
		if d := now.Sub(match.t); d > 0 {
			a.RTT = d
			r.rtt.add(d)
			if r.srtt == 0 {
				r.srtt = d
			} else {
				r.srtt += (d - r.srtt) / 8 // RFC 6298, alpha = 1/8
			}
		}
	}
	if advanced {
		r.inRec = false
	}
	// Timestamp echo: the first echo of a TSval r sent.
	if s.Opts.HasTimestamps && s.Opts.TSEcr != 0 && (!f.echoOK || s.Opts.TSEcr != f.lastEcho) {
		f.lastEcho, f.echoOK = s.Opts.TSEcr, true
		if t, ok := r.ts.find(s.Opts.TSEcr); ok {
			if d := now.Sub(t); d > 0 {
				a.TSRTT = d
				r.tsrtt.add(d)
			}
		}
	}
	// Spurious retransmissions of r: a D-SACK block (RFC 2883: the first
	// block below the cumulative ACK) covering one, or the first ACK
	// covering one echoing an older timestamp than it carried (RFC 3522).
	if r.nretx == 0 {
		return
	}
	st := &c.Stats[c.dirOf(r)]
	var dsack *SACKBlock
	if s.Opts.NSACK > 0 {
		b := s.Opts.SACK[0]
		if b.Right.LessThanEq(ack) || (s.Opts.NSACK > 1 && s.Opts.SACK[1].Left.LessThanEq(b.Left) && b.Right.LessThanEq(s.Opts.SACK[1].Right)) {
			dsack = &b
		}
	}
	for i := 0; i < r.nretx; i++ {
		x := &r.retxs[i]
		if x.judged {
			continue
		}
		if dsack != nil && dsack.Left.LessThan(x.end) && x.seq.LessThan(dsack.Right) {
			x.judged = true
			st.SpuriousDSACK++
			a.Unneeded, a.Evidence = x.idx, EvidenceDSACK
			continue
		}
		if x.seq.LessThan(ack) && s.Flags.Has(ACK) {
			if x.hasTS && s.Opts.HasTimestamps {
				x.judged = true
				if int32(s.Opts.TSEcr-x.tsval) < 0 {
					st.SpuriousTS++
					a.Unneeded, a.Evidence = x.idx, EvidenceTS
				}
			}
		}
	}
}
