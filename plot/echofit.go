package plot

import (
	"fmt"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// EchoPoint is one matched echo (or other RTT sample) placed for a fit:
// the packet size in bytes and the round-trip time in milliseconds.
type EchoPoint struct {
	Size  float64
	RTTms float64
}

// FitLine is a straight line RTT = InterceptMs + SlopeUsPerByte·size/1000
// to draw over the points, named in the legend. RMSms, when positive, is
// shown with it.
type FitLine struct {
	Name           string
	InterceptMs    float64
	SlopeUsPerByte float64
	RMSms          float64
}

// EchoFitData is what an RTT-versus-size figure draws (Figure 1 of Meek
// et al., "Wide Area Network Ecology"): the samples as a scatter and one or
// more fitted lines, the first drawn solid and the others dashed.
type EchoFitData struct {
	Points []EchoPoint
	Lines  []FitLine
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
	if len(d.Points) < 2 {
		return nil, fmt.Errorf("echo fit: %w: %d points, need two", ErrNoData, len(d.Points))
	}
	pts := make(plotter.XYs, len(d.Points))
	lo, hi := d.Points[0].Size, d.Points[0].Size
	for i, p := range d.Points {
		if !finite(p.Size, p.RTTms) || p.Size < 0 || p.RTTms <= 0 {
			return nil, fmt.Errorf("echo fit: %w: point %d (size %v, rtt %v ms)", ErrBadData, i, p.Size, p.RTTms)
		}
		pts[i] = plotter.XY{X: p.Size, Y: p.RTTms}
		lo, hi = min(lo, p.Size), max(hi, p.Size)
	}
	if err := span("echo fit", lo, hi); err != nil {
		return nil, err
	}
	for i, l := range d.Lines {
		if !finite(l.InterceptMs, l.SlopeUsPerByte, l.RMSms) {
			return nil, fmt.Errorf("echo fit: %w: line %d (%q) is not finite", ErrBadData, i, l.Name)
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
	p.Legend.Add(fmt.Sprintf("%d samples", len(pts)), s)
	for i, l := range d.Lines {
		xy := plotter.XYs{
			{X: lo, Y: l.InterceptMs + l.SlopeUsPerByte*lo/1000},
			{X: hi, Y: l.InterceptMs + l.SlopeUsPerByte*hi/1000},
		}
		var dashes []vg.Length
		if i > 0 {
			dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		ln := line(xy, palette[(i+1)%len(palette)], vg.Points(1.5), dashes...)
		p.Add(ln)
		text := fmt.Sprintf("%s: %.3f ms + %.4f µs/B", l.Name, l.InterceptMs, l.SlopeUsPerByte)
		if l.RMSms > 0 {
			text += fmt.Sprintf(", RMS %.3f ms", l.RMSms)
		}
		p.Legend.Add(text, ln)
	}
	p.Legend.Top = false
	p.Legend.Left = false
	return newFigure([]*gplot.Plot{p}), nil
}
