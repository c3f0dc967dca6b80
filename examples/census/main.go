// Command census tells who and what uses the wire in packet captures, in
// the manner of Meek et al., "Wide Area Network Ecology" (LISA '98): the
// traffic each way across the link and per interval against the link's
// rate, the top hosts and subnets, the classes of traffic at every layer
// (broadcasts, multicasts, routing protocols, non-IP frames, services,
// application protocols), big pings and who sends them, and how much of
// the TCP payload is padding or repeats.
//
//	go run ./examples/census [-json | -csv [-table NAME]] [-local 10.0.0.0/24,...]
//	    [-rate 2M] [-interval 5m] [-top 10] [-subnets P,...] [-big-ping 1000]
//	    [-min-run 8] [-sample 262144] [-max-hosts 4096] [-workers N]
//	    [-fig FILE.png] [-q] FILE...|-
//
// Each FILE (pcap or pcapng, possibly gzip-compressed) is analysed on its
// own; "-" reads standard input, and several files joined by commas are
// read as one capture (the rotated files of tcpdump -C or -G). Memory is
// bounded by flow.Config and the census's limits (-max-hosts,
// -max-subnets, -sample) whatever the capture holds. On a terminal a
// progress line goes to standard error (-q: none).
//
// -local names the local side of the link (prefixes or addresses):
// packets from it to elsewhere are "out", the reverse "in". Rates take k,
// M and G suffixes (powers of 1000, bit/s).
//
// The default output is text: findings first (the top talker, big
// pingers, routing and broadcast traffic, non-IP frames, padding), then
// every table. -json prints one JSON object per file (package
// flow/census's Report with the file name); -csv prints one table, chosen
// by -table: intervals (the default), hosts, subnets, classes, services,
// protocols, pingers or redundancy. -fig draws the first file's traffic
// in and out per interval, with the rate, to a .png, .svg or .pdf file.
//
// Exit status: 0, 1 if a file could not be read (the others are still
// reported), 2 for bad usage.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/census"
	"github.com/netecology/netecology/flow/units"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	quiet         bool
	maxConns      int // flow.Config.MaxConns
	asJSON, asCSV bool
	table         string
	fig           string
	cfg           census.Config
	files         []string
}

// tables are the -table names for -csv.
var tables = []string{"intervals", "hosts", "subnets", "classes", "services", "protocols", "pingers", "redundancy"}

// parsePrefixes reads a comma-separated list of prefixes or addresses (an
// address is its own prefix).
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a prefix nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

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

type prefixFlag struct{ v *[]netip.Prefix }

func (p prefixFlag) String() string {
	if p.v == nil {
		return ""
	}
	var s []string
	for _, x := range *p.v {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func (p prefixFlag) Set(s string) error {
	v, err := parsePrefixes(s)
	if err == nil {
		*p.v = append(*p.v, v...)
	}
	return err
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	c := &o.cfg
	fs := flag.NewFlagSet("census", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON object per file")
	fs.BoolVar(&o.asCSV, "csv", false, "print one table as CSV (see -table)")
	fs.StringVar(&o.table, "table", "intervals", "with -csv, the table: "+strings.Join(tables, ", "))
	fs.Var(prefixFlag{&c.Local}, "local", "the local side of the link: comma-separated prefixes or addresses")
	fs.Var(prefixFlag{&c.Subnets}, "subnets", "group hosts into these prefixes (longest match) rather than /24 and /64")
	fs.Var(rateFlag{&c.Rate}, "rate", "the link's rate for percentages, bit/s (e.g. 2M)")
	fs.DurationVar(&c.Interval, "interval", census.DefaultInterval, "interval length")
	fs.IntVar(&c.TopN, "top", census.DefaultTopN, "rows of each top list")
	fs.IntVar(&c.BigPing, "big-ping", census.DefaultBigPing, "echo payload in bytes above which a ping is big")
	fs.IntVar(&c.MinRun, "min-run", census.DefaultMinRun, "shortest run of equal payload bytes counted as padding")
	fs.IntVar(&c.SampleBytes, "sample", census.DefaultSampleBytes, "payload per connection direction parsed for repeats (negative: none)")
	fs.IntVar(&c.MaxHosts, "max-hosts", census.DefaultMaxHosts, "hosts counted per summary (counts are exact up to this many hosts)")
	fs.IntVar(&c.MaxSubnets, "max-subnets", census.DefaultMaxSubnets, "subnets counted per summary")
	fs.IntVar(&c.Workers, "workers", runtime.GOMAXPROCS(0), "goroutines analysing connections (flow.Config.Workers)")
	fs.BoolVar(&o.quiet, "q", false, "no progress line on standard error")
	fs.IntVar(&o.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	fs.StringVar(&o.fig, "fig", "", "draw the first file's traffic in and out per interval to this file (.png, .svg or .pdf)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: census [-json | -csv [-table NAME]] [-local PREFIXES] [-rate 2M] [-interval 5m] [-top 10] [-fig FILE] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.files = fs.Args()
	switch {
	case len(o.files) == 0:
		fs.Usage()
		return nil, errors.New("no capture named")
	case len(slices.DeleteFunc(slices.Clone(o.files), func(f string) bool { return f != "-" })) > 1:
		return nil, errors.New("standard input can be read once")
	case o.asJSON && o.asCSV:
		return nil, errors.New("-json and -csv exclude each other")
	case c.Interval <= 0:
		return nil, errors.New("-interval must be positive")
	case c.TopN <= 0 || c.BigPing <= 0 || c.MinRun <= 0 || c.MaxHosts <= 0 || c.MaxSubnets <= 0:
		return nil, errors.New("-top, -big-ping, -min-run, -max-hosts and -max-subnets must be positive")
	}
	if !slices.Contains(tables, o.table) {
		return nil, fmt.Errorf("unknown -table %q (one of %s)", o.table, strings.Join(tables, ", "))
	}
	if o.fig != "" {
		if _, err := figFormat(o.fig); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// fileReport is one file's census as printed with -json.
type fileReport struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*census.Report
}

// MarshalJSON writes the record with the report's fields in place (a
// promoted Report.MarshalJSON would write those alone).
func (r fileReport) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r fileReport) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// analyze makes the census of one capture (a file, "-" or rotated files
// joined by commas); the report is nil when it could not be read at all.
func analyze(name string, o *options, stdin io.Reader, stderr io.Writer) (*census.Report, error) {
	in, err := cli.Open(cli.Files(name), stdin)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	if f, ok := stderr.(*os.File); ok {
		defer in.Progress(f, o.quiet, "census")()
	}
	c := census.New(o.cfg)
	res, err := in.Analyze(flow.Config{Consumers: []flow.Consumer{c}, Workers: o.cfg.Workers, MaxConns: o.maxConns})
	if res == nil {
		return nil, err
	}
	rep := c.Report()
	rep.Summary = &res.Summary
	if err != nil && len(cli.Files(name)) == 1 {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return rep, err
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "census:", err)
		}
		return 2
	}
	status := 0
	var reps []fileReport
	for _, name := range o.files {
		rep, err := analyze(name, o, stdin, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "census:", err)
			status = 1
			if rep == nil {
				continue
			}
		}
		fr := fileReport{File: name, Report: rep}
		if err != nil {
			fr.Error = err.Error()
		}
		reps = append(reps, fr)
	}
	if o.fig != "" && len(reps) > 0 {
		if err := drawFigure(o.fig, reps[0]); err != nil {
			fmt.Fprintln(stderr, "census:", err)
			status = 1
		}
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
		werr = writeCSV(stdout, o.table, reps)
	default:
		werr = writeText(stdout, o, reps)
	}
	if werr != nil {
		fmt.Fprintln(stderr, "census:", werr)
		return 1
	}
	return status
}
