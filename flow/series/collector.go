package series

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero Config.
const (
	DefaultWidth     = 100 * time.Millisecond
	DefaultMaxBins   = 1 << 16
	DefaultMaxPoints = 1 << 18
	// MaxClasses is the most traffic classes kept apart in the
	// capture-wide bins; later classes are counted under "other".
	MaxClasses = 8
)

// Config chooses what a Collector keeps. Its zero value bins the whole
// capture at DefaultWidth and records no connection's packets.
type Config struct {
	// Conns lists the IDs (flow.Conn.ID) of the connections whose packets
	// are recorded and binned one by one.
	Conns []int
	// Width is the bin width. Zero means DefaultWidth.
	Width time.Duration
	// MaxBins is the most bins a series may hold; past it the width
	// doubles and pairs of bins merge. Zero means DefaultMaxBins.
	MaxBins int
	// MaxPoints is the most packets recorded per chosen connection; later
	// ones are binned and counted in ConnSeries.Dropped but not recorded.
	// Zero means DefaultMaxPoints.
	MaxPoints int
}

// Point is one packet of a chosen connection.
type Point struct {
	Index   uint64         `json:"index"` // 1-based packet index in the capture
	Time    time.Time      `json:"time"`
	Dir     tcpstate.Dir   `json:"dir"`      // 0 client to server, 1 server to client
	WireLen int            `json:"wire_len"` // frame length on the wire
	Len     int            `json:"len"`      // TCP payload length
	Flags   tcpstate.Flags `json:"flags"`
	// Seq and End are the sequence range [Seq, End) the segment occupies
	// (payload, SYN and FIN), relative to its direction's base
	// (tcpstate.Conn.Base).
	Seq int64 `json:"seq"`
	End int64 `json:"end"`
	// Ack is the acknowledgment number relative to the reverse
	// direction's base; valid when Flags has ACK.
	Ack int64 `json:"ack"`
	// Window is the advertised receive window in bytes as tcpstate scaled
	// it (Analysis.Window: see the package documentation).
	Window int64 `json:"window"`
	// Retrans marks a data segment some of whose bytes its direction had
	// sent before (tcpstate's Analysis.Resent): a retransmission, or a
	// segment filling a hole.
	Retrans bool `json:"retrans"`
	// SACK holds the segment's SACK blocks (NSACK valid), relative to
	// the reverse direction's base.
	NSACK int         `json:"nsack"`
	SACK  [4][2]int64 `json:"sack"`
	// Labels are the TCP analysis labels tcpstate gave the segment
	// (retransmission, out of order, zero window, ...), when the flow
	// Analyzer passed its analysis.
	Labels tcpstate.Labels `json:"labels"`
	// RTT is the data→ACK round-trip time this ACK gave under Karn's rule
	// (tcpstate), zero if none; it times data sent in the other direction.
	RTT time.Duration `json:"rtt_ns"`
}

// ConnSeries is what a Collector kept of one chosen connection.
type ConnSeries struct {
	ID     int            `json:"id"`
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`
	// Points holds the connection's packets in capture order.
	Points []Point `json:"points"`
	// Dropped counts packets beyond Config.MaxPoints, not in Points.
	Dropped uint64 `json:"dropped"`
	// Bins holds the wire bytes per direction, on the Result's grid.
	Bins [2]Bins `json:"bins"`
	// WireBytes and Packets total each direction.
	WireBytes [2]uint64 `json:"wire_bytes"`
	Packets   [2]uint64 `json:"packets"`
	// WScale is the window-scale shift tcpstate applies to each
	// direction's windows (tcpstate.Conn.WindowShift): 0 when scaling is
	// off, -1 while it is unknown (the direction's SYN not captured:
	// windows as carried).
	WScale [2]int8 `json:"wscale"`

	st connState
}

// connState unwraps one connection's sequence numbers.
type connState struct {
	based [2]bool
	hi    [2]tcpstate.Seq // highest raw sequence number seen
	hiRel [2]int64        // its relative value
	bins  [2]counts
}

// Class is one traffic class of the capture-wide bins: TCP by server port
// ("tcp/5432"), other packets by kind ("udp", "icmp", "arp", ...),
// packets the analysis skipped as "skipped", and "other" for the classes
// past MaxClasses.
type Class struct {
	Name string  `json:"name"`
	Bins [2]Bins `json:"bins"` // by direction
}

// Result is what a Collector gathered. Every Bins in it has the same
// Start, Width and length.
type Result struct {
	// Start is the grid's origin: the earliest packet time rounded down
	// to a multiple of Width since the Unix epoch.
	Start time.Time `json:"start"`
	// First and Last are the earliest and the latest packet times seen.
	First time.Time     `json:"first"`
	Last  time.Time     `json:"last"`
	Width time.Duration `json:"width_ns"`
	// Link holds the whole capture's wire bytes per direction.
	Link [2]Bins `json:"link"`
	// Classes splits Link by traffic class, in first-seen order.
	Classes []Class `json:"classes"`
	// Conns holds the chosen connections seen, in first-seen order.
	Conns []*ConnSeries `json:"conns"`
	// MinRTT holds, per interval of the grid and by the direction of the
	// data timed, the smallest data→ACK RTT sample of any connection
	// (tcpstate's, Karn's rule), dated by the ACK; zero where an interval
	// has none. Captured near one end, the samples of the data that end
	// sends are network round trips, those of the data it receives its
	// ACK delay.
	MinRTT [2][]time.Duration `json:"min_rtt_ns"`
	// Packets counts the packets binned (all but those flow skipped for
	// a timestamp it cannot date).
	Packets uint64 `json:"packets"`
}

// Conn returns the chosen connection with the given ID, or nil.
func (r *Result) Conn(id int) *ConnSeries {
	for _, c := range r.Conns {
		if c.ID == id {
			return c
		}
	}
	return nil
}

type classKey struct {
	kind flow.Kind
	port uint16
	skip bool
}

type class struct {
	key   classKey
	name  string
	bins  [2]counts
	first uint64 // capture index of the class's first packet
}

// Collector gathers series from packets. It is a flow.Consumer: list it
// in flow.Config.Consumers, then call Result after the pass. It is also a
// flow.Forker: with flow.Config.Workers above one, each shard gets a fork
// and Merge puts their series together, identical to one Collector's (see
// the package documentation).
type Collector struct {
	cfg     Config
	width   time.Duration
	maxBins int
	started bool
	first   time.Time // earliest packet
	last    time.Time // latest packet
	origin  int64     // index of bin 0, in widths since the Unix epoch
	packets uint64
	nbins   int
	classes []*class
	other   *class
	conns   []*ConnSeries
	minRTT  [2][]time.Duration
}

// NewCollector returns a Collector keeping what cfg asks for.
func NewCollector(cfg Config) *Collector {
	c := &Collector{cfg: cfg, width: cfg.Width, maxBins: cfg.MaxBins}
	if c.width <= 0 {
		c.width = DefaultWidth
	}
	if c.maxBins <= 0 {
		c.maxBins = DefaultMaxBins
	}
	if c.cfg.MaxPoints <= 0 {
		c.cfg.MaxPoints = DefaultMaxPoints
	}
	return c
}

var _ flow.Forker = (*Collector)(nil)

// ConnEnd does nothing: a chosen connection's series is complete when the
// pass ends.
func (c *Collector) ConnEnd(*flow.Conn) {}

// Packet takes one packet, as flow's Analyzer delivers it. It keeps no
// reference to p.
func (c *Collector) Packet(p *flow.PacketInfo) {
	at, ok := epochOffset(p.Time)
	if !ok || p.Skip == flow.SkipTimestamp {
		return
	}
	i := c.index(at)
	if !c.started || p.Time.Before(c.first) {
		c.first = p.Time
	}
	if !c.started || p.Time.After(c.last) {
		c.last = p.Time
	}
	c.started = true
	c.packets++
	d := Direction(p)
	c.classOf(p).bins[d].add(i, p.WireLen)
	if p.Conn == nil || p.Seg == nil {
		return
	}
	if a := p.Analysis; a != nil && a.RTT > 0 {
		c.addRTT(d.Reverse(), i, a.RTT)
	}
	for _, id := range c.cfg.Conns {
		if id == p.Conn.ID {
			c.record(c.connSeries(p.Conn), i, p)
			return
		}
	}
}

// epochOffset returns t as a duration since the Unix epoch, false when it
// does not fit (beyond the years 1678 to 2262).
func epochOffset(t time.Time) (time.Duration, bool) {
	d := t.Sub(time.Unix(0, 0))
	return d, d > math.MinInt64 && d < math.MaxInt64
}

// index returns the bin of the time at (since the epoch), widening the
// grid and extending it back as needed.
func (c *Collector) index(at time.Duration) int {
	abs := floorDiv(int64(at), int64(c.width))
	if !c.started {
		c.origin = abs
	}
	for {
		lo := min(abs, c.origin)
		hi := max(abs, c.origin+int64(max(c.nbins, 1))-1)
		if hi-lo < int64(c.maxBins) {
			break
		}
		c.widen()
		abs = floorDiv(int64(at), int64(c.width))
	}
	if abs < c.origin {
		c.prepend(int(c.origin - abs))
	}
	i := int(abs - c.origin)
	c.nbins = max(c.nbins, i+1)
	return i
}

// series calls f on every series of bins the collector holds.
func (c *Collector) series(f func(*counts)) {
	for _, k := range c.classes {
		f(&k.bins[0])
		f(&k.bins[1])
	}
	if c.other != nil {
		f(&c.other.bins[0])
		f(&c.other.bins[1])
	}
	for _, s := range c.conns {
		f(&s.st.bins[0])
		f(&s.st.bins[1])
	}
}

// prepend moves the grid's origin n bins back (a packet earlier than any
// before it).
func (c *Collector) prepend(n int) {
	c.series(func(s *counts) { s.prepend(n) })
	for d, m := range c.minRTT {
		if len(m) > 0 {
			c.minRTT[d] = append(make([]time.Duration, n, n+len(m)), m...)
		}
	}
	c.origin -= int64(n)
	c.nbins += n
}

// addRTT keeps the smallest sample of bin i for data direction d.
func (c *Collector) addRTT(d tcpstate.Dir, i int, rtt time.Duration) {
	m := c.minRTT[d]
	for len(m) <= i {
		m = append(m, 0)
	}
	if m[i] == 0 || rtt < m[i] {
		m[i] = rtt
	}
	c.minRTT[d] = m
}

// widen doubles the bin width, merging the bins 2k and 2k+1 (counted
// since the epoch) of every series into k.
func (c *Collector) widen() {
	odd := c.origin-2*floorDiv(c.origin, 2) == 1
	c.width *= 2
	for d, m := range c.minRTT {
		c.minRTT[d] = halveMins(m, odd)
	}
	if c.started {
		c.nbins = int(floorDiv(c.origin+int64(c.nbins)-1, 2) - floorDiv(c.origin, 2) + 1)
	}
	c.origin = floorDiv(c.origin, 2)
	c.series(func(s *counts) { s.halve(odd) })
}

// halveMins merges pairs of minima; odd says bin 0 is the second of its
// pair.
func halveMins(m []time.Duration, odd bool) []time.Duration {
	if len(m) == 0 {
		return m
	}
	off := 0
	if odd {
		off = 1
	}
	out := m[:(len(m)+off+1)/2]
	for j := range out {
		var v time.Duration
		for _, k := range [2]int{2*j - off, 2*j + 1 - off} {
			if k >= 0 && k < len(m) && m[k] > 0 && (v == 0 || m[k] < v) {
				v = m[k]
			}
		}
		out[j] = v
	}
	clear(m[len(out):])
	return out
}

// Direction returns the direction a packet counts in in the capture-wide
// bins: a TCP segment of a connection its connection's; an ICMP or ICMPv6
// echo request, or another informational message, client to server, and
// an echo reply or an error message (unreachable, time exceeded, ...)
// server to client; a UDP datagram or a TCP segment of no connection by
// its ports, client to server when sent to the lower port (a service's)
// and server to client when sent from it; anything else client to server.
// The rule reads the packet alone, so that the bins do not depend on the
// order packets come in (or on how a parallel pass shards them).
func Direction(p *flow.PacketInfo) tcpstate.Dir {
	if p.Conn != nil && p.Seg != nil {
		return p.Dir
	}
	l4 := p.L4
	switch p.Kind {
	case flow.KindICMP, flow.KindICMPv6:
		if len(l4) > 0 && icmpBack(p.Kind, l4[0]) {
			return tcpstate.ServerToClient
		}
	case flow.KindUDP, flow.KindTCP:
		if len(l4) >= 4 {
			src, dst := uint16(l4[0])<<8|uint16(l4[1]), uint16(l4[2])<<8|uint16(l4[3])
			if src < dst {
				return tcpstate.ServerToClient
			}
		}
	}
	return tcpstate.ClientToServer
}

// icmpBack reports whether an ICMP (or ICMPv6) message of type t answers
// another packet: an echo reply or an error.
func icmpBack(k flow.Kind, t uint8) bool {
	if k == flow.KindICMPv6 {
		return t == 129 || t < 128 // echo reply; errors are types 0-127 (RFC 4443)
	}
	switch t {
	case 0, 3, 4, 5, 11, 12, 14, 16, 18: // echo reply, errors, and the replies to requests 13, 15, 17
		return true
	}
	return false
}

func (c *Collector) classOf(p *flow.PacketInfo) *class {
	k := classKey{kind: p.Kind}
	switch {
	case p.Skip != flow.SkipNone:
		k = classKey{skip: true}
	case p.Conn != nil:
		k.port = p.Conn.Server.Port()
	}
	for _, cl := range c.classes {
		if cl.key == k {
			return cl
		}
	}
	if len(c.classes) < MaxClasses {
		cl := &class{key: k, name: k.name(), first: p.Index}
		c.classes = append(c.classes, cl)
		return cl
	}
	if c.other == nil {
		c.other = &class{name: "other"}
	}
	return c.other
}

func (k classKey) name() string {
	switch {
	case k.skip:
		return "skipped"
	case k.kind == flow.KindTCP && k.port != 0:
		return "tcp/" + strconv.Itoa(int(k.port))
	}
	return k.kind.String()
}

func (c *Collector) connSeries(fc *flow.Conn) *ConnSeries {
	for _, s := range c.conns {
		if s.ID == fc.ID {
			return s
		}
	}
	s := &ConnSeries{ID: fc.ID, Client: fc.Client, Server: fc.Server, WScale: [2]int8{-1, -1}}
	c.conns = append(c.conns, s)
	return s
}

// rel returns the sequence number q of direction d relative to its base,
// tcpstate's (tc.Base), unwrapped to int64 from the highest number seen.
func (st *connState) rel(tc *tcpstate.Conn, d tcpstate.Dir, q tcpstate.Seq) int64 {
	if !st.based[d] {
		st.hi[d], _ = tc.Base(d)
		st.based[d] = true
	}
	r := st.hiRel[d] + int64(q.Diff(st.hi[d]))
	if r > st.hiRel[d] {
		st.hi[d], st.hiRel[d] = q, r
	}
	return r
}

// record adds packet p of the chosen connection s as a Point: its
// sequence numbers relative to tcpstate's bases, and its window,
// retransmission mark, labels and RTT sample from tcpstate's analysis.
// Packets without that analysis are binned but not recorded.
func (c *Collector) record(s *ConnSeries, i int, p *flow.PacketInfo) {
	d, seg, a, tc, st := p.Dir, p.Seg, p.Analysis, p.TCP, &s.st
	st.bins[d].add(i, p.WireLen)
	s.WireBytes[d] += uint64(p.WireLen)
	s.Packets[d]++
	if a == nil || tc == nil {
		return
	}
	s.WScale = [2]int8{tc.WindowShift(tcpstate.ClientToServer), tc.WindowShift(tcpstate.ServerToClient)}
	pt := Point{Index: p.Index, Time: p.Time, Dir: d, WireLen: p.WireLen, Len: seg.Len, Flags: seg.Flags,
		Window: int64(a.Window), Retrans: a.Resent > 0, Labels: a.Labels, RTT: a.RTT}
	pt.Seq = st.rel(tc, d, seg.Seq)
	pt.End = pt.Seq + int64(seg.SeqLen())
	if seg.Flags.Has(tcpstate.ACK) {
		r := d.Reverse()
		pt.Ack = st.rel(tc, r, seg.Ack)
		pt.NSACK = min(seg.Opts.NSACK, len(pt.SACK))
		for j := range pt.NSACK {
			b := seg.Opts.SACK[j]
			pt.SACK[j] = [2]int64{st.rel(tc, r, b.Left), st.rel(tc, r, b.Right)}
		}
	}
	if len(s.Points) >= c.cfg.MaxPoints {
		s.Dropped++
		return
	}
	s.Points = append(s.Points, pt)
}

// Result returns what was gathered so far. Its slices are copies: the
// Collector may go on.
func (c *Collector) Result() *Result {
	r := &Result{First: c.first, Last: c.last, Width: c.width, Packets: c.packets}
	if c.started {
		r.Start = time.Unix(0, 0).UTC().Add(time.Duration(c.origin) * c.width)
	}
	n := c.nbins
	start := r.Start
	for d := range 2 {
		r.Link[d] = Bins{Start: start, Width: c.width, Bytes: make([]uint64, n), Packets: make([]uint64, n)}
	}
	for d := range 2 {
		r.MinRTT[d] = make([]time.Duration, n)
		copy(r.MinRTT[d], c.minRTT[d])
	}
	all := c.classes
	if c.other != nil {
		all = append(all[:len(all):len(all)], c.other)
	}
	for _, k := range all {
		cl := Class{Name: k.name}
		for d := range 2 {
			cl.Bins[d] = k.bins[d].bins(start, c.width, n)
			for j, v := range cl.Bins[d].Bytes {
				r.Link[d].Bytes[j] += v
				r.Link[d].Packets[j] += cl.Bins[d].Packets[j]
			}
		}
		r.Classes = append(r.Classes, cl)
	}
	for _, s := range c.conns {
		cp := *s
		cp.Points = append([]Point(nil), s.Points...)
		for d := range 2 {
			cp.Bins[d] = s.st.bins[d].bins(start, c.width, n)
		}
		cp.st = connState{}
		r.Conns = append(r.Conns, &cp)
	}
	return r
}
