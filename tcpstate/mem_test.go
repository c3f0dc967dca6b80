package tcpstate

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connBytes returns the heap bytes one connection costs after build has fed
// it, averaged over n connections kept alive.
func connBytes(n int, build func(c *Conn, base time.Time)) float64 {
	return heapPerConn(n, false, build)
}

// liveBytes returns the heap bytes that stay live per connection after
// build has fed it, averaged over n connections kept alive.
func liveBytes(n int, build func(c *Conn, base time.Time)) float64 {
	return heapPerConn(n, true, build)
}

// heapPerConn feeds n connections with build, keeps them alive and
// returns the heap bytes per connection: all allocated (TotalAlloc), or
// with live what stays live after a collection (HeapAlloc).
func heapPerConn(n int, live bool, build func(c *Conn, base time.Time)) float64 {
	keep := make([]*Conn, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range keep {
		c := NewConn()
		build(c, t0)
		keep[i] = c
	}
	if live {
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	if live {
		return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	}
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// TestMemPerConn bounds a connection's heap: a SYN-only connection (the
// Conn and its first remembered segment) and an established chatty one
// (10 turns with timestamps: the TSval ring and the RTT samples). Before
// issue 17's trimming they took 5120 and 7168 bytes (time.Time in every
// remembered segment, a 16-segment first buffer, the TSval ring and the
// retransmission buffer inline); before the RTT reservoir held 4-byte
// microseconds instead of 8-byte durations, the chatty one took 5568.
func TestMemPerConn(t *testing.T) {
	syn := connBytes(2000, func(c *Conn, t0 time.Time) {
		s := &Segment{Index: 1, Time: t0, Seq: 1000, Flags: SYN, Window: 1000}
		s.Opts.HasMSS, s.Opts.MSS, s.Opts.HasTimestamps, s.Opts.TSVal = true, 1460, true, 7
		c.Add(ClientToServer, s)
	})
	chatty := connBytes(2000, func(c *Conn, t0 time.Time) { chattyConn(c, t0, 10, false) })
	t.Logf("tcpstate.Conn: SYN-only %.0f B, chatty (10 turns) %.0f B", syn, chatty)
	assert.LessOrEqual(t, syn, 3300.0)
	assert.LessOrEqual(t, chatty, 5200.0)
}

// chattyConn feeds c a handshake and turns request/response exchanges
// with timestamps (each segment's TSecr the TSval before it), the
// request ACKing the last answer; then the last answer's ACK, and if
// closed a FIN each way and the last ACK.
func chattyConn(c *Conn, t0 time.Time, turns int, closed bool) {
	now := t0
	ts := uint32(100)
	seg := func(d Dir, seq, ack Seq, f Flags, n int) {
		s := &Segment{Index: 1, Time: now, Seq: seq, Ack: ack, Flags: f, Len: n, Window: 1000}
		s.Opts.HasTimestamps, s.Opts.TSVal, s.Opts.TSEcr = true, ts, ts-1
		if f.Has(SYN) {
			s.Opts.HasMSS, s.Opts.MSS = true, 1460
		}
		c.Add(d, s)
		ts++
		now = now.Add(10 * time.Millisecond)
	}
	cs, ss := handshakeWith(seg)
	for range turns {
		seg(ClientToServer, cs, ss, ACK|PSH, 50)
		cs = cs.Add(50)
		seg(ServerToClient, ss, cs, ACK|PSH, 400)
		ss = ss.Add(400)
	}
	seg(ClientToServer, cs, ss, ACK, 0)
	if closed {
		seg(ClientToServer, cs, ss, FIN|ACK, 0)
		seg(ServerToClient, ss, cs+1, FIN|ACK, 0)
		seg(ClientToServer, cs+1, ss+1, ACK, 0)
	}
}

// TestSamplerMicroseconds checks the reservoir kept in whole microseconds
// (4 bytes a sample, 8 once a sample exceeds 2^32-1 µs) against the
// nearest-rank quantiles of the samples themselves: 7 samples, the 4th
// smallest is the median and the 7th the 95th percentile (ceil(0.95*7)=7).
func TestSamplerMicroseconds(t *testing.T) {
	var s sampler
	// 1.2345 ms truncates to 1.234 ms as us() reports it.
	for _, d := range []time.Duration{3 * time.Millisecond, 1234500 * time.Nanosecond, 10 * time.Millisecond, 7 * time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 4 * time.Millisecond} {
		s.add(d)
	}
	assert.Nil(t, s.wide)
	sum := s.summary()
	assert.Equal(t, RTTSummary{Samples: 7, Min: 1234 * time.Microsecond, Median: 4 * time.Millisecond, P95: 10 * time.Millisecond, Max: 10 * time.Millisecond}, sum)
	// 72 minutes = 4,320,000,000 µs > 2^32-1 = 4,294,967,295: the
	// reservoir widens, the earlier samples kept.
	s.add(72 * time.Minute)
	assert.Nil(t, s.keep)
	assert.Len(t, s.wide, 8)
	sum = s.summary()
	// 8 samples: median rank ceil(4)=4 (4 ms), p95 rank ceil(7.6)=8.
	assert.Equal(t, RTTSummary{Samples: 8, Min: 1234 * time.Microsecond, Median: 4 * time.Millisecond, P95: 72 * time.Minute, Max: 72 * time.Minute}, sum)
}

// bulkConn feeds c a handshake, then 300 full-size segments from the
// server in flights of 30, the client ACKing every second segment, and,
// if closed, a FIN each way and the last ACK.
func bulkConn(c *Conn, t0 time.Time, closed bool) {
	now := t0
	seg := func(d Dir, seq, ack Seq, f Flags, n int) {
		c.Add(d, &Segment{Index: 1, Time: now, Seq: seq, Ack: ack, Flags: f, Len: n, Window: 65535})
		now = now.Add(100 * time.Microsecond)
	}
	cs, ss := handshakeWith(seg)
	for range 10 {
		first := ss
		for range 30 {
			seg(ServerToClient, ss, cs, ACK, 1448)
			ss = ss.Add(1448)
		}
		for a := first.Add(2 * 1448); !ss.LessThan(a); a = a.Add(2 * 1448) {
			seg(ClientToServer, cs, a, ACK, 0)
		}
	}
	if closed {
		seg(ServerToClient, ss, cs, FIN|ACK, 0)
		seg(ClientToServer, cs, ss+1, FIN|ACK, 0)
		seg(ServerToClient, ss+1, cs+1, ACK, 0)
	}
}

// TestClosedConnTrimmed checks that a closed connection, which flow keeps
// for a while to count its late packets (CloseLinger: on a busy capture
// thousands at once), holds less than an open one with the same history:
// the emptied list of unacknowledged segments (grown to a 30-segment
// flight) is released and the RTT reservoir shrinks to its samples
// (about 150 data→ACK samples in a slice grown to 256); see
// TestSamplerClipKeepsSamples for what it reports.
func TestClosedConnTrimmed(t *testing.T) {
	open := liveBytes(1000, func(c *Conn, t0 time.Time) { bulkConn(c, t0, false) })
	closed := liveBytes(1000, func(c *Conn, t0 time.Time) { bulkConn(c, t0, true) })
	t.Logf("bulk connection: open %.0f B, closed %.0f B live", open, closed)
	// the segment list (32 x 40 B) and the reservoir's slack (106 x 4 B)
	assert.Less(t, closed, open-1500)

	c := NewConn()
	bulkConn(c, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true)
	assert.Nil(t, c.h[ServerToClient].segs)
	// shrunk to its samples (rounded up to the allocator's size class)
	assert.Less(t, cap(c.h[ServerToClient].rtt.keep), 200)
}

// TestSamplerClipKeepsSamples checks that shrinking a reservoir changes
// nothing it reports, then or after more samples: two samplers fed the
// same 6000 samples (past MaxRTTSamples, into the random replacement),
// one clipped after 100 and after 5000, hold the same samples.
func TestSamplerClipKeepsSamples(t *testing.T) {
	var a, b sampler
	for i := range 6000 {
		d := time.Duration((i*7919)%10007) * time.Microsecond
		a.add(d)
		b.add(d)
		if i == 100 || i == 5000 {
			b.clip()
			assert.Equal(t, a.summary(), b.summary())
		}
	}
	assert.Equal(t, a.keep, b.keep)
	assert.Equal(t, a.summary(), b.summary())
}

// TestTrimOnceAfterReset: a connection that goes on after a RST (the
// hosts ignored it) is closed for Closed, so its buffers are trimmed; its
// emptied segment list is released once, not at every turn, so the turns
// after it allocate nothing.
func TestTrimOnceAfterReset(t *testing.T) {
	c := NewConn()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seg := func(d Dir, seq, ack Seq, f Flags, n int) {
		c.Add(d, &Segment{Index: 1, Time: now, Seq: seq, Ack: ack, Flags: f, Len: n, Window: 1000})
		now = now.Add(time.Millisecond)
	}
	cs, ss := handshakeWith(seg)
	seg(ClientToServer, cs, ss, RST|ACK, 0)
	turn := func() {
		seg(ClientToServer, cs, ss, ACK|PSH, 50)
		cs = cs.Add(50)
		seg(ServerToClient, ss, cs, ACK|PSH, 400)
		ss = ss.Add(400)
		seg(ClientToServer, cs, ss, ACK, 0)
	}
	turn()
	turn()
	assert.True(t, c.Closed())
	assert.Zero(t, testing.AllocsPerRun(100, turn))
}

// TestSamplerPack: a clipped reservoir is packed (the zigzag varints of
// the differences between samples) and unpacked to the same samples in
// the same order, from 0 to 2^32-1 µs and back; a closed connection's
// RTTs, alike (here 150-406 µs), take under two bytes each instead of
// four, and the summary is the unpacked one's.
func TestSamplerPack(t *testing.T) {
	ext := []uint32{0, math.MaxUint32, 0, 1, math.MaxUint32 - 1, 127, 128, 16383, 16384, 7, 7}
	s := sampler{keep: slices.Clone(ext)}
	w := pack(ext)
	require.Equal(t, uint32(len(ext)), w[0])
	s.keep, s.packed = w, true
	s.unpack(0)
	assert.Equal(t, ext, s.keep)
	// appended one at a time, as late samples are
	w = pack(nil)
	for _, v := range ext {
		w = packAppend(w, v)
	}
	s.keep, s.packed = w, true
	s.unpack(0)
	assert.Equal(t, ext, s.keep)

	var a, b sampler
	for i := range 1000 {
		d := time.Duration(150+(i*37)%257) * time.Microsecond
		a.add(d)
		b.add(d)
	}
	b.clip()
	require.True(t, b.packed)
	assert.Less(t, 4*len(b.keep), 2*1000, "bytes for 1000 samples")
	// late samples stay packed while the reservoir has room
	for _, d := range []time.Duration{0, 300 * time.Microsecond, time.Second} {
		a.add(d)
		b.add(d)
	}
	require.True(t, b.packed)
	assert.Equal(t, uint32(1003), b.keep[0])
	assert.Equal(t, a.summary(), b.summary())
	assert.Equal(t, a.keep, b.keep, "unpacked in order (both sorted by summary)")
}

// TestTSRingCompactKeepsEntries checks that shrinking a TSval ring to its
// entries changes nothing it reports, then or after more TSvals: two
// rings fed the same 3000 TSvals and echoes (the ring filling up, echoes
// of kept values, of dropped ones and of unknown ones), one compacted
// every 37 steps, give the same answer to every echo and hold the same
// entries.
func TestTSRingCompactKeepsEntries(t *testing.T) {
	a, b := newTSRing(), newTSRing()
	var compacted, small int
	for i := range 3000 {
		val := uint32(i / 2) // every value twice: the repeat is not kept
		tm := int64(i) * int64(time.Millisecond)
		gap := time.Duration(i%3) * time.Millisecond
		a.sent(val, tm, uint16(i), i%5 == 0, gap)
		b.sent(val, tm, uint16(i), i%5 == 0, gap)
		if i%7 == 3 { // echo a value some steps back: kept, dropped or never kept
			echo := uint32(max(0, i/2-(i*31)%40))
			ea, oka := a.echoed(echo)
			eb, okb := b.echoed(echo)
			require.Equal(t, oka, okb, "step %d", i)
			require.Equal(t, ea, eb, "step %d", i)
		}
		if i%37 == 0 {
			b.compact()
			compacted++
			if len(b.e) < tsRingSize {
				small++
			}
			require.Len(t, b.e, b.n, "compacted to its entries")
		}
		require.Equal(t, a.n, b.n)
		for k := range a.n {
			require.Equal(t, a.at(k), b.at(k), "step %d entry %d", i, k)
		}
	}
	require.Greater(t, small, compacted/2, "compaction shrank the ring on most of its %d calls", compacted)
}

// TestClosedConnCompactsTSRings checks that a closed connection's TSval
// rings keep only their entries: on a chatty connection with timestamps
// the echoes leave at most a TSval or two of each direction's 32 slots in
// use, so closing it gives back most of the two rings (2 x 512 B of
// entries); the last ACK, after both FINs, grows its ring to two slots.
func TestClosedConnCompactsTSRings(t *testing.T) {
	c := NewConn()
	chattyConn(c, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 20, true)
	r := c.RTT()
	require.Greater(t, r.C2S.TS.Samples+r.S2C.TS.Samples, uint64(20), "the echoes time round trips")
	for d := range c.h {
		ring := c.h[d].ts
		require.NotNil(t, ring, "direction %d sent timestamps", d)
		// its entries, and the last ACK's (sent after the close)
		assert.LessOrEqual(t, len(ring.e), 2, "direction %d: the ring's storage", d)
	}
	open := liveBytes(1000, func(c *Conn, t0 time.Time) { chattyConn(c, t0, 20, false) })
	closed := liveBytes(1000, func(c *Conn, t0 time.Time) { chattyConn(c, t0, 20, true) })
	t.Logf("chatty connection with timestamps: open %.0f B, closed %.0f B live", open, closed)
	assert.Less(t, closed, open-900)
}

// handshakeWith feeds a handshake through seg, the script's way of adding
// a segment, and returns the client's and the server's next sequence
// numbers.
func handshakeWith(seg func(d Dir, seq, ack Seq, f Flags, n int)) (cs, ss Seq) {
	cs, ss = 1000, 5000
	seg(ClientToServer, cs, 0, SYN, 0)
	seg(ServerToClient, ss, cs+1, SYN|ACK, 0)
	cs, ss = cs+1, ss+1
	seg(ClientToServer, cs, ss, ACK, 0)
	return cs, ss
}
