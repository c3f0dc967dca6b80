package census

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// TestLZParse checks the greedy parse on inputs worked out by hand.
func TestLZParse(t *testing.T) {
	var z lz
	for _, tc := range []struct {
		name              string
		in                []byte
		matched, estimate uint64
	}{
		// Too short for a 4-byte match: 3 literals.
		{"short", []byte("abc"), 0, 3},
		// "abcd" literal, then "abcdabcd" matches from offset 0
		// (overlapping): 8 matched, 4 + 3 estimated.
		{"repeat", []byte("abcdabcdabcd"), 8, 7},
		// One literal space, then a match of 999 at distance 1:
		// 1 + 3 + (999-4)/255 = 1 + 3 + 3.
		{"spaces", bytes.Repeat([]byte{' '}, 1000), 999, 7},
		// No 4-byte sequence occurs twice: all literal.
		{"distinct", []byte("abcdefghijklmnopqrstuvwxyz"), 0, 26},
		{"empty", nil, 0, 0},
	} {
		m, e := z.parse(tc.in)
		assert.Equal(t, [2]uint64{tc.matched, tc.estimate}, [2]uint64{m, e}, tc.name)
	}
	// The table is reused from segment to segment without clearing: a
	// second "distinct" is still all literal (the entries of the first
	// belong to an old generation).
	m, e := z.parse([]byte("abcdefghijklmnopqrstuvwxyz"))
	assert.Equal(t, [2]uint64{0, 26}, [2]uint64{m, e})
	// Random bytes hardly match.
	rnd := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	m, e = z.parse(rnd)
	assert.Less(t, m, uint64(64))
	assert.GreaterOrEqual(t, e, uint64(4096-64))
}

// TestLZGenerationWrap parses across the wrap of the 16-bit generation,
// where the table is cleared.
func TestLZGenerationWrap(t *testing.T) {
	var z lz
	z.gen = 1<<16 - 2
	for range 4 {
		m, e := z.parse([]byte("abcdefghijklmnopqrstuvwxyz"))
		require.Equal(t, [2]uint64{0, 26}, [2]uint64{m, e})
	}
	assert.Equal(t, uint32(3), z.gen) // 65535, then cleared at 65536 to 1, 2, 3
}

// TestRuns checks run counting across segments: a run continues into the
// next segment only when that segment follows in sequence and the first
// was captured whole.
func TestRuns(t *testing.T) {
	var d dirScan
	// 5 spaces end segment 1 and 5 more start segment 2 (in sequence):
	// one run of 10 ≥ 8.
	d.runs(100, []byte("abc     "), 8, 8)
	d.runs(108, []byte("     xyz"), 8, 8)
	assert.Equal(t, uint64(10), d.red.SpaceRunBytes)
	// A segment out of sequence starts afresh: 5 + 5 zeros, no run.
	d.runs(500, []byte{'q', 0, 0, 0, 0, 0}, 6, 8)
	d.runs(900, []byte{0, 0, 0, 0, 0, 'q'}, 6, 8)
	assert.Equal(t, uint64(0), d.red.ZeroRunBytes)
	// A segment the snap length cut (4 of 10 bytes captured) does not
	// continue: the next one at its wire end starts afresh.
	d.runs(1000, []byte("zzzz"), 10, 8)
	d.runs(1010, []byte("zzzzzzz"), 7, 8)
	assert.Equal(t, uint64(0), d.red.OtherRunBytes)
	// 9 equal bytes: a run of 9.
	d.runs(2000, []byte("kkkkkkkkk"), 9, 8)
	assert.Equal(t, uint64(9), d.red.OtherRunBytes)
	assert.Equal(t, uint64(8+8+6+6+10+7+9), d.red.PayloadBytes)
	assert.Equal(t, uint64(8+8+6+6+4+7+9), d.red.CapturedBytes)
}

// TestRedundancyShares checks the derived shares.
func TestRedundancyShares(t *testing.T) {
	r := Redundancy{CapturedBytes: 1000, SpaceRunBytes: 300, SampledBytes: 200, MatchedBytes: 100, EstimatedBytes: 120}
	r.finish()
	assert.InDelta(t, 0.3, r.RunShare, 1e-12)
	assert.InDelta(t, 0.5, r.MatchShare, 1e-12)
	assert.InDelta(t, 0.6, r.Ratio, 1e-12)
	// max(300 runs, 0.5 × 1000)
	assert.Equal(t, uint64(500), r.RedundantBytes)
	assert.Equal(t, uint64(1<<62), mulDiv(1<<62, 1<<62, 1<<62))
	assert.Equal(t, uint64(3<<60), mulDiv(3<<61, 1<<62, 1<<63))
}

// FuzzPayload feeds arbitrary payloads, split at an arbitrary point into
// two segments, to the scans and checks their invariants: run bytes never
// exceed the captured bytes, matches never exceed the sample, and the
// estimate lies between a token per 255 matched bytes and the sample.
func FuzzPayload(f *testing.F) {
	f.Add([]byte("hello            world\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 5, 4)
	f.Add(bytes.Repeat([]byte("ab"), 300), 0, 8)
	f.Fuzz(func(t *testing.T, b []byte, cut, minRun int) {
		if minRun < 1 || minRun > 64 {
			minRun = 8
		}
		if cut < 0 || cut > len(b) {
			cut = len(b) / 2
		}
		var z lz
		var d dirScan
		d.runs(0, b[:cut], cut, minRun)
		d.runs(tcpstate.Seq(cut), b[cut:], len(b)-cut, minRun)
		d.sample(&z, b[:cut], 1<<20)
		d.sample(&z, b[cut:], 1<<20)
		r := d.red
		if r.RunBytes() > r.CapturedBytes || r.CapturedBytes != uint64(len(b)) {
			t.Fatalf("runs %d of %d captured (len %d)", r.RunBytes(), r.CapturedBytes, len(b))
		}
		if r.MatchedBytes > r.SampledBytes || r.EstimatedBytes > r.SampledBytes || r.SampledBytes != uint64(len(b)) {
			t.Fatalf("matched %d estimated %d of %d sampled", r.MatchedBytes, r.EstimatedBytes, r.SampledBytes)
		}
		if r.EstimatedBytes+r.MatchedBytes < r.SampledBytes {
			t.Fatalf("estimate %d below the literals %d", r.EstimatedBytes, r.SampledBytes-r.MatchedBytes)
		}
		r.finish()
		if r.RedundantBytes > r.CapturedBytes {
			t.Fatalf("redundant %d of %d", r.RedundantBytes, r.CapturedBytes)
		}
	})
}

// FuzzPacketInfo hands the census packets flow might describe with
// arbitrary protocols, lengths and transport bytes: nothing may panic and
// every packet must be counted once.
func FuzzPacketInfo(f *testing.F) {
	f.Add(uint8(1), []byte{8, 0, 0, 0}, 1500, 1514)
	f.Add(uint8(17), []byte{2, 8, 2, 8}, 20, 62)
	f.Add(uint8(58), []byte{}, -5, 0)
	f.Fuzz(func(t *testing.T, proto uint8, l4 []byte, l4len, wire int) {
		c := New(Config{Local: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		p := &flow.PacketInfo{Index: 1, Time: t0, WireLen: wire, Kind: flow.KindOtherIP, Proto: proto,
			Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("192.0.2.1"), L4: l4, L4Len: l4len}
		c.Packet(p)
		p.Src, p.Dst, p.Kind = netip.Addr{}, netip.Addr{}, flow.KindNonIP
		c.Packet(p)
		rep := c.Report()
		if s := rep.Total.Sum(); s.Packets != 2 {
			t.Fatalf("%d packets counted", s.Packets)
		}
	})
}

// BenchmarkPacket measures the per-packet path on the constructed
// capture's packets, replayed with advancing times: it must not allocate.
func BenchmarkPacket(b *testing.B) {
	c := mixedCapture(b)
	var infos []flow.PacketInfo
	keep := flow.PacketFunc(func(p *flow.PacketInfo) {
		q := *p
		q.L4 = bytes.Clone(p.L4)
		if p.Seg != nil {
			s := *p.Seg
			s.Payload = q.L4[len(q.L4)-len(p.Seg.Payload):]
			q.Seg = &s
			cn := *p.Conn
			q.Conn = &cn
		}
		q.Analysis, q.TCP = nil, nil
		infos = append(infos, q)
	})
	_, err := flow.Analyze(bytes.NewReader(c.bytes()), flow.Config{Consumers: []flow.Consumer{keep}})
	require.NoError(b, err)
	cs := New(mixedConfig)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := &infos[i%len(infos)]
		p.Time = t0.Add(time.Duration(i) * time.Microsecond)
		cs.Packet(p)
	}
}

// naiveRuns counts, byte by byte, the bytes in runs of at least minRun
// equal bytes of the concatenation of segs (the reference for runs).
func naiveRuns(segs [][]byte, minRun int) (space, zero, other uint64) {
	var all []byte
	for _, s := range segs {
		all = append(all, s...)
	}
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j] == all[i] {
			j++
		}
		if j-i >= minRun {
			switch all[i] {
			case ' ':
				space += uint64(j - i)
			case 0:
				zero += uint64(j - i)
			default:
				other += uint64(j - i)
			}
		}
		i = j
	}
	return
}

// TestRunsReference compares the run scan, word-skipping included, with
// the byte-by-byte reference on random payloads of few distinct bytes cut
// into random in-sequence segments.
func TestRunsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{' ', 0, 'a', 'b'}
	for round := range 2000 {
		n := r.IntN(300)
		b := make([]byte, n)
		k := 2 + r.IntN(30) // mean run length grows with k
		for i := range b {
			if i == 0 || r.IntN(k) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = b[i-1]
			}
			if r.IntN(5) == 0 {
				b[i] = byte(r.Uint32())
			}
		}
		var segs [][]byte
		for rest := b; len(rest) > 0; {
			c := 1 + r.IntN(len(rest))
			segs = append(segs, rest[:c])
			rest = rest[c:]
		}
		minRun := 1 + r.IntN(12)
		var d dirScan
		seq := tcpstate.Seq(r.Uint32())
		for _, s := range segs {
			d.runs(seq, s, len(s), minRun)
			seq = seq.Add(tcpstate.Size(len(s)))
		}
		sp, z, o := naiveRuns(segs, minRun)
		require.Equal(t, [3]uint64{sp, z, o}, [3]uint64{d.red.SpaceRunBytes, d.red.ZeroRunBytes, d.red.OtherRunBytes},
			"round %d, minRun %d, %q", round, minRun, b)
	}
}
