package main

import (
	"fmt"
	"math"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/examples/internal/top"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// analysis is what the report knows of one capture. It holds what the
// page shows, not every connection: the connections summed
// (findings.Tally), those that lost most (ranked) and the rest counted,
// so that its memory is bounded whatever the capture holds.
type analysis struct {
	file    string   // as named
	files   []string // what is read (standard input spooled to a file)
	name    string
	summary flow.Summary
	format  flow.Format
	// tally sums every connection explained; ranked keeps the maxRanked
	// that lost most (byLost's order), rest the others.
	tally  *findings.Tally
	ranked []ranked
	rest   restSums
	// quality groups the capture-quality issues of the connections
	// explained, in first-seen order.
	quality []*qualityGroup
	// vantage counts the connections captured near the client and near
	// the server (series.CaptureNetworkDir).
	vantage [2]int
	// rate and rtt are the largest bottleneck rate (bit/s, rounded as a
	// target) and the smallest base RTT measured, the target's defaults.
	rate units.BitRate
	rtt  time.Duration
	// whatIf is the duration at other RTTs and rates (second pass).
	whatIf []findings.WhatIfRow
	lq     *linkq.Report
	ser    *series.Result
	// top is the connection drawn: the one that lost the most time, and
	// flow's view of it.
	top    *explain.Conn
	topFlw *flow.Conn
	tx     []appproto.Transaction
}

// ranked is a connection among those that lost most.
type ranked struct {
	x  *explain.Conn
	fc *flow.Conn
}

// restSums counts the connections beyond those ranked: how many, their
// duration and the time they lost to the network.
type restSums struct {
	n         int
	dur, lost time.Duration
}

// qualityGroup is one capture-quality issue: the connections that have
// it (the first qualityConns named), its count summed, what it affects.
type qualityGroup struct {
	issue  string
	conns  []string
	nconns int
	count  uint64
	text   string
}

// Bounds of what an analysis keeps.
const (
	// maxTx bounds the transactions kept for the table and the timeline.
	maxTx = 2000
	// qualityConns is how many connections a warning names.
	qualityConns = 10
)

// analyse makes two passes over each capture: the first explains its
// connections (and so picks the one to draw, and the target's defaults),
// the second, with the target, judges those shown (linkq), projects them
// all to other RTTs and rates and records the packets and transactions
// of the connection drawn. Errors are of captures that could not be read
// in full; their analysis covers what was read. Standard input is
// spooled to a temporary file, which done removes.
func analyse(o *options) (caps []*analysis, errs []error) {
	for _, f := range o.files {
		a := &analysis{file: f, files: cli.Files(f)}
		if f == "-" {
			name, remove, err := cli.Spool(o.stdin)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			defer remove()
			a.files = []string{name}
		}
		ok, err := a.first(o)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			caps = append(caps, a)
		}
	}
	tg := target(caps, o)
	for _, a := range caps {
		if err := a.second(tg, o); err != nil {
			errs = append(errs, err)
		}
	}
	return caps, errs
}

// maxRanked is how many connections of a capture are ranked: as many as
// any table shows.
func maxRanked(o *options) int { return max(o.top, budgetRows, verdictsShown) }

// pass runs flow over the capture with cons, a progress line on a
// terminal; it returns nil when nothing could be read.
func (a *analysis) pass(o *options, cons []flow.Consumer) (*flow.Result, error) {
	in, err := cli.Open(a.files, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.file, err)
	}
	defer in.Close()
	defer in.Progress(o.progress(), o.quiet, "report")()
	res, err := in.Analyze(flow.Config{Consumers: cons, Workers: o.workers, MaxConns: o.maxConns})
	if err != nil && len(a.files) == 1 {
		err = fmt.Errorf("%s: %w", a.file, err)
	}
	return res, err
}

// first explains the capture's connections as they end.
func (a *analysis) first(o *options) (bool, error) {
	a.name = cli.Name(cli.Files(a.file))
	a.tally = findings.NewTally(explain.WhatIf{})
	keep := top.New(maxRanked(o), func(p, q ranked) bool { return lostBefore(p.x, q.x) })
	ex := explain.New(explain.Options{})
	order := cli.Reorder[ranked]{Emit: func(r ranked) { a.add(r, keep) }}
	res, err := a.pass(o, []flow.Consumer{ex, &ended{ex: ex, emit: func(x *explain.Conn, fc *flow.Conn) {
		order.Add(fc.ID, ranked{x, fc})
	}}})
	if res == nil {
		return false, err
	}
	order.Flush()
	a.summary, a.format = res.Summary, res.Format
	a.ranked = keep.Sorted()
	if len(a.ranked) > 0 && a.ranked[0].x.Budget.Duration > 0 {
		a.top, a.topFlw = a.ranked[0].x, a.ranked[0].fc
	}
	return true, err
}

// add takes one connection of the first pass, in first-seen order.
func (a *analysis) add(r ranked, keep *top.Keeper[ranked]) {
	x, fc := r.x, r.fc
	if x == nil {
		return // explain saw no segment of it
	}
	a.tally.Add(x)
	if out, dropped := keep.Add(r); dropped {
		a.rest.n++
		a.rest.dur += out.x.Budget.Duration
		a.rest.lost += findings.TimeLost(&out.x.Budget)
	}
	switch fc.Vantage {
	case tcpstate.VantageClient:
		a.vantage[0]++
	case tcpstate.VantageServer:
		a.vantage[1]++
	}
	a.rate = max(a.rate, units.BitRate(round3(float64(x.Rate))))
	if rtt := x.RTT; rtt > 0 && (a.rtt == 0 || rtt < a.rtt) {
		a.rtt = rtt
	}
	for _, q := range fc.Quality {
		a.noteQuality(x.ID, q)
	}
}

func (a *analysis) noteQuality(id int, q tcpstate.Quality) {
	k := q.Issue.String()
	var g *qualityGroup
	for _, x := range a.quality {
		if x.issue == k {
			g = x
		}
	}
	if g == nil {
		g = &qualityGroup{issue: k, text: q.Affects}
		a.quality = append(a.quality, g)
	}
	if g.nconns < qualityConns {
		g.conns = append(g.conns, fmt.Sprintf("#%d", id))
	}
	g.nconns++
	g.count += q.Count
}

// ended is a pass's consumer after its Explainer: each connection with
// its explanation as it ends. It is a flow.Forker whose forks do nothing:
// the Explainer's root has the explanation when ended's ConnEnd comes.
type ended struct {
	ex   *explain.Explainer
	emit func(*explain.Conn, *flow.Conn)
}

func (*ended) Packet(*flow.PacketInfo)     {}
func (e *ended) ConnEnd(c *flow.Conn)      { e.emit(e.ex.Ended(), c) }
func (*ended) Fork() flow.Consumer         { return flow.ConnFunc(func(*flow.Conn) {}) }
func (*ended) Merge(forks []flow.Consumer) {}

// second judges the connections shown against the target, projects
// every connection to the what-if table's RTTs and rates, and records
// what the figures of the top connection need.
func (a *analysis) second(tg linkq.Target, o *options) error {
	cfg := series.Config{Width: 10 * time.Millisecond}
	tx := &txLog{conn: -1}
	if a.top != nil {
		cfg.Conns = []int{a.top.ID}
		tx.conn = a.top.ID
	}
	col := series.NewCollector(cfg)
	judged := map[int]bool{}
	for _, r := range a.ranked[:min(verdictsShown, len(a.ranked))] {
		judged[r.x.ID] = true
	}
	lq := linkq.New(linkq.Config{Target: tg, NoTCPSamples: true, Judge: func(c *flow.Conn) bool { return judged[c.ID] }})
	ex := explain.New(explain.Options{})
	wi := findings.NewWhatIfTally(whatIfRTTs, whatIfRates(tg))
	order := cli.Reorder[*explain.Conn]{Emit: func(x *explain.Conn) {
		if x != nil {
			wi.Add(x)
		}
	}}
	res, err := a.pass(o, []flow.Consumer{col, lq, tx, ex, &ended{ex: ex, emit: func(x *explain.Conn, fc *flow.Conn) {
		order.Add(fc.ID, x)
	}}})
	if res == nil {
		return err
	}
	order.Flush()
	a.ser, a.lq, a.tx, a.whatIf = col.Result(), lq.Report(), tx.kept, wi.Rows()
	a.lq.Summary = res.Summary
	return err
}

// lostBefore is byLost's order: the connection that lost more time to
// the network first, then the longer (then, as the Keeper breaks ties,
// the one seen first).
func lostBefore(x, y *explain.Conn) bool {
	if lx, ly := findings.TimeLost(&x.Budget), findings.TimeLost(&y.Budget); lx != ly {
		return lx > ly
	}
	return x.Budget.Duration > y.Budget.Duration
}

// byLost returns the ranked connections' explanations, the first n.
func (a *analysis) byLost(n int) []*explain.Conn {
	var out []*explain.Conn
	for _, r := range a.ranked[:min(n, len(a.ranked))] {
		out = append(out, r.x)
	}
	return out
}

// target is the verdict's target: the options', or by default the largest
// bottleneck rate and the smallest base RTT measured in the captures.
func target(caps []*analysis, o *options) linkq.Target {
	tg := linkq.Target{RTT: o.targetRTT, Rate: o.targetRate}
	for _, a := range caps {
		if o.targetRate == 0 {
			tg.Rate = max(tg.Rate, a.rate)
		}
		if o.targetRTT == 0 && a.rtt > 0 && (tg.RTT == 0 || a.rtt < tg.RTT) {
			tg.RTT = a.rtt
		}
	}
	return tg
}

// round3 rounds a measured rate to three significant digits, as a target
// is given: 2 001 000 bit/s is 2 Mbit/s.
func round3(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-2)
	return math.Round(v/p) * p
}

// txLog keeps the first maxTx transactions of one connection, as
// appproto paired them. It is a flow.Forker: the connection is in one
// shard, whose fork keeps them in completion order.
type txLog struct {
	conn int
	kept []appproto.Transaction
}

var _ flow.Forker = (*txLog)(nil)

// Packet does nothing.
func (*txLog) Packet(*flow.PacketInfo) {}

// ConnEnd does nothing.
func (*txLog) ConnEnd(*flow.Conn) {}

// Transaction keeps t if it is of the connection and there is room.
func (l *txLog) Transaction(c *flow.Conn, t *appproto.Transaction) {
	if c.ID == l.conn && len(l.kept) < maxTx {
		l.kept = append(l.kept, *t)
	}
}

// Fork returns a txLog for one shard.
func (l *txLog) Fork() flow.Consumer { return &txLog{conn: l.conn} }

// Merge takes the transactions of the fork that had the connection.
func (l *txLog) Merge(forks []flow.Consumer) {
	for _, f := range forks {
		if t, ok := f.(*txLog); ok {
			l.kept = append(l.kept, t.kept...)
		}
	}
	if len(l.kept) > maxTx {
		l.kept = l.kept[:maxTx]
	}
}

// label names a connection in the report: "file #id proto".
func (a *analysis) label(c *explain.Conn) string {
	return fmt.Sprintf("%s #%d %s", a.name, c.ID, c.Proto)
}
