package linkq_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/linkq"
)

func TestLinkUseBins(t *testing.T) {
	a := linkq.New(linkq.Config{Use: linkq.UseConfig{Interval: time.Minute, Rate: 64000}})
	// t0 is on a whole minute. 480 frames of 1000 bytes A→B in the first
	// minute (64 kbit/s: 100 %), none in the second, 120 B→A in the third
	// (25 %), and one A→B packet out of time order a minute before t0.
	pay := udpDatagram(5000, 6000, data(1000-14-20-8, 0))
	for i := range 480 {
		a.Packet(info(time.Duration(i)*time.Minute/480, hostA, hostB, 17, pay))
	}
	for i := range 120 {
		a.Packet(info(2*time.Minute+time.Duration(i)*time.Second/2, hostB, hostA, 17, pay))
	}
	a.Packet(info(-30*time.Second, hostA, hostB, 17, pay))
	u := a.Report().Use
	assert.Equal(t, 60.0, u.Interval.Seconds())
	require.Len(t, u.Pairs, 1)
	p := u.Pairs[0]
	assert.Equal(t, hostA, p.A)
	require.Len(t, p.Bins, 4)
	assert.Equal(t, t0.Add(-time.Minute), p.Bins[0].Start)
	assert.Equal(t, uint64(1000), p.Bins[0].BytesAB)
	assert.Equal(t, uint64(480000), p.Bins[1].BytesAB)
	assert.Equal(t, uint64(480), p.Bins[1].PacketsAB)
	assert.InDelta(t, 64000, float64(p.Bins[1].RateAB), 1e-9)
	assert.InDelta(t, 100, p.Bins[1].PctAB, 1e-9)
	assert.Zero(t, p.Bins[2].BytesAB+p.Bins[2].BytesBA)
	assert.Equal(t, uint64(120000), p.Bins[3].BytesBA)
	assert.InDelta(t, 25, p.Bins[3].PctBA, 1e-9)
	assert.Zero(t, u.DroppedPackets)
}

func TestLinkUseLimits(t *testing.T) {
	a := linkq.New(linkq.Config{Use: linkq.UseConfig{Interval: time.Second, MaxPairs: 1, MaxBins: 10}})
	pay := udpDatagram(5000, 6000, nil)
	a.Packet(info(0, hostA, hostB, 17, pay))
	a.Packet(info(0, hostA, hostA6, 17, pay))        // a second pair: dropped
	a.Packet(info(time.Hour, hostB, hostA, 17, pay)) // 3601 bins: dropped
	a.Packet(info(9*time.Second, hostB, hostA, 17, pay))
	a.Packet(info(-time.Second, hostB, hostA, 17, pay)) // would make 11 bins: dropped
	u := a.Report().Use
	assert.Equal(t, uint64(3), u.DroppedPackets)
	require.Len(t, u.Pairs, 1)
	assert.Len(t, u.Pairs[0].Bins, 10)
	assert.Equal(t, linkq.DefaultInterval, 5*time.Minute)
	assert.Equal(t, 300.0, linkq.New(linkq.Config{}).Report().Use.Interval.Seconds())
}
