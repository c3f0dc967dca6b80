package census

import (
	"fmt"
	"io"
	"os"

	"github.com/netecology/netecology/flow"
)

// Analyze reads a capture from r and returns its census, with flow's
// packet accounting in Report.Summary. A capture damaged part-way yields
// the census of what was read together with the error, as flow.Analyze
// does; only a capture whose file header cannot be read yields a nil
// Report.
func Analyze(r io.Reader, cfg Config) (*Report, error) {
	c := New(cfg)
	res, err := flow.Analyze(r, flow.Config{Consumers: []flow.Consumer{c}, Workers: cfg.Workers})
	if res == nil {
		return nil, err
	}
	rep := c.Report()
	rep.Summary = &res.Summary
	return rep, err
}

// AnalyzeFile is Analyze on the named file.
func AnalyzeFile(name string, cfg Config) (*Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Analyze(f, cfg)
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return rep, err
}
