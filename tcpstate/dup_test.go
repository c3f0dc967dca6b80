package tcpstate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/netecology/netecology/tcpstate"
)

// dupScript is a short exchange: handshake, a request, a three-segment
// answer, the client's ACKs, with timestamps and IP IDs.
func dupScript() []struct {
	d tcpstate.Dir
	s tcpstate.Segment
} {
	var out []struct {
		d tcpstate.Dir
		s tcpstate.Segment
	}
	now := t0
	var id [2]uint16
	ts := uint32(1)
	// ecr is the TSval the sender last received: the client's 50 ms
	// round trip is on the server's side of the capture point.
	add := func(d tcpstate.Dir, seq, ack tcpstate.Seq, f tcpstate.Flags, n int, after time.Duration, ecr uint32) {
		now = now.Add(after)
		id[d]++
		s := tcpstate.Segment{Time: now, Seq: seq, Ack: ack, Flags: f, Len: n, Window: 1000, IPID: id[d], HasIPID: true,
			Payload: make([]byte, n)}
		s.Opts.HasTimestamps, s.Opts.TSVal, s.Opts.TSEcr = true, ts, ecr
		ts++
		out = append(out, struct {
			d tcpstate.Dir
			s tcpstate.Segment
		}{d, s})
	}
	add(c2s, 100, 0, tcpstate.SYN, 0, 0, 0)                                  // TSval 1
	add(s2c, 500, 101, tcpstate.SYN|tcpstate.ACK, 0, 40*time.Millisecond, 1) // 2
	add(c2s, 101, 501, tcpstate.ACK, 0, time.Millisecond, 2)                 // 3
	add(c2s, 101, 501, tcpstate.ACK|tcpstate.PSH, 50, time.Millisecond, 2)   // 4
	add(s2c, 501, 151, tcpstate.ACK, 1000, 41*time.Millisecond, 4)           // 5
	add(s2c, 1501, 151, tcpstate.ACK, 1000, time.Millisecond, 4)             // 6
	add(c2s, 151, 2501, tcpstate.ACK, 0, time.Millisecond, 6)                // 7
	add(s2c, 2501, 151, tcpstate.ACK|tcpstate.PSH, 300, time.Millisecond, 4) // 8
	add(c2s, 151, 2801, tcpstate.ACK, 0, 2*time.Millisecond, 8)              // 9
	return out
}

// TestDuplicatesAreTold: every segment captured twice 20 µs apart (as a
// SPAN port mirroring both directions does) keeps tshark's labels on the
// copies (retransmissions, duplicate ACKs) but none of the facts: the same
// RTT samples, legs and retransmission causes as the clean capture.
func TestDuplicatesAreTold(t *testing.T) {
	clean, dup := tcpstate.NewConn(), tcpstate.NewConn()
	for i, x := range dupScript() {
		s := x.s
		s.Index = uint64(i + 1)
		clean.Add(x.d, &s)
		a := dup.Add(x.d, &s)
		assert.False(t, a.Duplicate, "original %d", i+1)
		c := s
		c.Time = c.Time.Add(20 * time.Microsecond)
		assert.True(t, dup.Add(x.d, &c).Duplicate, "copy of %d", i+1)
	}
	assert.Equal(t, uint64(5), dup.Stats[0].Duplicates)
	assert.Equal(t, uint64(4), dup.Stats[1].Duplicates)
	assert.Equal(t, []tcpstate.Quality{{Issue: tcpstate.IssueDuplicates, Count: 9, Affects: dup.Quality()[0].Affects}}, dup.Quality())
	assert.Empty(t, clean.Quality())
	// tshark labels the copies of the SYN, the SYN/ACK and the data
	// retransmissions: the SYN and the request, the SYN/ACK and three
	// answer segments
	assert.Equal(t, uint64(2), dup.Stats[0].Retransmissions)
	assert.Equal(t, uint64(4), dup.Stats[1].Retransmissions)
	assert.Zero(t, dup.Stats[0].RetransTimeout+dup.Stats[0].RetransFast+dup.Stats[1].RetransTimeout+dup.Stats[1].RetransFast)
	assert.Equal(t, clean.RTT().C2S, dup.RTT().C2S)
	assert.Equal(t, clean.RTT().S2C, dup.RTT().S2C)
	assert.Equal(t, clean.Legs(), dup.Legs())
	assert.Equal(t, 40*time.Millisecond, clean.Legs().ToServer)
}

// TestDuplicatesNotTaken: a fast retransmission (a new IP ID) and a burst
// of identical duplicate ACKs without IP IDs (IPv6) are not copies.
func TestDuplicatesNotTaken(t *testing.T) {
	c := tcpstate.NewConn()
	script := dupScript()
	for i, x := range script {
		s := x.s
		s.Index = uint64(i + 1)
		c.Add(x.d, &s)
	}
	last := script[len(script)-1].s
	for i := range 3 {
		a := last
		a.HasIPID = false
		a.Time = a.Time.Add(time.Duration(i+1) * 10 * time.Microsecond)
		assert.False(t, c.Add(c2s, &a).Duplicate, "duplicate ACK %d", i)
	}
	r := script[7].s // the answer's last segment again, a new IP ID, 200 µs on
	r.IPID += 100
	r.Time = last.Time.Add(200 * time.Microsecond)
	assert.False(t, c.Add(s2c, &r).Duplicate)
	assert.Zero(t, c.Stats[0].Duplicates+c.Stats[1].Duplicates)
}

// TestTimestampEchoOfPureAck: the server's data echoing the TSval of the
// client's pure ACK times the round trip from the capture point to the
// server and back under load (60 ms here, the base leg 40 ms): a sample
// marked TSEchoAck; the echo of the request's TSval is not.
func TestTimestampEchoOfPureAck(t *testing.T) {
	c := tcpstate.NewConn()
	script := dupScript()
	var last *tcpstate.Analysis
	for i, x := range script {
		s := x.s
		s.Index = uint64(i + 1)
		last = c.Add(x.d, &s)
	}
	assert.Equal(t, 2*time.Millisecond, last.TSRTT, "the client's ACK echoes the answer's last segment")
	assert.False(t, last.TSEchoAck)
	ack := script[8].s // TSval 9, a pure ACK
	s := tcpstate.Segment{Index: 10, Time: ack.Time.Add(60 * time.Millisecond), Seq: 2801, Ack: 151, Flags: tcpstate.ACK,
		Len: 100, Payload: make([]byte, 100), Window: 1000}
	s.Opts.HasTimestamps, s.Opts.TSVal, s.Opts.TSEcr = true, 10, 9
	a := c.Add(s2c, &s)
	assert.Equal(t, 60*time.Millisecond, a.TSRTT)
	assert.True(t, a.TSEchoAck)
	assert.Equal(t, 40*time.Millisecond, c.Legs().ToServer, "the base leg stays the smallest sample")
}
