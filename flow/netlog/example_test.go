package netlog_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/netlog"
	"github.com/netecology/netecology/tcpstate"
)

// Log the critical points of a connection as ULM lines: a handshake
// whose SYN/ACK comes 40 ms after the SYN and the ACK 1 ms after that
// (legs: 20 ms to the server, 0.5 ms to the client), one request and its
// answer, and the close.
func Example() {
	b := flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:9999"),
		time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	b.Handshake(40*time.Millisecond, time.Millisecond, nil, nil)
	b.Advance(time.Millisecond)
	b.Send(tcpstate.ClientToServer, 64, nil)
	b.Advance(45 * time.Millisecond)
	b.Send(tcpstate.ServerToClient, 512, nil)
	b.Advance(time.Millisecond)
	b.Packet(tcpstate.ClientToServer, flowtest.Seg{Flags: tcpstate.FIN | tcpstate.ACK})

	lg := netlog.New(netlog.Config{}, netlog.NewULMWriter(os.Stdout, "example"))
	if _, err := flow.Analyze(bytes.NewReader(b.Bytes()), flow.Config{Consumers: []flow.Consumer{lg}}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(lg.Counts().ByName)
	// Output:
	// DATE=20261123120000.000000 HOST=10.0.0.1 PROG=example LVL=Usage NL.EVNT=tcp.syn CONN=1 COMP=client SRC=10.0.0.1:40000 DST=10.0.0.2:9999 PKT=1 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.040000 HOST=10.0.0.2 PROG=example LVL=Usage NL.EVNT=tcp.synack CONN=1 COMP=server SRC=10.0.0.2:9999 DST=10.0.0.1:40000 PKT=2 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.041000 HOST=10.0.0.1 PROG=example LVL=Usage NL.EVNT=tcp.handshake.ack CONN=1 COMP=client SRC=10.0.0.1:40000 DST=10.0.0.2:9999 PKT=3 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.042000 HOST=10.0.0.1 PROG=example LVL=Usage NL.EVNT=app.request.start CONN=1 COMP=client SRC=10.0.0.1:40000 DST=10.0.0.2:9999 PKT=4 TXN=1 PROTO=unknown KIND=data BYTES=64 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.042000 HOST=10.0.0.1 PROG=example LVL=Usage NL.EVNT=app.request.end CONN=1 COMP=client SRC=10.0.0.1:40000 DST=10.0.0.2:9999 PKT=4 TXN=1 PROTO=unknown KIND=data BYTES=64 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.087000 HOST=10.0.0.2 PROG=example LVL=Usage NL.EVNT=app.response.start CONN=1 COMP=server SRC=10.0.0.2:9999 DST=10.0.0.1:40000 PKT=5 TXN=1 PROTO=unknown KIND=data BYTES=512 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.087000 HOST=10.0.0.2 PROG=example LVL=Usage NL.EVNT=app.response.end CONN=1 COMP=server SRC=10.0.0.2:9999 DST=10.0.0.1:40000 PKT=5 TXN=1 PROTO=unknown KIND=data BYTES=512 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// DATE=20261123120000.088000 HOST=10.0.0.1 PROG=example LVL=Usage NL.EVNT=tcp.fin CONN=1 COMP=client SRC=10.0.0.1:40000 DST=10.0.0.2:9999 PKT=6 LEG.CLIENT.MS=0.5 LEG.SERVER.MS=20
	// map[app.request.end:1 app.request.start:1 app.response.end:1 app.response.start:1 tcp.fin:1 tcp.handshake.ack:1 tcp.syn:1 tcp.synack:1]
}
