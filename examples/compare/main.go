// Command compare puts captures, connections or application protocols side
// by side and explains where their time went.
//
//	go run ./examples/compare [-json] [-rtt 150ms] [-rate 2M] [-by capture|conn|proto] [-sort lost|duration|id] [-n 20] A.pcap [B.pcap]
//
// It starts with the conclusion in one sentence, with its numbers, and the
// capture-quality caveats that undermine some of the figures. With two
// captures each is then one column (all its connections summed), with the
// ratio B/A where both are non-zero; the rows: duration, bytes, data
// segments, mean segment size, share of segments below the MSS, ACKs per
// data segment, application turns, round trips, base RTT, bottleneck
// rate, the time budget (waiting on round trips, think time, transfer,
// loss, window stalls), the rate-limiting cause, and, with -rtt or -rate,
// the duration projected to that RTT and bottleneck rate (-rate in bit/s
// with an optional k, M or G suffix) with the round trips it pays. With
// one capture each connection is a row (-by proto: each application
// protocol), so that the table fits a terminal: duration, the time lost to
// the network (round trips, windows, loss: all but transfer and think
// time), turns, RTT, mean segment, share below the MSS, ACKs per segment,
// the limit and the projection; sorted by time lost (-sort), the first -n
// of them (0: all) and a line for the rest, then the totals (with -rtt or
// -rate the summed projection, "projected (s) at ..."). -json prints one
// JSON object with the same figures, the conclusion, the caveats and every
// connection's full explanation.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/examples/internal/findings"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
)

// output is the -json document.
type output struct {
	WhatIf     *explain.WhatIf    `json:"what_if,omitempty"`
	Conclusion string             `json:"conclusion"`
	Caveats    []findings.Finding `json:"caveats,omitempty"`
	Subjects   []explain.Row      `json:"subjects"`
	Captures   []capture          `json:"captures"`
}

type capture struct {
	File  string          `json:"file"`
	Conns []*explain.Conn `json:"conns"`
	Error string          `json:"error,omitempty"`
	flows []*flow.Conn
}

// options are the command line's.
type options struct {
	asJSON  bool
	rtt     time.Duration
	rate    string
	by      string
	sortBy  string
	n       int
	workers int
}

func main() {
	o := options{workers: runtime.NumCPU()}
	flag.BoolVar(&o.asJSON, "json", false, "print JSON instead of a table")
	flag.DurationVar(&o.rtt, "rtt", 0, "project to this base round-trip time (e.g. 150ms)")
	flag.StringVar(&o.rate, "rate", "", "project to this bottleneck rate in bit/s (e.g. 2M, 512k)")
	flag.StringVar(&o.by, "by", "", "subjects: capture, conn or proto (default: capture for two files, conn for one)")
	flag.StringVar(&o.sortBy, "sort", "lost", "rows of connections or protocols by: lost (time lost to the network), duration or id")
	flag.IntVar(&o.n, "n", 20, "rows: show the first n (0: all)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compare [-json] [-rtt D] [-rate R] [-by capture|conn|proto] [-sort lost|duration|id] [-n N] A.pcap [B.pcap]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Args(), o, os.Stdout, os.Stderr))
}

// parseRate reads a rate in bit/s (units.ParseBitRate; empty means none)
// and returns bytes per second.
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := units.ParseBitRate(s)
	return v.BytesPerSecond(), err
}

// load explains one capture's connections in one pass, with flow's view
// of each (for the capture-quality caveats).
func load(file string, workers int) (capture, error) {
	ex := explain.New(explain.Options{Keep: true})
	res, err := flow.AnalyzeFile(file, flow.Config{Consumers: []flow.Consumer{ex}, KeepConns: true, Workers: workers})
	c := capture{File: file}
	if err != nil {
		c.Error = err.Error()
	}
	if res == nil {
		return c, err
	}
	c.Conns = slices.Clone(ex.Conns())
	slices.SortFunc(c.Conns, func(a, b *explain.Conn) int { return cmp.Compare(a.ID, b.ID) })
	c.flows = res.Conns
	return c, err
}

func run(files []string, o options, stdout, stderr io.Writer) int {
	rate, err := parseRate(o.rate)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 2
	}
	at := explain.WhatIf{RTT: o.rtt, RateBps: rate}
	if o.by == "" {
		o.by = "conn"
		if len(files) == 2 {
			o.by = "capture"
		}
	}
	switch {
	case o.by != "capture" && o.by != "conn" && o.by != "proto":
		fmt.Fprintf(stderr, "compare: -by %q: want capture, conn or proto\n", o.by)
		return 2
	case o.sortBy != "lost" && o.sortBy != "duration" && o.sortBy != "id":
		fmt.Fprintf(stderr, "compare: -sort %q: want lost, duration or id\n", o.sortBy)
		return 2
	case o.n < 0:
		fmt.Fprintln(stderr, "compare: -n must not be negative")
		return 2
	}
	status := 0
	var caps []capture
	for _, f := range files {
		c, err := load(f, o.workers)
		if err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			status = 1
			if c.Conns == nil && c.flows == nil {
				return 1
			}
		}
		caps = append(caps, c)
	}
	rows := subjects(caps, o.by, at)
	out := output{Conclusion: conclusion(caps), Caveats: caveats(caps), Subjects: rows, Captures: caps}
	if at != (explain.WhatIf{}) {
		out.WhatIf = &at
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if o.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		err = enc.Encode(out)
	} else {
		err = text(w, out, o, at)
	}
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	return status
}

// subjects sums up the captures' connections by capture, connection or
// protocol.
func subjects(caps []capture, by string, at explain.WhatIf) []explain.Row {
	var rows []explain.Row
	switch by {
	case "capture":
		for _, c := range caps {
			rows = append(rows, explain.Summarize(filepath.Base(c.File), c.Conns, at))
		}
	case "conn":
		for _, c := range caps {
			prefix := ""
			if len(caps) > 1 {
				prefix = filepath.Base(c.File)
			}
			for _, x := range c.Conns {
				rows = append(rows, explain.Summarize(fmt.Sprintf("%s#%d", prefix, x.ID), []*explain.Conn{x}, at))
			}
		}
	case "proto":
		var all []*explain.Conn
		for _, c := range caps {
			all = append(all, c.Conns...)
		}
		rows = explain.ByProtocol(all, at)
	}
	return rows
}

// conclusion is the sentence for the captures.
func conclusion(caps []capture) string {
	if len(caps) == 2 {
		return findings.Compare(filepath.Base(caps[0].File), caps[0].Conns, filepath.Base(caps[1].File), caps[1].Conns)
	}
	return findings.Capture(caps[0].Conns)
}

// caveats are the capture-quality issues of every connection.
func caveats(caps []capture) []findings.Finding {
	var out []findings.Finding
	for _, c := range caps {
		for _, fc := range c.flows {
			out = append(out, findings.Caveats(fc)...)
		}
	}
	return out
}

// width is the terminal width the text keeps to.
const width = 120

// text prints the conclusion, the caveats and the table.
func text(w io.Writer, out output, o options, at explain.WhatIf) error {
	wrap(w, "conclusion: ", out.Conclusion)
	if len(out.Caveats) > 0 {
		fmt.Fprintln(w, "capture quality (figures these issues undermine are not to be trusted):")
		for _, s := range groupCaveats(out.Caveats) {
			wrap(w, "  ", s)
		}
	}
	fmt.Fprintln(w)
	if len(out.Subjects) == 0 {
		_, err := fmt.Fprintln(w, "no TCP connections")
		return err
	}
	if o.by == "capture" {
		return columns(w, out.Subjects, at)
	}
	return rowTable(w, out, o, at)
}

// groupCaveats says each issue once, with the connections that have it.
func groupCaveats(fs []findings.Finding) []string {
	type group struct {
		conns []string
		count uint64
		f     findings.Finding
	}
	var order []string
	groups := map[string]*group{}
	for _, f := range fs {
		g := groups[f.Check]
		if g == nil {
			g = &group{f: f}
			groups[f.Check] = g
			order = append(order, f.Check)
		}
		g.conns = append(g.conns, fmt.Sprintf("#%d", f.Conn))
		for _, x := range f.Figures {
			var n uint64
			if _, err := fmt.Sscan(x.Value, &n); err == nil && x.Name == "count" {
				g.count += n
			}
		}
	}
	var out []string
	for _, k := range order {
		g := groups[k]
		conns := strings.Join(g.conns, " ")
		if len(g.conns) > 8 {
			conns = strings.Join(g.conns[:8], " ") + fmt.Sprintf(" and %d more", len(g.conns)-8)
		}
		name := strings.TrimPrefix(k, "quality/")
		affects := g.f.Message[strings.Index(g.f.Message, ": ")+2:]
		out = append(out, fmt.Sprintf("%s (%d, on %s): %s", name, g.count, conns, affects))
	}
	return out
}

// wrap writes s after prefix, broken at spaces to keep within width.
func wrap(w io.Writer, prefix, s string) {
	line := prefix
	indent := strings.Repeat(" ", len(prefix))
	for _, word := range strings.Fields(s) {
		if len([]rune(line))+1+len([]rune(word)) > width && strings.TrimSpace(line) != "" {
			fmt.Fprintln(w, line)
			line = indent
		}
		if line != prefix && line != indent {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// rowTable prints one row per connection or protocol, sorted, the first
// o.n of them and a line for the rest.
func rowTable(w io.Writer, out output, o options, at explain.WhatIf) error {
	rows := slices.Clone(out.Subjects)
	servers := map[string]string{}
	if o.by == "conn" {
		for _, c := range out.Captures {
			prefix := ""
			if len(out.Captures) > 1 {
				prefix = filepath.Base(c.File)
			}
			for _, x := range c.Conns {
				servers[fmt.Sprintf("%s#%d", prefix, x.ID)] = x.Proto + " " + x.Server.String()
			}
		}
	}
	lost := func(r explain.Row) float64 { return findings.TimeLost(&r.Budget) }
	switch o.sortBy {
	case "lost":
		slices.SortStableFunc(rows, func(a, b explain.Row) int { return cmp.Compare(lost(b), lost(a)) })
	case "duration":
		slices.SortStableFunc(rows, func(a, b explain.Row) int { return cmp.Compare(b.DurationS, a.DurationS) })
	}
	shown := rows
	if o.n > 0 && len(rows) > o.n {
		shown = rows[:o.n]
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "conn\tservice\tdur s\tlost s\tturns\tRTT ms\tseg B\t<MSS\tACK/seg\tlimited by\t"
	if o.by == "proto" {
		head = "proto\tconns\tdur s\tlost s\tturns\tRTT ms\tseg B\t<MSS\tACK/seg\tlimited by\t"
	}
	if at != (explain.WhatIf{}) {
		head += "at " + whatIfName(at) + " s\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range shown {
		second := short(servers[r.Label], 28)
		if o.by == "proto" {
			second = fmt.Sprint(r.Conns)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%d\t%s\t%s\t%s\t%s\t%s\t", r.Label, second, r.DurationS, lost(r), r.Turns,
			orDash(r.RTTms, "%.1f"), orDash(r.MeanSegment, "%.0f"), orDash(100*r.SmallShare, "%.0f%%"),
			orDash(r.AcksPerSegment, "%.2f"), r.Limit)
		if r.Projected != nil {
			fmt.Fprintf(tw, "%.3f\t", r.Projected.DurationS)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var allDur, allLost float64
	for _, r := range rows {
		allDur, allLost = allDur+r.DurationS, allLost+lost(r)
	}
	if rest := rows[len(shown):]; len(rest) > 0 {
		var d, l float64
		for _, r := range rest {
			d, l = d+r.DurationS, l+lost(r)
		}
		fmt.Fprintf(w, "... and %d more: %.3f s, %.3f s lost (-n 0 shows all)\n", len(rest), d, l)
	}
	if len(rows) > 1 {
		fmt.Fprintf(w, "all %d: %.3f s of connection time, %.3f s lost to the network (round trips, windows, loss)\n",
			len(rows), allDur, allLost)
	}
	if at != (explain.WhatIf{}) {
		var d float64
		var n int
		for _, r := range rows {
			if r.Projected != nil {
				d, n = d+r.Projected.DurationS, n+r.Projected.RoundTrips
			}
		}
		fmt.Fprintf(w, "projected (s) at %s  %.3f\n  round trips paid  %d\n", whatIfName(at), d, n)
	}
	return nil
}

// short cuts s to n runes, with an ellipsis.
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// orDash formats v, or "-" when it is zero (not measured).
func orDash(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// whatIfName says what a projection is to.
func whatIfName(at explain.WhatIf) string {
	var parts []string
	if at.RTT > 0 {
		parts = append(parts, at.RTT.String())
	}
	if at.RateBps > 0 {
		parts = append(parts, fmt.Sprintf("%.0f kbit/s", at.RateBps*8/1000))
	}
	return strings.Join(parts, " ")
}

// unknownAtZero are the rows whose zero means "not measured".
var unknownAtZero = map[string]bool{"base RTT (ms)": true, "bottleneck (kbit/s)": true}

// columns prints one column per subject, plus the ratio of the second to
// the first when there are exactly two and both figures are non-zero.
func columns(w io.Writer, rows []explain.Row, at explain.WhatIf) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ratio := len(rows) == 2
	line := func(name string, f func(r *explain.Row) float64, format string) {
		fmt.Fprint(tw, name, "\t")
		for i := range rows {
			if v := f(&rows[i]); v == 0 && unknownAtZero[name] {
				fmt.Fprint(tw, "-\t")
			} else {
				fmt.Fprintf(tw, format+"\t", v)
			}
		}
		if ratio {
			a, b := f(&rows[0]), f(&rows[1])
			if a != 0 && b != 0 {
				fmt.Fprintf(tw, "%.2fx\t", b/a)
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "\t")
	for _, r := range rows {
		fmt.Fprint(tw, r.Label, "\t")
	}
	if ratio {
		fmt.Fprint(tw, "B/A\t")
	}
	fmt.Fprintln(tw)
	line("connections", func(r *explain.Row) float64 { return float64(r.Conns) }, "%.0f")
	line("duration (s)", func(r *explain.Row) float64 { return r.DurationS }, "%.3f")
	line("payload bytes", func(r *explain.Row) float64 { return float64(r.Bytes) }, "%.0f")
	line("data segments", func(r *explain.Row) float64 { return float64(r.Segments) }, "%.0f")
	line("mean segment (B)", func(r *explain.Row) float64 { return r.MeanSegment }, "%.1f")
	line("segments below MSS", func(r *explain.Row) float64 { return 100 * r.SmallShare }, "%.1f%%")
	line("ACKs per data segment", func(r *explain.Row) float64 { return r.AcksPerSegment }, "%.2f")
	line("application turns", func(r *explain.Row) float64 { return float64(r.Turns) }, "%.0f")
	line("round trips paid", func(r *explain.Row) float64 { return float64(r.RoundTrips) }, "%.0f")
	line("base RTT (ms)", func(r *explain.Row) float64 { return r.RTTms }, "%.1f")
	line("bottleneck (kbit/s)", func(r *explain.Row) float64 { return r.RateBps * 8 / 1000 }, "%.0f")
	line("time lost to the network (s)", func(r *explain.Row) float64 { return findings.TimeLost(&r.Budget) }, "%.3f")
	line("waiting on round trips (s)", func(r *explain.Row) float64 { return r.Budget.WaitingS() }, "%.3f")
	line("  handshake", func(r *explain.Row) float64 { return r.Budget.HandshakeS }, "%.3f")
	line("  application turns", func(r *explain.Row) float64 { return r.Budget.RoundTripS }, "%.3f")
	line("  window / ACK clock", func(r *explain.Row) float64 { return r.Budget.WindowWaitS }, "%.3f")
	line("client think (s)", func(r *explain.Row) float64 { return r.Budget.ClientThinkS }, "%.3f")
	line("server think (s)", func(r *explain.Row) float64 { return r.Budget.ServerThinkS }, "%.3f")
	line("transfer (s)", func(r *explain.Row) float64 { return r.Budget.TransferS }, "%.3f")
	line("receiver window (s)", func(r *explain.Row) float64 { return r.Budget.ReceiverWindowS + r.Budget.ZeroWindowS }, "%.3f")
	line("loss recovery + RTO (s)", func(r *explain.Row) float64 { return r.Budget.LossRecoveryS + r.Budget.RTOS }, "%.3f")
	fmt.Fprint(tw, "limited by\t")
	for _, r := range rows {
		fmt.Fprint(tw, r.Limit, "\t")
	}
	if ratio {
		fmt.Fprint(tw, "\t")
	}
	fmt.Fprintln(tw)
	if at != (explain.WhatIf{}) {
		line("projected (s) at "+whatIfName(at), func(r *explain.Row) float64 { return r.Projected.DurationS }, "%.3f")
		line("  round trips paid", func(r *explain.Row) float64 { return float64(r.Projected.RoundTrips) }, "%.0f")
	}
	return errors.Join(tw.Flush())
}
