package flow_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/netecology/netecology/flow"
)

// checkAccounting asserts the invariant the package promises for any input:
// every packet read is counted exactly once, and the TCP packets are the
// packets of the reported connections.
func checkAccounting(t *testing.T, res *flow.Result) {
	t.Helper()
	s := res.Summary
	var other, skipped, inConns uint64
	for _, n := range s.Other {
		other += n
	}
	for _, n := range s.Skipped {
		skipped += n
	}
	for _, c := range res.Conns {
		inConns += c.C2S.Packets + c.S2C.Packets
		if c.Duration < 0 && !c.Last.Before(c.First) {
			t.Fatalf("conn %d: negative duration %v with ordered timestamps", c.ID, c.Duration)
		}
	}
	if s.Packets != s.TCPPackets+other+skipped {
		t.Fatalf("accounting: %d packets != %d tcp + %d other + %d skipped", s.Packets, s.TCPPackets, other, skipped)
	}
	if inConns != s.TCPPackets {
		t.Fatalf("connections hold %d packets, summary says %d TCP", inConns, s.TCPPackets)
	}
	if s.Connections != len(res.Conns) {
		t.Fatalf("summary says %d connections, %d reported", s.Connections, len(res.Conns))
	}
}

// FuzzCapture feeds arbitrary bytes as a whole capture file (pcap, pcapng,
// gzip or garbage). It must never panic; whatever is read must be accounted
// for.
func FuzzCapture(f *testing.F) {
	f.Add(pcapFile(binary.LittleEndian, false, uint32(flow.LinkRaw), handshake(), times(len(handshake()))))
	f.Add(pcapFile(binary.BigEndian, true, 1, [][]byte{ether(0x0800, []uint16{10}, handshake()[0])}, times(1)))
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a})
	// pcapng: interfaces with timestamp options, packets of each block
	// type, a skipped block, a second section in the other byte order.
	ng := newNG(binary.LittleEndian)
	ng.idb(1, 65535, ng.tsresol(0xbf), ng.tsoffset(-1))
	ng.idb(101, 40)
	for i, p := range handshake() {
		ng.epb(uint32(i%2), uint64(i)<<40, ether(0x0800, nil, p))
	}
	ng.raw(5, make([]byte, 20), 0)
	ng.raw(3, append(binary.LittleEndian.AppendUint32(nil, 40), handshake()[0]...), 0)
	be := newNG(binary.BigEndian)
	be.idb(228, 0, be.tsresol(9))
	be.epb(0, 1<<62, handshake()[1])
	f.Add(append(ng.b, be.b...))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, _ := flow.Analyze(bytes.NewReader(b), flow.Config{MaxConns: 4, KeepConns: true})
		if res != nil {
			checkAccounting(t, res)
		}
	})
}

// FuzzPacket feeds one arbitrary packet under a chosen link type, so the
// fuzzer spends its effort on link, IP, TCP header and option parsing rather
// than on file headers. Exactly one packet must be accounted for.
func FuzzPacket(f *testing.F) {
	links := []uint32{1, 101, 113, 276, 0, 108, 228, 229, 239}
	for i, p := range handshake() {
		f.Add(uint8(1), p)
		f.Add(uint8(i%len(links)), p)
	}
	opts := ipv4TCP(cli, srv, 1, 2, 3, 0x02, nil)
	opts[32] = 0xf0 // data offset 60: options past the end
	f.Add(uint8(1), opts)
	f.Fuzz(func(t *testing.T, link uint8, p []byte) {
		lt := links[int(link)%len(links)]
		res, err := flow.Analyze(bytes.NewReader(pcapFile(binary.LittleEndian, false, lt, [][]byte{p}, times(1))), flow.Config{KeepConns: true})
		if err != nil {
			t.Fatalf("a well-formed file with one record: %v", err)
		}
		checkAccounting(t, res)
		if res.Summary.Packets != 1 {
			t.Fatalf("read %d packets, want 1", res.Summary.Packets)
		}
	})
}
