package appproto

import (
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// Directions, re-exported for convenience.
const (
	ClientToServer = tcpstate.ClientToServer
	ServerToClient = tcpstate.ServerToClient
)

// Conn identifies the protocol of one TCP connection, reassembles and
// frames its two byte streams and pairs requests with responses. Feed it
// the connection's segments in capture order with Add, then call Close.
// It is not safe for concurrent use.
//
// A Conn is a composition of four steps, each its own type: reassembly
// per direction (in-order bytes and gaps), identification (payload, then
// port), framing (the Parser's frames into messages) and pairing
// (messages into transactions).
type Conn struct {
	rs         [2]reassembler
	id         identifier
	fr         framing
	pair       pairing
	msgs       MessageHandler // nil: messages are not reported
	maxMessage int64
	lastT      time.Time
	closed     bool
	mss        [2]uint16       // MSS option of each direction's SYN
	fin        [2]bool         // a FIN was seen in the direction
	finEnd     [2]tcpstate.Seq // the sequence number of the direction's FIN
}

// NewConn returns the application state of a connection between a client
// and a server port. cfg is copied (nil means a zero Config). h receives
// the connection's transactions during Add and Close, and its messages
// too if it is a MessageHandler (see Handler for the order and the
// lifetime of what it is given); nil means none are reported, the Stats
// still count them.
func NewConn(cfg *Config, clientPort, serverPort uint16, h Handler) *Conn {
	var cf Config
	if cfg != nil {
		cf = *cfg
	}
	reg := cf.Registry
	if reg == nil {
		reg = DefaultRegistry()
	}
	c := &Conn{
		id:         identifier{reg: reg, port: serverPort},
		fr:         framing{maxHeader: cf.maxHeader()},
		pair:       newPairing(cf.maxPending(), h),
		maxMessage: cf.maxMessage(),
	}
	c.msgs, _ = h.(MessageHandler)
	c.fr.canCoalesce = c.msgs == nil
	for d := range c.rs {
		c.rs[d] = newReassembler(Dir(d), cf.maxHeld(), c)
	}
	c.fr.out = c
	return c
}

// Protocol returns the name of the identified protocol, "unknown" when
// none was, or "" while identification is pending.
func (c *Conn) Protocol() string { return c.id.name() }

// Confidence returns how sure the identification is, from 0 (unknown) to 1.
func (c *Conn) Confidence() float64 {
	if c.id.proto == nil {
		return ConfidenceNone
	}
	if !c.id.byPort && c.fr.confirmed() {
		return ConfidenceConfirmed
	}
	return c.id.score
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats {
	st := c.pair.stats
	st.MessagesC2S, st.MessagesS2C = c.fr.messages[ClientToServer], c.fr.messages[ServerToClient]
	// A message whose end is deferred (held) has ended.
	if ds := &c.fr.dirs[ClientToServer]; ds.held {
		st.MessagesC2S += 1 + uint64(ds.msg.merged)
	}
	if ds := &c.fr.dirs[ServerToClient]; ds.held {
		st.MessagesS2C += 1 + uint64(ds.msg.merged)
	}
	st.BytesC2S, st.BytesS2C = c.rs[ClientToServer].bytes, c.rs[ServerToClient].bytes
	st.Gaps = c.rs[0].gaps + c.rs[1].gaps
	st.GapBytes = c.rs[0].gapBytes + c.rs[1].gapBytes
	st.UnknownBytes = c.fr.unknownBytes
	st.Resyncs = c.fr.resyncs
	st.FramingErrors, st.FramingError = c.fr.framingErrors, c.fr.framingError
	if sa, ok := c.fr.parser.(statsAdder); ok {
		cc := connCounts{mss: c.mss}
		for d := range cc.segments {
			cc.segments[d], cc.msgSegments[d] = c.rs[d].segments, c.fr.msgSegments[d]
		}
		st = sa.addStats(st, cc)
	}
	return st
}

// Add feeds one TCP segment travelling in direction d. The segment's
// payload is not retained (out-of-order bytes are copied).
func (c *Conn) Add(d Dir, s *tcpstate.Segment) {
	if c.closed || d > ServerToClient {
		return
	}
	c.lastT = s.Time
	if s.Flags.Has(tcpstate.SYN) && s.Opts.HasMSS {
		c.mss[d] = s.Opts.MSS
	}
	if s.Flags.Has(tcpstate.FIN) {
		// the FIN's number follows the payload (RFC 9293 section 3.4)
		c.fin[d], c.finEnd[d] = true, s.Data().End
	}
	if s.Flags.Has(tcpstate.ACK) {
		// what the sender of s had received before it sent s
		c.rs[d.Reverse()].acked(s.Ack)
	}
	c.rs[d].add(s)
}

// Done reports whether both byte streams are complete: each direction's
// FIN seen, every byte before it delivered and none held. A later segment
// can then only repeat delivered bytes (or carry bytes past a FIN, which
// are not stream data), so closing the Conn at once gives the figures
// closing it at the connection's end would, and frees its buffers while
// the connection waits out its last packets.
func (c *Conn) Done() bool {
	for d := range c.rs {
		r := &c.rs[d]
		if !c.fin[d] || !r.init || r.next != c.finEnd[d] || len(r.held) > 0 {
			return false
		}
	}
	return true
}

// Close ends the connection's analysis: held segments are delivered after
// gaps, open messages end, responses under way complete and requests
// without a response are counted unanswered. Add must not be called after.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	for d := range c.rs {
		c.rs[d].flush(c.lastT)
	}
	c.identify(true)
	c.fr.close(c.fin)
	c.pair.close()
	c.closed = true
}

// data takes in-order bytes from reassembly: buffered while the protocol
// is being identified, framed after.
func (c *Conn) data(d Dir, p []byte, t time.Time, idx uint64, psh bool) {
	if !c.id.decided {
		c.fr.buffer(d, p, t, idx, psh)
		c.identify(false)
		return
	}
	c.fr.feed(d, p, t, idx, psh)
}

// gap takes missing bytes from reassembly: identification decides on
// what it has, framing skips or loses its place.
func (c *Conn) gap(d Dir, n int64, t time.Time, idx uint64, psh bool) {
	c.identify(true)
	c.fr.gap(d, n, t, idx, psh)
}

// identify decides the protocol from the bytes buffered so far (final
// forces a decision) and, once decided, starts framing.
func (c *Conn) identify(final bool) {
	if c.id.decided || !c.id.decide(c.fr.pending(), final) {
		return
	}
	name := c.id.name()
	c.pair.proto = name
	c.fr.begin(c.id.parser(c.maxMessage), name)
}

// started passes a message that framing started to pairing.
func (c *Conn) started(m *Message) { c.pair.start(m) }

// lostBytes passes bytes lost outside any message to pairing.
func (c *Conn) lostBytes(d Dir, n int64, t time.Time) { c.pair.lost(d, n, t) }

// ended passes a message that framing ended to the handler, then pairing.
func (c *Conn) ended(m *Message) {
	if c.msgs != nil {
		c.msgs.Message(m)
	}
	c.pair.end(m)
}
