package flowtest

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// Builder scripts the segments of one TCP connection and writes them as a
// pcap capture (nanosecond timestamps, LINKTYPE_RAW, IPv4 or IPv6), for
// tests that need exact sequences: handshakes, data, ACKs, losses,
// retransmissions, options (MSS, window scale, SACK, timestamps).
//
// Each side keeps its next sequence number (SND.NXT) and the ACK it sends
// (the other side's SND.NXT as far as it has "received"), so the common
// cases need no arithmetic: Handshake, Send, Ack. Packet gives full
// control for anything else. Times advance only with Advance or Step.
type Builder struct {
	// Client and Server are the endpoints; both must be IPv4 or both IPv6.
	Client, Server netip.AddrPort
	// Step is added to the clock after every packet (zero by default).
	Step time.Duration
	// Snaplen, if positive, cuts every packet's captured bytes to it.
	Snaplen int

	now  time.Time
	side [2]side
	recs []rec
}

type side struct {
	isn, nxt uint32
	ack      uint32 // what this side acknowledges next
	acking   bool
	window   uint16
}

type rec struct {
	t    time.Time
	data []byte
	wire int
}

// Seg describes one segment for Builder.Packet. Zero fields take the
// sending side's current values: Seq its SND.NXT, Ack what it has
// received, Window its window; Flags zero means ACK (with PSH if there
// is payload).
type Seg struct {
	Flags  tcpstate.Flags
	Seq    uint32
	Ack    uint32
	Len    int
	Window uint16
	// Opts are the TCP options, encoded with the Opt functions; they are
	// padded to a multiple of 4 bytes.
	Opts []byte
	// SetSeq, SetAck and SetWindow mark Seq, Ack and Window as given even
	// when zero.
	SetSeq, SetAck, SetWindow bool
}

// NewBuilder returns a builder for a connection from client to server
// whose first packet is at start. The client's ISN is 1000, the server's
// 5000; both windows are 65535.
func NewBuilder(client, server netip.AddrPort, start time.Time) *Builder {
	b := &Builder{Client: client, Server: server, now: start}
	b.side[0] = side{isn: 1000, nxt: 1000, window: 65535}
	b.side[1] = side{isn: 5000, nxt: 5000, window: 65535}
	return b
}

// Now returns the builder's clock.
func (b *Builder) Now() time.Time { return b.now }

// Advance moves the clock forward by d.
func (b *Builder) Advance(d time.Duration) { b.now = b.now.Add(d) }

// SetISN sets side d's initial sequence number (before Handshake), for
// sequence-wrap tests.
func (b *Builder) SetISN(d tcpstate.Dir, isn uint32) {
	b.side[d].isn, b.side[d].nxt = isn, isn
}

// SetWindow sets the window side d advertises from now on.
func (b *Builder) SetWindow(d tcpstate.Dir, w uint16) { b.side[d].window = w }

// Nxt returns side d's next sequence number (SND.NXT).
func (b *Builder) Nxt(d tcpstate.Dir) uint32 { return b.side[d].nxt }

// Handshake writes SYN, SYN/ACK and ACK, the SYN/ACK rtt1 after the SYN
// and the ACK rtt2 after the SYN/ACK. synOpts and synAckOpts are the
// options of the SYN and SYN/ACK.
func (b *Builder) Handshake(rtt1, rtt2 time.Duration, synOpts, synAckOpts []byte) {
	b.Packet(tcpstate.ClientToServer, Seg{Flags: tcpstate.SYN, Opts: synOpts})
	b.Advance(rtt1)
	b.Packet(tcpstate.ServerToClient, Seg{Flags: tcpstate.SYN | tcpstate.ACK, Opts: synAckOpts})
	b.Advance(rtt2)
	b.Packet(tcpstate.ClientToServer, Seg{})
}

// Send writes a segment of n payload bytes from side d at its SND.NXT and
// returns its sequence number. The receiver is deemed to have received
// it: its next ACK covers it.
func (b *Builder) Send(d tcpstate.Dir, n int, opts []byte) uint32 {
	seq := b.side[d].nxt
	b.Packet(d, Seg{Len: n, Opts: opts})
	return seq
}

// Lose advances side d's SND.NXT by n bytes without writing a packet: a
// segment the capture never saw. The receiver still ACKs it unless
// Packet is told otherwise.
func (b *Builder) Lose(d tcpstate.Dir, n int) {
	b.side[d].nxt += uint32(n)
	r := &b.side[d.Reverse()]
	if r.acking {
		r.ack = b.side[d].nxt
	}
}

// Ack writes a pure ACK from side d acknowledging all it has received.
func (b *Builder) Ack(d tcpstate.Dir, opts []byte) { b.Packet(d, Seg{Opts: opts}) }

// Packet writes one segment from side d and updates the sides' state: the
// sender's SND.NXT moves to the segment's end if beyond it, and the
// receiver will ACK up to there.
func (b *Builder) Packet(d tcpstate.Dir, s Seg) {
	me, peer := &b.side[d], &b.side[d.Reverse()]
	if s.Flags == 0 {
		s.Flags = tcpstate.ACK
		if s.Len > 0 {
			s.Flags |= tcpstate.PSH
		}
	}
	if !s.SetSeq && s.Seq == 0 {
		s.Seq = me.nxt
	}
	if !s.SetAck && s.Ack == 0 && s.Flags.Has(tcpstate.ACK) {
		s.Ack = me.ack
	}
	if !s.SetWindow && s.Window == 0 {
		s.Window = me.window
	}
	end := s.Seq + uint32(s.Len)
	if s.Flags.Has(tcpstate.SYN) {
		end++
	}
	if s.Flags.Has(tcpstate.FIN) {
		end++
	}
	if int32(end-me.nxt) > 0 {
		me.nxt = end
	}
	if s.Flags.Has(tcpstate.SYN) && !peer.acking {
		peer.acking, peer.ack = true, me.nxt
	}
	if peer.acking && int32(me.nxt-peer.ack) > 0 {
		peer.ack = me.nxt
	}
	src, dst := b.Client, b.Server
	if d == tcpstate.ServerToClient {
		src, dst = dst, src
	}
	pkt := encode(src, dst, &s)
	wire := len(pkt)
	if b.Snaplen > 0 && len(pkt) > b.Snaplen {
		pkt = pkt[:b.Snaplen]
	}
	b.recs = append(b.recs, rec{t: b.now, data: pkt, wire: wire})
	b.now = b.now.Add(b.Step)
}

// Len returns the number of packets written so far.
func (b *Builder) Len() int { return len(b.recs) }

// Bytes returns the capture: a pcap file with nanosecond timestamps.
func (b *Builder) Bytes() []byte {
	out := make([]byte, 24, 24+len(b.recs)*80)
	le := binary.LittleEndian
	le.PutUint32(out[0:], 0xa1b23c4d) // nanosecond pcap
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 262144)
	le.PutUint32(out[20:], 101) // LINKTYPE_RAW
	for _, r := range b.recs {
		var h [16]byte
		ns := r.t.UnixNano()
		le.PutUint32(h[0:], uint32(ns/1e9))
		le.PutUint32(h[4:], uint32(ns%1e9))
		le.PutUint32(h[8:], uint32(len(r.data)))
		le.PutUint32(h[12:], uint32(r.wire))
		out = append(out, h[:]...)
		out = append(out, r.data...)
	}
	return out
}

// encode builds the IP packet of segment s (payload bytes are 'x').
func encode(src, dst netip.AddrPort, s *Seg) []byte {
	payload := make([]byte, s.Len)
	for i := range payload {
		payload[i] = 'x'
	}
	return AppendIP(nil, &TCP{Src: src, Dst: dst, Seq: s.Seq, Ack: s.Ack, Flags: uint8(s.Flags),
		Window: s.Window, Opts: s.Opts, Payload: payload})
}

// OptMSS encodes an MSS option (kind 2).
func OptMSS(mss uint16) []byte { return []byte{2, 4, byte(mss >> 8), byte(mss)} }

// OptWScale encodes a window scale option (kind 3), preceded by a NOP.
func OptWScale(shift uint8) []byte { return []byte{1, 3, 3, shift} }

// OptSACKPerm encodes SACK-permitted (kind 4), preceded by two NOPs.
func OptSACKPerm() []byte { return []byte{1, 1, 4, 2} }

// OptTS encodes a timestamps option (kind 8), preceded by two NOPs.
func OptTS(val, ecr uint32) []byte {
	b := []byte{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], val)
	binary.BigEndian.PutUint32(b[8:], ecr)
	return b
}

// OptSACK encodes a SACK option (kind 5) with the given [left, right)
// blocks, preceded by two NOPs.
func OptSACK(blocks ...[2]uint32) []byte {
	b := []byte{1, 1, 5, byte(2 + 8*len(blocks))}
	for _, bl := range blocks {
		b = binary.BigEndian.AppendUint32(b, bl[0])
		b = binary.BigEndian.AppendUint32(b, bl[1])
	}
	return b
}

// Opts concatenates encoded options.
func Opts(o ...[]byte) []byte {
	var b []byte
	for _, x := range o {
		b = append(b, x...)
	}
	return b
}
