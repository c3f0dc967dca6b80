package linkq_test

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// t0 is the time of the first packet in built captures.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var (
	hostA  = netip.MustParseAddr("10.0.0.1")
	hostB  = netip.MustParseAddr("10.0.0.2")
	hostA6 = netip.MustParseAddr("2001:db8::1")
	hostB6 = netip.MustParseAddr("2001:db8::2")
)

var (
	icmpEcho    = flowtest.ICMPEcho
	udpDatagram = flowtest.UDPDatagram
	ipv4        = flowtest.IPv4Packet
	ipv6        = flowtest.IPv6Packet
)

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
// holding the given IP packets at the given offsets from t0.
func rawPcap(pkts [][]byte, at []time.Duration) []byte {
	ts := make([]time.Time, len(at))
	for i, d := range at {
		ts[i] = t0.Add(d)
	}
	return flowtest.PcapFile(binary.LittleEndian, false, uint32(flow.LinkRaw), 65535, pkts, ts)
}
