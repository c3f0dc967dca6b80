// Command linkq reports link quality from packet captures: RTT against
// packet size from echoes and TCP (the Table 1 of Meek et al., "Wide Area
// Network Ecology", LISA '98), link use per interval, and a pathdiag-style
// verdict on each TCP connection for a target rate and RTT.
//
//	go run ./examples/linkq [-json|-csv] [-mode all|fit|use|verdict]
//	    [-interval 5m] [-rate 2M] [-line-speeds 2M[,2M]]
//	    [-target-rtt 150ms -target-rate 2M] [-delayed-ack]
//	    [-size ip|frame|payload] [-bin 64] [-no-tcp] [-points] FILE...
//
// Each FILE (pcap or pcapng, possibly gzip-compressed) is analysed on its
// own. Rates take k, M and G suffixes (powers of 1000, bit/s).
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
// Exit status: 0, 1 if a file could not be read (the others are still
// reported), 2 for bad usage.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/plot"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	asJSON, asCSV bool
	mode          string
	points        bool
	fig           string
	cfg           linkq.Config
	files         []string
}

// parseRate reads a rate in bit/s with an optional k, M or G suffix, as
// the project's other tools do.
func parseRate(s string) (float64, error) { return flow.ParseBitRate(s) }

type rateFlag struct{ v *float64 }

func (r rateFlag) String() string {
	if r.v == nil {
		return ""
	}
	return strconv.FormatFloat(*r.v, 'g', -1, 64)
}

func (r rateFlag) Set(s string) error {
	v, err := parseRate(s)
	if err == nil {
		*r.v = v
	}
	return err
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
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
	fs.BoolVar(&o.cfg.NoTCPSamples, "no-tcp", false, "fit echoes only, no TCP RTT samples")
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
	if o.asJSON && o.asCSV {
		return nil, errors.New("-json and -csv exclude each other")
	}
	switch o.mode {
	case "all", "fit", "use", "verdict":
	default:
		return nil, fmt.Errorf("unknown -mode %q", o.mode)
	}
	if *lineSpeeds != "" {
		for _, s := range strings.Split(*lineSpeeds, ",") {
			v, err := parseRate(s)
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
	if o.cfg.Use.Interval <= 0 {
		return nil, errors.New("-interval must be positive")
	}
	if (o.cfg.Target.RTT > 0) != (o.cfg.Target.Rate > 0) {
		return nil, errors.New("-target-rtt and -target-rate go together")
	}
	if o.mode == "verdict" && o.cfg.Target.RTT <= 0 {
		return nil, errors.New("-mode verdict needs -target-rtt and -target-rate")
	}
	if o.fig != "" {
		if o.mode != "use" && o.mode != "fit" {
			return nil, errors.New("-fig draws the RTT-vs-size fit (-mode fit) or the link use (-mode use)")
		}
		if _, err := figFormat(o.fig); err != nil {
			return nil, err
		}
	}
	if *delayed {
		o.cfg.Target.C = linkq.MathisCDelayedACK
	}
	return o, nil
}

// fileReport is one file's report as printed with -json.
type fileReport struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*linkq.Report
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "linkq:", err)
		}
		return 2
	}
	status := 0
	var reps []fileReport
	for _, name := range o.files {
		rep, err := linkq.AnalyzeFile(name, o.cfg)
		if err != nil {
			fmt.Fprintln(stderr, "linkq:", err)
			status = 1
			if rep == nil {
				continue
			}
		}
		fr := fileReport{File: name, Report: rep}
		if err != nil {
			fr.Error = err.Error()
		}
		if o.fig != "" && len(reps) == 0 { // the first file's figure, points still there
			if err := drawFigure(o, fr); err != nil {
				fmt.Fprintln(stderr, "linkq:", err)
				status = 1
			}
		}
		if !o.points {
			for i := range rep.Paths {
				rep.Paths[i].Points = nil
			}
		}
		reps = append(reps, fr)
	}
	var werr error
	switch {
	case o.asJSON:
		enc := json.NewEncoder(stdout)
		for _, r := range reps {
			if werr = enc.Encode(r); werr != nil {
				break
			}
		}
	case o.asCSV:
		werr = writeCSV(stdout, o.mode, reps)
	default:
		werr = writeText(stdout, o, reps)
	}
	if werr != nil {
		fmt.Fprintln(stderr, "linkq:", werr)
		return 1
	}
	return status
}

func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
func g4(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// lineCols formats a fit's intercept, slopes and residual, or dashes.
func lineCols(l linkq.Line) []string {
	if !l.OK {
		return []string{"-", "-", "-", "-"}
	}
	return []string{f3(l.InterceptMs), f4(l.SlopeUsPerByte), g4(l.SlopeSPerBit), f3(l.RMSms)}
}

func fitRows(reps []fileReport) [][]string {
	var rows [][]string
	for _, r := range reps {
		for _, p := range r.Paths {
			est := "-"
			if p.EstimatedSlopeUsPerByte > 0 {
				est = f4(p.EstimatedSlopeUsPerByte)
			}
			row := []string{r.File, p.Source.String(), p.Src.String(), p.Dst.String(), p.Size.String(),
				strconv.Itoa(p.Samples), strconv.Itoa(p.SizeMin), strconv.Itoa(p.SizeMax)}
			row = append(row, lineCols(p.Fit)...)
			row = append(row, est)
			mi := lineCols(p.MinFit)
			row = append(row, mi[0], mi[1], mi[3])
			rb := "-"
			if p.Robust.OK {
				rb = f4(p.Robust.SlopeUsPerByte)
			}
			row = append(row, rb)
			if e := p.Echoes; e != nil {
				row = append(row, strconv.Itoa(e.Requests), strconv.Itoa(e.Lost), strconv.Itoa(e.Corrupted))
			} else {
				row = append(row, "", "", "")
			}
			rows = append(rows, row)
		}
	}
	return rows
}

var fitHeader = []string{"file", "source", "src", "dst", "size", "n", "size_min", "size_max",
	"intercept_ms", "slope_us_per_byte", "slope_s_per_bit", "rms_ms", "estimated_us_per_byte",
	"min_intercept_ms", "min_slope_us_per_byte", "min_rms_ms", "theil_sen_slope_us_per_byte",
	"echo_requests", "echo_lost", "echo_corrupted"}

func useRows(reps []fileReport) [][]string {
	var rows [][]string
	for _, r := range reps {
		for _, pu := range r.Use.Pairs {
			for _, b := range pu.Bins {
				start := b.Start.Format(time.RFC3339)
				rows = append(rows,
					[]string{r.File, start, pu.A.String(), pu.B.String(), strconv.FormatUint(b.BytesAB, 10),
						strconv.FormatUint(b.PacketsAB, 10), f3(b.BpsAB), f3(b.PctAB)},
					[]string{r.File, start, pu.B.String(), pu.A.String(), strconv.FormatUint(b.BytesBA, 10),
						strconv.FormatUint(b.PacketsBA, 10), f3(b.BpsBA), f3(b.PctBA)})
			}
		}
	}
	return rows
}

var useHeader = []string{"file", "start", "src", "dst", "bytes", "packets", "bps", "pct"}

func verdictRows(reps []fileReport) [][]string {
	var rows [][]string
	for _, r := range reps {
		for _, v := range r.Verdicts {
			for _, c := range v.Checks {
				rows = append(rows, []string{r.File, strconv.Itoa(v.Conn), v.Client.String(), v.Server.String(),
					v.DataDir, c.Name, c.Dir, c.Level.String(), g4(c.Measured), g4(c.Limit), c.Message, c.Action})
			}
		}
	}
	return rows
}

var verdictHeader = []string{"file", "conn", "client", "server", "data_dir", "check", "dir", "level", "measured", "limit", "message", "action"}

func writeCSV(w io.Writer, mode string, reps []fileReport) error {
	cw := csv.NewWriter(w)
	var hdr []string
	var rows [][]string
	switch mode {
	case "use":
		hdr, rows = useHeader, useRows(reps)
	case "verdict":
		hdr, rows = verdictHeader, verdictRows(reps)
	default:
		hdr, rows = fitHeader, fitRows(reps)
	}
	if err := cw.Write(hdr); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func writeText(w io.Writer, o *options, reps []fileReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(cols ...string) { fmt.Fprintln(tw, strings.Join(cols, "\t")) }
	if o.mode == "all" || o.mode == "fit" {
		fmt.Fprintln(tw, "RTT against packet size (intercept = fixed delay, slope = serialization, rms = residual):")
		line("file", "source", "path", "n", "sizes", "intercept ms", "slope µs/B", "slope s/bit", "rms ms", "est µs/B", "min-line ms", "min-line µs/B", "Theil-Sen µs/B", "lost")
		for _, r := range fitRows(reps) {
			lost := "-"
			if r[17] != "" {
				lost = r[18] + "/" + r[17]
				if r[19] != "0" {
					lost += " (" + r[19] + " corrupted)"
				}
			}
			line(r[0], r[1], r[2]+" -> "+r[3], r[5], r[6]+"-"+r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[16], lost)
		}
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "Echoes:")
		line("file", "requests", "replies", "matched", "lost", "late", "corrupted", "errored", "duplicates", "orphans", "icmp errors", "truncated", "malformed")
		for _, r := range reps {
			e := r.Echo
			line(r.File, u(e.Requests), u(e.Replies), u(e.Matched), u(e.Lost), u(e.Late), u(e.Corrupted), u(e.Errored),
				u(e.Duplicates), u(e.Orphans), u(e.ICMPErrors), u(e.Truncated), u(e.Malformed))
		}
		fmt.Fprintln(tw)
	}
	if o.mode == "all" || o.mode == "use" {
		fmt.Fprintf(tw, "Link use per %s", o.cfg.Use.Interval)
		if o.cfg.Use.Rate > 0 {
			fmt.Fprintf(tw, " (percent of %s)", rate(o.cfg.Use.Rate))
		}
		fmt.Fprintln(tw, ":")
		line(useHeader...)
		for _, r := range useRows(reps) {
			line(r...)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if (o.mode == "all" || o.mode == "verdict") && o.cfg.Target.RTT > 0 {
		for _, r := range reps {
			for _, v := range r.Verdicts {
				fmt.Fprintf(w, "%s conn %d %s -> %s (data %s), target %s at %s: %s\n", r.File, v.Conn, v.Client, v.Server,
					v.DataDir, rate(v.TargetRateBps), o.cfg.Target.RTT, strings.ToUpper(v.Overall.String()))
				for _, c := range v.Checks {
					fmt.Fprintf(w, "  %-7s %-11s %s\n", c.Level, c.Name, c.Message)
					if c.Action != "" {
						fmt.Fprintf(w, "  %-7s %-11s action: %s\n", "", "", c.Action)
					}
				}
			}
		}
	}
	return nil
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// rate formats bit/s with an SI prefix.
func rate(bps float64) string {
	switch {
	case bps >= 1e9:
		return g4(bps/1e9) + " Gbit/s"
	case bps >= 1e6:
		return g4(bps/1e6) + " Mbit/s"
	case bps >= 1e3:
		return g4(bps/1e3) + " kbit/s"
	}
	return g4(bps) + " bit/s"
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
func fitFigure(r fileReport) (*plot.Figure, error) {
	pf := r.FigurePath()
	if pf == nil {
		return nil, fmt.Errorf("%s: no path with a fit to draw", r.File)
	}
	title := fmt.Sprintf("RTT vs size, %s %s → %s (%s)", pf.Source, pf.Src, pf.Dst, filepath.Base(r.File))
	return plot.EchoFit(plot.Header{Title: title}, plot.EchoFitData{Points: linkq.Points(pf.Points), Lines: pf.Lines(),
		SizeLabel: fmt.Sprintf("packet size (%s), bytes", pf.Size)})
}

// useFigure draws the link use of every host pair, stacked on one grid.
func useFigure(o *options, r fileReport) (*plot.Figure, error) {
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

func drawFigure(o *options, r fileReport) error {
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
