package linkq_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
)

// t0 is the time of the first packet in built captures.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var (
	hostA  = netip.MustParseAddr("10.0.0.1")
	hostB  = netip.MustParseAddr("10.0.0.2")
	hostA6 = netip.MustParseAddr("2001:db8::1")
	hostB6 = netip.MustParseAddr("2001:db8::2")
)

// icmpEcho returns ICMP (or ICMPv6) echo bytes: type, code 0, checksum 0,
// identifier, sequence, data.
func icmpEcho(typ uint8, id, seq uint16, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	return append(b, data...)
}

// udpDatagram returns UDP bytes with a correct length field.
func udpDatagram(sport, dport uint16, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(data)))
	return append(b, data...)
}

// ipv4 wraps l4 in an IPv4 header (no options, checksum left zero).
func ipv4(src, dst netip.Addr, proto uint8, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	b[8] = 64
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

// info returns the PacketInfo flow would pass for an IP packet carrying
// l4 at offset at from t0, on an Ethernet link (14-byte header).
func info(at time.Duration, src, dst netip.Addr, proto uint8, l4 []byte) *flow.PacketInfo {
	ip := 20
	if src.Is6() {
		ip = 40
	}
	return &flow.PacketInfo{Time: t0.Add(at), WireLen: 14 + ip + len(l4), Src: src, Dst: dst,
		Proto: proto, L4: l4, L4Len: len(l4)}
}

// data returns n bytes of a pattern that depends on seed.
func data(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i) + seed
	}
	return b
}

// rawPcap writes a little-endian microsecond pcap on LINKTYPE_RAW (101)
// holding the given IP packets at the given times.
func rawPcap(pkts [][]byte, at []time.Duration) []byte {
	var buf bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], uint32(flow.LinkRaw))
	buf.Write(hdr)
	for i, p := range pkts {
		ts := t0.Add(at[i])
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(ts.Unix()))
		le.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(p)))
		le.PutUint32(rec[12:], uint32(len(p)))
		buf.Write(rec)
		buf.Write(p)
	}
	return buf.Bytes()
}

// ipv6 wraps l4 in an IPv6 header (no extension headers).
func ipv6(src, dst netip.Addr, next uint8, l4 []byte) []byte {
	b := make([]byte, 40, 40+len(l4))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(l4)))
	b[6] = next
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, l4...)
}
