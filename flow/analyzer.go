package flow

import (
	"net/netip"
	"slices"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero Config. DefaultMaxConns is sized to a memory
// budget: a live connection costs about 24 KB on average with its
// analysis (measured on the big lab capture: 37 MB of live heap at 1,550
// live connections; README "Memory"), so 16,384 live connections hold
// about 400 MB: every tool stays within 512 MB at the bound (floods of
// 1,000,000 SYNs and 200,000 concurrent connections: 181-492 MB).
const (
	DefaultMaxConns    = 1 << 14
	DefaultIdleTimeout = 15 * time.Minute
	DefaultCloseLinger = time.Minute
)

// Config bounds an Analyzer. Its zero value is usable.
type Config struct {
	// MaxConns is the most connections tracked at once. When a new
	// connection would exceed it, one is ended and reported: the one
	// that closed longest ago, if any is waiting out CloseLinger
	// (EndClosed, counted in Summary.LingerCut); else (EndEvicted) the
	// least recently used of those that have shown a single packet or
	// were picked up mid-stream, else the least recently used of all.
	// Zero means DefaultMaxConns.
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
	// Workers is how many goroutines analyse connections in parallel:
	// the goroutine calling Add reads the packets' headers and assigns
	// each connection, by a hash of its two addresses (all connections
	// between two hosts together), to one of Workers
	// shards, each of which owns its connections' TCP state and consumer
	// state; the connections' application analysis runs on the caller's
	// goroutine (it needs no TCP analysis), its transactions handed to
	// the shards with the packets, so that two goroutines share the work
	// even when one pair of hosts carries every connection. Zero or one
	// means no goroutine: all of it on the caller's. It takes effect only when every Consumer is a
	// Forker (else the pass runs on one goroutine); the results are the
	// same either way.
	Workers int
	// App bounds the application-protocol analysis of each connection
	// (package appproto: out-of-order bytes held per direction, header and
	// message size limits, protocol registry); its zero value works. The
	// registry's server ports also pick the server of a connection seen
	// without its handshake (appproto.Registry.IsServerPort).
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
	// EtherType is the link layer's protocol type: Ethernet's after any
	// 802.1Q tags, or the Linux cooked header's protocol; 0 for an IEEE
	// 802.3 frame whose type field is a length, and for link types
	// without one (raw IP, loopback, NFLOG). LinkDst is how the frame's
	// destination was addressed.
	EtherType uint16
	LinkDst   LinkDst
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
	// was then ended by the end of the capture, by idleness, by
	// Config.CloseLinger, or to make room at Config.MaxConns.
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
	// Duration is Last - First.
	Duration time.Duration  `json:"duration_s"`
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

// MarshalJSON writes the connection with its duration in seconds.
func (c Conn) MarshalJSON() ([]byte, error) { return units.MarshalJSON(c) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (c Conn) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, c) }

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Conn) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, c) }

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
	// Evicted counts connections ended early because MaxConns were live
	// (single-packet and mid-stream ones first, see Config.MaxConns).
	Evicted uint64 `json:"evicted"`
	// EvictedEstablished counts the evicted connections that were neither
	// single packets nor picked up mid-stream: evictions that cut live
	// conversations, a sign that MaxConns is too small for the capture
	// (eviction thrashes: their later packets start new, mid-stream
	// connections, so they are reported in pieces).
	EvictedEstablished uint64 `json:"evicted_established,omitempty"`
	// LingerCut counts closed connections ended before CloseLinger was
	// out because MaxConns were tracked: a closed connection makes room
	// before any open one is evicted (a packet of it that comes later
	// starts a new, mid-stream connection).
	LingerCut uint64 `json:"linger_cut,omitempty"`
	// MaxLive is the most connections tracked at once.
	MaxLive int `json:"max_live"`
	// Warnings counts the flaws in the capture's records that the Reader
	// worked around, by name (see Reader.Warnings); nil, and absent from
	// JSON, when there were none. Analyze copies it from the Reader.
	Warnings map[string]uint64 `json:"warnings,omitempty"`
}

type connKey struct{ a, b netip.AddrPort }

// entry is the demultiplexer's record of a live connection: what it
// needs to decide when the connection ends (its FIN/RST and SYN numbers
// as the segments carried them, its last packet's time), its place in
// the list by recency of use, and its shard's state.
type entry struct {
	key        connKey
	conn       *Conn
	shard      int
	sc         *sconn
	last       time.Time
	fin        [2]bool
	rst        bool
	isn        [2]tcpstate.Seq
	hasISN     [2]bool
	prev, next *entry
	list       *lru   // the list it is on
	pkts       uint32 // packets seen, up to 2
	closing    bool   // queued in Analyzer.closing
	ended      bool   // no longer tracked
}

// closed reports whether the connection has closed (as tcpstate.Conn's
// Closed): a RST was seen, or a FIN in each direction.
func (e *entry) closed() bool { return e.rst || e.fin[0] && e.fin[1] }

// note mirrors what segment s of direction d tells the demultiplexer.
func (e *entry) note(d tcpstate.Dir, s *tcpstate.Segment) {
	if s.Time.After(e.last) {
		e.last = s.Time
	}
	if s.Flags.Has(tcpstate.FIN) {
		e.fin[d] = true
	}
	if s.Flags.Has(tcpstate.RST) {
		e.rst = true
	}
	if s.Flags.Has(tcpstate.SYN) {
		e.isn[d], e.hasISN[d] = s.Seq, true
	}
}

// closingEntry is a closed connection waiting out Config.CloseLinger.
type closingEntry struct {
	e  *entry
	at time.Time // the connection's last packet when queued
}

// Analyzer demultiplexes packets into TCP connections and analyses them.
// Feed it packets in capture order with Add, then call Close. It is not
// safe for concurrent use (with Config.Workers it runs goroutines of its
// own, which Close ends). It never reads the clock: time is the packets'
// timestamps.
type Analyzer struct {
	cfg         Config
	dec         *decoder
	np          netPacket
	seg         tcpstate.Segment
	table       map[connKey]*entry
	weak        lru // single-packet and mid-stream connections, evicted first
	strong      lru // the others
	nextID      int
	done        []*Conn
	other       [numKinds]uint64
	skipped     [numSkips]uint64
	sum         Summary
	closed      bool
	lastSkip    SkipReason     // why the last TCP packet was skipped
	closing     []closingEntry // closed connections waiting out CloseLinger
	closingHead int
	recent      *entry // the connection of the last TCP segment
	ev          event  // the event being built (one worker)
	endSeq      uint64 // connections ended so far
	inline      *shard
	par         *parallel
}

// NewAnalyzer returns an Analyzer bounded by cfg.
func NewAnalyzer(cfg Config) *Analyzer {
	a := &Analyzer{cfg: cfg, dec: newDecoder(), table: make(map[connKey]*entry)}
	if a.cfg.App.Registry == nil {
		// One registry, read only, for the client rule and every shard.
		a.cfg.App.Registry = appproto.DefaultRegistry()
	}
	if forks, ok := forkAll(cfg.Consumers, cfg.Workers); ok {
		a.par = newParallel(a, forks)
	} else {
		a.inline = newShard(&a.cfg, cfg.Consumers, func(c *Conn, _ uint64) { a.ended(c) })
	}
	return a
}

// Add analyses one packet and passes it to the Consumers. The packet's
// data is not retained.
func (a *Analyzer) Add(p *Packet) {
	e, d := a.add(p)
	sh := 0
	if e != nil {
		sh = e.shard
		if a.par != nil {
			a.par.appAdd(e.sc, d, &a.seg)
		}
	}
	ev := a.event(sh)
	np := &a.np
	ev.kind = evPacket
	ev.info = PacketInfo{Index: p.Index, Time: p.Time, WireLen: p.Length, Kind: np.kind, Skip: np.skip,
		Src: np.src, Dst: np.dst, Proto: np.proto, L4: np.l4, L4Len: np.l4Len,
		EtherType: np.etherType, LinkDst: np.linkDst}
	ev.sc, ev.dir = nil, d
	if e != nil {
		ev.sc = e.sc
		ev.seg = a.seg
	} else if ev.info.Kind == KindTCP {
		ev.info.Kind, ev.info.Skip = KindUnknown, a.lastSkip
	}
	a.dispatch(sh, ev)
}

// event returns the event to fill next for shard sh. With one worker it
// is handled (dispatch) before the next is asked for.
func (a *Analyzer) event(sh int) *event {
	if a.par != nil {
		return a.par.slot(sh)
	}
	return &a.ev
}

// dispatch hands a filled event to shard sh.
func (a *Analyzer) dispatch(sh int, ev *event) {
	if a.par != nil {
		a.par.send(sh, ev)
		return
	}
	a.inline.handle(ev, nil)
}

// add classifies one packet and, for a TCP segment (parsed into a.seg),
// finds its connection, which it returns with the segment's direction.
// Connections it ends on the way (idle, closed, evicted, reused) are
// dispatched before it returns.
func (a *Analyzer) add(p *Packet) (*entry, tcpstate.Dir) {
	a.sum.Packets++
	np := &a.np
	if !timeInRange(p.Time) {
		*np = netPacket{skip: SkipTimestamp}
		a.skipped[SkipTimestamp]++
		return nil, 0
	}
	a.expire(p.Time)
	a.dec.decode(p.LinkType, p.Data, p.Length, np)
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
	seg.IPID, seg.HasIPID = np.ipID, np.hasIPID
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
	e := a.recent
	if e == nil || e.key != key {
		e = a.table[key]
	}
	if e != nil && a.reused(e, src, seg) {
		a.finish(e, EndPortReuse)
		e = nil
	}
	if e == nil {
		e = a.open(key, src, dst, seg, p)
	} else {
		a.touch(e)
	}
	d := tcpstate.ClientToServer
	if src != e.conn.Client {
		d = tcpstate.ServerToClient
	}
	a.recent = e
	e.note(d, seg)
	if !e.closing && e.closed() && a.cfg.linger() >= 0 {
		e.closing = true
		a.closing = append(a.closing, closingEntry{e: e, at: e.last})
	}
	return e, d
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
// the four-tuple of e: the old one has seen a FIN or RST and the SYN
// carries another initial sequence number than the sender's previous one.
func (a *Analyzer) reused(e *entry, src netip.AddrPort, seg *tcpstate.Segment) bool {
	if !seg.Flags.Has(tcpstate.SYN) || seg.Flags.Has(tcpstate.ACK) {
		return false
	}
	if !e.fin[0] && !e.fin[1] && !e.rst {
		return false
	}
	d := tcpstate.ClientToServer
	if src != e.conn.Client {
		d = tcpstate.ServerToClient
	}
	return !e.hasISN[d] || e.isn[d] != seg.Seq
}

// open starts tracking a new connection.
func (a *Analyzer) open(key connKey, src, dst netip.AddrPort, seg *tcpstate.Segment, p *Packet) *entry {
	if len(a.table) >= a.cfg.maxConns() {
		a.makeRoom()
	}
	a.nextID++
	c := &Conn{ID: a.nextID, FirstPacket: p.Index}
	c.Client, c.Server = chooseClient(src, dst, seg.Flags, a.cfg.App.Registry)
	c.Midstream = !seg.Flags.Has(tcpstate.SYN)
	e := &entry{key: key, conn: c, sc: &sconn{conn: c}, pkts: 1}
	if a.par != nil {
		e.shard = a.par.shardOf(key)
	}
	a.table[key] = e
	a.weak.pushFront(e)
	if n := len(a.table); n > a.sum.MaxLive {
		a.sum.MaxLive = n
	}
	return e
}

// chooseClient decides which end of a new connection is the client, from
// its first packet (sent by src to dst):
//   - a SYN without ACK is sent by the client; a SYN/ACK by the server;
//   - otherwise (picked up mid-stream) the end on a well-known port is the
//     server: a port below 1024 or one the protocol registry names (see
//     appproto.Registry.IsServerPort), when exactly one end has one;
//   - otherwise the sender of the first packet is the client.
func chooseClient(src, dst netip.AddrPort, f tcpstate.Flags, reg *appproto.Registry) (client, server netip.AddrPort) {
	if f.Has(tcpstate.SYN) {
		if f.Has(tcpstate.ACK) {
			return dst, src
		}
		return src, dst
	}
	sw, dw := reg.IsServerPort(src.Port()), reg.IsServerPort(dst.Port())
	if sw && !dw {
		return dst, src
	}
	return src, dst
}

// expire ends connections idle for longer than the idle timeout at time now.
func (a *Analyzer) expire(now time.Time) {
	a.expireClosed(now)
	idle := a.cfg.idle()
	if idle < 0 {
		return
	}
	for e := a.oldest(); e != nil && olderThan(now, e.last, idle); e = a.oldest() {
		a.finish(e, EndIdle)
	}
}

// olderThan reports whether now.Sub(t) > d, from the whole seconds alone
// when they tell (the nanoseconds differ by less than one): time.Sub's
// exact arithmetic costs more than the rest of a packet's expiry checks.
func olderThan(now, t time.Time, d time.Duration) bool {
	s, ds := now.Unix()-t.Unix(), int64(d/time.Second)
	switch {
	case s < ds-1:
		return false
	case s > ds+1:
		return true
	}
	return now.Sub(t) > d
}

// expireClosed ends closed connections quiet for longer than the close
// linger at time now. The queue is in order of closing; an entry not yet
// due stops the walk, unless its connection carried a packet since it was
// queued, in which case it moves to the back with that packet's time.
func (a *Analyzer) expireClosed(now time.Time) {
	linger := a.cfg.linger()
	for a.closingHead < len(a.closing) {
		ce := &a.closing[a.closingHead]
		e := ce.e
		switch {
		case e.ended: // ended otherwise
		case olderThan(now, e.last, linger):
			a.finish(e, EndClosed)
		case e.last.After(ce.at):
			a.closing = append(a.closing, closingEntry{e: e, at: e.last})
		default:
			return
		}
		a.popClosing()
	}
}

// popClosing drops the head of the closing queue, compacting the queue
// once more than half of it is spent.
func (a *Analyzer) popClosing() {
	a.closing[a.closingHead] = closingEntry{}
	a.closingHead++
	if a.closingHead > 64 && a.closingHead*2 > len(a.closing) {
		k := copy(a.closing, a.closing[a.closingHead:])
		clear(a.closing[k:])
		a.closing = a.closing[:k]
		a.closingHead = 0
	}
}

// makeRoom ends one connection when Config.MaxConns are tracked: the one
// that closed longest ago (it waits out CloseLinger only for late
// packets; reported as closed, counted in Summary.LingerCut), else the
// victim, evicted.
func (a *Analyzer) makeRoom() {
	for a.closingHead < len(a.closing) {
		e := a.closing[a.closingHead].e
		a.popClosing()
		if !e.ended {
			a.sum.LingerCut++
			a.finish(e, EndClosed)
			return
		}
	}
	if v := a.victim(); v != nil {
		a.sum.Evicted++
		if v.list == &a.strong {
			a.sum.EvictedEstablished++
		}
		a.finish(v, EndEvicted)
	}
}

// finish ends the tracking of e: its shard finishes the connection and
// reports it.
func (a *Analyzer) finish(e *entry, why EndReason) {
	delete(a.table, e.key)
	e.ended = true
	e.list.unlink(e)
	if a.recent == e {
		a.recent = nil
	}
	if (why == EndOfCapture || why == EndIdle) && e.closed() {
		why = EndClosed
	}
	a.sum.Connections++
	if a.par != nil {
		a.par.appClose(e.sc)
	}
	ev := a.event(e.shard)
	ev.kind, ev.sc, ev.why, ev.seq = evEnd, e.sc, why, a.endSeq
	a.endSeq++
	a.dispatch(e.shard, ev)
}

// ended is called, in the order the connections ended, with each ended
// connection once its shard has finished it; on the caller's goroutine.
func (a *Analyzer) ended(c *Conn) {
	if a.cfg.KeepConns {
		a.done = append(a.done, c)
	}
}

// Close ends every connection still tracked (EndOfCapture), in first-seen
// order, and waits for the shards to finish. Add must not be called after
// Close.
func (a *Analyzer) Close() {
	if a.closed {
		return
	}
	a.closed = true
	rest := make([]*entry, 0, len(a.table))
	for _, e := range a.table {
		rest = append(rest, e)
	}
	slices.SortFunc(rest, func(x, y *entry) int { return x.conn.ID - y.conn.ID })
	for _, e := range rest {
		a.finish(e, EndOfCapture)
	}
	if a.par != nil {
		a.par.close()
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

// lru is a list of entries by recency of use, most recent first.
type lru struct{ head, tail *entry }

func (l *lru) pushFront(e *entry) {
	e.list = l
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

func (l *lru) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next, e.list = nil, nil, nil
}

// touch marks e used now: a connection that has shown two packets and was
// not picked up mid-stream moves from the weak list to the strong one.
func (a *Analyzer) touch(e *entry) {
	if e.pkts < 2 {
		e.pkts++
	}
	l := e.list
	if l == &a.weak && e.pkts >= 2 && !e.conn.Midstream {
		l.unlink(e)
		a.strong.pushFront(e)
		return
	}
	if l.head != e {
		l.unlink(e)
		l.pushFront(e)
	}
}

// oldest returns the entry used least recently of both lists.
func (a *Analyzer) oldest() *entry {
	w, s := a.weak.tail, a.strong.tail
	switch {
	case w == nil:
		return s
	case s == nil || w.last.Before(s.last):
		return w
	}
	return s
}

// victim returns the connection to end to make room: the least recently
// used of the weak ones (a single packet, or picked up mid-stream: a SYN
// flood's, a scan's, the tail of a connection whose start was missed),
// else the least recently used of all.
func (a *Analyzer) victim() *entry {
	if a.weak.tail != nil {
		return a.weak.tail
	}
	return a.strong.tail
}
