package flow

import (
	"net/netip"
	"slices"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero Config.
const (
	DefaultMaxConns    = 1 << 16
	DefaultIdleTimeout = 15 * time.Minute
	DefaultCloseLinger = time.Minute
)

// Config bounds an Analyzer. Its zero value is usable.
type Config struct {
	// MaxConns is the most connections tracked at once. When a new
	// connection would exceed it, the one idle longest is ended and
	// reported (EndEvicted). Zero means DefaultMaxConns.
	MaxConns int
	// IdleTimeout ends a connection that has carried no packet for this
	// long, judged in capture time. Zero means DefaultIdleTimeout; a
	// negative value disables idle ending.
	IdleTimeout time.Duration
	// CloseLinger ends a connection that has closed (FIN both ways, or a
	// RST) once it has carried no packet for this long, judged in capture
	// time, so closed connections do not hold memory until the idle
	// timeout. Late packets within it (the last ACK, a retransmitted FIN)
	// still count. Zero means DefaultCloseLinger (one minute, Linux's
	// TIME-WAIT); a negative value keeps closed connections until the idle
	// timeout.
	CloseLinger time.Duration
	// Consumers receive the pass: every packet, every transaction (those
	// that implement TransactionConsumer) and every connection's end, in
	// the order documented on Consumer, each in the order listed.
	Consumers []Consumer
	// KeepConns keeps every ended connection, returned by Conns (and in
	// Result.Conns) in first-seen order. Memory then grows with the
	// number of connections in the capture; without it, memory is bounded
	// by the live connections alone and ended connections reach the
	// Consumers only.
	KeepConns bool
	// App bounds the application-protocol analysis of each connection
	// (package appproto: out-of-order bytes held per direction, header and
	// message size limits, protocol registry); its zero value works.
	App appproto.Config
}

// PacketInfo describes one packet as the Analyzer classified it. It is
// passed to each Consumer's Packet method and valid only during that call.
type PacketInfo struct {
	Index   uint64    // 1-based index of the packet in its capture
	Time    time.Time // capture timestamp
	WireLen int       // original frame length on the wire
	// Kind is what the packet carried; KindUnknown when it was skipped.
	Kind Kind
	// Skip is the reason the packet could not be analysed, SkipNone if it
	// was.
	Skip SkipReason
	// Src and Dst are the IP addresses, valid for IP packets.
	Src, Dst netip.Addr
	// Proto is the IP protocol number (after IPv6 extension headers).
	Proto uint8
	// L4 holds the captured transport bytes (transport header included);
	// L4Len is the transport length on the wire per the IP header.
	L4    []byte
	L4Len int
	// Conn, Dir and Seg are set for a TCP segment attributed to a
	// connection: the connection (its ID, Client, Server, Midstream and
	// FirstPacket are valid; the rest is final only once it ends), the
	// direction, and the parsed segment.
	Conn *Conn
	Dir  tcpstate.Dir
	Seg  *tcpstate.Segment
	// Analysis is the TCP sequence analysis of the segment (labels, the
	// packets they refer to, RTT sample, bytes in flight), set with Seg.
	Analysis *tcpstate.Analysis
	// TCP is the connection's TCP state after the segment, set with Seg:
	// the authority on the connection's TCP facts (vantage, handshake,
	// windows) that consumers may query but must not feed.
	TCP *tcpstate.Conn
}

func (c Config) maxConns() int {
	if c.MaxConns <= 0 {
		return DefaultMaxConns
	}
	return c.MaxConns
}

func (c Config) linger() time.Duration {
	if c.CloseLinger == 0 {
		return DefaultCloseLinger
	}
	return c.CloseLinger
}

func (c Config) idle() time.Duration {
	if c.IdleTimeout == 0 {
		return DefaultIdleTimeout
	}
	return c.IdleTimeout
}

// EndReason says why the tracking of a connection ended.
type EndReason uint8

const (
	// EndOfCapture: the capture ended while the connection was tracked.
	EndOfCapture EndReason = iota
	// EndIdle: no packet for Config.IdleTimeout of capture time.
	EndIdle
	// EndEvicted: Config.MaxConns connections were live and this one had
	// been idle longest.
	EndEvicted
	// EndPortReuse: a SYN with a new initial sequence number arrived on
	// the same four-tuple after the connection had closed.
	EndPortReuse
	// EndClosed: the connection had closed (FIN both ways, or RST) and
	// was then ended by the end of the capture or by idleness.
	EndClosed
)

var endNames = [...]string{"end_of_capture", "idle", "evicted", "port_reuse", "closed"}

// String returns the reason's name as used in reports.
func (e EndReason) String() string {
	if int(e) < len(endNames) {
		return endNames[e]
	}
	return "unknown"
}

// MarshalText makes an EndReason appear by name in JSON.
func (e EndReason) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Conn is one TCP connection as reported. Its fields are final once the
// connection has ended (it is passed to Consumer.ConnEnd, and returned by
// Conns with Config.KeepConns).
type Conn struct {
	// ID numbers connections from 1 in the order their first packet was seen.
	ID     int            `json:"id"`
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`
	First  time.Time      `json:"first"`
	Last   time.Time      `json:"last"`
	// Duration is Last - First in seconds.
	Duration float64        `json:"duration_s"`
	State    tcpstate.State `json:"state"`
	// Midstream is set when no SYN was seen, so the client was chosen by
	// the fallback rule (see the package documentation).
	Midstream bool      `json:"midstream"`
	End       EndReason `json:"end"`
	// FirstPacket and LastPacket are the 1-based capture indexes of the
	// connection's first and last packets.
	FirstPacket uint64 `json:"first_packet"`
	LastPacket  uint64 `json:"last_packet"`
	// ClientOptions and ServerOptions are what each side announced in its
	// SYN.
	ClientOptions tcpstate.HandshakeOptions `json:"client_options"`
	ServerOptions tcpstate.HandshakeOptions `json:"server_options"`
	C2S           tcpstate.DirStats         `json:"c2s"`
	S2C           tcpstate.DirStats         `json:"s2c"`
	// Proto is the application protocol identified ("tns", "http",
	// "postgres", "mysql", "tds", "tls", "redis", or "unknown") and
	// ProtoConfidence how sure that is, 0 to 1 (see package appproto).
	Proto           string  `json:"proto"`
	ProtoConfidence float64 `json:"proto_confidence"`
	// App counts the connection's application messages, requests,
	// transactions and turns.
	App appproto.Stats `json:"app"`
	// RTT is the round-trip time analysis: handshake split, data→ACK and
	// timestamp samples (see tcpstate.RTT).
	RTT tcpstate.RTT `json:"rtt"`
	// Vantage is where the capture was taken, inferred from the RTT split.
	Vantage tcpstate.Vantage `json:"vantage"`
	// Quality lists capture-quality issues and the conclusions they
	// undermine; empty when the capture supports every figure.
	Quality []tcpstate.Quality `json:"quality"`
}

// Summary accounts for every packet read: Packets = TCPPackets + the sum of
// Other + the sum of Skipped.
type Summary struct {
	Packets    uint64 `json:"packets"`
	TCPPackets uint64 `json:"tcp_packets"`
	// Connections is the number of connections reported.
	Connections int `json:"connections"`
	// Skipped counts packets that could not be analysed, by reason.
	Skipped map[string]uint64 `json:"skipped"`
	// Other counts packets that are not TCP, by kind.
	Other map[string]uint64 `json:"other"`
	// TruncatedTCP counts TCP packets analysed although the capture cut
	// their payload or options (snap length); they are in TCPPackets.
	TruncatedTCP uint64 `json:"truncated_tcp"`
	// Evicted counts connections ended early because MaxConns were live.
	Evicted uint64 `json:"evicted"`
	// MaxLive is the most connections tracked at once.
	MaxLive int `json:"max_live"`
	// Warnings counts the flaws in the capture's records that the Reader
	// worked around, by name (see Reader.Warnings); nil, and absent from
	// JSON, when there were none. Analyze copies it from the Reader.
	Warnings map[string]uint64 `json:"warnings,omitempty"`
}

type connKey struct{ a, b netip.AddrPort }

// live is a tracked connection, linked in a list by recency of use.
type live struct {
	key        connKey
	conn       *Conn
	tcp        *tcpstate.Conn
	app        *appproto.Conn
	an         *tcpstate.Analysis // analysis of the last segment
	prev, next *live
	closing    bool // queued in Analyzer.closing
}

// closingEntry is a closed connection waiting out Config.CloseLinger.
type closingEntry struct {
	l  *live
	id int
	at time.Time // the connection's last packet when queued
}

// Analyzer demultiplexes packets into TCP connections. Feed it packets in
// capture order with Add, then call Close. It is not safe for concurrent
// use. It never reads the clock: time is the packets' timestamps.
type Analyzer struct {
	cfg         Config
	dec         *decoder
	np          netPacket
	seg         tcpstate.Segment
	table       map[connKey]*live
	head        *live // most recently used
	tail        *live // least recently used
	nextID      int
	done        []*Conn
	other       [numKinds]uint64
	skipped     [numSkips]uint64
	sum         Summary
	closed      bool
	info        PacketInfo
	lastSkip    SkipReason     // why the last TCP packet was skipped
	closing     []closingEntry // closed connections waiting out CloseLinger
	closingHead int
	app         appGlue
}

// NewAnalyzer returns an Analyzer bounded by cfg.
func NewAnalyzer(cfg Config) *Analyzer {
	return &Analyzer{cfg: cfg, dec: newDecoder(), table: make(map[connKey]*live)}
}

// Add analyses one packet and passes it to the Consumers. The packet's
// data is not retained.
func (a *Analyzer) Add(p *Packet) {
	l, d := a.add(p)
	if len(a.cfg.Consumers) == 0 {
		return
	}
	in := &a.info
	np := &a.np
	*in = PacketInfo{Index: p.Index, Time: p.Time, WireLen: p.Length, Kind: np.kind, Skip: np.skip,
		Src: np.src, Dst: np.dst, Proto: np.proto, L4: np.l4, L4Len: np.l4Len}
	if l != nil {
		in.Conn, in.Dir, in.Seg, in.Analysis, in.TCP = l.conn, d, &a.seg, l.an, l.tcp
	} else if in.Kind == KindTCP {
		in.Kind, in.Skip = KindUnknown, a.lastSkip
	}
	for _, c := range a.cfg.Consumers {
		c.Packet(in)
	}
}

// add classifies one packet and, for a TCP segment, feeds its connection,
// which it returns with the segment's direction.
func (a *Analyzer) add(p *Packet) (*live, tcpstate.Dir) {
	a.sum.Packets++
	np := &a.np
	if !timeInRange(p.Time) {
		*np = netPacket{skip: SkipTimestamp}
		a.skipped[SkipTimestamp]++
		return nil, 0
	}
	a.expire(p.Time)
	a.dec.decode(p.LinkType, p.Data, len(p.Data) < p.Length, np)
	if np.skip != SkipNone {
		a.skipped[np.skip]++
		return nil, 0
	}
	if np.kind != KindTCP {
		a.other[np.kind]++
		return nil, 0
	}
	seg := &a.seg
	sport, dport, res := parseTCP(np.l4, np.l4Len, seg)
	switch res {
	case tcpTruncated:
		a.skipped[SkipTruncated]++
		a.lastSkip = SkipTruncated
		return nil, 0
	case tcpMalformed:
		a.skipped[SkipMalformed]++
		a.lastSkip = SkipMalformed
		return nil, 0
	}
	seg.Index = p.Index
	seg.Time = p.Time
	seg.WireLen = p.Length
	if seg.Truncated() || seg.Opts.Malformed && len(p.Data) < p.Length {
		a.sum.TruncatedTCP++
	}
	a.sum.TCPPackets++
	src := netip.AddrPortFrom(np.src, sport)
	dst := netip.AddrPortFrom(np.dst, dport)
	key := connKey{src, dst}
	if src.Compare(dst) > 0 {
		key = connKey{dst, src}
	}
	l := a.table[key]
	if l != nil && a.reused(l, src, seg) {
		a.finish(l, EndPortReuse)
		l = nil
	}
	if l == nil {
		l = a.open(key, src, dst, seg, p)
	} else {
		a.touch(l)
	}
	d := tcpstate.ClientToServer
	if src != l.conn.Client {
		d = tcpstate.ServerToClient
	}
	l.an = l.tcp.Add(d, seg)
	if !l.closing && l.tcp.Closed() && a.cfg.linger() >= 0 {
		l.closing = true
		a.closing = append(a.closing, closingEntry{l: l, id: l.conn.ID, at: l.tcp.Last})
	}
	a.appAdd(l, d, seg)
	l.conn.LastPacket = p.Index
	return l, d
}

// The range of capture timestamps analysed: the years 1 to 9999 (UTC), all
// that reports (RFC 3339) can write.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

func timeInRange(t time.Time) bool {
	s := t.Unix()
	return s >= minTime && s <= maxTime
}

// reused reports whether seg, a SYN from src, opens a new connection on
// the four-tuple of l: the old one has seen a FIN or RST and the SYN
// carries another initial sequence number than the sender's previous one.
func (a *Analyzer) reused(l *live, src netip.AddrPort, seg *tcpstate.Segment) bool {
	if !seg.Flags.Has(tcpstate.SYN) || seg.Flags.Has(tcpstate.ACK) {
		return false
	}
	st := l.tcp.Stats
	if st[0].FIN+st[1].FIN+st[0].RST+st[1].RST == 0 {
		return false
	}
	d := tcpstate.ClientToServer
	if src != l.conn.Client {
		d = tcpstate.ServerToClient
	}
	isn, ok := l.tcp.ISN(d)
	return !ok || isn != seg.Seq
}

// open starts tracking a new connection.
func (a *Analyzer) open(key connKey, src, dst netip.AddrPort, seg *tcpstate.Segment, p *Packet) *live {
	if len(a.table) >= a.cfg.maxConns() && a.tail != nil {
		a.sum.Evicted++
		a.finish(a.tail, EndEvicted)
	}
	a.nextID++
	c := &Conn{ID: a.nextID, FirstPacket: p.Index}
	c.Client, c.Server = chooseClient(src, dst, seg.Flags)
	c.Midstream = !seg.Flags.Has(tcpstate.SYN)
	l := &live{key: key, conn: c, tcp: tcpstate.NewConn()}
	a.appOpen(l)
	a.table[key] = l
	a.pushFront(l)
	if n := len(a.table); n > a.sum.MaxLive {
		a.sum.MaxLive = n
	}
	return l
}

// chooseClient decides which end of a new connection is the client, from
// its first packet (sent by src to dst):
//   - a SYN without ACK is sent by the client; a SYN/ACK by the server;
//   - otherwise (picked up mid-stream) the end on a well-known port is the
//     server: a port below 1024 or a common service port (see
//     ServicePorts), when exactly one end has one;
//   - otherwise the sender of the first packet is the client.
func chooseClient(src, dst netip.AddrPort, f tcpstate.Flags) (client, server netip.AddrPort) {
	if f.Has(tcpstate.SYN) {
		if f.Has(tcpstate.ACK) {
			return dst, src
		}
		return src, dst
	}
	sw, dw := wellKnown(src.Port()), wellKnown(dst.Port())
	if sw && !dw {
		return dst, src
	}
	return src, dst
}

// ServicePorts lists the ports above 1023 taken as a server's in the
// mid-stream client rule: databases, proxies and common alternates.
var ServicePorts = []uint16{1433, 1521, 1522, 1526, 2049, 3128, 3306, 3389, 5432, 5672, 6379, 8000, 8008, 8080, 8443, 8888, 9000, 9042, 9092, 9200, 11211, 27017}

func wellKnown(port uint16) bool {
	return port < 1024 || slices.Contains(ServicePorts, port)
}

// expire ends connections idle for longer than the idle timeout at time now.
func (a *Analyzer) expire(now time.Time) {
	a.expireClosed(now)
	idle := a.cfg.idle()
	if idle < 0 {
		return
	}
	for a.tail != nil && now.Sub(a.tail.tcp.Last) > idle {
		a.finish(a.tail, EndIdle)
	}
}

// expireClosed ends closed connections quiet for longer than the close
// linger at time now. The queue is in order of closing; an entry not yet
// due stops the walk, unless its connection carried a packet since it was
// queued, in which case it moves to the back with that packet's time.
func (a *Analyzer) expireClosed(now time.Time) {
	linger := a.cfg.linger()
	for a.closingHead < len(a.closing) {
		e := &a.closing[a.closingHead]
		l := e.l
		switch {
		case a.table[l.key] != l || l.conn.ID != e.id: // ended otherwise
		case now.Sub(l.tcp.Last) > linger:
			a.finish(l, EndClosed)
		case l.tcp.Last.After(e.at):
			a.closing = append(a.closing, closingEntry{l: l, id: e.id, at: l.tcp.Last})
		default:
			return
		}
		a.closing[a.closingHead] = closingEntry{}
		a.closingHead++
		if a.closingHead > 64 && a.closingHead*2 > len(a.closing) {
			k := copy(a.closing, a.closing[a.closingHead:])
			clear(a.closing[k:])
			a.closing = a.closing[:k]
			a.closingHead = 0
		}
	}
}

// finish ends the tracking of l and reports its connection.
func (a *Analyzer) finish(l *live, why EndReason) {
	delete(a.table, l.key)
	a.unlink(l)
	c, t := l.conn, l.tcp
	c.First, c.Last = t.First, t.Last
	c.Duration = t.Last.Sub(t.First).Seconds()
	c.State = t.State()
	if (why == EndOfCapture || why == EndIdle) && t.Closed() {
		why = EndClosed
	}
	c.End = why
	c.C2S, c.S2C = t.Stats[0], t.Stats[1]
	c.ClientOptions, c.ServerOptions = t.Options[0], t.Options[1]
	a.appFinish(l)
	c.RTT, c.Vantage, c.Quality = t.RTT(), t.Vantage(), t.Quality()
	if c.Quality == nil {
		c.Quality = []tcpstate.Quality{}
	}
	a.sum.Connections++
	if a.cfg.KeepConns {
		a.done = append(a.done, c)
	}
	for _, x := range a.cfg.Consumers {
		x.ConnEnd(c)
	}
}

// Close ends every connection still tracked (EndOfCapture), in first-seen
// order. Add must not be called after Close.
func (a *Analyzer) Close() {
	if a.closed {
		return
	}
	a.closed = true
	rest := make([]*live, 0, len(a.table))
	for _, l := range a.table {
		rest = append(rest, l)
	}
	slices.SortFunc(rest, func(x, y *live) int { return x.conn.ID - y.conn.ID })
	for _, l := range rest {
		a.finish(l, EndOfCapture)
	}
}

// Conns returns the ended connections in first-seen order (by ID) when
// Config.KeepConns is set; it is empty otherwise.
func (a *Analyzer) Conns() []*Conn {
	slices.SortFunc(a.done, func(x, y *Conn) int { return x.ID - y.ID })
	return a.done
}

// Summary returns the packet accounting so far.
func (a *Analyzer) Summary() Summary {
	s := a.sum
	s.Skipped = make(map[string]uint64)
	s.Other = make(map[string]uint64)
	for r, n := range a.skipped {
		if n > 0 {
			s.Skipped[SkipReason(r).String()] = n
		}
	}
	for k, n := range a.other {
		if n > 0 {
			s.Other[Kind(k).String()] = n
		}
	}
	return s
}

func (a *Analyzer) pushFront(l *live) {
	l.prev, l.next = nil, a.head
	if a.head != nil {
		a.head.prev = l
	}
	a.head = l
	if a.tail == nil {
		a.tail = l
	}
}

func (a *Analyzer) unlink(l *live) {
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		a.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		a.tail = l.prev
	}
	l.prev, l.next = nil, nil
}

func (a *Analyzer) touch(l *live) {
	if a.head == l {
		return
	}
	a.unlink(l)
	a.pushFront(l)
}
