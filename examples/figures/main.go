// Command figures draws netecology's figures from a capture: the
// packet-flow and bandwidth figure of "Wide Area Network Ecology", the
// capture's bandwidth by traffic class, the time-sequence graph, RTT over
// time and the transaction timeline.
//
//	go run ./examples/figures -o fig.png -conn 1 FILE
//	go run ./examples/figures -kind tsg -dir s2c -o tsg.svg FILE
//	go run ./examples/figures -o pair.png -pair A.pcap:1,B.pcap:1
//
// The format follows the output name's extension (png, svg, pdf) unless
// -format says otherwise. With -pair the same kind of figure is drawn for
// two connections side by side, over spans of the same length (the
// shorter connection's, or -from to -to), with the same interval and on
// shared vertical scales. -from and -to zoom in; the time axis keeps
// counting from the connection's first packet. -kind rtt -conn 0 draws
// the minimum RTT per interval of the whole capture, from TCP and from
// echoes (ICMP, UDP echo); over hours the axis gives the time of day.
//
// FILE may be "-" (standard input), and several files are read as one
// capture (the rotated files of tcpdump -C or -G; in -pair, join them
// with commas: a.pcap0,a.pcap1:3). The pass keeps what the figure needs
// (the chosen connection's packets, bins bounded in number) and of the
// other connections only counts, so memory is bounded by flow.Config
// whatever the capture holds. On a terminal a progress line goes to
// standard error (-q: none).
//
// Exit status: 0; 1 if the figure could not be drawn or written (a
// capture damaged part-way is drawn up to the damage, with a warning);
// 2 for bad usage.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

type options struct {
	kind    string
	conn    int
	dir     string
	width   time.Duration
	rate    units.BitRate
	percent bool
	lines   bool
	max     int
	from    float64
	to      float64
	workers int
	quiet   bool
	// maxConns bounds the live connections (flow.Config.MaxConns).
	maxConns int
	stdin    io.Reader
	warn     io.Writer // warnings and the progress line; nil: standard error
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

// args are the command line's, parsed.
type args struct {
	out, format, pair string
	files             []string
	o                 options
}

func parseArgs(argv []string, stderr io.Writer) (*args, error) {
	a := &args{o: options{workers: runtime.NumCPU()}}
	o := &a.o
	fs := flag.NewFlagSet("figures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.out, "o", "", "output file (.png, .svg or .pdf); required")
	fs.StringVar(&a.format, "format", "", "output format: png, svg or pdf (default: from -o's extension)")
	fs.StringVar(&a.pair, "pair", "", "draw two connections side by side: FILE:CONN,FILE:CONN")
	fs.StringVar(&o.kind, "kind", "flow", "figure: flow, bandwidth, tsg, rtt or timeline")
	fs.IntVar(&o.conn, "conn", 1, "connection ID (as examples/flows numbers them); with -kind rtt, 0 draws the minimum RTT per interval over the whole capture")
	fs.StringVar(&o.dir, "dir", "s2c", "tsg: the direction whose data is drawn, c2s or s2c")
	fs.DurationVar(&o.width, "width", 0, "bandwidth interval (default: about 1/80 of the span shown, at least 10ms)")
	rate := fs.String("rate", "", "bandwidth: link rate, e.g. 2M or 512k (bits/s)")
	fs.BoolVar(&o.percent, "percent", false, "bandwidth: vertical axis in percent of -rate")
	fs.BoolVar(&o.lines, "lines", false, "bandwidth: one line per class instead of stacked areas")
	fs.IntVar(&o.max, "max", 0, "timeline: draw at most this many transactions (0: all)")
	fs.Float64Var(&o.from, "from", 0, "zoom: start the time axis this many seconds after the connection's first packet")
	fs.Float64Var(&o.to, "to", 0, "zoom: end the time axis this many seconds after the connection's first packet (0: at its end)")
	fs.BoolVar(&o.quiet, "q", false, "no progress line on standard error")
	fs.IntVar(&o.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	fs.IntVar(&o.workers, "workers", o.workers, "goroutines analysing connections (the figure does not depend on it)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: figures -o OUT [-kind flow|bandwidth|tsg|rtt|timeline] [-conn N] [-q] FILE...|-\n"+
			"       figures -o OUT [-kind ...] -pair FILE:CONN,FILE:CONN\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(argv); err != nil {
		return nil, err
	}
	a.files = fs.Args()
	switch {
	case a.out == "":
		fs.Usage()
		return nil, errors.New("-o is required")
	case a.pair != "" && len(a.files) > 0:
		return nil, errors.New("-pair takes no FILE argument")
	case a.pair == "" && len(a.files) == 0:
		fs.Usage()
		return nil, errors.New("no capture named")
	}
	if *rate != "" {
		r, err := units.ParseBitRate(*rate)
		if err != nil {
			return nil, err
		}
		o.rate = r
	}
	if a.format == "" {
		a.format = strings.TrimPrefix(strings.ToLower(filepath.Ext(a.out)), ".")
	}
	return a, nil
}

func run(argv []string, stdin io.Reader, stderr io.Writer) int {
	a, err := parseArgs(argv, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "figures:", err)
		}
		return 2
	}
	a.o.stdin, a.o.warn = stdin, stderr
	var fig *plot.Figure
	if a.pair != "" {
		fig, err = drawPair(a.pair, a.o)
	} else {
		fig, err = drawFiles(a.files, a.o)
	}
	if err == nil {
		// Render to memory first: a failure leaves no broken file behind.
		var buf bytes.Buffer
		if err = fig.Render(&buf, a.format); err == nil {
			err = os.WriteFile(a.out, buf.Bytes(), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "figures:", err)
		return 1
	}
	return 0
}

// pairItem is one item of -pair: FILE:CONN, FILE possibly rotated files
// joined by commas.
var pairSpec = regexp.MustCompile(`^(.+?):(\d+),(.+):(\d+)$`)

// drawPair draws the same figure of two connections side by side, over
// spans of the same length with the same interval.
func drawPair(spec string, o options) (*plot.Figure, error) {
	m := pairSpec.FindStringSubmatch(spec)
	if m == nil {
		return nil, fmt.Errorf("bad -pair %q: want FILE:CONN,FILE:CONN", spec)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if m[1] == "-" && m[3] == "-" {
		return nil, errors.New("-pair: standard input can be read once")
	}
	var caps []*capture
	for _, item := range [][2]string{{m[1], m[2]}, {m[3], m[4]}} {
		id, err := strconv.Atoi(item[1])
		if err != nil {
			return nil, fmt.Errorf("bad connection in -pair item %q: %w", item[0]+":"+item[1], err)
		}
		oo := o
		oo.conn = id
		c, err := load(cli.Files(item[0]), oo)
		if err != nil {
			return nil, err
		}
		caps = append(caps, c)
	}
	if o.to == 0 && !o.captureWide() {
		d := min(caps[0].conn.Last.Sub(caps[0].conn.First), caps[1].conn.Last.Sub(caps[1].conn.First))
		o.to = d.Seconds()*1.01 + 1e-3
		if o.to <= o.from {
			o.to = 0
		}
	}
	var figs []*plot.Figure
	for i, c := range caps {
		oo := o
		oo.conn = c.cs.ID
		if o.captureWide() {
			oo.conn = caps[i].opts.conn
		}
		f, err := c.draw(oo)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return plot.Beside(figs...)
}

// capture is one pass over a capture: what the figure needs of it.
type capture struct {
	name string
	opts options
	ser  *series.Result
	// facts are what the pass kept of the connections: the chosen one
	// (conn), its explanation (flow figures), their count and what the
	// capture-wide figures need of them.
	facts *connFacts
	conn  *flow.Conn
	cs    *series.ConnSeries
	// turns are the chosen connection's application transactions (at
	// most maxTx), in completion order, for a timeline.
	turns series.Turns
	// expl is the chosen connection's explanation (flow figures).
	expl *explain.Conn
	// lq holds the echoes (capture-wide RTT figures).
	lq *linkq.Report
}

// maxTx bounds the transactions kept for a timeline.
const maxTx = 100000

// maxBins is about the most bins a figure's interval gives, unless -width
// sets it.
const maxBins = 80

// fineWidth is the grid of the pass when -width is not given: the width
// is chosen once the span is known, and the grid coarsened to it.
const fineWidth = 10 * time.Millisecond

func (o options) check() error {
	if o.from < 0 || o.to < 0 || (o.to > 0 && o.to <= o.from) {
		return fmt.Errorf("bad -from %g / -to %g", o.from, o.to)
	}
	return nil
}

// load makes the pass over the capture in files, with the consumers the
// figure needs, on as many workers as the options say (the results do
// not depend on it).
func load(files []string, o options) (*capture, error) {
	name := strings.Join(files, ",")
	in, err := cli.Open(files, o.stdin)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	width := o.width
	if width == 0 {
		width = fineWidth
	}
	col := series.NewCollector(series.Config{Conns: []int{o.conn}, Width: width})
	facts := &connFacts{want: o.conn, ports: map[uint16]*portProto{}}
	cfg := flow.Config{Consumers: []flow.Consumer{col}, Workers: o.workers, MaxConns: o.maxConns}
	var turns *series.TurnLog
	if o.kind == "timeline" {
		turns = series.NewTurnLog(o.conn, maxTx)
		cfg.Consumers = append(cfg.Consumers, turns)
	}
	if o.kind == "flow" {
		facts.ex = explain.New(explain.Options{})
		cfg.Consumers = append(cfg.Consumers, facts.ex)
	}
	var lq *linkq.Analyzer
	if o.captureWide() && o.kind == "rtt" {
		lq = linkq.New(linkq.Config{NoTCPSamples: true})
		cfg.Consumers = append(cfg.Consumers, lq)
	}
	cfg.Consumers = append(cfg.Consumers, facts)
	if f, ok := o.stderr().(*os.File); ok {
		defer in.Progress(f, o.quiet, "figures")()
	}
	res, err := in.Analyze(cfg)
	if err != nil {
		if res == nil {
			return nil, err
		}
		fmt.Fprintln(o.stderr(), "figures: warning:", err)
	}
	c := &capture{name: cli.Name(files), opts: o, ser: col.Result(), facts: facts, conn: facts.conn, expl: facts.expl}
	if turns != nil {
		c.turns = turns.Turns()
		if n := turns.Disordered(); n > 0 {
			fmt.Fprintf(o.stderr(), "figures: warning: %d transactions of connection %d left out of the timeline: their response is dated before their request\n", n, o.conn)
		}
	}
	if lq != nil {
		c.lq = lq.Report()
	}
	c.cs = c.ser.Conn(o.conn)
	if o.captureWide() {
		if c.ser.Packets == 0 {
			return nil, fmt.Errorf("%s: no packets", name)
		}
		if c.ser.Packets == 1 || !c.ser.Last.After(c.ser.First) {
			return nil, fmt.Errorf("%s: %w: %d packet(s), all at one instant", name, plot.ErrNoData, c.ser.Packets)
		}
		return c, nil
	}
	if c.conn == nil || c.cs == nil {
		return c, fmt.Errorf("%s: no connection %d (it has %d; see go run ./examples/flows %s)", name, o.conn, facts.n, name)
	}
	if c.cs.Dropped > 0 {
		fmt.Fprintf(o.stderr(), "figures: warning: connection %d has %d packets; per-packet panels show the first %d (bandwidth panels all)\n",
			o.conn, uint64(len(c.cs.Points))+c.cs.Dropped, len(c.cs.Points))
	}
	return c, nil
}

// stderr is where warnings and the progress line go.
func (o options) stderr() io.Writer {
	if o.warn == nil {
		return os.Stderr
	}
	return o.warn
}

// connFacts is the pass's last consumer: of each connection as it ends
// it keeps what the figures need, in memory bounded by the server ports
// seen (65536 at most): the chosen connection and its explanation, the
// number of connections, their vantage points counted (for
// series.CaptureNetworkDir) and the application protocol of each server
// port (for series.ClassLabel).
type connFacts struct {
	want    int
	ex      *explain.Explainer // listed before: its Ended is the connection's
	conn    *flow.Conn
	expl    *explain.Conn
	n       int
	vantage [2]int // near the client, near the server
	ports   map[uint16]*portProto
}

// portProto is the protocol of a server port's connections: the first
// identified, and whether another one was too.
type portProto struct {
	proto string
	mixed bool
}

func (*connFacts) Packet(*flow.PacketInfo) {}

func (f *connFacts) ConnEnd(c *flow.Conn) {
	f.n++
	if c.ID == f.want {
		f.conn = c
		if f.ex != nil {
			f.expl = f.ex.Ended()
		}
	}
	switch c.Vantage {
	case tcpstate.VantageClient:
		f.vantage[0]++
	case tcpstate.VantageServer:
		f.vantage[1]++
	}
	if c.Proto == "" || c.Proto == "unknown" {
		return
	}
	p := f.ports[c.Server.Port()]
	switch {
	case p == nil:
		f.ports[c.Server.Port()] = &portProto{proto: c.Proto}
	case p.proto != c.Proto:
		p.mixed = true
	}
}

// Fork returns a consumer that does nothing: the root sees every
// connection end (see flow.Forker).
func (*connFacts) Fork() flow.Consumer { return flow.ConnFunc(func(*flow.Conn) {}) }

// Merge does nothing.
func (*connFacts) Merge([]flow.Consumer) {}

// networkDir is series.CaptureNetworkDir over the capture's connections.
func (f *connFacts) networkDir() tcpstate.Dir {
	if f.vantage[1] > f.vantage[0] {
		return tcpstate.ServerToClient
	}
	return tcpstate.ClientToServer
}

// classLabel is series.ClassLabel over the capture's connections: the
// connections it reads, one per protocol seen on the class's port.
func (f *connFacts) classLabel(name string) string {
	var conns []*flow.Conn
	if port, err := strconv.Atoi(strings.TrimPrefix(name, "tcp/")); err == nil && strings.HasPrefix(name, "tcp/") && port < 1<<16 {
		if p := f.ports[uint16(port)]; p != nil {
			srv := netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port))
			conns = append(conns, &flow.Conn{Server: srv, Proto: p.proto})
			if p.mixed {
				conns = append(conns, &flow.Conn{Server: srv, Proto: p.proto + " and others"})
			}
		}
	}
	return series.ClassLabel(name, conns)
}

// coarsen merges the grid to a round width for a span, unless -width set
// one.
func (c *capture) coarsen(o options, span time.Duration) {
	if o.width == 0 {
		c.ser.Coarsen(series.RoundWidth(span, maxBins))
	}
}

// header titles a figure of the chosen connection and sets its time
// window: t=0 at its first packet, the axis from -from to -to.
func (c *capture) header(o options) plot.Header {
	proto := ""
	if c.conn.Proto != "" && c.conn.Proto != "unknown" {
		proto = c.conn.Proto + " "
	}
	h := plot.Header{
		Title: fmt.Sprintf("%s%s → %s  (%s, connection %d)", proto, c.conn.Client, c.conn.Server, c.name, c.conn.ID),
		Start: c.conn.First,
	}
	if o.from > 0 {
		h.From = c.conn.First.Add(seconds(o.from))
	}
	if o.to > 0 {
		h.End = c.conn.First.Add(seconds(o.to))
	}
	return h
}

// span returns the length of time the header's figure shows.
func span(h plot.Header, last time.Time) time.Duration {
	from, to := h.Start, last
	if !h.From.IsZero() {
		from = h.From
	}
	if !h.End.IsZero() {
		to = h.End
	}
	return to.Sub(from)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// window is the span of capture time the header's figure shows.
func window(h plot.Header) series.Window {
	w := series.Window{From: h.Start, To: h.End}
	if !h.From.IsZero() {
		w.From = h.From
	}
	return w
}

// draw draws the figure of the capture name (a file, "-", or rotated
// files joined by commas).
func draw(name string, o options) (*plot.Figure, error) { return drawFiles(cli.Files(name), o) }

// drawFiles draws the figure of the capture made of files (each of them
// possibly rotated files joined by commas).
func drawFiles(files []string, o options) (*plot.Figure, error) {
	var all []string
	for _, f := range files {
		all = append(all, cli.Files(f)...)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	c, err := load(all, o)
	if err != nil {
		return nil, err
	}
	return c.draw(o)
}

// draw draws the figure the options ask for.
func (c *capture) draw(o options) (*plot.Figure, error) {
	switch {
	case o.kind == "bandwidth":
		h := c.captureHeader(o)
		c.coarsen(o, span(h, c.ser.Last))
		return drawBandwidth(c, h, o)
	case o.captureWide():
		h := c.captureHeader(o)
		c.coarsen(o, span(h, c.ser.Last))
		return drawCaptureRTT(c, h)
	}
	h := c.header(o)
	c.coarsen(o, span(h, c.conn.Last))
	var fig *plot.Figure
	var err error
	switch o.kind {
	case "flow":
		fig, err = drawFlow(c, h)
	case "tsg":
		fig, err = drawTSG(c, h, o)
	case "rtt":
		fig, err = drawRTT(c, h, o)
	case "timeline":
		fig, err = drawTimeline(c, h, o)
	default:
		return nil, fmt.Errorf("unknown -kind %q: want flow, bandwidth, tsg, rtt or timeline", o.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s connection %d: %w", c.name, o.conn, err)
	}
	return fig, nil
}

// dirNames name the directions in legends.
var dirNames = [2]string{"client→server", "server→client"}

// drawFlow draws Figure 4 of Meek et al.: the packets, each direction's
// full-size frame, and the annotation from the connection's explanation.
func drawFlow(c *capture, h plot.Header) (*plot.Figure, error) {
	d := plot.FlowData{
		Packets: series.Points(c.cs.Points).Within(window(h)),
		Conn:    [2]plot.ByteBinner{c.cs.Bins[0], c.cs.Bins[1]},
		Link:    [2]plot.ByteBinner{c.ser.Link[0], c.ser.Link[1]},
	}
	if x := c.expl; x != nil {
		d.Notes = findings.FlowNotes(x, dirNames)
		for dir, s := range [2]explain.SegmentStats{x.SegmentsC2S, x.SegmentsS2C} {
			if ov := series.FrameOverhead(c.cs.Points, tcpstate.Dir(dir)); ov > 0 && s.MSS > 0 {
				d.MSS[dir], d.FullFrame[dir] = s.MSS, s.MSS+ov
			}
		}
	}
	return plot.PacketFlow(h, d)
}

// captureWide reports whether the figure is of the whole capture rather
// than of one connection: bandwidth, and rtt with -conn 0.
func (o options) captureWide() bool {
	return o.kind == "bandwidth" || o.kind == "rtt" && o.conn == 0
}

// captureHeader titles a capture-wide figure.
func (c *capture) captureHeader(o options) plot.Header {
	h := plot.Header{
		Title: fmt.Sprintf("%s: %d packets, %d TCP connections", c.name, c.ser.Packets, c.facts.n),
		Start: c.ser.First,
	}
	if o.from > 0 {
		h.From = c.ser.First.Add(seconds(o.from))
	}
	if o.to > 0 {
		h.End = c.ser.First.Add(seconds(o.to))
	}
	return h
}

// drawCaptureRTT draws the smallest RTT per interval over every
// connection of the capture, for the data whose samples are network round
// trips (series.CaptureNetworkDir), and over every echo.
func drawCaptureRTT(c *capture, h plot.Header) (*plot.Figure, error) {
	d := plot.RTTData{Min: c.ser.MinRTTOf(c.facts.networkDir())}
	if c.lq != nil && c.lq.EchoMinRTT.Len() > 0 {
		d.EchoMin = c.lq.EchoMinRTT.Coarsen(c.ser.Width)
		d.EchoName = "echo (ICMP, UDP)"
	}
	return plot.RTT(h, d)
}

func drawBandwidth(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	layers := make([]plot.Layer, 0, len(c.ser.Classes))
	for _, cl := range c.ser.Classes {
		layers = append(layers, plot.Layer{Name: c.facts.classLabel(cl.Name),
			Bins: [2]plot.ByteBinner{cl.Bins[0], cl.Bins[1]}})
	}
	return plot.Bandwidth(h, layers, plot.BandwidthOptions{Lines: o.lines, Rate: o.rate,
		Percent: o.percent, Names: [2]string{"from clients", "from servers"}})
}

// drawTSG draws the time-sequence graph of the -dir direction's data.
func drawTSG(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	var d tcpstate.Dir
	switch o.dir {
	case "c2s":
		d = tcpstate.ClientToServer
	case "s2c":
		d = tcpstate.ServerToClient
	default:
		return nil, fmt.Errorf("bad -dir %q: want c2s or s2c", o.dir)
	}
	t := series.TimeSequence(c.cs.Points, d, window(h))
	return plot.TimeSequence(h, plot.TSGData{Name: dirNames[d], Data: t.Data, Retrans: t.Retrans,
		OutOfOrder: t.OutOfOrder, Ack: t.Ack, Window: t.Window, SACK: t.SACK, ZeroWindow: t.ZeroWindow})
}

// drawRTT draws the connection's RTT samples and the minimum per interval
// of those that are network round trips (series.RTTIn); the others are
// the near host's ACK delay.
func drawRTT(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	w := o.width
	if w == 0 {
		w = max(series.RoundWidth(span(h, c.conn.Last), maxBins)*4, time.Second)
	}
	r, err := series.RTTIn(c.cs.Points, c.conn.Vantage, window(h), w)
	if err != nil {
		return nil, err
	}
	d := plot.RTTData{Samples: r.Samples, Min: r.Min}
	for dir, name := range dirNames {
		d.Names[dir] = name + " data"
	}
	d.Names[r.Net] += " (network RTT)"
	d.Names[r.Net.Reverse()] += " (ACK delay)"
	return plot.RTT(h, d)
}

// drawTimeline draws the connection's application transactions in the
// window, at most -max of them, as appproto paired them; for a protocol
// it does not frame, the turns seen in the segments (series.SplitTurns).
func drawTimeline(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	turns := c.turns
	if len(turns) == 0 {
		turns = series.SplitTurns(c.cs.Points)
	}
	return plot.Timeline(h, turns.Within(window(h), o.max))
}
