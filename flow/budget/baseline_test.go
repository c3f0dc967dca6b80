package budget_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/budget"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
)

// Record's figures on the scripted sessions, by arithmetic on the script
// (see threeSessions), for all connections and per server: two servers,
// so each has its own figures.
func TestRecordScripted(t *testing.T) {
	snap, err := budget.Record(bytes.NewReader(threeSessions(t)), nil, budget.RecordOptions{})
	require.NoError(t, err)
	byName := map[string]budget.Figure{}
	for _, f := range snap.Figures {
		byName[f.Name] = f
	}
	for name, want := range map[string]float64{
		"connections":                   3,
		"application turns":             9, // 3 + 5 + 1
		"requests":                      9,
		"transactions":                  9,
		"bytes client to server":        900,  // 9 x 100
		"bytes server to client":        4500, // 9 x 500
		"mean segment server to client": 500,
		"bytes the capture missed":      0,
		"application turns [proto=unknown server_port=7000]": 8,
		"connections [proto=http server_port=8000]":          1,
		// server think: each answer less the 100 ms leg to the server (the
		// handshake's SYN -> SYN/ACK at this client-side capture):
		// (105+115+125 - 3*100) + 5*(110-100) + (200-100) ms
		"server think": 0.045 + 0.050 + 0.100,
		// client think: 10 ms before each connection's first request (the
		// handshake's ACK paid the 0.1 ms leg to the client), 10 - 0.1 ms
		// before each later one and 1 - 0.1 ms before the last ACK
		"client think": 3*0.010 + 6*0.0099 + 3*0.0009,
		// at the first connection's own path (RTT 100.1 ms, rate unknown):
		// the durations, 0.4761 + 0.7011 + 0.3111, less the think times
		"projected network time": 1.4883 - (0.045 + 0.050 + 0.100) - (3*0.010 + 6*0.0099 + 3*0.0009),
	} {
		f, ok := byName[name]
		require.True(t, ok, name)
		assert.InDelta(t, want, f.Value, 1e-9, name)
	}
	assert.Equal(t, budget.PathSpec{RTT: "100.1ms"}, snap.At)
	assert.InDelta(t, 1.4883, byName["server think"].Whole, 1e-9, "the whole is the projected duration")
	assert.Equal(t, budget.ClassCount, byName["application turns"].Class)
	assert.Equal(t, "lower", byName["mean segment server to client"].Worse)
	assert.Len(t, snap.Figures, 3*13, "13 figures for all connections and for each of the 2 servers")
}

// A re-run of the script passes its own baseline; one more turn on one
// connection fails the exact count and names the connection; one fewer is
// an improvement.
func TestBaselineScripted(t *testing.T) {
	base, err := budget.Record(bytes.NewReader(threeSessions(t)), nil, budget.RecordOptions{})
	require.NoError(t, err)
	check := func(pcap []byte, opts budget.Options) *budget.Report {
		opts.Baseline = base
		rep, err := budget.Evaluate(bytes.NewReader(pcap), nil, opts)
		require.NoError(t, err)
		return rep
	}
	rep := check(threeSessions(t), budget.Options{})
	assert.True(t, rep.OK())
	assert.Zero(t, rep.Improved)
	assert.Len(t, rep.Results, len(base.Figures))

	more := scripted(t,
		session{"10.0.0.2:7000", []time.Duration{ms(105), ms(115), ms(125), ms(105)}}, // one more turn
		session{"10.0.0.2:7000", []time.Duration{ms(110), ms(110), ms(110), ms(110), ms(110)}},
		session{"10.0.0.3:8000", []time.Duration{ms(200)}})
	rep = check(more, budget.Options{})
	failed := map[string]*budget.Result{}
	for i := range rep.Results {
		if r := &rep.Results[i]; !r.Pass {
			failed[r.Check] = r
		}
	}
	turns := failed["application turns"]
	require.NotNil(t, turns)
	assert.EqualValues(t, 10, turns.Measured)
	require.NotNil(t, turns.Worst)
	// a sum has no single culprit: the report names the connection with
	// the largest own value (conn 2's 5 turns), as the worst
	assert.Equal(t, 2, turns.Worst.Conn)
	assert.Contains(t, turns.String(), "; worst conn 2 10.0.0.1:40002 -> 10.0.0.2:7000 unknown (packets 13-26) = 5")
	assert.Contains(t, failed, "application turns [proto=unknown server_port=7000]")
	assert.NotContains(t, failed, "application turns [proto=http server_port=8000]")
	// 10 turns against 9 (and 9 against 8 for port 7000) compare exactly
	// unless a count tolerance is given
	rep = check(more, budget.Options{CountTolerance: 0.13})
	for _, r := range rep.Results {
		if strings.HasPrefix(r.Check, "application turns") {
			assert.True(t, r.Pass, r.String())
		}
	}

	fewer := scripted(t,
		session{"10.0.0.2:7000", []time.Duration{ms(105), ms(115)}},
		session{"10.0.0.2:7000", []time.Duration{ms(110), ms(110), ms(110), ms(110), ms(110)}},
		session{"10.0.0.3:8000", []time.Duration{ms(200)}})
	rep = check(fewer, budget.Options{})
	improved := 0
	for _, r := range rep.Results {
		if r.Improved {
			improved++
			assert.True(t, r.Pass)
			assert.Contains(t, r.String(), ": improved")
		}
	}
	assert.Greater(t, improved, 0)
	assert.Equal(t, improved, rep.Improved)
}

func TestBaselineOfChecks(t *testing.T) {
	spec, err := budget.Parse("b.yaml", []byte(`
checks:
  - name: turns per transaction
    check: sum(app.turns) / sum(app.transactions) <= baseline + 5%
  - name: answer bytes
    check: sum(app.bytes_s2c) within ±1% of baseline
  - name: not baselined
    check: count >= 1
`))
	require.NoError(t, err)
	_, err = budget.NewChecker(spec, budget.Options{})
	assert.ErrorContains(t, err, `check "turns per transaction" compares with the baseline: give a baseline`)
	snap, err := budget.Record(bytes.NewReader(threeSessions(t)), spec, budget.RecordOptions{})
	require.NoError(t, err)
	require.Len(t, snap.Checks, 2, "the checks that compare with the baseline")
	assert.Equal(t, 1.0, snap.Checks[0].Value) // 9 turns, 9 transactions
	assert.Equal(t, 4500.0, snap.Checks[1].Value)
	rep, err := budget.Evaluate(bytes.NewReader(threeSessions(t)), spec, budget.Options{Baseline: snap})
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Contains(t, rep.Results[0].String(), "limit <= baseline 1 +5% = 1.05 (+0.0% from baseline)")
	assert.Contains(t, rep.Results[1].String(), "limit within ±1% of baseline 4500 B")

	// a changed check needs a new baseline
	changed, err := budget.Parse("b.yaml", []byte(`
checks:
  - name: turns per transaction
    where: {server_port: 7000}
    check: sum(app.turns) / sum(app.transactions) <= baseline + 5%
`))
	require.NoError(t, err)
	_, err = budget.NewChecker(changed, budget.Options{Baseline: snap})
	assert.ErrorContains(t, err, "record the baseline again")
	other, err := budget.Parse("b.yaml", []byte("checks: [{name: other, check: sum(app.turns) <= baseline}]"))
	require.NoError(t, err)
	_, err = budget.NewChecker(other, budget.Options{Baseline: snap})
	assert.ErrorContains(t, err, `has no value for check "other"`)
	_, err = budget.NewChecker(nil, budget.Options{})
	assert.ErrorContains(t, err, "nothing to check")
}

func TestBaselineFile(t *testing.T) {
	snap, err := budget.Record(bytes.NewReader(threeSessions(t)), nil, budget.RecordOptions{At: explain.WhatIf{RTT: 150 * time.Millisecond, Rate: 2 * units.Mbps}})
	require.NoError(t, err)
	snap.Trace = "a.pcap"
	second := *snap
	second.Trace = "b.pcap"
	data, err := json.MarshalIndent(budget.Baseline{Version: 1, Traces: []budget.Snapshot{*snap, second}}, "", " ")
	require.NoError(t, err)
	b, err := budget.ParseBaseline("base.json", data)
	require.NoError(t, err)
	require.Len(t, b.Traces, 2)
	assert.Equal(t, *snap, b.Traces[0], "the file keeps every figure")
	assert.Equal(t, budget.PathSpec{RTT: "150ms", Rate: "2000000"}, snap.At)
	s, err := b.For("runs/b.pcap")
	require.NoError(t, err)
	assert.Equal(t, "b.pcap", s.Trace)
	_, err = b.For("c.pcap")
	assert.ErrorContains(t, err, "the baseline has no snapshot of c.pcap (it has a.pcap, b.pcap)")

	for _, tc := range []struct{ name, doc, want string }{
		{"not a baseline", `{"checks": []}`, "base.json:1:2: checks: unknown field"},
		{"no version", `{"traces": []}`, "base.json:1:1: netecology_budget_baseline: missing"},
		{"other version", `{"netecology_budget_baseline": 2, "traces": []}`, "base.json:1:32: netecology_budget_baseline: this version reads baselines of version 1"},
		{"bad expression", "{\"netecology_budget_baseline\": 1, \"traces\": [{\"trace\": \"a\", \"figures\": [\n {\"name\": \"x\", \"expr\": \"sum(app.turnz)\", \"class\": \"count\", \"worse\": \"higher\", \"value\": 1}]}]}",
			`base.json:2:24: traces[0].figures[0].expr: unknown figure "app.turnz"`},
		{"bad class", "{\"netecology_budget_baseline\": 1, \"traces\": [{\"trace\": \"a\", \"figures\": [\n {\"name\": \"x\", \"expr\": \"count\", \"class\": \"big\", \"worse\": \"higher\", \"value\": 1}]}]}",
			`base.json:2:42: traces[0].figures[0].class: unknown class "big"`},
		{"missing value", "{\"netecology_budget_baseline\": 1, \"traces\": [{\"trace\": \"a\", \"figures\": [\n {\"name\": \"x\", \"expr\": \"count\", \"class\": \"count\", \"worse\": \"higher\"}]}]}",
			`base.json:2:2: traces[0].figures[0].value: missing`},
		{"bad worse", "{\"netecology_budget_baseline\": 1, \"traces\": [{\"trace\": \"a\", \"figures\": [\n {\"name\": \"x\", \"expr\": \"count\", \"class\": \"count\", \"worse\": \"up\", \"value\": 1}]}]}",
			`traces[0].figures[0].worse: want higher or lower`},
		{"bad path", `{"netecology_budget_baseline": 1, "traces": [{"trace": "a", "at": {"rtt": "-1s"}, "figures": []}]}`, `traces[0].at: rtt "-1s"`},
		{"truncated", `{"netecology_budget_baseline": 1, "traces": [`, "base.json:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := budget.ParseBaseline("base.json", []byte(tc.doc))
			require.Error(t, err)
			assert.True(t, errors.Is(err, budget.ErrSpec))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
