// Command netlog writes NetLogger-style events for every TCP connection of
// a packet capture: each critical point (SYN, SYN/ACK, handshake ACK,
// request and response first and last byte, retransmission with its
// cause, RTO, zero window, FIN, RST) as one ULM line or JSON line, and
// optionally the lifeline figure of one connection.
//
//	go run ./examples/netlog [-json] [-prog NAME] [-workers N] [-q]
//	    [-fig FILE.png|.svg|.pdf [-conn ID] [-span 2s]] FILE...|-
//
// FILE is a pcap or pcapng capture, possibly gzip-compressed; "-" reads
// standard input; several files (or files joined by commas) are read as
// one capture, merged by timestamp. Memory is bounded by flow.Config (the
// live connections) whatever the capture holds: each connection's events
// are written when it ends, so an endless stream on standard input gives
// output continuously.
//
// Each connection's events come out together when it ends, in time
// order, connections in the order they ended; the output is the same
// with any -workers. A summary of the counts per event goes to
// standard error (-q leaves it and the progress line out).
//
// -fig draws the lifelines of connection -conn (by default the first to
// end with an application transaction, else the first to end): rows for the
// client, the capture point and the server, one line for the handshake
// and one per transaction, the far ends placed by the handshake's legs,
// and marks for retransmissions, RTOs, zero windows, FINs and RSTs;
// -span draws only the first part of the connection.
//
// Exit status: 0; 1 if the capture could not be read to its end or the
// output not written; 2 for bad usage.
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
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/netlog"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/plot"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	asJSON  bool
	prog    string
	workers int
	quiet   bool
	// maxConns bounds the live connections (flow.Config.MaxConns).
	maxConns int
	fig      string
	figFmt   string
	conn     int
	span     time.Duration
	files    []string
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("netlog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.asJSON, "json", false, "write JSON lines instead of ULM lines")
	fs.StringVar(&o.prog, "prog", netlog.DefaultProg, "the PROG field of the ULM lines")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "goroutines analysing connections (the output does not depend on it)")
	fs.BoolVar(&o.quiet, "q", false, "no progress line and no summary on standard error")
	fs.IntVar(&o.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	fs.StringVar(&o.fig, "fig", "", "draw the lifelines of one connection to this file (.png, .svg or .pdf)")
	fs.IntVar(&o.conn, "conn", 0, "with -fig, the connection to draw (flow's id; 0: the first to end with a transaction)")
	fs.DurationVar(&o.span, "span", 0, "with -fig, draw only this long from the connection's start (0: all of it)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: netlog [-json] [-prog NAME] [-workers N] [-q] [-fig FILE [-conn ID]] FILE...|-")
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
	if o.conn < 0 {
		return nil, errors.New("-conn must be positive")
	}
	if (o.conn > 0 || o.span != 0) && o.fig == "" {
		return nil, errors.New("-conn and -span go with -fig")
	}
	if o.span < 0 {
		return nil, errors.New("-span must be positive")
	}
	if o.fig != "" {
		ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(o.fig)), ".")
		if !slices.Contains(plot.Formats, ext) {
			return nil, fmt.Errorf("-fig %s: the name must end in .png, .svg or .pdf", o.fig)
		}
		o.figFmt = ext
	}
	return o, nil
}

// picker keeps a copy of the events of the connection to draw.
type picker struct {
	want   int
	conn   *flow.Conn
	events []netlog.Event
	txn    bool // the kept connection has a transaction
}

func (p *picker) Events(c *flow.Conn, evs []netlog.Event) error {
	hasTxn := slices.ContainsFunc(evs, func(e netlog.Event) bool { return e.Txn > 0 })
	var keep bool
	switch {
	case p.want > 0:
		keep = c.ID == p.want
	case p.txn: // the first to end with a transaction is kept
	default: // else the first to end
		keep = hasTxn || p.conn == nil
	}
	if keep {
		p.conn, p.events, p.txn = c, append(p.events[:0], evs...), hasTxn
	}
	return nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "netlog:", err)
		}
		return 2
	}
	w := bufio.NewWriter(stdout)
	var out netlog.Handler = netlog.NewULMWriter(w, o.prog)
	if o.asJSON {
		out = netlog.NewJSONWriter(w)
	}
	pk := &picker{want: o.conn}
	if o.fig != "" {
		out = netlog.Handlers(out, pk)
	}
	lg := netlog.New(netlog.Config{}, out)
	var files []string
	for _, f := range o.files {
		files = append(files, cli.Files(f)...)
	}
	in, err := cli.Open(files, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "netlog:", err)
		return 1
	}
	defer in.Close()
	var stop func()
	if f, ok := stderr.(*os.File); ok {
		stop = in.Progress(f, o.quiet, "netlog")
	}
	res, rerr := in.Analyze(flow.Config{Consumers: []flow.Consumer{lg}, Workers: o.workers, MaxConns: o.maxConns})
	if stop != nil {
		stop()
	}
	status := 0
	if rerr != nil {
		fmt.Fprintln(stderr, "netlog:", rerr)
		status = 1
	}
	if err := lg.Err(); err != nil {
		fmt.Fprintln(stderr, "netlog:", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "netlog:", err)
		return 1
	}
	if !o.quiet && res != nil {
		b, _ := json.Marshal(lg.Counts())
		fmt.Fprintf(stderr, "netlog: %d packets, %s\n", res.Summary.Packets, b)
	}
	if o.fig != "" && res != nil {
		if err := drawFigure(o, pk); err != nil {
			fmt.Fprintln(stderr, "netlog:", err)
			return 1
		}
	}
	return status
}

func drawFigure(o *options, pk *picker) error {
	if pk.conn == nil {
		if o.conn > 0 {
			return fmt.Errorf("-fig: no connection %d", o.conn)
		}
		return errors.New("-fig: no TCP connection to draw")
	}
	lines, marks := netlog.Lifelines(pk.events)
	start := lines.Start()
	for _, m := range marks {
		if start.IsZero() || m.At.Before(start) {
			start = m.At
		}
	}
	c := pk.conn
	title := fmt.Sprintf("lifelines of connection %d, %s → %s (%s)", c.ID, c.Client, c.Server, c.Proto)
	if ev := pk.events; len(ev) > 0 && ev[0].Legs != nil {
		title += fmt.Sprintf(", legs: client %.3f ms, server %.3f ms", units.Ms(ev[0].Legs.Client), units.Ms(ev[0].Legs.Server))
	} else {
		title += ", no handshake: far ends not placed"
	}
	h := plot.Header{Title: title, Start: start}
	if o.span > 0 {
		h.End = start.Add(o.span)
	}
	fig, err := plot.Lifeline(h, lines, marks, plot.LifelineOptions{})
	if err != nil {
		return fmt.Errorf("-fig: connection %d: %w", c.ID, err)
	}
	f, err := os.Create(o.fig)
	if err != nil {
		return err
	}
	if err := fig.Render(f, o.figFmt); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
