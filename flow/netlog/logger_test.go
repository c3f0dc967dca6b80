package netlog_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/netlog"
	"github.com/netecology/netecology/tcpstate"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func ms(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Millisecond))) }

var (
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("10.0.0.2:9999")
)

// scripted is one connection with every kind of critical point:
//
//	 1   0.0 ms  SYN                      c→s
//	 2  10.0 ms  SYN/ACK                  s→c  (capture → server → capture: 10 ms)
//	 3  10.2 ms  ACK                      c→s  (capture → client → capture: 0.2 ms)
//	 4  20.0 ms  100 bytes: request 1     c→s
//	 5  30.0 ms  1000 bytes: response 1   s→c
//	 6  31.0 ms  1000 bytes               s→c
//	 7  31.2 ms  ACK                      c→s
//	 8  50.0 ms  200 bytes: request 2     c→s  (lost after the capture point)
//	 9 300.0 ms  the 200 bytes again      c→s  (after 250 ms of silence: a timeout)
//	10 310.0 ms  500 bytes: response 2    s→c
//	11 310.2 ms  ACK, window 0            c→s
//	12 320.0 ms  ACK, window 65535        c→s
//	13 330.0 ms  FIN                      c→s
//	14 340.0 ms  FIN                      s→c
//	15 340.2 ms  ACK                      c→s
func scripted() []byte {
	b := flowtest.NewBuilder(client, server, t0)
	c2s, s2c := tcpstate.ClientToServer, tcpstate.ServerToClient
	b.Handshake(10*time.Millisecond, 200*time.Microsecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
	at := func(x float64) { b.Advance(ms(x).Sub(b.Now())) }
	at(20)
	b.Send(c2s, 100, nil)
	at(30)
	b.Send(s2c, 1000, nil)
	at(31)
	b.Send(s2c, 1000, nil)
	at(31.2)
	b.Ack(c2s, nil)
	at(50)
	seq := b.Send(c2s, 200, nil)
	at(300)
	b.Packet(c2s, flowtest.Seg{Seq: seq, Len: 200})
	at(310)
	b.Send(s2c, 500, nil)
	at(310.2)
	b.Packet(c2s, flowtest.Seg{Window: 0, SetWindow: true})
	at(320)
	b.Ack(c2s, nil)
	at(330)
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.FIN | tcpstate.ACK})
	at(340)
	b.Packet(s2c, flowtest.Seg{Flags: tcpstate.FIN | tcpstate.ACK})
	at(340.2)
	b.Ack(c2s, nil)
	return b.Bytes()
}

// logBytes runs a Logger over a capture in memory and returns the blocks.
func logBytes(t testing.TB, capture []byte, workers int) [][]netlog.Event {
	t.Helper()
	var blocks [][]netlog.Event
	lg := netlog.New(netlog.Config{}, netlog.HandlerFunc(func(_ *flow.Conn, evs []netlog.Event) error {
		blocks = append(blocks, append([]netlog.Event(nil), evs...))
		return nil
	}))
	_, err := flow.Analyze(bytes.NewReader(capture), flow.Config{Consumers: []flow.Consumer{lg}, Workers: workers})
	require.NoError(t, err)
	require.NoError(t, lg.Err())
	return blocks
}

// The scripted connection's events, in time order, each as the script
// makes it: the handshake's legs are half of 10 ms (server) and of 0.2
// ms (client); the data of packets 4 and 8 and of 5-6 and 10 are turns
// of an unknown protocol, two transactions; packet 9 resends packet 8's
// bytes after 250 ms without a segment from the client (tcpstate: a
// retransmission after a timeout); packet 11 advertises a zero window.
// logBytesF returns the scripted connection's blocks, for a fuzz seed.
func logBytesF(f *testing.F) [][]netlog.Event { return logBytes(f, scripted(), 1) }

func TestScriptedEvents(t *testing.T) {
	blocks := logBytes(t, scripted(), 1)
	require.Len(t, blocks, 1)
	legs := &netlog.Legs{Client: 100 * time.Microsecond, Server: 5 * time.Millisecond}
	c, s := netlog.Client, netlog.Server
	ev := func(n netlog.Name, at float64, comp netlog.Component, pkt uint64, length int) netlog.Event {
		e := netlog.Event{Time: ms(at), Host: client.Addr(), Name: n, Conn: 1, Component: comp, Src: client, Dst: server,
			Packet: pkt, Len: length, Legs: legs}
		if comp == s {
			e.Host, e.Src, e.Dst = server.Addr(), server, client
		}
		return e
	}
	txn := func(e netlog.Event, id int, bytes int64) netlog.Event {
		e.Txn, e.Proto, e.Kind, e.Bytes = id, "unknown", "data", bytes
		return e
	}
	warn := func(e netlog.Event) netlog.Event { e.Level = netlog.Warning; return e }
	rto := warn(ev(netlog.RTO, 300, c, 9, 200))
	rto.Wait = 250 * time.Millisecond
	retx := warn(ev(netlog.Retransmission, 300, c, 9, 200))
	retx.Label, retx.Cause, retx.Orig = "retransmission", "timeout", 8
	want := []netlog.Event{
		ev(netlog.SYN, 0, c, 1, 0),
		ev(netlog.SYNACK, 10, s, 2, 0),
		ev(netlog.HandshakeACK, 10.2, c, 3, 0),
		txn(ev(netlog.RequestStart, 20, c, 4, 0), 1, 100),
		txn(ev(netlog.RequestEnd, 20, c, 4, 0), 1, 100),     // one segment: packet 4 again
		txn(ev(netlog.ResponseStart, 30, s, 0, 0), 1, 2000), // two segments: appproto names the last only
		txn(ev(netlog.ResponseEnd, 31, s, 6, 0), 1, 2000),
		txn(ev(netlog.RequestStart, 50, c, 8, 0), 2, 200),
		txn(ev(netlog.RequestEnd, 50, c, 8, 0), 2, 200), // the resent bytes are not the request's again
		rto,
		retx,
		txn(ev(netlog.ResponseStart, 310, s, 10, 0), 2, 500),
		txn(ev(netlog.ResponseEnd, 310, s, 10, 0), 2, 500),
		warn(ev(netlog.ZeroWindow, 310.2, c, 11, 0)),
		ev(netlog.FIN, 330, c, 13, 0),
		ev(netlog.FIN, 340, s, 14, 0),
	}
	require.Len(t, blocks[0], len(want))
	for i := range want {
		assert.Equal(t, want[i], blocks[0][i], "event %d (%s)", i, want[i].Name)
	}
}

// The same connection's lifelines: the handshake through the three rows
// (the client 0.1 ms and the server 5 ms from the capture point) and
// each transaction from the client through the capture point to the
// server and back; the RTO, the retransmission, the zero window and the
// FINs as marks.
func TestScriptedLifelines(t *testing.T) {
	blocks := logBytes(t, scripted(), 1)
	lines, marks := netlog.Lifelines(blocks[0])
	cl, cp, sv := netlog.Client, netlog.CapturePoint, netlog.Server
	pt := func(row netlog.Component, at float64) netlog.LifePoint { return netlog.LifePoint{Row: row, At: ms(at)} }
	require.Len(t, lines, 3)
	assert.Equal(t, netlog.Lifeline{Kind: "handshake", Points: []netlog.LifePoint{
		pt(cl, -0.1), pt(cp, 0), pt(sv, 5), // SYN
		pt(sv, 5), pt(cp, 10), pt(cl, 10.1), // SYN/ACK
		pt(cl, 10.1), pt(cp, 10.2), pt(sv, 15.2), // ACK
	}}, lines[0])
	assert.Equal(t, netlog.Lifeline{Kind: "transaction", Points: []netlog.LifePoint{
		pt(cl, 19.9), pt(cp, 20), pt(sv, 25), // request 1 (one segment)
		pt(sv, 25), pt(cp, 30), pt(cp, 31), pt(cl, 31.1), // response 1, 30 to 31 ms at the capture point
	}}, lines[1])
	assert.Equal(t, netlog.Lifeline{Kind: "transaction", Points: []netlog.LifePoint{
		pt(cl, 49.9), pt(cp, 50), pt(sv, 55),
		pt(sv, 305), pt(cp, 310), pt(cl, 310.1),
	}}, lines[2])
	assert.Equal(t, ms(-0.1), lines.Start())
	assert.Equal(t, netlog.Marks{
		{Name: netlog.RTO, At: ms(300)}, {Name: netlog.Retransmission, At: ms(300)},
		{Name: netlog.ZeroWindow, At: ms(310.2)}, {Name: netlog.FIN, At: ms(330)}, {Name: netlog.FIN, At: ms(340)},
	}, marks)
	// plot.Lifeliner's view of them
	kind, n := lines.Lifeline(1)
	assert.Equal(t, "transaction", kind)
	assert.Equal(t, 7, n)
	row, at := lines.LifelinePoint(1, 3)
	assert.Equal(t, int(sv), row)
	assert.Equal(t, ms(25), at)
	name, row, at := marks.LifeMark(2)
	assert.Equal(t, "tcp.zero_window", name)
	assert.Equal(t, int(cp), row)
	assert.Equal(t, ms(310.2), at)
}

// A SYN sent twice: the handshake line takes the one the SYN/ACK
// answers, the second; a connection without a handshake ACK has no
// handshake line, and without legs a transaction keeps to the capture
// point's row.
func TestLifelinesHandshakeChoice(t *testing.T) {
	legs := &netlog.Legs{Client: time.Millisecond, Server: 10 * time.Millisecond}
	syn1 := netlog.Event{Name: netlog.SYN, Time: ms(0), Component: netlog.Client, Legs: legs}
	syn2 := netlog.Event{Name: netlog.SYN, Time: ms(1000), Component: netlog.Client, Legs: legs}
	synack := netlog.Event{Name: netlog.SYNACK, Time: ms(1020), Component: netlog.Server, Legs: legs}
	ack := netlog.Event{Name: netlog.HandshakeACK, Time: ms(1022), Component: netlog.Client, Legs: legs}
	lines, _ := netlog.Lifelines([]netlog.Event{syn1, syn2, synack, ack})
	require.Len(t, lines, 1)
	assert.Equal(t, netlog.LifePoint{Row: netlog.Client, At: ms(999)}, lines[0].Points[0])
	assert.Equal(t, netlog.LifePoint{Row: netlog.Server, At: ms(1010)}, lines[0].Points[2])

	lines, _ = netlog.Lifelines([]netlog.Event{syn1, synack})
	assert.Empty(t, lines)

	req := netlog.Event{Name: netlog.RequestStart, Time: ms(5), Component: netlog.Client, Txn: 1}
	reqEnd := req
	reqEnd.Name = netlog.RequestEnd
	resp := netlog.Event{Name: netlog.ResponseStart, Time: ms(50), Component: netlog.Server, Txn: 1}
	respEnd := resp
	respEnd.Name, respEnd.Time = netlog.ResponseEnd, ms(60)
	lines, _ = netlog.Lifelines([]netlog.Event{req, reqEnd, resp, respEnd})
	require.Len(t, lines, 1)
	assert.Equal(t, []netlog.LifePoint{{Row: netlog.CapturePoint, At: ms(5)}, {Row: netlog.CapturePoint, At: ms(50)},
		{Row: netlog.CapturePoint, At: ms(60)}}, lines[0].Points)
}
