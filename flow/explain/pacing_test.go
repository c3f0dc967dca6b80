package explain

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// TestPacedSpreadMatchesLab: the lab's FETCH-style session
// (testdata/lab/whatif pg-fetch100: answers of about nine full segments,
// each fitting the window) on the paths where Linux's pacing outlasts the
// link's serialization. From the packets alone, each answer's spread (its
// first data segment to its last) beyond the serialization of its frames
// at the link's rate, averaged over the answers, against pacedSpread for
// the same flight at the profile's RTT and rate: on the 600 ms path 103 ms
// an answer seen, on the 50 ms path at 20 Mbit/s 4.5 ms; on the 512
// kbit/s path the link is slower than the pacing, so nothing is seen and
// nothing predicted.
func TestPacedSpreadMatchesLab(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif")
	for _, c := range []struct {
		profile  string
		rtt      time.Duration
		rateKbit float64
		tol      float64 // relative
	}{
		{"geo", 600 * time.Millisecond, 2000, 0.2},
		{"m20", 50 * time.Millisecond, 20000, 0.2},
		{"dsl512", 80 * time.Millisecond, 512, 0},
	} {
		rate := c.rateKbit * 1000 / 8
		var ts []time.Time
		var wires []int
		_, err := flow.AnalyzeFile(filepath.Join(dir, c.profile+"-pg-fetch100.pcap.gz"), flow.Config{Consumers: []flow.Consumer{
			flow.PacketFunc(func(in *flow.PacketInfo) {
				if in.Seg != nil && in.Dir == tcpstate.ServerToClient && in.Seg.Len > 1000 {
					ts, wires = append(ts, in.Time), append(wires, in.WireLen)
				}
			})}})
		require.NoError(t, err)
		var seen, model float64
		answers := 0
		for i := 0; i < len(ts); {
			j := i + 1
			// an answer's segments: closer than a quarter RTT or two frames' serialization
			for j < len(ts) && ts[j].Sub(ts[j-1]).Seconds() < max(c.rtt.Seconds()/4, 2*1514/rate) {
				j++
			}
			if n := j - i; n >= 2 {
				ser, wire := 0.0, 0.0
				for k := i; k < j; k++ {
					wire += float64(wires[k]) / float64(n)
					if k > i {
						ser += float64(wires[k]) / rate
					}
				}
				seen += max(0, ts[j-1].Sub(ts[i]).Seconds()-ser)
				model += pacedSpread(replayNet{rtt: c.rtt.Seconds(), rate: rate}, n, wire, defaultIW)
				answers++
			}
			i = j
		}
		require.Greater(t, answers, 20, c.profile)
		seen, model = seen/float64(answers), model/float64(answers)
		t.Logf("%s: %d answers, spread beyond serialization %.2f ms seen, %.2f ms paced", c.profile, answers, 1000*seen, 1000*model)
		if c.tol == 0 {
			assert.Zero(t, model, c.profile)
			assert.Less(t, seen, 0.001, c.profile)
			continue
		}
		assert.InEpsilon(t, seen, model, c.tol, c.profile)
	}
}
