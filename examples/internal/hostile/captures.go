package hostile

import (
	"bufio"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/netecology/netecology/flow/flowtest"
)

// Flood writes to a file in a temporary folder a capture of n short
// connections, each from its own client port to 192.0.2.1:80, open at
// once in groups of live: every group's handshakes and 100-byte requests,
// then each one's 200-byte answer and FINs, in the same order. Packets are
// raw IPv4, 10 µs apart, from 2026-01-01: 8 per connection, 400 payload
// bytes (100 one way, 200 the other, and the SYNs' and FINs' none).
func Flood(t testing.TB, n, live int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	pw, err := flowtest.NewPcapWriter(bw, flowtest.LinkRaw, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := netip.MustParseAddrPort("192.0.2.1:80")
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	payload := make([]byte, 200)
	put := func(s flowtest.TCP) {
		buf = flowtest.AppendIP(buf[:0], &s)
		at = at.Add(10 * time.Microsecond)
		if err := pw.WritePacket(at, buf, len(buf)); err != nil {
			t.Fatal(err)
		}
	}
	client := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 16), byte(i >> 8)}), uint16(1024+i%60000))
	}
	for g := 0; g < n; g += live {
		end := min(g+live, n)
		for i := g; i < end; i++ {
			c := client(i)
			put(flowtest.TCP{Src: c, Dst: srv, Seq: 1000, Flags: 0x02, Window: 65535})
			put(flowtest.TCP{Src: srv, Dst: c, Seq: 5000, Ack: 1001, Flags: 0x12, Window: 65535})
			put(flowtest.TCP{Src: c, Dst: srv, Seq: 1001, Ack: 5001, Flags: 0x10, Window: 65535})
			put(flowtest.TCP{Src: c, Dst: srv, Seq: 1001, Ack: 5001, Flags: 0x18, Window: 65535, Payload: payload[:100]})
		}
		for i := g; i < end; i++ {
			c := client(i)
			put(flowtest.TCP{Src: srv, Dst: c, Seq: 5001, Ack: 1101, Flags: 0x18, Window: 65535, Payload: payload})
			put(flowtest.TCP{Src: c, Dst: srv, Seq: 1101, Ack: 5201, Flags: 0x11, Window: 65535})
			put(flowtest.TCP{Src: srv, Dst: c, Seq: 5201, Ack: 1102, Flags: 0x11, Window: 65535})
			put(flowtest.TCP{Src: c, Dst: srv, Seq: 1102, Ack: 5202, Flags: 0x10, Window: 65535})
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Split writes the records of the pcap file path (uncompressed) to two
// files in a temporary folder, the first half and the rest, as tcpdump
// -C would rotate them, and returns their names.
func Split(t testing.TB, path string) (first, second string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if len(b) < 24 {
		t.Fatalf("%s: not a pcap file", path)
	}
	switch order.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		t.Fatalf("%s: not a pcap file", path)
	}
	var ends []int
	for at := 24; at+16 <= len(b); {
		at += 16 + int(order.Uint32(b[at+8:]))
		ends = append(ends, at)
	}
	cut := ends[len(ends)/2-1]
	dir := t.TempDir()
	first, second = filepath.Join(dir, "cap.pcap0"), filepath.Join(dir, "cap.pcap1")
	if err := os.WriteFile(first, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, append(append([]byte(nil), b[:24]...), b[cut:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	return first, second
}

// Records counts the records of a pcap file held in b (a mutant's Data):
// the packets a tool must account for, since a mutant's record headers
// are the original's.
func Records(b []byte) uint64 {
	if len(b) < 24 {
		return 0
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch order.Uint32(b) {
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	}
	var n uint64
	for at := 24; at+16 <= len(b); n++ {
		l := int(order.Uint32(b[at+8:]))
		if l < 0 || l > len(b)-at-16 {
			break
		}
		at += 16 + l
	}
	return n
}

// SameFromStdinAndRotated checks that a tool's JSON object for the capture
// at path is the same when the capture comes on standard input ("-") and
// as its two halves joined by a comma (Split): obj runs the tool on a
// capture argument, with stdin as its standard input, and returns the
// object, whose "file" field names the input and is left out of the
// comparison. It returns the object for path.
func SameFromStdinAndRotated(t *testing.T, path string, obj func(stdin io.Reader, arg string) map[string]any) map[string]any {
	t.Helper()
	want := obj(nil, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := obj(f, "-")
	if got["file"] != "-" {
		t.Errorf("standard input named %v, want -", got["file"])
	}
	got["file"] = want["file"]
	if !reflect.DeepEqual(want, got) {
		t.Errorf("standard input: the object differs from the file's")
	}
	a, b := Split(t, path)
	got = obj(nil, a+","+b)
	got["file"] = want["file"]
	if !reflect.DeepEqual(want, got) {
		t.Errorf("rotated halves: the object differs from the file's")
	}
	return want
}
