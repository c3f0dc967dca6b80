package flowtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"
)

// Link types of the pcap files tests write (LINKTYPE_* values).
const (
	LinkEthernet uint32 = 1
	LinkRaw      uint32 = 101
	LinkSLL      uint32 = 113
)

// PcapWriter writes a pcap capture one record at a time (streaming, for
// captures of any size): the file header on creation, then a record per
// WritePacket.
type PcapWriter struct {
	w     io.Writer
	order binary.ByteOrder
	nano  bool
	hdr   [16]byte
}

// NewPcapWriter writes the file header of a pcap capture of the given
// link type to w, little-endian with nanosecond timestamps when nano is
// set (magic a1b23c4d), else microseconds (a1b2c3d4).
func NewPcapWriter(w io.Writer, link uint32, nano bool) (*PcapWriter, error) {
	return newPcapWriter(w, binary.LittleEndian, link, nano)
}

func newPcapWriter(w io.Writer, order binary.ByteOrder, link uint32, nano bool) (*PcapWriter, error) {
	p := &PcapWriter{w: w, order: order, nano: nano}
	var h [24]byte
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 262144)
	order.PutUint32(h[20:], link)
	_, err := w.Write(h[:])
	return p, err
}

// WritePacket writes one record: the captured bytes data of a frame of
// wire bytes (wire < len(data) is taken as len(data)) captured at t.
func (p *PcapWriter) WritePacket(t time.Time, data []byte, wire int) error {
	if t.Unix() < 0 || t.Unix() > 1<<32-1 {
		return errors.New("flowtest: pcap timestamps cover 1970 to 2106")
	}
	return p.writeRecord(t, data, wire)
}

// writeRecord writes a record with t's seconds as they are (tests of
// hostile files write times outside 1970-2106 on purpose).
func (p *PcapWriter) writeRecord(t time.Time, data []byte, wire int) error {
	frac := uint32(t.Nanosecond())
	if !p.nano {
		frac /= 1000
	}
	p.order.PutUint32(p.hdr[0:], uint32(t.Unix()))
	p.order.PutUint32(p.hdr[4:], frac)
	p.order.PutUint32(p.hdr[8:], uint32(len(data)))
	p.order.PutUint32(p.hdr[12:], uint32(max(wire, len(data))))
	if _, err := p.w.Write(p.hdr[:]); err != nil {
		return err
	}
	_, err := p.w.Write(data)
	return err
}

// TCP describes one TCP segment for AppendIPv4TCP / AppendIPv6TCP.
type TCP struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    uint8
	Window   uint16
	// Opts are encoded options (see the Opt functions), padded to a
	// multiple of 4 bytes.
	Opts    []byte
	Payload []byte
}

// AppendIP appends the IPv4 or IPv6 packet (by the addresses' family)
// carrying segment s to b.
func AppendIP(b []byte, s *TCP) []byte {
	opts := s.Opts
	pad := (4 - len(opts)%4) % 4
	thl := 20 + len(opts) + pad
	tl := thl + len(s.Payload)
	be := binary.BigEndian
	if s.Src.Addr().Is4() {
		b = appendIPv4Header(b, s.Src.Addr(), s.Dst.Addr(), 6, tl)
	} else {
		b = appendIPv6Header(b, s.Src.Addr(), s.Dst.Addr(), 6, tl)
	}
	b = be.AppendUint16(b, s.Src.Port())
	b = be.AppendUint16(b, s.Dst.Port())
	b = be.AppendUint32(b, s.Seq)
	b = be.AppendUint32(b, s.Ack)
	b = append(b, byte(thl/4)<<4, s.Flags)
	b = be.AppendUint16(b, s.Window)
	b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
	b = append(b, opts...)
	for range pad {
		b = append(b, 0)
	}
	return append(b, s.Payload...)
}

// AppendUDP appends the IPv4 or IPv6 packet carrying a UDP datagram from
// src to dst to b.
func AppendUDP(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	n := 8 + len(payload)
	if src.Addr().Is4() {
		b = appendIPv4Header(b, src.Addr(), dst.Addr(), 17, n)
	} else {
		b = appendIPv6Header(b, src.Addr(), dst.Addr(), 17, n)
	}
	be := binary.BigEndian
	b = be.AppendUint16(b, src.Port())
	b = be.AppendUint16(b, dst.Port())
	b = be.AppendUint16(b, uint16(n))
	b = append(b, 0, 0)
	return append(b, payload...)
}

// AppendICMPEcho appends an IPv4 ICMP echo request (reply when reply is
// set) with the given identifier, sequence number and data to b.
func AppendICMPEcho(b []byte, src, dst netip.Addr, reply bool, id, seq uint16, data []byte) []byte {
	b = appendIPv4Header(b, src, dst, 1, 8+len(data))
	typ := byte(8)
	if reply {
		typ = 0
	}
	at := len(b)
	be := binary.BigEndian
	b = append(b, typ, 0, 0, 0)
	b = be.AppendUint16(b, id)
	b = be.AppendUint16(b, seq)
	b = append(b, data...)
	be.PutUint16(b[at+2:], checksum(b[at:]))
	return b
}

// AppendEthernet appends an Ethernet II header (fixed MAC addresses)
// with the given EtherType to b; the payload follows.
func AppendEthernet(b []byte, etherType uint16) []byte {
	b = append(b, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1)
	return binary.BigEndian.AppendUint16(b, etherType)
}

func appendIPv4Header(b []byte, src, dst netip.Addr, proto uint8, payload int) []byte {
	at := len(b)
	be := binary.BigEndian
	b = append(b, 0x45, 0)
	b = be.AppendUint16(b, uint16(20+payload))
	b = append(b, 0, 0, 0x40, 0, 64, proto, 0, 0)
	s4, d4 := src.As4(), dst.As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	be.PutUint16(b[at+10:], checksum(b[at:at+20]))
	return b
}

func appendIPv6Header(b []byte, src, dst netip.Addr, next uint8, payload int) []byte {
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(payload))
	b = append(b, next, 64)
	s16, d16 := src.As16(), dst.As16()
	b = append(b, s16[:]...)
	return append(b, d16[:]...)
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// PcapFile returns a whole pcap file in the given byte order and
// timestamp resolution, with the snap length snap in its header, holding
// recs (each captured whole) at times.
func PcapFile(order binary.ByteOrder, nano bool, link, snap uint32, recs [][]byte, times []time.Time) []byte {
	var b bytes.Buffer
	w, _ := newPcapWriter(&b, order, link, nano)
	order.PutUint32(b.Bytes()[16:], snap)
	for i, r := range recs {
		_ = w.writeRecord(times[i], r, len(r))
	}
	return b.Bytes()
}

// IPv4Packet returns an IPv4 packet (no options, header checksum set)
// from src to dst carrying l4 as protocol proto.
func IPv4Packet(src, dst netip.Addr, proto uint8, l4 []byte) []byte {
	return append(appendIPv4Header(make([]byte, 0, 20+len(l4)), src, dst, proto, len(l4)), l4...)
}

// IPv6Packet returns an IPv6 packet (no extension headers) from src to
// dst carrying l4 with next header next.
func IPv6Packet(src, dst netip.Addr, next uint8, l4 []byte) []byte {
	return append(appendIPv6Header(make([]byte, 0, 40+len(l4)), src, dst, next, len(l4)), l4...)
}

// UDPDatagram returns a UDP header (length set, checksum zero: none) and
// data.
func UDPDatagram(sport, dport uint16, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(data)))
	return append(b, data...)
}

// ICMPEcho returns an ICMP (types 8 and 0) or ICMPv6 (128 and 129) echo
// message: type, code 0, checksum, identifier, sequence number, data. The
// checksum covers the message alone, which is ICMP's (ICMPv6 would add
// the IPv6 pseudo-header; the analysis does not check it).
func ICMPEcho(typ uint8, id, seq uint16, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	b = append(b, data...)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}
