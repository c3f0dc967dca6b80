package flow_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"testing"
	"time"

	forkgopacket "github.com/gopacket/gopacket"
	forklayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
)

// ngFile writes a pcapng file block by block, by hand, in either byte
// order, so the reader is tested against bytes built here (hostile ones
// included) rather than by a library.
type ngFile struct {
	order byteOrder
	b     []byte
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func newNG(order byteOrder) *ngFile {
	w := &ngFile{order: order}
	w.shb(1, 0)
	return w
}

// raw appends a block of type typ around body (padded to 4 bytes) and
// returns its offset; trailer, when non-zero, replaces the trailing length.
func (w *ngFile) raw(typ uint32, body []byte, trailer uint32) int {
	off := len(w.b)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	if trailer == 0 {
		trailer = n
	}
	w.b = w.order.AppendUint32(w.b, typ)
	w.b = w.order.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = w.order.AppendUint32(w.b, trailer)
	return off
}

func (w *ngFile) shb(major, minor uint16) int {
	body := w.order.AppendUint32(nil, 0x1a2b3c4d)
	body = w.order.AppendUint16(body, major)
	body = w.order.AppendUint16(body, minor)
	body = w.order.AppendUint64(body, math.MaxUint64) // section length unknown
	return w.raw(0x0a0d0d0a, body, 0)
}

// opt encodes one option (code, length, value padded to 4 bytes).
func (w *ngFile) opt(code uint16, v []byte) []byte {
	b := w.order.AppendUint16(nil, code)
	b = w.order.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *ngFile) tsresol(v byte) []byte { return w.opt(9, []byte{v}) }

func (w *ngFile) tsoffset(v int64) []byte { return w.opt(14, w.order.AppendUint64(nil, uint64(v))) }

func (w *ngFile) idb(link uint16, snap uint32, opts ...[]byte) int {
	body := w.order.AppendUint16(nil, link)
	body = w.order.AppendUint16(body, 0)
	body = w.order.AppendUint32(body, snap)
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	return w.raw(1, body, 0)
}

func (w *ngFile) epbBody(iface uint32, ts uint64, capLen, origLen uint32, data []byte) []byte {
	body := w.order.AppendUint32(nil, iface)
	body = w.order.AppendUint32(body, uint32(ts>>32))
	body = w.order.AppendUint32(body, uint32(ts))
	body = w.order.AppendUint32(body, capLen)
	body = w.order.AppendUint32(body, origLen)
	return append(body, data...)
}

// epb appends an Enhanced Packet Block of a whole packet.
func (w *ngFile) epb(iface uint32, ts uint64, data []byte) int {
	return w.raw(6, w.epbBody(iface, ts, uint32(len(data)), uint32(len(data)), data), 0)
}

// syn is a 54-byte Ethernet frame: a TCP SYN from 10.0.0.1:sport to
// 10.0.0.2:80, one connection per source port.
func syn(sport uint16) []byte {
	return ether(0x0800, nil, ipv4TCP(cli, srv, sport, 80, 1000, 0x02, nil))
}

// readAll reads every packet of b, copying each, and returns them with the
// reader and the error that ended reading (nil for io.EOF).
func readAll(t *testing.T, b []byte) ([]flow.Packet, *flow.Reader, error) {
	t.Helper()
	rd, err := flow.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	var out []flow.Packet
	for {
		p, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, rd, err
		}
		cp := *p
		cp.Data = bytes.Clone(p.Data)
		out = append(out, cp)
	}
}

// TestPcapNGMixedLinkTypes writes one connection whose packets alternate
// between an Ethernet interface and a raw-IP interface (with another
// timestamp resolution), as a capture on "any" interface can hold.
func TestPcapNGMixedLinkTypes(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{
		Name: "eth0", LinkType: forklayers.LinkTypeEthernet, SnapLength: 65535,
	}, pcapgo.NgWriterOptions{})
	require.NoError(t, err)
	raw, err := w.AddInterface(pcapgo.NgInterface{
		Name: "tun0", LinkType: forklayers.LinkTypeRaw, SnapLength: 65535, TimestampResolution: 6,
	})
	require.NoError(t, err)
	ts := times(7)
	for i, p := range handshake() {
		iface, data := 0, ether(0x0800, nil, p)
		if i%2 == 1 {
			iface, data = raw, p
		}
		ci := forkgopacket.CaptureInfo{Timestamp: ts[i], CaptureLength: len(data), Length: len(data), InterfaceIndex: iface}
		require.NoError(t, w.WritePacket(ci, data))
	}
	require.NoError(t, w.Flush())

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(buf.Bytes())
	require.NoError(t, zw.Close())
	for _, in := range [][]byte{buf.Bytes(), gz.Bytes()} {
		res, err := flow.Analyze(bytes.NewReader(in), flow.Config{KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, flow.FormatPcapNG, res.Format)
		require.Len(t, res.Conns, 1)
		c := res.Conns[0]
		assert.Equal(t, uint64(4), c.C2S.Packets)
		assert.Equal(t, uint64(3), c.S2C.Packets)
		assert.Equal(t, ts[0], c.First)
		assert.Equal(t, ts[6], c.Last)
		assert.Equal(t, "complete", c.State.String())
		assert.Nil(t, res.Summary.Warnings)
	}
}

// TestPcapNGTimestamps dates packets exactly per the pcapng specification:
// an unsigned 64-bit count of if_tsresol units (10^-e s, or 2^-e s with the
// top bit set; absent: 10^-6) plus the signed if_tsoffset in seconds. The
// first six interfaces and four counts are those of the corpus crasher
// json-year-tsres.pcapng; the expected values are worked out by hand below
// (and were checked with exact rational arithmetic, Python's
// fractions.Fraction floored to the nanosecond), and tshark 4.0's
// frame.time_epoch on the crasher is quoted where it agrees or differs.
func TestPcapNGTimestamps(t *testing.T) {
	const (
		max64 = math.MaxUint64 // 2^64-1
		p63   = 1 << 63
		p62   = 1 << 62
	)
	latest := time.Unix(math.MaxInt64-62135596800, 999999999).UTC() // the latest time.Time
	u := func(s, ns int64) time.Time { return time.Unix(s, ns).UTC() }
	cases := []struct {
		name  string
		opts  func(w *ngFile) [][]byte
		ts    uint64
		want  time.Time
		inRng bool // within the years 1 to 9999
	}{
		// if_tsresol 0x80: 2^-0 s = 1 s units. 2^64-1 s and 2^63 s are past
		// the latest time.Time (2^63-1 s minus the 62135596800 s from year
		// 1 to 1970); tshark: -1 s and -2^63 s (signed), frames 1 and 7.
		{"2^0 max", res(0x80), max64, latest, false},
		{"2^0 2^63", res(0x80), p63, latest, false},
		{"2^0 2^62", res(0x80), p62, u(p62, 0), false}, // tshark frame 13: 4611686018427387904
		{"2^0 12345", res(0x80), 12345, u(12345, 0), true},
		// if_tsresol 0x00: 10^-0 s = 1 s units, the same (pcapgo took 0
		// for 10^-6); tshark frames 2, 8 (signed again), 14, 20.
		{"10^0 max", res(0x00), max64, latest, false},
		{"10^0 2^63", res(0x00), p63, latest, false},
		{"10^0 2^62", res(0x00), p62, u(p62, 0), false},
		{"10^0 12345", res(0x00), 12345, u(12345, 0), true},
		// if_tsresol 0x3f: 10^-63 s. (2^64-1)·10^-63 = 1.8e-44 s: under a
		// nanosecond, so 0 (tshark frame 3: 1 s, an overflow of 10^63;
		// frames 9, 15, 21: 0).
		{"10^-63 max", res(0x3f), max64, u(0, 0), true},
		{"10^-63 2^63", res(0x3f), p63, u(0, 0), true},
		{"10^-63 2^62", res(0x3f), p62, u(0, 0), true},
		{"10^-63 12345", res(0x3f), 12345, u(0, 0), true},
		// if_tsresol 0xbf: 2^-63 s. (2^64-1)/2^63 = 2 - 2^-63 s, floored
		// to 1.999999999 s (tshark frame 4: 1.000000001); 2^63 units are
		// 1 s (frame 10: 1); 2^62 are 0.5 s (frame 16: 0, the fraction
		// lost); 12345 units are 1.3e-15 s, 0 (frame 22: 0).
		{"2^-63 max", res(0xbf), max64, u(1, 999999999), true},
		{"2^-63 2^63", res(0xbf), p63, u(1, 0), true},
		{"2^-63 2^62", res(0xbf), p62, u(0, 500000000), true},
		{"2^-63 12345", res(0xbf), 12345, u(0, 0), true},
		// Microseconds with if_tsoffset -2^63 s: 2^64-1 µs =
		// 18446744073709.551615 s, minus 2^63 s = -9223353590110702099 s
		// + 0.551615 s; tshark frames 5, 11, 17, 23 print the same
		// seconds and fractions (with the fraction's sign wrong).
		{"off -2^63 max", off(math.MinInt64), max64, u(-9223353590110702099, 551615000), false},
		{"off -2^63 2^63", off(math.MinInt64), p63, u(-9223362813482738954, 775808000), false},
		{"off -2^63 2^62", off(math.MinInt64), p62, u(-9223367425168757381, 387904000), false},
		{"off -2^63 12345", off(math.MinInt64), 12345, u(math.MinInt64, 12345000), false},
		// Microseconds with if_tsoffset -1 s: tshark frames 6, 12, 18 and
		// 24 agree (18446744073708.551615, 9223372036853.775808,
		// 4611686018426.387904, and -1 s + 0.012345 s printed -1.012345);
		// only the last lies within the years 1 to 9999 (before
		// 253402300800 s).
		{"off -1 max", off(-1), max64, u(18446744073708, 551615000), false},
		{"off -1 2^63", off(-1), p63, u(9223372036853, 775808000), false},
		{"off -1 2^62", off(-1), p62, u(4611686018426, 387904000), false},
		{"off -1 12345", off(-1), 12345, u(-1, 12345000), true},
		// Other resolutions, by hand. 10^-9: the digits split at 9.
		{"10^-9", res(9), 1700000000123456789, u(1700000000, 123456789), true},
		// 10^-19: (2^64-1)·10^-19 = 1.8446744073709551615 s.
		{"10^-19", res(19), max64, u(1, 844674407), true},
		// 10^-20: 0.18446744073709551615 s, the first power above 2^64.
		{"10^-20", res(20), max64, u(0, 184467440), true},
		// 10^-28: 1.84e-9 s; 10^-29: 1.8e-10 s; 10^-127: 0.
		{"10^-28", res(28), max64, u(0, 1), true},
		{"10^-29", res(29), max64, u(0, 0), true},
		{"10^-127", res(0x7f), max64, u(0, 0), true},
		// 2^-10: 5632 units of 1/1024 s = 5.5 s.
		{"2^-10", res(0x8a), 5632, u(5, 500000000), true},
		// 2^-64: 2^63 units = 0.5 s; 2^64-1 units = 1 - 2^-64 s.
		{"2^-64 2^63", res(0xc0), p63, u(0, 500000000), true},
		{"2^-64 max", res(0xc0), max64, u(0, 999999999), true},
		// 2^-127: (2^64-1)/2^127 s = 1.1e-19 s.
		{"2^-127", res(0xff), max64, u(0, 0), true},
		// Seconds with if_tsoffset -2^63: 2^63+100 s - 2^63 s = 100 s (the
		// count past 2^63-1 brought back by the offset); 2^64-1 s - 2^63 s
		// = 2^63-1 s, past the latest time.Time.
		{"1 s off -2^63 2^63+100", resOff(0x80, math.MinInt64), p63 + 100, u(100, 0), true},
		{"1 s off -2^63 max", resOff(0x80, math.MinInt64), max64, latest, false},
		// Seconds with if_tsoffset +2^62: 2^62 + 2^62 = 2^63 s, past it.
		{"1 s off +2^62", resOff(0x80, p62), p62, latest, false},
		// Seconds with if_tsoffset 2^40: 12345 + 1099511627776 s.
		{"1 s off +2^40", resOff(0x80, 1<<40), 12345, u(1<<40+12345, 0), false},
	}
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		w := newNG(order)
		for _, c := range cases {
			w.idb(1, 65535, c.opts(w)...)
		}
		for i, c := range cases {
			w.epb(uint32(i), c.ts, syn(uint16(2000+i)))
		}
		pkts, rd, err := readAll(t, w.b)
		require.NoError(t, err)
		require.Len(t, pkts, len(cases))
		var inRange int
		for i, c := range cases {
			assert.True(t, c.want.Equal(pkts[i].Time), "%s %s: got %v (%d s), want %v", order, c.name, pkts[i].Time, pkts[i].Time.Unix(), c.want)
			if c.inRng {
				inRange++
			}
		}
		assert.Nil(t, rd.Warnings())
		// The Analyzer skips exactly the packets outside the years 1-9999.
		res, err := flow.Analyze(bytes.NewReader(w.b), flow.Config{KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, uint64(inRange), res.Summary.TCPPackets)
		assert.Len(t, res.Conns, inRange)
		assert.Equal(t, map[string]uint64{"timestamp_out_of_range": uint64(len(cases) - inRange)}, res.Summary.Skipped)
	}
}

func res(v byte) func(*ngFile) [][]byte {
	return func(w *ngFile) [][]byte { return [][]byte{w.tsresol(v)} }
}

func off(s int64) func(*ngFile) [][]byte {
	return func(w *ngFile) [][]byte { return [][]byte{w.tsoffset(s)} }
}

func resOff(v byte, s int64) func(*ngFile) [][]byte {
	return func(w *ngFile) [][]byte { return [][]byte{w.tsresol(v), w.tsoffset(s)} }
}

// TestPcapNGWarnings: the three flaws pcapgo accepted silently, and a bad
// interface option, are counted by name and the packet delivered as the
// Reader documents.
func TestPcapNGWarnings(t *testing.T) {
	pkt := syn(40000) // 54 bytes
	t.Run("block_length_mismatch", func(t *testing.T) {
		w := newNG(binary.LittleEndian)
		w.idb(1, 65535)
		// Trailing length 100, leading 88 (12 + 20 + 56): the leading one
		// frames the block, so the next block is found at +88.
		w.raw(6, w.epbBody(0, 1, 54, 54, pkt), 100)
		w.epb(0, 2, syn(40001))
		pkts, rd, err := readAll(t, w.b)
		require.NoError(t, err)
		require.Len(t, pkts, 2)
		assert.Equal(t, pkt, pkts[0].Data)
		assert.Equal(t, 54, pkts[0].Length)
		assert.Equal(t, syn(40001), pkts[1].Data)
		assert.Equal(t, map[string]uint64{"block_length_mismatch": 1}, rd.Warnings())
	})
	t.Run("orig_len_below_cap_len", func(t *testing.T) {
		w := newNG(binary.BigEndian)
		w.idb(1, 65535)
		w.raw(6, w.epbBody(0, 1, 54, 20, pkt), 0) // says 20 bytes on the wire
		pkts, rd, err := readAll(t, w.b)
		require.NoError(t, err)
		require.Len(t, pkts, 1)
		assert.Equal(t, pkt, pkts[0].Data)
		assert.Equal(t, 54, pkts[0].Length, "the original length taken as the captured one")
		assert.Equal(t, map[string]uint64{"orig_len_below_cap_len": 1}, rd.Warnings())
		res, err := flow.Analyze(bytes.NewReader(w.b), flow.Config{KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, uint64(1), res.Summary.TCPPackets)
		assert.Equal(t, uint64(0), res.Summary.TruncatedTCP, "whole, not cut")
		require.Len(t, res.Conns, 1)
		assert.Equal(t, uint64(54), res.Conns[0].C2S.WireBytes)
		assert.Equal(t, map[string]uint64{"orig_len_below_cap_len": 1}, res.Summary.Warnings)
	})
	t.Run("cap_len_over_snaplen", func(t *testing.T) {
		w := newNG(binary.LittleEndian)
		w.idb(1, 40) // snap length 40, the packet holds 54
		w.epb(0, 1, pkt)
		pkts, rd, err := readAll(t, w.b)
		require.NoError(t, err)
		require.Len(t, pkts, 1)
		assert.Equal(t, pkt, pkts[0].Data, "all 54 bytes delivered")
		assert.Equal(t, map[string]uint64{"cap_len_over_snaplen": 1}, rd.Warnings())
		res, err := flow.Analyze(bytes.NewReader(w.b), flow.Config{KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, uint64(1), res.Summary.TCPPackets)
		assert.Equal(t, map[string]uint64{"cap_len_over_snaplen": 1}, res.Summary.Warnings)
	})
	t.Run("bad_interface_option", func(t *testing.T) {
		w := newNG(binary.LittleEndian)
		// if_tsresol of 2 bytes: ignored, so microseconds; then a valid
		// one (kept); then a repeated one (ignored): 2 warnings, 10^-3.
		w.idb(1, 0, w.opt(9, []byte{0, 0}), w.tsresol(3), w.tsresol(9))
		// An if_tsoffset of 4 bytes (ignored), and an option whose length
		// runs past the block (the rest of the list dropped): 2 more.
		body := w.order.AppendUint16(nil, 1)
		body = w.order.AppendUint16(body, 0)
		body = w.order.AppendUint32(body, 0)
		body = append(body, w.opt(14, []byte{1, 2, 3, 4})...)
		body = append(body, w.opt(14, make([]byte, 8))[:4]...) // header only
		w.raw(1, body, 0)
		w.epb(0, 1500, pkt) // 1500 ms
		w.epb(1, 1500, pkt) // 1500 µs (no offset)
		pkts, rd, err := readAll(t, w.b)
		require.NoError(t, err)
		require.Len(t, pkts, 2)
		assert.Equal(t, time.Unix(1, 500000000).UTC(), pkts[0].Time)
		assert.Equal(t, time.Unix(0, 1500000).UTC(), pkts[1].Time)
		assert.Equal(t, map[string]uint64{"bad_interface_option": 4}, rd.Warnings())
	})
	t.Run("clean", func(t *testing.T) {
		w := newNG(binary.LittleEndian)
		w.idb(1, 54)
		w.epb(0, 1, pkt)
		_, rd, err := readAll(t, w.b)
		require.NoError(t, err)
		assert.Nil(t, rd.Warnings())
	})
}

// TestPcapNGOtherPacketBlocks: a Simple Packet Block (no timestamp, cut to
// the first interface's snap length) and an obsolete Packet Block (16-bit
// interface number and drop count), among skipped blocks of other types.
func TestPcapNGOtherPacketBlocks(t *testing.T) {
	pkt := syn(40000)
	w := newNG(binary.LittleEndian)
	w.idb(1, 40)
	w.idb(101, 0, w.tsresol(9))
	w.raw(5, make([]byte, 20), 0)    // interface statistics: skipped
	w.raw(0xbad, make([]byte, 9), 0) // custom block: skipped
	spb := binary.LittleEndian.AppendUint32(nil, 54)
	w.raw(3, append(spb, pkt[:40]...), 0)
	pb := binary.LittleEndian.AppendUint16(nil, 1) // interface 1
	pb = binary.LittleEndian.AppendUint16(pb, 7)   // drops
	pb = append(pb, w.epbBody(0, 1234567890, 40, 40, pkt[14:])[4:]...)
	w.raw(2, pb, 0)
	pkts, rd, err := readAll(t, w.b)
	require.NoError(t, err)
	require.Len(t, pkts, 2)
	assert.Equal(t, pkt[:40], pkts[0].Data, "min(original 54, snap length 40)")
	assert.Equal(t, 54, pkts[0].Length)
	assert.True(t, pkts[0].Time.IsZero())
	assert.Equal(t, flow.LinkEthernet, pkts[0].LinkType)
	assert.Equal(t, pkt[14:], pkts[1].Data)
	assert.Equal(t, flow.LinkRaw, pkts[1].LinkType)
	assert.Equal(t, time.Unix(1, 234567890).UTC(), pkts[1].Time, "1234567890 ns")
	assert.Nil(t, rd.Warnings())
}

// blockStream is a pcapng file of head, then block repeated n times, made
// as it is read (so a test can feed a million blocks without holding them).
type blockStream struct {
	head, block []byte
	n           int
	pos         int64 // bytes read
}

func (s *blockStream) Read(p []byte) (int, error) {
	total := int64(len(s.head)) + int64(s.n)*int64(len(s.block))
	if s.pos >= total {
		return 0, io.EOF
	}
	var m int
	for m < len(p) && s.pos < total {
		var src []byte
		if s.pos < int64(len(s.head)) {
			src = s.head[s.pos:]
		} else {
			src = s.block[(s.pos-int64(len(s.head)))%int64(len(s.block)):]
		}
		c := copy(p[m:], src)
		m += c
		s.pos += int64(c)
	}
	return m, nil
}

// TestPcapNGInterfaceLimit: 1,000,001 interface descriptions after a
// packet. Reading stops at description MaxPcapNGInterfaces+1 with a
// *ReadError naming it; the packet before is delivered; the memory used
// does not grow with the number of descriptions in the file (pcapgo held
// every one: 1,000,000 took 1.07 GB).
func TestPcapNGInterfaceLimit(t *testing.T) {
	w := newNG(binary.LittleEndian)
	w.idb(1, 0)
	w.epb(0, 1, syn(40000))
	head := w.b
	idb := head[28:48] // the 20-byte description, repeated
	run := func(n int) (allocated uint64, consumed int64) {
		s := &blockStream{head: head, block: idb, n: n}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rd, err := flow.NewReader(s)
		require.NoError(t, err)
		p, err := rd.Next()
		require.NoError(t, err)
		assert.Equal(t, syn(40000), p.Data)
		_, err = rd.Next()
		runtime.ReadMemStats(&after)
		var re *flow.ReadError
		require.ErrorAs(t, err, &re)
		assert.ErrorIs(t, err, flow.ErrTooManyInterfaces)
		assert.Equal(t, uint64(2), re.Record, "the next packet's index")
		// SHB 28 bytes, first IDB 20, EPB 88, then 4095 more IDBs.
		assert.Equal(t, int64(28+20+88+(flow.MaxPcapNGInterfaces-1)*20), re.Offset)
		assert.True(t, re.OffsetExact)
		assert.Contains(t, err.Error(), "interface description block 4097")
		return after.TotalAlloc - before.TotalAlloc, s.pos
	}
	small, _ := run(10_000)
	big, consumed := run(1_000_000)
	t.Logf("allocated %d bytes for 10,001 descriptions, %d for 1,000,001; read %d of %d bytes", small, big, consumed, len(head)+20_000_000)
	assert.Less(t, big, uint64(1<<20), "bytes allocated")
	assert.InDelta(t, float64(small), float64(big), 64<<10, "allocation independent of the count")
	assert.Less(t, consumed, int64(1<<20), "stopped reading at the limit")

	// A new section starts a new count: 4096 interfaces in each of two
	// sections, and a packet on the last.
	w = newNG(binary.BigEndian)
	for range flow.MaxPcapNGInterfaces {
		w.idb(1, 0)
	}
	w.shb(1, 2) // version 1.2, read as 1.0
	for range flow.MaxPcapNGInterfaces {
		w.idb(101, 0)
	}
	w.epb(flow.MaxPcapNGInterfaces-1, 1, syn(40000)[14:])
	pkts, _, err := readAll(t, w.b)
	require.NoError(t, err)
	require.Len(t, pkts, 1)
	assert.Equal(t, flow.LinkRaw, pkts[0].LinkType)
}

// mallocs counts the heap allocations f makes.
// allocated returns the bytes allocated, process-wide, while f runs: a
// record read into a fresh buffer allocates at least its size, while the
// runtime and the test framework may allocate a few small objects of their
// own meanwhile (counting mallocs once failed on 7 of those on a loaded
// machine).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// pattern returns n bytes of a pattern that depends on seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// TestLargeRecords: records of 300 KiB and 2 MiB, above the 256 KiB pcapgo
// reads into its reused buffer, in pcapng and in pcap (snap length 4 MiB).
// Each is delivered whole; the second of a size allocates no buffer (pcapgo
// allocated 2.7 times the record each time).
func TestLargeRecords(t *testing.T) {
	sizes := []int{300 << 10, 300 << 10, 2 << 20, 2 << 20, 100, 2 << 20}
	recs := make([][]byte, len(sizes))
	for i, n := range sizes {
		recs[i] = pattern(n, byte(i))
	}
	ts := times(len(recs))
	w := newNG(binary.LittleEndian)
	w.idb(1, 0, w.tsresol(9))
	for i, r := range recs {
		w.epb(0, uint64(ts[i].UnixNano()), r)
	}
	files := map[string][]byte{
		"pcapng": w.b,
		"pcap":   pcapFileSnap(binary.LittleEndian, false, 1, 4<<20, recs, ts),
		"pcapBE": pcapFileSnap(binary.BigEndian, true, 1, 4<<20, recs, ts),
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			rd, err := flow.NewReader(bytes.NewReader(b))
			require.NoError(t, err)
			for i := range recs {
				var p *flow.Packet
				n := allocated(func() { p, err = rd.Next() })
				require.NoError(t, err, "record %d", i+1)
				assert.Equal(t, uint64(i+1), p.Index)
				assert.True(t, bytes.Equal(recs[i], p.Data), "record %d data", i+1)
				assert.Equal(t, len(recs[i]), p.Length)
				assert.Equal(t, ts[i], p.Time, "record %d", i+1)
				if i == 1 || i == 3 || i == 5 {
					assert.Less(t, n, uint64(sizes[i]/8), "record %d (%d bytes) read into a fresh buffer", i+1, sizes[i])
				}
			}
			_, err = rd.Next()
			assert.ErrorIs(t, err, io.EOF)
		})
	}
	// The limits stay pcapgo's: above max(snap length, 256 KiB), or a
	// captured length above the original, is an error before any read.
	for _, tc := range []struct {
		name      string
		snap      uint32
		cap, orig uint32
		msg       string
	}{
		{"over 256 KiB and the snap length", 65535, 300 << 10, 300 << 10, "capture length exceeds snap length: 307200 > 65535"},
		{"over the snap length", 1 << 20, 2 << 20, 2 << 20, "capture length exceeds snap length: 2097152 > 1048576"},
		{"original below captured", 1 << 20, 300 << 10, 1000, "capture length exceeds original packet length: 307200 > 1000"},
	} {
		b := pcapFileSnap(binary.LittleEndian, false, 1, tc.snap, [][]byte{syn(1)}, times(1))
		hdr := binary.LittleEndian.AppendUint32(nil, 1)
		hdr = binary.LittleEndian.AppendUint32(hdr, 0)
		hdr = binary.LittleEndian.AppendUint32(hdr, tc.cap)
		hdr = binary.LittleEndian.AppendUint32(hdr, tc.orig)
		b = append(append(b, hdr...), make([]byte, tc.cap)...)
		pkts, _, err := readAll(t, b)
		assert.Len(t, pkts, 1, tc.name)
		var re *flow.ReadError
		require.ErrorAs(t, err, &re, tc.name)
		assert.Equal(t, int64(24+16+54), re.Offset, tc.name)
		assert.ErrorContains(t, err, tc.msg, tc.name)
	}
}

// TestPcapNGBadBlocks: a hostile or damaged block after one good packet
// ends reading with a *ReadError at the block's exact offset; the packet is
// delivered.
func TestPcapNGBadBlocks(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		bad  func(w *ngFile) // appends the bad block
		msg  string
	}{
		{"length below 12", func(w *ngFile) {
			w.b = le.AppendUint32(w.b, 6)
			w.b = le.AppendUint32(w.b, 8)
			w.b = le.AppendUint32(w.b, 8)
		}, "length 8 below the minimum 12"},
		{"length not a multiple of 4", func(w *ngFile) {
			w.b = le.AppendUint32(w.b, 6)
			w.b = le.AppendUint32(w.b, 30)
			w.b = append(w.b, make([]byte, 22)...)
		}, "length 30 not a multiple of 4"},
		{"length over the limit", func(w *ngFile) {
			w.b = le.AppendUint32(w.b, 6)
			w.b = le.AppendUint32(w.b, flow.MaxPcapNGBlock+4)
			w.b = append(w.b, make([]byte, 100)...)
		}, "length 16777220 over the limit"},
		{"claims 4 GiB", func(w *ngFile) {
			w.b = le.AppendUint32(w.b, 6)
			w.b = le.AppendUint32(w.b, 0xfffffffc)
			w.b = append(w.b, make([]byte, 100)...)
		}, "length 4294967292 over the limit"},
		{"cut short", func(w *ngFile) {
			w.b = le.AppendUint32(w.b, 6)
			w.b = le.AppendUint32(w.b, 1<<20)
			w.b = append(w.b, make([]byte, 100)...)
		}, "unexpected EOF"},
		{"captured length beyond the block", func(w *ngFile) {
			w.raw(6, w.epbBody(0, 1, 1000, 1000, syn(1)), 0)
		}, "captured length 1000 beyond the block's 56 bytes of data"},
		{"captured length 4 GiB", func(w *ngFile) {
			w.raw(6, w.epbBody(0, 1, math.MaxUint32, math.MaxUint32, syn(1)), 0)
		}, "captured length 4294967295 beyond"},
		{"unknown interface", func(w *ngFile) { w.epb(1, 1, syn(1)) }, "interface 1 not described (the section describes 1)"},
		{"short packet block", func(w *ngFile) { w.raw(6, make([]byte, 12), 0) }, "enhanced packet block: 12 bytes, below the minimum 20"},
		{"short interface block", func(w *ngFile) { w.raw(1, make([]byte, 4), 0) }, "interface description block: 4 bytes"},
		{"version 2.0", func(w *ngFile) { w.shb(2, 0) }, "unsupported pcapng version 2.0"},
		{"version 1.3", func(w *ngFile) { w.shb(1, 3) }, "unsupported pcapng version 1.3"},
		{"byte-order magic", func(w *ngFile) {
			w.b = le.AppendUint32(w.b, 0x0a0d0d0a)
			w.b = le.AppendUint32(w.b, 28)
			w.b = append(w.b, make([]byte, 20)...)
		}, "byte-order magic 00000000"},
		{"simple packet before an interface", func(w *ngFile) {
			w.shb(1, 0)
			w.raw(3, le.AppendUint32(nil, 54), 0)
		}, "simple packet block: no interface"},
		{"packet before an interface", func(w *ngFile) {
			w.shb(1, 0)
			w.epb(0, 1, syn(1))
		}, "interface 0 not described (the section describes 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newNG(le)
			w.idb(1, 0)
			w.epb(0, 1, syn(40000))
			off := len(w.b)
			if tc.name == "simple packet before an interface" || tc.name == "packet before an interface" {
				off += 28 // after the new section header
			}
			tc.bad(w)
			pkts, _, err := readAll(t, w.b)
			require.Len(t, pkts, 1)
			var re *flow.ReadError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, uint64(2), re.Record)
			assert.Equal(t, int64(off), re.Offset)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

// TestReadTruncationPcapNG cuts a pcapng capture at every byte: no panic,
// every packet whose block is whole is delivered, and the error names the
// next packet's index and the offset of the block cut.
func TestReadTruncationPcapNG(t *testing.T) {
	w := newNG(binary.LittleEndian)
	starts := []int{0}
	starts = append(starts, w.idb(1, 65535, w.tsresol(9), w.opt(2, []byte("eth0"))))
	var pktEnds []int
	for i, p := range handshake() {
		if i == 3 {
			starts = append(starts, w.raw(5, make([]byte, 20), 0)) // statistics
		}
		starts = append(starts, w.epb(0, uint64(t0.UnixNano())+uint64(i), ether(0x0800, nil, p)))
		pktEnds = append(pktEnds, len(w.b))
	}
	full := w.b
	for cut := range len(full) {
		rd, err := flow.NewReader(bytes.NewReader(full[:cut]))
		if cut < 28 {
			require.Error(t, err, "cut %d", cut)
			continue
		}
		require.NoError(t, err, "cut %d", cut)
		var n uint64
		for {
			_, err = rd.Next()
			if err != nil {
				break
			}
			n++
		}
		whole := 0
		for _, e := range pktEnds {
			if e <= cut {
				whole++
			}
		}
		assert.Equal(t, uint64(whole), n, "cut %d", cut)
		start := 0 // the block the cut falls in
		for _, s := range starts {
			if s <= cut {
				start = s
			}
		}
		if cut == start {
			assert.ErrorIs(t, err, io.EOF, "cut %d at a block boundary", cut)
			continue
		}
		var re *flow.ReadError
		require.ErrorAs(t, err, &re, "cut %d", cut)
		assert.Equal(t, uint64(whole+1), re.Record, "cut %d", cut)
		assert.Equal(t, int64(start), re.Offset, "cut %d", cut)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut %d", cut)
	}
}

// TestReaderNextAllocs: once reading has started, Next allocates nothing
// per packet, pcap or pcapng.
func TestReaderNextAllocs(t *testing.T) {
	var recs [][]byte
	for i := range 300 {
		recs = append(recs, syn(uint16(i)))
	}
	ts := times(len(recs))
	w := newNG(binary.BigEndian)
	w.idb(1, 65535, w.tsresol(0x94), w.tsoffset(-3600)) // 2^-20 s units
	for i, r := range recs {
		w.epb(0, uint64(ts[i].Unix()+3600)<<20, r)
	}
	for name, b := range map[string][]byte{"pcapng": w.b, "pcap": pcapFile(binary.LittleEndian, true, 1, recs, ts)} {
		rd, err := flow.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		_, err = rd.Next()
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := rd.Next(); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, name)
	}
}
