package flowtest_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// A scripted connection: a handshake with a 150 ms round trip, a request,
// a response whose first segment is lost and resent, and the ACKs; flow
// then reads the capture like any other.
func ExampleBuilder() {
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"),
		netip.MustParseAddrPort("10.0.0.2:5432"), time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	b.Handshake(75*time.Millisecond, 75*time.Millisecond, flowtest.Opts(flowtest.OptMSS(1460)), flowtest.Opts(flowtest.OptMSS(1460)))
	b.Send(tcpstate.ClientToServer, 50, nil)
	b.Advance(75 * time.Millisecond)
	b.Lose(tcpstate.ServerToClient, 1000) // sent, never captured
	b.Send(tcpstate.ServerToClient, 1000, nil)
	b.Advance(75 * time.Millisecond)
	b.Ack(tcpstate.ClientToServer, nil)

	res, err := flow.Analyze(bytes.NewReader(b.Bytes()), flow.Config{KeepConns: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := res.Conns[0]
	fmt.Println(b.Len(), "packets;", c.Client, "->", c.Server, c.ClientOptions.MSS)
	fmt.Println("s2c unique bytes:", c.S2C.UniqueBytes, "lost segments:", c.S2C.LostSegments)
	fmt.Printf("handshake RTT: %.0f ms\n", units.Ms(c.RTT.Handshake))
	// Output:
	// 6 packets; 10.0.0.1:40000 -> 10.0.0.2:5432 1460
	// s2c unique bytes: 1000 lost segments: 1
	// handshake RTT: 150 ms
}
