package series_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/series"
)

// pass runs a Collector (connections 1 to 3 recorded) and a TurnLog of
// connection 1 over a capture on the given number of workers.
func pass(t *testing.T, path string, workers int, cfg series.Config) (*series.Result, series.Turns) {
	t.Helper()
	cfg.Conns = []int{1, 2, 3}
	col := series.NewCollector(cfg)
	log := series.NewTurnLog(1, 0)
	_, err := flow.AnalyzeFile(path, flow.Config{Workers: workers, Consumers: []flow.Consumer{col, log}})
	require.NoError(t, err)
	return col.Result(), log.Turns()
}

// A Collector and a TurnLog give the same results on three workers as on
// one (flow.Forker: each shard a fork, Merge after the pass), on every
// committed capture and on corpus captures of many connections; also with
// a bin limit small enough that the shards widen their grids at
// different times.
func TestForkSameAsOne(t *testing.T) {
	files, err := filepath.Glob(committed("*.pcap"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	if dir := filepath.Join(flowtest.RepoRoot(), "..", "shared", "corpus", "public"); dirExists(dir) {
		for _, f := range []string{"http/ppp_example_http_mix.pcap", "big/zeek_echo-connections.pcap", "tns/trex_oracle.pcap",
			"echo/sv_icmpv4-ping.pcap"} {
			files = append(files, filepath.Join(dir, f))
		}
	}
	for _, f := range files {
		for _, cfg := range []series.Config{{}, {Width: 10 * time.Millisecond, MaxBins: 64}} {
			t.Run(filepath.Base(f), func(t *testing.T) {
				one, turns1 := pass(t, f, 1, cfg)
				three, turns3 := pass(t, f, 3, cfg)
				assert.Equal(t, one, three)
				assert.Equal(t, turns1, turns3)
				if cfg.MaxBins > 0 {
					assert.LessOrEqual(t, one.Link[0].Len(), cfg.MaxBins)
				}
			})
		}
	}
}

func dirExists(d string) bool {
	st, err := os.Stat(d)
	return err == nil && st.IsDir()
}

// MinAcc keeps the smallest RTT per epoch-aligned interval, widens to
// stay within its bound, and two accumulators fed halves of the samples
// merge into what one fed all of them holds.
func TestMinAcc(t *testing.T) {
	ms := time.Millisecond
	all := series.NewMinAcc(time.Second, 4)
	// t0 is a multiple of every width here since the epoch.
	samples := []struct {
		at  time.Duration
		rtt time.Duration
	}{{0, 150 * ms}, {500 * ms, 149 * ms}, {1500 * ms, 160 * ms}, {7 * time.Second, 151 * ms}, {-time.Second, 155 * ms}}
	a, b := series.NewMinAcc(time.Second, 4), series.NewMinAcc(time.Second, 4)
	for i, s := range samples {
		all.Add(t0.Add(s.at), s.rtt)
		if i%2 == 0 {
			a.Add(t0.Add(s.at), s.rtt)
		} else {
			b.Add(t0.Add(s.at), s.rtt)
		}
	}
	all.Add(t0, 0) // not a sample
	m := all.MinRTT()
	// From -1 s to 7 s needs 9 intervals of 1 s: more than 4, so 4 s
	// intervals from t0-4 s: [-4,0) holds 155, [0,4) 149, [4,8) 151.
	assert.Equal(t, 4*time.Second, m.Width)
	assert.Equal(t, t0.Add(-4*time.Second), m.Start)
	assert.Equal(t, []time.Duration{155 * ms, 149 * ms, 151 * ms}, m.Min)
	a.Merge(b)
	assert.Equal(t, m, a.MinRTT())
	e := series.NewMinAcc(time.Second, 4)
	e.Merge(all)
	assert.Equal(t, m, e.MinRTT(), "merged into an empty one")
	assert.Zero(t, series.NewMinAcc(time.Second, 4).MinRTT().Len())

	// Coarsened to 8 s: aligned on the epoch, [-8,0) and [0,8).
	c := m.Coarsen(8 * time.Second)
	assert.Equal(t, t0.Add(-8*time.Second), c.Start)
	assert.Equal(t, []time.Duration{155 * ms, 149 * ms}, c.Min)
}
