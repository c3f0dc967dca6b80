package linkq_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// Meek et al.'s Figure 3 from echoes: the smallest echo RTT per interval,
// and each kept point dated by its reply. Expected values from
//
//	tshark -r testdata/lab/wan2m-ping-sweep.pcap -Y icmp.type==0 -T fields -e frame.time_epoch -e icmp.resptime
//
// grouped by whole second since the epoch: 47 seconds from 1795431243 to
// 1795431289, each with a reply; the first three minima 150.628, 155.202
// and 151.162 ms; the smallest 150.379 ms, the largest minimum 159.085 ms.
func TestEchoMinRTT(t *testing.T) {
	r := analyzeFile(t, committed("wan2m-ping-sweep.pcap"), linkq.Config{NoTCPSamples: true})
	m := r.EchoMinRTT
	require.Equal(t, 47, m.Len())
	assert.Equal(t, time.Second, m.Width)
	assert.Equal(t, time.Unix(1795431243, 0).UTC(), m.Start)
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	for i, want := range []float64{150.628, 155.202, 151.162} {
		assert.InDelta(t, float64(ms(want)), float64(m.BinMin(i)), 1e3, "second %d", i)
	}
	lo, hi := m.Min[0], m.Min[0]
	for _, v := range m.Min {
		require.Positive(t, v, "every second has a reply")
		lo, hi = min(lo, v), max(hi, v)
	}
	assert.InDelta(t, float64(ms(150.379)), float64(lo), 1e3)
	assert.InDelta(t, float64(ms(159.085)), float64(hi), 1e3)

	// The points' times: the replies', in order, one per point.
	p := r.FigurePath()
	require.NotNil(t, p)
	s := p.RTTSamples()
	require.Len(t, s, 200)
	assert.Equal(t, time.Unix(1795431243, 0).UTC(), s[0].Time.Truncate(time.Second))
	for i := 1; i < len(s); i++ {
		assert.False(t, s[i].Time.Before(s[i-1].Time))
	}
	assert.InDelta(t, units.Ms(p.Points[0].RTT), float64(s[0].RTT)/1e6, 1e-6)

	// A capture of days fits: the interval doubles to keep at most
	// DefaultMinBins of them.
	c := linkq.Config{Echo: linkq.EchoConfig{MinInterval: time.Millisecond}}
	r = analyzeFile(t, committed("wan2m-ping-sweep.pcap"), c)
	assert.LessOrEqual(t, r.EchoMinRTT.Len(), linkq.DefaultMinBins)
	assert.Equal(t, 16*time.Millisecond, r.EchoMinRTT.Width, "46.0 s needs 16 ms intervals to stay within 4096")
}
