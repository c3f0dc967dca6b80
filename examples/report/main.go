// Command report writes the analyst's report of one capture, or of two
// side by side, as one self-contained HTML file: inline CSS and SVG, no
// script, nothing fetched from anywhere, so that it works offline and can
// be mailed.
//
//	go run ./examples/report -o report.html [-target-rtt 150ms -target-rate 2M] [-top 20] [-q] CAPTURE [CAPTURE2]
//
// From the top: the conclusion in one sentence with its numbers; the
// capture-quality warnings; pathdiag-style verdict lines (pass, warning,
// fail, in colour and in words, an action under each and a "?" that says
// what the check tests, the model it applies and the figures it used) for
// the connections that lost the most time; the time budget of each
// connection as a stacked bar; the duration at other RTTs and rates; the
// connections (one row each, the -top that lost most time and a line for
// the rest); the application transactions of the connection drawn; and
// the figures: the packets and bandwidth of that connection (Meek et
// al.'s Figure 4; with two captures the pair side by side, over spans of
// the same length), its time-sequence graph, RTT over time and
// transaction timeline, and for captures of echoes RTT against size and
// the minimum RTT per interval.
//
// The verdict on the network (loss, window, MSS) needs a target, the rate
// an application needs at a round-trip time (NPAD's two questions):
// -target-rate and -target-rtt, by default the largest bottleneck rate and
// the smallest base RTT measured in the captures. The sentences and the
// verdicts come from the library (flow/findings, over flow/explain and
// flow/linkq), not from this tool.
//
// A capture is a file, "-" for standard input (copied to a temporary
// file, as the report reads each capture twice), or several files joined
// by commas (the rotated files of one capture, read as one). Memory is
// bounded by flow.Config (the live connections) whatever the captures
// hold: the connections are summed as they end, and only those the
// tables show (the -top that lost most, at least 12) are kept, the rest
// counted. A figure whose data plot refuses (a damaged capture) is left
// out with a warning; the rest of the page is written. On a terminal a
// progress line goes to standard error (-q: none).
//
// Exit status: 0; 1 if a capture could not be read in full (the report
// covers what was read) or the report could not be written; 2 for bad
// usage.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow/units"
)

// options are the command line's.
type options struct {
	out        string
	targetRTT  time.Duration
	targetRate units.BitRate
	top        int
	workers    int
	quiet      bool
	maxConns   int // flow.Config.MaxConns
	files      []string
	stdin      io.Reader
	stderr     io.Writer
}

// progress is where the progress line goes: standard error when it is a
// terminal.
func (o *options) progress() *os.File {
	if f, ok := o.stderr.(*os.File); ok {
		return f
	}
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{workers: runtime.NumCPU()}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "o", "", "the HTML file to write; required")
	fs.DurationVar(&o.targetRTT, "target-rtt", 0, "verdict: the round-trip time the application will see (default: the smallest base RTT measured)")
	rate := fs.String("target-rate", "", "verdict: the rate the application needs, bit/s with k, M or G (default: the largest bottleneck measured)")
	fs.IntVar(&o.top, "top", 20, "connections listed in the tables (the ones that lost most time); the rest are counted")
	fs.BoolVar(&o.quiet, "q", false, "no progress line on standard error")
	fs.IntVar(&o.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	fs.IntVar(&o.workers, "workers", o.workers, "goroutines analysing connections (the report does not depend on it)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: report -o report.html [-target-rtt 150ms -target-rate 2M] [-top 20] [-q] CAPTURE [CAPTURE2]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.files = fs.Args()
	switch {
	case len(o.files) < 1 || len(o.files) > 2:
		fs.Usage()
		return nil, errors.New("name one capture or two")
	case len(o.files) == 2 && o.files[0] == "-" && o.files[1] == "-":
		return nil, errors.New("standard input can be read once")
	case o.out == "":
		return nil, errors.New("-o is required")
	case o.top < 1:
		return nil, errors.New("-top must be at least 1")
	case o.targetRTT < 0:
		return nil, errors.New("-target-rtt must not be negative")
	}
	if *rate != "" {
		v, err := units.ParseBitRate(*rate)
		if err != nil {
			return nil, fmt.Errorf("-target-rate: %w", err)
		}
		o.targetRate = v
	}
	return o, nil
}

func run(args []string, stdin io.Reader, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "report:", err)
		}
		return 2
	}
	o.stdin, o.stderr = stdin, stderr
	status := 0
	caps, errs := analyse(o)
	for _, err := range errs {
		fmt.Fprintln(stderr, "report:", err)
		status = 1
	}
	if len(caps) == 0 {
		return 1
	}
	p, err := build(caps, o)
	if err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return 1
	}
	// Render to memory first: a failure leaves no broken file behind.
	var b bytes.Buffer
	if err := page.Execute(&b, p); err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return 1
	}
	if err := os.WriteFile(o.out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return 1
	}
	return status
}
