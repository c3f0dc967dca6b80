package series_test

import (
	"fmt"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

// Bin a few packets of connection 1 at 100 ms and print the bins. In a
// real pass the Collector is one of flow.Config.Consumers; here the
// packets are made by hand.
func ExampleCollector() {
	col := series.NewCollector(series.Config{Conns: []int{1}, Width: 100 * time.Millisecond})
	conn := &flow.Conn{ID: 1, Client: client, Server: server}
	send := func(ms int, wire int, d tcpstate.Dir, seq tcpstate.Seq, n int) {
		seg := &tcpstate.Segment{Seq: seq, Ack: 1, Flags: tcpstate.ACK, Len: n}
		col.Packet(packet(conn, time.Duration(ms)*time.Millisecond, wire, d, seg))
	}
	send(0, 120, tcpstate.ClientToServer, 100, 66)  // request
	send(150, 520, tcpstate.ServerToClient, 1, 466) // response
	send(151, 54, tcpstate.ClientToServer, 166, 0)  // its ACK
	send(310, 120, tcpstate.ClientToServer, 166, 66)

	r := col.Result()
	cs := r.Conn(1)
	for d, name := range []string{"c2s", "s2c"} {
		b := cs.Bins[d]
		fmt.Printf("%s bytes %v, total %d\n", name, b.Bytes, b.TotalBytes())
	}
	fmt.Printf("bin 1 s2c: %.1f kbit/s\n", cs.Bins[1].Kbps(1))
	for _, p := range cs.Points {
		fmt.Printf("%3dms %s seq %d-%d\n", p.Time.Sub(r.Start).Milliseconds(), p.Dir, p.Seq, p.End)
	}
	// Output:
	// c2s bytes [120 54 0 120], total 294
	// s2c bytes [0 520 0 0], total 520
	// bin 1 s2c: 41.6 kbit/s
	//   0ms c2s seq 0-66
	// 150ms s2c seq 0-466
	// 151ms c2s seq 66-66
	// 310ms c2s seq 66-132
}

// Split a connection's points into request/response turns.
func ExampleSplitTurns() {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pts := []series.Point{
		{Time: at(0), Dir: tcpstate.ClientToServer, Len: 50},
		{Time: at(150), Dir: tcpstate.ServerToClient, Len: 1448},
		{Time: at(156), Dir: tcpstate.ServerToClient, Len: 600},
		{Time: at(400), Dir: tcpstate.ClientToServer, Len: 50},
	}
	for _, t := range series.SplitTurns(pts) {
		if t.FirstResponse.IsZero() {
			fmt.Printf("request %d B at %v, unanswered\n", t.RequestBytes, t.Request.Sub(t0))
			continue
		}
		fmt.Printf("request %d B at %v, response %d B after %v\n",
			t.RequestBytes, t.Request.Sub(t0), t.ResponseBytes, t.FirstResponse.Sub(t.Request))
	}
	// Output:
	// request 50 B at 0s, response 2048 B after 150ms
	// request 50 B at 400ms, unanswered
}
