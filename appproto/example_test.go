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
			t.Kind, t.Verb, t.RequestBytes, t.ResponseBytes, t.ResponseSegments, t.ServerTime.Seconds())
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

// ExampleStatementGroups gathers three executions of one statement with
// different literals, and another statement, by normalised text.
func ExampleStatementGroups() {
	g := appproto.NewStatementGroups(0)
	for i, st := range []time.Duration{151 * time.Millisecond, 153 * time.Millisecond, 152 * time.Millisecond} {
		g.Add(&appproto.Transaction{Proto: "postgres", Kind: "Query", Verb: "SELECT", Turns: 1, ServerTime: st,
			Query: appproto.Text(fmt.Sprintf("SELECT * FROM orders WHERE order_id = %d;", 42+i))})
	}
	g.Add(&appproto.Transaction{Proto: "postgres", Kind: "Query", Verb: "SELECT", Turns: 1, ServerTime: 400 * time.Millisecond,
		Query: appproto.Text("SELECT * FROM orders WHERE customer IN ('a', 'b')")})
	for _, s := range g.Groups() {
		fmt.Printf("%dx %q: %d turns, server time p50 %.3f s, p95 %.3f s\n", s.Count, s.Statement, s.Turns, s.ServerTimeP50.Seconds(), s.ServerTimeP95.Seconds())
	}
	// Output:
	// 3x "SELECT * FROM orders WHERE order_id = ?": 3 turns, server time p50 0.152 s, p95 0.153 s
	// 1x "SELECT * FROM orders WHERE customer IN (?)": 1 turns, server time p50 0.400 s, p95 0.400 s
}

// ExampleNormalizeSQL replaces a statement's literals by ?.
func ExampleNormalizeSQL() {
	q := "select * from t where id in (1, 2, 3) and name = 'it''s' and at > 1.5e3;"
	fmt.Println(string(appproto.NormalizeSQL(nil, []byte(q), false)))
	// Output:
	// select * from t where id in (?) and name = ? and at > ?
}
