// Command compare puts captures, connections or application protocols side
// by side and explains where their time went.
//
//	go run ./examples/compare [-json] [-rtt 150ms] [-rate 2M] [-by capture|conn|proto] A.pcap [B.pcap]
//
// With two captures each is one column (all its connections summed); with
// one capture each connection is a column (-by proto: each application
// protocol). The rows: duration, bytes, data segments, mean segment size,
// share of segments below the MSS, ACKs per data segment, application
// turns, round trips, base RTT, bottleneck rate, the time budget (waiting
// on round trips, think time, transfer, loss, window stalls), the
// rate-limiting cause, and, with -rtt or -rate, the duration projected to
// that RTT and bottleneck rate (-rate in bit/s with an optional k, M or G
// suffix) with the round trips it pays. -json prints one JSON object with
// the same figures and every connection's full explanation.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
)

// output is the -json document.
type output struct {
	WhatIf   *explain.WhatIf `json:"what_if,omitempty"`
	Subjects []explain.Row   `json:"subjects"`
	Captures []capture       `json:"captures"`
}

type capture struct {
	File  string          `json:"file"`
	Conns []*explain.Conn `json:"conns"`
	Error string          `json:"error,omitempty"`
}

func main() {
	asJSON := flag.Bool("json", false, "print JSON instead of a table")
	rtt := flag.Duration("rtt", 0, "project to this base round-trip time (e.g. 150ms)")
	rate := flag.String("rate", "", "project to this bottleneck rate in bit/s (e.g. 2M, 512k)")
	by := flag.String("by", "", "columns: capture, conn or proto (default: capture for two files, conn for one)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compare [-json] [-rtt D] [-rate R] [-by capture|conn|proto] A.pcap [B.pcap]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Args(), *asJSON, *rtt, *rate, *by, os.Stdout, os.Stderr))
}

// parseRate reads a rate in bit/s (flow.ParseBitRate; empty means none)
// and returns bytes per second.
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := flow.ParseBitRate(s)
	return v / 8, err
}

func run(files []string, asJSON bool, rtt time.Duration, rateArg, by string, stdout, stderr io.Writer) int {
	rate, err := parseRate(rateArg)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 2
	}
	at := explain.WhatIf{RTT: rtt, RateBps: rate}
	if by == "" {
		by = "conn"
		if len(files) == 2 {
			by = "capture"
		}
	}
	status := 0
	var caps []capture
	for _, f := range files {
		rep, err := explain.AnalyzeFile(f, explain.Options{})
		c := capture{File: f}
		if err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			c.Error = err.Error()
			status = 1
			if rep == nil {
				return 1
			}
		}
		c.Conns = rep.Conns
		caps = append(caps, c)
	}
	var rows []explain.Row
	switch by {
	case "capture":
		for _, c := range caps {
			rows = append(rows, explain.Summarize(filepath.Base(c.File), c.Conns, at))
		}
	case "conn":
		for _, c := range caps {
			for _, x := range c.Conns {
				label := fmt.Sprintf("%s#%d %s", filepath.Base(c.File), x.ID, x.Proto)
				rows = append(rows, explain.Summarize(label, []*explain.Conn{x}, at))
			}
		}
	case "proto":
		var all []*explain.Conn
		for _, c := range caps {
			all = append(all, c.Conns...)
		}
		rows = explain.ByProtocol(all, at)
	default:
		fmt.Fprintf(stderr, "compare: -by %q: want capture, conn or proto\n", by)
		return 2
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if asJSON {
		out := output{Subjects: rows, Captures: caps}
		if at != (explain.WhatIf{}) {
			out.WhatIf = &at
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			return 1
		}
		return status
	}
	if err := table(w, rows, at); err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	return status
}

// table prints one column per subject, plus the ratio of the second to
// the first when there are exactly two.
func table(w io.Writer, rows []explain.Row, at explain.WhatIf) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no TCP connections")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ratio := len(rows) == 2
	line := func(name string, f func(r *explain.Row) float64, format string) {
		fmt.Fprint(tw, name, "\t")
		for i := range rows {
			fmt.Fprintf(tw, format+"\t", f(&rows[i]))
		}
		if ratio {
			a, b := f(&rows[0]), f(&rows[1])
			if a != 0 {
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
		name := "projected (s) at"
		if at.RTT > 0 {
			name += " " + at.RTT.String()
		}
		if at.RateBps > 0 {
			name += fmt.Sprintf(" %.0f kbit/s", at.RateBps*8/1000)
		}
		line(name, func(r *explain.Row) float64 { return r.Projected.DurationS }, "%.3f")
		line("  round trips paid", func(r *explain.Row) float64 { return float64(r.Projected.RoundTrips) }, "%.0f")
	}
	return errors.Join(tw.Flush())
}
