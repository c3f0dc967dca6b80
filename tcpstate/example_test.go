package tcpstate_test

import (
	"fmt"
	"time"

	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Feed a connection its segments and read each segment's analysis: here a
// handshake, one request, and the request sent again after a silence.
func ExampleConn_Add() {
	c := tcpstate.NewConn()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seg := func(i uint64, ms int, seq, ack tcpstate.Seq, f tcpstate.Flags, n int) *tcpstate.Segment {
		return &tcpstate.Segment{Index: i, Time: at.Add(time.Duration(ms) * time.Millisecond),
			Seq: seq, Ack: ack, Flags: f, Len: n, Payload: make([]byte, n), Window: 65535}
	}
	c.Add(tcpstate.ClientToServer, seg(1, 0, 100, 0, tcpstate.SYN, 0))
	c.Add(tcpstate.ServerToClient, seg(2, 80, 700, 101, tcpstate.SYN|tcpstate.ACK, 0))
	c.Add(tcpstate.ClientToServer, seg(3, 81, 101, 701, tcpstate.ACK, 0))
	c.Add(tcpstate.ClientToServer, seg(4, 90, 101, 701, tcpstate.ACK|tcpstate.PSH, 50))
	a := c.Add(tcpstate.ClientToServer, seg(5, 400, 101, 701, tcpstate.ACK|tcpstate.PSH, 50))
	fmt.Println(a.Labels)
	fmt.Println(a.Explain(tcpstate.Retransmission))
	r := c.RTT()
	fmt.Printf("handshake %.0f ms (%.0f + %.0f), vantage %s\n", units.Ms(r.Handshake), units.Ms(r.SynToSynAck), units.Ms(r.SynAckToAck), c.Vantage())
	fmt.Println("c2s retransmissions:", c.Stats[tcpstate.ClientToServer].Retransmissions)
	// Output:
	// retransmission
	// does not advance the sequence: retransmission of bytes first sent in packet 4 (cause: timeout)
	// handshake 81 ms (80 + 1), vantage near_client
	// c2s retransmissions: 1
}

// Read the facts a segment's Analysis gives and the live state of the
// connection: the payload's range after the SYN, the bytes sent before,
// the window in bytes once both SYNs agreed on a scale, the handshake's
// legs.
func ExampleAnalysis_Retransmitted() {
	c := tcpstate.NewConn()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ws := tcpstate.Options{HasWScale: true, WScale: 7}
	seg := func(i uint64, ms int, seq, ack tcpstate.Seq, f tcpstate.Flags, n int) *tcpstate.Segment {
		return &tcpstate.Segment{Index: i, Time: at.Add(time.Duration(ms) * time.Millisecond),
			Seq: seq, Ack: ack, Flags: f, Len: n, Payload: make([]byte, n), Window: 512, Opts: ws}
	}
	c.Add(tcpstate.ClientToServer, seg(1, 0, 100, 0, tcpstate.SYN, 0))
	c.Add(tcpstate.ServerToClient, seg(2, 80, 700, 101, tcpstate.SYN|tcpstate.ACK, 0))
	c.Add(tcpstate.ClientToServer, seg(3, 81, 101, 701, tcpstate.ACK, 0))
	a := c.Add(tcpstate.ClientToServer, seg(4, 90, 101, 701, tcpstate.ACK, 100))
	fmt.Println(a.Data, a.Resent, a.Retransmitted(), a.Window)
	a = c.Add(tcpstate.ClientToServer, seg(5, 400, 151, 701, tcpstate.ACK, 100))
	fmt.Println(a.Data, a.Resent, a.Retransmitted(), a.Labels)
	h := c.Handshake()
	toServer, toClient, _ := h.Legs()
	fmt.Println(toServer, toClient, c.MSS(tcpstate.ClientToServer))
	// Output:
	// [101,201) 0 false 65536
	// [151,251) 50 true retransmission
	// 80ms 1ms 0
}
