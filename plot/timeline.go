package plot

import (
	"fmt"
	"image/color"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Transaction is one application request and its response: when the
// request was sent, when the first and the last byte of the response
// came. FirstByte and LastByte are zero for an unanswered request.
type Transaction struct {
	Request, FirstByte, LastByte time.Time
}

// Lifeline levels, top to bottom.
const (
	levelLast = iota
	levelFirst
	levelRequest
)

// Timeline draws transactions as NetLogger-style lifelines: three levels
// (request sent, first response byte, last response byte), each
// transaction a line falling through its events, so that the turns, the
// waits for the network and the think times between requests show at a
// glance.
func Timeline(h Header, tx []Transaction) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if len(tx) == 0 {
		return nil, fmt.Errorf("timeline: %w: no transaction", ErrNoData)
	}
	var lines []plotter.XYs
	var req, first, last plotter.XYs
	lo, hi := h.seconds(tx[0].Request), h.seconds(tx[0].Request)
	for i, t := range tx {
		answered := !t.FirstByte.IsZero()
		switch {
		case t.Request.IsZero() || t.Request.Before(h.Start):
			return nil, fmt.Errorf("timeline: %w: transaction %d request at %v", ErrBadData, i, t.Request)
		case answered && (t.FirstByte.Before(t.Request) || t.LastByte.Before(t.FirstByte)):
			return nil, fmt.Errorf("timeline: %w: transaction %d events out of order (%v, %v, %v)",
				ErrBadData, i, t.Request, t.FirstByte, t.LastByte)
		case !answered && !t.LastByte.IsZero():
			return nil, fmt.Errorf("timeline: %w: transaction %d has a last byte but no first", ErrBadData, i)
		}
		r := plotter.XY{X: h.seconds(t.Request), Y: levelRequest}
		req = append(req, r)
		lo, hi = min(lo, r.X), max(hi, r.X)
		if !answered {
			continue
		}
		f := plotter.XY{X: h.seconds(t.FirstByte), Y: levelFirst}
		l := plotter.XY{X: h.seconds(t.LastByte), Y: levelLast}
		first, last = append(first, f), append(last, l)
		lines = append(lines, plotter.XYs{r, f, l})
		hi = max(hi, l.X)
	}
	if err := span("timeline", lo, hi); err != nil {
		return nil, err
	}
	p := newPanel(h.title(), "time since t=0, s", "")
	p.Y.Tick.Marker = gplot.ConstantTicks{
		{Value: levelLast, Label: "last response byte"},
		{Value: levelFirst, Label: "first response byte"},
		{Value: levelRequest, Label: "request sent"},
	}
	for _, l := range lines {
		p.Add(line(l, grey, vg.Points(0.7)))
	}
	for _, s := range []struct {
		xy    plotter.XYs
		clr   color.Color
		shape draw.GlyphDrawer
	}{
		{req, blue, upGlyph{}},
		{first, vermillion, downGlyph{}},
		{last, green, draw.CircleGlyph{}},
	} {
		if len(s.xy) > 0 {
			p.Add(scatter(s.xy, s.shape, s.clr, vg.Points(2)))
		}
	}
	p.Title.Text += fmt.Sprintf("\n%d transactions", len(tx))
	p.Y.Min, p.Y.Max = -0.4, 2.4
	p.X.Min = max(0, lo-0.01*(hi-lo))
	p.X.Max = h.xMax(hi)
	return newFigure([]*gplot.Plot{p}), nil
}
