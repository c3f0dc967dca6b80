package netlog

import (
	"slices"
	"sync"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// DefaultMaxEvents is the default bound on the events held for one live
// connection.
const DefaultMaxEvents = 1 << 16

// Config shapes a Logger. Its zero value is usable.
type Config struct {
	// MaxEvents bounds the events held for one connection until it
	// ends; further events are counted in a Truncated event at the end
	// of its block. Zero means DefaultMaxEvents.
	MaxEvents int
}

func (c Config) maxEvents() int {
	if c.MaxEvents <= 0 {
		return DefaultMaxEvents
	}
	return c.MaxEvents
}

// A Handler receives each connection's events when the connection ends:
// events in time order (events at the same instant in the order they
// happened), valid only during the call. A Handler's error stops the
// Logger from calling it again (Logger.Err returns it).
type Handler interface {
	Events(c *flow.Conn, events []Event) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(c *flow.Conn, events []Event) error

// Events calls f(c, events).
func (f HandlerFunc) Events(c *flow.Conn, events []Event) error { return f(c, events) }

// Handlers returns a Handler that passes each block to every h in turn,
// stopping at the first error.
func Handlers(hs ...Handler) Handler {
	return HandlerFunc(func(c *flow.Conn, events []Event) error {
		for _, h := range hs {
			if err := h.Events(c, events); err != nil {
				return err
			}
		}
		return nil
	})
}

// Counts are the events a Logger delivered, by name, and the
// connections they came from.
type Counts struct {
	Conns  uint64            `json:"conns"`
	Events [NumNames]uint64  `json:"-"`
	ByName map[string]uint64 `json:"events"`
}

// Logger writes the events of every connection of a pass (see the
// package documentation). It is a flow.TransactionConsumer and a
// flow.Forker: with flow.Config.Workers above one its forks gather the
// events on the shards' goroutines and the Logger hands each connection's
// block to its Handler on the Analyzer's goroutine, in the order the
// connections ended, as one worker would. A Logger is not safe for
// concurrent use otherwise.
type Logger struct {
	cfg  Config
	h    Handler
	err  error
	live map[*flow.Conn]*connLog
	cnt  Counts
	// root is the Logger a fork reports to; forked is set on a root
	// that has forks, whose ready blocks wait in ready (guarded by mu).
	root   *Logger
	forked bool
	mu     sync.Mutex
	ready  map[*flow.Conn]*connLog
	spare  []*connLog
}

var (
	_ flow.TransactionConsumer = (*Logger)(nil)
	_ flow.Forker              = (*Logger)(nil)
)

// New returns a Logger that hands each ended connection's events to h.
func New(cfg Config, h Handler) *Logger {
	return &Logger{cfg: cfg, h: h, live: make(map[*flow.Conn]*connLog)}
}

// connLog is the state of one live connection: its events so far,
// whether the handshake's ACK was logged and when each side last sent.
type connLog struct {
	events   []Event
	dropped  uint64
	haveAck  bool
	lastSend [2]time.Time
}

func (l *Logger) conn(c *flow.Conn) *connLog {
	cl := l.live[c]
	if cl == nil {
		if n := len(l.spare); n > 0 {
			cl, l.spare = l.spare[n-1], l.spare[:n-1]
		} else {
			cl = &connLog{}
		}
		l.live[c] = cl
	}
	return cl
}

func (l *Logger) add(cl *connLog, e Event) {
	if len(cl.events) >= l.cfg.maxEvents() {
		cl.dropped++
		return
	}
	cl.events = append(cl.events, e)
}

// Packet logs the critical points a TCP segment carries. It keeps
// nothing of p.
func (l *Logger) Packet(p *flow.PacketInfo) {
	if p.Seg == nil || p.Conn == nil {
		return
	}
	s, an := p.Seg, p.Analysis
	cl := l.conn(p.Conn)
	base := Event{Time: p.Time.UTC(), Host: p.Src, Conn: p.Conn.ID, Component: Client,
		Src: p.Conn.Client, Dst: p.Conn.Server, Packet: p.Index, Len: s.Len}
	if p.Dir == tcpstate.ServerToClient {
		base.Component, base.Src, base.Dst = Server, p.Conn.Server, p.Conn.Client
	}
	ev := func(n Name, lvl Level) Event {
		e := base
		e.Name, e.Level = n, lvl
		return e
	}
	switch {
	case s.Flags.Has(tcpstate.SYN | tcpstate.ACK):
		l.add(cl, ev(SYNACK, Usage))
	case s.Flags.Has(tcpstate.SYN):
		l.add(cl, ev(SYN, Usage))
	}
	if !cl.haveAck && p.TCP != nil {
		// tcpstate's handshake: the first ACK of the SYN/ACK from the
		// SYN's sender completes it
		if hs := p.TCP.Handshake(); hs.HaveACK {
			cl.haveAck = true
			l.add(cl, ev(HandshakeACK, Usage))
		}
	}
	if an != nil {
		if an.Cause == tcpstate.CauseTimeout {
			e := ev(RTO, Warning)
			if last := cl.lastSend[p.Dir]; !last.IsZero() {
				e.Wait = p.Time.Sub(last)
			}
			l.add(cl, e)
		}
		if lb, ok := retransmission(an.Labels); ok {
			e := ev(Retransmission, Warning)
			e.Label, e.Cause, e.Orig = lb.String(), an.Cause.String(), an.Ref[lb]
			l.add(cl, e)
		}
		if an.Labels.Has(tcpstate.ZeroWindow) {
			l.add(cl, ev(ZeroWindow, Warning))
		}
	}
	if s.Flags.Has(tcpstate.FIN) {
		l.add(cl, ev(FIN, Usage))
	}
	if s.Flags.Has(tcpstate.RST) {
		l.add(cl, ev(RST, Warning))
	}
	if s.Len > 0 || s.Flags&(tcpstate.SYN|tcpstate.FIN) != 0 {
		cl.lastSend[p.Dir] = p.Time
	}
}

// retransmission returns the most specific of the labels tshark's
// tcp.analysis.retransmission stands for, if the segment carries one.
func retransmission(ls tcpstate.Labels) (tcpstate.Label, bool) {
	for _, lb := range []tcpstate.Label{tcpstate.SpuriousRetransmission, tcpstate.FastRetransmission, tcpstate.Retransmission} {
		if ls.Has(lb) {
			return lb, true
		}
	}
	return 0, false
}

// Transaction logs the four critical points of a request and its
// response.
func (l *Logger) Transaction(c *flow.Conn, t *appproto.Transaction) {
	cl := l.conn(c)
	req := Event{Host: c.Client.Addr(), Conn: c.ID, Component: Client, Src: c.Client, Dst: c.Server,
		Txn: t.ID, Proto: t.Proto, Kind: t.Kind, Verb: t.Verb, Bytes: t.RequestBytes}
	resp := req
	resp.Host, resp.Component, resp.Src, resp.Dst = c.Server.Addr(), Server, c.Server, c.Client
	resp.Bytes, resp.Status = t.ResponseBytes, t.Status
	// appproto names the request's first and the response's last
	// segment; a message of one segment starts and ends in it.
	reqLast, respFirst := uint64(0), uint64(0)
	if t.RequestSegments == 1 {
		reqLast = t.FirstPacket
	}
	if t.ResponseSegments == 1 {
		respFirst = t.LastPacket
	}
	for _, x := range []struct {
		e   Event
		n   Name
		at  time.Time
		pkt uint64
	}{
		{req, RequestStart, t.RequestFirst, t.FirstPacket},
		{req, RequestEnd, t.RequestLast, reqLast},
		{resp, ResponseStart, t.ResponseFirst, respFirst},
		{resp, ResponseEnd, t.ResponseLast, t.LastPacket},
	} {
		x.e.Name, x.e.Time, x.e.Packet = x.n, x.at.UTC(), x.pkt
		l.add(cl, x.e)
	}
}

// ConnEnd finishes connection c's block: its legs are set on every
// event, the events put in time order and handed to the Handler (by the
// root Logger, for a fork).
func (l *Logger) ConnEnd(c *flow.Conn) {
	if l.forked {
		l.mu.Lock()
		cl := l.ready[c]
		delete(l.ready, c)
		l.mu.Unlock()
		if cl != nil {
			l.deliver(c, cl)
		}
		return
	}
	cl := l.live[c]
	if cl == nil {
		return
	}
	delete(l.live, c)
	cl.finish(c)
	if r := l.root; r != nil {
		r.mu.Lock()
		r.ready[c] = cl
		r.mu.Unlock()
		return
	}
	l.deliver(c, cl)
}

// finish sets the legs, adds the Truncated event and sorts the events.
func (cl *connLog) finish(c *flow.Conn) {
	var legs *Legs
	if r := c.RTT; r.SynToSynAck > 0 && r.SynAckToAck > 0 {
		legs = &Legs{Client: r.SynAckToAck / 2, Server: r.SynToSynAck / 2}
	}
	for i := range cl.events {
		cl.events[i].Legs = legs
	}
	slices.SortStableFunc(cl.events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	if cl.dropped > 0 {
		last := c.Last
		if n := len(cl.events); n > 0 && cl.events[n-1].Time.After(last) {
			last = cl.events[n-1].Time
		}
		cl.events = append(cl.events, Event{Time: last.UTC(), Host: c.Client.Addr(), Level: Warning, Name: Truncated,
			Conn: c.ID, Component: Client, Src: c.Client, Dst: c.Server, Dropped: cl.dropped, Legs: legs})
	}
}

// deliver counts a finished block and hands it to the Handler, then
// keeps the state for reuse.
func (l *Logger) deliver(c *flow.Conn, cl *connLog) {
	l.cnt.Conns++
	for i := range cl.events {
		l.cnt.Events[cl.events[i].Name]++
	}
	if l.err == nil && l.h != nil {
		l.err = l.h.Events(c, cl.events)
	}
	if l.forked {
		return // a fork's state: the fork allocates its own
	}
	clear(cl.events)
	*cl = connLog{events: cl.events[:0]}
	if len(l.spare) < 64 {
		l.spare = append(l.spare, cl)
	}
}

// Fork returns a Logger for one shard of a parallel pass (see
// flow.Forker); its blocks reach l as their connections end.
func (l *Logger) Fork() flow.Consumer {
	l.forked = true
	if l.ready == nil {
		l.ready = make(map[*flow.Conn]*connLog)
	}
	return &Logger{cfg: l.cfg, live: make(map[*flow.Conn]*connLog), root: l}
}

// Merge does nothing: the forks' blocks have reached l through ConnEnd.
func (l *Logger) Merge([]flow.Consumer) {}

// Err returns the Handler's first error.
func (l *Logger) Err() error { return l.err }

// Counts returns the events delivered so far, by name.
func (l *Logger) Counts() Counts {
	c := l.cnt
	c.ByName = make(map[string]uint64, NumNames)
	for n, v := range c.Events {
		if v > 0 {
			c.ByName[Name(n).String()] = v
		}
	}
	return c
}
