package plot

import (
	"fmt"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// EchoFitData is what an RTT-versus-size figure draws (Figure 1 of Meek
// et al., "Wide Area Network Ecology"): the samples as a scatter and one or
// more fitted lines, the first drawn solid and the others dashed.
type EchoFitData struct {
	// Points are the samples: x the packet size in bytes, y the
	// round-trip time in milliseconds.
	Points plotter.XYer
	// Lines are the lines fitted to them; nil draws none.
	Lines FitLiner
	// SizeLabel names the size axis; empty means "packet size, bytes".
	SizeLabel string
}

// EchoFit draws round-trip time against packet size with the fitted lines;
// each line's legend gives its intercept (fixed delay), slope
// (serialization per byte) and RMS residual. h.Start, if set, dates the
// measurement in the title (the figure has no time axis; h.End is
// ignored). At least two points of different sizes are needed; sizes must
// be non-negative and RTTs positive, all finite.
func EchoFit(h Header, d EchoFitData) (*Figure, error) {
	n := length(d.Points)
	if n < 2 {
		return nil, fmt.Errorf("echo fit: %w: %d points, need two", ErrNoData, n)
	}
	pts := make(plotter.XYs, n)
	lo, _ := d.Points.XY(0)
	hi := lo
	for i := range n {
		size, rtt := d.Points.XY(i)
		if !finite(size, rtt) || size < 0 || rtt <= 0 {
			return nil, fmt.Errorf("echo fit: %w: point %d (size %v, rtt %v ms)", ErrBadData, i, size, rtt)
		}
		pts[i] = plotter.XY{X: size, Y: rtt}
		lo, hi = min(lo, size), max(hi, size)
	}
	if err := span("echo fit", lo, hi); err != nil {
		return nil, err
	}
	lines := make([]fitLine, length(d.Lines))
	for i := range lines {
		l := &lines[i]
		l.name, l.intercept, l.slope, l.rms = d.Lines.FitLine(i)
		if !finite(l.intercept, l.slope, l.rms) {
			return nil, fmt.Errorf("echo fit: %w: line %d (%q) is not finite", ErrBadData, i, l.name)
		}
	}
	label := d.SizeLabel
	if label == "" {
		label = "packet size, bytes"
	}
	title := h.Title
	if !h.Start.IsZero() {
		title += "\n" + "measured " + h.Start.UTC().Format("2006-01-02 15:04 UTC")
	}
	p := newPanel(title, label, "round-trip time, ms")
	p.Y.Tick.Marker = gplot.DefaultTicks{}
	s := scatter(pts, draw.CircleGlyph{}, blue, vg.Points(2))
	p.Add(s)
	p.add(fmt.Sprintf("%d samples", len(pts)), s)
	for i, l := range lines {
		xy := plotter.XYs{
			{X: lo, Y: l.intercept + l.slope*lo/1000},
			{X: hi, Y: l.intercept + l.slope*hi/1000},
		}
		var dashes []vg.Length
		if i > 0 {
			dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		ln := line(xy, palette[(i+1)%len(palette)], vg.Points(1.5), dashes...)
		p.Add(ln)
		text := fmt.Sprintf("%s: %.3f ms + %.4f µs/B", l.name, l.intercept, l.slope)
		if l.rms > 0 {
			text += fmt.Sprintf(", RMS %.3f ms", l.rms)
		}
		p.add(text, ln)
	}
	return newFigure([]*panel{p}), nil
}

// fitLine is one line of an echo figure, as read from a FitLiner.
type fitLine struct {
	name                  string
	intercept, slope, rms float64
}
