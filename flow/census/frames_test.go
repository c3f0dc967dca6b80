package census

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/netecology/netecology/flow"
)

// capture builds an Ethernet pcap (LINKTYPE_ETHERNET, microsecond
// timestamps) frame by frame, remembering what each frame's link layer
// was, as flow.PacketInfo would show it with the fields linkInfo
// describes.
type capture struct {
	t0   time.Time
	recs []frameRec
}

type frameRec struct {
	at    time.Duration
	frame []byte
	link  linkInfo
}

var (
	macA     = [6]byte{0x02, 0, 0, 0, 0, 0x0a}
	macB     = [6]byte{0x02, 0, 0, 0, 0, 0x0b}
	macBcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// macFor returns the Ethernet destination of an IP packet to dst: the
// broadcast address for limited and subnet broadcasts, the RFC 1112 /
// RFC 2464 multicast mapping for groups, macB otherwise.
func macFor(dst netip.Addr, bcast bool) [6]byte {
	switch {
	case bcast:
		return macBcast
	case dst.Is4() && dst.IsMulticast():
		a := dst.As4()
		return [6]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}
	case dst.Is6() && dst.IsMulticast():
		a := dst.As16()
		return [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]}
	}
	return macB
}

// add appends an Ethernet frame at offset at from the capture's start.
func (c *capture) add(at time.Duration, dst [6]byte, etype uint16, payload []byte) {
	f := make([]byte, 14, 14+len(payload))
	copy(f, dst[:])
	copy(f[6:], macA[:])
	binary.BigEndian.PutUint16(f[12:], etype)
	f = append(f, payload...)
	li := linkInfo{known: true, etherType: etype, cast: linkUnicast}
	switch {
	case dst == macBcast:
		li.cast = linkBroadcast
	case dst[0]&1 == 1:
		li.cast = linkMulticast
	}
	if etype <= 1500 {
		li.etherType = 0
	}
	c.recs = append(c.recs, frameRec{at: at, frame: f, link: li})
}

// ip appends an IP packet (IPv4 or IPv6 by the addresses) in an Ethernet
// frame addressed by macFor.
func (c *capture) ip(at time.Duration, src, dst netip.Addr, proto uint8, l4 []byte, bcast bool) {
	if src.Is4() {
		c.add(at, macFor(dst, bcast), 0x0800, ipv4(src, dst, proto, l4))
		return
	}
	c.add(at, macFor(dst, bcast), 0x86dd, ipv6(src, dst, proto, l4))
}

// linkOf returns the link-layer facts of the frame p came from.
func (c *capture) linkOf(p *flow.PacketInfo) linkInfo {
	if p.Index < 1 || int(p.Index) > len(c.recs) {
		return linkInfo{}
	}
	return c.recs[p.Index-1].link
}

// bytes returns the pcap file, frames in time order (linkOf then follows
// that order).
func (c *capture) bytes() []byte {
	slices.SortStableFunc(c.recs, func(a, b frameRec) int { return cmp.Compare(a.at, b.at) })
	le := binary.LittleEndian
	out := make([]byte, 24)
	le.PutUint32(out[0:], 0xa1b2c3d4)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 65535)
	le.PutUint32(out[20:], 1) // LINKTYPE_ETHERNET
	for _, r := range c.recs {
		t := c.t0.Add(r.at)
		var h [16]byte
		le.PutUint32(h[0:], uint32(t.Unix()))
		le.PutUint32(h[4:], uint32(t.Nanosecond()/1000))
		le.PutUint32(h[8:], uint32(len(r.frame)))
		le.PutUint32(h[12:], uint32(len(r.frame)))
		out = append(out, h[:]...)
		out = append(out, r.frame...)
	}
	return out
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func ipv4(src, dst netip.Addr, proto uint8, l4 []byte) []byte {
	h := make([]byte, 20, 20+len(l4))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], checksum(h))
	return append(h, l4...)
}

func ipv6(src, dst netip.Addr, proto uint8, l4 []byte) []byte {
	h := make([]byte, 40, 40+len(l4))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
	h[6] = proto
	h[7] = 255
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, l4...)
}

func udp(sp, dp uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sp)
	binary.BigEndian.PutUint16(b[2:], dp)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// icmpEcho is an ICMP (types 8, 0) or ICMPv6 (128, 129) echo message.
func icmpEcho(typ uint8, id, seq uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// TCP flags.
const (
	fFIN = 0x01
	fSYN = 0x02
	fPSH = 0x08
	fACK = 0x10
)

// tcpConn scripts one TCP connection without options: 54-byte frames
// plus payload over IPv4 and Ethernet.
type tcpConn struct {
	c         *capture
	cli, srv  netip.AddrPort
	nxt, rnxt uint32 // client's and server's next sequence numbers
}

func (c *capture) tcp(cli, srv netip.AddrPort) *tcpConn {
	return &tcpConn{c: c, cli: cli, srv: srv, nxt: 1000, rnxt: 5000}
}

func (t *tcpConn) seg(at time.Duration, fromClient bool, flags uint8, payload []byte) {
	src, dst := t.cli, t.srv
	seq, ack := &t.nxt, t.rnxt
	if !fromClient {
		src, dst = t.srv, t.cli
		seq, ack = &t.rnxt, t.nxt
	}
	b := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint32(b[4:], *seq)
	if flags&fACK != 0 {
		binary.BigEndian.PutUint32(b[8:], ack)
	}
	b[12] = 5 << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 65535)
	b = append(b, payload...)
	*seq += uint32(len(payload))
	if flags&(fSYN|fFIN) != 0 {
		*seq++
	}
	t.c.ip(at, src.Addr(), dst.Addr(), 6, b, false)
}

// handshake writes SYN, SYN/ACK, ACK 1 ms apart from at.
func (t *tcpConn) handshake(at time.Duration) {
	t.seg(at, true, fSYN, nil)
	t.seg(at+time.Millisecond, false, fSYN|fACK, nil)
	t.seg(at+2*time.Millisecond, true, fACK, nil)
}

// send writes payload from one side in segments of at most mss bytes,
// each acknowledged by the other side 1 ms later, 2 ms apart from at; it
// returns the time after the last ACK.
func (t *tcpConn) send(at time.Duration, fromClient bool, payload []byte, mss int) time.Duration {
	for len(payload) > 0 {
		n := min(mss, len(payload))
		t.seg(at, fromClient, fACK|fPSH, payload[:n])
		t.seg(at+time.Millisecond, !fromClient, fACK, nil)
		payload = payload[n:]
		at += 2 * time.Millisecond
	}
	return at
}

// close writes FIN/ACK each way and the last ACK, 1 ms apart.
func (t *tcpConn) close(at time.Duration) {
	t.seg(at, true, fFIN|fACK, nil)
	t.seg(at+time.Millisecond, false, fFIN|fACK, nil)
	t.seg(at+2*time.Millisecond, true, fACK, nil)
}
