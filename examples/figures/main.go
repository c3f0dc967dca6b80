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
// two connections side by side, on shared vertical scales.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

type options struct {
	kind    string
	conn    int
	dir     string
	width   time.Duration
	rate    float64
	percent bool
	lines   bool
	max     int
	from    float64
	to      float64
}

func main() {
	out := flag.String("o", "", "output file (.png, .svg or .pdf); required")
	format := flag.String("format", "", "output format: png, svg or pdf (default: from -o's extension)")
	pair := flag.String("pair", "", "draw two connections side by side: FILE:CONN,FILE:CONN")
	var o options
	flag.StringVar(&o.kind, "kind", "flow", "figure: flow, bandwidth, tsg, rtt or timeline")
	flag.IntVar(&o.conn, "conn", 1, "connection ID (as examples/flows numbers them); with -kind rtt, 0 draws the minimum RTT per interval over the whole capture")
	flag.StringVar(&o.dir, "dir", "s2c", "tsg: the direction whose data is drawn, c2s or s2c")
	flag.DurationVar(&o.width, "width", 0, "bandwidth interval (default: about 1/200 of the connection, at least 10ms)")
	rate := flag.String("rate", "", "bandwidth: link rate, e.g. 2M or 512k (bits/s)")
	flag.BoolVar(&o.percent, "percent", false, "bandwidth: vertical axis in percent of -rate")
	flag.BoolVar(&o.lines, "lines", false, "bandwidth: one line per class instead of stacked areas")
	flag.IntVar(&o.max, "max", 0, "timeline: draw at most this many transactions (0: all)")
	flag.Float64Var(&o.from, "from", 0, "zoom: start the time axis this many seconds after the connection's first packet")
	flag.Float64Var(&o.to, "to", 0, "zoom: end the time axis this many seconds after the connection's first packet (0: at its end)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: figures -o OUT [-kind flow|bandwidth|tsg|rtt|timeline] [-conn N] FILE\n"+
			"       figures -o OUT [-kind ...] -pair FILE:CONN,FILE:CONN\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *rate != "" {
		r, err := flow.ParseBitRate(*rate)
		if err != nil {
			fail(err)
		}
		o.rate = r
	}
	f := *format
	if f == "" {
		f = strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
	}

	var fig *plot.Figure
	var err error
	switch {
	case *pair != "":
		if flag.NArg() != 0 {
			fail(errors.New("-pair takes no FILE argument"))
		}
		fig, err = drawPair(*pair, o)
	case flag.NArg() == 1:
		fig, err = draw(flag.Arg(0), o)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
	// Render to memory first: a failure leaves no broken file behind.
	var buf bytes.Buffer
	if err := fig.Render(&buf, f); err != nil {
		fail(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "figures:", err)
	os.Exit(1)
}

func drawPair(spec string, o options) (*plot.Figure, error) {
	parts := strings.Split(spec, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("bad -pair %q: want FILE:CONN,FILE:CONN", spec)
	}
	var figs []*plot.Figure
	for _, p := range parts {
		i := strings.LastIndex(p, ":")
		if i < 0 {
			return nil, fmt.Errorf("bad -pair item %q: want FILE:CONN", p)
		}
		id, err := strconv.Atoi(p[i+1:])
		if err != nil {
			return nil, fmt.Errorf("bad connection in -pair item %q: %w", p, err)
		}
		oo := o
		oo.conn = id
		f, err := draw(p[:i], oo)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return plot.Beside(figs...)
}

// capture is one pass over a file: flow's connections and the series.
type capture struct {
	name string
	res  *flow.Result
	ser  *series.Result
	conn *flow.Conn
	cs   *series.ConnSeries
	// txs are the chosen connection's application transactions (at most
	// maxTx), in completion order.
	txs []plot.Transaction
}

// maxTx bounds the transactions kept for a timeline.
const maxTx = 100000

// txCollector keeps the application transactions of one connection.
type txCollector struct {
	conn int
	txs  []plot.Transaction
}

func (*txCollector) Packet(*flow.PacketInfo) {}
func (*txCollector) ConnEnd(*flow.Conn)      {}
func (x *txCollector) Transaction(fc *flow.Conn, t *appproto.Transaction) {
	if fc.ID == x.conn && len(x.txs) < maxTx {
		x.txs = append(x.txs, plot.Transaction{Request: t.RequestFirst, FirstByte: t.ResponseFirst, LastByte: t.ResponseLast})
	}
}

// load makes the pass. The bin width, unless set, is chosen from the
// connection's duration, which a first pass would be needed to know; a
// fine grid (10 ms) is taken and coarsened afterwards instead.
func load(name string, o options) (*capture, error) {
	col := series.NewCollector(series.Config{Conns: []int{o.conn}, Width: 10 * time.Millisecond})
	if o.width > 0 {
		col = series.NewCollector(series.Config{Conns: []int{o.conn}, Width: o.width})
	}
	tc := &txCollector{conn: o.conn}
	cfg := flow.Config{Consumers: []flow.Consumer{col}, KeepConns: true}
	if o.kind == "timeline" {
		cfg.Consumers = append(cfg.Consumers, tc)
	}
	res, err := flow.AnalyzeFile(name, cfg)
	txs := tc.txs
	if err != nil {
		if res == nil {
			return nil, err
		}
		fmt.Fprintln(os.Stderr, "figures: warning:", err)
	}
	c := &capture{name: filepath.Base(name), res: res, ser: col.Result(), txs: txs}
	for _, fc := range res.Conns {
		if fc.ID == o.conn {
			c.conn = fc
		}
	}
	c.cs = c.ser.Conn(o.conn)
	if o.captureWide() {
		if o.width == 0 {
			c.coarsen(autoWidth(c.ser.Last.Sub(c.ser.Start)))
		}
		if c.ser.Packets == 0 {
			return nil, fmt.Errorf("%s: no packets", name)
		}
		if c.ser.Packets == 1 || !c.ser.Last.After(c.ser.Start) {
			return nil, fmt.Errorf("%s: %w: %d packet(s), all at one instant", name, plot.ErrNoData, c.ser.Packets)
		}
		return c, nil
	}
	if c.conn == nil || c.cs == nil {
		return c, fmt.Errorf("%s: no connection %d (it has %d; see go run ./examples/flows %s)", name, o.conn, len(res.Conns), name)
	}
	if c.cs.Dropped > 0 {
		fmt.Fprintf(os.Stderr, "figures: warning: connection %d has %d packets; per-packet panels show the first %d (bandwidth panels all)\n",
			o.conn, uint64(len(c.cs.Points))+c.cs.Dropped, len(c.cs.Points))
	}
	if o.width == 0 {
		c.coarsen(autoWidth(c.conn.Last.Sub(c.conn.First)))
	}
	return c, nil
}

// autoWidth picks a round interval giving at most 80 bins over d.
func autoWidth(d time.Duration) time.Duration {
	for _, w := range []time.Duration{10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000} {
		if d/(w*time.Millisecond) < 80 {
			return w * time.Millisecond
		}
	}
	return time.Minute
}

// coarsen merges the capture's bins to width w (a multiple of theirs).
func (c *capture) coarsen(w time.Duration) {
	k := int(w / c.ser.Width)
	if k <= 1 {
		return
	}
	merge := func(b *series.Bins) {
		n := (len(b.Bytes) + k - 1) / k
		by, pk := make([]uint64, n), make([]uint64, n)
		for i := range b.Bytes {
			by[i/k] += b.Bytes[i]
			pk[i/k] += b.Packets[i]
		}
		b.Bytes, b.Packets, b.Width = by, pk, b.Width*time.Duration(k)
	}
	for d := range 2 {
		m := c.ser.MinRTT[d]
		n := (len(m) + k - 1) / k
		mm := make([]time.Duration, n)
		for i, v := range m {
			if v > 0 && (mm[i/k] == 0 || v < mm[i/k]) {
				mm[i/k] = v
			}
		}
		c.ser.MinRTT[d] = mm
		merge(&c.ser.Link[d])
		for i := range c.ser.Classes {
			merge(&c.ser.Classes[i].Bins[d])
		}
		if c.cs != nil {
			merge(&c.cs.Bins[d])
		}
	}
	c.ser.Width *= time.Duration(k)
}

// header titles a figure of the chosen connection and sets its time
// window: from its first packet, or the -from/-to zoom.
func (c *capture) header(o options) plot.Header {
	proto := ""
	if c.conn.Proto != "" && c.conn.Proto != "unknown" {
		proto = c.conn.Proto + " "
	}
	h := plot.Header{
		Title: fmt.Sprintf("%s%s → %s  (%s, connection %d)", proto, c.conn.Client, c.conn.Server, c.name, c.conn.ID),
		Start: c.conn.First.Add(seconds(o.from)),
	}
	if o.to > 0 {
		h.End = c.conn.First.Add(seconds(o.to))
	}
	return h
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// in reports whether t lies in the header's window.
func in(h plot.Header, t time.Time) bool {
	return !t.Before(h.Start) && (h.End.IsZero() || !t.After(h.End))
}

func toBins(b series.Bins, label string) plot.Bins {
	return plot.Bins{Label: label, Start: b.Start, Width: b.Width, Bytes: b.Bytes}
}

func draw(name string, o options) (*plot.Figure, error) {
	if o.from < 0 || o.to < 0 || (o.to > 0 && o.to <= o.from) {
		return nil, fmt.Errorf("bad -from %g / -to %g", o.from, o.to)
	}
	c, err := load(name, o)
	if err != nil {
		return nil, err
	}
	switch {
	case o.kind == "bandwidth":
		return drawBandwidth(c, o)
	case o.captureWide():
		return drawCaptureRTT(c, o)
	}
	h := c.header(o)
	var fig *plot.Figure
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
		return nil, fmt.Errorf("%s connection %d: %w", name, o.conn, err)
	}
	return fig, nil
}

func drawFlow(c *capture, h plot.Header) (*plot.Figure, error) {
	d := plot.FlowData{}
	for _, p := range c.cs.Points {
		if in(h, p.Time) {
			pure := p.End == p.Seq
			d.Packets = append(d.Packets, plot.Packet{Time: p.Time, Bytes: p.WireLen, Dir: p.Dir, PureACK: pure})
		}
	}
	for dir := range 2 {
		d.Conn[dir] = toBins(c.cs.Bins[dir], "")
		d.Link[dir] = toBins(c.ser.Link[dir], "")
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
		Title: fmt.Sprintf("%s: %d packets, %d TCP connections", c.name, c.ser.Packets, len(c.res.Conns)),
		Start: c.ser.Start.Add(seconds(o.from)),
	}
	if o.to > 0 {
		h.End = c.ser.Start.Add(seconds(o.to))
	}
	return h
}

// className names a traffic class by the application protocol appproto
// identified on its connections, when they agree: "postgres (tcp/5432)".
func (c *capture) className(name string) string {
	port, ok := strings.CutPrefix(name, "tcp/")
	if !ok {
		return name
	}
	proto := ""
	for _, fc := range c.res.Conns {
		if strconv.Itoa(int(fc.Server.Port())) != port || fc.Proto == "" || fc.Proto == "unknown" {
			continue
		}
		if proto != "" && proto != fc.Proto {
			return name
		}
		proto = fc.Proto
	}
	if proto == "" {
		return name
	}
	return proto + " (" + name + ")"
}

// drawCaptureRTT draws the smallest RTT per interval over every
// connection of the capture, for the data sent from the side most
// connections were captured near (tcpstate's vantage).
func drawCaptureRTT(c *capture, o options) (*plot.Figure, error) {
	var near [4]int
	for _, fc := range c.res.Conns {
		near[fc.Vantage]++
	}
	net := tcpstate.ClientToServer
	if near[tcpstate.VantageServer] > near[tcpstate.VantageClient] {
		net = tcpstate.ServerToClient
	}
	h := c.captureHeader(o)
	d := plot.RTTData{Min: plot.MinRTT{Start: c.ser.Start, Width: c.ser.Width, Min: c.ser.MinRTT[net]}}
	return plot.RTT(h, d)
}

func drawBandwidth(c *capture, o options) (*plot.Figure, error) {
	h := c.captureHeader(o)
	var layers []plot.Layer
	for _, cl := range c.ser.Classes {
		l := plot.Layer{Name: c.className(cl.Name)}
		for dir := range 2 {
			l.Bins[dir] = toBins(cl.Bins[dir], cl.Name)
		}
		layers = append(layers, l)
	}
	return plot.Bandwidth(h, layers, plot.BandwidthOptions{Lines: o.lines, Rate: o.rate, Percent: o.percent,
		Names: [2]string{"from clients", "from servers"}})
}

func drawTSG(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	t, err := tsgData(c, h, o)
	if err != nil {
		return nil, err
	}
	return plot.TimeSequence(h, t)
}

// tsgData picks the time-sequence graph's inputs from the points: data of
// the -dir direction (by tcpstate's labels when present), ACKs, windows,
// SACK blocks and zero windows of the other.
func tsgData(c *capture, h plot.Header, o options) (plot.TSGData, error) {
	d := tcpstate.ServerToClient
	switch o.dir {
	case "c2s":
		d = tcpstate.ClientToServer
	case "s2c":
	default:
		return plot.TSGData{}, fmt.Errorf("bad -dir %q: want c2s or s2c", o.dir)
	}
	t := plot.TSGData{Name: [2]string{"client→server", "server→client"}[d]}
	labeled := c.labeled()
	var lastAck int64
	for _, p := range c.cs.Points {
		if !in(h, p.Time) || p.Flags.Has(tcpstate.RST) {
			continue
		}
		if p.Dir == d {
			if p.End > p.Seq {
				r := plot.SeqRange{Time: p.Time, First: p.Seq, End: p.End}
				l := p.Labels
				switch {
				case labeled && l.Has(tcpstate.OutOfOrder):
					t.OutOfOrder = append(t.OutOfOrder, r)
				case labeled && (l.Has(tcpstate.Retransmission) || l.Has(tcpstate.FastRetransmission) ||
					l.Has(tcpstate.SpuriousRetransmission)):
					t.Retrans = append(t.Retrans, r)
				case !labeled && p.Retrans:
					t.Retrans = append(t.Retrans, r)
				default:
					t.Data = append(t.Data, r)
				}
			}
			continue
		}
		if !p.Flags.Has(tcpstate.ACK) {
			continue
		}
		// The ACK line is drawn monotone: an ACK that went back (one
		// reordered in the network) is left out of it.
		if len(t.Ack) == 0 || p.Ack >= lastAck {
			t.Ack = append(t.Ack, plot.SeqMark{Time: p.Time, Seq: p.Ack})
			lastAck = p.Ack
		}
		t.Window = append(t.Window, plot.SeqMark{Time: p.Time, Seq: p.Ack + p.Window})
		zero := p.Window == 0 && !p.Flags.Has(tcpstate.SYN) && !p.Flags.Has(tcpstate.FIN)
		if labeled {
			zero = p.Labels.Has(tcpstate.ZeroWindow)
		}
		if zero {
			t.ZeroWindow = append(t.ZeroWindow, plot.SeqMark{Time: p.Time, Seq: p.Ack})
		}
		for _, b := range p.SACK[:p.NSACK] {
			t.SACK = append(t.SACK, plot.SeqRange{Time: p.Time, First: b[0], End: b[1]})
		}
	}
	return t, nil
}

// drawRTT draws tcpstate's data→ACK samples of the connection (our own,
// series.MeasureRTT, when the capture was analysed without them).
func drawRTT(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	var d plot.RTTData
	var kept [2][]series.RTTSample
	add := func(s series.RTTSample) {
		if in(h, s.Time) {
			d.Samples = append(d.Samples, plot.RTTSample{Time: s.Time, RTT: s.RTT, Dir: s.Dir})
			kept[s.Dir] = append(kept[s.Dir], s)
		}
	}
	if c.labeled() {
		for _, p := range c.cs.Points {
			if p.RTT > 0 {
				add(series.RTTSample{Time: p.Time, RTT: p.RTT, Dir: p.Dir.Reverse()})
			}
		}
	} else {
		for _, s := range series.MeasureRTT(c.cs.Points) {
			add(s)
		}
	}
	// The minimum line follows the direction whose samples are network
	// round trips: the data sent by the host the capture was taken near
	// (tcpstate's vantage; if unknown, the direction whose median is the
	// larger). The other direction's samples are that host's ACK delay.
	net := tcpstate.ClientToServer
	switch c.conn.Vantage {
	case tcpstate.VantageServer:
		net = tcpstate.ServerToClient
	case tcpstate.VantageClient:
	default:
		if median(kept[1]) > median(kept[0]) {
			net = tcpstate.ServerToClient
		}
	}
	w := o.width
	if w == 0 {
		w = max(autoWidth(c.conn.Last.Sub(c.conn.First))*4, time.Second)
	}
	m, err := series.MinPerInterval(kept[net], h.Start, w)
	if err != nil {
		return nil, err
	}
	d.Min = plot.MinRTT{Start: m.Start, Width: m.Width, Min: m.Min}
	d.Names = [2]string{"client→server data", "server→client data"}
	d.Names[net] += " (network RTT)"
	d.Names[net.Reverse()] += " (ACK delay)"
	return plot.RTT(h, d)
}

// labeled reports whether the points carry tcpstate's analysis (any
// label or RTT sample).
func (c *capture) labeled() bool {
	for _, p := range c.cs.Points {
		if p.Labels != 0 || p.RTT > 0 {
			return true
		}
	}
	return false
}

func median(s []series.RTTSample) time.Duration {
	if len(s) == 0 {
		return 0
	}
	v := make([]time.Duration, len(s))
	for i := range s {
		v[i] = s[i].RTT
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// drawTimeline draws the connection's application transactions, as
// appproto paired them; for a protocol it does not frame, the turns seen
// in the segments (series.SplitTurns) instead.
func drawTimeline(c *capture, h plot.Header, o options) (*plot.Figure, error) {
	return plot.Timeline(h, timelineData(c, h, o))
}

// timelineData returns the transactions in the header's window, at most
// -max of them.
func timelineData(c *capture, h plot.Header, o options) []plot.Transaction {
	all := c.txs
	if len(all) == 0 {
		for _, t := range series.SplitTurns(c.cs.Points) {
			all = append(all, plot.Transaction{Request: t.Request, FirstByte: t.FirstResponse, LastByte: t.LastResponse})
		}
	}
	var tx []plot.Transaction
	for _, t := range all {
		if !in(h, t.Request) || (!h.End.IsZero() && t.LastByte.After(h.End)) {
			continue
		}
		if o.max > 0 && len(tx) == o.max {
			break
		}
		tx = append(tx, t)
	}
	return tx
}
