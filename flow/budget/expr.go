package budget

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// aggKind is an aggregate over the selected items.
type aggKind uint8

const (
	aggCount aggKind = iota
	aggSum
	aggMean
	aggMin
	aggMax
	aggQuantile // pNN
)

// expr is a node of a check's value expression.
//
//	expr   = term { ("+" | "-") term }
//	term   = factor { ("*" | "/") factor }
//	factor = NUMBER | FIGURE | "count" | AGG "(" expr ")" | "(" expr ")" | "-" factor
//	AGG    = "sum" | "mean" | "min" | "max" | "p50" | "p95" | "p" 1..99
//
// An expression with aggregates is evaluated once over the selected
// items; its figures must sit inside aggregates, which do not nest. An
// expression without aggregates is evaluated for each item.
type expr struct {
	op   byte // 'n' number, 'f' figure, 'a' aggregate, '+', '-', '*', '/', '~' negation
	num  float64
	fig  *figure
	agg  aggKind
	q    float64 // quantile, 0..1, for aggQuantile
	slot int     // the aggregate's accumulator in the check's state
	l, r *expr
	unit unit
	text string // source, for messages
}

// exprError is a mistake in a check's text at byte offset pos.
type exprError struct {
	pos int
	msg string
}

func (e *exprError) Error() string { return e.msg }

// token kinds.
const (
	tokEOF = iota
	tokNum
	tokIdent
	tokOp // + - * / ( )
	tokCmp
	tokPct // %
)

type token struct {
	kind int
	text string
	pos  int // where it starts in the text
	end  int // where it ends
	num  float64
	unit string // letters right after a number: s, ms, %...
}

// lex splits a check's text into tokens.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		var t token
		var err error
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			t, err = lexNumber(s, i)
		case isLetter(c) || c == '_':
			t = lexIdent(s, i)
		default:
			t, err = lexSymbol(s, i)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		i = t.end
	}
	return append(out, token{kind: tokEOF, pos: len(s), end: len(s)}), nil
}

// lexNumber reads a number at s[i:] and the unit letters right after it.
func lexNumber(s string, i int) (token, error) {
	j := i
	for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
		j++
	}
	if j+1 < len(s) && (s[j] == 'e' || s[j] == 'E') && (isDigit(s[j+1]) || s[j+1] == '-' || s[j+1] == '+') {
		j += 2
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	v, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil || math.IsInf(v, 0) {
		return token{}, &exprError{i, fmt.Sprintf("bad number %q", s[i:j])}
	}
	k := j
	for k < len(s) && (isLetter(s[k]) || s[k] == '%') {
		k++
	}
	if strings.HasPrefix(s[k:], "µs") {
		k += len("µs")
	}
	return token{kind: tokNum, text: s[i:k], pos: i, end: k, num: v, unit: s[j:k]}, nil
}

// lexIdent reads a name: a figure (dotted, with [i] indexes), an aggregate
// or a word of the comparison.
func lexIdent(s string, i int) token {
	j := i
	for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || strings.IndexByte("_.[]", s[j]) >= 0) {
		j++
	}
	return token{kind: tokIdent, text: s[i:j], pos: i, end: j}
}

// lexSymbol reads an operator or a comparison.
func lexSymbol(s string, i int) (token, error) {
	for _, op := range []string{"<=", ">=", "==", "<", ">"} {
		if strings.HasPrefix(s[i:], op) {
			return token{kind: tokCmp, text: op, pos: i, end: i + len(op)}, nil
		}
	}
	for _, pm := range []string{"±", "+-"} {
		if strings.HasPrefix(s[i:], pm) {
			return token{kind: tokOp, text: "±", pos: i, end: i + len(pm)}, nil
		}
	}
	if strings.IndexByte("+-*/()", s[i]) >= 0 {
		return token{kind: tokOp, text: s[i : i+1], pos: i, end: i + 1}, nil
	}
	if s[i] == '%' {
		return token{kind: tokPct, text: "%", pos: i, end: i + 1}, nil
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	msg := fmt.Sprintf("unexpected %q", r)
	switch r {
	case '≤', '≥', '≠', '=', '!':
		msg += ": the comparisons are <=, <, >=, >, == and within"
	}
	return token{}, &exprError{i, msg}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parser reads a value expression from tokens, resolving figures in figs.
type parser struct {
	src   string
	toks  []token
	i     int
	figs  *figureSet
	scope Scope
	aggs  []*expr // the aggregates, in slot order
	figsN int     // figures outside aggregates
	inAgg bool
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) errf(pos int, format string, a ...any) error {
	return &exprError{pos, fmt.Sprintf(format, a...)}
}

func (p *parser) parseExpr() (*expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 50 {
		return nil, p.errf(p.peek().pos, "expression nested too deeply")
	}
	l, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tokOp && (t.text == "+" || t.text == "-"); t = p.peek() {
		p.next()
		r, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		if l, err = p.binary(t, l, r); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (p *parser) parseTerm() (*expr, error) {
	l, err := p.parseFactor()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tokOp && (t.text == "*" || t.text == "/"); t = p.peek() {
		p.next()
		r, err := p.parseFactor()
		if err != nil {
			return nil, err
		}
		if l, err = p.binary(t, l, r); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// binary combines l and r with operator t, working out the unit.
func (p *parser) binary(t token, l, r *expr) (*expr, error) {
	e := &expr{op: t.text[0], l: l, r: r}
	switch e.op {
	case '+', '-':
		switch {
		case l.unit == r.unit:
			e.unit = l.unit
		case l.unit == unitNumber:
			e.unit = r.unit
		case r.unit == unitNumber:
			e.unit = l.unit
		default:
			return nil, p.errf(t.pos, "%q combines %s with %s", t.text, l.unit, r.unit)
		}
	case '*':
		switch {
		case l.unit == unitNumber:
			e.unit = r.unit
		case r.unit == unitNumber:
			e.unit = l.unit
		default:
			e.unit = unitNumber
		}
	case '/':
		switch {
		case r.unit == unitNumber || r.unit == unitCount && l.unit != unitCount:
			e.unit = l.unit
		case l.unit == r.unit:
			e.unit = unitRatio
		default:
			e.unit = unitNumber
		}
	}
	return e, nil
}

func (p *parser) parseFactor() (*expr, error) {
	t := p.next()
	switch t.kind {
	case tokNum:
		if t.unit != "" {
			return nil, p.errf(t.pos, "%q: units belong in the limit, after the comparison", t.text)
		}
		return &expr{op: 'n', num: t.num, unit: unitNumber, text: t.text}, nil
	case tokOp:
		switch t.text {
		case "(":
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.kind != tokOp || c.text != ")" {
				return nil, p.errf(c.pos, "want \")\"")
			}
			return e, nil
		case "-":
			e, err := p.parseFactor()
			if err != nil {
				return nil, err
			}
			return &expr{op: '~', l: e, unit: e.unit}, nil
		}
	case tokIdent:
		return p.ident(t)
	}
	if t.kind == tokEOF {
		return nil, p.errf(t.pos, "expression ends early")
	}
	return nil, p.errf(t.pos, "unexpected %q", t.text)
}

// ident is a figure name, count, or an aggregate applied to an expression.
func (p *parser) ident(t token) (*expr, error) {
	if t.text == "count" {
		if n := p.peek(); n.kind == tokOp && n.text == "(" {
			p.next()
			if c := p.next(); c.kind != tokOp || c.text != ")" {
				return nil, p.errf(c.pos, "count takes no argument: count or count()")
			}
		}
		if p.inAgg {
			return nil, p.errf(t.pos, "count inside an aggregate")
		}
		e := &expr{op: 'a', agg: aggCount, unit: unitCount, text: "count", slot: len(p.aggs)}
		p.aggs = append(p.aggs, e)
		return e, nil
	}
	if agg, q, ok := aggregate(t.text); ok {
		if n := p.peek(); n.kind != tokOp || n.text != "(" {
			return nil, p.errf(n.pos, "%s needs a figure in parentheses: %s(FIGURE)", t.text, t.text)
		}
		if p.inAgg {
			return nil, p.errf(t.pos, "aggregates do not nest (%s inside an aggregate)", t.text)
		}
		p.next()
		p.inAgg = true
		inner, err := p.parseExpr()
		p.inAgg = false
		if err != nil {
			return nil, err
		}
		c := p.next()
		if c.kind != tokOp || c.text != ")" {
			return nil, p.errf(c.pos, "want \")\" to close %s(", t.text)
		}
		e := &expr{op: 'a', agg: agg, q: q, l: inner, unit: inner.unit, slot: len(p.aggs),
			text: p.src[t.pos : c.pos+1]}
		p.aggs = append(p.aggs, e)
		return e, nil
	}
	f := p.figs.byName[t.text]
	if f == nil {
		msg := fmt.Sprintf("unknown figure %q for %s", t.text, p.scope.plural())
		if s := p.figs.suggest(t.text); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return nil, p.errf(t.pos, "%s", msg)
	}
	if !p.inAgg {
		p.figsN++
	}
	return &expr{op: 'f', fig: f, unit: f.unit, text: t.text}, nil
}

// aggregate recognises an aggregate's name.
func aggregate(name string) (aggKind, float64, bool) {
	switch name {
	case "sum":
		return aggSum, 0, true
	case "mean":
		return aggMean, 0, true
	case "min":
		return aggMin, 0, true
	case "max":
		return aggMax, 0, true
	case "median":
		return aggQuantile, 0.5, true
	}
	if len(name) >= 2 && len(name) <= 3 && name[0] == 'p' {
		if n, err := strconv.Atoi(name[1:]); err == nil && n >= 1 && n <= 99 && name[1] != '0' {
			return aggQuantile, float64(n) / 100, true
		}
	}
	return 0, 0, false
}

// absent says why an expression has no value.
type absent string

// evalItem evaluates an expression without aggregates on one item (an
// aggregate's argument, or a check evaluated per item). In single mode an
// aggregate stands for its argument and count for 1: the expression's
// value on a selection of that one item.
func (e *expr) evalItem(it *item, path int, single bool) (float64, absent) {
	switch e.op {
	case 'n':
		return e.num, ""
	case 'f':
		v, ok := e.fig.value(it, path)
		if !ok {
			return 0, absent(fmt.Sprintf("no %s", e.fig.name))
		}
		return v, ""
	case 'a':
		if e.agg == aggCount {
			return 1, ""
		}
		return e.l.evalItem(it, path, single)
	case '~':
		v, why := e.l.evalItem(it, path, single)
		return -v, why
	}
	a, why := e.l.evalItem(it, path, single)
	if why != "" {
		return 0, why
	}
	b, why := e.r.evalItem(it, path, single)
	if why != "" {
		return 0, why
	}
	return arith(e.op, a, b, e.r)
}

// evalFinal evaluates an expression with aggregates from their results.
func (e *expr) evalFinal(accs []accumulator) (float64, absent) {
	switch e.op {
	case 'n':
		return e.num, ""
	case 'a':
		return accs[e.slot].result(e)
	case '~':
		v, why := e.l.evalFinal(accs)
		return -v, why
	case 'f':
		return 0, "figure outside an aggregate" // rejected when parsed
	}
	a, why := e.l.evalFinal(accs)
	if why != "" {
		return 0, why
	}
	b, why := e.r.evalFinal(accs)
	if why != "" {
		return 0, why
	}
	return arith(e.op, a, b, e.r)
}

func arith(op byte, a, b float64, r *expr) (float64, absent) {
	switch op {
	case '+':
		return a + b, ""
	case '-':
		return a - b, ""
	case '*':
		return a * b, ""
	}
	if b == 0 {
		return 0, absent(fmt.Sprintf("division by zero (%s is 0)", r.source()))
	}
	return a / b, ""
}

// source returns the text of e for messages.
func (e *expr) source() string {
	if e.text != "" {
		return e.text
	}
	switch e.op {
	case '~':
		return "-" + e.l.source()
	case '+', '-', '*', '/':
		return e.l.source() + " " + string(e.op) + " " + e.r.source()
	}
	return "?"
}

// usesProjection reports whether e reads a projected figure.
func (e *expr) usesProjection() bool {
	if e == nil {
		return false
	}
	if e.op == 'f' {
		return e.fig.root == rootProjection
	}
	return e.l.usesProjection() || e.r.usesProjection()
}
