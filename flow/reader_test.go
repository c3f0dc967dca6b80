package flow_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// pcapFile writes a classic pcap file in either byte order and timestamp
// resolution with flowtest's writer (the project's own, not the library
// the reader wraps).
func pcapFile(order binary.ByteOrder, nano bool, link uint32, recs [][]byte, times []time.Time) []byte {
	return flowtest.PcapFile(order, nano, link, 65535, recs, times)
}

// pcapFileSnap is pcapFile with the snap length snap in the file header.
func pcapFileSnap(order binary.ByteOrder, nano bool, link, snap uint32, recs [][]byte, times []time.Time) []byte {
	return flowtest.PcapFile(order, nano, link, snap, recs, times)
}

// ipv4TCP builds a minimal IPv4+TCP packet (no link header).
func ipv4TCP(src, dst [4]byte, sport, dport uint16, seq uint32, flags byte, payload []byte) []byte {
	return flowtest.AppendIP(nil, &flowtest.TCP{
		Src: netip.AddrPortFrom(netip.AddrFrom4(src), sport), Dst: netip.AddrPortFrom(netip.AddrFrom4(dst), dport),
		Seq: seq, Flags: flags, Window: 65535, Payload: payload})
}

func ether(ethertype uint16, tags []uint16, payload []byte) []byte {
	b := make([]byte, 12, 14+4*len(tags)+len(payload))
	b[0], b[6] = 0x02, 0x02
	b[11] = 1
	for i, tag := range tags {
		tpid := uint16(0x8100)
		if i == 0 && len(tags) > 1 {
			tpid = 0x88a8
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, tag)
	}
	b = binary.BigEndian.AppendUint16(b, ethertype)
	return append(b, payload...)
}

var (
	cli = [4]byte{10, 0, 0, 1}
	srv = [4]byte{10, 0, 0, 2}
	t0  = time.Date(2026, 11, 22, 12, 0, 0, 123456000, time.UTC)
)

// handshake returns a three-way handshake, one data segment each way and
// a FIN exchange: 7 IPv4 packets.
func handshake() [][]byte {
	return [][]byte{
		ipv4TCP(cli, srv, 40000, 80, 1000, 0x02, nil),
		ipv4TCP(srv, cli, 80, 40000, 5000, 0x12, nil),
		ipv4TCP(cli, srv, 40000, 80, 1001, 0x10, nil),
		ipv4TCP(cli, srv, 40000, 80, 1001, 0x18, []byte("GET / HTTP/1.0\r\n\r\n")),
		ipv4TCP(srv, cli, 80, 40000, 5001, 0x18, []byte("HTTP/1.0 200 OK\r\n\r\nhello")),
		ipv4TCP(srv, cli, 80, 40000, 5025, 0x11, nil),
		ipv4TCP(cli, srv, 40000, 80, 1019, 0x11, nil),
	}
}

func times(n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * 1500 * time.Microsecond)
	}
	return ts
}

func TestReaderFormats(t *testing.T) {
	pkts := handshake()
	withEth := make([][]byte, len(pkts))
	for i, p := range pkts {
		withEth[i] = ether(0x0800, nil, p)
	}
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		nano  bool
	}{
		{"le-usec", binary.LittleEndian, false},
		{"be-usec", binary.BigEndian, false},
		{"le-nsec", binary.LittleEndian, true},
		{"be-nsec", binary.BigEndian, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := pcapFile(tc.order, tc.nano, 1, withEth, times(len(pkts)))
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, _ = zw.Write(raw)
			require.NoError(t, zw.Close())
			for _, in := range [][]byte{raw, gz.Bytes()} {
				res, err := flow.Analyze(bytes.NewReader(in), flow.Config{KeepConns: true})
				require.NoError(t, err)
				assert.Equal(t, flow.FormatPcap, res.Format)
				require.Len(t, res.Conns, 1)
				c := res.Conns[0]
				assert.Equal(t, "10.0.0.1:40000", c.Client.String())
				assert.Equal(t, "10.0.0.2:80", c.Server.String())
				assert.Equal(t, t0, c.First)
				assert.Equal(t, t0.Add(6*1500*time.Microsecond), c.Last)
				assert.Equal(t, "complete", c.State.String())
				assert.Equal(t, uint64(4), c.C2S.Packets)
				assert.Equal(t, uint64(3), c.S2C.Packets)
				assert.Equal(t, uint64(18), c.C2S.UniqueBytes)
				assert.Equal(t, uint64(24), c.S2C.UniqueBytes)
				var wire uint64
				for _, p := range withEth[:] {
					wire += uint64(len(p))
				}
				assert.Equal(t, wire, c.C2S.WireBytes+c.S2C.WireBytes)
				assert.Equal(t, uint64(7), res.Summary.TCPPackets)
			}
		})
	}
}

// TestLinkTypes runs the same packets under every supported link header.
func TestLinkTypes(t *testing.T) {
	pkts := handshake()
	wrap := map[string]struct {
		link uint32
		f    func([]byte) []byte
	}{
		"ethernet": {1, func(p []byte) []byte { return ether(0x0800, nil, p) }},
		"vlan":     {1, func(p []byte) []byte { return ether(0x0800, []uint16{7}, p) }},
		"qinq":     {1, func(p []byte) []byte { return ether(0x0800, []uint16{7, 9}, p) }},
		"raw":      {101, func(p []byte) []byte { return p }},
		"ipv4":     {228, func(p []byte) []byte { return p }},
		"null-le":  {0, func(p []byte) []byte { return append([]byte{2, 0, 0, 0}, p...) }},
		"null-be":  {0, func(p []byte) []byte { return append([]byte{0, 0, 0, 2}, p...) }},
		"loop":     {108, func(p []byte) []byte { return append([]byte{0, 0, 0, 2}, p...) }},
		"sll": {113, func(p []byte) []byte {
			h := make([]byte, 16)
			binary.BigEndian.PutUint16(h[14:], 0x0800)
			return append(h, p...)
		}},
		"sll2": {276, func(p []byte) []byte {
			h := make([]byte, 20)
			binary.BigEndian.PutUint16(h[0:], 0x0800)
			return append(h, p...)
		}},
		"nflog": {239, func(p []byte) []byte {
			h := []byte{2, 0, 0, 0}
			// a prefix TLV (type 10) then the payload TLV (type 9)
			h = binary.LittleEndian.AppendUint16(h, 8)
			h = binary.LittleEndian.AppendUint16(h, 10)
			h = append(h, 'a', 'b', 'c', 0)
			h = binary.LittleEndian.AppendUint16(h, uint16(4+len(p)))
			h = binary.LittleEndian.AppendUint16(h, 9)
			return append(h, p...)
		}},
	}
	for name, w := range wrap {
		t.Run(name, func(t *testing.T) {
			recs := make([][]byte, len(pkts))
			for i, p := range pkts {
				recs[i] = w.f(p)
			}
			res, err := flow.Analyze(bytes.NewReader(pcapFile(binary.LittleEndian, false, w.link, recs, times(len(recs)))), flow.Config{KeepConns: true})
			require.NoError(t, err)
			require.Len(t, res.Conns, 1, "summary %+v", res.Summary)
			assert.Equal(t, uint64(7), res.Summary.TCPPackets)
			assert.Equal(t, uint64(18), res.Conns[0].C2S.UniqueBytes)
		})
	}
	t.Run("unsupported", func(t *testing.T) {
		res, err := flow.Analyze(bytes.NewReader(pcapFile(binary.LittleEndian, false, 147, pkts, times(len(pkts)))), flow.Config{KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, map[string]uint64{"unsupported_link_type": 7}, res.Summary.Skipped)
	})
}

// TestReadTruncation cuts a capture at every byte: no panic, every packet
// before the cut is delivered, and the error names the record and offset.
func TestReadTruncation(t *testing.T) {
	pkts := handshake()
	recs := make([][]byte, len(pkts))
	ends := make([]int, len(pkts)) // byte offset where each record ends
	off := 24
	for i, p := range pkts {
		recs[i] = ether(0x0800, nil, p)
		off += 16 + len(recs[i])
		ends[i] = off
	}
	full := pcapFile(binary.LittleEndian, false, 1, recs, times(len(recs)))
	require.Equal(t, off, len(full))
	for cut := 0; cut < len(full); cut++ {
		res, err := flow.Analyze(bytes.NewReader(full[:cut]), flow.Config{KeepConns: true})
		if cut < 24 {
			require.Error(t, err, "cut %d", cut)
			assert.Nil(t, res)
			continue
		}
		whole := 0
		for _, e := range ends {
			if e <= cut {
				whole++
			}
		}
		require.NotNil(t, res, "cut %d", cut)
		assert.Equal(t, uint64(whole), res.Summary.Packets, "cut %d", cut)
		start := 24
		if whole > 0 {
			start = ends[whole-1]
		}
		if cut == start {
			assert.NoError(t, err, "cut %d at a record boundary", cut)
			continue
		}
		var re *flow.ReadError
		require.ErrorAs(t, err, &re, "cut %d", cut)
		assert.Equal(t, uint64(whole+1), re.Record, "cut %d", cut)
		assert.Equal(t, int64(start), re.Offset, "cut %d", cut)
		assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "cut %d: %v", cut, err)
	}
}

func TestHugeRecordLength(t *testing.T) {
	recs := [][]byte{ether(0x0800, nil, handshake()[0])}
	b := pcapFile(binary.LittleEndian, false, 1, recs, times(1))
	// A second record header claiming 3 GB.
	hdr := make([]byte, 16)
	binary.LittleEndian.PutUint32(hdr[8:], 3<<30)
	binary.LittleEndian.PutUint32(hdr[12:], 3<<30)
	b = append(b, hdr...)
	b = append(b, make([]byte, 100)...)
	res, err := flow.Analyze(bytes.NewReader(b), flow.Config{KeepConns: true})
	var re *flow.ReadError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, uint64(2), re.Record)
	require.NotNil(t, res)
	assert.Equal(t, uint64(1), res.Summary.TCPPackets)
}

func TestUnknownFormat(t *testing.T) {
	_, err := flow.Analyze(bytes.NewReader([]byte("this is not a capture file")), flow.Config{KeepConns: true})
	assert.ErrorIs(t, err, flow.ErrUnknownFormat)
}

// TestBrokenCorpus reads every damaged public capture: no panic, and the
// packets read before the damage are kept and accounted for.
func TestBrokenCorpus(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public/broken")
	for _, f := range flowtest.Captures(t, dir) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, err := flow.AnalyzeFile(f, flow.Config{KeepConns: true})
			if res == nil {
				require.Error(t, err)
				return
			}
			s := res.Summary
			var other, skipped uint64
			for _, n := range s.Other {
				other += n
			}
			for _, n := range s.Skipped {
				skipped += n
			}
			assert.Equal(t, s.Packets, s.TCPPackets+other+skipped, "every packet accounted for")
			var re *flow.ReadError
			if errors.As(err, &re) {
				assert.Equal(t, s.Packets+1, re.Record, "error names the record after the last good one")
			}
		})
	}
	// Named expectations from the corpus description (SOURCES.md).
	res, err := flow.AnalyzeFile(filepath.Join(dir, "ppa_http-fault-post.pcap"), flow.Config{KeepConns: true})
	var re *flow.ReadError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, uint64(25), res.Summary.Packets, "25 readable packets")
	assert.True(t, re.OffsetExact)
	// Record 1 is whole; record 2's header claims over 1 GB (tshark clamps
	// and shows garbage, capinfos counts it): we refuse it and stop.
	res, err = flow.AnalyzeFile(filepath.Join(dir, "sv_fuzz_bug-6875.pcap"), flow.Config{KeepConns: true})
	require.ErrorAs(t, err, &re)
	assert.Equal(t, uint64(1), res.Summary.Packets)
	assert.Equal(t, uint64(2), re.Record)
	assert.Equal(t, int64(228), re.Offset)
	res, err = flow.AnalyzeFile(filepath.Join(dir, "td_tcp_rst_data-trunc.pcap"), flow.Config{KeepConns: true})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.Summary.TruncatedTCP, "the snaplen-cut RST is analysed and counted truncated")
	require.Len(t, res.Conns, 1)
}

func TestStdinLikeReader(t *testing.T) {
	// A reader that returns one byte at a time, like a slow pipe.
	pkts := handshake()
	recs := make([][]byte, len(pkts))
	for i, p := range pkts {
		recs[i] = ether(0x0800, nil, p)
	}
	b := pcapFile(binary.LittleEndian, true, 1, recs, times(len(recs)))
	res, err := flow.Analyze(iotestOneByte{bytes.NewReader(b)}, flow.Config{KeepConns: true})
	require.NoError(t, err)
	assert.Equal(t, uint64(7), res.Summary.TCPPackets)
}

type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// BenchmarkRead measures the Reader alone on the benchmark capture (see
// benchCapture) held in memory: one op is one pass, reported per packet.
func BenchmarkRead(b *testing.B) {
	path := benchCapture(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var packets int
	for b.Loop() {
		rd, err := flow.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		packets = 0
		for {
			if _, err := rd.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
			packets++
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*packets), "ns/packet")
}
