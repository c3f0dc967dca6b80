package census

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
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
	frames, times := make([][]byte, len(c.recs)), make([]time.Time, len(c.recs))
	for i, r := range c.recs {
		frames[i], times[i] = r.frame, c.t0.Add(r.at)
	}
	return flowtest.PcapFile(binary.LittleEndian, false, flowtest.LinkEthernet, 65535, frames, times)
}

var (
	ipv4     = flowtest.IPv4Packet
	ipv6     = flowtest.IPv6Packet
	udp      = flowtest.UDPDatagram
	icmpEcho = flowtest.ICMPEcho
)

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
