package appproto_test

import (
	"fmt"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// Example frames a PostgreSQL query over a 150 ms path: the server time
// of the transaction is the round trip plus the server's work.
func Example() {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	show := appproto.HandlerFunc(func(t *appproto.Transaction) {
		fmt.Printf("%s %s: request %d B, response %d B in %d segment(s), server time %.3f s\n",
			t.Kind, t.Verb, t.RequestBytes, t.ResponseBytes, t.ResponseSegments, t.ServerTime)
	})
	c := appproto.NewConn(&appproto.Config{}, 40000, 5432, show)
	seq := [2]tcpstate.Seq{100, 900}
	var idx uint64
	send := func(d appproto.Dir, at time.Duration, p []byte) {
		idx++
		c.Add(d, &tcpstate.Segment{Index: idx, Time: start.Add(at), Seq: seq[d],
			Flags: tcpstate.ACK | tcpstate.PSH, Len: len(p), Payload: p})
		seq[d] = seq[d].Add(tcpstate.Size(len(p)))
	}
	msg := func(typ byte, body string) []byte {
		n := 4 + len(body)
		return append([]byte{typ, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
	}
	startup := []byte("\x00\x00\x00\x10\x00\x03\x00\x00user\x00u\x00\x00")
	send(appproto.ClientToServer, 0, startup)
	send(appproto.ServerToClient, 151*time.Millisecond, append(msg('R', "\x00\x00\x00\x00"), msg('Z', "I")...))
	send(appproto.ClientToServer, 152*time.Millisecond, msg('Q', "SELECT 1\x00"))
	reply := append(msg('T', "\x00\x00"), msg('D', "\x00\x00")...)
	reply = append(reply, msg('C', "SELECT 1\x00")...)
	send(appproto.ServerToClient, 303*time.Millisecond, append(reply, msg('Z', "I")...))
	c.Close()
	st := c.Stats()
	fmt.Printf("%s (confidence %.2f): %d+%d messages, %d transaction, %d turns\n",
		c.Protocol(), c.Confidence(), st.MessagesC2S, st.MessagesS2C, st.Transactions, st.Turns)
	// Output:
	// Query SELECT: request 14 B, response 34 B in 1 segment(s), server time 0.151 s
	// postgres (confidence 1.00): 2+6 messages, 1 transaction, 2 turns
}
