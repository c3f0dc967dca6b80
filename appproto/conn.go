package appproto

import (
	"errors"
	"fmt"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// Directions, re-exported for convenience.
const (
	ClientToServer = tcpstate.ClientToServer
	ServerToClient = tcpstate.ServerToClient
)

// errHeaderTooLong is the framing error of a parser that kept asking for
// more bytes beyond Config.MaxHeader.
var errHeaderTooLong = errors.New("frame header exceeds the header size limit")

const (
	stIdentify = iota
	stDecided
)

const (
	modeFramed  = iota // bytes go through the parser
	modeLost           // after a gap: looking for a frame boundary
	modeUnknown        // not framed: messages by PSH and direction changes
)

// mark records where the bytes of one segment end in a buffer, with the
// segment's time and capture index.
type mark struct {
	end int
	t   time.Time
	idx uint64
	psh bool // the segment had PSH (kept while identifying)
}

// held is an out-of-order segment waiting for the bytes before it.
type held struct {
	seq  tcpstate.Seq
	wlen int // payload length on the wire
	data []byte
	t    time.Time
	idx  uint64
	psh  bool
}

// dirState is one direction's reassembly and framing state.
type dirState struct {
	// reassembly
	init      bool
	next      tcpstate.Seq
	held      []held
	heldBytes int
	free      [][]byte

	// framing
	mode   int
	buf    []byte
	marks  []mark
	one    [1]mark
	skip   int64
	fEnd   bool // the frame being skipped ends its message
	fUnfr  bool // ... and unframes the connection
	open   bool
	msg    Message
	msgTxn uint64
	ghost  bool // the open response answers an unqueued request
	framed bool // at least one message framed by the protocol
}

// txn is a transaction being assembled.
type txn struct {
	Transaction
	id          uint64
	reqDone     bool
	respStarted bool
	reqIdx      uint64
	respIdx     uint64
	turn0, turn uint64 // the connection's turn count at the first and last message
}

// Conn identifies the protocol of one TCP connection, reassembles and
// frames its two byte streams and pairs requests with responses. Feed it
// the connection's segments in capture order with Add, then call Close.
// It is not safe for concurrent use.
type Conn struct {
	cfg    Config
	reg    *Registry
	ports  [2]uint16 // client, server
	state  int
	proto  Protocol
	parser Parser
	score  float64
	byPort bool
	dirs   [2]dirState
	stats  Stats
	last   int // direction of the last message started, -1 none
	q      []txn
	nextID uint64
	accum  uint64
	// over counts requests beyond Config.MaxPending, after those queued:
	// their responses are counted but not paired. phantom is set while
	// such a request is being sent.
	over    uint64
	phantom bool
	closed  bool
	lastT   time.Time
}

// NewConn returns the application state of a connection between a client
// and a server port. cfg is copied.
func NewConn(cfg *Config, clientPort, serverPort uint16) *Conn {
	c := &Conn{ports: [2]uint16{clientPort, serverPort}, last: -1}
	if cfg != nil {
		c.cfg = *cfg
	}
	c.reg = c.cfg.Registry
	if c.reg == nil {
		c.reg = DefaultRegistry()
	}
	return c
}

// Protocol returns the name of the identified protocol, "unknown" when
// none was, or "" while identification is pending.
func (c *Conn) Protocol() string {
	if c.state == stIdentify {
		return ""
	}
	if c.proto == nil {
		return "unknown"
	}
	return c.proto.Name()
}

// Confidence returns how sure the identification is, from 0 (unknown) to 1.
func (c *Conn) Confidence() float64 {
	if c.proto == nil {
		return ConfidenceNone
	}
	if !c.byPort && c.dirs[0].framed && c.dirs[1].framed && c.stats.FramingErrors == 0 {
		return ConfidenceConfirmed
	}
	return c.score
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats { return c.stats }

// Add feeds one TCP segment travelling in direction d. The segment's
// payload is not retained (out-of-order bytes are copied).
func (c *Conn) Add(d Dir, s *tcpstate.Segment) {
	if c.closed || d > ServerToClient {
		return
	}
	c.lastT = s.Time
	ds := &c.dirs[d]
	first := s.Seq
	if s.Flags.Has(tcpstate.SYN) {
		first = first.Add(1)
		if !ds.init {
			ds.init, ds.next = true, first
		}
	}
	// A RST's payload is diagnostic text, not stream data.
	if s.Len <= 0 || s.Flags.Has(tcpstate.RST) {
		return
	}
	if !ds.init {
		ds.init, ds.next = true, first
	}
	wlen := s.Len
	payload := s.Payload
	if len(payload) > wlen {
		payload = payload[:wlen]
	}
	end := first.Add(tcpstate.Size(wlen))
	if end.LessThanEq(ds.next) {
		return // all retransmitted
	}
	if first.LessThan(ds.next) {
		cut := int(first.Size(ds.next))
		wlen -= cut
		payload = payload[min(cut, len(payload)):]
		first = ds.next
	}
	psh := s.Flags.Has(tcpstate.PSH)
	if first == ds.next {
		c.deliver(d, payload, wlen, s.Time, s.Index, psh)
		c.drain(d)
		return
	}
	c.hold(d, first, payload, wlen, s.Time, s.Index, psh)
}

// deliver passes in-order bytes to framing: the captured ones, then a gap
// for those the capture cut.
func (c *Conn) deliver(d Dir, p []byte, wlen int, t time.Time, idx uint64, psh bool) {
	ds := &c.dirs[d]
	ds.next = ds.next.Add(tcpstate.Size(wlen))
	if len(p) > 0 {
		if d == ClientToServer {
			c.stats.BytesC2S += int64(len(p))
		} else {
			c.stats.BytesS2C += int64(len(p))
		}
		c.feed(d, p, t, idx, psh && len(p) == wlen)
	}
	if wlen > len(p) {
		c.gap(d, int64(wlen-len(p)), t, idx, psh)
	}
}

// hold keeps an out-of-order segment, declaring gaps when the bound on
// held bytes would be exceeded.
func (c *Conn) hold(d Dir, seq tcpstate.Seq, p []byte, wlen int, t time.Time, idx uint64, psh bool) {
	ds := &c.dirs[d]
	for len(ds.held) > 0 && (ds.heldBytes+len(p) > c.cfg.maxHeld() || len(ds.held) >= 4096) {
		c.skipTo(d, ds.held[0].seq)
		c.drain(d)
	}
	if ds.heldBytes+len(p) > c.cfg.maxHeld() {
		// Alone it is too big to hold: give up on the bytes before it.
		c.skipTo(d, seq)
		c.deliver(d, p, wlen, t, idx, psh)
		c.drain(d)
		return
	}
	var buf []byte
	if n := len(ds.free); n > 0 {
		buf, ds.free = ds.free[n-1][:0], ds.free[:n-1]
	}
	h := held{seq: seq, wlen: wlen, data: append(buf, p...), t: t, idx: idx, psh: psh}
	i := len(ds.held)
	for i > 0 && seq.LessThan(ds.held[i-1].seq) {
		i--
	}
	ds.held = append(ds.held, held{})
	copy(ds.held[i+1:], ds.held[i:])
	ds.held[i] = h
	ds.heldBytes += len(p)
}

// skipTo declares the bytes from the next expected one up to seq lost.
func (c *Conn) skipTo(d Dir, seq tcpstate.Seq) {
	ds := &c.dirs[d]
	if !ds.next.LessThan(seq) {
		return
	}
	n := int64(ds.next.Size(seq))
	ds.next = seq
	c.gap(d, n, c.lastT, 0, false)
}

// drain delivers held segments that have become in order.
func (c *Conn) drain(d Dir) {
	ds := &c.dirs[d]
	for len(ds.held) > 0 {
		h := ds.held[0]
		if ds.next.LessThan(h.seq) {
			return
		}
		copy(ds.held, ds.held[1:])
		ds.held = ds.held[:len(ds.held)-1]
		ds.heldBytes -= len(h.data)
		end := h.seq.Add(tcpstate.Size(h.wlen))
		if ds.next.LessThan(end) {
			cut := int(h.seq.Size(ds.next))
			c.deliver(d, h.data[min(cut, len(h.data)):], h.wlen-cut, h.t, h.idx, h.psh)
		}
		if len(ds.free) < 64 {
			ds.free = append(ds.free, h.data)
		}
	}
}

// feed frames in-order bytes of direction d.
func (c *Conn) feed(d Dir, data []byte, t time.Time, idx uint64, psh bool) {
	ds := &c.dirs[d]
	if c.state == stIdentify {
		ds.appendBuf(data, t, idx)
		ds.marks[len(ds.marks)-1].psh = psh
		c.identify(false)
		return
	}
	switch ds.mode {
	case modeUnknown:
		c.unknown(d, len(data), t, idx, psh)
		return
	case modeLost:
		ds.appendBuf(data, t, idx)
		c.resync(d)
		return
	}
	if ds.skip > 0 {
		n := min(int64(len(data)), ds.skip)
		c.account(d, n, t, idx)
		ds.skip -= n
		data = data[n:]
		if ds.skip == 0 {
			c.frameDone(d)
		}
		if len(data) == 0 {
			return
		}
	}
	if ds.mode != modeFramed {
		c.feed(d, data, t, idx, psh)
		return
	}
	if len(ds.buf) == 0 {
		ds.one[0] = mark{end: len(data), t: t, idx: idx}
		n := c.split(d, data, ds.one[:])
		if n < len(data) {
			ds.appendBuf(data[n:], t, idx)
		}
		return
	}
	ds.appendBuf(data, t, idx)
	c.process(d)
}

// process frames the buffered bytes of direction d.
func (c *Conn) process(d Dir) {
	ds := &c.dirs[d]
	if len(ds.buf) == 0 {
		return
	}
	n := c.split(d, ds.buf, ds.marks)
	ds.consume(n)
}

// appendBuf buffers bytes that arrived at time t in packet idx.
func (ds *dirState) appendBuf(p []byte, t time.Time, idx uint64) {
	ds.buf = append(ds.buf, p...)
	if n := len(ds.marks); n > 0 && ds.marks[n-1].idx == idx {
		ds.marks[n-1].end = len(ds.buf)
		return
	}
	ds.marks = append(ds.marks, mark{end: len(ds.buf), t: t, idx: idx})
}

// consume drops the first n buffered bytes.
func (ds *dirState) consume(n int) {
	if n <= 0 {
		return
	}
	if n >= len(ds.buf) {
		ds.buf, ds.marks = ds.buf[:0], ds.marks[:0]
		return
	}
	rest := copy(ds.buf, ds.buf[n:])
	ds.buf = ds.buf[:rest]
	j := 0
	for _, m := range ds.marks {
		if m.end > n {
			m.end -= n
			ds.marks[j] = m
			j++
		}
	}
	ds.marks = ds.marks[:j]
}

// at returns the mark of the byte at offset off.
func at(marks []mark, off int) mark {
	for _, m := range marks {
		if off < m.end {
			return m
		}
	}
	if len(marks) > 0 {
		return marks[len(marks)-1]
	}
	return mark{}
}

// accountRange adds the bytes [a, b) of a window to the open message.
func (c *Conn) accountRange(d Dir, marks []mark, a, b int) {
	start := 0
	for _, m := range marks {
		lo, hi := max(a, start), min(b, m.end)
		if lo < hi {
			c.account(d, int64(hi-lo), m.t, m.idx)
		}
		start = m.end
		if start >= b {
			break
		}
	}
}

// account adds n bytes carried by packet idx at time t to d's open message.
func (c *Conn) account(d Dir, n int64, t time.Time, idx uint64) {
	m := &c.dirs[d].msg
	m.Bytes += n
	if idx != 0 {
		m.Last = t
		if idx != m.LastPacket {
			m.Segments++
			m.LastPacket = idx
		}
	}
}

// split runs the parser over win, whose bytes' times are in marks, and
// returns how many bytes it consumed.
func (c *Conn) split(d Dir, win []byte, marks []mark) int {
	ds := &c.dirs[d]
	off := 0
	for off < len(win) && ds.mode == modeFramed {
		f, err := c.parser.Split(d, win[off:])
		if err == nil && f.Len <= 0 && len(win)-off > c.cfg.maxHeader() {
			err = errHeaderTooLong
		}
		if err != nil {
			c.framingError(d, err)
			r, ok := c.parser.(Resyncer)
			if !ok {
				break
			}
			// Look for the next boundary past the failed one.
			if i := r.Resync(d, win[off+1:]); i >= 0 {
				c.stats.UnknownBytes += int64(1 + i)
				c.stats.Resyncs++
				off += 1 + i
				ds.mode = modeFramed
				continue
			}
			ds.mode = modeLost
			keep := min(64, len(win)-off-1)
			c.stats.UnknownBytes += int64(len(win) - off - keep)
			return len(win) - keep
		}
		if f.Len <= 0 {
			return off
		}
		m := at(marks, off)
		if f.Start || !ds.open {
			if ds.open {
				c.endMessage(d)
			}
			if !f.Start {
				f.Kind, f.Role = "continuation", 0
			}
			c.startMessage(d, &f, m.t, m.idx, false)
		}
		ds.fEnd, ds.fUnfr = f.End, f.Unframe
		if avail := int64(len(win) - off); f.Len <= avail {
			c.accountRange(d, marks, off, off+int(f.Len))
			off += int(f.Len)
			c.frameDone(d)
		} else {
			c.accountRange(d, marks, off, len(win))
			ds.skip = f.Len - avail
			off = len(win)
		}
	}
	if ds.mode == modeUnknown && off < len(win) {
		for _, m := range marks {
			if m.end > off {
				c.unknown(d, m.end-off, m.t, m.idx, false)
				off = m.end
			}
		}
		off = len(win)
	}
	return off
}

// frameDone ends the frame just consumed.
func (c *Conn) frameDone(d Dir) {
	ds := &c.dirs[d]
	if ds.fEnd {
		ds.fEnd = false
		c.endMessage(d)
	}
	if ds.fUnfr {
		ds.fUnfr = false
		for e := range c.dirs {
			// d's own buffered bytes are the caller's window: split
			// counts what is left of them.
			c.toUnknown(Dir(e), Dir(e) != d)
		}
	}
}

// toUnknown turns direction d to unknown framing; buffered bytes become
// unknown data.
func (c *Conn) toUnknown(d Dir, flush bool) {
	ds := &c.dirs[d]
	if ds.mode == modeUnknown {
		return
	}
	if ds.open {
		c.endMessage(d)
	}
	ds.mode, ds.skip = modeUnknown, 0
	if flush {
		c.toUnknownBuffered(d)
	}
}

// framingError records a parser failure; the rest of d is unknown.
func (c *Conn) framingError(d Dir, err error) {
	c.stats.FramingErrors++
	if c.stats.FramingError == "" {
		c.stats.FramingError = fmt.Sprintf("%s %s: %v", c.Protocol(), d, err)
	}
	ds := &c.dirs[d]
	if ds.open {
		c.endMessage(d)
	}
	ds.mode, ds.skip = modeUnknown, 0
}

// gap tells framing that n bytes of d are missing.
func (c *Conn) gap(d Dir, n int64, t time.Time, idx uint64, psh bool) {
	c.stats.Gaps++
	c.stats.GapBytes += n
	ds := &c.dirs[d]
	if c.state == stIdentify {
		c.identify(true)
	}
	switch ds.mode {
	case modeUnknown:
		if ds.open {
			c.account(d, n, t, idx)
			if psh {
				c.endMessage(d)
			}
		}
		return
	case modeLost:
		c.stats.UnknownBytes += int64(len(ds.buf))
		ds.buf, ds.marks = ds.buf[:0], ds.marks[:0]
		return
	}
	if ds.skip >= n {
		c.account(d, n, t, idx)
		ds.skip -= n
		if ds.skip == 0 {
			c.frameDone(d)
		}
		return
	}
	// The gap reaches past the current frame: the next boundary is lost.
	if ds.open {
		c.endMessage(d)
	}
	ds.skip, ds.fEnd, ds.fUnfr = 0, false, false
	if tr, ok := c.parser.(Truncator); ok && len(ds.buf) > 0 && ds.skip == 0 {
		// The gap cut a frame header: a parser that recognises its start
		// still counts the message.
		if f, ok := tr.SplitTruncated(d, ds.buf); ok {
			m := ds.marks[0]
			c.startMessage(d, &f, m.t, m.idx, false)
			c.accountRange(d, ds.marks, 0, len(ds.buf))
			c.account(d, n, t, 0)
			c.endMessage(d)
			ds.buf, ds.marks = ds.buf[:0], ds.marks[:0]
		}
	}
	c.stats.UnknownBytes += int64(len(ds.buf))
	ds.buf, ds.marks = ds.buf[:0], ds.marks[:0]
	if _, ok := c.parser.(Resyncer); ok {
		ds.mode = modeLost
		return
	}
	ds.mode = modeUnknown
}

// resync looks for a frame boundary in the bytes buffered after a gap.
func (c *Conn) resync(d Dir) {
	ds := &c.dirs[d]
	r := c.parser.(Resyncer)
	i := r.Resync(d, ds.buf)
	if i < 0 {
		// Keep a tail that may hold the start of a header.
		if keep := 64; len(ds.buf) > keep {
			c.stats.UnknownBytes += int64(len(ds.buf) - keep)
			ds.consume(len(ds.buf) - keep)
		}
		return
	}
	c.stats.UnknownBytes += int64(i)
	ds.consume(i)
	c.stats.Resyncs++
	ds.mode = modeFramed
	c.process(d)
}

// unknown adds n bytes of unframed data to direction d: a message runs
// until PSH or data in the other direction.
func (c *Conn) unknown(d Dir, n int, t time.Time, idx uint64, psh bool) {
	c.stats.UnknownBytes += int64(n)
	o := &c.dirs[d.Reverse()]
	if o.open && o.mode == modeUnknown {
		c.endMessage(d.Reverse())
	}
	ds := &c.dirs[d]
	if !ds.open {
		var f Frame
		f.Kind = "data"
		if c.proto == nil || c.byPort {
			if d == ClientToServer {
				f.Role = Request | EndsPrevious
			} else {
				f.Role = Response
			}
		}
		c.startMessage(d, &f, t, idx, true)
	}
	c.account(d, int64(n), t, idx)
	if psh {
		c.endMessage(d)
	}
}

// startMessage opens a message in d whose first byte came at t in idx.
func (c *Conn) startMessage(d Dir, f *Frame, t time.Time, idx uint64, unknown bool) {
	ds := &c.dirs[d]
	ds.open = true
	ds.msg = Message{Dir: d, Kind: f.Kind, Verb: f.Verb, Role: f.Role, Status: f.Status, Unknown: unknown,
		First: t, Last: t, FirstPacket: idx}
	ds.msgTxn, ds.ghost = 0, false
	m := &ds.msg
	if d == ClientToServer {
		if c.last != int(ClientToServer) {
			c.stats.Turns++
		}
		if m.Role.Has(Request) {
			if m.Role.Has(EndsPrevious) {
				c.completeStarted()
			}
			tx := c.find(c.accum)
			if tx == nil && !c.phantom && (c.over > 0 || len(c.q) >= c.cfg.maxPending()) {
				// Too many requests pending: count this one, pair it with
				// its response by order only.
				c.over++
				c.phantom = true
				c.stats.Requests++
			}
			if tx == nil && !c.phantom {
				c.nextID++
				c.q = append(c.q, txn{id: c.nextID})
				tx = &c.q[len(c.q)-1]
				tx.Kind, tx.Verb = m.Kind, m.Verb
				tx.RequestFirst, tx.FirstPacket = t, idx
				tx.turn0 = c.stats.Turns
				c.stats.Requests++
				c.accum = tx.id
			}
			if tx != nil {
				ds.msgTxn = tx.id
			}
		}
	} else {
		c.phantom = false
		if c.accum != 0 {
			if tx := c.find(c.accum); tx != nil {
				tx.reqDone = true
			}
			c.accum = 0
		}
		if m.Role&(Response|ResponseEnd|Interim) != 0 {
			ds.ghost = len(c.q) == 0 && c.over > 0
			// The response belongs to the oldest queued request, once
			// that request is complete.
			if len(c.q) > 0 && c.q[0].reqDone {
				tx := &c.q[0]
				if !tx.respStarted {
					tx.respStarted, tx.ResponseFirst = true, t
				}
				ds.msgTxn = tx.id
			}
		}
	}
	c.last = int(d)
}

// endMessage closes d's open message.
func (c *Conn) endMessage(d Dir) {
	ds := &c.dirs[d]
	if !ds.open {
		return
	}
	ds.open = false
	m := &ds.msg
	if d == ClientToServer {
		c.stats.MessagesC2S++
	} else {
		c.stats.MessagesS2C++
	}
	if !m.Unknown {
		ds.framed = true
	}
	if c.cfg.OnMessage != nil {
		c.cfg.OnMessage(m)
	}
	tx := c.find(ds.msgTxn)
	if tx != nil {
		tx.turn = c.stats.Turns
	}
	if tx == nil {
		switch {
		case d == ClientToServer && c.phantom && m.Role.Has(NoResponse):
			c.over--
			c.phantom = false
		case d == ClientToServer && c.phantom && m.Role.Has(RequestEnd):
			c.phantom = false
		case d == ServerToClient && ds.ghost && m.Role.Has(Interim):
			c.stats.Responses++
		case d == ServerToClient && ds.ghost && m.Role.Has(ResponseEnd):
			c.stats.Responses++
			c.over--
		}
		return
	}
	if d == ClientToServer {
		tx.RequestLast = m.Last
		tx.RequestBytes += m.Bytes
		tx.RequestSegments += m.Segments
		if m.Segments > 0 && m.FirstPacket == tx.reqIdx {
			tx.RequestSegments--
		}
		tx.reqIdx = m.LastPacket
		tx.RequestMessages++
		if m.Role.Has(RequestEnd) {
			tx.reqDone = true
			if c.accum == tx.id {
				c.accum = 0
			}
		}
		if m.Role.Has(NoResponse) {
			if c.accum == tx.id {
				c.accum = 0
			}
			c.remove(tx.id)
		}
		return
	}
	tx.ResponseLast = m.Last
	tx.ResponseBytes += m.Bytes
	tx.ResponseSegments += m.Segments
	if m.Segments > 0 && m.FirstPacket == tx.respIdx {
		tx.ResponseSegments--
	}
	tx.respIdx = m.LastPacket
	tx.ResponseMessages++
	if m.Role.Has(Error) {
		tx.Error = true
	}
	if m.Status != 0 {
		tx.Status = m.Status
	}
	if m.Role.Has(Interim) {
		c.stats.Responses++
		return
	}
	if m.Role.Has(ResponseEnd) {
		c.complete(tx)
	}
}

// completeStarted completes every transaction whose response has begun.
func (c *Conn) completeStarted() {
	for len(c.q) > 0 && c.q[0].respStarted {
		c.complete(&c.q[0])
	}
}

// complete reports tx and removes it from the queue.
func (c *Conn) complete(tx *txn) {
	c.stats.Responses++
	c.stats.Transactions++
	t := &tx.Transaction
	t.ID = int(c.stats.Transactions)
	t.Proto = c.Protocol()
	if t.ResponseLast.IsZero() {
		t.ResponseLast = t.ResponseFirst
	}
	if t.RequestLast.IsZero() {
		t.RequestLast = t.RequestFirst
	}
	t.ServerTime = t.ResponseFirst.Sub(t.RequestLast).Seconds()
	t.TransferTime = t.ResponseLast.Sub(t.ResponseFirst).Seconds()
	t.Duration = t.ResponseLast.Sub(t.RequestFirst).Seconds()
	t.LastPacket = tx.respIdx
	t.Turns = int(tx.turn-tx.turn0) + 1
	c.stats.ServerTime += t.ServerTime
	c.stats.ServerTimeMax = max(c.stats.ServerTimeMax, t.ServerTime)
	c.stats.TransactionTime += t.Duration
	if c.cfg.OnTransaction != nil {
		c.cfg.OnTransaction(t)
	}
	if c.accum == tx.id {
		c.accum = 0
	}
	c.remove(tx.id)
}

func (c *Conn) find(id uint64) *txn {
	if id == 0 {
		return nil
	}
	for i := range c.q {
		if c.q[i].id == id {
			return &c.q[i]
		}
	}
	return nil
}

func (c *Conn) remove(id uint64) {
	for i := range c.q {
		if c.q[i].id == id {
			copy(c.q[i:], c.q[i+1:])
			c.q = c.q[:len(c.q)-1]
			return
		}
	}
}

// identify decides the protocol from the bytes buffered so far; final
// forces a decision.
func (c *Conn) identify(final bool) {
	if c.state != stIdentify {
		return
	}
	var best Protocol
	bestScore, more := 0.0, false
	total := len(c.dirs[0].buf) + len(c.dirs[1].buf)
	for _, p := range c.reg.Protocols() {
		s := 0.0
		for d := range c.dirs {
			if b := c.dirs[d].buf; len(b) > 0 {
				sc, m := p.Identify(Dir(d), b)
				s = max(s, sc)
				more = more || m
			}
		}
		if s > 0 && c.portMatch(p) {
			s = min(1, s+0.05)
		}
		if s > bestScore {
			best, bestScore = p, s
		}
	}
	if !final && bestScore < 0.8 && more && total < identifyLimit {
		return
	}
	c.state = stDecided
	switch {
	case bestScore >= 0.5:
		c.proto, c.score = best, bestScore
	default:
		for _, p := range c.reg.Protocols() {
			if c.portMatch(p) {
				c.proto, c.score, c.byPort = p, ConfidencePort, true
				break
			}
		}
	}
	if c.proto != nil && !c.byPort {
		c.parser = c.proto.NewParser(c.cfg.maxMessage())
	} else {
		c.dirs[0].mode, c.dirs[1].mode = modeUnknown, modeUnknown
	}
	// Replay the buffered bytes in capture order, segment by segment, as
	// if they arrived now.
	var buf [2][]byte
	var marks [2][]mark
	for d := range c.dirs {
		ds := &c.dirs[d]
		buf[d], marks[d] = ds.buf, ds.marks
		ds.buf, ds.marks = nil, nil
	}
	var i, start [2]int
	for i[0] < len(marks[0]) || i[1] < len(marks[1]) {
		d := 0
		if i[0] == len(marks[0]) || i[1] < len(marks[1]) && marks[1][i[1]].idx < marks[0][i[0]].idx {
			d = 1
		}
		m := marks[d][i[d]]
		if m.end > start[d] {
			c.feed(Dir(d), buf[d][start[d]:m.end], m.t, m.idx, m.psh)
		}
		start[d] = m.end
		i[d]++
	}
}

// toUnknownBuffered turns d's buffered bytes into unknown data.
func (c *Conn) toUnknownBuffered(d Dir) {
	ds := &c.dirs[d]
	start := 0
	for _, m := range ds.marks {
		if m.end > start {
			c.unknown(d, m.end-start, m.t, m.idx, false)
			start = m.end
		}
	}
	ds.buf, ds.marks = ds.buf[:0], ds.marks[:0]
}

func (c *Conn) portMatch(p Protocol) bool {
	for _, port := range p.Ports() {
		if port == c.ports[1] {
			return true
		}
	}
	return false
}

// Close ends the connection's analysis: held segments are delivered after
// gaps, open messages end, responses under way complete and requests
// without a response are counted unanswered. Add must not be called after.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	for d := range c.dirs {
		ds := &c.dirs[d]
		for len(ds.held) > 0 {
			c.skipTo(Dir(d), ds.held[0].seq)
			c.drain(Dir(d))
		}
	}
	c.identify(true)
	for d := range c.dirs {
		ds := &c.dirs[d]
		// Bytes left over: an incomplete frame header, or bytes searched
		// for a boundary in vain.
		c.stats.UnknownBytes += int64(len(ds.buf))
		ds.buf, ds.marks = ds.buf[:0], ds.marks[:0]
		if ds.open {
			if ds.skip > 0 {
				// An incomplete last frame: the message is cut short.
				ds.msg.Role &^= ResponseEnd | RequestEnd
			}
			c.endMessage(Dir(d))
		}
	}
	c.completeStarted()
	c.stats.Unanswered += uint64(len(c.q)) + c.over
	c.q = c.q[:0]
	c.closed = true
}
