// Command compare puts captures, connections or application protocols side
// by side and explains where their time went.
//
//	go run ./examples/compare [-json] [-rtt 150ms] [-rate 2M] [-loss 1%] [-queue 20] [-rwnd 512k] [-capture-rate 50M] [-by capture|conn|proto] [-sort lost|duration|id] [-n 20] [-q] A.pcap [B.pcap]
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
// with an optional k, M or G suffix) with the round trips it pays. The
// target can say more (explain.Target): its loss each way (-loss, a
// fraction or a percentage; then the observed losses are dropped and the
// target's priced), its queue limit in frames (-queue) and the largest
// receive window there (-rwnd); -capture-rate gives the bottleneck rate of
// the captures' own link, when known, so that each exchange's
// serialization is priced at it. Under the projection: its range (best and
// worst case, when it has one), the losses priced and its assumptions. With
// one capture each connection is a row (-by proto: each application
// protocol), so that the table fits a terminal: duration, the time lost to
// the network (round trips, windows, loss: all but transfer and think
// time), turns, RTT, mean segment, share below the MSS, ACKs per segment,
// the limit and the projection; sorted by time lost (-sort), the first -n
// of them (0: all, up to 10000) and a line for the rest, then the totals
// (with -rtt or -rate the summed projection, "projected (s) at ...").
//
// A capture is a file, "-" for standard input, or several files joined by
// commas (the rotated files of one capture, read as one). Memory is
// bounded by flow.Config (the live connections), whatever the captures
// hold: the connections are summed as they end and only the rows the
// table shows are kept, the rest counted. On a terminal a progress line
// goes to standard error (-q: none).
//
// -json prints one JSON object with the same figures, written as the
// captures are read: "captures" first, each with its "file", every
// connection's full explanation in "conns" (first-seen order, as flows
// -json; written as the connections end), its packet accounting
// ("summary", flow.Summary) and any "error"; then "what_if", the
// "conclusion", the "caveats" (the first 100 connections' issues, the
// number left out in "caveats_more"), the table's "subjects" (with -by
// conn the first -n by -sort, the others summed in "subjects_rest").
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/examples/internal/top"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/units"
)

// Bounds of what compare keeps.
const (
	// maxRows is the most rows -n 0 ("all") shows.
	maxRows = 10000
	// maxCaveats is the most caveats -json lists.
	maxCaveats = 100
	// caveatConns is how many connections a caveat line names.
	caveatConns = 8
)

// options are the command line's.
type options struct {
	asJSON bool
	rtt    time.Duration
	rate   string
	// the what-if's target beyond -rtt and -rate, and the capture's own
	// link rate
	captureRate string
	loss        string
	queue       int
	rwnd        string
	by          string
	sortBy      string
	n           int
	workers     int
	quiet       bool
	// maxConns bounds the live connections (flow.Config.MaxConns).
	maxConns int
	capRate  units.BitRate // -capture-rate parsed
}

func main() {
	o := options{workers: runtime.NumCPU()}
	flag.BoolVar(&o.asJSON, "json", false, "print JSON instead of a table")
	flag.DurationVar(&o.rtt, "rtt", 0, "project to this base round-trip time (e.g. 150ms)")
	flag.StringVar(&o.rate, "rate", "", "project to this bottleneck rate in bit/s (e.g. 2M, 512k)")
	flag.StringVar(&o.captureRate, "capture-rate", "", "the bottleneck rate of the captures' own link in bit/s, when known (e.g. 50M): serialization priced at it")
	flag.StringVar(&o.loss, "loss", "", "the target's packet loss each way, as a fraction or a percentage (e.g. 0.01 or 1%), or client-to-server and server-to-client apart (e.g. 2%,0.1%); 0 for none; unset: the observed losses kept")
	flag.IntVar(&o.queue, "queue", 0, "the target's bottleneck queue limit in frames (0: deep)")
	flag.StringVar(&o.rwnd, "rwnd", "", "the largest receive window at the target in bytes, with an optional k or M suffix (default: Linux's autotuning maximum, 6M)")
	flag.StringVar(&o.by, "by", "", "subjects: capture, conn or proto (default: capture for two files, conn for one)")
	flag.StringVar(&o.sortBy, "sort", "lost", "rows of connections or protocols by: lost (time lost to the network), duration or id")
	flag.IntVar(&o.n, "n", 20, "rows: show the first n (0: all, up to 10000)")
	flag.BoolVar(&o.quiet, "q", false, "no progress line on standard error")
	flag.IntVar(&o.maxConns, "max-conns", 0, cli.MaxConnsUsage)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compare [-json] [-rtt D] [-rate R] [-loss P] [-queue N] [-rwnd B] [-capture-rate R] [-by capture|conn|proto] [-sort lost|duration|id] [-n N] [-q] A.pcap [B.pcap]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Args(), o, os.Stdin, os.Stdout, os.Stderr))
}

// parseRate reads a rate in bit/s (units.ParseBitRate; empty means none).
func parseRate(s string) (units.BitRate, error) {
	if s == "" {
		return 0, nil
	}
	return units.ParseBitRate(s)
}

// parseLoss reads a loss probability: a fraction, or a percentage with
// "%" (empty: unknown).
func parseLoss(s string) (p float64, known bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	t, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	p, err = strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, false, fmt.Errorf("-loss %q: %w", s, err)
	}
	if pct {
		p /= 100
	}
	if p < 0 || p > 1 || math.IsNaN(p) {
		return 0, false, fmt.Errorf("-loss %q: want a probability from 0 to 1 (or 0%% to 100%%)", s)
	}
	return p, true, nil
}

// parseBytes reads a size in bytes with an optional k or M suffix
// (1024-based; empty: 0).
func parseBytes(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	mult := 1
	t := strings.TrimSpace(s)
	switch {
	case strings.HasSuffix(t, "k") || strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	}
	v, err := strconv.Atoi(t)
	if err != nil || v < 0 || v > math.MaxInt32/mult {
		return 0, fmt.Errorf("-rwnd %q: want bytes, optionally with a k or M suffix", s)
	}
	return v * mult, nil
}

// target reads the what-if's flags (-rtt, -rate, -loss, -queue, -rwnd)
// and sets o.capRate from -capture-rate.
func target(o *options) (explain.WhatIf, error) {
	rate, err := parseRate(o.rate)
	if err != nil {
		return explain.WhatIf{}, err
	}
	if o.captureRate != "" {
		if o.capRate, err = units.ParseBitRate(o.captureRate); err != nil {
			return explain.WhatIf{}, fmt.Errorf("-capture-rate: %w", err)
		}
	}
	var w explain.WhatIf
	c2s, s2c, twoWays := strings.Cut(o.loss, ",")
	if w.Loss, w.LossKnown, err = parseLoss(c2s); err != nil {
		return explain.WhatIf{}, err
	}
	if twoWays {
		if w.LossS2C, w.LossS2CKnown, err = parseLoss(s2c); err != nil {
			return explain.WhatIf{}, err
		}
		if !w.LossKnown || !w.LossS2CKnown {
			return explain.WhatIf{}, fmt.Errorf("-loss %q: want P or P,Q (client to server, server to client)", o.loss)
		}
	}
	rwnd, err := parseBytes(o.rwnd)
	if err != nil {
		return explain.WhatIf{}, err
	}
	if o.queue < 0 {
		return explain.WhatIf{}, errors.New("-queue must not be negative")
	}
	w.RTT, w.Rate, w.QueueFrames, w.RWnd = o.rtt, rate, o.queue, rwnd
	return w, nil
}

// output is what the table and the end of the -json document show.
type output struct {
	WhatIf      *explain.WhatIf    `json:"what_if,omitempty"`
	Conclusion  string             `json:"conclusion"`
	Caveats     []findings.Finding `json:"caveats,omitempty"`
	CaveatsMore int                `json:"caveats_more,omitempty"`
	Subjects    []explain.Row      `json:"subjects"`
	// SubjectsRest sums the connections the table leaves out (-by conn).
	SubjectsRest *explain.Row `json:"subjects_rest,omitempty"`

	caps   []*capture
	groups []*caveatGroup
	// all sums every connection of every capture; servers names the
	// rows of connections ("proto server").
	all     *findings.Tally
	servers map[string]string
}

// capture is one capture's pass.
type capture struct {
	File    string        `json:"file"`
	Summary *flow.Summary `json:"summary,omitempty"`
	Error   string        `json:"error,omitempty"`
	in      *cli.Input
	tally   *findings.Tally
}

func run(args []string, o options, stdin io.Reader, stdout, stderr io.Writer) int {
	at, err := target(&o)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 2
	}
	if o.by == "" {
		o.by = "conn"
		if len(args) == 2 {
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
	case len(args) == 2 && args[0] == "-" && args[1] == "-":
		fmt.Fprintln(stderr, "compare: standard input can be read once")
		return 2
	}
	// Open every capture first: one that cannot be opened at all stops
	// compare before any output.
	var caps []*capture
	defer func() {
		for _, c := range caps {
			c.in.Close()
		}
	}()
	for _, a := range args {
		in, err := cli.Open(cli.Files(a), stdin)
		if err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			return 1
		}
		caps = append(caps, &capture{File: a, in: in, tally: findings.NewTally(at)})
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	p := newPass(o, at, caps)
	if o.asJSON {
		p.doc = &docWriter{w: w}
	}
	status := 0
	for i, c := range caps {
		if err := p.analyze(i, c, stderr); err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			status = 1
		}
	}
	out := p.output()
	if o.asJSON {
		err = p.doc.finish(out)
	} else {
		err = text(w, out, o, at)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	return status
}

// pass gathers, as the connections of each capture end, what the table
// and the document need, in bounded memory.
type pass struct {
	o     options
	at    explain.WhatIf
	caps  []*capture
	doc   *docWriter
	cur   int // the capture being read
	order cli.Reorder[ended]
	// rows keeps the connections' rows the table shows (-by conn), rest
	// sums those that fell out.
	rows   *top.Keeper[connRow]
	rest   *findings.Tally
	protos map[string]*findings.Tally
	porder []string
	all    *findings.Tally
	// groups are the caveats by issue, caveats the first maxCaveats.
	groups     []*caveatGroup
	byCheck    map[string]*caveatGroup
	caveats    []findings.Finding
	caveatMore int
}

// ended is a connection that ended: flow's view and its explanation (nil
// when explain saw no segment of it).
type ended struct {
	fc *flow.Conn
	x  *explain.Conn
}

// connRow is a row of the table of connections.
type connRow struct {
	cap    int
	id     int
	lost   time.Duration
	row    explain.Row
	server string
	x      *explain.Conn
}

func newPass(o options, at explain.WhatIf, caps []*capture) *pass {
	p := &pass{o: o, at: at, caps: caps, protos: map[string]*findings.Tally{}, all: findings.NewTally(at),
		rest: findings.NewTally(at), byCheck: map[string]*caveatGroup{}}
	n := o.n
	if n == 0 || n > maxRows {
		n = maxRows
	}
	p.rows = top.New(n, func(a, b connRow) bool {
		switch o.sortBy {
		case "lost":
			if a.lost != b.lost {
				return a.lost > b.lost
			}
		case "duration":
			if a.row.Duration != b.row.Duration {
				return a.row.Duration > b.row.Duration
			}
		}
		return a.cap < b.cap || a.cap == b.cap && a.id < b.id
	})
	p.order.Emit = p.add
	return p
}

// analyze reads capture i, its connections summed as they end (in
// first-seen order, see cli.Reorder).
func (p *pass) analyze(i int, c *capture, stderr io.Writer) error {
	p.cur = i
	p.order = cli.Reorder[ended]{Emit: p.add}
	if p.doc != nil {
		p.doc.startCapture(c)
	}
	ex := explain.New(explain.Options{CaptureRate: p.o.capRate})
	cons := []flow.Consumer{ex, &collector{ex: ex, p: p}}
	if f, ok := stderr.(*os.File); ok {
		defer c.in.Progress(f, p.o.quiet, "compare")()
	}
	res, err := c.in.Analyze(flow.Config{Consumers: cons, Workers: p.o.workers, MaxConns: p.o.maxConns})
	p.order.Flush()
	if err != nil {
		c.Error = err.Error()
	}
	if res != nil {
		c.Summary = &res.Summary
	}
	if p.doc != nil {
		p.doc.endCapture(c)
	}
	return err
}

// collector is the pass's consumer after the Explainer: each connection
// with its explanation as it ends.
type collector struct {
	ex *explain.Explainer
	p  *pass
}

func (*collector) Packet(*flow.PacketInfo) {}

func (k *collector) ConnEnd(c *flow.Conn) { k.p.order.Add(c.ID, ended{c, k.ex.Ended()}) }

// Fork returns a consumer that does nothing: the Explainer's root has each
// explanation when the collector's ConnEnd is called (see flow.Forker).
func (*collector) Fork() flow.Consumer { return flow.ConnFunc(func(*flow.Conn) {}) }

// Merge does nothing.
func (*collector) Merge([]flow.Consumer) {}

// add takes one ended connection, in first-seen order.
func (p *pass) add(e ended) {
	p.caveatsOf(e.fc)
	x := e.x
	if x == nil {
		return
	}
	c := p.caps[p.cur]
	c.tally.Add(x)
	p.all.Add(x)
	if p.doc != nil {
		p.doc.conn(x)
	}
	switch p.o.by {
	case "conn":
		label := fmt.Sprintf("%s#%d", p.prefix(c), x.ID)
		r := connRow{cap: p.cur, id: x.ID, lost: findings.TimeLost(&x.Budget), x: x,
			row: explain.Summarize(label, []*explain.Conn{x}, p.at), server: x.Proto + " " + x.Server.String()}
		if out, dropped := p.rows.Add(r); dropped {
			p.rest.Add(out.x)
		}
	case "proto":
		t := p.protos[x.Proto]
		if t == nil {
			t = findings.NewTally(p.at)
			p.protos[x.Proto] = t
			p.porder = append(p.porder, x.Proto)
		}
		t.Add(x)
	}
}

// prefix is the capture's part of a connection's label: its base name
// with two captures.
func (p *pass) prefix(c *capture) string {
	if len(p.caps) > 1 {
		return filepath.Base(c.File)
	}
	return ""
}

// caveatGroup is one capture-quality issue: the first connection's
// finding, the connections that have it (the first caveatConns named) and
// the count summed.
type caveatGroup struct {
	f      findings.Finding
	conns  []string
	nconns int
	count  uint64
}

func (p *pass) caveatsOf(fc *flow.Conn) {
	for _, f := range findings.Caveats(fc) {
		if len(p.caveats) < maxCaveats {
			p.caveats = append(p.caveats, f)
		} else {
			p.caveatMore++
		}
		g := p.byCheck[f.Check]
		if g == nil {
			g = &caveatGroup{f: f}
			p.byCheck[f.Check] = g
			p.groups = append(p.groups, g)
		}
		if g.nconns < caveatConns {
			g.conns = append(g.conns, fmt.Sprintf("#%d", f.Conn))
		}
		g.nconns++
		for _, x := range f.Figures {
			var n uint64
			if _, err := fmt.Sscan(x.Value, &n); err == nil && x.Name == "count" {
				g.count += n
			}
		}
	}
}

// output is what the pass gathered.
func (p *pass) output() output {
	out := output{Caveats: p.caveats, CaveatsMore: p.caveatMore, caps: p.caps, groups: p.groups, all: p.all, servers: map[string]string{}}
	if p.at != (explain.WhatIf{}) {
		out.WhatIf = &p.at
	}
	if len(p.caps) == 2 {
		a, b := p.caps[0], p.caps[1]
		out.Conclusion = findings.CompareTallies(filepath.Base(a.File), a.tally, filepath.Base(b.File), b.tally)
	} else {
		out.Conclusion = p.caps[0].tally.Capture()
	}
	switch p.o.by {
	case "capture":
		for _, c := range p.caps {
			out.Subjects = append(out.Subjects, c.tally.Row(filepath.Base(c.File)))
		}
	case "conn":
		for _, r := range p.rows.Sorted() {
			out.Subjects = append(out.Subjects, r.row)
			out.servers[r.row.Label] = r.server
		}
		if p.rest.Len() > 0 {
			r := p.rest.Row(fmt.Sprintf("rest: %d more", p.rest.Len()))
			out.SubjectsRest = &r
		}
	case "proto":
		for _, name := range p.porder {
			out.Subjects = append(out.Subjects, p.protos[name].Row(name))
		}
	}
	if out.Subjects == nil {
		out.Subjects = []explain.Row{}
	}
	return out
}

// docWriter writes the -json document piece by piece, indented as
// encoding/json's SetIndent("", " ") would.
type docWriter struct {
	w     io.Writer
	err   error
	caps  int
	conns int
}

func (d *docWriter) put(s string) {
	if d.err == nil {
		_, d.err = io.WriteString(d.w, s)
	}
}

// value writes v indented at depth levels.
func (d *docWriter) value(v any, depth int) {
	b, err := json.MarshalIndent(v, strings.Repeat(" ", depth), " ")
	if err != nil && d.err == nil {
		d.err = err
	}
	d.put(string(b))
}

func (d *docWriter) startCapture(c *capture) {
	if d.caps == 0 {
		d.put("{\n \"captures\": [\n")
	} else {
		d.put(",\n")
	}
	d.caps++
	d.put("  {\n   \"file\": ")
	d.value(c.File, 3)
	d.put(",\n   \"conns\": [")
	d.conns = 0
}

func (d *docWriter) conn(x *explain.Conn) {
	if d.conns > 0 {
		d.put(",")
	}
	d.conns++
	d.put("\n    ")
	d.value(x, 4)
}

func (d *docWriter) endCapture(c *capture) {
	if d.conns > 0 {
		d.put("\n   ")
	}
	d.put("]")
	if c.Summary != nil {
		d.put(",\n   \"summary\": ")
		d.value(c.Summary, 3)
	}
	if c.Error != "" {
		d.put(",\n   \"error\": ")
		d.value(c.Error, 3)
	}
	d.put("\n  }")
}

// finish writes the rest of the document: the fields of out after the
// captures.
func (d *docWriter) finish(out output) error {
	d.put("\n ]")
	b, err := json.MarshalIndent(out, " ", " ")
	if err != nil {
		return err
	}
	// out's fields, without its braces, after the captures.
	body := strings.TrimSuffix(strings.TrimPrefix(string(b), "{"), "\n }")
	if strings.TrimSpace(body) != "" {
		d.put("," + body)
	}
	d.put("\n}\n")
	return d.err
}

// text prints the conclusion, the caveats and the table.
func text(w io.Writer, out output, o options, at explain.WhatIf) error {
	wrap(w, "conclusion: ", out.Conclusion)
	if len(out.groups) > 0 {
		fmt.Fprintln(w, "capture quality (figures these issues undermine are not to be trusted):")
		for _, s := range groupCaveats(out.groups) {
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
func groupCaveats(gs []*caveatGroup) []string {
	var out []string
	for _, g := range gs {
		conns := strings.Join(g.conns, " ")
		if g.nconns > len(g.conns) {
			conns += fmt.Sprintf(" and %d more", g.nconns-len(g.conns))
		}
		name := strings.TrimPrefix(g.f.Check, "quality/")
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

// width is the terminal width the text keeps to.
const width = 120

// rowTable prints one row per connection or protocol, sorted, the first
// o.n of them and a line for the rest (for connections, those the pass
// did not keep), then the totals.
func rowTable(w io.Writer, out output, o options, at explain.WhatIf) error {
	rows := slices.Clone(out.Subjects)
	lost := func(r explain.Row) float64 { return findings.TimeLost(&r.Budget).Seconds() }
	if o.by == "proto" {
		switch o.sortBy {
		case "lost":
			slices.SortStableFunc(rows, func(a, b explain.Row) int { return cmp.Compare(lost(b), lost(a)) })
		case "duration":
			slices.SortStableFunc(rows, func(a, b explain.Row) int { return cmp.Compare(b.Duration, a.Duration) })
		}
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
		second := short(out.servers[r.Label], 28)
		if o.by == "proto" {
			second = fmt.Sprint(r.Conns)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%d\t%s\t%s\t%s\t%s\t%s\t", r.Label, second, r.Duration.Seconds(), lost(r), r.Turns,
			orDash(units.Ms(r.RTT), "%.1f"), orDash(r.MeanSegment, "%.0f"), orDash(100*r.SmallShare, "%.0f%%"),
			orDash(r.AcksPerSegment, "%.2f"), r.Limit)
		if r.Projected != nil {
			fmt.Fprintf(tw, "%.3f\t", r.Projected.Duration.Seconds())
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var n int
	var d, l float64
	for _, r := range rows[len(shown):] {
		n, d, l = n+1, d+r.Duration.Seconds(), l+lost(r)
	}
	if r := out.SubjectsRest; r != nil {
		n, d, l = n+r.Conns, d+r.Duration.Seconds(), l+lost(*r)
	}
	if n > 0 {
		more := "-n 0 shows all"
		if o.by == "conn" && (o.n == 0 || o.n > maxRows) {
			more = fmt.Sprintf("the table keeps %d rows", maxRows)
		}
		fmt.Fprintf(w, "... and %d more: %.3f s, %.3f s lost (%s)\n", n, d, l, more)
	}
	all := out.all.Row("all")
	count := all.Conns // rows of connections
	if o.by == "proto" {
		count = len(rows)
	}
	if count > 1 {
		fmt.Fprintf(w, "all %d: %.3f s of connection time, %.3f s lost to the network (round trips, windows, loss)\n",
			count, all.Duration.Seconds(), out.all.Lost().Seconds())
	}
	if at != (explain.WhatIf{}) {
		fmt.Fprintf(w, "projected (s) at %s  %.3f\n  round trips paid  %d\n", whatIfName(at), all.Projected.Duration.Seconds(), all.Projected.RoundTrips)
		projectionNotes(w, all.Projected)
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
	if at.Rate > 0 {
		parts = append(parts, fmt.Sprintf("%.0f kbit/s", float64(at.Rate)/1000))
	}
	switch {
	case at.LossKnown && at.LossS2CKnown:
		parts = append(parts, fmt.Sprintf("%g%%/%g%% loss (c2s/s2c)", 100*at.Loss, 100*at.LossS2C))
	case at.LossKnown:
		parts = append(parts, fmt.Sprintf("%g%% loss", 100*at.Loss))
	}
	if at.QueueFrames > 0 {
		parts = append(parts, fmt.Sprintf("queue %d", at.QueueFrames))
	}
	if at.RWnd > 0 {
		parts = append(parts, fmt.Sprintf("rwnd %d B", at.RWnd))
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
			switch {
			case shownZero(a, format) || shownZero(b, format):
				fmt.Fprint(tw, "-\t")
			case b/a < 0.01:
				fmt.Fprint(tw, "<0.01x\t") // never a ratio that reads as zero
			default:
				fmt.Fprintf(tw, "%.2fx\t", b/a)
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
	line("duration (s)", func(r *explain.Row) float64 { return r.Duration.Seconds() }, "%.3f")
	line("payload bytes", func(r *explain.Row) float64 { return float64(r.Bytes) }, "%.0f")
	line("data segments", func(r *explain.Row) float64 { return float64(r.Segments) }, "%.0f")
	line("mean segment (B)", func(r *explain.Row) float64 { return r.MeanSegment }, "%.1f")
	line("segments below MSS", func(r *explain.Row) float64 { return 100 * r.SmallShare }, "%.1f%%")
	line("ACKs per data segment", func(r *explain.Row) float64 { return r.AcksPerSegment }, "%.2f")
	line("application turns", func(r *explain.Row) float64 { return float64(r.Turns) }, "%.0f")
	line("round trips paid", func(r *explain.Row) float64 { return float64(r.RoundTrips) }, "%.0f")
	line("base RTT (ms)", func(r *explain.Row) float64 { return units.Ms(r.RTT) }, "%.1f")
	line("bottleneck (kbit/s)", func(r *explain.Row) float64 { return float64(r.Rate) / 1000 }, "%.0f")
	line("time lost to the network (s)", func(r *explain.Row) float64 { return findings.TimeLost(&r.Budget).Seconds() }, "%.3f")
	line("waiting on round trips (s)", func(r *explain.Row) float64 { return r.Budget.Waiting().Seconds() }, "%.3f")
	line("  handshake", func(r *explain.Row) float64 { return r.Budget.Handshake.Seconds() }, "%.3f")
	line("  application turns", func(r *explain.Row) float64 { return r.Budget.RoundTrip.Seconds() }, "%.3f")
	line("  window / ACK clock", func(r *explain.Row) float64 { return r.Budget.WindowWait.Seconds() }, "%.3f")
	line("client think (s)", func(r *explain.Row) float64 { return r.Budget.ClientThink.Seconds() }, "%.3f")
	line("server think (s)", func(r *explain.Row) float64 { return r.Budget.ServerThink.Seconds() }, "%.3f")
	line("transfer (s)", func(r *explain.Row) float64 { return r.Budget.Transfer.Seconds() }, "%.3f")
	line("receiver window (s)", func(r *explain.Row) float64 { return (r.Budget.ReceiverWindow + r.Budget.ZeroWindow).Seconds() }, "%.3f")
	line("loss recovery + RTO (s)", func(r *explain.Row) float64 { return (r.Budget.LossRecovery + r.Budget.RTO).Seconds() }, "%.3f")
	line("queueing (s)", func(r *explain.Row) float64 { return r.Budget.Queue().Seconds() }, "%.3f")
	line("  behind other traffic", func(r *explain.Row) float64 { return r.Budget.QueueCross.Seconds() }, "%.3f")
	fmt.Fprint(tw, "limited by\t")
	for _, r := range rows {
		fmt.Fprint(tw, r.Limit, "\t")
	}
	if ratio {
		fmt.Fprint(tw, "\t")
	}
	fmt.Fprintln(tw)
	if at == (explain.WhatIf{}) {
		return tw.Flush()
	}
	line("projected (s) at "+whatIfName(at), func(r *explain.Row) float64 { return r.Projected.Duration.Seconds() }, "%.3f")
	if ranged(rows) {
		line("  best case", func(r *explain.Row) float64 { return r.Projected.Best.Seconds() }, "%.3f")
		line("  worst case", func(r *explain.Row) float64 { return r.Projected.Worst.Seconds() }, "%.3f")
	}
	line("  round trips paid", func(r *explain.Row) float64 { return float64(r.Projected.RoundTrips) }, "%.0f")
	if err := tw.Flush(); err != nil {
		return err
	}
	var all explain.Projection
	for _, r := range rows {
		all.Add(*r.Projected)
	}
	projectionNotes(w, &all)
	return nil
}

// ranged reports whether any row's projection has a range.
func ranged(rows []explain.Row) bool {
	for _, r := range rows {
		if p := r.Projected; p != nil && (p.Best != p.Duration || p.Worst != p.Duration) {
			return true
		}
	}
	return false
}

// projectionNotes prints a projection's range, when it has one, and its
// assumptions.
func projectionNotes(w io.Writer, p *explain.Projection) {
	if p.Best != p.Duration || p.Worst != p.Duration {
		fmt.Fprintf(w, "  range (s)  %.3f to %.3f\n", p.Best.Seconds(), p.Worst.Seconds())
	}
	if p.Losses > 0 {
		fmt.Fprintf(w, "  losses priced  %.1f\n", p.Losses)
	}
	for _, a := range p.Assumptions {
		fmt.Fprintf(w, "  assuming %s\n", a)
	}
}

// shownZero reports whether v prints as zero in format: a ratio of a
// figure the table shows as 0.000 would read as nonsense (0.000 against
// 0.136 s of window waits is not "1992x").
func shownZero(v float64, format string) bool {
	x, err := strconv.ParseFloat(strings.TrimRight(fmt.Sprintf(format, v), "%"), 64)
	return err == nil && x == 0
}
