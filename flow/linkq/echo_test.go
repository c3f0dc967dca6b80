package linkq_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// linkRTT is the RTT of an echo of an IP packet of size bytes over a
// link with the given fixed RTT and a rate in bit/s each way, frames
// carrying a 14-byte Ethernet header (the lab's formula).
func linkRTT(fixed time.Duration, rate float64, size int) time.Duration {
	return fixed + time.Duration(2*float64(size+14)*8/rate*float64(time.Second))
}

func TestEchoICMPFitExact(t *testing.T) {
	a := linkq.New(linkq.Config{Fit: linkq.FitConfig{LineSpeeds: []units.BitRate{1e6}}})
	at := time.Duration(0)
	for i := range 50 {
		n := (i * 37) % 1400 // shuffled sizes
		req := icmpEcho(8, 7, uint16(i), data(n, byte(i)))
		rep := icmpEcho(0, 7, uint16(i), data(n, byte(i)))
		a.Packet(info(at, hostA, hostB, 1, req))
		a.Packet(info(at+linkRTT(20*time.Millisecond, 1e6, 28+n), hostB, hostA, 1, rep))
		at += time.Second
	}
	r := a.Report()
	assert.Equal(t, uint64(50), r.Echo.Requests)
	assert.Equal(t, uint64(50), r.Echo.Matched)
	assert.Zero(t, r.Echo.Lost)
	require.Len(t, r.Paths, 1)
	p := r.Paths[0]
	assert.Equal(t, hostA, p.Src)
	assert.Equal(t, hostB, p.Dst)
	assert.Equal(t, 50, p.ICMP)
	// slope 16/rate s/byte = 16 µs/byte; intercept 20 ms + 2·14·8/1e6 s.
	for _, l := range []linkq.Line{p.Fit, p.Robust, p.MinFit} {
		require.True(t, l.OK)
		assert.InDelta(t, 16.0, l.SlopeUsPerByte, 0.01)
		assert.InDelta(t, 16e-6/8, l.SlopeSPerBit, 1e-9)
		assert.InDelta(t, 20.224, units.Ms(l.Intercept), 0.005)
		assert.Less(t, units.Ms(l.RMSResid), 0.001) // durations are whole nanoseconds
	}
	assert.InDelta(t, 16.0, p.EstimatedSlopeUsPerByte, 1e-9)
	assert.Equal(t, 28, p.SizeMin)
	assert.Len(t, p.Points, 50)
}

func TestEchoSizeBases(t *testing.T) {
	for _, tc := range []struct {
		basis linkq.SizeBasis
		size  int // of an echo with 100 bytes of data over IPv6
	}{{linkq.SizeIP, 148}, {linkq.SizeFrame, 162}, {linkq.SizePayload, 100}} {
		a := linkq.New(linkq.Config{Fit: linkq.FitConfig{Size: tc.basis}})
		a.Packet(info(0, hostA6, hostB6, 58, icmpEcho(128, 1, 1, data(100, 0))))
		a.Packet(info(time.Millisecond, hostB6, hostA6, 58, icmpEcho(129, 1, 1, data(100, 0))))
		r := a.Report()
		require.Len(t, r.Paths, 1)
		assert.Equal(t, tc.size, r.Paths[0].SizeMin, tc.basis.String())
		assert.Equal(t, 1, r.Paths[0].ICMPv6)
		assert.False(t, r.Paths[0].Fit.OK, "one point fits no line")
	}
}

func TestEchoAccounting(t *testing.T) {
	a := linkq.New(linkq.Config{Echo: linkq.EchoConfig{Timeout: time.Second}})
	ms := time.Millisecond
	d := data(64, 3)
	// seq 1: answered, then answered again (duplicate).
	a.Packet(info(0, hostA, hostB, 1, icmpEcho(8, 1, 1, d)))
	a.Packet(info(100*ms, hostB, hostA, 1, icmpEcho(0, 1, 1, d)))
	a.Packet(info(101*ms, hostB, hostA, 1, icmpEcho(0, 1, 1, d)))
	// seq 2: answered by an ICMP error (below); seq 8: never answered.
	a.Packet(info(200*ms, hostA, hostB, 1, icmpEcho(8, 1, 2, d)))
	a.Packet(info(210*ms, hostA, hostB, 1, icmpEcho(8, 1, 8, d)))
	// seq 3: answered after the 1 s timeout (late).
	a.Packet(info(300*ms, hostA, hostB, 1, icmpEcho(8, 1, 3, d)))
	a.Packet(info(1500*ms, hostB, hostA, 1, icmpEcho(0, 1, 3, d)))
	// seq 4: the reply's data differ (corrupted); seq 5: reply shorter.
	a.Packet(info(1600*ms, hostA, hostB, 1, icmpEcho(8, 1, 4, d)))
	a.Packet(info(1700*ms, hostB, hostA, 1, icmpEcho(0, 1, 4, data(64, 4))))
	a.Packet(info(1600*ms, hostA, hostB, 1, icmpEcho(8, 1, 5, d)))
	a.Packet(info(1700*ms, hostB, hostA, 1, icmpEcho(0, 1, 5, d[:10])))
	// seq 6 sent twice before its reply (duplicate request).
	a.Packet(info(1800*ms, hostA, hostB, 1, icmpEcho(8, 1, 6, d)))
	a.Packet(info(1810*ms, hostA, hostB, 1, icmpEcho(8, 1, 6, d)))
	a.Packet(info(1900*ms, hostB, hostA, 1, icmpEcho(0, 1, 6, d)))
	// A reply nobody asked for, one from the wrong host, an ICMP error
	// quoting request 2 (from a router), a truncated ICMP header, a
	// malformed UDP length.
	a.Packet(info(2000*ms, hostB, hostA, 1, icmpEcho(0, 9, 9, d)))
	a.Packet(info(2000*ms, hostA, hostB, 1, icmpEcho(0, 1, 6, d)))
	router := netip.MustParseAddr("10.0.0.254")
	a.Packet(info(2100*ms, router, hostA, 1, append(icmpEcho(11, 0, 0, nil), ipv4(hostA, hostB, 1, icmpEcho(8, 1, 2, nil))...)))
	cut := info(2200*ms, hostB, hostA, 1, icmpEcho(0, 1, 7, d)[:5])
	cut.L4Len = 72
	a.Packet(cut)
	bad := udpDatagram(40000, 7, d)
	bad[4], bad[5] = 0xff, 0xff
	a.Packet(info(2300*ms, hostA, hostB, 17, bad))
	r := a.Report()
	e := r.Echo
	assert.Equal(t, uint64(8), e.Requests)
	assert.Equal(t, uint64(8), e.Replies) // the truncated one is not counted
	assert.Equal(t, uint64(2), e.Matched) // seq 1 and 6
	assert.Equal(t, uint64(1), e.Duplicates)
	assert.Equal(t, uint64(1), e.Lost)
	assert.Equal(t, uint64(1), e.Late)
	assert.Equal(t, uint64(2), e.Corrupted)
	assert.Equal(t, uint64(1), e.DuplicateRequests)
	assert.Equal(t, uint64(2), e.Orphans)
	assert.Equal(t, uint64(1), e.ICMPErrors)
	assert.Equal(t, uint64(1), e.Errored)
	assert.Equal(t, uint64(1), e.Truncated)
	assert.Equal(t, uint64(1), e.Malformed)
	require.Len(t, r.Paths, 1)
	assert.Equal(t, 2, r.Paths[0].Samples)
	assert.InDelta(t, 100, units.Ms(r.Paths[0].RTTMin), 1e-9)
	assert.Equal(t, &linkq.PathEchoes{Requests: 7, Matched: 2, Lost: 1, Late: 1, Corrupted: 2, Errored: 1}, r.Paths[0].Echoes)
}

func TestEchoUDP(t *testing.T) {
	a := linkq.New(linkq.Config{})
	ms := time.Millisecond
	// Two requests with equal data in flight between the same ports:
	// answered in order.
	same := data(100, 5)
	a.Packet(info(0, hostA, hostB, 17, udpDatagram(40000, 7, same)))
	a.Packet(info(10*ms, hostA, hostB, 17, udpDatagram(40000, 7, same)))
	a.Packet(info(50*ms, hostB, hostA, 17, udpDatagram(7, 40000, same)))
	a.Packet(info(70*ms, hostB, hostA, 17, udpDatagram(7, 40000, same)))
	// Two different requests answered out of order: matched by data.
	a.Packet(info(100*ms, hostA, hostB, 17, udpDatagram(40000, 7, data(200, 1))))
	a.Packet(info(101*ms, hostA, hostB, 17, udpDatagram(40000, 7, data(300, 2))))
	a.Packet(info(160*ms, hostB, hostA, 17, udpDatagram(7, 40000, data(300, 2))))
	a.Packet(info(170*ms, hostB, hostA, 17, udpDatagram(7, 40000, data(200, 1))))
	// A reply with one byte flipped: corrupted, its request not lost.
	flipped := data(400, 9)
	a.Packet(info(200*ms, hostA, hostB, 17, udpDatagram(40000, 7, flipped)))
	flipped = append([]byte(nil), flipped...)
	flipped[123] ^= 0x40
	a.Packet(info(250*ms, hostB, hostA, 17, udpDatagram(7, 40000, flipped)))
	// A reply of a length nobody sent: an orphan.
	a.Packet(info(300*ms, hostB, hostA, 17, udpDatagram(7, 40000, data(17, 0))))
	r := a.Report()
	e := r.Echo
	assert.Equal(t, uint64(5), e.Requests)
	assert.Equal(t, uint64(6), e.Replies)
	assert.Equal(t, uint64(4), e.Matched)
	assert.Equal(t, uint64(1), e.Corrupted)
	assert.Equal(t, uint64(1), e.Orphans)
	assert.Zero(t, e.Lost)
	require.Len(t, r.Paths, 1)
	p := r.Paths[0]
	assert.Equal(t, 4, p.UDP)
	got := make([]float64, len(p.Points))
	for i, pt := range p.Points {
		got[i] = units.Ms(pt.RTT)
	}
	assert.Equal(t, []float64{50, 60, 59, 70}, got)
}

func TestEchoEviction(t *testing.T) {
	a := linkq.New(linkq.Config{Echo: linkq.EchoConfig{MaxOutstanding: 4}})
	d := data(8, 0)
	for i := range 10 {
		a.Packet(info(time.Duration(i)*time.Millisecond, hostA, hostB, 1, icmpEcho(8, 1, uint16(i), d)))
	}
	// seq 0..5 were forgotten: their replies are orphans; 6..9 match.
	for i := range 10 {
		a.Packet(info(time.Second+time.Duration(i)*time.Millisecond, hostB, hostA, 1, icmpEcho(0, 1, uint16(i), d)))
	}
	e := a.Report().Echo
	assert.Equal(t, uint64(6), e.Evicted)
	assert.Equal(t, uint64(6), e.Lost)
	assert.Equal(t, uint64(6), e.Orphans)
	assert.Equal(t, uint64(4), e.Matched)
}

func TestFitRobustToOutliers(t *testing.T) {
	var pts []linkq.Point
	for i := range 100 {
		size := 40 + 14*i
		rtt := 50*time.Millisecond + 10*time.Microsecond*time.Duration(size)
		if i%10 == 3 {
			rtt += 80 * time.Millisecond // one sample in ten queued behind a burst
		}
		pts = append(pts, linkq.Point{Size: size, RTT: rtt})
	}
	ols := linkq.OLS(pts)
	ts := linkq.TheilSen(pts)
	require.True(t, ols.OK)
	require.True(t, ts.OK)
	assert.InDelta(t, 10.0, ts.SlopeUsPerByte, 1e-9)
	assert.InDelta(t, 50.0, units.Ms(ts.Intercept), 1e-9)
	assert.InDelta(t, 80.0, units.Ms(ts.MaxResid), 1e-9) // the outliers are 80 ms off
	// Least squares is pulled by the outliers: its intercept rises by
	// about their mean, 8 ms.
	assert.Greater(t, math.Abs(units.Ms(ols.Intercept)-50), 5.0)
	assert.False(t, linkq.OLS(pts[:1]).OK)
	assert.False(t, linkq.TheilSen([]linkq.Point{{100, 1 * time.Millisecond}, {100, 2 * time.Millisecond}}).OK)
}

func TestEstimatedSlope(t *testing.T) {
	// Meek et al.'s case: two 56 kbit/s access lines and a fast backbone:
	// 16·(2/56000) s/byte = 571.4 µs/byte.
	assert.InDelta(t, 571.43e-6, linkq.EstimatedSlope([]units.BitRate{56000, 56000}), 1e-8)
	assert.InDelta(t, 8e-6, linkq.EstimatedSlope([]units.BitRate{2e6}), 1e-15)
	assert.Zero(t, linkq.EstimatedSlope([]units.BitRate{0, -1, units.BitRate(math.Inf(1))}))
}

// TestEchoAllLost: a host that never answers still has its path, with
// its requests counted lost and no samples; the report encodes to JSON.
func TestEchoAllLost(t *testing.T) {
	a := linkq.New(linkq.Config{})
	for i := range 3 {
		a.Packet(info(time.Duration(i)*time.Second, hostA, hostB, 1, icmpEcho(8, 1, uint16(i), nil)))
	}
	a.Packet(info(0, hostA, hostB6, 17, udpDatagram(1000, 7, data(10, 0))))
	a.Packet(info(time.Millisecond, hostB6, hostA, 17, udpDatagram(7, 1000, data(10, 0))))
	r := a.Report()
	require.Len(t, r.Paths, 2)
	assert.Equal(t, hostB, r.Paths[0].Dst)
	assert.Zero(t, r.Paths[0].Samples)
	assert.Equal(t, &linkq.PathEchoes{Requests: 3, Lost: 3}, r.Paths[0].Echoes)
	assert.Zero(t, units.Ms(r.Paths[0].RTTMin))
	assert.Equal(t, &linkq.PathEchoes{Requests: 1, Matched: 1}, r.Paths[1].Echoes)
	assert.Equal(t, uint64(3), r.Echo.Lost)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"echoes":{"requests":3,"matched":0,"lost":3`)
}

// TestMaxPaths: samples of paths beyond the limit are counted, not kept.
func TestMaxPaths(t *testing.T) {
	a := linkq.New(linkq.Config{Fit: linkq.FitConfig{MaxPaths: 1}})
	for i, dst := range []netip.Addr{hostB, hostB6} {
		a.Packet(info(time.Duration(i)*time.Second, hostA, dst, 1, icmpEcho(8, 1, 1, nil)))
		a.Packet(info(time.Duration(i)*time.Second+time.Millisecond, dst, hostA, 1, icmpEcho(0, 1, 1, nil)))
	}
	r := a.Report()
	require.Len(t, r.Paths, 1)
	assert.Equal(t, uint64(1), r.DroppedPaths)
	assert.Equal(t, uint64(2), r.Echo.Matched)
}

// TestIPv6ThroughFlow: ICMPv6 and UDP echoes over IPv6 read from a
// capture, sized as IP packets (40-byte header).
func TestIPv6ThroughFlow(t *testing.T) {
	pkts := [][]byte{
		ipv6(hostA6, hostB6, 58, icmpEcho(128, 5, 1, data(100, 0))),
		ipv6(hostB6, hostA6, 58, icmpEcho(129, 5, 1, data(100, 0))),
		ipv6(hostA6, hostB6, 17, udpDatagram(5000, 7, data(300, 0))),
		ipv6(hostB6, hostA6, 17, udpDatagram(7, 5000, data(300, 0))),
	}
	ms := time.Millisecond
	rep, err := linkq.Analyze(bytes.NewReader(rawPcap(pkts, []time.Duration{0, 10 * ms, 20 * ms, 32 * ms})), linkq.Config{})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rep.Echo.Matched)
	require.Len(t, rep.Paths, 1)
	p := rep.Paths[0]
	assert.Equal(t, 1, p.ICMPv6)
	assert.Equal(t, 1, p.UDP)
	assert.Equal(t, []linkq.Point{{148, 10 * ms}, {348, 12 * ms}}, p.Points)
	// Two points: the line through them is exact.
	assert.InDelta(t, 10, p.Fit.SlopeUsPerByte, 1e-9)
	assert.InDelta(t, 10-148*0.010, units.Ms(p.Fit.Intercept), 1e-9) // 10 µs/byte = 0.010 ms/byte
}

// TestEchoRepeatedData: a UDP echo tool sending equal data each time; one
// reply is lost. Later replies belong to the younger requests, not to the
// unanswered one, so only one request is lost and no RTT is inflated.
func TestEchoRepeatedData(t *testing.T) {
	a := linkq.New(linkq.Config{Echo: linkq.EchoConfig{Timeout: 2 * time.Second}})
	d := make([]byte, 64) // all zeros, every time
	for i := range 10 {
		at := time.Duration(i) * 5 * time.Second
		a.Packet(info(at, hostA, hostB, 17, udpDatagram(40000, 7, d)))
		if i != 3 {
			a.Packet(info(at+40*time.Millisecond, hostB, hostA, 17, udpDatagram(7, 40000, d)))
		}
	}
	// ICMP sequence numbers coming round: the old unanswered request is
	// lost, the new one with the same id and sequence is not a repeat.
	a.Packet(info(100*time.Second, hostA, hostB, 1, icmpEcho(8, 1, 1, d)))
	a.Packet(info(200*time.Second, hostA, hostB, 1, icmpEcho(8, 1, 1, d)))
	a.Packet(info(200*time.Second+40*time.Millisecond, hostB, hostA, 1, icmpEcho(0, 1, 1, d)))
	r := a.Report()
	e := r.Echo
	assert.Equal(t, uint64(10), e.Matched)
	assert.Equal(t, uint64(2), e.Lost)
	assert.Zero(t, e.Late+e.DuplicateRequests)
	require.Len(t, r.Paths, 1)
	assert.InDelta(t, 40, units.Ms(r.Paths[0].RTTMax), 1e-9)
	assert.Equal(t, &linkq.PathEchoes{Requests: 12, Matched: 10, Lost: 2}, r.Paths[0].Echoes)
}
