package budget

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
)

// Spec is a budget: the checks a trace must pass. Make one with Parse or
// ParseFile.
type Spec struct {
	// File is the name the spec was read from, for messages.
	File string
	// At is the default path (base RTT and bottleneck rate) for checks of
	// projected.* figures that do not give their own.
	At explain.WhatIf
	// Checks are the checks in file order.
	Checks []Check
}

// MaxCheckLength bounds the text of one check.
const MaxCheckLength = 1024

// Check is one check of a Spec.
type Check struct {
	// Name names the check in reports and in baselines; it defaults to
	// the check's text.
	Name string
	// Of is what the check's items are; Where selects among them.
	Of    Scope
	Where Selector
	// At is the path projected.* figures are projected to (zero when the
	// check reads none).
	At explain.WhatIf
	// Text is the check as written: a value expression, a comparison and
	// a limit, such as "p95(server_time_s) <= 40ms".
	Text string
	// Line is the check's line in its file.
	Line int

	value  *expr
	aggs   []*expr
	limit  limit
	prefix string // path of the check in its file, for messages
	named  bool   // Name was given
}

// Baselined reports whether the check's limit refers to a baseline value.
func (c *Check) Baselined() bool { return c.limit.baseline }

// limit is a check's comparison and limit.
type limit struct {
	op       string  // "<=", "<", ">=", ">", "==", "within"
	bound    float64 // in the value's unit, for an absolute limit
	baseline bool    // the bound is the baseline value...
	pct      float64 // ...moved by pct (a fraction, signed), or within ±pct
	text     string  // as written
	percent  bool    // the bound was written in %
}

// Parse reads a budget from data, YAML or JSON; name is used in messages.
// A mistake is a *SpecError naming the line and the field.
//
// The file's shape:
//
//	at: {rtt: 150ms, rate: 2M}     # default path for projected.* figures (optional)
//	checks:
//	  - name: order report at 150 ms  # optional; defaults to the check's text
//	    of: conns                     # conns (default), transactions or capture
//	    where: {proto: postgres}      # selector (optional)
//	    at: {rtt: 150ms}              # path for this check (optional)
//	    check: sum(projected.duration_s) <= 5s
//
// See the package documentation for the check language.
func Parse(name string, data []byte) (*Spec, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	d := nodes{name}
	fields, err := d.mapping(root, "", "version", "at", "checks")
	if err != nil {
		return nil, err
	}
	spec := &Spec{File: name}
	var checks *yaml.Node
	for _, f := range fields {
		switch f.key {
		case "version":
			if v, err := d.scalar(f.v, "version"); err != nil || v != "1" {
				return nil, d.errf(f.v, "version", "this version reads budget files of version 1")
			}
		case "at":
			if spec.At, err = d.parsePath(f.v, "at"); err != nil {
				return nil, err
			}
		case "checks":
			checks = resolve(f.v)
		}
	}
	if checks == nil || checks.Kind != yaml.SequenceNode || len(checks.Content) == 0 {
		return nil, d.errf(checks, "checks", "want a list of at least one check")
	}
	names := map[string]int{}
	for i, cn := range checks.Content {
		c, err := d.parseCheck(cn, fmt.Sprintf("checks[%d]", i), spec.At)
		if err != nil {
			return nil, err
		}
		if j, dup := names[c.Name]; dup {
			return nil, d.errf(cn, c.prefix, "check %q has the name of checks[%d]: give one of them a name", c.Name, j)
		}
		names[c.Name] = i
		spec.Checks = append(spec.Checks, c)
	}
	return spec, nil
}

// ParseFile is Parse on the named file.
func ParseFile(name string) (*Spec, error) {
	data, err := readSpecFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// parseCheck reads one check; at is the spec's default path.
func (d nodes) parseCheck(n *yaml.Node, path string, at explain.WhatIf) (Check, error) {
	c := Check{prefix: path, Line: n.Line}
	fields, err := d.mapping(n, path, "name", "of", "where", "at", "check")
	if err != nil {
		return c, err
	}
	var whereNode, checkNode, atNode *yaml.Node
	for _, f := range fields {
		switch f.key {
		case "name":
			if c.Name, err = d.scalar(f.v, path+".name"); err != nil {
				return c, err
			}
		case "of":
			s, err := d.scalar(f.v, path+".of")
			if err != nil {
				return c, err
			}
			var ok bool
			if c.Of, ok = parseScope(s); !ok {
				return c, d.errf(f.v, path+".of", "unknown scope %q: want conns, transactions or capture", s)
			}
		case "where":
			whereNode = f.v
		case "at":
			atNode = f.v
		case "check":
			checkNode = f.v
		}
	}
	if whereNode != nil {
		if c.Where, err = d.parseSelector(whereNode, path+".where", c.Of); err != nil {
			return c, err
		}
	}
	if checkNode == nil {
		return c, d.errf(n, path+".check", "missing: say what to check, such as \"check: sum(app.turns) <= 10\"")
	}
	if c.Text, err = d.scalar(checkNode, path+".check"); err != nil {
		return c, err
	}
	if len(c.Text) > MaxCheckLength {
		return c, d.errf(checkNode, path+".check", "%d bytes: longer than the %d a check may have", len(c.Text), MaxCheckLength)
	}
	if err := c.compile(); err != nil {
		return c, d.exprErr(checkNode, path+".check", c.Text, err)
	}
	c.named = c.Name != ""
	if c.Name == "" {
		c.Name = c.Text
		if w := c.Where.String(); w != "" {
			c.Name += " [" + w + "]"
		}
	}
	proj := c.value.usesProjection()
	switch {
	case atNode != nil && !proj:
		return c, d.errf(atNode, path+".at", "the check reads no projected.* figure")
	case atNode != nil:
		if c.At, err = d.parsePath(atNode, path+".at"); err != nil {
			return c, err
		}
	case proj && at == (explain.WhatIf{}):
		return c, d.errf(checkNode, path+".check", "projected.* figures need a path: give at: {rtt: ..., rate: ...} in the check or at the top of the file")
	case proj:
		c.At = at
	}
	return c, nil
}

// exprErr places an error in a check's text.
func (d nodes) exprErr(n *yaml.Node, path, text string, err error) error {
	var ee *exprError
	if !errors.As(err, &ee) {
		return d.errf(n, path, "%v", err)
	}
	e := d.errf(n, path, "%s (in %q at %q)", ee.msg, text, rest(text, ee.pos)).(*SpecError)
	if n.Style == 0 && !strings.Contains(text, "\n") {
		e.Column += ee.pos
	}
	return e
}

func rest(s string, pos int) string {
	if pos >= len(s) {
		return "the end"
	}
	s = s[pos:]
	if len(s) > 24 {
		s = s[:24] + "..."
	}
	return s
}

// parsePath reads {rtt: DURATION, rate: BITRATE}.
func (d nodes) parsePath(n *yaml.Node, path string) (explain.WhatIf, error) {
	var w explain.WhatIf
	fields, err := d.mapping(n, path, "rtt", "rate")
	if err != nil {
		return w, err
	}
	for _, f := range fields {
		p := join(path, f.key)
		s, err := d.scalar(f.v, p)
		if err != nil {
			return w, err
		}
		switch f.key {
		case "rtt":
			if w.RTT, err = time.ParseDuration(s); err != nil || w.RTT <= 0 {
				return w, d.errf(f.v, p, "want a positive duration such as 150ms: %q", s)
			}
		case "rate":
			bits, err := units.ParseBitRate(s)
			if err != nil {
				return w, d.errf(f.v, p, "want a rate in bit/s such as 2M, 512k or 64000: %q", s)
			}
			w.Rate = bits
		}
	}
	if w == (explain.WhatIf{}) {
		return w, d.errf(n, path, "give rtt, rate or both")
	}
	return w, nil
}

// compile parses the check's text: a value expression, then a comparison
// and its limit.
func (c *Check) compile() error {
	toks, err := lex(c.Text)
	if err != nil {
		return err
	}
	cut, depth := -1, 0
	for i, t := range toks {
		switch {
		case t.kind == tokOp && t.text == "(":
			depth++
		case t.kind == tokOp && t.text == ")":
			depth--
		case depth == 0 && (t.kind == tokCmp || t.kind == tokIdent && t.text == "within"):
			cut = i
		}
		if cut >= 0 {
			break
		}
	}
	if cut < 0 {
		return &exprError{len(c.Text), "no comparison: write the value, then <=, <, >=, >, == or within, then the limit"}
	}
	lhs := append(toks[:cut:cut], token{kind: tokEOF, pos: toks[cut].pos})
	v, aggs, err := parseValue(c.Text, lhs, c.Of)
	if err != nil {
		return err
	}
	c.value, c.aggs = v, aggs
	c.limit, err = parseLimit(c.Text, toks[cut:], v.unit)
	if err != nil {
		return err
	}
	if c.limit.baseline && len(aggs) == 0 {
		return &exprError{toks[cut].pos, "a comparison with the baseline needs an aggregate (sum, mean, p95...): the baseline keeps one value"}
	}
	return nil
}

// parseValue parses a value expression for scope s.
func parseValue(src string, toks []token, s Scope) (*expr, []*expr, error) {
	p := &parser{src: src, toks: toks, figs: s.figures(), scope: s}
	e, err := p.parseExpr()
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, nil, p.errf(t.pos, "unexpected %q", t.text)
	}
	if len(p.aggs) > 0 && p.figsN > 0 {
		return nil, nil, p.errf(0, "a figure outside an aggregate next to an aggregate: put it inside one, such as sum(FIGURE)")
	}
	if len(p.aggs) == 0 && p.figsN == 0 {
		return nil, nil, p.errf(0, "the value names no figure")
	}
	e.text = strings.TrimSpace(src[:toks[len(toks)-1].pos])
	return e, p.aggs, nil
}

// parseLimit reads the comparison and limit from toks (starting at the
// comparison); u is the value's unit.
func parseLimit(src string, toks []token, u unit) (limit, error) {
	l := limit{text: strings.TrimSpace(src[toks[0].pos:])}
	lp := &limitParser{toks: toks, i: 1}
	var err error
	switch op := toks[0]; {
	case op.kind == tokIdent: // within [±] N% [of baseline]
		l.op, l.baseline = "within", true
		l.pct, err = lp.within()
	case toks[1].kind == tokIdent && toks[1].text == "baseline":
		l.op, l.baseline = op.text, true
		lp.i++
		l.pct, err = lp.baselineShift()
	default:
		l.op = op.text
		l.bound, l.percent, err = lp.bound(op.text, u)
	}
	if err != nil {
		return l, err
	}
	if t := lp.toks[lp.i]; t.kind != tokEOF {
		return l, &exprError{t.pos, fmt.Sprintf("unexpected %q after the limit", t.text)}
	}
	return l, nil
}

// limitParser reads a limit's tokens.
type limitParser struct {
	toks []token
	i    int
}

func (lp *limitParser) next() token { t := lp.toks[lp.i]; lp.i++; return t }

// within reads "[±] N% [of baseline]" and returns N/100.
func (lp *limitParser) within() (float64, error) {
	t := lp.next()
	if t.kind == tokOp && t.text == "±" {
		t = lp.next()
	}
	if t.kind != tokNum || t.unit != "%" {
		return 0, &exprError{t.pos, "want a percentage after within, such as within ±5% of baseline"}
	}
	if t := lp.toks[lp.i]; t.kind == tokIdent && t.text == "of" {
		lp.i++
		if b := lp.next(); b.kind != tokIdent || b.text != "baseline" {
			return 0, &exprError{b.pos, "want \"of baseline\""}
		}
	}
	return t.num / 100, nil
}

// baselineShift reads an optional "+ N%" or "- N%" after baseline.
func (lp *limitParser) baselineShift() (float64, error) {
	s := lp.toks[lp.i]
	if s.kind != tokOp || s.text != "+" && s.text != "-" {
		return 0, nil
	}
	lp.i++
	p := lp.next()
	if p.kind != tokNum || p.unit != "%" {
		return 0, &exprError{p.pos, "want a percentage, such as baseline + 10%"}
	}
	if s.text == "-" {
		return -p.num / 100, nil
	}
	return p.num / 100, nil
}

// bound reads a number with its unit ("5s", "5 s", "-3", "20 %") in unit u.
func (lp *limitParser) bound(op string, u unit) (float64, bool, error) {
	t := lp.next()
	neg := t.kind == tokOp && t.text == "-"
	if neg {
		t = lp.next()
	}
	if t.kind != tokNum {
		return 0, false, &exprError{t.pos, fmt.Sprintf("want a number (with its unit) or baseline after %s", op)}
	}
	if n := lp.toks[lp.i]; t.unit == "" && (n.kind == tokPct || n.kind == tokIdent && isUnit(n.text)) {
		t.unit = n.text
		lp.i++
	}
	v, err := convert(t.num, t.unit, u)
	if err != nil {
		return 0, false, &exprError{t.pos, err.Error()}
	}
	if neg {
		v = -v
	}
	return v, t.unit == "%", nil
}

var (
	timeUnits = map[string]float64{"s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60}
	sizeUnits = map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
)

func isUnit(s string) bool { return timeUnits[s] != 0 || sizeUnits[s] != 0 }

// convert brings a limit written with unit suffix into the value's unit u.
func convert(v float64, suffix string, u unit) (float64, error) {
	switch suffix {
	case "":
		return v, nil
	case "%":
		if u == unitFraction || u == unitRatio || u == unitNumber {
			return v / 100, nil
		}
		return 0, fmt.Errorf("%% limits a share or a ratio, and this value is in %s", u)
	}
	if f, ok := timeUnits[suffix]; ok {
		switch u {
		case unitSeconds:
			return v * f, nil
		case unitMillis:
			return v * f * 1e3, nil
		}
		return 0, fmt.Errorf("%q is a time, and this value is in %s", suffix, u)
	}
	if f, ok := sizeUnits[suffix]; ok {
		if u != unitBytes {
			return 0, fmt.Errorf("%q is a size, and this value is in %s", suffix, u)
		}
		return v * f, nil
	}
	return 0, fmt.Errorf("unknown unit %q (times: s, ms, us, min; sizes: B, kB, MB, GB, KiB, MiB, GiB; shares: %%)", suffix)
}

// pass reports whether value v meets limit l against baseline value base.
func (l *limit) pass(v, base float64) bool {
	b := l.resolve(base)
	switch l.op {
	case "<=":
		return v <= b
	case "<":
		return v < b
	case ">=":
		return v >= b
	case ">":
		return v > b
	case "==":
		return v == b
	}
	return math.Abs(v-base) <= l.pct*math.Abs(base) // within
}

// resolve returns the limit's bound, given the baseline value.
func (l *limit) resolve(base float64) float64 {
	if l.baseline {
		return base * (1 + l.pct)
	}
	return l.bound
}

// badness orders values from best to worst for this limit, to name the
// item that broke it.
func (l *limit) badness(v, base float64) float64 {
	switch l.op {
	case "<=", "<":
		return v
	case ">=", ">":
		return -v
	case "==":
		return math.Abs(v - l.resolve(base))
	}
	return math.Abs(v - base)
}

// describe writes the limit with its bound resolved, in unit u.
func (l *limit) describe(base float64, u unit) string {
	if !l.baseline {
		return l.op + " " + format(l.bound, u)
	}
	if l.op == "within" {
		return fmt.Sprintf("within ±%s of baseline %s", trimFloat(100*l.pct)+"%", format(base, u))
	}
	s := l.op + " baseline " + format(base, u)
	if l.pct != 0 {
		s = fmt.Sprintf("%s %+g%% = %s", s, 100*l.pct, format(l.resolve(base), u))
	}
	return s
}

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
