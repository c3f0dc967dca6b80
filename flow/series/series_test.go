package series_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

var (
	t0     = time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("10.0.0.2:5432")
)

// tcpOf holds the tcpstate analysis of each connection the tests feed,
// as flow's Analyzer keeps one per connection.
var tcpOf = map[*flow.Conn]*tcpstate.Conn{}

// packet builds the PacketInfo the Analyzer would pass for a segment of
// conn (nil for a non-TCP packet): the segment analysed by the
// connection's tcpstate.Conn.
func packet(conn *flow.Conn, at time.Duration, wire int, d tcpstate.Dir, seg *tcpstate.Segment) *flow.PacketInfo {
	p := &flow.PacketInfo{Time: t0.Add(at), WireLen: wire, Kind: flow.KindUDP,
		Src: client.Addr(), Dst: server.Addr()}
	if conn != nil {
		p.Kind, p.Conn, p.Dir, p.Seg = flow.KindTCP, conn, d, seg
		if d == tcpstate.ServerToClient {
			p.Src, p.Dst = p.Dst, p.Src
		}
		tc := tcpOf[conn]
		if tc == nil {
			tc = tcpstate.NewConn()
			tcpOf[conn] = tc
		}
		seg.Time, seg.WireLen = p.Time, wire
		p.Analysis, p.TCP = tc.Add(d, seg), tc
	}
	return p
}

func TestBinBoundaries(t *testing.T) {
	c := &flow.Conn{ID: 1, Client: client, Server: server}
	col := series.NewCollector(series.Config{Conns: []int{1}, Width: 100 * time.Millisecond})
	seg := &tcpstate.Segment{Flags: tcpstate.ACK}
	// Edges: 0 and 99.999999 ms fall in bin 0; exactly 100 ms starts bin 1;
	// 250 ms is bin 2.
	col.Packet(packet(c, 0, 100, tcpstate.ClientToServer, seg))
	col.Packet(packet(c, 100*time.Millisecond-1, 200, tcpstate.ServerToClient, seg))
	col.Packet(packet(c, 100*time.Millisecond, 300, tcpstate.ClientToServer, seg))
	col.Packet(packet(nil, 250*time.Millisecond, 60, 0, nil))
	r := col.Result()

	assert.Equal(t, t0, r.Start)
	assert.Equal(t, 100*time.Millisecond, r.Width)
	assert.Equal(t, []uint64{100, 300, 60}, r.Link[0].Bytes)
	assert.Equal(t, []uint64{200, 0, 0}, r.Link[1].Bytes)
	cs := r.Conn(1)
	require.NotNil(t, cs)
	assert.Equal(t, []uint64{100, 300, 0}, cs.Bins[0].Bytes)
	assert.Equal(t, []uint64{1, 1, 0}, cs.Bins[0].Packets)
	assert.Equal(t, []uint64{200, 0, 0}, cs.Bins[1].Bytes)
	assert.Equal(t, t0.Add(200*time.Millisecond), r.Link[0].Edge(2))
	// 300 bytes in 100 ms = 24 kbit/s.
	assert.InDelta(t, 24.0, r.Link[0].Kbps(1), 1e-9)
	require.Len(t, r.Classes, 2)
	assert.Equal(t, "tcp/5432", r.Classes[0].Name)
	assert.Equal(t, "udp", r.Classes[1].Name)
}

func TestWidenKeepsTotals(t *testing.T) {
	col := series.NewCollector(series.Config{Width: 100 * time.Millisecond, MaxBins: 4})
	at := []time.Duration{0, 350 * time.Millisecond, 450 * time.Millisecond, 1650 * time.Millisecond}
	for i, d := range at {
		col.Packet(packet(nil, d, 10*(i+1), 0, nil))
	}
	r := col.Result()
	// 1.65 s needs bin 16 at 100 ms; the width doubles three times to
	// 800 ms (bin 2), merging 0, 0.35 and 0.45 s into bin 0.
	assert.Equal(t, 800*time.Millisecond, r.Width)
	assert.Equal(t, []uint64{10 + 20 + 30, 0, 40}, r.Link[0].Bytes)
	assert.LessOrEqual(t, r.Link[0].Len(), 4)
}

// Packets that are not TCP segments of a connection count by what they
// say themselves: a UDP datagram to the lower port (a service's) client
// to server and one from it server to client; an ICMP echo request client
// to server, its reply and an ICMP error server to client. A packet dated
// before the first moves the grid's origin back: no packet is clamped.
func TestEarlierPacketAndDirections(t *testing.T) {
	col := series.NewCollector(series.Config{})
	udp := func(at time.Duration, src, dst uint16, wire int) *flow.PacketInfo {
		p := packet(nil, at, wire, 0, nil)
		p.L4 = []byte{byte(src >> 8), byte(src), byte(dst >> 8), byte(dst), 0, 8, 0, 0}
		return p
	}
	icmp := func(at time.Duration, typ byte, wire int) *flow.PacketInfo {
		p := packet(nil, at, wire, 0, nil)
		p.Kind, p.L4 = flow.KindICMP, []byte{typ, 0, 0, 0, 0, 1, 0, 1}
		return p
	}
	col.Packet(udp(time.Second, 40000, 53, 50))                     // query: c2s, bin 10 of 100 ms
	col.Packet(udp(time.Second+10*time.Millisecond, 53, 40000, 70)) // answer: s2c
	col.Packet(icmp(time.Second+20*time.Millisecond, 8, 98))        // echo request: c2s
	col.Packet(icmp(time.Second+30*time.Millisecond, 0, 98))        // echo reply: s2c
	col.Packet(icmp(time.Second+40*time.Millisecond, 3, 70))        // unreachable: s2c
	col.Packet(udp(800*time.Millisecond, 53, 40000, 60))            // dated 200 ms before the first: s2c
	r := col.Result()
	// t0 is a multiple of 100 ms since the epoch: the grid starts at the
	// earliest packet's bin, 0.8 s after t0, and ends at 1.0 s.
	assert.Equal(t, t0.Add(800*time.Millisecond), r.Start)
	assert.Equal(t, t0.Add(800*time.Millisecond), r.First)
	assert.Equal(t, t0.Add(time.Second+40*time.Millisecond), r.Last)
	assert.Equal(t, []uint64{0, 0, 50 + 98}, r.Link[0].Bytes)
	assert.Equal(t, []uint64{60, 0, 70 + 98 + 70}, r.Link[1].Bytes)
	assert.Equal(t, uint64(6), r.Packets)
	require.Len(t, r.Classes, 2)
	assert.Equal(t, []string{"udp", "icmp"}, []string{r.Classes[0].Name, r.Classes[1].Name})
}

func TestEmpty(t *testing.T) {
	r := series.NewCollector(series.Config{Conns: []int{1}}).Result()
	assert.Empty(t, r.Conns)
	assert.Zero(t, r.Link[0].Len())
	assert.Nil(t, r.Conn(1))
}

func TestSequenceUnwrap(t *testing.T) {
	c := &flow.Conn{ID: 7, Client: client, Server: server}
	col := series.NewCollector(series.Config{Conns: []int{7}})
	isn := tcpstate.Seq(0xffffff00) // wraps after 255 bytes
	syn := &tcpstate.Segment{Seq: isn, Flags: tcpstate.SYN, Window: 1000,
		Opts: tcpstate.Options{HasWScale: true, WScale: 3}}
	synack := &tcpstate.Segment{Seq: 5000, Ack: isn + 1, Flags: tcpstate.SYN | tcpstate.ACK, Window: 2000,
		Opts: tcpstate.Options{HasWScale: true, WScale: 2}}
	d1 := &tcpstate.Segment{Seq: isn + 1, Ack: 5001, Flags: tcpstate.ACK, Len: 1000, Window: 100}
	d2 := &tcpstate.Segment{Seq: isn + 1001, Ack: 5001, Flags: tcpstate.ACK, Len: 500, Window: 100}
	re := &tcpstate.Segment{Seq: isn + 1, Ack: 5001, Flags: tcpstate.ACK, Len: 1000, Window: 100}
	ack := &tcpstate.Segment{Seq: 5001, Ack: isn + 1501, Flags: tcpstate.ACK, Window: 0,
		Opts: tcpstate.Options{NSACK: 1, SACK: [4]tcpstate.SACKBlock{{Left: isn + 1001, Right: isn + 1501}}}}
	for i, s := range []*tcpstate.Segment{syn, synack, d1, d2, re, ack} {
		d := tcpstate.ClientToServer
		if s == synack || s == ack {
			d = tcpstate.ServerToClient
		}
		col.Packet(packet(c, time.Duration(i)*10*time.Millisecond, 54+s.Len, d, s))
	}
	cs := col.Result().Conn(7)
	require.NotNil(t, cs)
	require.Len(t, cs.Points, 6)
	pts := cs.Points
	assert.Equal(t, [2]int8{3, 2}, cs.WScale)
	assert.Equal(t, [2]int64{0, 1}, [2]int64{pts[0].Seq, pts[0].End})
	assert.Equal(t, [2]int64{1, 1001}, [2]int64{pts[2].Seq, pts[2].End})
	assert.Equal(t, [2]int64{1001, 1501}, [2]int64{pts[3].Seq, pts[3].End}, "across the 2^32 wrap")
	assert.Equal(t, int64(1), pts[1].Ack)
	assert.Equal(t, int64(1501), pts[5].Ack)
	assert.Equal(t, [2]int64{1001, 1501}, pts[5].SACK[0])
	assert.Equal(t, int64(800), pts[2].Window, "100 << 3")
	assert.Equal(t, int64(2000), pts[1].Window, "SYN windows are never scaled")
	assert.Equal(t, []bool{false, false, false, false, true, false},
		[]bool{pts[0].Retrans, pts[1].Retrans, pts[2].Retrans, pts[3].Retrans, pts[4].Retrans, pts[5].Retrans})

	rtt := series.SamplesOf(pts)
	// tcpstate's samples: the SYN (0 ms) is answered by the SYN/ACK
	// (10 ms); d1 (20 ms) acks the server's SYN. The final ACK (50 ms)
	// ends at d2, but d1's bytes before it were sent twice: ambiguous
	// (Karn), no sample although d2 was sent once.
	require.Len(t, rtt, 2)
	assert.Equal(t, 10*time.Millisecond, rtt[0].RTT)
	assert.Equal(t, tcpstate.ClientToServer, rtt[0].Dir)
	assert.Equal(t, int64(1), rtt[0].Seq)
	assert.Equal(t, 10*time.Millisecond, rtt[1].RTT)
	assert.Equal(t, tcpstate.ServerToClient, rtt[1].Dir)
}

// Packets of connections not chosen cost no allocation once their bin
// and class exist: capture-wide memory grows with time, not packets.
func TestAddAllocs(t *testing.T) {
	col := series.NewCollector(series.Config{Conns: []int{2}})
	c := &flow.Conn{ID: 1, Client: client, Server: server}
	p := packet(c, 0, 1514, tcpstate.ServerToClient, &tcpstate.Segment{Flags: tcpstate.ACK, Len: 1448})
	col.Packet(p)
	allocs := testing.AllocsPerRun(1000, func() { col.Packet(p) })
	assert.Zero(t, allocs)
	l := col.Result().Link[1]
	assert.Equal(t, l.TotalPackets()*1514, l.TotalBytes())
}

// BenchmarkCollectorAdd measures the per-packet cost of binning a packet
// of a chosen connection (recorded) and of another (binned only).
func BenchmarkCollectorAdd(b *testing.B) {
	col := series.NewCollector(series.Config{Conns: []int{1}, MaxPoints: 1})
	c1 := &flow.Conn{ID: 1, Client: client, Server: server}
	c2 := &flow.Conn{ID: 2, Client: client, Server: server}
	seg := &tcpstate.Segment{Flags: tcpstate.ACK, Len: 1448}
	p1 := packet(c1, 0, 1514, tcpstate.ServerToClient, seg)
	p2 := packet(c2, 0, 1514, tcpstate.ServerToClient, seg)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := t0.Add(time.Duration(i%100000) * time.Millisecond)
		p1.Time, p2.Time = t, t
		col.Packet(p1)
		col.Packet(p2)
	}
}

// Capture-wide minimum RTT per interval from tcpstate's samples, merged by
// minimum when the grid widens.
func TestMinRTTBins(t *testing.T) {
	c := &flow.Conn{ID: 1, Client: client, Server: server}
	col := series.NewCollector(series.Config{Width: 100 * time.Millisecond, MaxBins: 2})
	add := func(ms int, rtt time.Duration, d tcpstate.Dir) {
		p := packet(c, time.Duration(ms)*time.Millisecond, 66, d, &tcpstate.Segment{Flags: tcpstate.ACK})
		p.Analysis = &tcpstate.Analysis{RTT: rtt}
		col.Packet(p)
	}
	add(0, 0, tcpstate.ClientToServer)
	add(50, 152*time.Millisecond, tcpstate.ServerToClient) // times c2s data
	add(150, 151*time.Millisecond, tcpstate.ServerToClient)
	add(160, 200*time.Microsecond, tcpstate.ClientToServer) // times s2c data
	r := col.Result()
	assert.Equal(t, 100*time.Millisecond, r.Width)
	assert.Equal(t, []time.Duration{152 * time.Millisecond, 151 * time.Millisecond}, r.MinRTT[0])
	assert.Equal(t, []time.Duration{0, 200 * time.Microsecond}, r.MinRTT[1])
	add(250, 153*time.Millisecond, tcpstate.ServerToClient) // bin 2: the width doubles
	r = col.Result()
	assert.Equal(t, 200*time.Millisecond, r.Width)
	assert.Equal(t, []time.Duration{151 * time.Millisecond, 153 * time.Millisecond}, r.MinRTT[0])
}

func TestMinPerInterval(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := []series.RTTSample{
		{Time: at(-5), RTT: time.Millisecond}, // before the start: ignored
		{Time: at(0), RTT: 152 * time.Millisecond},
		{Time: at(999), RTT: 151 * time.Millisecond}, // still interval 0
		{Time: at(1000), RTT: 160 * time.Millisecond},
		{Time: at(3500), RTT: 150 * time.Millisecond},
	}
	m, err := series.MinPerInterval(s, t0, time.Second)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{151 * time.Millisecond, 160 * time.Millisecond, 0, 150 * time.Millisecond}, m.Min)
	_, err = series.MinPerInterval(s, t0, 0)
	assert.Error(t, err)
	_, err = series.MinPerInterval(s, t0, time.Microsecond)
	assert.ErrorContains(t, err, "intervals", "3.5 s of 1 µs intervals is past MaxIntervals")
}
