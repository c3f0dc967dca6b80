package explain

import (
	"fmt"
	"io"
	"slices"

	"github.com/netecology/netecology/flow"
)

// Report is the explanation of a whole capture.
type Report struct {
	// Conns lists the connections in first-seen order.
	Conns []*Conn `json:"conns"`
	// Flow is the capture's packet accounting.
	Flow *flow.Result `json:"flow"`
}

// Analyze reads a capture from r and explains each of its connections.
// As with flow.Analyze, a capture damaged part-way yields the explanation
// of what was read together with the error.
func Analyze(r io.Reader, opts Options) (*Report, error) {
	opts.Keep = true
	e := New(opts)
	res, err := flow.Analyze(r, flow.Config{Consumers: []flow.Consumer{e}})
	return e.report(res), err
}

// AnalyzeFile is Analyze on the named file.
func AnalyzeFile(name string, opts Options) (*Report, error) {
	opts.Keep = true
	e := New(opts)
	res, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{e}})
	if res == nil && err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return e.report(res), err
}

func (e *Explainer) report(res *flow.Result) *Report {
	if res == nil {
		return nil
	}
	cs := slices.Clone(e.done)
	slices.SortFunc(cs, func(a, b *Conn) int { return a.ID - b.ID })
	return &Report{Conns: cs, Flow: res}
}
