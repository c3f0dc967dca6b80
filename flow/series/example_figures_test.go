package series_test

import (
	"fmt"
	"time"

	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

// Sort a connection's points into the time-sequence graph of the server's
// data: three segments, the second lost after the capture point (the
// client's ACK stops below it and SACKs the third), then its
// retransmission and the ACK of everything.
func ExampleTimeSequence() {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s2c, c2s, ack := tcpstate.ServerToClient, tcpstate.ClientToServer, tcpstate.ACK
	pts := []series.Point{
		{Time: at(0), Dir: s2c, Seq: 0, End: 1448, Len: 1448, Flags: ack},
		{Time: at(6), Dir: s2c, Seq: 1448, End: 2896, Len: 1448, Flags: ack},
		{Time: at(12), Dir: s2c, Seq: 2896, End: 4344, Len: 1448, Flags: ack},
		{Time: at(150), Dir: c2s, Flags: ack, Ack: 1448, Window: 64000, NSACK: 1, SACK: [4][2]int64{{2896, 4344}}},
		{Time: at(200), Dir: s2c, Seq: 1448, End: 2896, Len: 1448, Flags: ack, Retrans: true},
		{Time: at(350), Dir: c2s, Flags: ack, Ack: 4344, Window: 64000},
	}
	t := series.TimeSequence(pts, s2c, series.Window{})
	fmt.Println("data", t.Data.Len(), "retransmitted", t.Retrans.Len())
	for i := range t.Ack {
		fmt.Printf("%v: ACK %d, window to %d\n", t.Ack[i].Time.Sub(t0), t.Ack[i].Seq, t.Window[i].Seq)
	}
	fmt.Println("SACK", t.SACK[0].First, t.SACK[0].End)
	// A zoom on the first 100 ms holds the first transmissions only.
	zoom := series.TimeSequence(pts, s2c, series.Window{From: t0, To: at(100)})
	fmt.Println(zoom.Data.Len(), zoom.Ack.Len())
	// Output:
	// data 3 retransmitted 1
	// 150ms: ACK 1448, window to 65448
	// 350ms: ACK 4344, window to 68344
	// SACK 2896 4344
	// 3 0
}
