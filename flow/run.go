package flow

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Result is the outcome of analysing a whole capture.
type Result struct {
	Format  Format  `json:"format"`
	Gzipped bool    `json:"gzipped"`
	Conns   []*Conn `json:"-"`
	Summary Summary `json:"summary"`
}

// Analyze reads a capture from r to its end and analyses every packet. A
// capture damaged part-way (cut mid-record, a corrupt record) still yields
// the analysis of everything read before the damage, together with the
// *ReadError; only a capture whose file header cannot be read yields a nil
// Result.
func Analyze(r io.Reader, cfg Config) (*Result, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	a := NewAnalyzer(cfg)
	var readErr error
	for {
		p, err := rd.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		a.Add(p)
	}
	a.Close()
	sum := a.Summary()
	sum.Warnings = rd.Warnings()
	return &Result{Format: rd.Format(), Gzipped: rd.Gzipped(), Conns: a.Conns(), Summary: sum}, readErr
}

// AnalyzeFile is Analyze on the named file.
func AnalyzeFile(name string, cfg Config) (*Result, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := Analyze(f, cfg)
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return res, err
}
