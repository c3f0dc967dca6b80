package series_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

// committed returns the path of a lab capture committed in testdata/lab.
func committed(name string) string {
	return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name)
}

// frames returns the capture index of the point of direction d captured
// at each range's time.
func frames(pts []series.Point, d tcpstate.Dir, rs series.SeqRanges) []uint64 {
	var out []uint64
	for _, r := range rs {
		for _, p := range pts {
			if p.Dir == d && p.Time.Equal(r.Time) {
				out = append(out, p.Index)
			}
		}
	}
	return out
}

// unlabeled returns a copy of the points without tcpstate's labels and
// RTT samples, as points made by hand may come.
func unlabeled(pts []series.Point) []series.Point {
	out := append([]series.Point(nil), pts...)
	for i := range out {
		out[i].Labels, out[i].RTT = 0, 0
	}
	return out
}

// The time-sequence graph of the lossless bulk transfer (curl, 2 Mbit/s):
// testdata/lab/README.md counts 405 server data segments (584712 payload
// bytes) and 273 client packets, none retransmitted, no loss.
func TestTimeSequenceBulk(t *testing.T) {
	fr, sr := collect(t, committed("wan2m-http-bulk.pcap"), series.Config{Conns: []int{1}})
	pts := sr.Conn(1).Points
	ts := series.TimeSequence(pts, tcpstate.ServerToClient, series.Window{})
	assert.Len(t, ts.Data, 405+2, "405 data segments, the SYN-ACK and the FIN")
	assert.Empty(t, ts.Retrans)
	assert.Empty(t, ts.OutOfOrder)
	assert.Empty(t, ts.SACK, "no loss, no SACK block")
	assert.Empty(t, ts.ZeroWindow)
	assert.Len(t, ts.Ack, 273-1, "every client packet but the SYN carries an ACK")
	assert.Len(t, ts.Window, 273-1)
	require.NotEmpty(t, ts.Ack)
	assert.Equal(t, int64(584712+2), ts.Ack[len(ts.Ack)-1].Seq, "the last ACK covers payload, SYN and FIN")
	assert.Equal(t, uint64(584712), fr.Conns[0].S2C.UniqueBytes)
	for i := range ts.Window {
		assert.GreaterOrEqual(t, ts.Window[i].Seq, ts.Ack[i].Seq, "the window edge is ACK + window")
	}

	// The other way: the client's two requests, its SYN and its FIN.
	up := series.TimeSequence(pts, tcpstate.ClientToServer, series.Window{})
	assert.Len(t, up.Data, 2+2)
	assert.Len(t, up.Ack, 408, "every server packet carries an ACK")

	// A window holds what was captured in it, both ends included.
	mid := pts[len(pts)/2].Time
	w := series.Window{From: pts[0].Time, To: mid}
	var want int
	for _, p := range pts {
		if p.Dir == tcpstate.ServerToClient && p.End > p.Seq && !p.Time.After(mid) {
			want++
		}
	}
	assert.Len(t, series.TimeSequence(pts, tcpstate.ServerToClient, w).Data, want)
	assert.Less(t, want, 407)
}

// The lossy bulk transfer: tshark flags frames 595 and 707 as
// retransmissions and 358 as out of order
// (testdata/golden/tcp/lab_wan2m-loss-http-bulk.pcap.json); it shows 169
// SACK blocks in the client's 342 ACKs (tshark -Y tcp.options.sack_le, -e
// tcp.options.sack_le) and 407 server segments with payload, SYN or FIN.
func TestTimeSequenceLossyBulk(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	fr, sr := collect(t, filepath.Join(dir, "wan2m-loss-http-bulk.pcap"), series.Config{Conns: []int{1}})
	pts := sr.Conn(1).Points
	require.True(t, series.Labeled(pts))
	ts := series.TimeSequence(pts, tcpstate.ServerToClient, series.Window{})
	assert.Equal(t, []uint64{595, 707}, frames(pts, tcpstate.ServerToClient, ts.Retrans))
	assert.Equal(t, []uint64{358}, frames(pts, tcpstate.ServerToClient, ts.OutOfOrder))
	assert.Equal(t, 407, len(ts.Data)+len(ts.Retrans)+len(ts.OutOfOrder), "every segment drawn once")
	assert.Len(t, ts.SACK, 169)
	assert.Len(t, ts.Window, 342)
	assert.Empty(t, ts.ZeroWindow)
	for i := 1; i < len(ts.Ack); i++ {
		require.GreaterOrEqual(t, ts.Ack[i].Seq, ts.Ack[i-1].Seq, "the ACK line never goes back")
	}
	require.NotEmpty(t, ts.Ack)
	assert.Equal(t, int64(fr.Conns[0].S2C.UniqueBytes)+2, ts.Ack[len(ts.Ack)-1].Seq)

	// Without the labels Point.Retrans (bytes tcpstate saw sent before)
	// marks what tshark calls a retransmission or out of order: all three
	// fill a hole.
	plain := unlabeled(pts)
	require.False(t, series.Labeled(plain))
	tu := series.TimeSequence(plain, tcpstate.ServerToClient, series.Window{})
	assert.Equal(t, []uint64{358, 595, 707}, frames(plain, tcpstate.ServerToClient, tu.Retrans))
	assert.Empty(t, tu.OutOfOrder)
	assert.Len(t, tu.Data, 404)
}

// RTT samples of the chatty PostgreSQL session, captured at the client.
// tshark (tcp.analysis.ack_rtt) times 205 client segments, median 153.060
// ms (the upper of the middle two), smallest 150.855 ms, and 205 server
// segments, median 378 µs: the client's own ACK delay.
func TestRTTIn(t *testing.T) {
	fr, sr := collect(t, committed("wan2m-pg-chatty.pcap"), series.Config{Conns: []int{1}})
	c, pts := fr.Conns[0], sr.Conn(1).Points
	require.Equal(t, tcpstate.VantageClient, c.Vantage)
	r, err := series.RTTIn(pts, c.Vantage, series.Window{From: c.First}, 4*time.Second)
	require.NoError(t, err)
	assert.Equal(t, tcpstate.ClientToServer, r.Net, "captured at the client: its data crosses the WAN")
	var by [2][]series.RTTSample
	for _, s := range r.Samples {
		by[s.Dir] = append(by[s.Dir], s)
	}
	assert.Len(t, by[0], 205)
	assert.Len(t, by[1], 205)
	assert.Equal(t, 153060*time.Microsecond, series.MedianRTT(by[0]))
	assert.Equal(t, 378*time.Microsecond, series.MedianRTT(by[1]))
	// 31.6 s in 4 s intervals; the first holds the smallest sample.
	assert.Len(t, r.Min.Min, 8)
	assert.Equal(t, 150855*time.Microsecond, r.Min.Min[0])
	assert.Equal(t, c.First, r.Min.Start)
	for _, m := range r.Min.Min {
		assert.GreaterOrEqual(t, m, 150336*time.Microsecond, "never below the link's floor (2 x 75 ms + serialization)")
	}

	// Without a vantage the larger median picks the same direction.
	assert.Equal(t, tcpstate.ClientToServer, series.NetworkDir(tcpstate.VantageUnknown, r.Samples))
	assert.Equal(t, tcpstate.ServerToClient, series.NetworkDir(tcpstate.VantageServer, r.Samples))

	// The samples are tcpstate's: points without them give none.
	assert.Empty(t, series.SamplesOf(unlabeled(pts)))

	// A window keeps its samples only; too fine an interval fails.
	w := series.Window{From: c.First, To: c.First.Add(10 * time.Second)}
	rw, err := series.RTTIn(pts, c.Vantage, w, time.Second)
	require.NoError(t, err)
	assert.Less(t, len(rw.Samples), len(r.Samples))
	for _, s := range rw.Samples {
		assert.True(t, w.Contains(s.Time))
	}
	_, err = series.RTTIn(pts, c.Vantage, series.Window{From: c.First}, time.Nanosecond)
	assert.ErrorContains(t, err, "intervals")
}

// Coarsening a 10 ms grid gives the bins a collector makes at the coarser
// width directly, and keeps the totals the emulator counted
// (groundtruth.json: 23916 bytes in 209 frames client to server, 96208
// in 206 server to client).
func TestCoarsen(t *testing.T) {
	_, fine := collect(t, committed("wan2m-pg-chatty.pcap"), series.Config{Conns: []int{1}, Width: 10 * time.Millisecond})
	w := series.RoundWidth(fine.Last.Sub(fine.Start), 80)
	assert.Equal(t, 500*time.Millisecond, w, "31.6 s: 63 bins of 500 ms, 158 of 200 ms")
	_, direct := collect(t, committed("wan2m-pg-chatty.pcap"), series.Config{Conns: []int{1}, Width: w})
	fine.Coarsen(w)
	assert.Equal(t, w, fine.Width)
	assert.Equal(t, direct.Link, fine.Link)
	assert.Equal(t, direct.Classes, fine.Classes)
	assert.Equal(t, direct.Conn(1).Bins, fine.Conn(1).Bins)
	assert.Equal(t, direct.MinRTT, fine.MinRTT)
	cs := fine.Conn(1)
	assert.Equal(t, uint64(23916), cs.Bins[0].TotalBytes())
	assert.Equal(t, uint64(209), cs.Bins[0].TotalPackets())
	assert.Equal(t, uint64(96208), cs.Bins[1].TotalBytes())
	assert.Equal(t, uint64(206), cs.Bins[1].TotalPackets())
	// The capture-wide minimum RTT of the client's data, now per 500 ms.
	m := fine.MinRTTOf(tcpstate.ClientToServer)
	assert.Equal(t, w, m.Width)
	assert.Equal(t, fine.Start, m.Start)
	assert.Equal(t, fine.Link[0].Len(), m.Len())
	assert.Zero(t, fine.MinRTTOf(7).Len(), "no such direction")

	before := fine.Link
	fine.Coarsen(w) // k = 1: nothing to merge
	assert.Equal(t, before, fine.Link)
	(&series.Result{}).Coarsen(time.Second) // no grid: nothing, no panic
}

func TestRoundWidth(t *testing.T) {
	for span, want := range map[time.Duration]time.Duration{
		0:                       10 * time.Millisecond,
		799 * time.Millisecond:  10 * time.Millisecond, // 79 bins of 10 ms
		800 * time.Millisecond:  20 * time.Millisecond, // 80 would be too many
		3200 * time.Millisecond: 50 * time.Millisecond, // 64 bins
		39 * time.Minute:        30 * time.Second,      // 78 bins of 30 s
		40 * time.Minute:        time.Minute,           // 80 of 30 s is one too many
		2 * time.Hour:           time.Minute,
	} {
		assert.Equal(t, want, series.RoundWidth(span, 80), "span %v", span)
	}
}

// Bins and MinRTT read as the plot interfaces read them.
func TestGridAccessors(t *testing.T) {
	b := series.Bins{Start: t0, Width: time.Second, Bytes: []uint64{3, 5}, Packets: []uint64{1, 2}}
	start, width := b.Grid()
	assert.Equal(t, [2]any{t0, time.Second}, [2]any{start, width})
	assert.Equal(t, []uint64{3, 5, 0, 0}, []uint64{b.BinBytes(0), b.BinBytes(1), b.BinBytes(2), b.BinBytes(-1)})
	m := b.Merge(3)
	assert.Equal(t, series.Bins{Start: t0, Width: 3 * time.Second, Bytes: []uint64{8}, Packets: []uint64{3}}, m)
	assert.Equal(t, b, b.Merge(1))
	mr := series.MinRTT{Start: t0, Width: time.Second, Min: []time.Duration{0, 7}}
	assert.Equal(t, 2, mr.Len())
	assert.Equal(t, []time.Duration{0, 7, 0}, []time.Duration{mr.BinMin(0), mr.BinMin(1), mr.BinMin(2)})
}

// The packet-flow figure's packets: pure ACKs are the points that occupy
// no sequence space. The lab counts pure ACKs as segments without payload
// or SYN (testdata/lab/README.md: 4 from the client, 2 from the server),
// so its count includes each side's FIN.
func TestPointsPackets(t *testing.T) {
	fr, sr := collect(t, committed("wan2m-pg-chatty.pcap"), series.Config{Conns: []int{1}})
	pts := series.Points(sr.Conn(1).Points)
	var pure, fin [2]int
	var wire [2]uint64
	for i := range pts.Len() {
		_, size, payload, d, flags := pts.Packet(i)
		wire[d] += uint64(size)
		if payload == 0 && !flags.Has(tcpstate.SYN) && !flags.Has(tcpstate.FIN) && !flags.Has(tcpstate.RST) {
			pure[d]++
		}
		if pts[i].Flags.Has(tcpstate.FIN) && pts[i].Len == 0 {
			fin[d]++
		}
	}
	assert.Equal(t, [2]int{4, 2}, [2]int{pure[0] + fin[0], pure[1] + fin[1]})
	assert.Equal(t, [2]uint64{fr.Conns[0].C2S.WireBytes, fr.Conns[0].S2C.WireBytes}, wire)
	assert.Equal(t, [2]uint64{23916, 96208}, wire, "the emulator's byte counts")

	first, last := pts[0].Time, pts[len(pts)-1].Time
	assert.Equal(t, pts, pts.Within(series.Window{}))
	assert.Equal(t, pts, pts.Within(series.Window{From: first, To: last}), "both ends included")
	assert.Len(t, pts.Within(series.Window{From: last}), 1)
	assert.Empty(t, pts.Within(series.Window{To: first.Add(-time.Nanosecond)}))
}

// Appproto's transactions of the chatty session: the lab's 200 one-row
// SELECTs (testdata/lab/README.md), each answered one round trip (150 ms
// and the frames' serialization) later.
func TestTurnLog(t *testing.T) {
	log := series.NewTurnLog(1, 0)
	other := series.NewTurnLog(2, 0)
	res, err := flow.AnalyzeFile(committed("wan2m-pg-chatty.pcap"),
		flow.Config{KeepConns: true, Consumers: []flow.Consumer{log, other}})
	require.NoError(t, err)
	turns := log.Turns()
	require.Len(t, turns, 200)
	assert.Equal(t, int(res.Conns[0].App.Transactions), len(turns))
	assert.Empty(t, other.Turns(), "no connection 2")
	for _, x := range turns {
		wait := x.FirstResponse.Sub(x.Request)
		assert.True(t, wait >= 150*time.Millisecond && wait < 200*time.Millisecond, "wait %v", wait)
		assert.Positive(t, x.RequestBytes)
		assert.Positive(t, x.ResponseBytes)
	}
	assert.Len(t, turns.Within(series.Window{}, 20), 20)
	// The first 3.2 s hold the turns that end by then.
	w := series.Window{From: res.Conns[0].First, To: res.Conns[0].First.Add(3200 * time.Millisecond)}
	in := turns.Within(w, 0)
	require.NotEmpty(t, in)
	for _, x := range in {
		assert.False(t, x.LastResponse.After(w.To))
	}
	assert.Less(t, len(in), 200)

	capped := series.NewTurnLog(1, 5)
	_, err = flow.AnalyzeFile(committed("wan2m-pg-chatty.pcap"), flow.Config{Consumers: []flow.Consumer{capped}})
	require.NoError(t, err)
	assert.Equal(t, turns[:5], capped.Turns())
}

// Capture-wide figures of the lab's mixed capture (wan512-mixed: a chatty
// PostgreSQL session beside a bulk HTTP download on a 512 kbit/s, 150 ms
// link, captured at the client): classes named by the protocol appproto
// found, and the minimum RTT per interval of the client's data, which the
// HTTP transfer's queue inflates.
func TestCaptureWide(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	fr, sr := collect(t, filepath.Join(dir, "wan512-mixed.pcap"), series.Config{Width: time.Second})
	assert.Equal(t, "http (tcp/80)", series.ClassLabel("tcp/80", fr.Conns))
	assert.Equal(t, "postgres (tcp/5432)", series.ClassLabel("tcp/5432", fr.Conns))
	assert.Equal(t, "udp", series.ClassLabel("udp", fr.Conns))
	assert.Equal(t, "tcp/9", series.ClassLabel("tcp/9", fr.Conns), "no connection on the port")
	net := series.CaptureNetworkDir(fr.Conns)
	assert.Equal(t, tcpstate.ClientToServer, net)
	m := sr.MinRTTOf(net)
	var lo, hi time.Duration
	for _, v := range m.Min {
		if v > 0 {
			if lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		}
	}
	// The floor is the link's (wan512: 151.3 ms for an empty frame); the
	// worst interval's minimum is several times it.
	assert.GreaterOrEqual(t, lo, 151*time.Millisecond)
	assert.Less(t, lo, 160*time.Millisecond)
	assert.Greater(t, hi, 3*lo)
}

// The network direction of a capture follows most connections' vantage.
func TestCaptureNetworkDir(t *testing.T) {
	conns := func(v ...tcpstate.Vantage) []*flow.Conn {
		var out []*flow.Conn
		for _, x := range v {
			out = append(out, &flow.Conn{Vantage: x})
		}
		return out
	}
	s2c, c2s := tcpstate.ServerToClient, tcpstate.ClientToServer
	assert.Equal(t, c2s, series.CaptureNetworkDir(nil))
	assert.Equal(t, s2c, series.CaptureNetworkDir(conns(tcpstate.VantageServer, tcpstate.VantageUnknown)))
	assert.Equal(t, c2s, series.CaptureNetworkDir(conns(tcpstate.VantageServer, tcpstate.VantageClient)), "a tie")
	assert.Equal(t, s2c, series.CaptureNetworkDir(conns(tcpstate.VantageServer, tcpstate.VantageServer,
		tcpstate.VantageClient, tcpstate.VantageMiddle, tcpstate.Vantage(9))))
}

// A transaction whose response is dated before its request is left out
// of the log and counted; the others stay. appproto no longer pairs one
// so (a response begun before the oldest request answers one the capture
// lost: TestPairingResponseBeforeRequest), but a capture whose clock went
// backwards can still date them so. The mutation campaign found the case
// (mutant 397 of an earlier take of whatif/m20-pg-fetch100; of the
// captures committed now mutant 55, of dsl512-pg-fetch100, whose flipped
// sequence byte made a 6.4 MB gap and once gave the last answer before it
// to the COMMIT sent 6 s later): its transactions now reach the log in
// order, none left out.
func TestTurnLogDisordered(t *testing.T) {
	log := series.NewTurnLog(1, 0)
	c := &flow.Conn{ID: 1}
	t0 := time.Date(2026, 12, 2, 0, 4, 0, 0, time.UTC)
	ok := &appproto.Transaction{RequestFirst: t0, ResponseFirst: t0.Add(50 * time.Millisecond), ResponseLast: t0.Add(60 * time.Millisecond)}
	back := &appproto.Transaction{RequestFirst: t0.Add(time.Second), ResponseFirst: t0.Add(900 * time.Millisecond), ResponseLast: t0.Add(time.Second)}
	unanswered := &appproto.Transaction{RequestFirst: t0.Add(2 * time.Second)}
	for _, x := range []*appproto.Transaction{ok, back, unanswered} {
		log.Transaction(c, x)
	}
	require.Len(t, log.Turns(), 2)
	assert.Equal(t, t0, log.Turns()[0].Request)
	assert.True(t, log.Turns()[1].FirstResponse.IsZero())
	assert.Equal(t, 1, log.Disordered())

	// the lab campaign's mutant 55 (seed 1): its flips depend on the seed
	// and the index alone, so a campaign of its one source makes it again
	// whatever captures the lab folder holds
	src := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif", "dsl512-pg-fetch100.pcap.gz")
	camp := &flowtest.Campaign{Sources: []string{src}, Seed: 1}
	m, err := camp.Mutant(55)
	require.NoError(t, err)
	mlog := series.NewTurnLog(1, 0)
	res, err := flow.Analyze(bytes.NewReader(m.Data), flow.Config{KeepConns: true, Consumers: []flow.Consumer{mlog}})
	require.NoError(t, err)
	require.NotEmpty(t, res.Conns)
	assert.Zero(t, mlog.Disordered(), m.String())
	for i := range mlog.Turns() {
		r, f, l := mlog.Turns().Transaction(i)
		assert.False(t, f.Before(r) || l.Before(f), "turn %d in order", i)
	}
	t.Logf("%s: %d transactions kept, %d left out", m, len(mlog.Turns()), mlog.Disordered())
	// a parallel pass's forks count them too
	plog := series.NewTurnLog(1, 0)
	_, err = flow.Analyze(bytes.NewReader(m.Data), flow.Config{Workers: 3, Consumers: []flow.Consumer{plog}})
	require.NoError(t, err)
	assert.Equal(t, mlog.Disordered(), plog.Disordered())
	assert.Equal(t, mlog.Turns(), plog.Turns())
}
