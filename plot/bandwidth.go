package plot

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/netecology/netecology/flow/units"
)

// Layer is one traffic class of a bandwidth figure, by direction. All
// layers of a figure share one grid (start and width); a nil Bins is a
// direction without traffic.
type Layer struct {
	Name string
	Bins [2]ByteBinner
}

// BandwidthOptions shape a bandwidth figure. The zero value stacks the
// layers in kbit/s with no rate line.
type BandwidthOptions struct {
	// Lines draws one line per layer instead of stacked areas.
	Lines bool
	// Rate is the link (or committed) rate, drawn as a dashed line; zero
	// draws none.
	Rate units.BitRate
	// Percent draws the vertical axis in percent of Rate.
	Percent bool
	// Names label the two directions; empty means "client→server" and
	// "server→client".
	Names [2]string
}

// Bandwidth draws a capture's bandwidth over time: one panel per
// direction, each showing the layers stacked (or as lines), with the link
// rate when given.
func Bandwidth(h Header, layers []Layer, o BandwidthOptions) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("bandwidth: %w", err)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("bandwidth: %w: no layers", ErrNoData)
	}
	switch {
	case !finite(float64(o.Rate)) || o.Rate < 0:
		return nil, fmt.Errorf("bandwidth: %w: rate %v", ErrBadData, o.Rate)
	case o.Percent && o.Rate == 0:
		return nil, fmt.Errorf("bandwidth: %w: percent of rate needs a rate", ErrBadData)
	}
	start, width, n, err := layerGrid(layers)
	if err != nil {
		return nil, err
	}
	x0, w := h.seconds(start), width.Seconds()
	if err := span("bandwidth", x0, x0+float64(n)*w); err != nil {
		return nil, err
	}
	names := (&FlowData{Names: o.Names}).names()
	var panels []*panel
	for dir := range 2 {
		panels = append(panels, bandwidthPanel(h, layers, o, dir, names[dir], n, x0, w, width))
	}
	shareRateUnit(panels)
	hi := math.Max(panels[0].Y.Max, panels[1].Y.Max)
	for _, p := range panels {
		p.Y.Max = hi
	}
	return newFigure([]*panel{panels[0]}, []*panel{panels[1]}), nil
}

// bandwidthPanel makes the panel of direction dir, named name: the layers
// on n bins of w seconds from x0 (width w), stacked or as lines, with the
// rate's line.
func bandwidthPanel(h Header, layers []Layer, o BandwidthOptions, dir int, name string, n int, x0, w float64, width time.Duration) *panel {
	scale := 1.0 // kbit/s per unit drawn
	if o.Percent {
		scale = float64(o.Rate) / 1000 / 100
	}
	title := ""
	if dir == 0 {
		title = h.title()
	}
	p := newPanel(title, "", "")
	tops := layerSteps(layers, dir, n, x0, w, scale, !o.Lines)
	var series []plotter.XYs
	var bases [][]float64
	for k, top := range tops {
		clr := palette[k%len(palette)]
		series = append(series, top)
		if o.Lines {
			ln := line(top, clr, vg.Points(1))
			ln.StepStyle = plotter.PostStep
			p.Add(ln)
			p.add(layers[k].Name, ln)
			continue
		}
		a := &area{XYs: top, Color: light(clr, 170)}
		if k > 0 {
			a.Base = make([]float64, len(top))
			for i := range top {
				a.Base[i] = tops[k-1][i].Y
			}
			bases = append(bases, a.Base)
		}
		a.Line.Color, a.Line.Width = clr, vg.Points(0.5)
		p.Add(a)
		p.add(layers[k].Name, a)
	}
	if o.Rate > 0 {
		r := float64(o.Rate) / 1000 / scale
		ln := line(plotter.XYs{{X: x0, Y: r}, {X: x0 + float64(n)*w, Y: r}}, black, vg.Points(1), vg.Points(4), vg.Points(3))
		series = append(series, ln.XYs)
		p.Add(ln)
		p.add("rate "+o.Rate.String(), ln)
	}
	p.Y.Min = 0
	p.Y.Max *= 1.1
	p.X.Min = max(h.xMin(), x0)
	p.X.Max = h.xMax(x0 + float64(n)*w)
	setTimeAxis(p, h)
	if dir == 0 {
		p.X.Label.Text = ""
	}
	label := func(unit string) string { return fmt.Sprintf("%s, %s\nper %v", name, unit, width) }
	if o.Percent {
		p.Y.Label.Text = label(fmt.Sprintf("%% of %s", o.Rate))
	} else {
		setRateAxis(p, label, series, bases)
	}
	return p
}

// layerGrid checks that the layers' bins share one grid and returns it
// with the most bins of any layer.
func layerGrid(layers []Layer) (start time.Time, width time.Duration, n int, err error) {
	first := ""
	for _, l := range layers {
		for _, b := range l.Bins {
			if b == nil {
				continue
			}
			s, w := b.Grid()
			if w <= 0 || s.IsZero() {
				return start, width, 0, fmt.Errorf("bandwidth: %w: layer %q has width %v, start %v", ErrBadData, l.Name, w, s)
			}
			if width == 0 {
				start, width, first = s, w, l.Name
			}
			if w != width || !s.Equal(start) {
				return start, width, 0, fmt.Errorf("bandwidth: %w: layer %q is not on the grid of layer %q", ErrBadData, l.Name, first)
			}
			n = max(n, b.Len())
		}
	}
	if n == 0 {
		return start, width, 0, fmt.Errorf("bandwidth: %w: every layer is empty", ErrNoData)
	}
	return start, width, n, nil
}

// layerSteps returns each layer of direction dir as a post-step line of
// n+1 points (bin i's value at its left edge x0+i*w, the last repeated at
// the right edge), in kbit/s divided by scale; stacked, each line is the
// running sum of the layers up to it.
func layerSteps(layers []Layer, dir, n int, x0, w, scale float64, stacked bool) []plotter.XYs {
	out := make([]plotter.XYs, len(layers))
	for k, l := range layers {
		top := make(plotter.XYs, n+1)
		for i := range n + 1 {
			v := 0.0
			if j, b := min(i, n-1), l.Bins[dir]; j < length(b) {
				v = float64(b.BinBytes(j)) * 8 / 1000 / w / scale
			}
			if stacked && k > 0 {
				v += out[k-1][i].Y
			}
			top[i] = plotter.XY{X: x0 + float64(i)*w, Y: v}
		}
		out[k] = top
	}
	return out
}
