package budget_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/netecology/netecology/flow/budget"
	"github.com/netecology/netecology/flow/flowtest"
)

// FuzzParse: no budget file panics the parser; one that parses evaluates
// on a capture without panicking, and every result has a finite value or
// says why it has none.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"budget.yaml", "postgres.yaml"} {
		if b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "budget", name)); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"checks: [{check: count == 1}]",
		"at: {rtt: 10ms}\nchecks: [{check: max(projected.duration_s) <= 5s}]",
		"checks: [{of: transactions, check: p95(server_time_s) <= 40ms}]",
		"checks: [{of: capture, check: packets / (tcp_packets - 30) > 1}]",
		"checks: [{check: -sum(app.turns) * 2 + 1 >= -100}]",
		`{"checks": [{"check": "sum(app.turns) within ±5% of baseline"}]}`,
		"checks:\n  - &a {check: count == 1}\n  - *a\n",
	} {
		f.Add([]byte(s))
	}
	pcap := threeSessions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := budget.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		baselined := false
		for _, c := range spec.Checks {
			baselined = baselined || c.Baselined()
		}
		if baselined {
			return // needs a recorded baseline
		}
		rep, err := budget.Evaluate(bytes.NewReader(pcap), spec, budget.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Absent == "" && (math.IsNaN(r.Measured) || math.IsInf(r.Measured, 0)) && r.Pass {
				t.Errorf("%s passes with %v", r.Check, r.Measured)
			}
			if r.Absent != "" && r.Pass {
				t.Errorf("%s passes without a value: %s", r.Check, r.Absent)
			}
			_ = r.String()
		}
	})
}

// FuzzParseBaseline: no baseline file panics the parser.
func FuzzParseBaseline(f *testing.F) {
	snap, err := budget.Record(bytes.NewReader(threeSessions(f)), nil, budget.RecordOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jsonEncode(&buf, budget.Baseline{Version: 1, Traces: []budget.Snapshot{*snap}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"netecology_budget_baseline": 1, "traces": [{"trace": "a", "figures": []}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := budget.ParseBaseline("fuzz.json", data)
		if err != nil {
			return
		}
		for i := range b.Traces {
			if _, err := budget.NewChecker(nil, budget.Options{Baseline: &b.Traces[i]}); err != nil {
				continue
			}
		}
	})
}
