package flow_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
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
	for _, c := range res.Conns {
		for _, d := range []*tcpstate.DirStats{&c.C2S, &c.S2C} {
			if d.UniqueBytes > d.PayloadBytes || d.PayloadBytes > d.WireBytes {
				t.Fatalf("conn %d: unique %d, payload %d, wire %d bytes", c.ID, d.UniqueBytes, d.PayloadBytes, d.WireBytes)
			}
		}
	}
}

// checkJSON asserts that every result a tool writes encodes as JSON (a
// NaN or an out-of-range time once cut the output short): each
// connection, its explanation and the summary.
func checkJSON(t *testing.T, res *flow.Result, ex *explain.Explainer) {
	t.Helper()
	for _, c := range res.Conns {
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("conn %d: %v", c.ID, err)
		}
	}
	for _, x := range ex.Conns() {
		if _, err := json.Marshal(x); err != nil {
			t.Fatalf("explanation of conn %d: %v", x.ID, err)
		}
	}
	if _, err := json.Marshal(res.Summary); err != nil {
		t.Fatalf("summary: %v", err)
	}
}

// wrapped is a connection whose sequence numbers wrap past 2^32 both
// ways, with a segment lost, one resent and one out of order.
func wrapped() []byte {
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80"), t0)
	b.SetISN(tcpstate.ClientToServer, 0xffffff00)
	b.SetISN(tcpstate.ServerToClient, 0xfffffff0)
	b.Handshake(time.Millisecond, time.Millisecond, flowtest.Opts(flowtest.OptMSS(1460), flowtest.OptSACKPerm()),
		flowtest.Opts(flowtest.OptMSS(1460), flowtest.OptSACKPerm()))
	for range 3 {
		b.Send(tcpstate.ClientToServer, 100, nil)
	}
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Lose(tcpstate.ServerToClient, 1000)
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Ack(tcpstate.ClientToServer, nil)
	b.Packet(tcpstate.ServerToClient, flowtest.Seg{Seq: 1000 - 15, SetSeq: true, Len: 1000}) // the lost one: 0xfffffff1 + 1000, modulo 2^32
	b.Packet(tcpstate.ServerToClient, flowtest.Seg{Seq: 0xfffffff1, SetSeq: true, Len: 1000})
	b.Advance(time.Second)
	b.Ack(tcpstate.ClientToServer, nil)
	return b.Bytes()
}

// scattered is one direction of 100-byte segments at sequence numbers
// scattered over the 32-bit space, as the corpus's crashers hold them
// (coverage-fill-oob.pcap, unique-bytes-overcount.pcap), and one just
// below 2^32.
func scattered() []byte {
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.9.9.9:33333"), netip.MustParseAddrPort("10.0.0.1:80"), t0)
	for _, seq := range []uint32{2401567355, 3612604207, 1125588718, 969771374, 501, 4294380877, 4116502803, 4101, 4294967246, 40} {
		b.Packet(tcpstate.ClientToServer, flowtest.Seg{Seq: seq, SetSeq: true, Len: 100})
		b.Advance(7 * time.Microsecond)
	}
	return b.Bytes()
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
	f.Add(wrapped())
	f.Add(scattered())
	f.Fuzz(func(t *testing.T, b []byte) {
		// The bound on live connections varies with the input, from 4
		// (eviction on almost every new connection) to 64.
		ex := explain.New(explain.Options{Keep: true})
		res, _ := flow.Analyze(bytes.NewReader(b), flow.Config{MaxConns: 4 + len(b)%61, KeepConns: true,
			Consumers: []flow.Consumer{ex}})
		if res != nil {
			checkAccounting(t, res)
			checkJSON(t, res, ex)
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
		if _, err := json.Marshal(res.Conns); err != nil {
			t.Fatal(err)
		}
		if res.Summary.Packets != 1 {
			t.Fatalf("read %d packets, want 1", res.Summary.Packets)
		}
	})
}
