package flow_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
)

func analyzeRaw(t *testing.T, cfg flow.Config, pkts [][]byte, ts []time.Time) *flow.Result {
	t.Helper()
	res, err := flow.Analyze(bytes.NewReader(pcapFile(binary.LittleEndian, true, uint32(flow.LinkRaw), pkts, ts)), cfg)
	require.NoError(t, err)
	return res
}

func TestPortReuse(t *testing.T) {
	first := handshake()
	// The same four-tuple again with a new ISN after the FIN exchange.
	second := [][]byte{
		ipv4TCP(cli, srv, 40000, 80, 90000, 0x02, nil),
		ipv4TCP(srv, cli, 80, 40000, 70000, 0x12, nil),
		ipv4TCP(cli, srv, 40000, 80, 90001, 0x10, nil),
	}
	// A retransmitted SYN (same ISN) right after it is not a new connection.
	second = append(second, ipv4TCP(cli, srv, 40000, 80, 90000, 0x02, nil))
	pkts := append(first, second...)
	res := analyzeRaw(t, flow.Config{KeepConns: true}, pkts, times(len(pkts)))
	require.Len(t, res.Conns, 2)
	assert.Equal(t, flow.EndPortReuse, res.Conns[0].End)
	assert.Equal(t, uint64(7), res.Conns[0].C2S.Packets+res.Conns[0].S2C.Packets)
	assert.Equal(t, uint64(4), res.Conns[1].C2S.Packets+res.Conns[1].S2C.Packets)
	assert.Equal(t, uint64(8), res.Conns[1].FirstPacket)
	assert.Equal(t, "open", res.Conns[1].State.String())
}

func TestIdleTimeoutAndEviction(t *testing.T) {
	// Three connections on different client ports, one data packet each,
	// the third after a long silence.
	pkts := [][]byte{
		ipv4TCP(cli, srv, 40001, 80, 1, 0x18, []byte("a")),
		ipv4TCP(cli, srv, 40002, 80, 1, 0x18, []byte("b")),
		ipv4TCP(cli, srv, 40003, 80, 1, 0x18, []byte("c")),
		ipv4TCP(cli, srv, 40001, 80, 2, 0x18, []byte("d")),
	}
	ts := []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(time.Hour)}

	// MaxConns 2: the third connection evicts the first (idle longest);
	// its later packet then starts a new, mid-stream connection.
	var ended []*flow.Conn
	res := analyzeRaw(t, flow.Config{MaxConns: 2, IdleTimeout: -1, Consumers: []flow.Consumer{flow.ConnFunc(func(c *flow.Conn) { ended = append(ended, c) })}}, pkts, ts)
	assert.Empty(t, res.Conns, "without KeepConns nothing is retained")
	require.Len(t, ended, 4)
	assert.Equal(t, 1, ended[0].ID)
	assert.Equal(t, flow.EndEvicted, ended[0].End)
	assert.Equal(t, flow.EndEvicted, ended[1].End, "the fourth connection evicts the second")
	assert.Equal(t, uint64(2), res.Summary.Evicted)
	assert.Zero(t, res.Summary.EvictedEstablished, "single packets only")
	assert.Equal(t, 2, res.Summary.MaxLive)
	assert.Equal(t, 4, res.Summary.Connections)

	// Idle timeout 10 min: the first three end idle before the fourth packet.
	res = analyzeRaw(t, flow.Config{IdleTimeout: 10 * time.Minute, KeepConns: true}, pkts, ts)
	require.Len(t, res.Conns, 4)
	for _, c := range res.Conns[:3] {
		assert.Equal(t, flow.EndIdle, c.End)
	}
	assert.Equal(t, flow.EndOfCapture, res.Conns[3].End)
	assert.Equal(t, []int{1, 2, 3, 4}, []int{res.Conns[0].ID, res.Conns[1].ID, res.Conns[2].ID, res.Conns[3].ID})
}

func TestMidstreamClientRule(t *testing.T) {
	// First packet from the server's port 5432 (a service port): the other
	// end is the client even though the server spoke first.
	pkts := [][]byte{
		ipv4TCP(srv, cli, 5432, 51000, 7, 0x18, []byte("row")),
		ipv4TCP(cli, srv, 51000, 5432, 9, 0x10, nil),
		// Both ports ephemeral: the first sender is the client.
		ipv4TCP(srv, cli, 50001, 50002, 7, 0x18, []byte("x")),
	}
	res := analyzeRaw(t, flow.Config{KeepConns: true}, pkts, times(len(pkts)))
	require.Len(t, res.Conns, 2)
	assert.Equal(t, "10.0.0.1:51000", res.Conns[0].Client.String())
	assert.True(t, res.Conns[0].Midstream)
	assert.Equal(t, "midstream", res.Conns[0].State.String())
	assert.Equal(t, uint64(1), res.Conns[0].S2C.Packets)
	assert.Equal(t, "10.0.0.2:50001", res.Conns[1].Client.String())

	// A SYN/ACK seen first: its receiver is the client.
	pkts = [][]byte{ipv4TCP(srv, cli, 80, 40000, 5000, 0x12, nil)}
	res = analyzeRaw(t, flow.Config{KeepConns: true}, pkts, times(1))
	require.Len(t, res.Conns, 1)
	assert.Equal(t, "10.0.0.1:40000", res.Conns[0].Client.String())
	assert.False(t, res.Conns[0].Midstream)
}

func TestUniqueBytesRetransmission(t *testing.T) {
	pkts := handshake()
	// Retransmit the request and send a server segment twice.
	pkts = append(pkts[:5:5], pkts[3], pkts[4], pkts[5], pkts[6])
	res := analyzeRaw(t, flow.Config{KeepConns: true}, pkts, times(len(pkts)))
	require.Len(t, res.Conns, 1)
	c := res.Conns[0]
	assert.Equal(t, uint64(36), c.C2S.PayloadBytes)
	assert.Equal(t, uint64(18), c.C2S.UniqueBytes)
	assert.Equal(t, uint64(48), c.S2C.PayloadBytes)
	assert.Equal(t, uint64(24), c.S2C.UniqueBytes)
}

func TestAccountingKinds(t *testing.T) {
	udp := ipv4TCP(cli, srv, 53, 53, 0, 0, nil)
	udp[9] = 17
	frag := ipv4TCP(cli, srv, 1, 2, 0, 0, nil)
	frag[6] = 0x20 // more fragments
	short := ipv4TCP(cli, srv, 1, 2, 0, 0, nil)[:30]
	bad := ipv4TCP(cli, srv, 1, 2, 0, 0, nil)
	bad[32] = 2 << 4 // TCP data offset 8 bytes
	arp := ether(0x0806, nil, make([]byte, 28))
	arp[14+1], arp[14+2], arp[14+4], arp[14+5], arp[14+7] = 1, 0x08, 6, 4, 1
	recs := [][]byte{
		ether(0x0800, nil, udp), ether(0x0800, nil, frag), ether(0x0800, nil, short),
		ether(0x0800, nil, bad), arp, ether(0x88cc, nil, make([]byte, 30)),
	}
	res, err := flow.Analyze(bytes.NewReader(pcapFile(binary.LittleEndian, false, 1, recs, times(len(recs)))), flow.Config{KeepConns: true})
	require.NoError(t, err)
	s := res.Summary
	assert.Equal(t, uint64(6), s.Packets)
	assert.Equal(t, map[string]uint64{"udp": 1, "arp": 1, "non_ip": 1}, s.Other)
	assert.Equal(t, map[string]uint64{"ip_fragment": 1, "truncated": 1, "malformed": 1}, s.Skipped)
}

// TestConsumerPacket checks that a Consumer sees every packet once, with
// the classification the summary counts and, for TCP, the connection and
// direction the segment was attributed to.
func TestConsumerPacket(t *testing.T) {
	udp := ipv4TCP(cli, srv, 53, 53, 0, 0, nil)
	udp[9] = 17
	bad := ipv4TCP(cli, srv, 1, 2, 0, 0, nil)
	bad[32] = 2 << 4 // TCP data offset 8 bytes
	pkts := append(handshake(), udp, bad)
	type seen struct {
		index uint64
		kind  flow.Kind
		skip  flow.SkipReason
		conn  int
		dir   string
	}
	var got []seen
	cfg := flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		s := seen{index: p.Index, kind: p.Kind, skip: p.Skip}
		if p.Conn != nil {
			require.NotNil(t, p.Seg)
			require.NotNil(t, p.TCP)
			s.conn, s.dir = p.Conn.ID, p.Dir.String()
		}
		got = append(got, s)
	})}}
	res := analyzeRaw(t, cfg, pkts, times(len(pkts)))
	require.Len(t, got, len(pkts))
	n := len(handshake())
	for i := range n {
		assert.Equal(t, uint64(i+1), got[i].index)
		assert.Equal(t, flow.KindTCP, got[i].kind)
		assert.Equal(t, 1, got[i].conn)
	}
	assert.Equal(t, "c2s", got[0].dir)
	assert.Equal(t, "s2c", got[1].dir)
	assert.Equal(t, seen{index: uint64(n + 1), kind: flow.KindUDP}, got[n])
	assert.Equal(t, seen{index: uint64(n + 2), skip: flow.SkipMalformed}, got[n+1])
	assert.Equal(t, uint64(len(pkts)), res.Summary.Packets)
}

// TestCloseLinger checks that a closed connection is ended once it has
// been quiet for Config.CloseLinger (so it stops holding memory before the
// idle timeout), that a late packet within the linger still counts, and
// that a negative linger keeps it until the end.
func TestCloseLinger(t *testing.T) {
	pkts := handshake()
	ts := times(len(pkts))
	// The last ACK of the FIN comes 30 s late, within the linger.
	pkts = append(pkts, ipv4TCP(srv, cli, 80, 40000, 5026, 0x10, nil))
	ts = append(ts, ts[len(ts)-1].Add(30*time.Second))
	// Another connection's packets 70 s and 120 s after that.
	other := ipv4TCP(cli, srv, 40001, 80, 1, 0x18, []byte("x"))
	pkts = append(pkts, other, other)
	ts = append(ts, ts[len(ts)-1].Add(70*time.Second), ts[len(ts)-1].Add(120*time.Second))

	var order []int
	var first *flow.Conn
	res := analyzeRaw(t, flow.Config{Consumers: []flow.Consumer{flow.ConnFunc(func(c *flow.Conn) {
		order = append(order, c.ID)
		if c.ID == 1 {
			first = c
		}
	})}}, pkts, ts)
	assert.Equal(t, []int{1, 2}, order, "connection 1 ends (quiet 70 s > 60 s) before the capture does")
	require.NotNil(t, first)
	assert.Equal(t, flow.EndClosed, first.End)
	assert.Equal(t, uint64(8), first.C2S.Packets+first.S2C.Packets, "the late ACK within the linger belongs to it")
	assert.Equal(t, uint64(8), first.LastPacket)
	assert.Equal(t, 1, res.Summary.MaxLive, "the closed connection was gone when the other was live alone")

	// Disabled: both connections live together until the capture ends.
	order = nil
	res = analyzeRaw(t, flow.Config{CloseLinger: -1, Consumers: []flow.Consumer{flow.ConnFunc(func(c *flow.Conn) { order = append(order, c.ID) })}}, pkts, ts)
	assert.Equal(t, 2, res.Summary.MaxLive)
	assert.Equal(t, []int{1, 2}, order)
}

// TestLinkLayer: the EtherType (after an 802.1Q tag) and the destination's
// addressing of Ethernet frames, as a Consumer sees them.
func TestLinkLayer(t *testing.T) {
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	mcast := []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e} // LLDP's group address
	ucast := []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	src := []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	frame := func(dst []byte, types ...uint16) []byte {
		b := append(append([]byte(nil), dst...), src...)
		for _, ty := range types {
			b = binary.BigEndian.AppendUint16(b, ty)
			if ty == 0x8100 {
				b = append(b, 0, 5) // VLAN 5
			}
		}
		return append(b, make([]byte, 46)...)
	}
	recs := [][]byte{
		frame(bcast, 0x0806),         // ARP to all
		frame(mcast, 0x88cc),         // LLDP
		frame(ucast, 0x8100, 0x8137), // IPX in VLAN 5
		frame(ucast, 0x0026),         // an 802.3 frame: the type field is a length
	}
	type seen struct {
		et  uint16
		dst flow.LinkDst
	}
	var got []seen
	cfg := flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		got = append(got, seen{p.EtherType, p.LinkDst})
	})}}
	_, err := flow.Analyze(bytes.NewReader(pcapFile(binary.LittleEndian, false, 1, recs, times(len(recs)))), cfg)
	require.NoError(t, err)
	assert.Equal(t, []seen{{0x0806, flow.LinkDstBroadcast}, {0x88cc, flow.LinkDstMulticast},
		{0x8137, flow.LinkDstUnicast}, {0, flow.LinkDstUnicast}}, got)
}

// TestEvictionPrefersWeak: with room for three connections, a flood of
// SYNs from other ports evicts the SYNs (single packets), never the
// established connection carrying data, which is reported whole.
func TestEvictionPrefersWeak(t *testing.T) {
	pkts := handshake()[:4] // SYN, SYN/ACK, ACK, request: port 40000
	for i := range 6 {
		pkts = append(pkts, ipv4TCP(cli, srv, uint16(41000+i), 80, 1, 0x02, nil))
	}
	pkts = append(pkts, ipv4TCP(cli, srv, 40000, 80, 1026, 0x18, []byte("more")))
	var ended []*flow.Conn
	res := analyzeRaw(t, flow.Config{MaxConns: 3, IdleTimeout: -1, Consumers: []flow.Consumer{flow.ConnFunc(func(c *flow.Conn) { ended = append(ended, c) })}}, pkts, times(len(pkts)))
	require.Len(t, ended, 7)
	var first *flow.Conn
	for _, c := range ended {
		if c.ID == 1 {
			first = c
		} else if c.End == flow.EndEvicted {
			assert.Equal(t, uint64(1), c.C2S.Packets, "an evicted SYN")
		}
	}
	require.NotNil(t, first)
	assert.Equal(t, flow.EndOfCapture, first.End)
	assert.Equal(t, uint64(5), first.C2S.Packets+first.S2C.Packets, "the established connection kept all its packets")
	assert.Equal(t, uint64(4), res.Summary.Evicted, "6 SYNs through the 2 places left")
	assert.Zero(t, res.Summary.EvictedEstablished)
}

// TestClosedMakeRoomFirst: with room for three connections, ten short
// complete connections one after another (each closed, waiting out the
// minute's CloseLinger) and one long-lived connection opened first. Each
// new connection beyond the third ends the one that closed longest ago,
// reported as closed with all its packets (LingerCut), and never evicts
// the open one; without closed connections to end, eviction is as before.
func TestClosedMakeRoomFirst(t *testing.T) {
	conn := func(port uint16) [][]byte {
		return [][]byte{
			ipv4TCP(cli, srv, port, 80, 1000, 0x02, nil),
			ipv4TCP(srv, cli, 80, port, 5000, 0x12, nil),
			ipv4TCP(cli, srv, port, 80, 1001, 0x10, nil),
			ipv4TCP(cli, srv, port, 80, 1001, 0x18, []byte("GET / HTTP/1.0\r\n\r\n")),
			ipv4TCP(srv, cli, 80, port, 5001, 0x18, []byte("HTTP/1.0 200 OK\r\n\r\nhello")),
			ipv4TCP(srv, cli, 80, port, 5025, 0x11, nil),
			ipv4TCP(cli, srv, port, 80, 1019, 0x11, nil),
		}
	}
	pkts := conn(39999)[:5] // opened, request answered, never closed
	for i := range 10 {
		pkts = append(pkts, conn(uint16(41000+i))...)
	}
	pkts = append(pkts, ipv4TCP(cli, srv, 39999, 80, 1019, 0x18, []byte("more")))
	var ended []*flow.Conn
	res := analyzeRaw(t, flow.Config{MaxConns: 3, Consumers: []flow.Consumer{flow.ConnFunc(func(c *flow.Conn) { ended = append(ended, c) })}}, pkts, times(len(pkts)))
	require.Len(t, ended, 11)
	for _, c := range ended {
		if c.ID == 1 {
			assert.Equal(t, flow.EndOfCapture, c.End)
			assert.Equal(t, uint64(6), c.C2S.Packets+c.S2C.Packets, "the open connection kept all its packets")
			continue
		}
		assert.Equal(t, flow.EndClosed, c.End, "connection %d", c.ID)
		assert.Equal(t, uint64(7), c.C2S.Packets+c.S2C.Packets, "connection %d", c.ID)
	}
	// 11 connections through 3 places: the 4th to 11th end a closed one
	assert.Equal(t, uint64(8), res.Summary.LingerCut)
	assert.Zero(t, res.Summary.Evicted)
	assert.Equal(t, 3, res.Summary.MaxLive)
}
