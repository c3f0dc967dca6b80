package tcpstate

import (
	"time"
)

// State summarises how a connection began and ended, as far as the capture
// shows.
type State uint8

const (
	// StateOpen: the connection was still open when the capture (or its
	// tracking) ended.
	StateOpen State = iota
	// StateComplete: both directions sent a FIN and no RST was seen.
	StateComplete
	// StateReset: a RST was seen in either direction.
	StateReset
	// StateMidstream: the capture holds no SYN (the connection was picked
	// up after it opened) and it neither completed nor was reset.
	StateMidstream
)

var stateNames = [...]string{"open", "complete", "reset", "midstream"}

// String returns the state's name as written in reports: "open",
// "complete", "reset" or "midstream".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText makes a State appear by name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Ending says how a connection ended, as far as the capture shows, in
// the spirit of Zeek's conn_state (REJ, RSTO, RSTR, S0, SF): who refused
// or reset it. The client is the SYN's sender (ClientToServer).
type Ending uint8

// Endings.
const (
	// EndingOpen: neither a RST nor FINs both ways: still open when the
	// capture (or its tracking) ended.
	EndingOpen Ending = iota
	// EndingClosed: both sides sent a FIN and neither a RST (Zeek's SF).
	EndingClosed
	// EndingHalfClosed: one side sent a FIN, the other neither a FIN nor
	// a RST.
	EndingHalfClosed
	// EndingRefused: the SYN was answered by a RST, no SYN/ACK (REJ): no
	// service on that port, or a firewall's refusal.
	EndingRefused
	// EndingResetByClient: the client sent the first RST (RSTO).
	EndingResetByClient
	// EndingResetByServer: the server sent the first RST after the
	// handshake, or mid-stream (RSTR).
	EndingResetByServer
	// EndingUnanswered: the SYN got no answer at all (S0).
	EndingUnanswered
)

var endingNames = [...]string{"open", "closed", "half_closed", "refused", "reset_by_client", "reset_by_server", "unanswered"}

// String returns the ending's name as written in reports.
func (e Ending) String() string {
	if int(e) < len(endingNames) {
		return endingNames[e]
	}
	return "unknown"
}

// MarshalText makes an Ending appear by name in JSON.
func (e Ending) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Ending returns how the connection ended so far (see Ending). It is
// cheap and may be called during the pass.
func (c *Conn) Ending() Ending {
	s0, s1 := &c.Stats[0], &c.Stats[1]
	switch {
	case c.rstSeen && c.rstDir == ClientToServer:
		return EndingResetByClient
	case c.rstSeen && c.hs.HaveSYN && !c.hs.HaveSYNACK && s1.SYN == 0:
		return EndingRefused
	case c.rstSeen:
		return EndingResetByServer
	case s0.FIN > 0 && s1.FIN > 0:
		return EndingClosed
	case s0.FIN > 0 || s1.FIN > 0:
		return EndingHalfClosed
	case c.hs.HaveSYN && s1.Packets == 0:
		return EndingUnanswered
	}
	return EndingOpen
}

// DirStats counts one direction of a connection.
//
// The label counters count the segments of the direction that carry the
// matching label, so that each compares one to one with the packets
// carrying the tshark field named: Retransmissions ↔
// tcp.analysis.retransmission (which Wireshark also puts on fast and
// spurious retransmissions), FastRetransmissions ↔
// tcp.analysis.fast_retransmission, and so on.
type DirStats struct {
	Packets      uint64 `json:"packets"`
	WireBytes    uint64 `json:"wire_bytes"`    // original frame lengths
	PayloadBytes uint64 `json:"payload_bytes"` // TCP payload, retransmissions included
	// UniqueBytes is the payload sequence space covered, each byte once:
	// retransmitted bytes are not counted twice.
	UniqueBytes uint64 `json:"unique_bytes"`
	SYN         uint64 `json:"syn"`
	FIN         uint64 `json:"fin"`
	RST         uint64 `json:"rst"`
	// Truncated counts segments whose payload the capture cut short.
	Truncated uint64 `json:"truncated"`

	// DataSegments counts segments with payload (RST excluded); PureAcks
	// those with ACK, no payload and none of SYN, FIN, RST.
	DataSegments uint64 `json:"data_segments"`
	PureAcks     uint64 `json:"pure_acks"`

	Retransmissions         uint64 `json:"retransmissions"`          // tcp.analysis.retransmission
	FastRetransmissions     uint64 `json:"fast_retransmissions"`     // tcp.analysis.fast_retransmission
	SpuriousRetransmissions uint64 `json:"spurious_retransmissions"` // tcp.analysis.spurious_retransmission
	OutOfOrder              uint64 `json:"out_of_order"`             // tcp.analysis.out_of_order
	DupAcks                 uint64 `json:"dup_acks"`                 // tcp.analysis.duplicate_ack
	ZeroWindows             uint64 `json:"zero_windows"`             // tcp.analysis.zero_window
	ZeroWindowProbes        uint64 `json:"zero_window_probes"`       // tcp.analysis.zero_window_probe
	ZeroWindowProbeAcks     uint64 `json:"zero_window_probe_acks"`   // tcp.analysis.zero_window_probe_ack
	WindowFull              uint64 `json:"window_full"`              // tcp.analysis.window_full
	WindowUpdates           uint64 `json:"window_updates"`           // tcp.analysis.window_update
	KeepAlives              uint64 `json:"keepalives"`               // tcp.analysis.keep_alive
	KeepAliveAcks           uint64 `json:"keepalive_acks"`           // tcp.analysis.keep_alive_ack
	LostSegments            uint64 `json:"lost_segments"`            // tcp.analysis.lost_segment
	AckedUnseen             uint64 `json:"acked_unseen"`             // tcp.analysis.ack_lost_segment

	// RetransTimeout, RetransFast and RetransTLP split the
	// retransmissions by cause (see Cause); the rest are of unknown cause.
	RetransTimeout uint64 `json:"retrans_timeout"`
	RetransFast    uint64 `json:"retrans_fast"`
	RetransTLP     uint64 `json:"retrans_tlp"`
	// SpuriousDSACK and SpuriousTS count retransmissions later shown
	// unneeded: by a D-SACK block from the receiver (RFC 2883) or by the
	// ACK echoing the original's timestamp (Eifel, RFC 3522).
	SpuriousDSACK uint64 `json:"spurious_dsack"`
	SpuriousTS    uint64 `json:"spurious_ts"`

	// MSS is the largest segment the direction's sender may send: the MSS
	// the receiver announced in its SYN (0 if not seen).
	MSS uint32 `json:"mss"`
	// MaxSegment is the largest payload seen.
	MaxSegment uint32 `json:"max_segment"`
	// MaxInFlight is the most bytes sent and not yet acknowledged, minus
	// those SACKed (Wireshark's bytes in flight ignores SACK).
	MaxInFlight uint32 `json:"max_in_flight"`
	// MaxWindow is the largest receive window the direction's sender
	// advertised, in bytes, with window scaling applied when known.
	MaxWindow uint64 `json:"max_window"`
	// MalformedOptions counts segments whose options could not be parsed
	// to their end.
	MalformedOptions uint64 `json:"malformed_options"`
	// Duplicates counts the segments that are capture copies of an
	// earlier one (Analysis.Duplicate); they are counted in every other
	// counter as tshark counts them.
	Duplicates uint64 `json:"duplicates"`
	// Unseen counts the packets the direction's sender sent that the
	// capture does not hold, as its IPv4 IDs show (Analysis.Unseen): lost
	// before the capture point, or dropped by the capture.
	Unseen uint64 `json:"unseen_packets"`
}

// HandshakeOptions are the options a side announced in its SYN (or
// SYN/ACK), the ones that shape the rest of the connection (RFC 9293,
// RFC 7323, RFC 2018). Zero values mean the option was not seen.
type HandshakeOptions struct {
	MSS           uint16 `json:"mss,omitempty"`
	WScale        int8   `json:"wscale"` // -1: no window scale option seen
	SACKPermitted bool   `json:"sack_permitted"`
	Timestamps    bool   `json:"timestamps"`
}

// Conn accumulates the state and analysis of one TCP connection, fed its
// segments in capture order with Add. It knows nothing of capture formats.
// A Conn is not safe for concurrent use.
type Conn struct {
	// Stats holds the counters of each direction, indexed by Dir.
	Stats [2]DirStats
	// Options holds each side's handshake options, indexed by the
	// direction that side sends in.
	Options [2]HandshakeOptions
	// SynSeen is set when a segment with SYN was seen, in either direction.
	SynSeen bool
	// First and Last are the timestamps of the first and last segments.
	First, Last time.Time

	cov    [2]coverage
	isn    [2]Seq
	hasISN [2]bool

	h  [2]half
	an Analysis

	prev      time.Time // previous segment's timestamp
	mruSyn    time.Time // most recent SYN without ACK (Wireshark ts_mru_syn)
	firstRTT  time.Duration
	hs        handshake
	base      [2]Seq // first sequence number of each direction (see Base)
	hasBase   [2]bool
	timeBack  uint64
	seqJumps  uint64
	wsClamped uint64
	// the connection's latest segment carrying new data: its direction
	// and payload length (see EffectiveMSS)
	lastNewDir Dir
	lastNewLen uint32
	lastNewOK  bool
	rstSeen    bool
	rstDir     Dir // the direction of the first RST
	// Legs' last result and its inputs; hsGen counts the handshake's
	// changes.
	hsGen   uint32
	legsKey legsKey
	legs    Legs
	legsOK  bool
	// closed is set once the connection has closed (see Closed): its
	// buffers are then trimmed to what they hold (see trim); released
	// marks each direction's segment list released once.
	closed   bool
	released [2]bool
}

// NewConn returns an empty connection.
func NewConn() *Conn {
	c := &Conn{}
	c.Options[0].WScale, c.Options[1].WScale = -1, -1
	for d := range c.h {
		c.h[d].init()
	}
	return c
}

// Add feeds one segment travelling in direction d and returns its
// analysis, which stays valid until the next call to Add.
func (c *Conn) Add(d Dir, s *Segment) *Analysis {
	st := &c.Stats[d]
	a := &c.an
	*a = Analysis{Index: s.Index}
	if st.Packets == 0 && c.Stats[d.Reverse()].Packets == 0 {
		c.First = s.Time
		c.prev = s.Time
	}
	if s.Time.Before(c.prev) {
		c.timeBack++
		a.Anomaly |= AnomalyTimeBackwards
	}
	c.prev = s.Time
	if s.Time.After(c.Last) {
		c.Last = s.Time
	}
	st.Packets++
	st.WireBytes += uint64(s.WireLen)
	st.PayloadBytes += uint64(s.Len)
	if s.Truncated() {
		st.Truncated++
	}
	if s.Opts.Malformed {
		st.MalformedOptions++
		a.Anomaly |= AnomalyOptions
	}
	if s.Flags.Has(RST) {
		st.RST++
		if !c.rstSeen {
			c.rstSeen, c.rstDir = true, d
		}
	}
	if s.Flags.Has(FIN) {
		st.FIN++
	}
	if s.Len > 0 && !s.Flags.Has(RST) {
		st.DataSegments++
	} else if s.Len == 0 && s.Flags&(SYN|FIN|RST) == 0 && s.Flags.Has(ACK) {
		st.PureAcks++
	}
	if s.Len > int(st.MaxSegment) {
		st.MaxSegment = uint32(min(s.Len, 1<<31))
	}
	if c.h[d].dups.duplicate(s) {
		a.Duplicate = true
		st.Duplicates++
	} else {
		a.Unseen, a.UnseenTimeout = c.h[d].ids.unseen(s, int(st.MSS))
		st.Unseen += uint64(a.Unseen)
	}
	if s.Flags.Has(SYN) {
		c.syn(d, s)
	}
	c.noteBase(d, s)
	a.Data = s.Data()
	if !a.Data.Empty() {
		a.Resent = c.cov[d].below(a.Data)
		st.UniqueBytes += c.cov[d].add(a.Data)
	}
	if !a.Duplicate {
		c.trackHandshake(d, s) // a copy of the SYN is no repeated SYN
	}
	c.analyze(d, s)
	c.count(d, a)
	if a.Resent == 0 && !a.Data.Empty() && !a.Duplicate {
		c.noteFull(d, a.Data.Len())
	}
	if c.closed || s.Flags&(FIN|RST) != 0 && c.Closed() {
		c.trim()
	}
	return a
}

// trim releases what a closed connection's buffers hold beyond their
// contents: a closed connection may stay tracked for a while to count
// its late packets (flow's CloseLinger), and a busy capture holds many.
// The RTT reservoirs and the TSval rings shrink to their contents once,
// at the close; each direction's list of unacknowledged segments is
// released once emptied (a late segment allocates it again; it is
// released once, so a connection that goes on after a RST does not
// allocate a list per turn). Nothing it keeps changes.
func (c *Conn) trim() {
	if !c.closed {
		c.closed = true
		for d := range c.h {
			c.h[d].rtt.clip()
			c.h[d].tsrtt.clip()
			if c.h[d].ts != nil {
				c.h[d].ts.compact()
			}
		}
	}
	for d := range c.h {
		if f := &c.h[d]; !c.released[d] && len(f.segs) == 0 && f.segs != nil {
			f.segs, c.released[d] = nil, true
		}
	}
}

// noteFull follows the new data of the connection: a segment of d right
// after another of d carrying new data shows the earlier one was not the
// last of its burst (see EffectiveMSS).
func (c *Conn) noteFull(d Dir, n Size) {
	if c.lastNewOK && c.lastNewDir == d {
		c.h[d].maxFull = max(c.h[d].maxFull, c.lastNewLen)
	}
	c.lastNewDir, c.lastNewLen, c.lastNewOK = d, uint32(n), true
}

// syn records what a SYN of direction d announces.
func (c *Conn) syn(d Dir, s *Segment) {
	c.Stats[d].SYN++
	c.SynSeen = true
	c.isn[d], c.hasISN[d] = s.Seq, true
	o := &c.Options[d]
	if s.Opts.HasMSS {
		o.MSS = s.Opts.MSS
		c.Stats[d.Reverse()].MSS = uint32(s.Opts.MSS)
	}
	if s.Opts.HasWScale {
		o.WScale = int8(min(s.Opts.WScale, 127))
	}
	o.SACKPermitted = o.SACKPermitted || s.Opts.SACKPermitted
	o.Timestamps = o.Timestamps || s.Opts.HasTimestamps
}

// noteBase sets the bases of relative sequence numbers (see Base) that
// segment s of direction d is the first to show.
func (c *Conn) noteBase(d Dir, s *Segment) {
	if !c.hasBase[d] {
		c.base[d], c.hasBase[d] = s.Seq, true
	}
	if r := d.Reverse(); s.Flags.Has(ACK) && !c.hasBase[r] {
		c.base[r], c.hasBase[r] = s.Ack, true
	}
}

// count adds the segment's labels to the direction's counters.
func (c *Conn) count(d Dir, a *Analysis) {
	st := &c.Stats[d]
	ls := a.Labels
	if ls == 0 {
		return
	}
	inc := func(l Label, n *uint64) {
		if ls.Has(l) {
			*n++
		}
	}
	if ls.Retransmitted() {
		st.Retransmissions++
	}
	inc(FastRetransmission, &st.FastRetransmissions)
	inc(SpuriousRetransmission, &st.SpuriousRetransmissions)
	inc(OutOfOrder, &st.OutOfOrder)
	inc(DupAck, &st.DupAcks)
	inc(ZeroWindow, &st.ZeroWindows)
	inc(ZeroWindowProbe, &st.ZeroWindowProbes)
	inc(ZeroWindowProbeAck, &st.ZeroWindowProbeAcks)
	inc(WindowFull, &st.WindowFull)
	inc(WindowUpdate, &st.WindowUpdates)
	inc(KeepAlive, &st.KeepAlives)
	inc(KeepAliveAck, &st.KeepAliveAcks)
	inc(LostSegment, &st.LostSegments)
	inc(AckedUnseen, &st.AckedUnseen)
	switch a.Cause {
	case CauseTimeout:
		st.RetransTimeout++
	case CauseFast:
		st.RetransFast++
	case CauseTLP:
		st.RetransTLP++
	}
}

// ISN returns the initial sequence number direction d sent in its SYN.
func (c *Conn) ISN(d Dir) (Seq, bool) { return c.isn[d], c.hasISN[d] }

// State returns how the connection stands after the segments fed so far.
func (c *Conn) State() State {
	switch {
	case c.Stats[0].RST+c.Stats[1].RST > 0:
		return StateReset
	case c.Stats[0].FIN > 0 && c.Stats[1].FIN > 0:
		return StateComplete
	case !c.SynSeen:
		return StateMidstream
	}
	return StateOpen
}

// Closed reports whether the connection has ended: a RST was seen, or both
// directions sent a FIN.
func (c *Conn) Closed() bool {
	s := c.State()
	return s == StateReset || s == StateComplete
}

// RTT returns the connection's round-trip time analysis so far. It
// allocates (it sorts the kept samples); call it once the connection ends.
func (c *Conn) RTT() RTT {
	var r RTT
	hs := &c.hs
	if hs.HaveSYNACK {
		r.SynToSynAck = us(max(0, hs.SYNACK.Sub(hs.SYN)))
	}
	if _, toClient, ok := hs.Legs(); ok {
		r.SynAckToAck = us(max(0, toClient))
		rtt, _ := hs.RTT() // from the first SYN: never too short
		r.Handshake = us(rtt)
	}
	dirs := [2]*DirRTT{&r.C2S, &r.S2C}
	for d := range dirs {
		dirs[d].Data = c.h[d].rtt.summary()
		dirs[d].TS = c.h[d].tsrtt.summary()
	}
	// The primary direction: its receiver is far from the capture point
	// (the longer leg); its samples plus the other leg make round trips.
	l := c.Legs()
	p := -1
	switch {
	case l.Known():
		p = 0
		if l.ToClient > l.ToServer {
			p = 1
		}
	case c.h[0].rtt.n > 0:
		p = 0
	case c.h[1].rtt.n > 0:
		p = 1
	}
	if p >= 0 && c.h[p].rtt.n > 0 {
		sum := dirs[p].Data
		if l.Known() {
			add := us(l.To(Dir(1 - p)))
			sum.Min += add
			sum.Median += add
			sum.P95 += add
			sum.Max += add
		}
		r.RTTSummary = sum
	}
	return r
}

// Quality lists the capture-quality issues found on the connection, in a
// fixed order; nil when there are none.
func (c *Conn) Quality() []Quality {
	var q []Quality
	add := func(i Issue, n uint64) {
		if n > 0 {
			q = append(q, Quality{Issue: i, Count: n, Affects: issueAffects[i]})
		}
	}
	s0, s1 := &c.Stats[0], &c.Stats[1]
	// A hole the sender later filled was lost upstream of the capture
	// point (network loss, retransmitted); a hole never filled, or bytes
	// ACKed but never seen, were lost by the capture.
	add(IssueCaptureLoss, s0.AckedUnseen+s1.AckedUnseen+c.cov[0].lostHoles()+c.cov[1].lostHoles())
	if (s0.Packets == 0) != (s1.Packets == 0) {
		add(IssueOneSided, s0.Packets+s1.Packets)
	}
	add(IssueSnaplen, s0.Truncated+s1.Truncated)
	var over uint64
	for d := range c.h {
		over += c.h[d].oversize
	}
	add(IssueOversize, over)
	add(IssueTimeBackwards, c.timeBack)
	if !c.SynSeen {
		add(IssueNoHandshake, 1)
	}
	add(IssueBadOptions, s0.MalformedOptions+s1.MalformedOptions)
	add(IssueWScale, c.wsClamped)
	add(IssueSeqJump, c.seqJumps)
	add(IssueDuplicates, s0.Duplicates+s1.Duplicates)
	return q
}
