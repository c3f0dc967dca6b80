package main

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

// dirNames name the directions in the figures.
var dirNames = [2]string{"client→server", "server→client"}

// maxBins is about the most bins a figure's interval gives.
const maxBins = 80

// figures draws the report's figures: Figure 4 of the connection that
// lost the most time (the pair with two captures), then for each capture
// its time-sequence graph, RTT over time and transaction timeline, and
// for captures of echoes RTT against size and the minimum RTT per
// interval.
//
// A figure whose data plot refuses (plot.ErrBadData: a damaged capture)
// is left out, and said so in the notes returned, so that the rest of the
// page is written.
func figures(caps []*analysis) ([]figure, []string, error) {
	var out []figure
	var notes []string
	add := func(f *plot.Figure, id, title, caption string, err error) error {
		if errors.Is(err, plot.ErrNoData) {
			return nil // nothing to draw: no figure
		}
		if errors.Is(err, plot.ErrBadData) {
			notes = append(notes, fmt.Sprintf("%s: not drawn: %v", title, err))
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		svg, err := inline(f, id, title)
		if err != nil {
			return err
		}
		out = append(out, figure{ID: id, Title: title, Caption: caption, SVG: svg})
		return nil
	}
	f, caption, err := figure4(caps)
	if err := add(f, "fig4", "Figure 4: every packet and the bandwidth of "+topNames(caps), caption, err); err != nil {
		return nil, nil, err
	}
	for i, a := range caps {
		id := fmt.Sprintf("c%d", i)
		if a.top != nil {
			f, err := tsg(a)
			if err := add(f, id+"-tsg", "Time-sequence graph of "+a.label(a.top)+", "+dataName(a.top)+" data",
				"Sequence numbers sent over time (tcptrace's colours): the slope is the rate, steps are waits.", err); err != nil {
				return nil, nil, err
			}
			f, err = rtt(a)
			if err := add(f, id+"-rtt", "RTT over time of "+a.label(a.top), "Round-trip samples and their minimum per interval.", err); err != nil {
				return nil, nil, err
			}
			f, err = timeline(a)
			if err := add(f, id+"-tl", "Transaction timeline of "+a.label(a.top),
				"Each request's line falls from the request to the first and the last byte of its answer.", err); err != nil {
				return nil, nil, err
			}
		}
		if a.lq != nil && a.lq.Echo.Matched >= 2 {
			f, err := echoFit(a)
			if err := add(f, id+"-fit", "RTT against size of the echoes of "+a.name,
				"Meek et al.'s Figure 1: the intercept is the fixed delay, the slope the serialization per byte.", err); err != nil {
				return nil, nil, err
			}
			f, err = figure3(a)
			if err := add(f, id+"-min", "Minimum RTT per interval of "+a.name, "Meek et al.'s Figure 3, from the echoes and TCP.", err); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, notes, nil
}

func topNames(caps []*analysis) string {
	var s []string
	for _, a := range caps {
		if a.top != nil {
			s = append(s, a.label(a.top))
		}
	}
	return strings.Join(s, " and ")
}

// dataName names the direction that carried most data.
func dataName(c *explain.Conn) string { return dirNames[dataDir(c)] }

func dataDir(c *explain.Conn) tcpstate.Dir {
	if c.SegmentsC2S.Bytes > c.SegmentsS2C.Bytes {
		return tcpstate.ClientToServer
	}
	return tcpstate.ServerToClient
}

// figure4 draws the packets and bandwidth of each capture's top
// connection, side by side over spans of the same length (the shorter
// connection's) and one interval; the caption holds the notes and the
// count of ACK-only packets drawn apart.
func figure4(caps []*analysis) (*plot.Figure, string, error) {
	var tops []*analysis
	for _, a := range caps {
		if a.top != nil && a.ser.Conn(a.top.ID) != nil {
			tops = append(tops, a)
		}
	}
	if len(tops) == 0 {
		return nil, "", plot.ErrNoData
	}
	span := tops[0].top.Last.Sub(tops[0].top.First)
	for _, a := range tops[1:] {
		span = min(span, a.top.Last.Sub(a.top.First))
	}
	span = span + span/100 + time.Millisecond
	width := series.RoundWidth(span, maxBins)
	var figs []*plot.Figure
	var notes []string
	for _, a := range tops {
		c, cs := a.top, a.ser.Conn(a.top.ID)
		ser := *a.ser
		ser.Classes = slices.Clone(ser.Classes)
		ser.Conns = []*series.ConnSeries{copyConn(cs)}
		ser.Coarsen(width)
		cs = ser.Conns[0]
		h := plot.Header{Title: fmt.Sprintf("%s %s → %s (%s #%d)", c.Proto, c.Client, c.Server, a.name, c.ID), Start: c.First}
		if len(tops) > 1 {
			h.End = c.First.Add(span)
		}
		d := plot.FlowData{Packets: series.Points(cs.Points).Within(series.Window{From: h.Start, To: h.End}),
			Conn: [2]plot.ByteBinner{cs.Bins[0], cs.Bins[1]}, Link: [2]plot.ByteBinner{ser.Link[0], ser.Link[1]}}
		for dir, s := range [2]explain.SegmentStats{c.SegmentsC2S, c.SegmentsS2C} {
			if ov := series.FrameOverhead(cs.Points, tcpstate.Dir(dir)); ov > 0 && s.MSS > 0 {
				d.MSS[dir], d.FullFrame[dir] = s.MSS, s.MSS+ov
			}
		}
		f, err := plot.PacketFlow(h, d)
		if err != nil {
			return nil, "", fmt.Errorf("%s #%d: %w", a.name, c.ID, err)
		}
		figs = append(figs, f)
		n := findings.FlowNotes(c, dirNames)
		notes = append(notes, fmt.Sprintf("%s #%d, %s %s", a.name, c.ID, n[0], strings.Join(n[1:], "; ")))
	}
	f := figs[0]
	if len(figs) > 1 {
		var err error
		if f, err = plot.Beside(figs...); err != nil {
			return nil, "", err
		}
		f.SetPanelWidth(6.5 * vg.Inch)
	}
	if err := f.Render(&bytes.Buffer{}, "svg"); err != nil { // to count the lanes
		return nil, "", err
	}
	var names []string
	for _, a := range tops {
		names = append(names, fmt.Sprintf("%s #%d", a.name, a.top.ID))
	}
	caption := "Triangles are data segments at their frame size (client→server above the axis, server→client below), " +
		"ticks in the lanes by the axis the ACK-only packets, the dashed line the full-size frame. " + laneText(names, f.Lanes()) +
		" " + strings.Join(notes, ". ") + "."
	return f, caption, nil
}

// copyConn copies a connection's series, so that coarsening one figure's
// grid leaves the others' as they were.
func copyConn(cs *series.ConnSeries) *series.ConnSeries {
	c := *cs
	return &c
}

// laneText says how many ACK-only packets each lane shows apart; the
// lanes come two per figure, in the order of names.
func laneText(names []string, lanes []plot.Lane) string {
	var s []string
	for i, l := range lanes {
		if i/2 < len(names) {
			s = append(s, fmt.Sprintf("%s %s: %d of %d", names[i/2], strings.TrimSuffix(l.Name, " ACK only"), l.Apart, l.Packets))
		}
	}
	return "ACK-only packets in the span, and how many of them are drawn apart from every other: " + strings.Join(s, "; ") + "."
}

func tsg(a *analysis) (*plot.Figure, error) {
	c, cs := a.top, a.ser.Conn(a.top.ID)
	if cs == nil {
		return nil, plot.ErrNoData
	}
	d := dataDir(c)
	t := series.TimeSequence(cs.Points, d, series.Window{})
	return plot.TimeSequence(plot.Header{Title: fmt.Sprintf("%s %s → %s (%s #%d)", c.Proto, c.Client, c.Server, a.name, c.ID), Start: c.First},
		plot.TSGData{Name: dirNames[d], Data: t.Data, Retrans: t.Retrans, OutOfOrder: t.OutOfOrder, Ack: t.Ack, Window: t.Window,
			SACK: t.SACK, ZeroWindow: t.ZeroWindow})
}

func rtt(a *analysis) (*plot.Figure, error) {
	c, cs, fc := a.top, a.ser.Conn(a.top.ID), a.topFlw
	if cs == nil || fc == nil {
		return nil, plot.ErrNoData
	}
	w := max(series.RoundWidth(c.Last.Sub(c.First), maxBins)*4, time.Second)
	r, err := series.RTTIn(cs.Points, fc.Vantage, series.Window{}, w)
	if err != nil {
		return nil, err
	}
	d := plot.RTTData{Samples: r.Samples, Min: r.Min}
	for dir, name := range dirNames {
		d.Names[dir] = name + " data"
	}
	d.Names[r.Net] += " (network RTT)"
	d.Names[r.Net.Reverse()] += " (ACK delay)"
	return plot.RTT(plot.Header{Title: fmt.Sprintf("%s %s → %s (%s #%d)", c.Proto, c.Client, c.Server, a.name, c.ID), Start: c.First}, d)
}

func timeline(a *analysis) (*plot.Figure, error) {
	c, cs := a.top, a.ser.Conn(a.top.ID)
	if cs == nil {
		return nil, plot.ErrNoData
	}
	var turns series.Turns
	for _, t := range a.tx {
		turns = append(turns, series.Turn{Request: t.RequestFirst, RequestBytes: t.RequestBytes, FirstResponse: t.ResponseFirst,
			LastResponse: t.ResponseLast, ResponseBytes: t.ResponseBytes})
	}
	if len(turns) == 0 {
		turns = series.SplitTurns(cs.Points)
	}
	return plot.Timeline(plot.Header{Title: fmt.Sprintf("%s %s → %s (%s #%d)", c.Proto, c.Client, c.Server, a.name, c.ID), Start: c.First}, turns)
}

func echoFit(a *analysis) (*plot.Figure, error) {
	p := a.lq.FigurePath()
	if p == nil {
		return nil, plot.ErrNoData
	}
	return plot.EchoFit(plot.Header{Title: fmt.Sprintf("RTT vs size, %s %s → %s (%s)", p.Source, p.Src, p.Dst, a.name)},
		plot.EchoFitData{Points: linkq.Points(p.Points), Lines: p.Lines(), SizeLabel: fmt.Sprintf("packet size (%s), bytes", p.Size)})
}

func figure3(a *analysis) (*plot.Figure, error) {
	if a.ser == nil || a.ser.Packets < 2 {
		return nil, plot.ErrNoData
	}
	ser := *a.ser
	ser.Classes = slices.Clone(ser.Classes)
	ser.Conns = nil
	ser.Coarsen(series.RoundWidth(ser.Last.Sub(ser.First), maxBins))
	d := plot.RTTData{Min: ser.MinRTTOf(a.networkDir()), EchoName: "echo"}
	if p := a.lq.FigurePath(); p != nil {
		d.Echo = p.RTTSamples()
	}
	if a.lq.EchoMinRTT.Len() > 0 {
		d.EchoMin = a.lq.EchoMinRTT.Coarsen(ser.Width)
	}
	return plot.RTT(plot.Header{Title: fmt.Sprintf("%s: %d packets", a.name, ser.Packets), Start: ser.First}, d)
}

// Rewrites of gonum's SVG for a page: its prolog and comment go, the
// fonts fall back to metric-compatible ones, the size follows the page.
var (
	svgProlog = regexp.MustCompile(`^(?s)<\?xml[^>]*\?>\s*(<!--.*?-->\s*)?`)
	svgOpen   = regexp.MustCompile(`^<svg width="([0-9.]+)pt" height="([0-9.]+)pt"`)
)

// inline renders f as an SVG for the page: with a title (for readers and
// screen readers), fonts that fall back to Times when Liberation Serif is
// missing, and a width that follows the page up to the figure's own.
func inline(f *plot.Figure, id, title string) (template.HTML, error) {
	var b bytes.Buffer
	if err := f.Render(&b, "svg"); err != nil {
		return "", err
	}
	s := svgProlog.ReplaceAllString(b.String(), "")
	m := svgOpen.FindStringSubmatch(s)
	if m == nil {
		return "", errors.New("inline: not an SVG of gonum's")
	}
	open := fmt.Sprintf(`<svg class="fig" role="img" aria-labelledby="%s-t" style="max-width:%spt"`, id, m[1])
	s = open + s[len(m[0]):]
	i := strings.Index(s, ">")
	s = s[:i+1] + fmt.Sprintf(`<title id="%s-t">%s</title>`, id, html.EscapeString(title)) + s[i+1:]
	s = strings.ReplaceAll(s, "font-family:Liberation Serif;", "font-family:'Liberation Serif','Times New Roman',Times,serif;")
	return template.HTML(s), nil // #nosec: made by gonum from our own data, its text escaped by it
}

// networkDir is series.CaptureNetworkDir over the capture's connections,
// from their vantage points counted.
func (a *analysis) networkDir() tcpstate.Dir {
	if a.vantage[1] > a.vantage[0] {
		return tcpstate.ServerToClient
	}
	return tcpstate.ClientToServer
}
