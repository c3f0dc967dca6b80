package linkq_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/tcpstate"
)

// tcpScript feeds an Analyzer the segments of one connection, as flow
// would pass them to a Consumer: analysed by a tcpstate.Conn.
type tcpScript struct {
	a    *linkq.Analyzer
	conn *flow.Conn
	tc   *tcpstate.Conn
	n    uint64
}

func newTCPScript(a *linkq.Analyzer) *tcpScript {
	c := &flow.Conn{ID: 1, Client: netip.AddrPortFrom(hostA, 40000), Server: netip.AddrPortFrom(hostB, 80)}
	c.ClientOptions.WScale, c.ServerOptions.WScale = -1, -1
	return &tcpScript{a: a, conn: c, tc: tcpstate.NewConn()}
}

// seg sends a segment at time at in direction d.
func (s *tcpScript) seg(at time.Duration, d tcpstate.Dir, flags tcpstate.Flags, seq, ack uint32, n int, win uint16) {
	src, dst := hostA, hostB
	if d == tcpstate.ServerToClient {
		src, dst = hostB, hostA
	}
	s.n++
	sg := &tcpstate.Segment{Index: s.n, Time: t0.Add(at), Seq: tcpstate.Seq(seq), Ack: tcpstate.Seq(ack), Flags: flags,
		Window: win, Len: n, WireLen: 14 + 20 + 32 + n, HeaderLen: 32}
	p := &flow.PacketInfo{Index: s.n, Time: sg.Time, WireLen: sg.WireLen, Kind: flow.KindTCP, Src: src, Dst: dst, Proto: 6,
		L4Len: 32 + n, Conn: s.conn, Dir: d, Seg: sg, TCP: s.tc}
	p.Analysis = s.tc.Add(d, sg)
	s.a.Packet(p)
}

const ack = tcpstate.ACK

func TestTCPRTTKarn(t *testing.T) {
	a := linkq.New(linkq.Config{Target: linkq.Target{RTT: 100 * time.Millisecond, Rate: 1e6}})
	s := newTCPScript(a)
	ms := time.Millisecond
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	// Three segments of 100, 500 and 1000 bytes, each ACKed alone after
	// 40 ms + 10 µs per byte.
	seq := uint32(1000)
	at := time.Duration(0)
	for _, n := range []int{100, 500, 1000} {
		s.seg(at, c2s, ack, seq, 1, n, 1000)
		seq += uint32(n)
		s.seg(at+40*ms+time.Duration(n)*10*time.Microsecond, s2c, ack, 1, seq, 0, 1000)
		at += time.Second
	}
	// A segment sent twice: its ACK is ambiguous (Karn).
	s.seg(at, c2s, ack, seq, 1, 300, 1000)
	s.seg(at+200*ms, c2s, ack, seq, 1, 300, 1000)
	seq += 300
	s.seg(at+250*ms, s2c, ack, 1, seq, 0, 1000)
	// Two segments, one cumulative ACK: only the last is timed.
	s.seg(at+time.Second, c2s, ack, seq, 1, 200, 1000)
	s.seg(at+time.Second, c2s, ack, seq+200, 1, 200, 1000)
	seq += 400
	s.seg(at+time.Second+50*ms, s2c, ack, 1, seq, 0, 1000)
	// A reply carrying data is not a pure ACK: not timed.
	s.seg(at+2*time.Second, c2s, ack, seq, 1, 100, 1000)
	seq += 100
	s.seg(at+2*time.Second+50*ms, s2c, ack, 1, seq, 10, 1000)
	a.ConnEnd(s.conn)
	r := a.Report()
	assert.Equal(t, uint64(9), r.TCP.DataSegments) // 8 from the client, 1 from the server
	assert.Equal(t, uint64(1), r.TCP.Retransmitted)
	assert.Equal(t, uint64(1), r.TCP.Ambiguous)
	assert.Equal(t, uint64(4), r.TCP.RTTSamples)
	var tcpPath *linkq.PathFit
	for i := range r.Paths {
		if r.Paths[i].Source == linkq.SourceTCP && r.Paths[i].Src == hostA {
			tcpPath = &r.Paths[i]
		}
	}
	require.NotNil(t, tcpPath)
	assert.Equal(t, 4, tcpPath.Samples)
	got := make([]linkq.Point, len(tcpPath.Points))
	copy(got, tcpPath.Points)
	assert.Equal(t, []linkq.Point{{152, 41 * ms}, {552, 45 * ms}, {1052, 50 * ms}, {252, 50 * ms}}, got) // IP sizes: payload + 20 + 32
	require.Len(t, r.Verdicts, 1)
	v := r.Verdicts[0]
	assert.Equal(t, "c2s", v.DataDir)
	assert.Equal(t, uint64(1), v.Retransmitted)
	assert.Equal(t, uint64(8), v.DataSegments)
}

func checksByName(v linkq.Verdict) map[string]linkq.Check {
	m := map[string]linkq.Check{}
	for _, c := range v.Checks {
		m[c.Name] = c
	}
	return m
}

// TestVerdictWindowAndMSS: a receiver without window scaling whose window
// stays at 16384 bytes cannot carry 10 Mbit/s at 50 ms (62500 bytes), and
// a 1360-byte MSS is below Ethernet's.
func TestVerdictWindowAndMSS(t *testing.T) {
	a := linkq.New(linkq.Config{Target: linkq.Target{RTT: 50 * time.Millisecond, Rate: 10e6, C: linkq.MathisCDelayedACK}})
	s := newTCPScript(a)
	s.conn.ClientOptions = tcpstate.HandshakeOptions{MSS: 1360, WScale: -1}
	s.conn.ServerOptions = tcpstate.HandshakeOptions{MSS: 1460, WScale: 7}
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	s.seg(0, c2s, tcpstate.SYN, 0, 0, 0, 65535)
	s.seg(time.Millisecond, s2c, tcpstate.SYN|ack, 5000, 1, 0, 65535)
	s.seg(2*time.Millisecond, c2s, ack, 1, 5001, 0, 16384)
	for i := range 10 {
		s.seg(time.Duration(3+i)*time.Millisecond, s2c, ack, 5001+uint32(i)*1360, 1, 1360, 500)
		s.seg(time.Duration(4+i)*time.Millisecond, c2s, ack, 1, 5001+uint32(i+1)*1360, 0, 16384)
	}
	s.seg(20*time.Millisecond, c2s, ack, 1, 5001+10*1360, 0, 0) // reader stalls
	a.ConnEnd(s.conn)
	r := a.Report()
	require.Len(t, r.Verdicts, 1)
	v := r.Verdicts[0]
	assert.Equal(t, "s2c", v.DataDir)
	assert.Equal(t, 1360, v.MSS)
	assert.Equal(t, int64(16384), v.MaxWindow, "no scaling: the client sent no window scale")
	assert.Equal(t, int64(62500), v.NeededWindow)
	assert.InDelta(t, 0.866, v.C, 0.001)
	ck := checksByName(v)
	assert.Equal(t, linkq.Fail, ck["window"].Level)
	assert.Equal(t, "raise the receiver's maximum window to at least 62500 bytes (socket receive buffer / tcp_rmem)", ck["window"].Action)
	assert.Contains(t, ck["window"].Message, "2.62 Mbit/s") // 16384·8/0.05
	assert.Equal(t, linkq.Warning, ck["mss"].Level)
	assert.Equal(t, linkq.Warning, ck["zero_window"].Level)
	assert.Equal(t, 1.0, ck["zero_window"].Measured)
	assert.Equal(t, linkq.Pass, ck["loss"].Level)
	// (0.866·1360/(0.05·1.25e6))² = 3.55e-4
	assert.InDelta(t, 3.551e-4, v.MaxLoss, 1e-7)
	assert.Equal(t, linkq.Fail, v.Overall)
}

func TestVerdictMidstream(t *testing.T) {
	a := linkq.New(linkq.Config{Target: linkq.Target{RTT: 50 * time.Millisecond, Rate: 1e6}})
	s := newTCPScript(a)
	s.conn.Midstream = true
	s.seg(0, tcpstate.ServerToClient, ack, 100, 1, 1000, 500)
	s.seg(time.Millisecond, tcpstate.ClientToServer, ack, 1, 1100, 0, 2000)
	a.ConnEnd(s.conn)
	v := a.Report().Verdicts[0]
	ck := checksByName(v)
	assert.Equal(t, linkq.Warning, ck["mss"].Level)
	assert.Equal(t, 1000, v.MSS, "the largest segment seen")
	assert.Equal(t, linkq.Warning, ck["window"].Level)
	assert.Equal(t, int64(-1), v.MaxWindow)
	assert.Equal(t, 2000.0, ck["window"].Measured)
}

func TestMathisMaxLoss(t *testing.T) {
	// 2 Mbit/s at 150 ms with 1448-byte segments: (1.2247·1448/37500)².
	assert.InDelta(t, 0.0022365, linkq.MathisMaxLoss(1448, 150*time.Millisecond, 2e6, linkq.MathisC), 1e-7)
	assert.Zero(t, linkq.MathisMaxLoss(0, time.Second, 1, 1))
	assert.Zero(t, linkq.MathisMaxLoss(1448, 0, 1, 1))
}

// TestVerdictSpurious: a retransmission tcpstate showed needless (a D-SACK
// came back) is not loss; timeouts and a full window are reported.
func TestVerdictSpurious(t *testing.T) {
	a := linkq.New(linkq.Config{Target: linkq.Target{RTT: 100 * time.Millisecond, Rate: 1e6}})
	s := newTCPScript(a)
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	for i := range 4 {
		s.seg(time.Duration(i)*time.Millisecond, c2s, ack, 1+uint32(i)*100, 1, 100, 1000)
	}
	s.seg(300*time.Millisecond, c2s, ack, 1, 1, 100, 1000)  // resent after a timeout
	s.seg(400*time.Millisecond, s2c, ack, 1, 401, 0, 20000) // covers 1 Mbit/s × 100 ms
	s.conn.C2S.SpuriousDSACK = 1
	s.conn.C2S.RetransTimeout = 1
	s.conn.C2S.WindowFull = 2
	a.ConnEnd(s.conn)
	v := a.Report().Verdicts[0]
	assert.Equal(t, uint64(5), v.DataSegments)
	assert.Equal(t, uint64(1), v.Retransmitted)
	assert.Equal(t, uint64(1), v.Spurious)
	assert.Zero(t, v.LossRate)
	ck := checksByName(v)
	assert.Equal(t, linkq.Pass, ck["loss"].Level)
	assert.Contains(t, ck["loss"].Message, "c2s loss 0.000% (1 of 5 segments retransmitted, 1 of them needlessly)")
	assert.Equal(t, linkq.Warning, ck["timeouts"].Level)
	assert.Equal(t, 2.0, ck["window_full"].Measured)
	assert.Equal(t, linkq.Warning, v.Overall)
}

// TestTCPRTTFromTcpstate: the sample is tcpstate's, with the size of the
// segment it names (Analysis.Acked), and an ACK tcpstate did not time
// gives none.
func TestTCPRTTFromTcpstate(t *testing.T) {
	a := linkq.New(linkq.Config{})
	c := &flow.Conn{ID: 1, Client: netip.AddrPortFrom(hostA, 40000), Server: netip.AddrPortFrom(hostB, 80)}
	send := func(idx uint64, at time.Duration, d tcpstate.Dir, seq, ackn uint32, n int, an *tcpstate.Analysis) {
		src, dst := hostA, hostB
		if d == tcpstate.ServerToClient {
			src, dst = hostB, hostA
		}
		sg := &tcpstate.Segment{Index: idx, Time: t0.Add(at), Seq: tcpstate.Seq(seq), Ack: tcpstate.Seq(ackn), Flags: ack, Len: n, Window: 1000}
		a.Packet(&flow.PacketInfo{Index: idx, Time: sg.Time, Kind: flow.KindTCP, Src: src, Dst: dst, Proto: 6,
			L4Len: 20 + n, Conn: c, Dir: d, Seg: sg, Analysis: an})
	}
	ms := time.Millisecond
	send(1, 0, tcpstate.ClientToServer, 1, 1, 500, &tcpstate.Analysis{Index: 1})
	send(2, 30*ms, tcpstate.ServerToClient, 1, 501, 0, &tcpstate.Analysis{Index: 2, AckOf: 1, RTT: 29 * ms,
		Acked: tcpstate.SegmentSize{Len: 500, HeaderLen: 20, WireLen: 534}})
	send(3, 100*ms, tcpstate.ClientToServer, 501, 1, 100, &tcpstate.Analysis{Index: 3})
	send(4, 130*ms, tcpstate.ServerToClient, 1, 601, 0, &tcpstate.Analysis{Index: 4}) // no sample from tcpstate
	a.ConnEnd(c)
	r := a.Report()
	assert.Equal(t, uint64(1), r.TCP.RTTSamples)
	require.Len(t, r.Paths, 1)
	assert.Equal(t, []linkq.Point{{540, 29 * ms}}, r.Paths[0].Points, "IP size 500 + 20 + 20, 29 ms as tcpstate said")
}
