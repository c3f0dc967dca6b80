package linkq_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
)

// passWith runs an Analyzer over a capture on the given number of
// workers.
func passWith(t *testing.T, path string, workers int, cfg linkq.Config) *linkq.Report {
	t.Helper()
	a := linkq.New(cfg)
	res, err := flow.AnalyzeFile(path, flow.Config{Workers: workers, Consumers: []flow.Consumer{a}})
	require.NoError(t, err)
	r := a.Report()
	r.Summary = res.Summary
	return r
}

// The Analyzer gives the same report on three workers as on one
// (flow.Forker: each shard a fork, Merge after the pass): on every
// committed capture, the lab corpus and the public echo captures, with a
// target (verdicts in the order connections end), TCP samples in the fits
// and a small point limit (the first points in capture order kept).
func TestForkSameAsOne(t *testing.T) {
	files, err := filepath.Glob(committed("*.pcap"))
	require.NoError(t, err)
	for _, sub := range []string{"lab/*.pcap*", "public/echo/*", "public/tns/*", "public/http/ppp_example_http_mix.pcap"} {
		more, _ := filepath.Glob(filepath.Join(flowtest.RepoRoot(), "..", "shared", "corpus", sub))
		files = append(files, more...)
	}
	cfg := linkq.Config{Target: linkq.Target{RTT: 150 * time.Millisecond, Rate: 2e6}, Fit: linkq.FitConfig{MaxPoints: 50},
		Use: linkq.UseConfig{Interval: time.Second, Rate: 2e6}}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			one := passWith(t, f, 1, cfg)
			three := passWith(t, f, 3, cfg)
			assert.Equal(t, one, three)
		})
	}
}

// Config.Judge picks the connections judged: on the 66 connections of
// ppp_example_http_mix.pcap (tshark -z conv,tcp), judging the even ids
// gives exactly the verdicts of those ids that judging all gives, with
// one worker and with three.
func TestJudge(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "public"), "http", "ppp_example_http_mix.pcap")
	cfg := linkq.Config{Target: linkq.Target{RTT: 150 * time.Millisecond, Rate: 2e6}}
	all := passWith(t, path, 1, cfg)
	require.Len(t, all.Verdicts, 66)
	var even []linkq.Verdict
	for _, v := range all.Verdicts {
		if v.Conn%2 == 0 {
			even = append(even, v)
		}
	}
	cfg.Judge = func(c *flow.Conn) bool { return c.ID%2 == 0 }
	for _, w := range []int{1, 3} {
		got := passWith(t, path, w, cfg)
		assert.Equal(t, even, got.Verdicts, "%d workers", w)
	}
}
