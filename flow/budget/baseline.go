package budget

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
)

// Class says how a baseline figure is compared with a new capture.
type Class uint8

// Classes of baseline figures.
const (
	// ClassCount: a count the workload decides (connections, requests,
	// transactions, application turns), compared exactly unless
	// Options.CountTolerance is given.
	ClassCount Class = iota
	// ClassAmount: a size or a count the network also shapes (bytes,
	// mean segment size, round trips paid: a loss recovery can take the
	// place of a round trip), compared with Options.Tolerance.
	ClassAmount
	// ClassTime: a duration, compared with Options.Tolerance.
	ClassTime
	// ClassTimePart: a part of the time budget (server think time), which
	// may grow by Options.Tolerance times the whole duration: its own
	// jitter is large next to its size, its weight in the session is not.
	ClassTimePart
)

var classNames = [...]string{"count", "amount", "time", "time_part"}

// String returns the class's name as baseline files write it.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// MarshalText makes a Class appear by name in JSON.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a Class by name.
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if n == string(b) {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("unknown class %q: want count, amount, time or time_part", b)
}

// regressionFigures are what Record snapshots, for the capture's
// connections as a whole and for each server (protocol and port): what
// the application pays on a WAN — round trips, segment sizes, bytes,
// server time — and its duration projected to a reference path, so that
// a capture taken over another RTT compares.
var regressionFigures = []struct {
	name  string
	expr  string
	class Class
	worse string
}{
	{"connections", "count", ClassCount, "higher"},
	{"requests", "sum(app.requests)", ClassCount, "higher"},
	{"transactions", "sum(app.transactions)", ClassCount, "higher"},
	{"application turns", "sum(app.turns)", ClassCount, "higher"},
	{"round trips paid", "sum(explain.model.round_trips)", ClassAmount, "higher"},
	{"bytes client to server", "sum(app.bytes_c2s)", ClassAmount, "higher"},
	{"bytes server to client", "sum(app.bytes_s2c)", ClassAmount, "higher"},
	{"bytes the capture missed", "sum(app.gap_bytes)", ClassAmount, "higher"},
	{"mean segment client to server", "sum(explain.segments_c2s.bytes) / sum(explain.segments_c2s.segments)", ClassAmount, "lower"},
	{"mean segment server to client", "sum(explain.segments_s2c.bytes) / sum(explain.segments_s2c.segments)", ClassAmount, "lower"},
	{"projected network time", "sum(projected.duration_s - projected.budget.client_think_s - projected.budget.server_think_s)", ClassTime, "higher"},
	{"server think", "sum(explain.budget.server_think_s)", ClassTimePart, "higher"},
	{"client think", "sum(explain.budget.client_think_s)", ClassTimePart, "higher"},
}

// wholeExpr is the whole duration that ClassTimePart figures are parts of:
// the projected duration.
const wholeExpr = "sum(projected.duration_s)"

// MaxGroups bounds the servers (protocol and port) Record keeps figures
// for; the rest are counted in Snapshot.GroupsDropped and covered by the
// figures of the capture as a whole.
const MaxGroups = 32

// Baseline is a baseline file: the snapshots of one or more traces.
type Baseline struct {
	// Version is 1.
	Version int        `json:"netecology_budget_baseline"`
	Traces  []Snapshot `json:"traces"`
}

// Snapshot is the figures Record took from one trace.
type Snapshot struct {
	// Trace is the file's base name.
	Trace string `json:"trace"`
	// At is the path the projected figures were recorded at; a capture
	// checked against the snapshot is projected to the same path.
	At PathSpec `json:"at"`
	// Figures are the regression figures, for the capture's connections
	// as a whole and per server.
	Figures []Figure `json:"figures"`
	// Checks are the values of the spec's checks that compare with the
	// baseline, for limits such as "<= baseline + 10%".
	Checks []CheckValue `json:"checks,omitempty"`
	// GroupsDropped counts servers beyond MaxGroups.
	GroupsDropped int `json:"groups_dropped,omitempty"`
}

// PathSpec is a path as budget and baseline files write it: a duration
// such as "150ms" and a rate in bit/s such as "2M" (either may be empty:
// the capture's own).
type PathSpec struct {
	RTT  string `json:"rtt,omitempty"`
	Rate string `json:"rate,omitempty"`
}

func pathSpec(w explain.WhatIf) PathSpec {
	var p PathSpec
	if w.RTT > 0 {
		p.RTT = w.RTT.String()
	}
	if w.Rate > 0 {
		p.Rate = trimFloat(float64(w.Rate))
	}
	return p
}

// Figure is one regression figure of a Snapshot.
type Figure struct {
	// Name names the figure, with the server it is about.
	Name string `json:"name"`
	// Where selects the connections (zero: all of them); Expr is the
	// value over them, in the check language.
	Where Selector `json:"where,omitzero"`
	Expr  string   `json:"expr"`
	// Class and Worse say how a new value compares: Worse is "higher"
	// when an increase is a regression, "lower" when a decrease is.
	Class Class  `json:"class"`
	Worse string `json:"worse"`
	// Value is the recorded value; Whole, for ClassTimePart, the
	// duration it is a part of.
	Value float64 `json:"value"`
	Whole float64 `json:"whole,omitempty"`
}

// CheckValue is the recorded value of a spec's check; Definition must
// still match the check (scope, selector, path and value expression) for
// it to be used.
type CheckValue struct {
	Name       string  `json:"name"`
	Definition string  `json:"definition"`
	Value      float64 `json:"value"`
}

// definition fingerprints what a check measures, not its limit: changing
// the limit keeps the baseline, changing the value needs a new one.
func definition(c *Check) string {
	return fmt.Sprintf("of=%s where=%s at=%s value=%s", c.Of, c.Where.String(), pathString(c.At), c.value.text)
}

// checkValue returns the recorded value of a baselined check.
func (s *Snapshot) checkValue(c *Check) (float64, error) {
	if s == nil {
		return 0, fmt.Errorf("check %q compares with the baseline: give a baseline (record one with the same budget file)", c.Name)
	}
	for _, v := range s.Checks {
		if v.Name != c.Name {
			continue
		}
		if v.Definition != definition(c) {
			return 0, fmt.Errorf("check %q measures %s, and the baseline of %s recorded %s: record the baseline again", c.Name, definition(c), s.Trace, v.Definition)
		}
		return v.Value, nil
	}
	return 0, fmt.Errorf("the baseline of %s has no value for check %q: record it with this budget file", s.Trace, c.Name)
}

// For returns the snapshot to check trace against: the only one, or the
// one recorded from a file of the same base name.
func (b *Baseline) For(trace string) (*Snapshot, error) {
	if len(b.Traces) == 1 {
		return &b.Traces[0], nil
	}
	base := filepath.Base(trace)
	var names []string
	for i := range b.Traces {
		if b.Traces[i].Trace == base {
			return &b.Traces[i], nil
		}
		names = append(names, b.Traces[i].Trace)
	}
	return nil, fmt.Errorf("the baseline has no snapshot of %s (it has %s)", base, strings.Join(names, ", "))
}

// regression compares a value with a baseline figure.
type regression struct {
	base, whole float64
	class       Class
	sign        float64 // +1: higher is worse; -1: lower is worse
	tol         float64
}

func (r *regression) slack() float64 {
	if r.class == ClassTimePart {
		return r.tol * math.Abs(r.whole)
	}
	return r.tol * math.Abs(r.base)
}

func (r *regression) worse(v float64) bool  { return r.sign*(v-r.base) > r.slack() }
func (r *regression) better(v float64) bool { return r.sign*(r.base-v) > r.slack() }

func (r *regression) change(v float64) float64 {
	if r.base == 0 {
		return 0
	}
	return v/r.base - 1
}

func (r *regression) describe() string {
	worse := "higher is worse"
	if r.sign < 0 {
		worse = "lower is worse"
	}
	switch {
	case r.class == ClassTimePart:
		return fmt.Sprintf("may grow by %s%% of the %.3f s duration, %s", trimFloat(100*r.tol), r.whole, worse)
	case r.tol == 0:
		return "compared exactly, " + worse
	}
	return fmt.Sprintf("tolerance %s%%, %s", trimFloat(100*r.tol), worse)
}

// addBaseline adds the snapshot's regression figures to the Checker.
func (c *Checker) addBaseline(s *Snapshot, opts Options) error {
	at, err := s.At.whatIf()
	if err != nil {
		return fmt.Errorf("baseline of %s: at: %w", s.Trace, err)
	}
	tol := opts.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	for i := range s.Figures {
		f := &s.Figures[i]
		v, aggs, err := compileValue(f.Expr, ScopeConns)
		if err != nil {
			return fmt.Errorf("baseline of %s: figure %q: %w", s.Trace, f.Name, err)
		}
		if f.Worse != "higher" && f.Worse != "lower" {
			return fmt.Errorf("baseline of %s: figure %q: worse is %q: want higher or lower", s.Trace, f.Name, f.Worse)
		}
		ev := c.newEvaluation(f.Name, ScopeConns, f.Where, at, v, aggs, f.Expr)
		r := &regression{base: f.Value, whole: f.Whole, class: f.Class, sign: 1, tol: tol}
		if f.Worse == "lower" {
			r.sign = -1
		}
		if f.Class == ClassCount {
			r.tol = opts.CountTolerance
		}
		ev.regress, ev.named = r, true
	}
	return nil
}

// whatIf reads the path.
func (p PathSpec) whatIf() (explain.WhatIf, error) {
	var w explain.WhatIf
	if p.RTT != "" {
		d, err := time.ParseDuration(p.RTT)
		if err != nil || d <= 0 {
			return w, fmt.Errorf("rtt %q: want a positive duration", p.RTT)
		}
		w.RTT = d
	}
	if p.Rate != "" {
		bits, err := units.ParseBitRate(p.Rate)
		if err != nil {
			return w, fmt.Errorf("rate %q: %w", p.Rate, err)
		}
		w.Rate = bits
	}
	return w, nil
}

// compileValue parses a value expression alone (no comparison).
func compileValue(text string, s Scope) (*expr, []*expr, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, nil, err
	}
	return parseValue(text, toks, s)
}

// RecordOptions tunes Record.
type RecordOptions struct {
	// At is the path the projected figures are recorded at. Zero means
	// the spec's at, else the path of the first connection that ends with
	// an RTT measurement (its base RTT and bottleneck rate).
	At explain.WhatIf
}

// Record reads a capture and snapshots its regression figures (see
// the package documentation) and, with a spec, the values of its checks
// that compare with the baseline, for a later check of a new capture of
// the same workload. A capture that cannot be read to its end, or a
// baselined check without a value, is an error.
func Record(r io.Reader, spec *Spec, opts RecordOptions) (*Snapshot, error) {
	c := &Checker{ex: explain.New(explain.Options{})}
	var checks []*Check
	if spec != nil {
		for i := range spec.Checks {
			ck := &spec.Checks[i]
			if !ck.Baselined() {
				continue
			}
			c.newEvaluation(ck.Name, ck.Of, ck.Where, ck.At, ck.value, ck.aggs, ck.Text)
			checks = append(checks, ck)
		}
	}
	at := opts.At
	if at == (explain.WhatIf{}) && spec != nil {
		at = spec.At
	}
	g, err := newGrouper(c, at)
	if err != nil {
		return nil, err
	}
	c.groups = g
	res, err := flow.Analyze(r, flow.Config{Consumers: []flow.Consumer{c}})
	if err != nil {
		return nil, err
	}
	rep := c.Report(res.Summary)
	snap := &Snapshot{At: pathSpec(c.paths[g.path]), GroupsDropped: g.dropped}
	for i, ck := range checks {
		res := rep.Results[i]
		if res.Absent != "" {
			return nil, fmt.Errorf("check %q has no value to record: %s", ck.Name, res.Absent)
		}
		snap.Checks = append(snap.Checks, CheckValue{Name: ck.Name, Definition: definition(ck), Value: res.Measured})
	}
	snap.Figures = g.figures(c.paths)
	return snap, nil
}

// RecordFile is Record on the named file; the snapshot's Trace is the
// file's base name.
func RecordFile(name string, spec *Spec, opts RecordOptions) (*Snapshot, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Record(f, spec, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.Trace = filepath.Base(name)
	return s, nil
}

// grouper keeps Record's regression figures for all connections and per
// server.
type grouper struct {
	all     *group
	keys    map[groupKey]*group
	list    []*group
	dropped int
	path    int
	learn   bool // the path is the first connection's
	compile []compiledFigure
	whole   compiledFigure
}

type compiledFigure struct {
	value *expr
	aggs  []*expr
}

type groupKey struct {
	proto string
	port  uint16
}

type group struct {
	where Selector
	evals []*evaluation
	whole *evaluation // the projected duration, the whole of the time parts
}

func newGrouper(c *Checker, at explain.WhatIf) (*grouper, error) {
	g := &grouper{keys: map[groupKey]*group{}, learn: at == (explain.WhatIf{})}
	c.paths = append(c.paths, at)
	c.proj = append(c.proj, explain.Projection{})
	g.path = len(c.paths) - 1
	for _, f := range regressionFigures {
		v, aggs, err := compileValue(f.expr, ScopeConns)
		if err != nil {
			return nil, fmt.Errorf("regression figure %q: %w", f.name, err) // a bug, caught by the tests
		}
		g.compile = append(g.compile, compiledFigure{v, aggs})
	}
	v, aggs, err := compileValue(wholeExpr, ScopeConns)
	if err != nil {
		return nil, fmt.Errorf("whole duration: %w", err)
	}
	g.whole = compiledFigure{v, aggs}
	g.all = g.newGroup(Selector{})
	return g, nil
}

func (g *grouper) newGroup(where Selector) *group {
	gr := &group{where: where}
	for i, f := range g.compile {
		gr.evals = append(gr.evals, makeEvaluation(regressionFigures[i].name, ScopeConns, where, g.path, f.value, f.aggs, f.value.text))
	}
	gr.whole = makeEvaluation("duration", ScopeConns, where, g.path, g.whole.value, g.whole.aggs, wholeExpr)
	return gr
}

// learnPath takes the path of the first connection with an RTT sample
// when Record was given none.
func (g *grouper) learnPath(c *Checker, ex *explain.Conn) {
	if g.learn && ex.RTTSamples > 0 {
		c.paths[g.path] = explain.WhatIf{RTT: ex.RTT, Rate: ex.Rate}
		g.learn = false
	}
}

// add feeds an ended connection to the figures of all connections and of
// its server's group.
func (g *grouper) add(c *Checker, conn *flow.Conn, proto string, id func() Item) {
	k := groupKey{proto, conn.Server.Port()}
	gr := g.keys[k]
	if gr == nil {
		if len(g.list) >= MaxGroups {
			g.dropped++
		} else {
			gr = g.newGroup(Selector{Proto: []string{proto}, ServerPort: []uint16{k.port}})
			g.keys[k] = gr
			g.list = append(g.list, gr)
		}
	}
	for _, gr := range []*group{g.all, gr} {
		if gr == nil {
			continue
		}
		for _, ev := range gr.evals {
			ev.add(&c.it, id)
		}
		gr.whole.add(&c.it, id)
	}
}

// figures returns the recorded figures: all of them for the capture's
// connections as a whole and, when they went to several servers, for
// each; with one server, its connection count alone (so that a capture
// of another server does not pass unnoticed).
func (g *grouper) figures(paths []explain.WhatIf) []Figure {
	var out []Figure
	emit := func(gr *group, only string) {
		var whole float64
		if r := gr.whole.result(paths); r.Absent == "" {
			whole = r.Measured
		}
		for i, f := range regressionFigures {
			if only != "" && f.name != only {
				continue
			}
			r := gr.evals[i].result(paths)
			if r.Absent != "" {
				continue // nothing to compare with (no data that way)
			}
			name := f.name
			if w := gr.where.String(); w != "" {
				name += " [" + w + "]"
			}
			fig := Figure{Name: name, Where: gr.where, Expr: f.expr, Class: f.class, Worse: f.worse, Value: r.Measured}
			if f.class == ClassTimePart {
				fig.Whole = whole
			}
			out = append(out, fig)
		}
	}
	emit(g.all, "")
	for _, gr := range g.list {
		if len(g.list) > 1 {
			emit(gr, "")
		} else {
			emit(gr, "connections")
		}
	}
	return out
}

// ParseBaseline reads a baseline file (the JSON that Record's snapshots
// make, as budget record writes it); name is used in messages. A mistake
// is a *SpecError naming the line and the field.
func ParseBaseline(name string, data []byte) (*Baseline, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	d := nodes{name}
	fields, err := d.mapping(root, "", "netecology_budget_baseline", "traces")
	if err != nil {
		return nil, err
	}
	b := &Baseline{}
	var traces *yaml.Node
	for _, f := range fields {
		switch f.key {
		case "netecology_budget_baseline":
			if v, err := d.scalar(f.v, f.key); err != nil || v != "1" {
				return nil, d.errf(f.v, f.key, "this version reads baselines of version 1")
			}
			b.Version = 1
		case "traces":
			traces = resolve(f.v)
		}
	}
	if b.Version != 1 {
		return nil, d.errf(root, "netecology_budget_baseline", "missing: not a baseline file (make one with budget record)")
	}
	if traces == nil || traces.Kind != yaml.SequenceNode || len(traces.Content) == 0 {
		return nil, d.errf(traces, "traces", "want a list of at least one snapshot")
	}
	for i, tn := range traces.Content {
		s, err := d.parseSnapshot(tn, fmt.Sprintf("traces[%d]", i))
		if err != nil {
			return nil, err
		}
		b.Traces = append(b.Traces, s)
	}
	return b, nil
}

// ParseBaselineFile is ParseBaseline on the named file.
func ParseBaselineFile(name string) (*Baseline, error) {
	data, err := readSpecFile(name)
	if err != nil {
		return nil, err
	}
	return ParseBaseline(name, data)
}

func (d nodes) parseSnapshot(n *yaml.Node, path string) (Snapshot, error) {
	var s Snapshot
	fields, err := d.mapping(n, path, "trace", "at", "figures", "checks", "groups_dropped")
	if err != nil {
		return s, err
	}
	for _, f := range fields {
		p := join(path, f.key)
		switch f.key {
		case "trace":
			s.Trace, err = d.scalar(f.v, p)
		case "at":
			s.At, err = d.parsePathSpec(f.v, p)
		case "groups_dropped":
			var v float64
			v, err = d.number(f.v, p)
			s.GroupsDropped = int(v)
		case "figures":
			s.Figures, err = d.parseFigures(f.v, p)
		case "checks":
			s.Checks, err = d.parseCheckValues(f.v, p)
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

func (d nodes) parsePathSpec(n *yaml.Node, path string) (PathSpec, error) {
	var p PathSpec
	fields, err := d.mapping(n, path, "rtt", "rate")
	if err != nil {
		return p, err
	}
	for _, f := range fields {
		v, err := d.scalar(f.v, join(path, f.key))
		if err != nil {
			return p, err
		}
		if f.key == "rtt" {
			p.RTT = v
		} else {
			p.Rate = v
		}
	}
	if _, err := p.whatIf(); err != nil {
		return p, d.errf(n, path, "%v", err)
	}
	return p, nil
}

// each calls f for each element of sequence n.
func (d nodes) each(n *yaml.Node, path string, f func(*yaml.Node, string) error) error {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return d.errf(n, path, "want a list")
	}
	for i, c := range n.Content {
		if err := f(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (d nodes) parseFigures(n *yaml.Node, path string) ([]Figure, error) {
	var out []Figure
	err := d.each(n, path, func(n *yaml.Node, path string) error {
		var fg Figure
		fields, err := d.mapping(n, path, "name", "where", "expr", "class", "worse", "value", "whole")
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, f := range fields {
			p := join(path, f.key)
			have[f.key] = true
			switch f.key {
			case "name":
				fg.Name, err = d.scalar(f.v, p)
			case "where":
				fg.Where, err = d.parseSelector(f.v, p, ScopeConns)
			case "expr":
				if fg.Expr, err = d.scalar(f.v, p); err == nil {
					if _, _, cerr := compileValue(fg.Expr, ScopeConns); cerr != nil {
						err = d.exprErr(f.v, p, fg.Expr, cerr)
					}
				}
			case "class":
				var s string
				if s, err = d.scalar(f.v, p); err == nil {
					if cerr := fg.Class.UnmarshalText([]byte(s)); cerr != nil {
						err = d.errf(f.v, p, "%v", cerr)
					}
				}
			case "worse":
				if fg.Worse, err = d.scalar(f.v, p); err == nil && fg.Worse != "higher" && fg.Worse != "lower" {
					err = d.errf(f.v, p, "want higher or lower, not %q", fg.Worse)
				}
			case "value":
				fg.Value, err = d.number(f.v, p)
			case "whole":
				fg.Whole, err = d.number(f.v, p)
			}
			if err != nil {
				return err
			}
		}
		for _, k := range []string{"name", "expr", "class", "worse", "value"} {
			if !have[k] {
				return d.errf(n, join(path, k), "missing")
			}
		}
		out = append(out, fg)
		return nil
	})
	return out, err
}

func (d nodes) parseCheckValues(n *yaml.Node, path string) ([]CheckValue, error) {
	var out []CheckValue
	err := d.each(n, path, func(n *yaml.Node, path string) error {
		var cv CheckValue
		fields, err := d.mapping(n, path, "name", "definition", "value")
		if err != nil {
			return err
		}
		if len(fields) != 3 {
			return d.errf(n, path, "want name, definition and value")
		}
		for _, f := range fields {
			p := join(path, f.key)
			switch f.key {
			case "name":
				cv.Name, err = d.scalar(f.v, p)
			case "definition":
				cv.Definition, err = d.scalar(f.v, p)
			case "value":
				cv.Value, err = d.number(f.v, p)
			}
			if err != nil {
				return err
			}
		}
		out = append(out, cv)
		return nil
	})
	return out, err
}
