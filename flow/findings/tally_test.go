package findings_test

import (
	"cmp"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
)

// A Tally fed the connections one by one gives explain.Summarize's row to
// the last bit, with and without a projection, for a capture and for each
// protocol (explain.ByProtocol), on the lab captures of many connections
// (mixed-s: HTTP and PostgreSQL) and on the public corpus's
// ppp_example_http_mix.pcap (66 connections, tshark -z conv,tcp).
func TestTallyIsSummarize(t *testing.T) {
	lab := filepath.Join(flowtest.RepoRoot(), "testdata", "lab")
	files := []string{filepath.Join(lab, "whatif/lan-mixed-s.pcap.gz"), filepath.Join(lab, "wan2m-pg-chatty.pcap"),
		filepath.Join(lab, "events/wan2m-flood.pcap.gz"), filepath.Join(flowtest.CorpusDir(t, "public"), "http", "ppp_example_http_mix.pcap")}
	for _, name := range files {
		rep, err := explain.AnalyzeFile(name, explain.Options{})
		require.NoError(t, err)
		conns := slices.Clone(rep.Conns)
		slices.SortFunc(conns, func(a, b *explain.Conn) int { return cmp.Compare(a.ID, b.ID) })
		require.NotEmpty(t, conns, name)
		if filepath.Base(name) == "ppp_example_http_mix.pcap" {
			require.Len(t, conns, 66)
		}
		for _, at := range []explain.WhatIf{{}, {RTT: 10 * time.Millisecond}, {RTT: 150 * time.Millisecond, Rate: 2 * units.Mbps}} {
			all := findings.NewTally(at)
			byProto := map[string]*findings.Tally{}
			for _, c := range conns {
				all.Add(c)
				if byProto[c.Proto] == nil {
					byProto[c.Proto] = findings.NewTally(at)
				}
				byProto[c.Proto].Add(c)
			}
			assert.Equal(t, explain.Summarize(name, conns, at), all.Row(name), "%s at %+v", name, at)
			assert.Equal(t, findings.Capture(conns), all.Capture())
			for _, want := range explain.ByProtocol(conns, at) {
				assert.Equal(t, want, byProto[want.Label].Row(want.Label), "%s %s at %+v", name, want.Label, at)
			}
		}
	}
	empty := findings.NewTally(explain.WhatIf{RTT: time.Millisecond})
	assert.Equal(t, explain.Summarize("none", nil, explain.WhatIf{RTT: time.Millisecond}), empty.Row("none"))
	assert.Equal(t, "no TCP connection to explain", empty.Capture())
}
