package plot

import (
	"fmt"
	"image/color"
	"math"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// validBins checks that b has bins on a usable grid; name says which
// bins they are in an error.
func validBins(what, name string, b ByteBinner) error {
	if length(b) == 0 {
		return fmt.Errorf("%s: %w: %s bins are empty", what, ErrNoData, name)
	}
	start, width := b.Grid()
	switch {
	case width <= 0:
		return fmt.Errorf("%s: %w: %s bins have width %v", what, ErrBadData, name, width)
	case start.IsZero():
		return fmt.Errorf("%s: %w: %s bins have no start time", what, ErrBadData, name)
	}
	return nil
}

// kbps returns the bytes counted in a bin of the given width in kbit/s.
func kbps(bytes uint64, width time.Duration) float64 {
	return float64(bytes) * 8 / 1000 / width.Seconds()
}

// steps returns the bins as a post-step line in kbit/s against seconds
// since h.Start, times sign (-1 draws below the axis): one point at each
// bin's left edge and one at the last bin's right edge. Bins that end
// before h.Start are left out.
func steps(b ByteBinner, h Header, sign float64) plotter.XYs {
	n := b.Len()
	start, width := b.Grid()
	xy := make(plotter.XYs, 0, n+1)
	w := width.Seconds()
	x0 := h.seconds(start)
	for i := range n {
		x := x0 + float64(i)*w
		if x+w <= 0 {
			continue
		}
		xy = append(xy, plotter.XY{X: x, Y: sign * kbps(b.BinBytes(i), width)})
	}
	if n := len(xy); n > 0 {
		xy = append(xy, plotter.XY{X: xy[n-1].X + w, Y: xy[n-1].Y})
	}
	return xy
}

// area fills the region between two post-step lines sharing x values:
// Base (zero when nil) and Top. It draws stacked and mirrored bandwidth.
type area struct {
	XYs   plotter.XYs // Top
	Base  []float64
	Color color.Color
	Line  draw.LineStyle
}

func (a *area) base(i int) float64 {
	if a.Base == nil {
		return 0
	}
	return a.Base[i]
}

// Plot implements gonum's plot.Plotter.
func (a *area) Plot(c draw.Canvas, p *gplot.Plot) {
	if len(a.XYs) < 2 {
		return
	}
	trX, trY := p.Transforms(&c)
	var top, bot []vg.Point
	for i, pt := range a.XYs {
		x := trX(pt.X)
		if i > 0 {
			top = append(top, vg.Point{X: x, Y: trY(a.XYs[i-1].Y)})
			bot = append(bot, vg.Point{X: x, Y: trY(a.base(i - 1))})
		}
		top = append(top, vg.Point{X: x, Y: trY(pt.Y)})
		bot = append(bot, vg.Point{X: x, Y: trY(a.base(i))})
	}
	poly := append([]vg.Point(nil), top...)
	for i := len(bot) - 1; i >= 0; i-- {
		poly = append(poly, bot[i])
	}
	if a.Color != nil {
		c.FillPolygon(a.Color, c.ClipPolygonXY(poly))
	}
	if a.Line.Width > 0 {
		c.StrokeLines(a.Line, c.ClipLinesXY(top)...)
	}
}

// DataRange implements gonum's plot.DataRanger.
func (a *area) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = plotter.XYRange(a.XYs)
	for i := range a.XYs {
		ymin, ymax = min(ymin, a.base(i)), max(ymax, a.base(i))
	}
	return
}

// Thumbnail implements gonum's plot.Thumbnailer for the legend.
func (a *area) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	if a.Color != nil {
		c.FillPolygon(a.Color, c.ClipPolygonY(pts))
	}
	if a.Line.Width > 0 {
		y := (c.Min.Y + c.Max.Y) / 2
		c.StrokeLine2(a.Line, c.Min.X, y, c.Max.X, y)
	}
}

// vranges draws vertical line segments: at X, from Lo to Hi.
type vranges struct {
	X, Lo, Hi []float64
	Line      draw.LineStyle
	// Cap is the width of the tick drawn at both ends; zero draws none.
	Cap vg.Length
}

// Plot implements gonum's plot.Plotter.
func (v *vranges) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, x := range v.X {
		px, lo, hi := trX(x), trY(v.Lo[i]), trY(v.Hi[i])
		if hi-lo < vg.Points(1) { // keep tiny ranges visible
			hi = lo + vg.Points(1)
		}
		c.StrokeLines(v.Line, c.ClipLinesXY([]vg.Point{{X: px, Y: lo}, {X: px, Y: hi}})...)
		if v.Cap > 0 { // an I-beam, as tcptrace draws a segment
			for _, y := range []vg.Length{lo, hi} {
				c.StrokeLines(v.Line, c.ClipLinesXY([]vg.Point{{X: px - v.Cap/2, Y: y}, {X: px + v.Cap/2, Y: y}})...)
			}
		}
	}
}

// DataRange implements gonum's plot.DataRanger.
func (v *vranges) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, x := range v.X {
		xmin, xmax = min(xmin, x), max(xmax, x)
		ymin, ymax = min(ymin, v.Lo[i]), max(ymax, v.Hi[i])
	}
	return
}

// Thumbnail implements gonum's plot.Thumbnailer for the legend.
func (v *vranges) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(v.Line, x, c.Min.Y, x, c.Max.Y)
}

// downGlyph draws a filled triangle pointing down.
type downGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (downGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.2
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r*0.866, Y: pt.Y + r/2})
	p.Line(vg.Point{X: pt.X + r*0.866, Y: pt.Y + r/2})
	p.Close()
	c.SetColor(sty.Color)
	c.Fill(p)
}

// upGlyph draws a filled triangle pointing up.
type upGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (upGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.2
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X - r*0.866, Y: pt.Y - r/2})
	p.Line(vg.Point{X: pt.X + r*0.866, Y: pt.Y - r/2})
	p.Close()
	c.SetColor(sty.Color)
	c.Fill(p)
}

func scatter(xy plotter.XYs, shape draw.GlyphDrawer, clr color.Color, r vg.Length) *plotter.Scatter {
	s := &plotter.Scatter{XYs: xy}
	s.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: r, Shape: shape}
	return s
}

func line(xy plotter.XYs, clr color.Color, w vg.Length, dashes ...vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: xy}
	l.LineStyle = draw.LineStyle{Color: clr, Width: w, Dashes: dashes}
	return l
}

// hline draws a horizontal line at y across the whole data area; it does
// not widen the horizontal range.
type hline struct {
	y   float64
	sty draw.LineStyle
}

// Plot implements gonum's plot.Plotter.
func (l *hline) Plot(c draw.Canvas, p *gplot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(l.y)
	if y < c.Min.Y || y > c.Max.Y {
		return
	}
	c.StrokeLine2(l.sty, c.Min.X, y, c.Max.X, y)
}

// DataRange implements gonum's plot.DataRanger.
func (l *hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), l.y, l.y
}

// Thumbnail implements gonum's plot.Thumbnailer for the key.
func (l *hline) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(l.sty, c.Min.X, y, c.Max.X, y)
}

// letterGlyph draws a letter centred on the point, as tcptrace marks
// retransmissions with an R.
type letterGlyph struct{ s string }

// DrawGlyph implements draw.GlyphDrawer.
func (g letterGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	ts := text.Style{Color: sty.Color, Font: font.From(gplot.DefaultFont, font.Length(sty.Radius*2.6)),
		Handler: gplot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YBottom}
	c.FillText(ts, vg.Point{X: pt.X, Y: pt.Y + sty.Radius*0.4}, g.s)
}
