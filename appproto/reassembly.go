package appproto

import (
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// Bounds on the bookkeeping of held segments, whatever MaxHeld allows.
const (
	maxHeldSegments = 4096 // held segments per direction
	maxFreeBuffers  = 64   // buffers kept for reuse per direction
)

// streamSink receives what a reassembler delivers for its direction, in
// stream order.
type streamSink interface {
	// data receives in-order captured bytes carried by packet idx at time
	// t; psh is set when they end a segment that had PSH. p is valid only
	// during the call.
	data(d Dir, p []byte, t time.Time, idx uint64, psh bool)
	// gap receives n bytes that are missing: cut by the snap length of
	// packet idx (whose PSH psh reports), or never seen (idx 0).
	gap(d Dir, n int64, t time.Time, idx uint64, psh bool)
}

// heldSegment is an out-of-order segment waiting for the bytes before it.
type heldSegment struct {
	seq  tcpstate.Seq
	wlen int // payload length on the wire
	data []byte
	t    time.Time
	idx  uint64
	psh  bool
}

// reassembler rebuilds one direction's byte stream in sequence order from
// the SYN, or from the first data seen. Retransmitted bytes are dropped;
// out-of-order segments are copied and held, at most maxHeld bytes; a hole
// that is never filled and payload the capture's snap length cut are
// delivered as gaps.
type reassembler struct {
	d       Dir
	maxHeld int
	out     streamSink

	init      bool
	next      tcpstate.Seq // the next byte expected
	held      []heldSegment
	heldBytes int
	free      [][]byte

	bytes    int64  // captured bytes delivered in order
	segments uint64 // segments that delivered some of them
	gaps     uint64
	gapBytes int64
}

// newReassembler returns the reassembler of direction d, which delivers
// to out and holds at most maxHeld out-of-order bytes.
func newReassembler(d Dir, maxHeld int, out streamSink) reassembler {
	return reassembler{d: d, maxHeld: maxHeld, out: out}
}

// add takes one segment of the direction. Its payload is not retained.
func (r *reassembler) add(s *tcpstate.Segment) {
	first := s.Seq
	if s.Flags.Has(tcpstate.SYN) {
		first = first.Add(1)
		if !r.init {
			r.init, r.next = true, first
		}
	}
	// A RST's payload is diagnostic text, not stream data.
	if s.Len <= 0 || s.Flags.Has(tcpstate.RST) {
		return
	}
	if !r.init {
		r.init, r.next = true, first
	}
	wlen := s.Len
	payload := s.Payload
	if len(payload) > wlen {
		payload = payload[:wlen]
	}
	end := first.Add(tcpstate.Size(wlen))
	if end.LessThanEq(r.next) {
		return // all retransmitted
	}
	if first.LessThan(r.next) {
		cut := int(first.Size(r.next))
		wlen -= cut
		payload = payload[min(cut, len(payload)):]
		first = r.next
	}
	psh := s.Flags.Has(tcpstate.PSH)
	if first == r.next {
		r.deliver(payload, wlen, s.Time, s.Index, psh)
		r.drain()
		return
	}
	r.hold(first, payload, wlen, s.Time, s.Index, psh)
}

// deliver passes on in-order bytes: the captured ones, then a gap for
// those the capture cut.
func (r *reassembler) deliver(p []byte, wlen int, t time.Time, idx uint64, psh bool) {
	r.next = r.next.Add(tcpstate.Size(wlen))
	if len(p) > 0 {
		r.bytes += int64(len(p))
		r.segments++
		r.out.data(r.d, p, t, idx, psh && len(p) == wlen)
	}
	if wlen > len(p) {
		r.lose(int64(wlen-len(p)), t, idx, psh)
	}
}

// lose reports n missing bytes.
func (r *reassembler) lose(n int64, t time.Time, idx uint64, psh bool) {
	r.gaps++
	r.gapBytes += n
	r.out.gap(r.d, n, t, idx, psh)
}

// hold keeps an out-of-order segment, declaring gaps when the bound on
// held bytes or segments would be exceeded.
func (r *reassembler) hold(seq tcpstate.Seq, p []byte, wlen int, t time.Time, idx uint64, psh bool) {
	for len(r.held) > 0 && (r.heldBytes+len(p) > r.maxHeld || len(r.held) >= maxHeldSegments) {
		r.skipTo(r.held[0].seq, t)
		r.drain()
	}
	if r.heldBytes+len(p) > r.maxHeld {
		// Alone it is too big to hold: give up on the bytes before it.
		r.skipTo(seq, t)
		r.deliver(p, wlen, t, idx, psh)
		r.drain()
		return
	}
	var buf []byte
	if n := len(r.free); n > 0 {
		buf, r.free = r.free[n-1][:0], r.free[:n-1]
	}
	h := heldSegment{seq: seq, wlen: wlen, data: append(buf, p...), t: t, idx: idx, psh: psh}
	i := len(r.held)
	for i > 0 && seq.LessThan(r.held[i-1].seq) {
		i--
	}
	r.held = append(r.held, heldSegment{})
	copy(r.held[i+1:], r.held[i:])
	r.held[i] = h
	r.heldBytes += len(p)
}

// skipTo declares the bytes from the next expected one up to seq lost, at
// time t.
func (r *reassembler) skipTo(seq tcpstate.Seq, t time.Time) {
	if !r.next.LessThan(seq) {
		return
	}
	n := int64(r.next.Size(seq))
	r.next = seq
	r.lose(n, t, 0, false)
}

// drain delivers held segments that have become in order.
func (r *reassembler) drain() {
	for len(r.held) > 0 {
		h := r.held[0]
		if r.next.LessThan(h.seq) {
			return
		}
		copy(r.held, r.held[1:])
		r.held = r.held[:len(r.held)-1]
		r.heldBytes -= len(h.data)
		end := h.seq.Add(tcpstate.Size(h.wlen))
		if r.next.LessThan(end) {
			cut := int(h.seq.Size(r.next))
			r.deliver(h.data[min(cut, len(h.data)):], h.wlen-cut, h.t, h.idx, h.psh)
		}
		if len(r.free) < maxFreeBuffers {
			r.free = append(r.free, h.data)
		}
	}
}

// acked tells the reassembler that the receiver acknowledged every byte
// of the direction before ack: a hole below ack was received but not
// captured ("previous segment not captured" that the ACK proves lost to
// the capture), so waiting for it is pointless; the held segments it kept
// waiting are delivered after a gap now, dated by the first of them, not
// once MaxHeld bytes have piled up behind it. An ACK more than 2^30 bytes
// ahead is ignored.
func (r *reassembler) acked(ack tcpstate.Seq) {
	if !r.init || len(r.held) == 0 || !r.next.LessThan(ack) || r.next.Size(ack) > 1<<30 {
		return
	}
	for len(r.held) > 0 && r.held[0].seq.LessThanEq(ack) {
		r.skipTo(r.held[0].seq, r.held[0].t)
		r.drain()
	}
}

// flush delivers every held segment, each after a gap for the bytes
// missing before it, as of time t (the connection's last packet).
func (r *reassembler) flush(t time.Time) {
	for len(r.held) > 0 {
		r.skipTo(r.held[0].seq, t)
		r.drain()
	}
}
