package budget

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
)

// DefaultTolerance is how far a time or a size may move beyond its
// baseline before it is a regression, when Options.Tolerance is zero.
const DefaultTolerance = 0.10

// Options tunes a Checker. Its zero value checks a Spec without baseline.
type Options struct {
	// Baseline holds the figures recorded from an earlier capture of the
	// same workload (Record): the values of the spec's checks that
	// compare with the baseline, and the figures that a regression
	// check compares (see Class).
	Baseline *Snapshot
	// Tolerance is the relative change (0.1 = 10 %) a time or a size may
	// show beyond its baseline before it is a regression; a part of the
	// time budget may grow by Tolerance times the whole duration. Zero
	// means DefaultTolerance.
	Tolerance float64
	// CountTolerance is the same for the counts of the workload
	// (connections, requests, transactions, turns). Zero compares them
	// exactly.
	CountTolerance float64
}

// Checker checks a budget over one pass of flow.Analyzer: it is a
// flow.TransactionConsumer to list in flow.Config.Consumers, and Report
// gives the results after the pass. It explains the connections itself,
// with an explain.Explainer of its own (for the explain and projected
// figures, and for the protocol selectors: appproto's identification,
// else explain's guess from the server port).
//
// Memory: per check, a fixed state plus, for each quantile aggregate, at
// most MaxSamples values; per connection, what the Explainer holds while
// it is live. Connections and transactions are judged as they end and not
// kept. A Checker is not safe for concurrent use and is not a
// flow.Forker: a pass with it runs on one goroutine.
type Checker struct {
	ex     *explain.Explainer
	paths  []explain.WhatIf
	evals  []*evaluation
	scoped [3][]*evaluation
	it     item
	proj   []explain.Projection
	first  time.Time
	last   time.Time
	seen   bool
	groups *grouper // Record's per-server figures, nil when checking
	report *Report
}

// evaluation is the state of one check over a pass.
type evaluation struct {
	name    string
	of      Scope
	where   Selector
	path    int // index in Checker.paths, -1 for none
	value   *expr
	aggs    []*expr
	lim     limit
	regress *regression // a baseline figure, instead of lim
	base    float64     // the baseline value, for a baselined limit
	text    string      // the value expression as written
	rep     string      // the check's full text, for reports
	figures bool        // an aggregate reads a figure (not count alone)
	named   bool        // the name is not the check's text

	accs    []accumulator
	quant   []bool // accs[i] keeps a quantile sample
	items   int    // items selected
	failing int    // per-item checks: items that broke the limit
	lacking int    // per-item checks: items without the value
	why     absent // the first lacking item's reason
	worst   Item
	worstB  float64
	hasW    bool
}

// NewChecker returns a Checker for spec (nil for none: a Checker of
// opts.Baseline's figures alone). A check that compares with the baseline
// needs opts.Baseline to hold its value, recorded by Record with the same
// check; a Checker with nothing to check is an error.
func NewChecker(spec *Spec, opts Options) (*Checker, error) {
	c := &Checker{ex: explain.New(explain.Options{})}
	if spec != nil {
		for i := range spec.Checks {
			ck := &spec.Checks[i]
			ev := c.newEvaluation(ck.Name, ck.Of, ck.Where, ck.At, ck.value, ck.aggs, ck.Text)
			ev.lim, ev.named = ck.limit, ck.named
			if ck.limit.baseline {
				v, err := opts.Baseline.checkValue(ck)
				if err != nil {
					return nil, err
				}
				ev.base = v
			}
		}
	}
	if opts.Baseline != nil {
		if err := c.addBaseline(opts.Baseline, opts); err != nil {
			return nil, err
		}
	}
	if len(c.evals) == 0 {
		return nil, errors.New("budget: nothing to check: no check and no baseline")
	}
	return c, nil
}

// newEvaluation adds an evaluation to the Checker.
func (c *Checker) newEvaluation(name string, of Scope, where Selector, at explain.WhatIf, value *expr, aggs []*expr, text string) *evaluation {
	path := -1
	if value.usesProjection() {
		path = c.pathIndex(at)
	}
	ev := makeEvaluation(name, of, where, path, value, aggs, text)
	c.evals = append(c.evals, ev)
	c.scoped[of] = append(c.scoped[of], ev)
	return ev
}

// makeEvaluation returns the state of a check of value (with aggregates
// aggs) over the items of scope of selected by where.
func makeEvaluation(name string, of Scope, where Selector, path int, value *expr, aggs []*expr, text string) *evaluation {
	ev := &evaluation{name: name, of: of, where: where, path: path, value: value, aggs: aggs, text: value.text, rep: text,
		accs: make([]accumulator, len(aggs)), quant: make([]bool, len(aggs))}
	for i, a := range aggs {
		ev.quant[i] = a.agg == aggQuantile
		ev.figures = ev.figures || a.agg != aggCount
	}
	return ev
}

// pathIndex returns the index of path w, adding it.
func (c *Checker) pathIndex(w explain.WhatIf) int {
	for i, p := range c.paths {
		if p == w {
			return i
		}
	}
	c.paths = append(c.paths, w)
	c.proj = append(c.proj, explain.Projection{})
	return len(c.paths) - 1
}

// Packet feeds one packet to the Checker's explanation of its connection
// and notes the capture's first and last timestamps.
func (c *Checker) Packet(p *flow.PacketInfo) {
	if p.Skip != flow.SkipTimestamp {
		if !c.seen || p.Time.Before(c.first) {
			c.first = p.Time
		}
		if !c.seen || p.Time.After(c.last) {
			c.last = p.Time
		}
		c.seen = true
	}
	c.ex.Packet(p)
}

// Transaction judges one application transaction against the checks of
// transactions.
func (c *Checker) Transaction(conn *flow.Conn, t *appproto.Transaction) {
	c.ex.Transaction(conn, t)
	if len(c.scoped[ScopeTransactions]) == 0 {
		return
	}
	c.it = item{txn: t}
	for _, ev := range c.scoped[ScopeTransactions] {
		if ev.where.matchTxn(conn, t) {
			ev.add(&c.it, func() Item {
				return Item{Conn: conn.ID, Client: conn.Client, Server: conn.Server, Proto: t.Proto,
					Transaction: t.ID, Verb: t.Verb, FirstPacket: t.FirstPacket, LastPacket: t.LastPacket}
			})
		}
	}
}

// ConnEnd judges an ended connection against the checks of connections.
func (c *Checker) ConnEnd(conn *flow.Conn) {
	c.ex.ConnEnd(conn)
	ex := c.ex.Ended()
	proto := conn.Proto
	if ex != nil {
		proto = ex.Proto
		if c.groups != nil {
			c.groups.learnPath(c, ex)
		}
		for i, p := range c.paths {
			c.proj[i] = ex.Project(p.RTT, p.Rate)
		}
	}
	c.it = item{conn: conn, ex: ex, proj: c.proj}
	id := func() Item {
		return Item{Conn: conn.ID, Client: conn.Client, Server: conn.Server, Proto: proto,
			FirstPacket: conn.FirstPacket, LastPacket: conn.LastPacket}
	}
	for _, ev := range c.scoped[ScopeConns] {
		if ev.where.matchEnds(conn, proto) {
			ev.add(&c.it, id)
		}
	}
	if c.groups != nil {
		c.groups.add(c, conn, proto, id)
	}
}

// add judges one selected item.
func (ev *evaluation) add(it *item, id func() Item) {
	ev.items++
	if len(ev.aggs) == 0 { // judged per item
		v, why := ev.value.evalItem(it, ev.path, false)
		if why != "" {
			if ev.lacking == 0 {
				ev.why = why
			}
			ev.lacking++
			return
		}
		if !ev.judge(v) {
			ev.failing++
		}
		ev.note(v, id)
		return
	}
	for i, a := range ev.aggs {
		if a.agg == aggCount {
			ev.accs[i].add(1, false)
			continue
		}
		v, why := a.l.evalItem(it, ev.path, false)
		if why != "" {
			ev.accs[i].skip(why)
			continue
		}
		ev.accs[i].add(v, ev.quant[i])
	}
	if ev.figures {
		if v, why := ev.value.evalItem(it, ev.path, true); why == "" {
			ev.note(v, id)
		}
	}
}

// note keeps the item if it is the worst so far.
func (ev *evaluation) note(v float64, id func() Item) {
	b := ev.badness(v)
	if !ev.hasW || b > ev.worstB {
		ev.worst, ev.worstB, ev.hasW = id(), b, true
		ev.worst.Value = v
	}
}

func (ev *evaluation) judge(v float64) bool {
	if ev.regress != nil {
		return !ev.regress.worse(v)
	}
	return ev.lim.pass(v, ev.base)
}

func (ev *evaluation) badness(v float64) float64 {
	if ev.regress != nil {
		return ev.regress.sign * v
	}
	return ev.lim.badness(v, ev.base)
}

// Report returns the results of the pass, once it is over (after
// flow.Analyzer.Close); summary is the pass's packet accounting
// (flow.Analyzer.Summary), which the checks of the capture read. Later
// calls return the same report.
func (c *Checker) Report(summary flow.Summary) *Report {
	if c.report != nil {
		return c.report
	}
	it := item{summary: &summary}
	if c.seen {
		it.capDur = c.last.Sub(c.first).Seconds()
	}
	for _, ev := range c.scoped[ScopeCapture] {
		ev.add(&it, func() Item { return Item{} })
	}
	r := &Report{}
	for _, ev := range c.evals {
		r.add(ev.result(c.paths))
	}
	c.report = r
	return r
}

// result judges the evaluation at the end of the pass.
func (ev *evaluation) result(paths []explain.WhatIf) Result {
	u := ev.value.unit
	if ev.lim.percent && (u == unitRatio || u == unitNumber) {
		u = unitFraction // shown in % as the limit was written
	}
	res := Result{Check: ev.name, Text: ev.rep, Value: ev.text, Of: ev.of, Where: ev.where.String(),
		Items: ev.items, Unit: ev.value.unit.String(), unit: u, PerItem: len(ev.aggs) == 0, named: ev.named,
		regression: ev.regress != nil, pinpoint: ev.pinpoints()}
	if ev.path >= 0 {
		res.At = pathString(paths[ev.path])
	}
	if ev.regress != nil {
		res.Baseline = &ev.regress.base
	} else if ev.lim.baseline {
		res.Baseline = &ev.base
	}
	var v float64
	var why absent
	if len(ev.aggs) == 0 {
		switch {
		case ev.items == 0:
			why = absent(fmt.Sprintf("no %s selected", ev.of.singular()))
		case ev.lacking == ev.items:
			why = absent(fmt.Sprintf("no %s has a value: %s", ev.of.singular(), ev.why))
		default:
			v = ev.worst.Value
		}
		res.Failing, res.Lacking = ev.failing, ev.lacking
	} else {
		if v, why = ev.value.evalFinal(ev.accs); ev.items == 0 && (ev.figures || ev.regress != nil && ev.where.String() != "") {
			why = absent(fmt.Sprintf("no %s selected", ev.of.singular()))
		}
	}
	res.Measured = v
	if ev.regress != nil {
		res.Limit = ev.regress.describe()
	} else {
		res.Limit = ev.lim.describe(ev.base, u)
	}
	if why != "" {
		res.Absent = string(why)
		return res
	}
	if ev.regress != nil {
		res.Change = ev.regress.change(v)
		res.Pass = !ev.regress.worse(v)
		res.Improved = ev.regress.better(v)
	} else {
		res.Pass = ev.judge(v)
		if ev.lim.baseline && ev.base != 0 {
			res.Change = v/ev.base - 1
		}
	}
	if ev.hasW && ev.of != ScopeCapture && (!res.Pass || len(ev.aggs) == 0 && ev.items > 1) {
		w := ev.worst
		res.Worst = &w
	}
	return res
}

// pinpoints reports whether the value is the worst item's own (a check
// judged per item, a max or a min), so that the worst item is the one that
// broke the limit; of a sum, a quantile or a ratio it is only the worst
// item.
func (ev *evaluation) pinpoints() bool {
	if len(ev.aggs) == 0 {
		return true
	}
	return ev.value.op == 'a' && (ev.value.agg == aggMin || ev.value.agg == aggMax)
}

// Item names a connection or transaction a check singled out: the one
// that broke the limit (or came closest), with its own value of the
// check's expression (the expression over a selection of that item
// alone).
type Item struct {
	Conn        int            `json:"conn"`
	Client      netip.AddrPort `json:"client"`
	Server      netip.AddrPort `json:"server"`
	Proto       string         `json:"proto,omitempty"`
	Transaction int            `json:"transaction,omitempty"`
	Verb        string         `json:"verb,omitempty"`
	FirstPacket uint64         `json:"first_packet"`
	LastPacket  uint64         `json:"last_packet"`
	Value       float64        `json:"value"`
}

// String describes the item, such as "conn 1 10.0.0.1:40000 -> 10.0.0.2:5432
// postgres (packets 1-417)".
func (it *Item) String() string {
	s := fmt.Sprintf("conn %d %s -> %s", it.Conn, it.Client, it.Server)
	if it.Proto != "" {
		s += " " + it.Proto
	}
	if it.Transaction > 0 {
		s += fmt.Sprintf(" transaction %d", it.Transaction)
		if it.Verb != "" {
			s += " " + it.Verb
		}
	}
	return s + fmt.Sprintf(" (packets %d-%d)", it.FirstPacket, it.LastPacket)
}
