package tcpstate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/tcpstate"
)

// TestLegFrames: each leg names the two frames that timed it, by their
// wire lengths: the handshake's (SYN 74 B then SYN/ACK 70 B to the server
// and back, SYN/ACK then the 66-byte ACK to the client and back), else a
// data segment and its ACK, or a segment and the one echoing its
// timestamp, whichever gave the smallest sample.
func TestLegFrames(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seg := func(i int, at time.Duration, seq, ack tcpstate.Seq, f tcpstate.Flags, n, wire int) *tcpstate.Segment {
		return &tcpstate.Segment{Index: uint64(i), Time: t0.Add(at), Seq: seq, Ack: ack, Flags: f, Len: n, WireLen: wire, Window: 65535}
	}
	const c2s, s2c = tcpstate.ClientToServer, tcpstate.ServerToClient
	ms := time.Millisecond

	c := tcpstate.NewConn()
	c.Add(c2s, seg(1, 0, 1000, 0, tcpstate.SYN, 0, 74))
	c.Add(s2c, seg(2, 40*ms, 5000, 1001, tcpstate.SYN|tcpstate.ACK, 0, 70))
	c.Add(c2s, seg(3, 41*ms, 1001, 5001, tcpstate.ACK, 0, 66))
	// a request answered 60 ms later: a larger sample than the handshake's
	c.Add(c2s, seg(4, 50*ms, 1001, 5001, tcpstate.ACK|tcpstate.PSH, 200, 266))
	c.Add(s2c, seg(5, 110*ms, 5001, 1201, tcpstate.ACK|tcpstate.PSH, 500, 566))
	l := c.Legs()
	assert.Equal(t, tcpstate.LegHandshake, l.ServerFrom)
	assert.Equal(t, [2]uint16{74, 70}, l.ServerFrames)
	assert.Equal(t, tcpstate.LegHandshake, l.ClientFrom)
	assert.Equal(t, [2]uint16{70, 66}, l.ClientFrames)

	// Picked up mid-stream: the data->ACK samples time the legs. The
	// request (266 B) is answered by data (566 B) after 30 ms, the answer
	// acknowledged by a pure ACK (54 B) after 2 ms.
	c = tcpstate.NewConn()
	c.Add(c2s, seg(1, 0, 1001, 5001, tcpstate.ACK|tcpstate.PSH, 200, 266))
	c.Add(s2c, seg(2, 30*ms, 5001, 1201, tcpstate.ACK|tcpstate.PSH, 500, 566))
	c.Add(c2s, seg(3, 32*ms, 1201, 5501, tcpstate.ACK, 0, 54))
	l = c.Legs()
	assert.Equal(t, tcpstate.LegData, l.ServerFrom)
	assert.Equal(t, 30*ms, l.ToServer)
	assert.Equal(t, [2]uint16{266, 566}, l.ServerFrames)
	assert.Equal(t, tcpstate.LegData, l.ClientFrom)
	assert.Equal(t, [2]uint16{566, 54}, l.ClientFrames)

	// A smaller sample replaces the frames with its own: a 100-byte
	// request (166 B) answered after 20 ms by a 366-byte frame.
	c.Add(c2s, seg(4, 100*ms, 1201, 5501, tcpstate.ACK|tcpstate.PSH, 100, 166))
	c.Add(s2c, seg(5, 120*ms, 5501, 1301, tcpstate.ACK|tcpstate.PSH, 300, 366))
	l = c.Legs()
	assert.Equal(t, 20*ms, l.ToServer)
	assert.Equal(t, [2]uint16{166, 366}, l.ServerFrames)

	// Timestamps: the client's pure ACK (66 B), its TSval echoed 1 ms
	// later by the server's next data (88 B), times the server leg, below
	// the request's data->ACK sample of 30 ms; the client leg is the
	// answer (578 B) and that ACK, 5 ms.
	c = tcpstate.NewConn()
	ts := func(s *tcpstate.Segment, val, ecr uint32) *tcpstate.Segment {
		s.Opts.HasTimestamps, s.Opts.TSVal, s.Opts.TSEcr = true, val, ecr
		return s
	}
	c.Add(c2s, ts(seg(1, 0, 1001, 5001, tcpstate.ACK|tcpstate.PSH, 200, 278), 10, 90))
	c.Add(s2c, ts(seg(2, 30*ms, 5001, 1201, tcpstate.ACK|tcpstate.PSH, 500, 578), 100, 10))
	c.Add(c2s, ts(seg(3, 35*ms, 1201, 5501, tcpstate.ACK, 0, 66), 11, 100))
	c.Add(s2c, ts(seg(4, 36*ms, 5501, 1201, tcpstate.ACK|tcpstate.PSH, 10, 88), 101, 11))
	l = c.Legs()
	assert.Equal(t, tcpstate.LegTimestamps, l.ServerFrom)
	assert.Equal(t, ms, l.ToServer)
	assert.Equal(t, [2]uint16{66, 88}, l.ServerFrames)
	assert.Equal(t, tcpstate.LegData, l.ClientFrom)
	assert.Equal(t, 5*ms, l.ToClient)
	assert.Equal(t, [2]uint16{578, 66}, l.ClientFrames)
}
