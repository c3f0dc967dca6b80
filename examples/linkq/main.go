// Command linkq reports link quality from packet captures: RTT against
// packet size from echoes and TCP (the Table 1 of Meek et al., "Wide Area
// Network Ecology", LISA '98), link use per interval, and a pathdiag-style
// verdict on each TCP connection for a target rate and RTT.
//
//	go run ./examples/linkq [-json|-csv] [-mode all|fit|use|verdict]
//	    [-interval 5m] [-rate 2M] [-line-speeds 2M[,2M]]
//	    [-target-rtt 150ms -target-rate 2M] [-delayed-ack]
//	    [-size ip|frame|payload] [-bin 64] [-loss-bin 100] [-no-tcp] [-points]
//	    [-max-verdicts 10000] [-workers N] [-q] FILE...|-
//
// Each FILE (pcap or pcapng, possibly gzip-compressed) is analysed on its
// own; "-" reads standard input, and several files joined by commas are
// read as one capture (the rotated files of tcpdump -C or -G). Rates take
// k, M and G suffixes (powers of 1000, bit/s). On a terminal a progress
// line goes to standard error (-q: none).
//
// Memory is bounded by flow.Config (the live connections) and linkq's
// limits, whatever the capture holds, but for the verdicts: they wait for
// the end of the capture (each gets its host pair's duplex check then),
// so only the connections of the first -max-verdicts ids (10000 by
// default; 0: all) are judged, and the others counted on standard error
// and in -json's "unjudged".
//
// Modes: "fit" prints one row per path and file (source, requester,
// responder, samples, intercept, slope in µs/byte and s/bit, the slope
// estimated from -line-speeds, RMS residual, the line through the per-size
// minima and the Theil–Sen slope) and the echo counters; "use" prints the
// bytes, rate and percent of -rate per interval, host pair and direction;
// "verdict" prints pass / warning / fail lines per TCP connection (needs
// -target-rtt and -target-rate); "all" (the default) prints the three
// as text. -csv prints one table (the mode's; fits for "all"); -json
// prints one JSON object per file (points of the scatter only with
// -points).
//
// Exit status: 0; 1 if a verdict check failed (any connection of any file
// whose verdict is "fail", so that a script can gate on it: warnings do
// not count) or a file could not be read (the others are still reported);
// 2 for bad usage.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/plot"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	quiet         bool
	maxVerdicts   int
	maxConns      int // flow.Config.MaxConns
	asJSON, asCSV bool
	mode          string
	points        bool
	fig           string
	cfg           linkq.Config
	files         []string
}

// parseRate reads a rate in bit/s with an optional k, M or G suffix, as
// the project's other tools do.
type rateFlag struct{ v *units.BitRate }

func (r rateFlag) String() string {
	if r.v == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*r.v), 'g', -1, 64)
}

func (r rateFlag) Set(s string) error {
	v, err := units.ParseBitRate(s)
	if err == nil {
		*r.v = v
	}
	return err
}

// defaultMaxVerdicts is how many connections get a verdict by default:
// the first by id (verdicts are kept until the end of the capture, when
// each gets its host pair's duplex check; about 1 kB each).
const defaultMaxVerdicts = 10000

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{cfg: linkq.Config{Workers: runtime.NumCPU()}}
	fs := flag.NewFlagSet("linkq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON object per file")
	fs.BoolVar(&o.asCSV, "csv", false, "print the mode's table as CSV")
	fs.StringVar(&o.mode, "mode", "all", "what to print: all, fit, use or verdict")
	fs.BoolVar(&o.points, "points", false, "with -json, include every fitted point")
	fs.DurationVar(&o.cfg.Use.Interval, "interval", linkq.DefaultInterval, "link-use interval")
	fs.Var(rateFlag{&o.cfg.Use.Rate}, "rate", "committed or line rate for link-use percentages, bit/s (e.g. 2M)")
	lineSpeeds := fs.String("line-speeds", "", "comma-separated rates (bit/s) of the links crossed each way, for the estimated slope")
	fs.DurationVar(&o.cfg.Target.RTT, "target-rtt", 0, "verdict: the application's round-trip time")
	fs.Var(rateFlag{&o.cfg.Target.Rate}, "target-rate", "verdict: the data rate the application needs, bit/s")
	delayed := fs.Bool("delayed-ack", false, "verdict: Mathis constant for delayed ACKs (0.87) instead of 1.22")
	size := fs.String("size", "ip", "packet size for fits: ip (IP length), frame (wire length) or payload (echo data)")
	fs.IntVar(&o.cfg.Fit.BinWidth, "bin", linkq.DefaultBinWidth, "size bin width in bytes for the minimum-RTT line")
	fs.IntVar(&o.cfg.Loss.BinWidth, "loss-bin", linkq.DefaultLossBinWidth, "size bin width in bytes for the loss by size (-json: size_loss)")
	fs.BoolVar(&o.cfg.NoTCPSamples, "no-tcp", false, "fit echoes only, no TCP RTT samples")
	fs.BoolVar(&o.quiet, "q", false, "no progress line on standard error")
	fs.IntVar(&o.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	fs.IntVar(&o.maxVerdicts, "max-verdicts", defaultMaxVerdicts, "verdict: judge the connections of the first N ids (0: all; the verdicts wait for the end of the capture, so memory grows with them)")
	fs.IntVar(&o.cfg.Workers, "workers", o.cfg.Workers, "goroutines analysing connections (the output does not depend on it)")
	fs.StringVar(&o.fig, "fig", "", "draw the first file's figure to this file (.png, .svg or .pdf): with -mode fit, RTT against size with the fitted lines of its first path (Meek et al.'s Figure 1); with -mode use, link use per interval")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: linkq [-json|-csv] [-mode all|fit|use|verdict] [-interval 5m] [-rate 2M] [-line-speeds a,b] [-target-rtt 150ms -target-rate 2M] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.files = fs.Args()
	if len(o.files) == 0 {
		fs.Usage()
		return nil, errors.New("no capture named")
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if *lineSpeeds != "" {
		for _, s := range strings.Split(*lineSpeeds, ",") {
			v, err := units.ParseBitRate(s)
			if err != nil {
				return nil, fmt.Errorf("-line-speeds: %w", err)
			}
			o.cfg.Fit.LineSpeeds = append(o.cfg.Fit.LineSpeeds, v)
		}
	}
	switch *size {
	case "ip":
		o.cfg.Fit.Size = linkq.SizeIP
	case "frame":
		o.cfg.Fit.Size = linkq.SizeFrame
	case "payload":
		o.cfg.Fit.Size = linkq.SizePayload
	default:
		return nil, fmt.Errorf("unknown -size %q", *size)
	}
	if err := o.checkTarget(); err != nil {
		return nil, err
	}
	if *delayed {
		o.cfg.Target.C = linkq.MathisCDelayedACK
	}
	return o, nil
}

// analyze makes the pass over one capture (a file, "-" or rotated files
// joined by commas): its report, or nil when it could not be read at all,
// and how many connections went without a verdict (-max-verdicts).
func analyze(name string, o *options, stdin io.Reader, stderr io.Writer) (*linkq.Report, int, error) {
	in, err := cli.Open(cli.Files(name), stdin)
	if err != nil {
		return nil, 0, err
	}
	defer in.Close()
	if f, ok := stderr.(*os.File); ok {
		defer in.Progress(f, o.quiet, "linkq")()
	}
	cfg := o.cfg
	unjudged := 0
	if limit := o.maxVerdicts; limit > 0 && cfg.Target.RTT > 0 {
		cfg.Judge = func(c *flow.Conn) bool { return c.ID <= limit }
	}
	a := linkq.New(cfg)
	count := flow.ConnFunc(func(c *flow.Conn) {
		if cfg.Judge != nil && !cfg.Judge(c) {
			unjudged++
		}
	})
	res, err := in.Analyze(flow.Config{Consumers: []flow.Consumer{a, forkless{count}}, Workers: cfg.Workers, MaxConns: o.maxConns})
	if res == nil {
		return nil, 0, err
	}
	rep := a.Report()
	rep.Summary = res.Summary
	if err != nil && len(cli.Files(name)) == 1 {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return rep, unjudged, err
}

// forkless makes a consumer that needs only the connections' ends a
// flow.Forker whose forks do nothing: the root sees every end, in order.
type forkless struct{ flow.ConnFunc }

func (forkless) Fork() flow.Consumer   { return flow.ConnFunc(func(*flow.Conn) {}) }
func (forkless) Merge([]flow.Consumer) {}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "linkq:", err)
		}
		return 2
	}
	status := 0
	var reps []linkq.FileReport
	var unjudged []int
	for _, name := range o.files {
		rep, n, err := analyze(name, o, stdin, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "linkq:", err)
			status = 1
			if rep == nil {
				continue
			}
		}
		fr := linkq.FileReport{File: name, Report: rep}
		if err != nil {
			fr.Error = err.Error()
		}
		if n > 0 {
			fmt.Fprintf(stderr, "linkq: %s: %d connection(s) beyond the first %d not judged (-max-verdicts)\n", name, n, o.maxVerdicts)
		}
		unjudged = append(unjudged, n)
		if o.fig != "" && len(reps) == 0 { // the first file's figure, points still there
			if err := drawFigure(o, fr); err != nil {
				fmt.Fprintln(stderr, "linkq:", err)
				status = 1
			}
		}
		if !o.points {
			for i := range rep.Paths {
				rep.Paths[i].Points, rep.Paths[i].PointTimes = nil, nil
			}
		}
		reps = append(reps, fr)
	}
	var werr error
	switch {
	case o.asJSON:
		enc := json.NewEncoder(stdout)
		for i, r := range reps {
			if werr = enc.Encode(fileReport{r, unjudged[i]}); werr != nil {
				break
			}
		}
	case o.asCSV:
		werr = csvTable(o.mode, reps).WriteCSV(stdout)
	default:
		werr = writeText(stdout, o, reps)
	}
	if werr != nil {
		fmt.Fprintln(stderr, "linkq:", werr)
		return 1
	}
	if n := failed(reps); n > 0 && status == 0 {
		fmt.Fprintf(stderr, "linkq: %d connection(s) failed the verdict\n", n)
		status = 1
	}
	return status
}

// check checks the options that do not depend on others' parsing.
func (o *options) check() error {
	if n := len(slices.DeleteFunc(slices.Clone(o.files), func(f string) bool { return f != "-" })); n > 1 {
		return errors.New("standard input can be read once")
	}
	if o.maxVerdicts < 0 {
		return errors.New("-max-verdicts must not be negative")
	}
	if o.asJSON && o.asCSV {
		return errors.New("-json and -csv exclude each other")
	}
	switch o.mode {
	case "all", "fit", "use", "verdict":
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}
	return nil
}

// checkTarget checks the interval, the target and the figure.
func (o *options) checkTarget() error {
	if o.cfg.Use.Interval <= 0 {
		return errors.New("-interval must be positive")
	}
	if (o.cfg.Target.RTT > 0) != (o.cfg.Target.Rate > 0) {
		return errors.New("-target-rtt and -target-rate go together")
	}
	if o.mode == "verdict" && o.cfg.Target.RTT <= 0 {
		return errors.New("-mode verdict needs -target-rtt and -target-rate")
	}
	if o.fig != "" {
		if o.mode != "use" && o.mode != "fit" {
			return errors.New("-fig draws the RTT-vs-size fit (-mode fit) or the link use (-mode use)")
		}
		if _, err := figFormat(o.fig); err != nil {
			return err
		}
	}
	return nil
}

// fileReport is one file's -json object: linkq.FileReport and the
// connections that went without a verdict (-max-verdicts).
type fileReport struct {
	linkq.FileReport
	Unjudged int `json:"unjudged,omitempty"`
}

// failed counts the verdicts whose overall level is a failure.
func failed(reps []linkq.FileReport) int {
	n := 0
	for _, r := range reps {
		if r.Report == nil {
			continue
		}
		for _, v := range r.Verdicts {
			if v.Overall == linkq.Fail {
				n++
			}
		}
	}
	return n
}

// csvTable returns the mode's table for -csv: the link use, the
// verdicts, or the fits.
func csvTable(mode string, reps []linkq.FileReport) linkq.Table {
	switch mode {
	case "use":
		return linkq.UseTable(reps)
	case "verdict":
		return linkq.VerdictTable(reps)
	}
	return linkq.FitTable(reps)
}

// writeText prints the mode's tables, each under its title, then the
// verdicts when a target was given.
func writeText(w io.Writer, o *options, reps []linkq.FileReport) error {
	type titled struct {
		title string
		table linkq.Table
	}
	var tables []titled
	if o.mode == "all" || o.mode == "fit" {
		tables = append(tables,
			titled{"RTT against packet size (intercept = fixed delay, slope = serialization, rms = residual):", linkq.FitSummaryTable(reps)},
			titled{"Echoes:", linkq.EchoTable(reps)})
	}
	if o.mode == "all" || o.mode == "use" {
		title := fmt.Sprintf("Link use per %s", o.cfg.Use.Interval)
		if o.cfg.Use.Rate > 0 {
			title += fmt.Sprintf(" (percent of %s)", units.BitRate(o.cfg.Use.Rate).String())
		}
		tables = append(tables, titled{title + ":", linkq.UseTable(reps)})
	}
	for _, t := range tables {
		if _, err := fmt.Fprintln(w, t.title); err != nil {
			return err
		}
		if err := t.table.WriteText(w); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	if (o.mode == "all" || o.mode == "verdict") && o.cfg.Target.RTT > 0 {
		return linkq.WriteVerdicts(w, reps, o.cfg.Target.RTT)
	}
	return nil
}

// figFormat returns the figure format named by the file's extension.
func figFormat(name string) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
	for _, f := range plot.Formats {
		if ext == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("-fig %s: the name must end in .png, .svg or .pdf", name)
}

// fitFigure draws the report's figure path (linkq.Report.FigurePath): its
// samples and fitted lines.
func fitFigure(r linkq.FileReport) (*plot.Figure, error) {
	pf := r.FigurePath()
	if pf == nil {
		return nil, fmt.Errorf("%s: no path with a fit to draw", r.File)
	}
	title := fmt.Sprintf("RTT vs size, %s %s → %s (%s)", pf.Source, pf.Src, pf.Dst, filepath.Base(r.File))
	return plot.EchoFit(plot.Header{Title: title}, plot.EchoFitData{Points: linkq.Points(pf.Points), Lines: pf.Lines(),
		SizeLabel: fmt.Sprintf("packet size (%s), bytes", pf.Size)})
}

// useFigure draws the link use of every host pair, stacked on one grid.
func useFigure(o *options, r linkq.FileReport) (*plot.Figure, error) {
	pairs := r.Use.OnGrid()
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s: no IP traffic to draw", r.File)
	}
	layers := make([]plot.Layer, len(pairs))
	for i, p := range pairs {
		layers[i] = plot.Layer{Name: p.String(), Bins: [2]plot.ByteBinner{p.Bins[0], p.Bins[1]}}
	}
	bo := plot.BandwidthOptions{Rate: o.cfg.Use.Rate, Percent: o.cfg.Use.Rate > 0,
		Names: [2]string{"first sender → peer", "peer → first sender"}}
	return plot.Bandwidth(plot.Header{Title: "link use: " + r.File, Start: pairs[0].Bins[0].Start}, layers, bo)
}

func drawFigure(o *options, r linkq.FileReport) error {
	format, err := figFormat(o.fig)
	if err != nil {
		return err
	}
	var fig *plot.Figure
	if o.mode == "fit" {
		fig, err = fitFigure(r)
	} else {
		fig, err = useFigure(o, r)
	}
	if err != nil {
		return err
	}
	f, err := os.Create(o.fig)
	if err != nil {
		return err
	}
	if err := fig.Render(f, format); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
