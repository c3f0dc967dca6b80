package explain_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// hostTimes measures, from a capture's packets alone, the time the host
// at the capture point spent per turn: at the server's interface, from
// each query's last segment to the answer's first (serverSide); at the
// client's, from each answer's last segment to the next query's first.
// No path lies between those packets, so the time is the host's.
func hostTimes(t *testing.T, name string, serverSide bool) (total time.Duration, turns int) {
	t.Helper()
	in, out := tcpstate.ServerToClient, tcpstate.ClientToServer
	if serverSide {
		in, out = out, in
	}
	var last time.Time
	pending := false
	_, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		if p.Seg == nil || p.Seg.Len == 0 || p.Analysis.Retransmitted() {
			return
		}
		switch p.Dir {
		case in:
			last, pending = p.Time, true
		case out:
			if pending {
				total += p.Time.Sub(last)
				turns++
			}
			pending = false
		}
	})}})
	require.NoError(t, err)
	return total, turns
}

// TestThinkBothEnds: testdata/lab/think holds the whatif set's chatty
// PostgreSQL session (200 single-row queries) on each of its six
// profiles, captured at the client and at the server at once. At the
// server's own interface a query's last segment and its answer's first
// have no path between them: the server's time, measured here from the
// packets alone (hostTimes).
//
// That time is not the same on every profile: 0.14 ms a turn on the LAN,
// where queries come every millisecond, and 0.5 to 1.2 ms on the paths of
// 50 to 600 ms, where the server idles between them (its wake-up, not the
// model: no path is in the measure). A projection that carries the
// source's think time to another path carries that difference with it,
// which is what keeps chatty sessions projected onto the LAN from the
// what-if bar (TestWhatIfLab).
//
// The explanation of the client's capture, given the link's rate, books
// as server think what the server spent: each turn's round trip is the
// server leg less the serialization of the frames that timed it (the SYN
// and SYN/ACK, 148 B: 0.02 ms at 50 Mbit/s, 2.3 ms at 512 kbit/s; the
// turn's own query and answer are transfer), so the rest of the turn is
// the server's. Within a quarter millisecond a turn on every profile,
// where the leg's frames' serialization left in the round trip took 0.02
// to 2.3 ms a turn from the think (dsl512: 0.009 s booked of 0.184 s).
func TestThinkBothEnds(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "think")
	g := loadTruth(t, dir)
	var table strings.Builder
	per := map[string]float64{}
	for _, p := range whatIfProfiles {
		name := p + "-pg-chatty"
		clientFile := filepath.Join(dir, name+"-client.pcap.gz")
		server, n := hostTimes(t, filepath.Join(dir, name+"-server.pcap.gz"), true)
		client, _ := hostTimes(t, clientFile, false)
		require.Greater(t, n, 190, name)
		rate := units.BitRate(g.Profiles[p].RateKbit) * units.Kbps
		c := whatIfSession(t, explainWith(t, clientFile, explain.Options{Keep: true, CaptureRate: rate}), name)
		explained := c.Budget.ServerThink.Seconds()
		per[p] = units.Ms(server) / float64(n)
		perTurn := (explained - server.Seconds()) * 1000 / float64(n)
		fmt.Fprintf(&table, "%s\tserver %.4f s (%d turns, %.3f ms each); explained from the client %.4f s (%+.3f ms a turn); leg frames' serialization %.3f ms\tclient %.4f s, explained %.4f s\n",
			p, server.Seconds(), n, per[p], explained, perTurn, units.Ms(c.Legs.Serialization), client.Seconds(), c.Budget.ClientThink.Seconds())
		assert.InDelta(t, 0, perTurn, 0.25, "%s: explained server think against the server's own, ms a turn", p)
	}
	t.Logf("server and client time per capture:\n%s", table.String())
	assert.Less(t, per["lan"], 0.25, "the LAN's server time a turn, ms")
	for _, p := range []string{"m20", "loss1", "shallow", "dsl512", "geo"} {
		assert.Greater(t, per[p], 2*per["lan"], "%s: the server's time a turn, ms, against the LAN's", p)
	}
}
