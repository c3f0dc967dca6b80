package plot

import (
	"fmt"
	"image/color"
	"math"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SeqRange is a range [First, End) of relative sequence numbers (bytes)
// at a time: a data segment or a SACK block.
type SeqRange struct {
	Time       time.Time
	First, End int64
}

// SeqMark is a relative sequence number at a time: an ACK, the right
// edge of the receive window, a zero-window advertisement.
type SeqMark struct {
	Time time.Time
	Seq  int64
}

// TSGData is what a time-sequence graph draws, for one direction of data.
type TSGData struct {
	// Name names the direction, e.g. "server→client".
	Name string
	// Data holds the data segments sent (first transmissions); required.
	Data []SeqRange
	// Retrans holds retransmitted segments.
	Retrans []SeqRange
	// OutOfOrder holds segments that arrived below the highest sequence
	// number but had not been seen before (their first copy was lost
	// before the capture point, or the network reordered them).
	OutOfOrder []SeqRange
	// Ack holds the receiver's ACKs; it must not decrease.
	Ack []SeqMark
	// Window holds the right edge of the receiver's window (ACK plus the
	// advertised window) at each ACK.
	Window []SeqMark
	// SACK holds the SACK blocks the receiver reported.
	SACK []SeqRange
	// ZeroWindow marks the ACKs that advertised a zero window.
	ZeroWindow []SeqMark
}

func ranges(what string, h Header, rs []SeqRange) (*vranges, error) {
	v := &vranges{}
	for i, r := range rs {
		if r.Time.Before(h.Start) || r.End < r.First {
			return nil, fmt.Errorf("time sequence: %w: %s %d (%v, %d-%d)", ErrBadData, what, i, r.Time, r.First, r.End)
		}
		v.X = append(v.X, h.seconds(r.Time))
		v.Lo = append(v.Lo, float64(r.First)/1000)
		v.Hi = append(v.Hi, float64(r.End)/1000)
	}
	return v, nil
}

func marks(what string, h Header, ms []SeqMark, monotone bool) (plotter.XYs, error) {
	xy := make(plotter.XYs, 0, len(ms))
	for i, m := range ms {
		if m.Time.Before(h.Start) {
			return nil, fmt.Errorf("time sequence: %w: %s %d before the start", ErrBadData, what, i)
		}
		if monotone && i > 0 && m.Seq < ms[i-1].Seq {
			return nil, fmt.Errorf("time sequence: %w: %s %d goes back from %d to %d", ErrBadData, what, i, ms[i-1].Seq, m.Seq)
		}
		xy = append(xy, plotter.XY{X: h.seconds(m.Time), Y: float64(m.Seq) / 1000})
	}
	return xy, nil
}

// TimeSequence draws the time-sequence graph of tcptrace and Stevens:
// data segments as vertical bars spanning their sequence range over time,
// retransmissions in another colour, the receiver's ACK line and window
// line as steps, SACK blocks and zero-window advertisements marked.
func TimeSequence(h Header, d TSGData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("time sequence: %w", err)
	}
	if len(d.Data)+len(d.Retrans)+len(d.OutOfOrder) == 0 {
		return nil, fmt.Errorf("time sequence: %w: no data segments", ErrNoData)
	}
	data, err := ranges("segment", h, d.Data)
	if err != nil {
		return nil, err
	}
	re, err := ranges("retransmission", h, d.Retrans)
	if err != nil {
		return nil, err
	}
	ooo, err := ranges("out-of-order segment", h, d.OutOfOrder)
	if err != nil {
		return nil, err
	}
	sack, err := ranges("SACK block", h, d.SACK)
	if err != nil {
		return nil, err
	}
	ack, err := marks("ACK", h, d.Ack, true)
	if err != nil {
		return nil, err
	}
	win, err := marks("window", h, d.Window, false)
	if err != nil {
		return nil, err
	}
	zw, err := marks("zero window", h, d.ZeroWindow, false)
	if err != nil {
		return nil, err
	}
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
	p := newPanel(h.title(), "time since t=0, s", "relative sequence number, kB\n"+d.Name+" data")
	p.Legend.Left, p.Legend.Top = true, true
	if len(win) > 0 {
		l := line(win, green, vg.Points(0.8))
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.Legend.Add("receive window edge", l)
	}
	if len(ack) > 0 {
		l := line(ack, grey, vg.Points(0.8))
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.Legend.Add("ACK", l)
	}
	if len(sack.X) > 0 {
		sack.Line = draw.LineStyle{Color: light(purple, 140), Width: vg.Points(0.6)}
		p.Add(sack)
		p.Legend.Add("SACK block", sack)
	}
	data.Line = draw.LineStyle{Color: blue, Width: vg.Points(1)}
	data.Cap = vg.Points(2)
	p.Add(data)
	p.Legend.Add("data segment", data)
	addMarked(p, re, vermillion, draw.CircleGlyph{}, "retransmission")
	addMarked(p, ooo, orange, draw.SquareGlyph{}, "out of order")
	if len(zw) > 0 {
		s := scatter(zw, draw.CrossGlyph{}, black, vg.Points(4))
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("zero window (%d)", len(zw)), s)
	}
	p.X.Min = 0
	p.X.Max = h.xMax(p.X.Max)
	f := newFigure([]*gplot.Plot{p})
	f.Height = 2 * PanelHeight
	return f, nil
}

// addMarked draws segments that a label singles out (retransmissions,
// out-of-order segments): their ranges in a colour, a glyph on each top,
// and one legend entry with the count. Nothing is drawn for none.
func addMarked(p *gplot.Plot, v *vranges, clr color.RGBA, glyph draw.GlyphDrawer, name string) {
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
	s := scatter(tops, glyph, clr, vg.Points(3))
	p.Add(s)
	p.Legend.Add(fmt.Sprintf("%s (%d)", name, len(v.X)), v, s)
}
