package explain

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero Options.
const (
	DefaultTopStalls       = 5
	DefaultMinBulkSegments = 4
	DefaultSmallMessage    = 64
	DefaultMaxPhases       = 32
	defaultIW              = 10
)

// Options tunes an Explainer. Its zero value is usable.
type Options struct {
	// TopStalls is how many of the longest stalls each connection keeps.
	// Zero means DefaultTopStalls.
	TopStalls int
	// MinBulkSegments is the fewest data segments in one direction, with no
	// data the other way, that make a bulk phase. Zero means
	// DefaultMinBulkSegments.
	MinBulkSegments int
	// SmallMessage is the largest payload of a segment counted as a small
	// application message when it carries an ACK. Zero means
	// DefaultSmallMessage.
	SmallMessage int
	// MaxPhases bounds the bulk phases kept per connection for the what-if
	// model. Zero means DefaultMaxPhases.
	MaxPhases int
	// Keep keeps every connection's explanation, returned by Conns;
	// memory then grows with the connections of the capture. Without it
	// only the explanation of the connection that ended last is held
	// (Ended).
	Keep bool
}

func (o *Options) norm() {
	if o.TopStalls <= 0 {
		o.TopStalls = DefaultTopStalls
	}
	if o.MinBulkSegments <= 0 {
		o.MinBulkSegments = DefaultMinBulkSegments
	}
	if o.SmallMessage <= 0 {
		o.SmallMessage = DefaultSmallMessage
	}
	if o.MaxPhases <= 0 {
		o.MaxPhases = DefaultMaxPhases
	}
}

// Explainer explains the connections of one capture. It is a
// flow.TransactionConsumer: list it in flow.Config.Consumers. Its memory
// is bounded by the live connections (fixed per connection) unless
// Options.Keep is set. It is not safe for concurrent use.
//
// When a connection ends, the Explainer finishes its explanation in
// ConnEnd; consumers listed after it in flow.Config.Consumers read it with
// Ended in their own ConnEnd.
type Explainer struct {
	opts  Options
	live  map[*flow.Conn]*connState
	done  []*Conn
	ended *Conn
	spare *connState

	// With flow.Config.Workers, the root (forked) receives the
	// explanations its forks finish (root) through results.
	root   *Explainer
	forked bool
	mu     sync.Mutex
	result map[*flow.Conn]*Conn
}

var (
	_ flow.TransactionConsumer = (*Explainer)(nil)
	_ flow.Forker              = (*Explainer)(nil)
)

// New returns an Explainer.
func New(opts Options) *Explainer {
	opts.norm()
	return &Explainer{opts: opts, live: make(map[*flow.Conn]*connState)}
}

// Conns returns the explanations of the ended connections in the order
// they ended (empty unless Options.Keep is set).
func (e *Explainer) Conns() []*Conn { return e.done }

// Ended returns the explanation of the connection whose ConnEnd was
// delivered last (nil if no segment of it was seen, or before any
// ConnEnd). It stays valid until the next ConnEnd, or for good with
// Options.Keep.
func (e *Explainer) Ended() *Conn { return e.ended }

// Packet feeds one packet; packets that are not TCP segments of a
// connection analysed by tcpstate (PacketInfo.Analysis and TCP, which
// flow's Analyzer sets with Seg) are ignored.
func (e *Explainer) Packet(p *flow.PacketInfo) {
	if p.Conn == nil || p.Seg == nil || p.Analysis == nil || p.TCP == nil {
		return
	}
	cs := e.live[p.Conn]
	if cs == nil {
		cs = e.spare
		e.spare = nil
		if cs == nil {
			cs = new(connState)
		}
		cs.init(&e.opts)
		e.live[p.Conn] = cs
	}
	cs.add(p.Dir, p.Seg, p.Analysis, p.TCP)
}

// Transaction counts an application transaction's messages that spanned
// several segments (see SegmentStats.MultiSegmentMessages).
func (e *Explainer) Transaction(c *flow.Conn, t *appproto.Transaction) {
	cs := e.live[c]
	if cs == nil {
		return
	}
	cs.message(tcpstate.ClientToServer, t.RequestSegments, t.RequestBytes)
	cs.message(tcpstate.ServerToClient, t.ResponseSegments, t.ResponseBytes)
}

func (cs *connState) message(d tcpstate.Dir, segs int, bytes int64) {
	if segs < 2 || bytes <= 0 {
		return
	}
	st := &cs.d[d].segStats
	st.MultiSegmentMessages++
	st.MessageSegments += uint64(segs)
	st.MessageBytes += uint64(bytes)
	if mss, _ := cs.effMSS(d); mss > 0 {
		if full := (bytes + int64(mss) - 1) / int64(mss); full < int64(segs) {
			st.MessageSavedSegments += uint64(int64(segs) - full)
		}
	}
}

// ConnEnd finishes the explanation of an ended connection (see Ended).
func (e *Explainer) ConnEnd(c *flow.Conn) {
	e.ended = nil
	if e.forked {
		// The fork that saw the connection has finished it.
		e.mu.Lock()
		e.ended = e.result[c]
		delete(e.result, c)
		e.mu.Unlock()
	} else if cs := e.live[c]; cs != nil {
		delete(e.live, c)
		e.ended = cs.finish(c)
		e.spare = cs
		if r := e.root; r != nil {
			r.mu.Lock()
			r.result[c] = e.ended
			r.mu.Unlock()
			return
		}
	}
	if e.ended != nil && e.opts.Keep {
		e.done = append(e.done, e.ended)
	}
}

// Fork returns an Explainer for one shard of a parallel pass (see
// flow.Forker); its explanations reach e as their connections end.
func (e *Explainer) Fork() flow.Consumer {
	e.forked = true
	if e.result == nil {
		e.result = make(map[*flow.Conn]*Conn)
	}
	return &Explainer{opts: e.opts, live: make(map[*flow.Conn]*connState), root: e}
}

// Merge does nothing: the forks' explanations have reached e through
// ConnEnd.
func (e *Explainer) Merge([]flow.Consumer) {}

// Spacing histogram: per-byte spacing of segments, in quarter octaves of
// nanoseconds per byte from 2^-2 ns/B (32 Gbit/s) up.
const (
	nbins     = 112
	binOrigin = -2.0
	binsPerOc = 4.0
)

func spacingBin(nsPerByte float64) int {
	if nsPerByte <= 0 {
		return 0
	}
	i := int(math.Floor((math.Log2(nsPerByte) - binOrigin) * binsPerOc))
	return min(max(i, 0), nbins-1)
}

func binLo(i int) float64 { return math.Exp2(binOrigin + float64(i)/binsPerOc) }
func binHi(i int) float64 { return binLo(i + 1) }

// gapHist holds far-side gaps whose split between transfer and a waiting
// cause needs the bottleneck rate, known only at the end.
type gapHist struct {
	g [4][nbins]float64 // seconds of gap
	w [4][nbins]float64 // wire bytes of the segment ending the gap
}

// splitCauses are the causes whose gaps are split with the rate;
// CauseServerThink stands for the far side's think time.
var splitCauses = [4]Cause{CauseWindowWait, CauseReceiverWindow, CauseServerThink, CauseLossRecovery}

// dirState is one direction's sending state and its receiver's ACKs.
type dirState struct {
	maxSeg   int
	small    uint64 // data segments below the MSS
	segs     uint64
	bytes    uint64
	wire     uint64
	ackValid bool
	ackHigh  tcpstate.Seq // receiver's highest ACK of this direction
	// ring holds the ends of data segments not yet acknowledged, oldest
	// first (overflow counts those pushed out unacknowledged).
	ring     [128]tcpstate.Seq
	rhead    int
	rlen     int
	overflow int
	acks     AckStats
	holeOpen bool
	holeEnd  tcpstate.Seq
	// mss is the full segment size of this direction's data as the
	// handshake set it (tcpstate.Conn.MSS; 0: none announced).
	mss int

	// receiver side of the opposite direction: this side's window
	win      uint64 // this side's last advertised window, in bytes
	winKnown bool
	zeroWin  bool // this side advertised a zero window since the last event
	// flight is this direction's data in flight after the previous
	// packet (tcpstate.Conn.InFlight), valid if flightOK.
	flight   uint32
	flightOK bool
	segStats SegmentStats
}

// runState is the current run of data segments in one direction.
type runState struct {
	active      bool
	dir         tcpstate.Dir
	segs        int
	bytes       uint64
	wire        uint64
	small       int
	lastSmall   bool
	bins        [5]uint64
	flights     int
	firstFlight int
	firstT      time.Time
	lastT       time.Time
	minSpacing  float64
	gaps        [numCauses]time.Duration // gaps ending in the run's segments, by cause
}

type connState struct {
	opts  *Options
	first time.Time
	last  time.Time
	n     uint64

	hs       int // 0 none, 1 SYN seen, 2 SYN/ACK seen, 3 done, -1 no handshake
	vantage  Vantage
	near     tcpstate.Dir
	base     time.Duration
	nsamples int

	d [2]dirState

	// last event (data, SYN, FIN, RST or handshake end)
	evT     time.Time
	evDir   tcpstate.Dir
	evValid bool
	evData  bool // the last event carried payload
	lastDir tcpstate.Dir
	// near packets, for the trigger search
	nearT        [32]time.Time
	nearHead     int
	nearLen      int
	nearBytes    uint64 // near wire bytes since the last far data event
	farAckedNear bool   // a far packet advanced the ACK of near data since the last event

	sum      [numCauses]time.Duration
	turnN    int
	turnGap  time.Duration
	turnWire uint64
	gh       *gapHist
	spacing  [nbins]uint32
	spSum    [nbins]float64 // sum of the samples' spacing, ns per byte
	spacingN int
	stalls   []Stall
	rtos     int

	turns       int
	payloadDir  tcpstate.Dir
	payloadSeen bool

	run     runState
	phases  []Phase
	dropped int
}

func (cs *connState) init(o *Options) {
	stalls, phases, gh := cs.stalls[:0], cs.phases[:0], cs.gh
	*cs = connState{opts: o, stalls: stalls, phases: phases, gh: gh}
	if cs.gh != nil {
		*cs.gh = gapHist{}
	}
}

func isEvent(s *tcpstate.Segment) bool {
	return s.Len > 0 || s.Flags&(tcpstate.SYN|tcpstate.FIN|tcpstate.RST) != 0
}

// add feeds segment s of direction d, with tcpstate's analysis of it (an)
// and the connection's TCP state after it (tc).
func (cs *connState) add(d tcpstate.Dir, s *tcpstate.Segment, an *tcpstate.Analysis, tc *tcpstate.Conn) {
	t := cs.clock(d, s)
	if s.Flags.Has(tcpstate.SYN) {
		cs.d[0].mss, cs.d[1].mss = tc.MSS(tcpstate.ClientToServer), tc.MSS(tcpstate.ServerToClient)
	}
	ds := &cs.d[d]
	// A hole in d's data: tcpstate's "previous segment not captured" on a
	// segment with data, open until the receiver's ACK reaches it.
	if g := an.Data; !g.Empty() && an.Labels.Has(tcpstate.LostSegment) && !ds.holeOpen {
		ds.holeOpen, ds.holeEnd = true, g.First
	}
	cs.count(d, an)
	hs := cs.hs // before this segment
	if cs.hs == 1 || cs.hs == 2 {
		h := tc.Handshake()
		cs.handshake(d, s, t, &h, tc.Vantage())
	}
	if isEvent(s) {
		cs.event(d, s, t, lossOf(s, an))
	}
	cs.update(d, s, t, an)
	for k := range cs.d {
		cs.d[k].flight, cs.d[k].flightOK = tc.InFlight(tcpstate.Dir(k))
	}
	if an.RTT > 0 && d != cs.near && (hs < 0 || hs == 3) {
		// the far side's ACK timed near data (tcpstate's sample, Karn's
		// rule); the handshake's segments are timed by its legs
		cs.sample(an.RTT)
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
// returns its time, kept from going backwards.
func (cs *connState) clock(d tcpstate.Dir, s *tcpstate.Segment) time.Time {
	t := s.Time
	if cs.n == 0 {
		cs.first, cs.evT = t, t
		if s.Flags.Has(tcpstate.SYN) && !s.Flags.Has(tcpstate.ACK) && d == tcpstate.ClientToServer {
			cs.hs = 1
		} else {
			cs.hs = -1
			cs.vantage = VantageAssumedClient
			cs.near = tcpstate.ClientToServer
		}
	}
	cs.n++
	if t.Before(cs.last) {
		t = cs.last // a clock stepping back: keep time monotonic
	} else {
		cs.last = t
	}
	cs.lastDir = d
	return t
}

// lossOf judges segment s for the budget by tcpstate's labels (tshark's
// rules): a retransmission or an out-of-order segment carrying data is
// loss recovery, or an RTO wait when tcpstate found it sent on a timeout;
// a keep-alive is no loss.
func lossOf(s *tcpstate.Segment, an *tcpstate.Analysis) Cause {
	switch {
	case s.Len == 0 || an.Labels.Has(tcpstate.KeepAlive):
		return 0
	case !an.Retransmitted() && !an.Labels.Has(tcpstate.OutOfOrder):
		return 0
	case an.Cause == tcpstate.CauseTimeout:
		return CauseRTO
	}
	return CauseLossRecovery
}

// handshake follows the handshake as tcpstate tracks it (h, after
// segment s of d) for the budget: the SYN/ACK, then the client's ACK
// that ends it, recorded as a client event, when the vantage point is
// tcpstate's and the handshake's round trip a first RTT sample.
func (cs *connState) handshake(d tcpstate.Dir, s *tcpstate.Segment, t time.Time, h *tcpstate.Handshake, v tcpstate.Vantage) {
	if (cs.hs == 1 || cs.hs == 2) && s.Len > 0 && !s.Flags.Has(tcpstate.SYN) && (cs.hs == 1 || d == tcpstate.ServerToClient) {
		// data before the handshake completed as seen: part of it was
		// not captured; the vantage cannot be told
		cs.hs = 3
		cs.vantage, cs.near = VantageAssumedClient, tcpstate.ClientToServer
		cs.sum[CauseHandshake] += t.Sub(cs.evT)
		cs.evT = t
		return
	}
	switch cs.hs {
	case 1:
		if h.HaveSYNACK {
			cs.hs = 2
		} else if d == tcpstate.ServerToClient && s.Flags.Has(tcpstate.RST) {
			cs.hs = 3
			cs.near = tcpstate.ClientToServer
		}
	case 2:
		if h.HaveACK {
			cs.hs = 3
			cs.vantage, cs.near = vantageOf(v)
			rtt, _ := h.RTT() // from the first SYN: never too short
			cs.sample(rtt)
			cs.sum[CauseHandshake] += t.Sub(cs.evT)
			cs.evT, cs.evDir, cs.evValid, cs.evData = t, tcpstate.ClientToServer, true, false
			cs.noteNear(tcpstate.ClientToServer, t)
		}
	}
}

// vantageOf maps tcpstate's vantage to the explanation's and the side
// taken as near: the client unless the capture was near the server, and
// assumed at the client when tcpstate cannot tell (a round trip too
// short to place the capture).
func vantageOf(v tcpstate.Vantage) (Vantage, tcpstate.Dir) {
	switch v {
	case tcpstate.VantageClient:
		return VantageClient, tcpstate.ClientToServer
	case tcpstate.VantageServer:
		return VantageServer, tcpstate.ServerToClient
	case tcpstate.VantageMiddle:
		return VantageMiddle, tcpstate.ClientToServer
	}
	return VantageAssumedClient, tcpstate.ClientToServer
}

func (cs *connState) sample(rtt time.Duration) {
	if rtt <= 0 {
		return
	}
	cs.nsamples++
	if cs.base == 0 || rtt < cs.base {
		cs.base = rtt
	}
}

func (cs *connState) noteNear(d tcpstate.Dir, t time.Time) {
	if d != cs.near {
		return
	}
	cs.nearT[cs.nearHead] = t
	cs.nearHead = (cs.nearHead + 1) % len(cs.nearT)
	cs.nearLen = min(cs.nearLen+1, len(cs.nearT))
}

// trigger returns the latest near packet sent at or before t (false if
// none is remembered).
func (cs *connState) trigger(t time.Time) (time.Time, bool) {
	for i := 1; i <= cs.nearLen; i++ {
		x := cs.nearT[(cs.nearHead-i+len(cs.nearT))%len(cs.nearT)]
		if !x.After(t) {
			return x, true
		}
	}
	return time.Time{}, false
}

func (cs *connState) think(side tcpstate.Dir) Cause {
	if side == tcpstate.ClientToServer {
		return CauseClientThink
	}
	return CauseServerThink
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

// event attributes the gap since the previous event, ending at a segment
// of direction d carrying data, SYN, FIN or RST; loss is the segment's
// loss judgement (lossOf).
func (cs *connState) event(d tcpstate.Dir, s *tcpstate.Segment, t time.Time, loss Cause) {
	gap := t.Sub(cs.evT)
	prevT := cs.evT
	defer func() { cs.evT, cs.evDir, cs.evValid, cs.evData = t, d, true, s.Len > 0 }()
	if cs.hs >= 0 && cs.hs < 3 {
		cs.sum[CauseHandshake] += gap
		return
	}
	if !cs.evValid {
		// first event of a connection picked up mid-stream: the gap since
		// its first packet (pure ACKs) is the sender's own.
		cs.sum[cs.think(d)] += gap
		return
	}
	near, far := cs.near, cs.near.Reverse()
	var c Cause
	switch {
	case loss != 0 || cs.d[d].holeOpen && d == far:
		c = cs.lossGap(d, s, gap, loss)
	case cs.evDir == near && d == near:
		c = cs.nearNearGap()
		cs.sum[c] += gap
	case cs.evDir == near && d == far:
		c = cs.answerGap(s, gap)
	case cs.evDir == far && d == far:
		c = cs.farFarGap(s, t, gap, prevT)
	default: // far to near
		c = cs.think(near)
		cs.sum[c] += gap
	}
	if r := &cs.run; r.active && r.dir == d && s.Len > 0 {
		r.gaps[c] += gap
	}
	if c != CauseTransfer {
		cs.stall(prevT, t, gap, c, s.Index)
	}
}

// lossGap attributes a gap ending in a retransmission, or in far data
// while a sequence hole is open: an RTO wait, or loss recovery during
// which far data flowing on is split with the rate.
func (cs *connState) lossGap(d tcpstate.Dir, s *tcpstate.Segment, gap time.Duration, loss Cause) Cause {
	far := cs.near.Reverse()
	if loss == CauseRTO {
		cs.rtos++
		cs.sum[CauseRTO] += gap
		return CauseRTO
	}
	if d == far && cs.evDir == far {
		cs.farGap(CauseLossRecovery, gap, s) // data flows on during recovery
	} else {
		cs.sum[CauseLossRecovery] += gap
	}
	return CauseLossRecovery
}

// nearNearGap is the cause of a gap between two near events: a window
// wait when a far ACK in between released the second (a receiver-window
// stall when the data in flight filled the far side's window), a
// zero-window stall, else the near side's think time.
func (cs *connState) nearNearGap() Cause {
	near, far := cs.near, cs.near.Reverse()
	switch {
	case cs.farAckedNear && cs.rwndFull(near):
		return CauseReceiverWindow
	case cs.d[far].zeroWin:
		return CauseZeroWindow
	case cs.farAckedNear:
		return CauseWindowWait
	}
	return cs.think(near)
}

// answerGap attributes a gap from a near event to far data: an
// application turn paying a round trip (the far side's think time beyond
// two of them), or a window wait when it came too soon to answer.
func (cs *connState) answerGap(s *tcpstate.Segment, gap time.Duration) Cause {
	if cs.base > 0 && gap*2 < cs.base {
		// too soon to answer the near event: the far side was sending anyway
		cs.farGap(CauseWindowWait, gap, s)
		return CauseWindowWait
	}
	cs.turnN++
	cs.turnGap += gap
	cs.turnWire += cs.nearBytes + uint64(s.WireLen)
	if cs.base > 0 && gap > 2*cs.base {
		return cs.think(cs.near.Reverse())
	}
	return CauseRoundTrip
}

// farFarGap attributes a gap between two far events: after a far SYN,
// FIN or handshake ACK the far side's own pace; a zero-window stall; else
// a window wait (a receiver-window stall when the data in flight filled
// the near side's window) when a near packet at least 0.9 RTT before
// explains the timing, or the far side's think time; the gap's spacing
// feeds the bottleneck-rate estimate.
func (cs *connState) farFarGap(s *tcpstate.Segment, t time.Time, gap time.Duration, prevT time.Time) Cause {
	near, far := cs.near, cs.near.Reverse()
	switch {
	case !cs.evData:
		c := cs.think(far)
		cs.sum[c] += gap
		return c
	case cs.d[near].zeroWin:
		cs.sum[CauseZeroWindow] += gap
		return CauseZeroWindow
	}
	c := CauseWindowWait
	if cs.rwndFull(far) {
		c = CauseReceiverWindow
	}
	tr, ok := cs.trigger(t.Add(-cs.base * 9 / 10))
	slack := max(cs.base/2, 20*time.Millisecond)
	if !ok || tr.Before(prevT.Add(-4*cs.base)) || t.Sub(tr.Add(cs.base)) > slack {
		c = cs.think(far)
	}
	cs.farGap(c, gap, s)
	if s.Len >= 200 && cs.nearBytes == 0 && gap > 0 {
		sp := float64(gap) / float64(s.WireLen)
		cs.spacing[spacingBin(sp)]++
		cs.spSum[spacingBin(sp)] += sp
		cs.spacingN++
	}
	return c
}

func (cs *connState) farGap(c Cause, gap time.Duration, s *tcpstate.Segment) {
	if cs.gh == nil {
		cs.gh = new(gapHist)
	}
	k := 2 // the far side's think time
	switch c {
	case CauseWindowWait:
		k = 0
	case CauseReceiverWindow:
		k = 1
	case CauseLossRecovery:
		k = 3
	}
	w := float64(max(s.WireLen, 1))
	b := spacingBin(float64(gap) / w)
	cs.gh.g[k][b] += gap.Seconds()
	cs.gh.w[k][b] += w
}

// stall keeps the longest stalls.
func (cs *connState) stall(start, end time.Time, gap time.Duration, c Cause, idx uint64) {
	if gap <= 0 || cs.base > 0 && gap < cs.base/2 {
		return
	}
	st := Stall{Start: start, End: end, DurationS: gap.Seconds(), Cause: c, Packet: idx}
	k := cs.opts.TopStalls
	if len(cs.stalls) == k && cs.stalls[k-1].DurationS >= st.DurationS {
		return
	}
	if len(cs.stalls) == k {
		cs.stalls = cs.stalls[:k-1]
	}
	i, _ := slices.BinarySearchFunc(cs.stalls, st.DurationS, func(x Stall, v float64) int {
		if x.DurationS > v {
			return -1
		}
		if x.DurationS < v {
			return 1
		}
		return 0
	})
	cs.stalls = slices.Insert(cs.stalls, i, st)
}

// update moves the state on after segment s of direction d.
func (cs *connState) update(d tcpstate.Dir, s *tcpstate.Segment, t time.Time, an *tcpstate.Analysis) {
	if d == cs.near {
		cs.noteNear(d, t)
	}
	if isEvent(s) {
		cs.farAckedNear = false
		cs.d[0].zeroWin, cs.d[1].zeroWin = false, false
	}
	cs.noteWindow(d, s, an)
	if s.Flags.Has(tcpstate.ACK) {
		cs.noteAck(d, s)
	}
	if an.Data.Empty() {
		if s.Flags.Has(tcpstate.FIN) {
			cs.endRun()
		}
		return
	}
	cs.noteData(d, s, t, an)
}

// noteWindow records the receive window segment s of d advertises, in
// bytes as tcpstate scaled it.
func (cs *connState) noteWindow(d tcpstate.Dir, s *tcpstate.Segment, an *tcpstate.Analysis) {
	if s.Flags.Has(tcpstate.RST) {
		return
	}
	ds := &cs.d[d]
	if s.Flags.Has(tcpstate.SYN) {
		ds.winKnown = false // a SYN's window is the handshake's, not the receiver's later one
	} else if an.WindowShift >= 0 {
		ds.win, ds.winKnown = uint64(an.Window), true
	}
	if an.Labels.Has(tcpstate.ZeroWindow) {
		ds.zeroWin = true
	}
}

// noteAck follows the ACK segment s of d gives the other direction's
// data: the segments an advance covers (ACK behaviour), the end of a
// hole.
func (cs *connState) noteAck(d tcpstate.Dir, s *tcpstate.Segment) {
	od := &cs.d[d.Reverse()]
	a := s.Ack
	if !od.ackValid || od.ackHigh.LessThan(a) {
		covered := od.overflow
		for od.rlen > 0 && od.ring[od.rhead].LessThanEq(a) {
			od.rhead = (od.rhead + 1) % len(od.ring)
			od.rlen--
			covered++
		}
		od.overflow = 0
		if covered > 0 {
			cs.advance(d, s, covered)
		}
		od.ackValid, od.ackHigh = true, a
		if od.holeOpen && !a.LessThan(od.holeEnd) {
			od.holeOpen = false
		}
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
	if d.Reverse() == cs.near && d == cs.near.Reverse() {
		cs.farAckedNear = true
	}
}

// noteData counts a segment of d carrying data (an.Data): its size, and
// unless some of it was sent before (an.Resent) the end the receiver's
// ACK will cover, the turn and the run it belongs to.
func (cs *connState) noteData(d tcpstate.Dir, s *tcpstate.Segment, t time.Time, an *tcpstate.Analysis) {
	ds := &cs.d[d]
	end := an.Data.End
	ds.segs++
	ds.bytes += uint64(s.Len)
	ds.wire += uint64(s.WireLen)
	ds.acks.DataSegments++
	ds.maxSeg = max(ds.maxSeg, s.Len)
	if m, _ := cs.effMSS(d); s.Len < m {
		ds.small++
	}
	if d == cs.near {
		cs.nearBytes += uint64(s.WireLen)
	} else {
		cs.nearBytes = 0
	}
	if an.Resent > 0 {
		return
	}
	if ds.rlen == len(ds.ring) {
		ds.rhead = (ds.rhead + 1) % len(ds.ring)
		ds.rlen--
		ds.overflow++
	}
	ds.ring[(ds.rhead+ds.rlen)%len(ds.ring)] = end
	ds.rlen++
	if d == tcpstate.ClientToServer && (!cs.payloadSeen || cs.payloadDir != d) {
		cs.turns++
	}
	cs.payloadSeen, cs.payloadDir = true, d
	cs.runAdd(d, s, t)
}

// effMSS is the full segment size of direction d's data: the MSS the
// handshake set (tcpstate's), raised to the largest segment seen, else
// the largest segment seen.
func (cs *connState) effMSS(d tcpstate.Dir) (int, string) {
	ds := &cs.d[d]
	if ds.mss > 0 {
		return max(ds.mss, ds.maxSeg), "announced"
	}
	return ds.maxSeg, "max_seen"
}

func (cs *connState) runAdd(d tcpstate.Dir, s *tcpstate.Segment, t time.Time) {
	r := &cs.run
	if r.active && r.dir != d {
		cs.endRun()
	}
	mss, _ := cs.effMSS(d)
	small := s.Len < mss
	if !r.active {
		*r = runState{active: true, dir: d, flights: 1, firstT: t}
	} else {
		// a new flight: a pause of half a round trip that is not just the
		// segment's serialization
		gap := t.Sub(r.lastT)
		sp := float64(gap) / float64(max(s.WireLen, 1))
		if cs.base > 0 && gap*2 > cs.base {
			ref := r.minSpacing
			if sigma := cs.secPerByte(); sigma > 0 {
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
	r.wire += uint64(s.WireLen)
	r.lastT = t
	if small {
		r.small++
	}
	r.lastSmall = small
	bin := 4
	if small && mss > 0 {
		bin = min(s.Len*4/mss, 3)
	}
	r.bins[bin]++
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
		st.SizeBins[i] += n
	}
	nf := r.small
	if r.lastSmall {
		nf--
	}
	st.NonFinalSmall += uint64(nf)
	st.Flights += r.flights
	mss, _ := cs.effMSS(r.dir)
	if mss > 0 {
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
			DurationS: r.lastT.Sub(r.firstT).Seconds()}
		ph.Utilisation, ph.Limit = cs.phaseLimit(r, ph.DurationS)
		cs.phases = append(cs.phases, ph)
	} else {
		cs.dropped++
	}
}

// phaseLimit judges what limited one bulk phase: the bottleneck when the
// phase kept it at least 80 % busy, else the cause of most of the time
// between its segments.
func (cs *connState) phaseLimit(r *runState, dur float64) (float64, Limit) {
	sigma := cs.secPerByte()
	util := 0.0
	if sigma > 0 && dur > 0 {
		util = min(float64(r.wire)*sigma/dur, 1)
	}
	if util >= 0.8 {
		return util, LimitBandwidth
	}
	g := &r.gaps
	best, l := time.Duration(0), LimitUnknown
	if sigma > 0 {
		l = LimitBandwidth
	}
	for _, x := range []struct {
		d time.Duration
		l Limit
	}{{g[CauseWindowWait], LimitCongestionWindow}, {g[CauseReceiverWindow] + g[CauseZeroWindow], LimitReceiverWindow},
		{g[CauseLossRecovery] + g[CauseRTO], LimitLoss}, {g[CauseClientThink] + g[CauseServerThink], LimitApplication}} {
		if x.d > best {
			best, l = x.d, x.l
		}
	}
	return util, l
}
