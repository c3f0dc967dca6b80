package main

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// report is what the page shows, section by section.
type report struct {
	Title      string
	Conclusion string
	Captures   []captureRow
	Warnings   []string
	Target     string
	Verdicts   []verdictBlock
	Budget     budgetChart
	WhatIf     whatIfTable
	Conns      connTable
	Tx         []txTable
	Figures    []figure
}

type captureRow struct {
	File, Format, First, Span   string
	Packets, TCPPackets, Conns  uint64
	Other                       string
	TopLabel, TopLimit, TopLost string
}

// verdictBlock is the verdict lines of one connection.
type verdictBlock struct {
	Heading string
	Lines   []verdictLine
}

type verdictLine struct {
	Class, Word, Check, Message, Action, Tests, Model string
	Figures                                           []findings.Figure
}

// build makes the report of the analysed captures.
func build(caps []*analysis, o *options) (*report, error) {
	r := &report{}
	names := make([]string, len(caps))
	for i, a := range caps {
		names[i] = a.name
	}
	r.Title = "netecology report: " + strings.Join(names, " vs ")
	r.Conclusion = conclusion(caps)
	tg := target(caps, o)
	r.Target = targetText(tg, o)
	for _, a := range caps {
		r.Captures = append(r.Captures, captureInfo(a))
		r.Warnings = append(r.Warnings, warnings(a)...)
		r.Verdicts = append(r.Verdicts, verdicts(a, tg)...)
		if t, ok := transactions(a); ok {
			r.Tx = append(r.Tx, t)
		}
	}
	r.Budget = budgets(caps, o.top)
	r.WhatIf = whatIf(caps)
	r.Conns = connections(caps, o.top)
	figs, notes, err := figures(caps)
	if err != nil {
		return nil, err
	}
	r.Figures = figs
	r.Warnings = append(r.Warnings, notes...)
	return r, nil
}

// conclusion is the sentence of the report: the comparison of two
// captures, the explanation of one, or for a capture without TCP its
// echoes.
func conclusion(caps []*analysis) string {
	var echoes []string
	for _, a := range caps {
		if a.tally.Len() == 0 && a.lq != nil {
			if s := findings.Echoes(a.lq); s != "" {
				echoes = append(echoes, a.name+": "+s)
			}
		}
	}
	switch {
	case len(echoes) == len(caps):
		return strings.Join(echoes, ". ")
	case len(caps) == 2:
		return findings.CompareTallies(caps[0].name, caps[0].tally, caps[1].name, caps[1].tally)
	}
	return caps[0].tally.Capture()
}

// targetText says what the network verdict was judged against.
func targetText(tg linkq.Target, o *options) string {
	if tg.RTT <= 0 || tg.Rate <= 0 {
		return "No target for the network verdict (loss, window, MSS): the captures give no bottleneck rate or RTT to default to; " +
			"give -target-rate and -target-rtt."
	}
	s := fmt.Sprintf("Network verdict against a target of %s at %s RTT", tg.Rate.String(), findings.Millis(tg.RTT))
	var from []string
	if o.targetRate == 0 {
		from = append(from, "the rate is the largest bottleneck measured")
	}
	if o.targetRTT == 0 {
		from = append(from, "the RTT the smallest base RTT measured")
	}
	if len(from) > 0 {
		s += " (" + strings.Join(from, ", ") + "; set them with -target-rate and -target-rtt)"
	}
	return s + "."
}

func captureInfo(a *analysis) captureRow {
	s := a.summary
	row := captureRow{File: a.name, Format: string(a.format), Packets: s.Packets, TCPPackets: s.TCPPackets, Conns: uint64(s.Connections)}
	if a.ser != nil && a.ser.Packets > 0 {
		row.First = a.ser.First.UTC().Format("2006-01-02 15:04:05.000 UTC")
		row.Span = findings.Secs(a.ser.Last.Sub(a.ser.First))
	}
	var other []string
	for k, v := range s.Other {
		other = append(other, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(other)
	row.Other = strings.Join(other, ", ")
	if a.top != nil {
		row.TopLabel = a.label(a.top)
		row.TopLimit = findings.LimitPhrase(a.top.Limit)
		row.TopLost = findings.Secs(findings.TimeLost(&a.top.Budget))
	}
	return row
}

// warnings are the capture-quality issues, grouped by issue, and the
// packets the analysis could not use.
func warnings(a *analysis) []string {
	var out []string
	for _, g := range a.quality {
		conns, more := g.conns, ""
		if g.nconns > len(conns) {
			more = fmt.Sprintf(" and %d more", g.nconns-len(conns))
		}
		out = append(out, fmt.Sprintf("%s: %s (%d, on connection %s%s): %s", a.name, strings.ReplaceAll(g.issue, "_", " "), g.count,
			strings.Join(conns, " "), more, g.text))
	}
	for k, v := range a.summary.Skipped {
		out = append(out, fmt.Sprintf("%s: %d packets could not be analysed (%s)", a.name, v, strings.ReplaceAll(k, "_", " ")))
	}
	return out
}

// verdictsShown is how many connections of a capture get verdict lines.
const verdictsShown = 3

// verdicts are the verdict lines of the connections that lost the most
// time: explain's checks and linkq's.
func verdicts(a *analysis, tg linkq.Target) []verdictBlock {
	var out []verdictBlock
	lv := map[int]linkq.Verdict{}
	if a.lq != nil {
		for _, v := range a.lq.Verdicts {
			lv[v.Conn] = v
		}
	}
	for _, c := range a.byLost(verdictsShown) {
		b := verdictBlock{Heading: fmt.Sprintf("%s: %s → %s, %s, %s lost to the network", a.label(c), c.Client, c.Server,
			findings.Secs(c.Budget.Duration), findings.Secs(findings.TimeLost(&c.Budget)))}
		fs := findings.Checks(c)
		fs = append(fs, findings.FromQueue(c, tg.RTT, tg.Rate)...)
		if v, ok := lv[c.ID]; ok {
			fs = append(fs, findings.FromVerdict(v)...)
		}
		for _, f := range fs {
			b.Lines = append(b.Lines, line(f))
		}
		out = append(out, b)
	}
	if a.tally.Len() == 0 && a.lq != nil && a.lq.Echo.Requests > 0 {
		out = append(out, echoVerdict(a))
	}
	return out
}

// echoVerdict reports a capture of echoes: lost and corrupted ones.
func echoVerdict(a *analysis) verdictBlock {
	e := a.lq.Echo
	f := findings.Finding{Check: "echoes", Level: linkq.Pass,
		Message: fmt.Sprintf("%d echo requests, %d answered, %d lost, %d corrupted, %d late", e.Requests, e.Matched, e.Lost, e.Corrupted, e.Late),
		Tests:   "whether every echo request (ICMP, ICMPv6, UDP echo) got its reply, with the same data, in time",
		Model:   "linkq's echo matching: requests and replies paired by identifier and sequence (UDP: by data); a reply's data compared to the request's",
		Figures: []findings.Figure{{Name: "requests", Value: fmt.Sprint(e.Requests)}, {Name: "matched", Value: fmt.Sprint(e.Matched)}}}
	if e.Lost+e.Corrupted > 0 {
		f.Level = linkq.Warning
		f.Action = "find where the echoes are lost or damaged: a lossy or corrupting link"
	}
	return verdictBlock{Heading: a.name + ": echoes", Lines: []verdictLine{line(f)}}
}

func line(f findings.Finding) verdictLine {
	return verdictLine{Class: f.Level.String(), Word: strings.ToUpper(f.Level.String()), Check: f.Check, Message: f.Message,
		Action: f.Action, Tests: f.Tests, Model: f.Model, Figures: f.Figures}
}

// budgetChart is the time budget of the connections, one stacked bar
// each, on one time scale.
type budgetChart struct {
	Rows   []budgetRow
	Legend []budgetPart
	// More counts the connections not shown.
	More    int
	MoreDur string
	Scale   string
}

type budgetRow struct {
	Label, Duration, Lost string
	Y                     int
	Parts                 []budgetPart
}

type budgetPart struct {
	Label, Secs, Color string
	X, W               float64 // in percent of the chart's width
}

// causeColors are the bars' colours by cause (Okabe-Ito, and greys for
// the ends' own time); a cause without one gets one of extra.
var causeColors = map[string]string{
	"transfer": "#009E73", "handshake": "#56B4E9", "round_trip": "#0072B2", "window_wait": "#E69F00",
	"receiver_window": "#CC79A7", "zero_window": "#882255", "loss_recovery": "#D55E00", "rto": "#8B0000",
	"client_think": "#BBBBBB", "server_think": "#888888",
}

var extra = []string{"#F0E442", "#332288", "#44AA99", "#999933", "#AA4499"}

// budgetRows is how many connections get a bar.
const budgetRows = 12

func budgets(caps []*analysis, top int) budgetChart {
	type item struct {
		a *analysis
		c *explain.Conn
	}
	var all []item
	total := 0
	var restDur time.Duration // of the connections not ranked
	for _, a := range caps {
		for _, c := range a.byLost(len(a.ranked)) {
			all = append(all, item{a, c})
		}
		total += a.tally.Len()
		restDur += a.rest.dur
	}
	var ch budgetChart
	n := min(len(all), budgetRows, top)
	var longest time.Duration
	for _, it := range all[:n] {
		longest = max(longest, it.c.Budget.Duration)
	}
	ch.Scale = findings.Secs(longest)
	used := map[explain.Cause]bool{}
	for i, it := range all[:n] {
		b := &it.c.Budget
		row := budgetRow{Label: it.a.label(it.c), Duration: findings.Secs(b.Duration), Lost: findings.Secs(findings.TimeLost(b)), Y: i * 26}
		x := 0.0
		for _, k := range findings.Causes() {
			s := b.Part(k)
			if s <= 0 || longest <= 0 {
				continue
			}
			w := 100 * s.Seconds() / longest.Seconds()
			row.Parts = append(row.Parts, budgetPart{Label: findings.CauseLabel(k), Secs: findings.Secs(s), Color: causeColor(k), X: x, W: w})
			x += w
			used[k] = true
		}
		ch.Rows = append(ch.Rows, row)
	}
	for _, k := range findings.Causes() {
		if used[k] {
			ch.Legend = append(ch.Legend, budgetPart{Label: findings.CauseLabel(k), Color: causeColor(k)})
		}
	}
	if total > n {
		d := restDur
		for _, it := range all[n:] {
			d += it.c.Budget.Duration
		}
		ch.More, ch.MoreDur = total-n, findings.Secs(d)
	}
	return ch
}

func causeColor(k explain.Cause) string {
	if c, ok := causeColors[k.String()]; ok {
		return c
	}
	return extra[int(k)%len(extra)]
}

// Height returns the chart's height in pixels.
func (b budgetChart) Height() int { return len(b.Rows)*26 + 4 }

// whatIfTable is the duration of each capture's connections at other RTTs
// and rates.
type whatIfTable struct {
	Captures []string
	Rows     []whatIfRow
	// Assumptions are the projections' (explain.Projection), joined.
	Assumptions []string
}

type whatIfRow struct {
	Label string
	Cells []string
}

// whatIfRTTs are the RTTs projected to: a LAN, a metro, a continent, an
// ocean, a satellite.
var whatIfRTTs = []time.Duration{time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 600 * time.Millisecond}

// whatIfRates are the rates projected to: the target's, 10 and 100
// Mbit/s.
func whatIfRates(tg linkq.Target) []units.BitRate {
	rates := []units.BitRate{10 * units.Mbps, 100 * units.Mbps}
	if tg.Rate > 0 {
		rates = append([]units.BitRate{tg.Rate}, rates...)
	}
	return rates
}

func whatIf(caps []*analysis) whatIfTable {
	var t whatIfTable
	var cols [][]findings.WhatIfRow
	for _, a := range caps {
		t.Captures = append(t.Captures, a.name)
		cols = append(cols, a.whatIf)
	}
	if len(cols) == 0 || len(cols[0]) == 0 {
		return t
	}
	for i := range cols[0] {
		row := whatIfRow{Label: cols[0][i].Label}
		for _, c := range cols {
			cell := fmt.Sprintf("%s, %d round trips", findings.Secs(c[i].Duration), c[i].RoundTrips)
			if x := c[i]; x.Best != x.Duration || x.Worst != x.Duration {
				cell += fmt.Sprintf(" (%s to %s)", findings.Secs(x.Best), findings.Secs(x.Worst))
			}
			row.Cells = append(row.Cells, cell)
			for _, a := range c[i].Assumptions {
				if !slices.Contains(t.Assumptions, a) {
					t.Assumptions = append(t.Assumptions, a)
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// connTable lists the connections, those that lost most time first.
type connTable struct {
	Rows []connRow
	More []string
}

type connRow struct {
	Capture, ID, Proto, Client, Server, Duration, Lost, Turns, RTT, Segment, Small, Acks, Limit string
}

func connections(caps []*analysis, top int) connTable {
	var t connTable
	for _, a := range caps {
		shown := a.byLost(top)
		for _, c := range shown {
			r := explain.Summarize("", []*explain.Conn{c}, explain.WhatIf{})
			t.Rows = append(t.Rows, connRow{Capture: a.name, ID: fmt.Sprint(c.ID), Proto: c.Proto, Client: c.Client.String(),
				Server: c.Server.String(), Duration: fmt.Sprintf("%.3f", c.Budget.Duration.Seconds()),
				Lost: fmt.Sprintf("%.3f", findings.TimeLost(&c.Budget).Seconds()), Turns: fmt.Sprint(c.Turns), RTT: dash(units.Ms(c.RTT), "%.1f"),
				Segment: dash(r.MeanSegment, "%.0f"), Small: dash(100*r.SmallShare, "%.0f%%"), Acks: dash(r.AcksPerSegment, "%.2f"),
				Limit: c.Limit.String()})
		}
		if n := a.tally.Len() - len(shown); n > 0 {
			d, l := a.rest.dur, a.rest.lost
			for _, x := range a.byLost(len(a.ranked))[len(shown):] {
				d, l = d+x.Budget.Duration, l+findings.TimeLost(&x.Budget)
			}
			t.More = append(t.More, fmt.Sprintf("%s: %d more connections, %s of connection time, %s lost to the network",
				a.name, n, findings.Secs(d), findings.Secs(l)))
		}
	}
	return t
}

func dash(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// txTable is the application transactions of one connection.
type txTable struct {
	Heading string
	Rows    []txRow
	More    int
}

type txRow struct {
	ID, Kind, At, ReqBytes, Wait, Transfer, RespBytes, Turns string
	Error                                                    bool
}

// txShown is how many transactions the table lists.
const txShown = 20

func transactions(a *analysis) (txTable, bool) {
	if a.top == nil || len(a.tx) == 0 {
		return txTable{}, false
	}
	t := txTable{Heading: fmt.Sprintf("%s: %d transactions (%s)", a.label(a.top), a.top.Transactions, a.top.Proto)}
	for i, x := range a.tx {
		if i == txShown {
			t.More = len(a.tx) - txShown
			break
		}
		kind := x.Kind
		if x.Verb != "" && x.Verb != x.Kind {
			kind += " " + x.Verb
		}
		if x.Status != 0 {
			kind += fmt.Sprintf(" → %d", x.Status)
		}
		t.Rows = append(t.Rows, txRow{ID: fmt.Sprint(x.ID), Kind: kind, At: fmt.Sprintf("%.3f", x.RequestFirst.Sub(a.top.First).Seconds()),
			ReqBytes: fmt.Sprint(x.RequestBytes), Wait: fmt.Sprintf("%.1f", x.ServerTime.Seconds()*1000), Transfer: fmt.Sprintf("%.1f", x.TransferTime.Seconds()*1000),
			RespBytes: fmt.Sprint(x.ResponseBytes), Turns: fmt.Sprint(x.Turns), Error: x.Error})
	}
	return t, true
}

// figure is one figure of the page: an inline SVG with its title.
type figure struct {
	ID, Title, Caption string
	SVG                template.HTML
}
