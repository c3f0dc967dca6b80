// Command budget checks packet captures against performance budgets, for
// CI pipelines that run regression checks against recorded traces.
//
//	go run ./examples/budget check -spec budget.yaml [-baseline baseline.json] [-tolerance 10%] [-count-tolerance 0%] [-junit FILE] [-json] [-q] TRACE...
//	go run ./examples/budget record [-spec budget.yaml] [-rtt 150ms] [-rate 2M] TRACE... > baseline.json
//
// check prints one line per check and trace: PASS or FAIL, the measured
// value, the limit and, for a failure, the connection or transaction that
// broke it (PASS+ marks a baseline figure that improved beyond the
// tolerance), then a summary line. -json prints the same as one JSON
// document; -junit FILE also writes JUnit XML. With -baseline it also
// compares each trace with the baseline's figures (recorded by record
// from an earlier capture of the same workload): a regression beyond the
// tolerance fails, an improvement is reported. The exit status is 0 when
// every check passes, 1 when any fails, 2 for a bad budget or baseline
// file, bad arguments or a trace that cannot be read to its end (never a
// pass).
//
// record reads each trace and prints a baseline file (JSON) on standard
// output: its regression figures and, with -spec, the values of the
// checks that compare with the baseline. -rtt and -rate set the path the
// durations are projected to (default: the budget's at, else the first
// connection's own path).
//
// A TRACE of "-" reads standard input (once); check reads several files
// joined by commas as one trace (the rotated files of tcpdump -C or -G),
// with a progress line on standard error when it is a terminal (-q:
// none). Memory is bounded by flow.Config and the budget's aggregates
// (quantiles from at most budget.MaxSamples values) whatever the trace
// holds. The budget file format is in the package documentation of
// flow/budget (go doc ./flow/budget).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/budget"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
)

// Exit statuses.
const (
	exitPass = 0
	exitFail = 1
	exitBad  = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: budget check -spec FILE [-baseline FILE] [-tolerance 10%] [-count-tolerance 0%] [-junit FILE] [-json] TRACE...")
	fmt.Fprintln(w, "       budget record [-spec FILE] [-rtt D] [-rate R] TRACE... > baseline.json")
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitBad
	}
	switch args[0] {
	case "check":
		return runCheck(args[1:], stdin, stdout, stderr)
	case "record":
		return runRecord(args[1:], stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitPass
	}
	fmt.Fprintf(stderr, "budget: unknown command %q\n", args[0])
	usage(stderr)
	return exitBad
}

// checkFlags are check's command line.
type checkFlags struct {
	spec, baseline, junit string
	tolerance, countTol   string
	asJSON, quiet         bool
	maxConns              int // flow.Config.MaxConns
	traces                []string
}

func parseCheckFlags(args []string, stderr io.Writer) (*checkFlags, error) {
	fs := flag.NewFlagSet("budget check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &checkFlags{}
	fs.StringVar(&f.spec, "spec", "", "budget file (YAML or JSON)")
	fs.StringVar(&f.baseline, "baseline", "", "baseline file made by budget record: fail on regressions from it")
	fs.StringVar(&f.tolerance, "tolerance", "", "how far times and sizes may move beyond the baseline, e.g. 10% (default 10%)")
	fs.StringVar(&f.countTol, "count-tolerance", "", "the same for counts of the workload: turns, requests, transactions, connections (default exact)")
	fs.StringVar(&f.junit, "junit", "", "also write JUnit XML to this file")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON document instead of lines")
	fs.BoolVar(&f.quiet, "q", false, "no progress line on standard error")
	fs.IntVar(&f.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.traces = fs.Args()
	if len(f.traces) == 0 {
		return nil, errors.New("no trace to check")
	}
	if len(slices.DeleteFunc(slices.Clone(f.traces), func(t string) bool { return t != "-" })) > 1 {
		return nil, errors.New("standard input can be read once")
	}
	if f.spec == "" && f.baseline == "" {
		return nil, errors.New("nothing to check: give -spec, -baseline or both")
	}
	return f, nil
}

// parsePercent reads a percentage such as "10%" as a fraction.
func parsePercent(name, s string, positive bool) (float64, error) {
	if s == "" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 0 || v > 1000 {
		return 0, fmt.Errorf("-%s %q: want a percentage such as 10%%", name, s)
	}
	if positive && v == 0 {
		return 0, fmt.Errorf("-%s 0%%: times never repeat exactly; give a positive tolerance", name)
	}
	return v / 100, nil
}

// output is check's -json document.
type output struct {
	Reports  []*budget.Report `json:"reports"`
	Checks   int              `json:"checks"`
	Passed   int              `json:"passed"`
	Failed   int              `json:"failed"`
	Improved int              `json:"improved"`
	Errors   int              `json:"errors"`
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := parseCheckFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "budget check:", err)
			usage(stderr)
		}
		return exitBad
	}
	var opts budget.Options
	if opts.Tolerance, err = parsePercent("tolerance", f.tolerance, true); err != nil {
		fmt.Fprintln(stderr, "budget check:", err)
		return exitBad
	}
	if opts.CountTolerance, err = parsePercent("count-tolerance", f.countTol, false); err != nil {
		fmt.Fprintln(stderr, "budget check:", err)
		return exitBad
	}
	var spec *budget.Spec
	if f.spec != "" {
		if spec, err = budget.ParseFile(f.spec); err != nil {
			fmt.Fprintln(stderr, "budget check:", err)
			return exitBad
		}
	}
	var base *budget.Baseline
	if f.baseline != "" {
		if base, err = budget.ParseBaselineFile(f.baseline); err != nil {
			fmt.Fprintln(stderr, "budget check:", err)
			return exitBad
		}
	}
	out := output{}
	status := exitPass
	for _, t := range f.traces {
		o := opts
		if base != nil {
			if o.Baseline, err = base.For(t); err != nil {
				fmt.Fprintf(stderr, "budget check: %s: %v\n", f.baseline, err)
				return exitBad
			}
		}
		if _, err := budget.NewChecker(spec, o); err != nil { // the budget needs what the baseline lacks
			fmt.Fprintln(stderr, "budget check:", err)
			return exitBad
		}
		rep, err := check(t, spec, o, stdin, f, stderr)
		if err != nil {
			rep = &budget.Report{Trace: t, Error: err.Error()}
			out.Errors++
			status = exitBad
		}
		out.Reports = append(out.Reports, rep)
		out.Checks += len(rep.Results)
		out.Passed += rep.Passed
		out.Failed += rep.Failed
		out.Improved += rep.Improved
		if rep.Failed > 0 && status == exitPass {
			status = exitFail
		}
	}
	if f.junit != "" {
		if err := writeJUnit(f.junit, out.Reports); err != nil {
			fmt.Fprintln(stderr, "budget check:", err)
			return exitBad
		}
	}
	if err := print(stdout, &out, f.asJSON); err != nil {
		fmt.Fprintln(stderr, "budget check:", err)
		return exitBad
	}
	for _, r := range out.Reports {
		if r.Error != "" {
			fmt.Fprintf(stderr, "budget check: %s\n", r.Error)
		}
	}
	return status
}

// check runs the budget on one trace: a file, "-" (standard input) or
// rotated files joined by commas, read as one.
func check(trace string, spec *budget.Spec, opts budget.Options, stdin io.Reader, f *checkFlags, stderr io.Writer) (*budget.Report, error) {
	c, err := budget.NewChecker(spec, opts)
	if err != nil {
		return nil, err
	}
	in, err := cli.Open(cli.Files(trace), stdin)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	if e, ok := stderr.(*os.File); ok {
		defer in.Progress(e, f.quiet, "budget")()
	}
	res, err := in.Analyze(flow.Config{Consumers: []flow.Consumer{c}, MaxConns: f.maxConns})
	if err != nil {
		if trace == "-" {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		if len(cli.Files(trace)) == 1 {
			return nil, fmt.Errorf("%s: %w", trace, err)
		}
		return nil, err
	}
	rep := c.Report(res.Summary)
	rep.Trace = trace
	return rep, nil
}

func print(w io.Writer, out *output, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(out)
	}
	var b strings.Builder
	for _, r := range out.Reports {
		for _, l := range r.Lines() {
			b.WriteString(l + "\n")
		}
	}
	fmt.Fprintf(&b, "budget: %s on %s: %d passed", plural(out.Checks, "check"), plural(len(out.Reports), "trace"), out.Passed)
	if out.Improved > 0 {
		fmt.Fprintf(&b, " (%d improved)", out.Improved)
	}
	fmt.Fprintf(&b, ", %d failed", out.Failed)
	if out.Errors > 0 {
		fmt.Fprintf(&b, ", %d unreadable", out.Errors)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func writeJUnit(name string, reports []*budget.Report) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := budget.WriteJUnit(f, reports); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runRecord(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("budget record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specFile := fs.String("spec", "", "budget file: also record the values of its checks that compare with the baseline")
	rtt := fs.Duration("rtt", 0, "project durations to this base RTT (e.g. 150ms)")
	rate := fs.String("rate", "", "project durations to this bottleneck rate in bit/s (e.g. 2M)")
	if err := fs.Parse(args); err != nil {
		return exitBad
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "budget record: no trace to record")
		usage(stderr)
		return exitBad
	}
	var opts budget.RecordOptions
	if *rtt < 0 {
		fmt.Fprintln(stderr, "budget record: -rtt must be positive")
		return exitBad
	}
	opts.At = explain.WhatIf{RTT: *rtt}
	if *rate != "" {
		bits, err := units.ParseBitRate(*rate)
		if err != nil {
			fmt.Fprintln(stderr, "budget record: -rate:", err)
			return exitBad
		}
		opts.At.Rate = bits
	}
	var spec *budget.Spec
	if *specFile != "" {
		var err error
		if spec, err = budget.ParseFile(*specFile); err != nil {
			fmt.Fprintln(stderr, "budget record:", err)
			return exitBad
		}
	}
	b := budget.Baseline{Version: 1}
	seen := map[string]bool{}
	for _, t := range fs.Args() {
		if len(cli.Files(t)) > 1 {
			fmt.Fprintf(stderr, "budget record: %s: record reads one file or standard input\n", t)
			return exitBad
		}
		var (
			s   *budget.Snapshot
			err error
		)
		if t == "-" {
			if s, err = budget.Record(stdin, spec, opts); err == nil {
				s.Trace = "-"
			}
		} else {
			s, err = budget.RecordFile(t, spec, opts)
		}
		if err != nil {
			fmt.Fprintln(stderr, "budget record:", err)
			return exitBad
		}
		if seen[s.Trace] {
			fmt.Fprintf(stderr, "budget record: two traces named %s: a check finds its snapshot by the trace's base name\n", filepath.Base(t))
			return exitBad
		}
		seen[s.Trace] = true
		b.Traces = append(b.Traces, *s)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(b); err != nil {
		fmt.Fprintln(stderr, "budget record:", err)
		return exitBad
	}
	return exitPass
}
