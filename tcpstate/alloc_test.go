package tcpstate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestAddNoAlloc checks that the per-segment path allocates nothing once
// a connection's bounded buffers are full: data, ACKs with timestamps and
// SACK blocks, RTT samples, labels.
func TestAddNoAlloc(t *testing.T) {
	c := NewConn()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var seq, ack Seq = 1000, 5000
	c.Add(ClientToServer, &Segment{Index: 1, Time: now, Seq: seq, Flags: SYN, Window: 1000})
	c.Add(ServerToClient, &Segment{Index: 2, Time: now, Seq: ack, Ack: seq + 1, Flags: SYN | ACK, Window: 1000})
	seq, ack = seq+1, ack+1
	i := uint64(3)
	step := func() {
		now = now.Add(time.Millisecond)
		d := &Segment{Index: i, Time: now, Seq: seq, Ack: ack, Flags: ACK | PSH, Len: 100, Window: 1000}
		d.Opts.HasTimestamps, d.Opts.TSVal, d.Opts.TSEcr = true, uint32(i), uint32(i-1)
		c.Add(ClientToServer, d)
		seq = seq.Add(100)
		now = now.Add(time.Millisecond)
		a := &Segment{Index: i + 1, Time: now, Seq: ack, Ack: seq, Flags: ACK, Window: 1000}
		a.Opts.HasTimestamps, a.Opts.TSVal, a.Opts.TSEcr = true, uint32(i+1), uint32(i)
		a.Opts.NSACK, a.Opts.SACK[0] = 1, SACKBlock{seq.Sub(50), seq}
		c.Add(ServerToClient, a)
		i += 2
	}
	for range MaxRTTSamples + 10 { // fill the RTT reservoirs
		step()
	}
	assert.Zero(t, testing.AllocsPerRun(1000, step))
	// One sample per data segment; the SYN/ACK came at the SYN's instant
	// and a zero sample is not taken.
	assert.Equal(t, uint64(MaxRTTSamples+10+1001), c.RTT().C2S.Data.Samples)
}
