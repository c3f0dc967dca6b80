package budget

import (
	"fmt"
	"io"
	"os"

	"github.com/netecology/netecology/flow"
)

// Evaluate reads a capture from r and checks spec (nil for none) and, with
// opts.Baseline, the baseline's regression figures on it. A capture that
// cannot be read to its end is an error, never a pass.
func Evaluate(r io.Reader, spec *Spec, opts Options) (*Report, error) {
	c, err := NewChecker(spec, opts)
	if err != nil {
		return nil, err
	}
	res, err := flow.Analyze(r, flow.Config{Consumers: []flow.Consumer{c}})
	if err != nil {
		return nil, err
	}
	return c.Report(res.Summary), nil
}

// EvaluateFile is Evaluate on the named file; the report's Trace is name.
func EvaluateFile(name string, spec *Spec, opts Options) (*Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Evaluate(f, spec, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rep.Trace = name
	return rep, nil
}

// TB is the part of testing.TB that Assert uses; a *testing.T is one.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Assert checks spec on the capture named trace from a Go test: each
// failing check is reported with t.Errorf (one line: the value, the
// limit, and the connection or transaction that broke it); a trace that
// cannot be read stops the test with t.Fatalf. It returns the report (nil
// after Fatalf).
//
//	func TestOrderReportBudget(t *testing.T) {
//		spec, err := budget.ParseFile("testdata/budget.yaml")
//		require.NoError(t, err)
//		budget.Assert(t, "testdata/order-report.pcap", spec)
//	}
func Assert(t TB, trace string, spec *Spec) *Report {
	t.Helper()
	rep, err := EvaluateFile(trace, spec, Options{})
	if err != nil {
		t.Fatalf("budget: %v", err)
		return nil
	}
	for i := range rep.Results {
		if r := &rep.Results[i]; !r.Pass {
			t.Errorf("%s", r.Line(trace))
		}
	}
	return rep
}

// AssertFile is Assert with the budget read from the file specFile; a
// file that cannot be read or parsed stops the test with t.Fatalf.
func AssertFile(t TB, trace, specFile string) *Report {
	t.Helper()
	spec, err := ParseFile(specFile)
	if err != nil {
		t.Fatalf("budget: %v", err)
		return nil
	}
	return Assert(t, trace, spec)
}
