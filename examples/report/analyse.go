package main

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/examples/internal/findings"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/series"
)

// analysis is what the report knows of one capture.
type analysis struct {
	file  string
	name  string
	res   *flow.Result
	conns []*explain.Conn // by ID
	flows map[int]*flow.Conn
	lq    *linkq.Report
	ser   *series.Result
	// top is the connection drawn: the one that lost the most time.
	top *explain.Conn
	tx  []appproto.Transaction
}

// maxTx bounds the transactions kept for the table and the timeline.
const maxTx = 2000

// analyse makes two passes over each capture: the first explains its
// connections (and so picks the one to draw, and the target's defaults),
// the second, with the target, judges them (linkq) and records the
// packets and transactions of the connection drawn. Errors are of
// captures that could not be read in full; their analysis covers what was
// read.
func analyse(o *options) ([]*analysis, []error) {
	var caps []*analysis
	var errs []error
	for _, f := range o.files {
		a, err := first(f, o.workers)
		if err != nil {
			errs = append(errs, err)
		}
		if a != nil {
			caps = append(caps, a)
		}
	}
	tg := target(caps, o)
	for _, a := range caps {
		if err := a.second(tg, o.workers); err != nil {
			errs = append(errs, err)
		}
	}
	return caps, errs
}

// first explains the capture's connections.
func first(file string, workers int) (*analysis, error) {
	ex := explain.New(explain.Options{Keep: true})
	res, err := flow.AnalyzeFile(file, flow.Config{Consumers: []flow.Consumer{ex}, KeepConns: true, Workers: workers})
	if res == nil {
		return nil, err
	}
	a := &analysis{file: file, name: filepath.Base(file), res: res, flows: map[int]*flow.Conn{}}
	a.conns = slices.Clone(ex.Conns())
	slices.SortFunc(a.conns, func(x, y *explain.Conn) int { return cmp.Compare(x.ID, y.ID) })
	for _, fc := range res.Conns {
		a.flows[fc.ID] = fc
	}
	for _, c := range byLost(a.conns) {
		if c.Budget.DurationS > 0 {
			a.top = c
			break
		}
	}
	return a, err
}

// second judges the connections against the target and records what the
// figures of the top connection need.
func (a *analysis) second(tg linkq.Target, workers int) error {
	cfg := series.Config{Width: 10 * time.Millisecond}
	tx := &txLog{conn: -1}
	if a.top != nil {
		cfg.Conns = []int{a.top.ID}
		tx.conn = a.top.ID
	}
	col := series.NewCollector(cfg)
	lq := linkq.New(linkq.Config{Target: tg, NoTCPSamples: true})
	res, err := flow.AnalyzeFile(a.file, flow.Config{Consumers: []flow.Consumer{col, lq, tx}, Workers: workers})
	if res == nil {
		return err
	}
	a.ser, a.lq, a.tx = col.Result(), lq.Report(), tx.kept
	a.lq.Summary = res.Summary
	return err
}

// byLost returns the connections sorted by the time they lost to the
// network, the most first (then the longest, then by ID).
func byLost(conns []*explain.Conn) []*explain.Conn {
	out := slices.Clone(conns)
	slices.SortStableFunc(out, func(x, y *explain.Conn) int {
		if c := cmp.Compare(findings.TimeLost(&y.Budget), findings.TimeLost(&x.Budget)); c != 0 {
			return c
		}
		return cmp.Compare(y.Budget.DurationS, x.Budget.DurationS)
	})
	return out
}

// target is the verdict's target: the options', or by default the largest
// bottleneck rate and the smallest base RTT measured in the captures.
func target(caps []*analysis, o *options) linkq.Target {
	tg := linkq.Target{RTT: o.targetRTT, Rate: o.targetRate}
	for _, a := range caps {
		for _, c := range a.conns {
			if o.targetRate == 0 {
				tg.Rate = max(tg.Rate, round3(c.RateBps*8))
			}
			if rtt := time.Duration(c.RTTms * float64(time.Millisecond)); o.targetRTT == 0 && rtt > 0 && (tg.RTT == 0 || rtt < tg.RTT) {
				tg.RTT = rtt
			}
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
