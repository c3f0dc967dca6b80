package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TSGData is what a time-sequence graph draws, for one direction of data.
type TSGData struct {
	// Name names the direction, e.g. "server→client".
	Name string
	// Data holds the data segments sent (first transmissions); required.
	Data SeqRanger
	// Retrans holds retransmitted segments.
	Retrans SeqRanger
	// OutOfOrder holds segments that arrived below the highest sequence
	// number but had not been seen before (their first copy was lost
	// before the capture point, or the network reordered them).
	OutOfOrder SeqRanger
	// Ack holds the receiver's ACKs; it must not decrease.
	Ack SeqMarker
	// Window holds the right edge of the receiver's window (ACK plus the
	// advertised window) at each ACK.
	Window SeqMarker
	// SACK holds the SACK blocks the receiver reported.
	SACK SeqRanger
	// ZeroWindow marks the ACKs that advertised a zero window.
	ZeroWindow SeqMarker
}

func ranges(what string, h Header, rs SeqRanger) (*vranges, error) {
	v := &vranges{}
	for i := range length(rs) {
		t, first, end := rs.SeqRange(i)
		if t.Before(h.Start) || end < first {
			return nil, fmt.Errorf("time sequence: %w: %s %d (%v, %d-%d)", ErrBadData, what, i, t, first, end)
		}
		v.X = append(v.X, h.seconds(t))
		v.Lo = append(v.Lo, float64(first)/1000)
		v.Hi = append(v.Hi, float64(end)/1000)
	}
	return v, nil
}

func marks(what string, h Header, ms SeqMarker, monotone bool) (plotter.XYs, error) {
	n := length(ms)
	xy := make(plotter.XYs, 0, n)
	var prev int64
	for i := range n {
		t, seq := ms.SeqMark(i)
		if t.Before(h.Start) {
			return nil, fmt.Errorf("time sequence: %w: %s %d before the start", ErrBadData, what, i)
		}
		if monotone && i > 0 && seq < prev {
			return nil, fmt.Errorf("time sequence: %w: %s %d goes back from %d to %d", ErrBadData, what, i, prev, seq)
		}
		prev = seq
		xy = append(xy, plotter.XY{X: h.seconds(t), Y: float64(seq) / 1000})
	}
	return xy, nil
}

// tsgInputs are a time-sequence graph's data, read and validated.
type tsgInputs struct {
	data, re, ooo, sack *vranges
	ack, win, zw        plotter.XYs
}

// readTSG reads and validates every series of d.
func readTSG(h Header, d TSGData) (in tsgInputs, err error) {
	for _, r := range []struct {
		what string
		from SeqRanger
		to   **vranges
	}{{"segment", d.Data, &in.data}, {"retransmission", d.Retrans, &in.re},
		{"out-of-order segment", d.OutOfOrder, &in.ooo}, {"SACK block", d.SACK, &in.sack}} {
		if *r.to, err = ranges(r.what, h, r.from); err != nil {
			return in, err
		}
	}
	for _, m := range []struct {
		what     string
		from     SeqMarker
		monotone bool
		to       *plotter.XYs
	}{{"ACK", d.Ack, true, &in.ack}, {"window", d.Window, false, &in.win}, {"zero window", d.ZeroWindow, false, &in.zw}} {
		if *m.to, err = marks(m.what, h, m.from, m.monotone); err != nil {
			return in, err
		}
	}
	return in, nil
}

// TimeSequence draws the time-sequence graph of tcptrace and Stevens:
// data segments as vertical bars spanning their sequence range over time,
// retransmissions in another colour, the receiver's ACK line and window
// line as steps, SACK blocks and zero-window advertisements marked.
func TimeSequence(h Header, d TSGData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("time sequence: %w", err)
	}
	if length(d.Data)+length(d.Retrans)+length(d.OutOfOrder) == 0 {
		return nil, fmt.Errorf("time sequence: %w: no data segments", ErrNoData)
	}
	in, err := readTSG(h, d)
	if err != nil {
		return nil, err
	}
	data, re, ooo, sack, ack, win, zw := in.data, in.re, in.ooo, in.sack, in.ack, in.win, in.zw
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range []*vranges{data, re, ooo} {
		if len(v.X) > 0 {
			a, b, _, _ := v.DataRange()
			lo, hi = min(lo, a), max(hi, b)
		}
	}
	if err := span("time sequence", lo, hi); err != nil {
		return nil, err
	}
	p := newPanel(h.title(), "", "relative sequence number, kB\n"+d.Name+" data")
	// The colours are tcptrace's (xplot's, on a white background): data
	// black, retransmissions red with an R, the receive window yellow,
	// the ACK line green, SACK blocks purple.
	if len(win) > 0 {
		l := line(win, tsgYellow, vg.Points(1))
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.add("receive window edge (ACK + window)", l)
	}
	if len(ack) > 0 {
		l := line(ack, tsgGreen, vg.Points(1))
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.add("ACK line", l)
	}
	if len(sack.X) > 0 {
		sack.Line = draw.LineStyle{Color: tsgPurple, Width: vg.Points(1.2)}
		p.Add(sack)
		p.add(fmt.Sprintf("SACK block (%d)", len(sack.X)), sack)
	}
	data.Line = draw.LineStyle{Color: black, Width: vg.Points(0.8)}
	data.Cap = vg.Points(2)
	p.Add(data)
	p.add(fmt.Sprintf("data segment (%d)", len(data.X)), data)
	addMarked(p, re, tsgRed, letterGlyph{"R"}, "retransmission")
	addMarked(p, ooo, orange, letterGlyph{"O"}, "out of order")
	if len(zw) > 0 {
		s := scatter(zw, letterGlyph{"Z"}, black, vg.Points(4))
		p.Add(s)
		p.add(fmt.Sprintf("zero window (%d)", len(zw)), s)
	}
	p.X.Min = h.xMin()
	p.X.Max = h.xMax(p.X.Max)
	setTimeAxis(p, h)
	f := newFigure([]*panel{p})
	f.Height = 2 * PanelHeight
	return f, nil
}

// tcptrace's colours, darkened where they would not show on white.
var (
	tsgYellow = color.RGBA{200, 160, 0, 255}
	tsgGreen  = color.RGBA{0, 150, 0, 255}
	tsgRed    = color.RGBA{220, 0, 0, 255}
	tsgPurple = color.RGBA{140, 0, 170, 255}
)

// addMarked draws segments that a label singles out (retransmissions,
// out-of-order segments): their ranges in a colour, a glyph on each top,
// and one key entry with the count. Nothing is drawn for none.
func addMarked(p *panel, v *vranges, clr color.RGBA, glyph draw.GlyphDrawer, name string) {
	if len(v.X) == 0 {
		return
	}
	v.Line = draw.LineStyle{Color: clr, Width: vg.Points(1.5)}
	v.Cap = vg.Points(3)
	p.Add(v)
	tops := make(plotter.XYs, len(v.X))
	for i := range v.X {
		tops[i] = plotter.XY{X: v.X[i], Y: v.Hi[i]}
	}
	s := scatter(tops, glyph, clr, vg.Points(3.5))
	p.Add(s)
	p.add(fmt.Sprintf("%s (%d)", name, len(v.X)), v, s)
}
