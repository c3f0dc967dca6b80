package census_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/census"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// Take the census of a download across a 2 Mbit/s link: the local host
// 10.1.0.5 sends a 100-byte request to a remote server, which answers with
// 50 segments of 1000 bytes, 20 ms apart; the client ACKs every second
// one. Frames are raw IP: 40 bytes of headers.
func ExampleAnalyze() {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.1.0.5:40000"), netip.MustParseAddrPort("192.0.2.80:80"), start)
	b.Handshake(20*time.Millisecond, 0, nil, nil)
	b.Send(tcpstate.ClientToServer, 100, nil)
	for i := range 50 {
		b.Advance(20 * time.Millisecond)
		b.Send(tcpstate.ServerToClient, 1000, nil)
		if i%2 == 1 {
			b.Ack(tcpstate.ClientToServer, nil)
		}
	}
	rep, err := census.Analyze(bytes.NewReader(b.Bytes()), census.Config{
		Local: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")},
		Rate:  2e6,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.2f s\n", rep.Duration.Seconds())
	for _, d := range []struct {
		name string
		u    census.Use
	}{{"in", rep.Total.In}, {"out", rep.Total.Out}} {
		fmt.Printf("%-3s %2d packets %5d bytes %6.1f kbit/s %4.1f%% of 2 Mbit/s\n", d.name, d.u.Packets, d.u.Bytes, float64(d.u.Rate)/1e3, d.u.Pct)
	}
	top := rep.Hosts.BySent[0]
	fmt.Printf("top sender %s: %d bytes in %d packets\n", top.Prefix.Addr(), top.SentBytes, top.SentPackets)
	for _, s := range rep.Services {
		fmt.Printf("service %s/%d: %d connection, %d bytes\n", s.Proto, s.Port, s.Connections, s.Bytes)
	}
	// flowtest's payload is all 'x': every byte is in a run.
	p := rep.Protocols[0]
	fmt.Printf("protocol %s: %d payload bytes, %.0f%% in runs\n", p.Name, p.Redundancy.CapturedBytes, 100*p.Redundancy.RunShare)
	// Output:
	// 1.02 s
	// in  51 packets 52040 bytes  408.2 kbit/s 20.4% of 2 Mbit/s
	// out 28 packets  1220 bytes    9.6 kbit/s  0.5% of 2 Mbit/s
	// top sender 192.0.2.80: 52040 bytes in 51 packets
	// service tcp/80: 1 connection, 53260 bytes
	// protocol http: 50100 payload bytes, 100% in runs
}

// Run a Census on flow's pass yourself, here over two workers (the Census
// is a flow.Forker): list it in flow.Config.Consumers, with any others,
// and read its Report once the pass is over. A client opens a connection
// and sends 10 bytes; frames are raw IP.
func ExampleNew() {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.1.0.5:40000"), netip.MustParseAddrPort("10.1.0.9:22"), start)
	b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
	b.Send(tcpstate.ClientToServer, 10, nil)
	c := census.New(census.Config{})
	res, err := flow.Analyze(bytes.NewReader(b.Bytes()), flow.Config{Consumers: []flow.Consumer{c}, Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := c.Report()
	fmt.Printf("%d packets, %d connection\n", res.Summary.Packets, res.Summary.Connections)
	for _, h := range rep.Hosts.ByConnections {
		fmt.Printf("%s: %d connection, sent %d bytes, received %d\n", h.Prefix.Addr(), h.Connections, h.SentBytes, h.ReceivedBytes)
	}
	// Output:
	// 4 packets, 1 connection
	// 10.1.0.5: 1 connection, sent 130 bytes, received 40
	// 10.1.0.9: 1 connection, sent 40 bytes, received 130
}
