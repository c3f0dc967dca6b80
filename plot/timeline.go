package plot

import (
	"fmt"
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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
func Timeline(h Header, tx Transactioner) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	n := length(tx)
	if n == 0 {
		return nil, fmt.Errorf("timeline: %w: no transaction", ErrNoData)
	}
	var lines []plotter.XYs
	var req, first, last plotter.XYs
	r0, _, _ := tx.Transaction(0)
	lo, hi := h.seconds(r0), h.seconds(r0)
	for i := range n {
		request, firstByte, lastByte := tx.Transaction(i)
		answered := !firstByte.IsZero()
		switch {
		case request.IsZero() || request.Before(h.Start):
			return nil, fmt.Errorf("timeline: %w: transaction %d request at %v", ErrBadData, i, request)
		case answered && (firstByte.Before(request) || lastByte.Before(firstByte)):
			return nil, fmt.Errorf("timeline: %w: transaction %d events out of order (%v, %v, %v)",
				ErrBadData, i, request, firstByte, lastByte)
		case !answered && !lastByte.IsZero():
			return nil, fmt.Errorf("timeline: %w: transaction %d has a last byte but no first", ErrBadData, i)
		}
		r := plotter.XY{X: h.seconds(request), Y: levelRequest}
		req = append(req, r)
		lo, hi = min(lo, r.X), max(hi, r.X)
		if !answered {
			continue
		}
		f := plotter.XY{X: h.seconds(firstByte), Y: levelFirst}
		l := plotter.XY{X: h.seconds(lastByte), Y: levelLast}
		first, last = append(first, f), append(last, l)
		lines = append(lines, plotter.XYs{r, f, l})
		hi = max(hi, l.X)
	}
	if err := span("timeline", lo, hi); err != nil {
		return nil, err
	}
	p := newPanel(h.title(), "", "")
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
	p.Title.Text += fmt.Sprintf("\n%d transactions", n)
	p.Y.Min, p.Y.Max = -0.4, 2.4
	p.X.Min = max(h.xMin(), lo-0.01*(hi-lo))
	p.X.Max = h.xMax(hi)
	setTimeAxis(p, h)
	return newFigure([]*panel{p}), nil
}
