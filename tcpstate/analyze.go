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
	r    Range // the sequence space it occupies, SYN and FIN counted
	idx  uint64
	t    int64 // capture time, Unix nanoseconds
	retx bool  // sent more than once (Karn's rule: no RTT sample)
	// sacked: a SACK block reported it held before the cumulative ACK
	// reached it; that ACK times the hole's repair, not this segment.
	sacked bool
	// Its payload, TCP header and frame lengths, for Analysis.Acked.
	len, hdr, wire uint32
}

// size returns the segment's sizes.
func (g *sent) size() SegmentSize {
	return SegmentSize{Len: int(g.len), HeaderLen: int(g.hdr), WireLen: int(g.wire)}
}

// retx is a recent retransmission awaiting evidence that it was spurious.
type retx struct {
	r      Range
	idx    uint64
	tsval  uint32
	hasTS  bool
	judged bool
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
	lastAckMov int64  // its capture time, Unix nanoseconds
	window     uint32 // SEG.WND of the last segment, unscaled
	winIdx     uint64 // segment that carried window
	firstAck   bool   // no segment but SYNs sent yet: window is unscaled
	winScale   int8   // -1 unknown, -2 no scaling, else the shift
	dupAcks    int32
	lastNonDup uint64 // the last segment that moved SEG.ACK
	lastLabels Labels
	lastIdx    uint64
	lastSend   time.Time // last segment with data, SYN or FIN
	hasAcked   bool      // sent a segment with ACK

	segs []sent
	// sack holds the SACK blocks of the direction's last segment.
	sack  [MaxSACKBlocks]SACKBlock
	nsack int
	retxs *[maxRetx]retx // allocated with the first retransmission
	nretx int
	inRec bool // a retransmission was sent since SND.UNA last advanced

	srtt time.Duration
	// ts remembers the direction's recent TSvals (allocated with the
	// first timestamp after the SYN); synTS is the SYN's.
	ts       *tsRing
	synTS    tsEntry
	hasSynTS bool
	lastEcho uint32
	echoOK   bool
	rtt      sampler       // data→ACK samples of this direction's data
	tsrtt    sampler       // timestamp-echo samples of this direction's TSvals
	lastTS   time.Duration // the latest of them
	oversize uint64
	// dups holds the latest segments, to tell capture duplicates; ids
	// follows the sender's IPv4 IDs (see Analysis.Unseen).
	dups dupRing
	ids  idTrack
	// maxFull is the largest new segment followed by more new data of
	// the same direction (see EffectiveMSS).
	maxFull uint32
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

// rules is one segment's sequence analysis under way: the segment, the
// state of its direction (f, forward) and of the other (r, reverse), and
// the Analysis being filled. Each method is one of Wireshark's rules or
// rule groups, named after the label it gives.
type rules struct {
	c      *Conn
	a      *Analysis
	f, r   *half
	s      *Segment
	seglen Size
	win    uint32
	ctl    Flags // the segment's SYN, FIN and RST bits
}

// set gives the segment label l, referring to packet ref.
func (x *rules) set(l Label, ref uint64) {
	x.a.Labels = x.a.Labels.With(l)
	x.a.Ref[l] = ref
}

// analyze runs the sequence analysis on segment s of direction d, filling
// c.an. The rules and their order follow Wireshark's documented TCP
// analysis (see the package documentation): the rules on what the segment
// sends, the rules on its ACK, then for a segment occupying sequence space
// the retransmission family.
func (c *Conn) analyze(d Dir, s *Segment) {
	x := rules{c: c, a: &c.an, f: &c.h[d], r: &c.h[d.Reverse()], s: s,
		seglen: Size(s.Len), win: uint32(s.Window), ctl: s.Flags & (SYN | FIN | RST)}
	c.negotiate(x.f, x.r, s)
	x.seqJump()
	x.forwardRules()
	x.ackRules()
	if x.seglen > 0 || s.Flags&(SYN|FIN) != 0 {
		x.retransmissionRules()
	}
	if x.a.Retransmitted() && !x.a.Duplicate {
		x.a.Cause = c.cause(x.f, x.r, s, x.a.Labels)
		x.f.noteRetx(s)
	}
	c.advance(x.f, x.r, s, x.a)
}

// negotiate takes the window scaling a SYN negotiates (RFC 7323 section
// 2: in effect only when both SYNs carry the option), and times the
// initial round trip, from the latest SYN to the first ACK after it
// (Wireshark's threshold for out-of-order).
func (c *Conn) negotiate(f, r *half, s *Segment) {
	if !s.Flags.Has(SYN) {
		if s.Flags.Has(ACK) && c.firstRTT == 0 && !c.mruSyn.IsZero() {
			c.firstRTT = max(s.Time.Sub(c.mruSyn), 0)
		}
		return
	}
	if s.Opts.HasWScale {
		ws := s.Opts.WScale
		if ws > 14 {
			ws = 14
			c.wsClamped++
			c.an.Anomaly |= AnomalyWScale
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
		c.mruSyn = s.Time
	}
}

// seqJump marks a segment starting further from SND.NXT than any window
// allows.
func (x *rules) seqJump() {
	if jump := x.s.Seq.Diff(x.f.sndNxt); x.f.sndNxtOK && (jump > 1<<30 || jump < -(1<<30)) {
		x.c.seqJumps++
		x.a.Anomaly |= AnomalySeqJump
	}
}

// forwardRules tries the rules on what the segment sends, in Wireshark's
// order: zero-window probe (which ends them), zero window, previous
// segment not captured, keep-alive, window update, window full, then the
// rules on a repeated ACK: keep-alive ACK or zero-window-probe ACK (each
// ends them), else duplicate ACK.
func (x *rules) forwardRules() {
	if x.zeroWindowProbe() {
		return
	}
	x.zeroWindow()
	x.lostSegment()
	x.keepAlive()
	x.windowUpdate()
	x.windowFull()
	if x.keepAliveAck() || x.zeroWindowProbeAck() {
		return
	}
	x.dupAck()
}

// atNxt reports whether the segment starts at its direction's SND.NXT.
func (x *rules) atNxt() bool { return x.f.sndNxtOK && x.s.Seq == x.f.sndNxt }

// repeat reports whether the segment carries nothing new: no data, no
// SYN, FIN or RST, the direction's SND.NXT and its last SEG.ACK. Window
// updates, duplicate ACKs and the ACKs of probes look so.
func (x *rules) repeat() bool {
	return x.seglen == 0 && x.ctl == 0 && x.atNxt() && x.s.Ack == x.f.lastAck
}

func (x *rules) zeroWindowProbe() bool {
	if x.seglen == 1 && x.atNxt() && x.r.window == 0 {
		x.set(ZeroWindowProbe, x.r.winIdx)
		return true
	}
	return false
}

func (x *rules) zeroWindow() {
	if x.win == 0 && x.ctl == 0 {
		x.set(ZeroWindow, 0)
	}
}

func (x *rules) lostSegment() {
	if x.f.sndNxtOK && x.f.sndNxt.LessThan(x.s.Seq) && !x.s.Flags.Has(RST) {
		x.set(LostSegment, x.f.sndNxtIdx)
	}
}

func (x *rules) keepAlive() {
	if x.seglen <= 1 && x.ctl == 0 && x.f.sndNxtOK && x.s.Seq == x.f.sndNxt.Sub(1) {
		x.set(KeepAlive, x.f.sndNxtIdx)
	}
}

func (x *rules) windowUpdate() {
	if x.repeat() && x.win != 0 && x.win != x.f.window {
		x.set(WindowUpdate, x.f.winIdx)
	}
}

// windowFull: the segment ends at the right edge of the window the
// receiver last advertised (scaled when the scale is known).
func (x *rules) windowFull() {
	r := x.r
	if x.seglen > 0 && x.ctl == 0 && r.winScale != -1 &&
		x.s.Seq.Add(x.seglen) == r.lastAck.Add(Size(r.window<<r.shift())) {
		x.set(WindowFull, r.winIdx)
	}
}

func (x *rules) keepAliveAck() bool {
	if x.repeat() && x.win != 0 && x.win == x.f.window && x.r.lastLabels.Has(KeepAlive) {
		x.set(KeepAliveAck, x.r.lastIdx)
		return true
	}
	return false
}

func (x *rules) zeroWindowProbeAck() bool {
	if x.repeat() && x.win == 0 && x.win == x.f.window && x.r.lastLabels.Has(ZeroWindowProbe) {
		x.set(ZeroWindowProbeAck, x.r.lastIdx)
		return true
	}
	return false
}

func (x *rules) dupAck() {
	if x.repeat() && x.win != 0 && x.win == x.f.window {
		x.f.dupAcks++
		x.set(DupAck, x.f.lastNonDup)
		x.a.DupAckNum = uint32(x.f.dupAcks)
	}
}

// ackRules follows the segment's SEG.ACK: a new value ends a run of
// duplicate ACKs, and one beyond the highest in-order byte of the other
// direction acknowledges a segment the capture never showed (each hole
// is reported once).
func (x *rules) ackRules() {
	f, r, ack := x.f, x.r, x.s.Ack
	if ack != f.lastAck {
		f.lastNonDup = x.s.Index
		f.dupAcks = 0
	}
	if r.maxAckOK && r.maxAck.LessThan(ack) && x.s.Flags.Has(ACK) {
		x.set(AckedUnseen, r.sndNxtIdx)
		r.maxAck = r.sndNxt
	}
}

// retransmissionRules tries, on a segment occupying sequence space that
// is not a keep-alive, the retransmission family in Wireshark's order:
// spurious retransmission (data already acknowledged), then, for a
// segment that does not advance SND.NXT, fast retransmission,
// out-of-order and retransmission.
func (x *rules) retransmissionRules() {
	if x.a.Labels.Has(KeepAlive) || x.spuriousRetransmission() || !x.notAdvancing() {
		return
	}
	if x.fastRetransmission() || x.outOfOrder() {
		return
	}
	x.set(Retransmission, x.f.original(x.s.Seq, x.seglen, x.f.sndNxtIdx))
}

// notAdvancing reports whether the segment starts below SND.NXT, a
// segment of more than one byte starting one below it excepted.
func (x *rules) notAdvancing() bool {
	f, seq := x.f, x.s.Seq
	if x.seglen > 1 && f.sndNxtOK && f.sndNxt.Sub(1) == seq {
		return false
	}
	return f.sndNxtOK && seq.LessThan(f.sndNxt)
}

func (x *rules) spuriousRetransmission() bool {
	r := x.r
	if x.seglen > 0 && r.lastAck != 0 && x.s.Seq.Add(x.seglen).LessThanEq(r.lastAck) {
		x.set(SpuriousRetransmission, r.lastAckIdx)
		return true
	}
	return false
}

// fastRetransmission: the byte at least two duplicate ACKs asked for,
// within 20 ms of the last of them.
func (x *rules) fastRetransmission() bool {
	r := x.r
	if r.dupAcks >= 2 && r.lastAck == x.s.Seq && since(x.s.Time, r.lastAckT) < 20*time.Millisecond {
		x.set(FastRetransmission, r.lastNonDup)
		return true
	}
	return false
}

// outOfOrder: within the initial RTT (3 ms without one) of the segment
// that advanced SND.NXT, and not ending at SND.NXT.
func (x *rules) outOfOrder() bool {
	f, s := x.f, x.s
	thres := 3 * time.Millisecond
	if x.c.firstRTT > 0 {
		thres = x.c.firstRTT
	}
	if since(s.Time, f.sndNxtTime) < thres && f.sndNxt != s.Seq.Add(s.SeqLen()) {
		x.set(OutOfOrder, f.sndNxtIdx)
		return true
	}
	return false
}

// original returns the packet that first sent byte seq, or def.
func (h *half) original(seq Seq, n Size, def uint64) uint64 {
	g := Span(seq, max(n, 1))
	for i := range h.segs {
		if h.segs[i].r.Overlaps(g) {
			return h.segs[i].idx
		}
	}
	return def
}

// cause tells why retransmission s was sent (see Cause).
func (c *Conn) cause(f, r *half, s *Segment, ls Labels) Cause {
	if ls.Has(FastRetransmission) {
		return CauseFast
	}
	if f.lastSend.IsZero() {
		return CauseUnknown
	}
	// The sender's round trip: its smoothed data→ACK samples cover only
	// the capture point to the receiver and back, so take at least the
	// handshake's full round trip.
	srtt := max(f.srtt, c.firstRTT)
	// Duplicate ACKs or SACK blocks drive a retransmission only when they
	// came after the previous transmission of the bytes resent (stale
	// ones, the receiver's last word before a silence, do not make an RTO
	// backoff fast), and when the sender answered them sooner than any
	// retransmission timer (at least SRTT + 200 ms in practice): a sender
	// that stays silent longer after them was waiting for its timer (a
	// SACK recovery that stalled).
	fresh := r.lastIdx > f.lastSent(s.Seq, s.SeqLen()) && s.Time.Sub(r.lastAckT) < srtt+200*time.Millisecond
	if fresh && ((r.dupAcks >= 1 && r.lastAck == s.Seq) || (r.nsack > 0 && r.lastAck.LessThanEq(s.Seq))) {
		return CauseFast
	}
	idle := s.Time.Sub(f.lastSend)
	una, unaOK := f.una(r)
	tail := s.Seq.Add(s.SeqLen()) == f.sndNxt
	if tail && !f.inRec && srtt > 0 && idle > 0 {
		if una.LessThan(s.Seq) || idle < srtt+200*time.Millisecond {
			// The tail sent again while earlier data is outstanding, or
			// sooner than any RTO (at least SRTT + 200 ms in practice).
			return CauseTLP
		}
	}
	if unaOK && s.Seq.LessThanEq(una) && f.timerRan(r, s) >= 200*time.Millisecond {
		// The first unacknowledged byte again after its timer ran 200 ms
		// or more; below SND.UNA as the capture saw it when the ACKs were
		// lost after the capture point (the sender's SND.UNA is older).
		return CauseTimeout
	}
	return CauseUnknown
}

// timerRan returns how long the retransmission timer of the first byte
// that s resends had run when s was sent, as the capture point saw it:
// since the later of the receiver's last ACK that moved (an ACK of new
// data restarts the timer, RFC 6298 5.3) and the byte's last
// transmission, or, when that is not remembered, the sender's last
// segment (5.1: the timer runs from a transmission).
func (f *half) timerRan(r *half, s *Segment) time.Duration {
	// the timer guards the first byte resent (the oldest outstanding):
	// later bytes a larger resend repacketizes were sent since
	g, sent := Span(s.Seq, 1), int64(0)
	for i := range f.segs {
		if x := &f.segs[i]; x.r.Overlaps(g) {
			sent = max(sent, x.t)
		}
	}
	if sent == 0 {
		sent = f.lastSend.UnixNano()
	}
	return time.Duration(s.Time.UnixNano() - max(sent, r.lastAckMov))
}

// lastSent returns the packet index of the latest transmission of the n
// bytes at seq: a recent retransmission, else the original (0 if neither
// is remembered).
func (f *half) lastSent(seq Seq, n Size) uint64 {
	g := Span(seq, max(n, 1))
	var idx uint64
	if f.retxs != nil {
		for i := 0; i < f.nretx; i++ {
			if x := &f.retxs[i]; x.r.Overlaps(g) {
				idx = max(idx, x.idx)
			}
		}
	}
	if idx == 0 {
		idx = f.original(seq, n, 0)
	}
	return idx
}

// una returns SND.UNA of f's data: r's last ACK, or before r has ACKed
// anything in the capture the oldest segment f still remembers as
// unacknowledged; ok is false when neither is known.
func (f *half) una(r *half) (Seq, bool) {
	if r.hasAcked {
		return r.lastAck, true
	}
	if len(f.segs) > 0 {
		return f.segs[0].r.First, true
	}
	return r.lastAck, false
}

// noteRetx remembers a retransmission for the spurious evidence, and
// marks the segments it covers as sent twice (Karn's rule).
func (f *half) noteRetx(s *Segment) {
	f.inRec = true
	g := Span(s.Seq, s.SeqLen())
	f.markRetx(g)
	if f.retxs == nil {
		f.retxs = new([maxRetx]retx)
	}
	if f.nretx == maxRetx {
		copy(f.retxs[:], f.retxs[1:])
		f.nretx--
	}
	f.retxs[f.nretx] = retx{r: g, idx: s.Index, tsval: s.Opts.TSVal, hasTS: s.Opts.HasTimestamps}
	f.nretx++
}

// markRetx marks the remembered segments overlapping g as sent more than
// once.
func (f *half) markRetx(g Range) {
	for i := range f.segs {
		if f.segs[i].r.Overlaps(g) {
			f.segs[i].retx = true
		}
	}
}
