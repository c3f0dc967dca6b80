package census

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
)

// Addresses of the constructed capture. Local side: 10.77.0.0/24.
var (
	client   = netip.MustParseAddr("10.77.0.1")
	printer  = netip.MustParseAddr("10.77.0.3")
	dhcp     = netip.MustParseAddr("10.77.0.5")
	pinger   = netip.MustParseAddr("10.77.0.9")
	router   = netip.MustParseAddr("10.77.0.254")
	webSrv   = netip.MustParseAddr("192.0.2.10")
	pingDst  = netip.MustParseAddr("198.51.100.7")
	llRouter = netip.MustParseAddr("fe80::1")
	allNodes = netip.MustParseAddr("ff02::1")
	bcast    = netip.MustParseAddr("255.255.255.255")
	subBcast = netip.MustParseAddr("10.77.0.255")
	ospfAll  = netip.MustParseAddr("224.0.0.5")
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// printJob is 100 lines of a fixed-width report: 60 characters of text
// (no run of 8 equal bytes), 64 trailing spaces, CRLF: 126 bytes a line,
// 6400 of the 12600 bytes spaces in runs of 64.
func printJob() []byte {
	const text = "the quick brown fox jumps over the lazy dog, 0123456789"
	var b bytes.Buffer
	for i := range 100 {
		line := fmt.Sprintf("LINE %04d %s", i+1, text)
		line = (line + strings.Repeat(".", 60))[:60]
		b.WriteString(line + strings.Repeat(" ", 64) + "\r\n")
	}
	return b.Bytes()
}

// httpExchange is a 100-byte GET and a 4000-byte response whose body holds
// 500 zero bytes at response offsets 1800 to 2299, across the boundary
// between the second and third 1000-byte segments.
func httpExchange() (req, resp []byte) {
	head := "GET /status HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\nX-Pad: "
	pad := 100 - len(head) - len("\r\n\r\n")
	req = []byte(head + strings.Repeat("abcdefghijklmnopqrstuvwxyz", 4)[:pad] + "\r\n\r\n")
	hdr := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
	bodyLen := 4000 - len(hdr) - len("0000\r\n\r\n")
	resp = []byte(fmt.Sprintf("%s%04d\r\n\r\n", hdr, bodyLen))
	for i := len(resp); i < 4000; i++ {
		c := byte('a' + i%26)
		if i >= 1800 && i < 2300 {
			c = 0
		}
		resp = append(resp, c)
	}
	return req, resp
}

// mixedCapture builds the capture the tests below take apart: a local
// host flooding a remote one with big pings (10 of 50 replies lost), an
// HTTP exchange with a remote server, a print job to a local printer whose
// payload is half trailing spaces, a few small pings, a DHCP broadcast, a
// RIP update to the subnet broadcast, an OSPF hello, an IPv6 router
// advertisement, an ARP request, two IPX frames and an LLDP frame.
func mixedCapture(t testing.TB) *capture {
	c := &capture{t0: t0}
	ms := time.Millisecond
	big := bytes.Repeat([]byte{0xa5, 0x5a, 0x3c, 0xc3}, 1472/4)
	for i := range 50 {
		at := time.Duration(i) * 200 * ms
		c.ip(at, pinger, pingDst, 1, icmpEcho(8, 7, uint16(i), big), false) // 14+20+8+1472 = 1514 B
		if i%5 != 4 {
			c.ip(at+100*ms, pingDst, pinger, 1, icmpEcho(0, 7, uint16(i), big), false)
		}
	}
	small := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 8) // 56 B: 98-byte frames
	for k := range 5 {
		at := 2*time.Second + time.Duration(k)*500*ms
		c.ip(at, client, webSrv, 1, icmpEcho(8, 9, uint16(k), small), false)
		c.ip(at+50*ms, webSrv, client, 1, icmpEcho(0, 9, uint16(k), small), false)
	}
	req, resp := httpExchange()
	require.Len(t, req, 100)
	require.Len(t, resp, 4000)
	h := c.tcp(netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(webSrv, 80))
	h.handshake(time.Second)
	h.send(time.Second+10*ms, true, req, 1000)
	h.send(time.Second+20*ms, false, resp, 1000)
	h.close(time.Second + 30*ms)
	job := printJob()
	require.Len(t, job, 12600)
	p := c.tcp(netip.AddrPortFrom(client, 40001), netip.AddrPortFrom(printer, 9100))
	p.handshake(6 * time.Second)
	p.send(6*time.Second+10*ms, true, job, 1260)
	p.close(6*time.Second + 30*ms)
	c.ip(3*time.Second, dhcp, bcast, 17, udp(68, 67, make([]byte, 300)), true)                                // 342 B
	c.ip(3500*ms, router, subBcast, 17, udp(520, 520, append([]byte{2, 1, 0, 0}, make([]byte, 20)...)), true) // 66 B
	c.ip(4*time.Second, router, ospfAll, 89, append([]byte{2, 1, 0, 44}, make([]byte, 40)...), false)         // 78 B
	c.ip(4500*ms, llRouter, allNodes, 58, append([]byte{134, 0, 0, 0}, make([]byte, 12)...), false)           // 70 B
	arp := append([]byte{0, 1, 8, 0, 6, 4, 0, 1}, make([]byte, 20)...)                                        // 28 B
	c.add(500*ms, macBcast, 0x0806, arp)                                                                      // 42 B
	c.add(5500*ms, macBcast, 0x8137, make([]byte, 64))                                                        // IPX, 78 B
	c.add(8500*ms, macBcast, 0x8137, make([]byte, 64))
	c.add(9*time.Second, [6]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, 0x88cc, make([]byte, 46)) // LLDP, 60 B
	return c
}

var mixedConfig = Config{
	Local:    []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24")},
	Interval: 5 * time.Second,
	Rate:     2e6,
}

// runCensus analyses a capture with a census whose link layer comes from
// link (nil: as flow shows it), over workers shards.
func runCensus(t testing.TB, data []byte, cfg Config, link func(*flow.PacketInfo) linkInfo, workers int) *Report {
	t.Helper()
	c := New(cfg)
	if link != nil {
		c.link = link
	}
	res, err := flow.Analyze(bytes.NewReader(data), flow.Config{Consumers: []flow.Consumer{c}, Workers: workers})
	require.NoError(t, err)
	rep := c.Report()
	rep.Summary = &res.Summary
	return rep
}

func use(p, b uint64) Count { return Count{Packets: p, Bytes: b} }

func uc(u Use) Count { return Count{Packets: u.Packets, Bytes: u.Bytes} }

func classMap(cs []Class) map[string]Count {
	m := map[string]Count{}
	for _, c := range cs {
		m[c.Name] = Count{Packets: c.Packets, Bytes: c.Bytes}
	}
	return m
}

// TestMixedCapture checks every figure of the census of the constructed
// capture against the arithmetic of how it was built.
func TestMixedCapture(t *testing.T) {
	c := mixedCapture(t)
	data := c.bytes()
	rep := runCensus(t, data, mixedConfig, c.linkOf, 1)

	// 150 frames: 42 TCP (16 HTTP, 26 print job), 50+40 big pings, 10
	// small pings, DHCP, RIP, OSPF, RA, ARP, 2 IPX, LLDP.
	assert.Equal(t, uint64(150), rep.Summary.Packets)
	assert.Equal(t, t0, rep.Start)
	assert.Equal(t, t0.Add(9800*time.Millisecond), rep.End) // the last big request, i=49
	assert.Equal(t, 9800*time.Millisecond, rep.Duration)

	// Directions, Local 10.77.0.0/24.
	// out: HTTP client 586 B (SYN 54, ACK 54, request 154, 4 ACKs 216,
	// FIN 54, ACK 54; 9 packets), small requests 5×98, big requests
	// 50×1514 = 75700, DHCP 342 (255.255.255.255 is not local), OSPF 78.
	assert.Equal(t, use(66, 586+490+75700+342+78), uc(rep.Total.Out))
	// in: HTTP server 4378 B (SYN/ACK, ACK, 4×1054, FIN; 7), small
	// replies 5×98, big replies 40×1514 = 60560.
	assert.Equal(t, use(52, 4378+490+60560), uc(rep.Total.In))
	// internal: the print job, 13356 B from the client (SYN, ACK,
	// 10×1314, FIN, ACK; 14) and 648 from the printer (SYN/ACK, 10 ACKs,
	// FIN; 12); the RIP update to 10.77.0.255, 66.
	assert.Equal(t, use(27, 13356+648+66), uc(rep.Total.Internal))
	// transit: the RA from fe80::1 to ff02::1, 70 B.
	assert.Equal(t, use(1, 70), uc(rep.Total.Transit))
	// unknown: ARP 42, IPX 2×78, LLDP 60.
	assert.Equal(t, use(4, 42+156+60), uc(rep.Total.Unknown))
	assert.InDelta(t, 77196*8/9.8, float64(rep.Total.Out.Rate), 1e-6)
	assert.InDelta(t, 100*77196*8/9.8/2e6, rep.Total.Out.Pct, 1e-9)

	// Intervals of 5 s from 10:00:00.
	require.Len(t, rep.Intervals, 2)
	i0, i1 := rep.Intervals[0], rep.Intervals[1]
	assert.Equal(t, t0, i0.Start)
	assert.Equal(t, t0.Add(5*time.Second), i1.Start)
	// [0,5): HTTP, small pings, big requests i=0..24, DHCP, OSPF out;
	// HTTP, small, 20 big replies (i=0..24 but 4, 9, 14, 19, 24) in.
	assert.Equal(t, use(41, 586+490+25*1514+342+78), uc(i0.Out))
	assert.Equal(t, use(32, 4378+490+20*1514), uc(i0.In))
	assert.Equal(t, use(1, 66), uc(i0.Internal))
	assert.Equal(t, use(1, 70), uc(i0.Transit))
	assert.Equal(t, use(1, 42), uc(i0.Unknown))
	assert.InDelta(t, 39346*8/5.0, float64(i0.Out.Rate), 1e-6)
	assert.InDelta(t, 100*39346*8/5.0/2e6, i0.Out.Pct, 1e-9)
	// [5,10): big requests i=25..49 and 20 replies, the print job, IPX, LLDP.
	assert.Equal(t, use(25, 25*1514), uc(i1.Out))
	assert.Equal(t, use(20, 20*1514), uc(i1.In))
	assert.Equal(t, use(26, 14004), uc(i1.Internal))
	assert.Equal(t, use(3, 216), uc(i1.Unknown))

	// The pinging host is the top talker by bytes sent: 50×1514 = 75700,
	// then its target's 40 replies, then the client (586+490+13356).
	require.NotEmpty(t, rep.Hosts.BySent)
	assert.True(t, rep.Hosts.Exact)
	top := rep.Hosts.BySent[0]
	assert.Equal(t, netip.PrefixFrom(pinger, 32), top.Prefix)
	assert.Equal(t, [2]uint64{50, 75700}, [2]uint64{top.SentPackets, top.SentBytes})
	assert.Equal(t, netip.PrefixFrom(pingDst, 32), rep.Hosts.BySent[1].Prefix)
	assert.Equal(t, uint64(60560), rep.Hosts.BySent[1].SentBytes)
	assert.Equal(t, netip.PrefixFrom(client, 32), rep.Hosts.BySent[2].Prefix)
	assert.Equal(t, [2]uint64{28, 586 + 490 + 13356}, [2]uint64{rep.Hosts.BySent[2].SentPackets, rep.Hosts.BySent[2].SentBytes})
	// Connections: the client 2, the web server and the printer 1 each.
	require.Len(t, rep.Hosts.ByConnections, 3)
	assert.Equal(t, netip.PrefixFrom(client, 32), rep.Hosts.ByConnections[0].Prefix)
	assert.Equal(t, uint64(2), rep.Hosts.ByConnections[0].Connections)
	// Received: the pinger's target first (50 requests), the client
	// second (4378 + 490 from the web server, 648 from the printer).
	assert.Equal(t, netip.PrefixFrom(pingDst, 32), rep.Hosts.ByReceived[0].Prefix)
	assert.Equal(t, uint64(75700), rep.Hosts.ByReceived[0].ReceivedBytes)
	assert.Equal(t, netip.PrefixFrom(pinger, 32), rep.Hosts.ByReceived[1].Prefix)
	// The local /24 sent 75700 + 14432 + 648 + 342 + 144 (RIP and OSPF).
	assert.Equal(t, netip.MustParsePrefix("10.77.0.0/24"), rep.Subnets.BySent[0].Prefix)
	assert.Equal(t, uint64(75700+14432+648+342+144), rep.Subnets.BySent[0].SentBytes)

	// Layers.
	net := classMap(rep.Layers.Network)
	assert.Equal(t, use(145, 157022-70-258), net["ipv4"])
	assert.Equal(t, use(1, 70), net["ipv6"])
	assert.Equal(t, use(1, 42), net["arp"])
	assert.Equal(t, use(3, 216), net["non_ip"])
	assert.Equal(t, use(0, 0), net["unanalysed"])
	tr := classMap(rep.Layers.Transport)
	assert.Equal(t, use(100, 75700+60560+980), tr["icmp"])
	assert.Equal(t, use(42, 4964+14004), tr["tcp"])
	assert.Equal(t, use(2, 342+66), tr["udp"])
	assert.Equal(t, use(1, 78), tr["ospf"])
	assert.Equal(t, use(1, 70), tr["icmpv6"])
	assert.Len(t, rep.Layers.Transport, 5)
	casts := classMap(rep.Layers.Casts)
	assert.Equal(t, use(1, 342), casts["ip_broadcast"])
	assert.Equal(t, use(1, 66), casts["subnet_broadcast"])
	assert.Equal(t, use(1, 78), casts["ipv4_multicast"])
	assert.Equal(t, use(1, 70), casts["ipv6_multicast"])
	// Ethernet broadcasts: DHCP, RIP, ARP, 2 IPX; multicasts: OSPF, RA, LLDP.
	assert.Equal(t, use(5, 342+66+42+156), casts["ethernet_broadcast"])
	assert.Equal(t, use(3, 78+70+60), casts["ethernet_multicast"])
	routing := classMap(rep.Layers.Routing)
	assert.Equal(t, use(1, 78), routing["ospf"])
	assert.Equal(t, use(1, 66), routing["rip"])
	assert.Equal(t, use(0, 0), routing["bgp"])
	assert.Equal(t, map[string]Count{"0x8137 ipx": use(2, 156), "0x88cc lldp": use(1, 60)}, classMap(rep.Layers.EtherTypes))
	assert.Equal(t, uint64(150), rep.Layers.LinkKnown)

	// Services: the print job, HTTP, DHCP (68→67: the lower well-known
	// port), RIP.
	require.Len(t, rep.Services, 4)
	assert.Equal(t, Service{Proto: "tcp", Port: 9100, Connections: 1, Packets: 26, Bytes: 14004, Share: 14004.0 / 157022}, rep.Services[0])
	assert.Equal(t, Service{Proto: "tcp", Port: 80, Connections: 1, Packets: 16, Bytes: 4964, Share: 4964.0 / 157022}, rep.Services[1])
	assert.Equal(t, Service{Proto: "udp", Port: 67, Packets: 1, Bytes: 342, Share: 342.0 / 157022}, rep.Services[2])
	assert.Equal(t, Service{Proto: "udp", Port: 520, Packets: 1, Bytes: 66, Share: 66.0 / 157022}, rep.Services[3])

	// ICMP: 55 requests (50 big), 45 replies (40 big).
	assert.Equal(t, use(55, 75700+490), rep.ICMP.EchoRequests)
	assert.Equal(t, use(45, 60560+490), rep.ICMP.EchoReplies)
	assert.Equal(t, use(50, 75700), rep.ICMP.BigRequests)
	assert.Equal(t, use(40, 60560), rep.ICMP.BigReplies)
	require.Len(t, rep.ICMP.Pingers, 1)
	pg := rep.ICMP.Pingers[0]
	assert.Equal(t, pinger, pg.Host)
	assert.Equal(t, [2]uint64{50, 136260}, [2]uint64{pg.Pings, pg.Bytes})
	assert.Equal(t, t0, pg.First)
	assert.Equal(t, t0.Add(9800*time.Millisecond), pg.Last)
	assert.InDelta(t, 136260*8/9.8, float64(pg.Rate), 1e-6)
	assert.InDelta(t, 100*136260*8/9.8/2e6, pg.Pct, 1e-9)
	assert.InDelta(t, 50/9.8, pg.PingsPerS, 1e-9)

	// Protocols: appproto calls the exchange on port 80 HTTP, the print
	// job (port 9100, plain text) unknown.
	require.Len(t, rep.Protocols, 2)
	pj, web := rep.Protocols[0], rep.Protocols[1]
	assert.Equal(t, "unknown", pj.Name)
	assert.Equal(t, "http", web.Name)
	assert.Equal(t, [3]uint64{1, 26, 14004}, [3]uint64{pj.Connections, pj.Packets, pj.Bytes})
	assert.Equal(t, [3]uint64{1, 16, 4964}, [3]uint64{web.Connections, web.Packets, web.Bytes})
	// Print job: 6400 of 12600 payload bytes are runs of spaces.
	r := pj.Redundancy
	assert.Equal(t, [5]uint64{12600, 12600, 6400, 0, 0}, [5]uint64{r.PayloadBytes, r.CapturedBytes, r.SpaceRunBytes, r.ZeroRunBytes, r.OtherRunBytes})
	assert.InDelta(t, 6400.0/12600, r.RunShare, 1e-12)
	// The LZ parse covers it all (under the 256 KiB sample) and finds at
	// least the space runs (each but its first byte: 100 × 63) and the
	// repeated text. It looks within a segment only, so the text of each
	// of the 10 segments' first line is literal, but for " the " (5
	// bytes) that repeats within it: at least 10 × 55 literal bytes.
	assert.Equal(t, uint64(12600), r.SampledBytes)
	assert.Greater(t, r.MatchedBytes, uint64(100*63))
	assert.LessOrEqual(t, r.MatchedBytes, uint64(12600-10*55))
	assert.Less(t, r.Ratio, 0.5)
	assert.GreaterOrEqual(t, r.RedundantBytes, uint64(6400))
	// HTTP: 500 zero bytes in one run across two segments; the body's
	// alphabet cycles without runs.
	w := web.Redundancy
	assert.Equal(t, [5]uint64{4100, 4100, 0, 500, 0}, [5]uint64{w.PayloadBytes, w.CapturedBytes, w.SpaceRunBytes, w.ZeroRunBytes, w.OtherRunBytes})
	// Top connections by redundant bytes: the print job (ID 2), then HTTP.
	require.Len(t, rep.Redundancy.Conns, 2)
	assert.Equal(t, 2, rep.Redundancy.Conns[0].ID)
	assert.Equal(t, uint64(6400), rep.Redundancy.Conns[0].C2S.SpaceRunBytes)
	assert.Equal(t, uint64(0), rep.Redundancy.Conns[0].S2C.CapturedBytes)
	assert.Equal(t, uint64(500), rep.Redundancy.Conns[1].S2C.ZeroRunBytes)
	assert.Equal(t, uint64(12600+4100), rep.Redundancy.Total.CapturedBytes)
	assert.Equal(t, uint64(6400+500), rep.Redundancy.Total.RunBytes())
}

// TestMixedCaptureAsFlowShowsIt checks what the census makes of the same
// capture with the link layer flow passes on today: nothing of it.
func TestMixedCaptureAsFlowShowsIt(t *testing.T) {
	c := mixedCapture(t)
	// What flow's decoder reads of the Ethernet headers (EtherType after
	// 802.1Q tags, the destination MAC's I/G bit and broadcast address)
	// is what the test built into them.
	fromFlow := runCensus(t, c.bytes(), mixedConfig, nil, 1)
	built := runCensus(t, c.bytes(), mixedConfig, c.linkOf, 1)
	assert.Equal(t, mustJSON(t, built), mustJSON(t, fromFlow))
	assert.Equal(t, fromFlow.Total.Sum().Packets, fromFlow.Layers.LinkKnown, "every frame is Ethernet")
}

// TestForkerEquivalence runs the census with one worker and with three
// over the constructed capture, with the default limits and with limits
// so small that every summary and the intervals overflow, and requires
// byte-identical JSON.
func TestForkerEquivalence(t *testing.T) {
	c := mixedCapture(t)
	data := c.bytes()
	tiny := mixedConfig
	tiny.MaxHosts, tiny.MaxSubnets, tiny.MaxPingers, tiny.TopN, tiny.MaxIntervals = 2, 1, 1, 3, 3
	tiny.Interval = 100 * time.Millisecond
	for name, cfg := range map[string]Config{"default": mixedConfig, "tiny": tiny} {
		t.Run(name, func(t *testing.T) {
			one := runCensus(t, data, cfg, c.linkOf, 1)
			for _, w := range []int{2, 3, 4} {
				many := runCensus(t, data, cfg, c.linkOf, w)
				assert.Equal(t, mustJSON(t, one), mustJSON(t, many), "%d workers", w)
			}
			if name == "tiny" {
				assert.False(t, one.Hosts.Exact)
				assert.False(t, one.Subnets.Exact)
				// 10 s in at most 3 bins of 100 ms doubled: 6.4 s.
				assert.Equal(t, 6400*time.Millisecond, one.Interval)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	b, err := json.MarshalIndent(v, "", " ")
	require.NoError(t, err)
	return string(b)
}
