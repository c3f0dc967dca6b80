package appproto

import (
	"errors"
	"fmt"
	"time"
)

// errHeaderTooLong is the framing error of a parser that kept asking for
// more bytes beyond Config.MaxHeader.
var errHeaderTooLong = errors.New("frame header exceeds the header size limit")

// resyncTail is how many bytes searched in vain for a frame boundary are
// kept: they may hold the start of a header.
const resyncTail = 64

// Framing modes of a direction.
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

// messageSink receives the messages framing finds. The Message is reused:
// valid only during the call.
type messageSink interface {
	// started receives a message whose first byte has arrived (its Dir,
	// Kind, Verb, Role, Status, Unknown, First and FirstPacket are set).
	started(m *Message)
	// ended receives the message when it ends, complete.
	ended(m *Message)
	// lostBytes receives n bytes of d lost in a gap outside any message
	// (at a frame boundary, or while the framing is lost), dated t (the
	// first captured byte after them, or when the gap was given up on).
	lostBytes(d Dir, n int64, t time.Time)
}

// framer is one direction's framing state.
type framer struct {
	mode  int
	buf   []byte // bytes waiting for a frame boundary
	marks []mark // the segments of buf
	one   [1]mark
	skip  int64 // bytes of the current frame still to come
	fEnd  bool  // the frame being skipped ends its message
	fUnfr bool  // ... and unframes the connection
	toEnd bool  // ... and runs to the end of the connection (LenToEnd)
	open  bool
	// held is set when the open message's frames are done and its end is
	// deferred, to join the plain responses that follow (coalesce).
	held bool
	msg  Message
	// query, host and path hold the open message's text.
	query, host, path textBuf
	// framed is set once the protocol has framed a message.
	framed bool
}

// framing cuts the two in-order byte streams of a connection into
// messages, with the connection's Parser, and reports them to out. Bytes
// the parser cannot frame, and every byte of a connection without a
// parser, are unknown data, cut into messages at PSH and at a change of
// direction.
type framing struct {
	parser    Parser // nil: the connection's data is not framed
	proto     string // the protocol's name, for framing errors
	maxHeader int
	dirs      [2]framer
	out       messageSink
	// coalesce reports a run of plain responses (Role Response alone, no
	// status: PostgreSQL DataRows, MySQL rows, TLS records) that no
	// message of the other direction starting or ending interrupts (see
	// lastEvent) to pairing as one message
	// of their summed bytes and segments, counted as many: what pairing
	// makes of them is the same, for a fraction of the work.
	// It is set when no MessageHandler wants each message and the parser
	// counts no figures per message (statsAdder); canCoalesce is the
	// former.
	coalesce, canCoalesce bool
	run                   runner // the parser's, when it is one and coalesce is set
	lastEvent             Dir    // the direction of the last message started or ended

	messages      [2]uint64
	msgSegments   [2]uint64 // segments of the framed messages, summed
	unknownBytes  int64
	resyncs       uint64
	framingErrors uint64
	framingError  string
}

// buffer keeps bytes that arrive before the protocol is decided.
func (fr *framing) buffer(d Dir, p []byte, t time.Time, idx uint64, psh bool) {
	ds := &fr.dirs[d]
	ds.appendBuf(p, t, idx)
	ds.marks[len(ds.marks)-1].psh = psh
}

// pending returns the bytes buffered in each direction.
func (fr *framing) pending() [2][]byte { return [2][]byte{fr.dirs[0].buf, fr.dirs[1].buf} }

// begin starts framing with parser p (nil: unknown data) of the protocol
// named proto, and frames the bytes buffered so far in capture order,
// segment by segment, as if they arrived now.
func (fr *framing) begin(p Parser, proto string) {
	fr.parser, fr.proto = p, proto
	_, stats := p.(statsAdder)
	fr.coalesce = fr.canCoalesce && !stats
	if r, ok := p.(runner); ok && fr.coalesce {
		fr.run = r
	}
	if p == nil {
		fr.dirs[0].mode, fr.dirs[1].mode = modeUnknown, modeUnknown
	}
	var buf [2][]byte
	var marks [2][]mark
	for d := range fr.dirs {
		ds := &fr.dirs[d]
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
			fr.feed(Dir(d), buf[d][start[d]:m.end], m.t, m.idx, m.psh)
		}
		start[d] = m.end
		i[d]++
	}
}

// confirmed reports whether both directions framed messages without error.
func (fr *framing) confirmed() bool {
	return fr.dirs[0].framed && fr.dirs[1].framed && fr.framingErrors == 0
}

// feed frames in-order bytes of direction d.
func (fr *framing) feed(d Dir, data []byte, t time.Time, idx uint64, psh bool) {
	ds := &fr.dirs[d]
	switch ds.mode {
	case modeUnknown:
		fr.unknown(d, len(data), t, idx, psh)
		return
	case modeLost:
		ds.appendBuf(data, t, idx)
		fr.resync(d)
		return
	}
	if ds.skip > 0 {
		n := min(int64(len(data)), ds.skip)
		fr.account(d, n, t, idx)
		ds.skip -= n
		data = data[n:]
		if ds.skip == 0 {
			fr.frameDone(d)
		}
		if len(data) == 0 {
			return
		}
	}
	if ds.mode != modeFramed {
		fr.feed(d, data, t, idx, psh)
		return
	}
	if len(ds.buf) == 0 {
		// Nothing buffered: frame the bytes in place.
		ds.one[0] = mark{end: len(data), t: t, idx: idx}
		n := fr.split(d, data, ds.one[:])
		if n < len(data) {
			ds.appendBuf(data[n:], t, idx)
		}
		return
	}
	ds.appendBuf(data, t, idx)
	fr.process(d)
}

// process frames the buffered bytes of direction d.
func (fr *framing) process(d Dir) {
	ds := &fr.dirs[d]
	if len(ds.buf) == 0 {
		return
	}
	n := fr.split(d, ds.buf, ds.marks)
	ds.consume(n)
}

// appendBuf buffers bytes that arrived at time t in packet idx.
func (ds *framer) appendBuf(p []byte, t time.Time, idx uint64) {
	ds.buf = append(ds.buf, p...)
	if n := len(ds.marks); n > 0 && ds.marks[n-1].idx == idx {
		ds.marks[n-1].end = len(ds.buf)
		return
	}
	ds.marks = append(ds.marks, mark{end: len(ds.buf), t: t, idx: idx})
}

// consume drops the first n buffered bytes.
func (ds *framer) consume(n int) {
	if n <= 0 {
		return
	}
	if n >= len(ds.buf) {
		ds.reset()
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

// reset empties the buffer.
func (ds *framer) reset() { ds.buf, ds.marks = ds.buf[:0], ds.marks[:0] }

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
func (fr *framing) accountRange(d Dir, marks []mark, a, b int) {
	start := 0
	for _, m := range marks {
		lo, hi := max(a, start), min(b, m.end)
		if lo < hi {
			fr.account(d, int64(hi-lo), m.t, m.idx)
		}
		start = m.end
		if start >= b {
			break
		}
	}
}

// account adds n bytes carried by packet idx at time t to d's open
// message; idx 0 (bytes lost in a gap) adds bytes only.
func (fr *framing) account(d Dir, n int64, t time.Time, idx uint64) {
	m := &fr.dirs[d].msg
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
func (fr *framing) split(d Dir, win []byte, marks []mark) int {
	ds := &fr.dirs[d]
	off := 0
	for off < len(win) && ds.mode == modeFramed {
		if ds.held && fr.run != nil && fr.lastEvent == d {
			// Plain responses after a plain response: account them to
			// the held message at once.
			if n, k := fr.run.run(d, win[off:]); k > 0 {
				fr.accountRange(d, marks, off, off+n)
				ds.msg.merged += k
				if off += n; off == len(win) {
					break
				}
			}
		}
		f, err := fr.parser.Split(d, win[off:])
		if err == nil && f.Len <= 0 && len(win)-off > fr.maxHeader {
			err = errHeaderTooLong
		}
		if err != nil {
			off = fr.recover(d, win, off, err)
			continue
		}
		if f.Len <= 0 {
			return off // more bytes needed
		}
		off = fr.take(d, &f, win, marks, off)
	}
	if ds.mode == modeUnknown && off < len(win) {
		// The rest of the window is unknown data, segment by segment.
		for _, m := range marks {
			if m.end > off {
				fr.unknown(d, m.end-off, m.t, m.idx, false)
				off = m.end
			}
		}
		off = len(win)
	}
	return off
}

// recover handles a framing error at offset off of win: it returns the
// offset where framing goes on (a boundary found again), or where it
// stopped: the direction is then unknown, or lost, keeping a tail of win
// that may hold the start of a header.
func (fr *framing) recover(d Dir, win []byte, off int, err error) int {
	fr.fail(d, err)
	r, ok := fr.parser.(Resyncer)
	if !ok {
		return off
	}
	// Look for the next boundary past the failed one.
	if i := r.Resync(d, win[off+1:]); i >= 0 {
		fr.unknownBytes += int64(1 + i)
		fr.resyncs++
		fr.dirs[d].mode = modeFramed
		return off + 1 + i
	}
	fr.dirs[d].mode = modeLost
	keep := min(resyncTail, len(win)-off-1)
	fr.unknownBytes += int64(len(win) - off - keep)
	return len(win) - keep
}

// take accounts for frame f found at offset off of win and returns the
// offset after it; a frame longer than the window is skipped as the rest
// arrives.
func (fr *framing) take(d Dir, f *Frame, win []byte, marks []mark, off int) int {
	ds := &fr.dirs[d]
	switch {
	case ds.held && f.Start && plainFrame(f) && fr.lastEvent == d:
		// A plain response after another: one message to pairing.
		ds.held = false
		ds.msg.merged++
	case f.Start || !ds.open || ds.held:
		m := at(marks, off)
		if ds.open {
			fr.endMessage(d)
		}
		if !f.Start {
			f.Kind, f.Role = "continuation", 0
		}
		fr.startMessage(d, f, m.t, m.idx, false)
	}
	if f.Text != nil {
		ds.takeText(f.Text)
	}
	ds.fEnd, ds.fUnfr, ds.toEnd = f.End, f.Unframe, f.Len >= LenToEnd
	if avail := int64(len(win) - off); f.Len > avail {
		fr.accountRange(d, marks, off, len(win))
		ds.skip = f.Len - avail
		return len(win)
	}
	fr.accountRange(d, marks, off, off+int(f.Len))
	fr.frameDone(d)
	return off + int(f.Len)
}

// takeText copies the text f a frame carries into the open message,
// unless an earlier frame of the message set it.
func (ds *framer) takeText(f *FrameText) {
	m := &ds.msg
	cut := false
	if len(f.Query) > 0 && m.Query == nil {
		cut = ds.query.set(f.Query) || f.QueryCut
		m.Query = ds.query.text()
	}
	if len(f.Host) > 0 && m.Host == nil {
		cut = ds.host.set(f.Host) || cut
		m.Host = ds.host.text()
	}
	if len(f.Path) > 0 && m.Path == nil {
		cut = ds.path.set(f.Path) || cut
		m.Path = ds.path.text()
	}
	m.TextTruncated = m.TextTruncated || cut
}

// plainFrame reports whether f starts a plain response, which may join
// the plain responses before it (coalesce).
func plainFrame(f *Frame) bool {
	return f.Role == Response && f.Status == 0 && !f.Unframe && f.Text == nil
}

// frameDone ends the frame just consumed.
func (fr *framing) frameDone(d Dir) {
	ds := &fr.dirs[d]
	if ds.fEnd {
		ds.fEnd = false
		if m := &ds.msg; fr.coalesce && m.Role == Response && m.Status == 0 && !m.Unknown {
			ds.held = true // ended, unless a plain response follows
		} else {
			fr.endMessage(d)
		}
	}
	if ds.fUnfr {
		ds.fUnfr = false
		for e := range fr.dirs {
			// d's own buffered bytes are the caller's window: split
			// counts what is left of them.
			fr.toUnknown(Dir(e), Dir(e) != d)
		}
	}
}

// toUnknown turns direction d to unknown framing; with flush, its
// buffered bytes become unknown data.
func (fr *framing) toUnknown(d Dir, flush bool) {
	ds := &fr.dirs[d]
	if ds.mode == modeUnknown {
		return
	}
	fr.endMessage(d)
	ds.mode, ds.skip = modeUnknown, 0
	if !flush {
		return
	}
	start := 0
	for _, m := range ds.marks {
		if m.end > start {
			fr.unknown(d, m.end-start, m.t, m.idx, false)
			start = m.end
		}
	}
	ds.reset()
}

// fail records a parser failure; the rest of d is unknown.
func (fr *framing) fail(d Dir, err error) {
	fr.framingErrors++
	if fr.framingError == "" {
		fr.framingError = fmt.Sprintf("%s %s: %v", fr.proto, d, err)
	}
	fr.endMessage(d)
	ds := &fr.dirs[d]
	ds.mode, ds.skip = modeUnknown, 0
}

// runner is implemented by parsers that can step over whole plain
// responses (see framing.coalesce) at the start of b without framing
// each: run returns the bytes and the number of those messages, as Split
// would have framed them one by one.
type runner interface {
	run(d Dir, b []byte) (n, count int)
}

// noWaiter is implemented by parsers that wait for more of a request
// than its header to see its text (see textWindow): with setNoWait(true)
// they frame what they are given, as no more bytes will come.
type noWaiter interface {
	setNoWait(bool)
}

// splitNow frames the bytes buffered in d without waiting for more, when
// the parser waits for text: a gap or the end of the stream follows.
func (fr *framing) splitNow(d Dir) {
	ds := &fr.dirs[d]
	w, ok := fr.parser.(noWaiter)
	if !ok || ds.mode != modeFramed || len(ds.buf) == 0 {
		return
	}
	w.setNoWait(true)
	fr.process(d)
	w.setNoWait(false)
}

// gap tells framing that n bytes of d are missing (idx and psh: the
// packet that carried the gap's end, if any).
func (fr *framing) gap(d Dir, n int64, t time.Time, idx uint64, psh bool) {
	ds := &fr.dirs[d]
	fr.splitNow(d)
	if ds.held {
		fr.endMessage(d) // it ended before the gap
	}
	// outside: the gap's bytes belong to no message under way; they go
	// to pairing as lost unless a message whose header the gap cut takes
	// them (lose)
	outside := !ds.open
	if ds.open {
		// The message under way misses the gap's bytes.
		ds.msg.Incomplete = true
		ds.msg.MissingBytes += n
	}
	switch {
	case ds.mode == modeUnknown:
		if ds.open {
			fr.account(d, n, t, idx)
			if psh {
				fr.endMessage(d)
			}
		}
	case ds.mode == modeLost:
		fr.unknownBytes += int64(len(ds.buf))
		ds.reset()
	case ds.skip >= n:
		// The gap lies inside the current frame.
		fr.account(d, n, t, idx)
		ds.skip -= n
		if ds.skip == 0 {
			fr.frameDone(d)
		}
	default:
		if fr.lose(d, n, t, outside) {
			return
		}
	}
	if outside {
		fr.out.lostBytes(d, n, t)
	}
}

// lose handles a gap of n bytes that reaches past the current frame: the
// next boundary is lost. It reports whether a message whose header the
// gap cut took the bytes (missing from it when charge is set: no message
// under way had them).
func (fr *framing) lose(d Dir, n int64, t time.Time, charge bool) (taken bool) {
	ds := &fr.dirs[d]
	fr.endMessage(d)
	ds.skip, ds.fEnd, ds.fUnfr = 0, false, false
	if tr, ok := fr.parser.(Truncator); ok && len(ds.buf) > 0 {
		// The gap cut a frame header: a parser that recognises its start
		// still counts the message.
		if f, ok := tr.SplitTruncated(d, ds.buf); ok {
			m := ds.marks[0]
			fr.startMessage(d, &f, m.t, m.idx, false)
			if f.Text != nil {
				ds.takeText(f.Text)
			}
			fr.accountRange(d, ds.marks, 0, len(ds.buf))
			fr.account(d, n, t, 0)
			if charge {
				ds.msg.Incomplete = true
				ds.msg.MissingBytes += n
			}
			fr.endMessage(d)
			ds.reset()
			taken = true
		}
	}
	fr.unknownBytes += int64(len(ds.buf))
	ds.reset()
	if _, ok := fr.parser.(Resyncer); ok {
		ds.mode = modeLost
		return taken
	}
	ds.mode = modeUnknown
	return taken
}

// resync looks for a frame boundary in the bytes buffered after a gap.
func (fr *framing) resync(d Dir) {
	ds := &fr.dirs[d]
	i := fr.parser.(Resyncer).Resync(d, ds.buf)
	if i < 0 {
		// Keep a tail that may hold the start of a header.
		if len(ds.buf) > resyncTail {
			fr.unknownBytes += int64(len(ds.buf) - resyncTail)
			ds.consume(len(ds.buf) - resyncTail)
		}
		return
	}
	fr.unknownBytes += int64(i)
	ds.consume(i)
	fr.resyncs++
	ds.mode = modeFramed
	fr.process(d)
}

// unknown adds n bytes of unframed data to direction d: a message runs
// until PSH or data in the other direction.
func (fr *framing) unknown(d Dir, n int, t time.Time, idx uint64, psh bool) {
	fr.unknownBytes += int64(n)
	if o := &fr.dirs[d.Reverse()]; o.mode == modeUnknown {
		fr.endMessage(d.Reverse())
	}
	if !fr.dirs[d].open {
		f := Frame{Kind: "data"}
		if fr.parser == nil {
			// Unframed from the start: each run is a request or a
			// response, turn by turn.
			if d == ClientToServer {
				f.Role = Request | EndsPrevious
			} else {
				f.Role = Response
			}
		}
		fr.startMessage(d, &f, t, idx, true)
	}
	fr.account(d, int64(n), t, idx)
	if psh {
		fr.endMessage(d)
	}
}

// startMessage opens a message in d whose first byte came at t in idx.
func (fr *framing) startMessage(d Dir, f *Frame, t time.Time, idx uint64, unknown bool) {
	if fr.dirs[d.Reverse()].held {
		fr.endMessage(d.Reverse()) // pairing sees messages end before the next starts
	}
	fr.lastEvent = d
	ds := &fr.dirs[d]
	ds.open = true
	m := &ds.msg
	*m = Message{}
	m.Dir, m.Kind, m.Verb, m.Role, m.Status, m.Unknown = d, f.Kind, f.Verb, f.Role, f.Status, unknown
	m.First, m.Last, m.FirstPacket = t, t, idx
	fr.out.started(m)
}

// endMessage closes d's open message, if any.
func (fr *framing) endMessage(d Dir) {
	ds := &fr.dirs[d]
	if !ds.open {
		return
	}
	ds.open, ds.held = false, false
	fr.lastEvent = d
	fr.messages[d] += 1 + uint64(ds.msg.merged)
	if !ds.msg.Unknown {
		ds.framed = true
		fr.msgSegments[d] += uint64(ds.msg.Segments)
	}
	fr.out.ended(&ds.msg)
}

// close ends framing: bytes left over (an incomplete frame header, or
// bytes searched for a boundary in vain) are unknown, open messages end.
// fin tells which directions' FIN the capture holds.
func (fr *framing) close(fin [2]bool) {
	for d := range fr.dirs {
		ds := &fr.dirs[d]
		fr.splitNow(Dir(d))
		fr.unknownBytes += int64(len(ds.buf))
		ds.reset()
		if ds.open && !ds.held && ds.mode != modeUnknown && !(ds.toEnd && fin[d]) {
			// A framed message still open lacks the rest of its last
			// frame, or frames: the end of the capture cut it short.
			ds.msg.Role &^= ResponseEnd | RequestEnd
			ds.msg.Incomplete = true
			if !ds.toEnd {
				ds.msg.MissingBytes += ds.skip
			}
		}
		fr.endMessage(Dir(d))
	}
}
