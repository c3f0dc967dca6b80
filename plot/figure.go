package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Errors wrapped by the constructors.
var (
	// ErrNoData: nothing to draw, or too little to span an axis (one
	// packet, all at the same instant).
	ErrNoData = errors.New("no data to draw")
	// ErrBadData: a value is negative where it cannot be, NaN or
	// infinite, or a time lies before the figure's start.
	ErrBadData = errors.New("bad data")
)

// Formats are the output formats Render accepts.
var Formats = []string{"png", "svg", "pdf"}

// Default size of one panel.
const (
	PanelWidth  = 8 * vg.Inch
	PanelHeight = 3.2 * vg.Inch
)

// Header names what a figure shows.
type Header struct {
	// Title is the figure's first title line, e.g. the endpoints.
	Title string
	// Start is the origin of the time axis; it must not be zero. Its date
	// and time (UTC) are written under the title.
	Start time.Time
	// End, if set, ends the time axis (to zoom in on part of a
	// capture); data after it is clipped. Zero fits the axis to the data.
	End time.Time
}

func (h Header) validate() error {
	if h.Start.IsZero() {
		return fmt.Errorf("%w: header start time is zero", ErrBadData)
	}
	if !h.End.IsZero() && !h.End.After(h.Start) {
		return fmt.Errorf("%w: header end %v is not after its start", ErrBadData, h.End)
	}
	return nil
}

// xMax returns the right end of the time axis: End if set, else the data's
// last x plus a margin.
func (h Header) xMax(dataMax float64) float64 {
	if !h.End.IsZero() {
		return h.seconds(h.End)
	}
	return dataMax * 1.02
}

// title returns the two title lines.
func (h Header) title() string {
	return h.Title + "\n" + "capture of " + h.Start.UTC().Format("2006-01-02, t=0 at 15:04:05.000 UTC")
}

// seconds returns t as seconds since the header's start.
func (h Header) seconds(t time.Time) float64 { return t.Sub(h.Start).Seconds() }

// Figure is a grid of panels ready to render.
type Figure struct {
	rows [][]*gplot.Plot
	// Width and Height are the size of the whole figure; the constructors
	// set a size that suits their panels.
	Width, Height vg.Length
}

func newFigure(rows ...[]*gplot.Plot) *Figure {
	return &Figure{rows: rows, Width: PanelWidth * vg.Length(len(rows[0])), Height: PanelHeight * vg.Length(len(rows))}
}

// Rows and Cols return the figure's grid size.
func (f *Figure) Rows() int { return len(f.rows) }

// Cols returns the number of panel columns.
func (f *Figure) Cols() int { return len(f.rows[0]) }

// YRange returns the vertical range of the panel at row i, column j.
func (f *Figure) YRange(i, j int) (lo, hi float64) {
	p := f.rows[i][j]
	return p.Y.Min, p.Y.Max
}

// Render draws the figure in the given format ("png", "svg" or "pdf") to w.
func (f *Figure) Render(w io.Writer, format string) error {
	ok := false
	for _, x := range Formats {
		ok = ok || x == format
	}
	if !ok {
		return fmt.Errorf("render: unknown format %q (want png, svg or pdf)", format)
	}
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("render: %w: size %vx%v", ErrBadData, f.Width, f.Height)
	}
	c, err := draw.NewFormattedCanvas(f.Width, f.Height, format)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: f.Rows(), Cols: f.Cols(), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := gplot.Align(f.rows, tiles, dc)
	for i, row := range f.rows {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	return nil
}

// Beside puts figures side by side: row i of the result holds row i of
// each figure, left to right. The figures must have the same number of
// rows; each row's panels are given the same vertical range, so that the
// figures compare at a glance.
func Beside(figs ...*Figure) (*Figure, error) {
	if len(figs) == 0 {
		return nil, fmt.Errorf("beside: %w", ErrNoData)
	}
	n := figs[0].Rows()
	rows := make([][]*gplot.Plot, n)
	var w vg.Length
	h := figs[0].Height
	for k, f := range figs {
		if f.Rows() != n {
			return nil, fmt.Errorf("beside: figure %d has %d rows, figure 0 has %d", k, f.Rows(), n)
		}
		for i := range n {
			rows[i] = append(rows[i], f.rows[i]...)
		}
		w += f.Width
		h = max(h, f.Height)
	}
	for _, row := range rows {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range row {
			lo, hi = min(lo, p.Y.Min), max(hi, p.Y.Max)
		}
		for _, p := range row {
			p.Y.Min, p.Y.Max = lo, hi
		}
	}
	return &Figure{rows: rows, Width: w, Height: h}, nil
}

// Palette: colour-blind safe (Okabe-Ito).
var (
	blue       = color.RGBA{0, 114, 178, 255}
	vermillion = color.RGBA{213, 94, 0, 255}
	green      = color.RGBA{0, 158, 115, 255}
	orange     = color.RGBA{230, 159, 0, 255}
	skyBlue    = color.RGBA{86, 180, 233, 255}
	purple     = color.RGBA{204, 121, 167, 255}
	yellow     = color.RGBA{240, 228, 66, 255}
	black      = color.RGBA{0, 0, 0, 255}
	grey       = color.RGBA{120, 120, 120, 255}
	palette    = []color.RGBA{blue, vermillion, green, orange, skyBlue, purple, yellow, grey}
	dirColor   = [2]color.RGBA{blue, vermillion}
)

func light(c color.RGBA, alpha uint8) color.RGBA {
	// premultiplied: scale the channels
	f := float64(alpha) / 255
	return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), alpha}
}

// newPanel returns a plot with the house style.
func newPanel(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = font.Length(11)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = font.Length(9)
	p.Y.Label.TextStyle.Font.Size = font.Length(9)
	p.Legend.TextStyle.Font.Size = font.Length(8)
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Millimeter * 6
	p.Y.Tick.Marker = absTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// absTicks labels an axis with gonum's default ticks, written short
// ("2500", not "2500.00"), and absolute values, for mirrored axes.
type absTicks struct{}

func (absTicks) Ticks(lo, hi float64) []gplot.Tick {
	t := gplot.DefaultTicks{}.Ticks(lo, hi)
	for i := range t {
		if t[i].Label != "" {
			t[i].Label = strconv.FormatFloat(math.Abs(t[i].Value), 'g', -1, 64)
		}
	}
	return t
}

// finite reports whether every value is neither NaN nor infinite.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// span checks that the time axis [lo, hi] has a positive length.
func span(what string, lo, hi float64) error {
	if !(hi > lo) {
		return fmt.Errorf("%s: %w: everything at one instant (%.6f s)", what, ErrNoData, lo)
	}
	return nil
}
