package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
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

// Default size of one panel (its data and axes; the key, drawn beside it,
// adds to the figure's width).
const (
	PanelWidth  = 8 * vg.Inch
	PanelHeight = 3.2 * vg.Inch
)

// Header names what a figure shows.
type Header struct {
	// Title is the figure's first title line, e.g. the endpoints.
	Title string
	// Start is t=0 of the time axis; it must not be zero. Its date and
	// time (UTC) are written under the title.
	Start time.Time
	// From, if set, starts the time axis there instead of at Start (to
	// zoom in on part of a capture): the axis still counts from Start, so
	// a zoomed figure shows the times of the whole one. Data before it is
	// clipped. It must not be before Start.
	From time.Time
	// End, if set, ends the time axis (to zoom in on part of a
	// capture); data after it is clipped. Zero fits the axis to the data.
	End time.Time
}

func (h Header) validate() error {
	if h.Start.IsZero() {
		return fmt.Errorf("%w: header start time is zero", ErrBadData)
	}
	if !h.From.IsZero() && h.From.Before(h.Start) {
		return fmt.Errorf("%w: header from %v is before its start", ErrBadData, h.From)
	}
	if !h.End.IsZero() && !h.End.After(h.from()) {
		return fmt.Errorf("%w: header end %v is not after its start", ErrBadData, h.End)
	}
	return nil
}

// from returns where the time axis starts: From, else Start.
func (h Header) from() time.Time {
	if h.From.IsZero() {
		return h.Start
	}
	return h.From
}

// xMin returns the left end of the time axis in seconds since Start.
func (h Header) xMin() float64 { return h.seconds(h.from()) }

// xMax returns the right end of the time axis: End if set, else the data's
// last x plus a margin.
func (h Header) xMax(dataMax float64) float64 {
	if !h.End.IsZero() {
		return h.seconds(h.End)
	}
	lo := h.xMin()
	return lo + (dataMax-lo)*1.02
}

// title returns the two title lines.
func (h Header) title() string {
	return h.Title + "\n" + "capture of " + h.Start.UTC().Format("2006-01-02, t=0 at 15:04:05.000 UTC")
}

// seconds returns t as seconds since the header's start.
func (h Header) seconds(t time.Time) float64 { return t.Sub(h.Start).Seconds() }

// panel is one plot of a figure with its key: the legend and the notes
// drawn beside the data, never on it.
type panel struct {
	*gplot.Plot
	key       gplot.Legend
	keyTexts  []string
	notes     []string
	noteStyle text.Style
	text      *spaceHandler
	// rate is set on panels whose vertical axis is a rate, so that Beside
	// can put panels side by side in one unit.
	rate *rateAxis
	// lanes are the ACK lanes drawn, whose counts Lanes reports.
	lanes []*ackLane
	// band is the height of the ACK lanes of a packet-flow panel (zero
	// for others) and reband moves its data to another band.
	band   float64
	reband func(float64)
}

// add adds an entry to the panel's key.
func (p *panel) add(name string, thumbs ...gplot.Thumbnailer) {
	p.key.Add(name, thumbs...)
	p.keyTexts = append(p.keyTexts, name)
}

// keyWidth returns the width the panel's key needs.
func (p *panel) keyWidth() vg.Length {
	var w vg.Length
	for _, n := range p.keyTexts {
		w = max(w, p.key.ThumbnailWidth+p.key.TextStyle.Width(" "+n))
	}
	for _, n := range p.notes {
		w = max(w, p.noteStyle.Width(n)+2*notePad)
	}
	return w
}

// Figure is a grid of panels ready to render.
type Figure struct {
	rows [][]*panel
	// Width and Height are the size of the whole figure; the constructors
	// set a size that suits their panels.
	Width, Height vg.Length
	keyW          vg.Length
}

// newFigure lays out rows of panels, each PanelWidth wide plus the key.
func newFigure(rows ...[]*panel) *Figure {
	f := &Figure{rows: rows}
	f.keyW = f.keyWidth()
	f.Width = (PanelWidth + f.keyW) * vg.Length(f.Cols())
	f.Height = PanelHeight * vg.Length(len(rows))
	return f
}

// keyWidth is the widest key of the figure's panels (zero when none has
// one), with a margin.
func (f *Figure) keyWidth() vg.Length {
	var w vg.Length
	for _, row := range f.rows {
		for _, p := range row {
			w = max(w, p.keyWidth())
		}
	}
	if w > 0 {
		w += 3 * vg.Millimeter
	}
	return w
}

// SetPanelWidth sizes the figure for panels w wide, the keys beside them
// kept as they are.
func (f *Figure) SetPanelWidth(w vg.Length) {
	f.Width = (w + f.keyW) * vg.Length(f.Cols())
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

// XRange returns the time range of the panel at row i, column j, in
// seconds since its header's Start.
func (f *Figure) XRange(i, j int) (lo, hi float64) {
	p := f.rows[i][j]
	return p.X.Min, p.X.Max
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
	gap := vg.Millimeter * 4
	tiles := draw.Tiles{Rows: f.Rows(), Cols: f.Cols(), PadX: gap + f.keyW, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: gap + f.keyW}
	plots := make([][]*gplot.Plot, len(f.rows))
	for i, row := range f.rows {
		for _, p := range row {
			plots[i] = append(plots[i], p.Plot)
		}
	}
	canvases := gplot.Align(plots, tiles, dc)
	for _, row := range f.rows {
		for _, p := range row {
			p.text.nbsp = format != "svg"
		}
	}
	for i, row := range f.rows {
		for j, p := range row {
			for _, l := range p.lanes {
				l.reset()
			}
			p.Draw(canvases[i][j])
			p.drawKey(canvases[i][j], f.keyW)
		}
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	return nil
}

// Key text and notes.
var (
	keyFont = font.Length(8)
	notePad = vg.Millimeter * 1.5
)

// drawKey draws the panel's legend and notes in the strip of width w to
// the right of c (the panel's canvas), from the top of its data.
func (p *panel) drawKey(c draw.Canvas, w vg.Length) {
	if w <= 0 {
		return
	}
	data := p.DataCanvas(c)
	left := c.Max.X + 2*vg.Millimeter
	kc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: left, Y: c.Min.Y}, Max: vg.Point{X: left + w, Y: data.Max.Y}}}
	top := kc.Max.Y
	if len(p.keyTexts) > 0 {
		p.key.Draw(kc)
		top -= p.key.Rectangle(kc).Size().Y + 2*vg.Millimeter
	}
	if len(p.notes) == 0 {
		return
	}
	lh := p.noteStyle.Height("Mg") * 1.15
	h := lh*vg.Length(len(p.notes)) + 2*notePad
	var tw vg.Length
	for _, n := range p.notes {
		tw = max(tw, p.noteStyle.Width(n))
	}
	box := []vg.Point{{X: left, Y: top}, {X: left + tw + 2*notePad, Y: top},
		{X: left + tw + 2*notePad, Y: top - h}, {X: left, Y: top - h}, {X: left, Y: top}}
	kc.FillPolygon(color.RGBA{250, 250, 245, 255}, box)
	kc.StrokeLines(draw.LineStyle{Color: grey, Width: vg.Points(0.5)}, box)
	y := top - notePad - p.noteStyle.FontExtents().Ascent
	for _, n := range p.notes {
		kc.FillText(p.noteStyle, vg.Point{X: left + notePad, Y: y}, n)
		y -= lh
	}
}

// Beside puts figures side by side: row i of the result holds row i of
// each figure, left to right. The figures must have the same number of
// rows; each row's panels are given the same vertical range (and rates
// the same unit), so that the figures compare at a glance.
func Beside(figs ...*Figure) (*Figure, error) {
	if len(figs) == 0 {
		return nil, fmt.Errorf("beside: %w", ErrNoData)
	}
	n := figs[0].Rows()
	rows := make([][]*panel, n)
	h := figs[0].Height
	for k, f := range figs {
		if f.Rows() != n {
			return nil, fmt.Errorf("beside: figure %d has %d rows, figure 0 has %d", k, f.Rows(), n)
		}
		for i := range n {
			rows[i] = append(rows[i], f.rows[i]...)
		}
		h = max(h, f.Height)
	}
	for _, row := range rows {
		shareBand(row)
		shareRateUnit(row)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range row {
			lo, hi = min(lo, p.Y.Min), max(hi, p.Y.Max)
		}
		for _, p := range row {
			p.Y.Min, p.Y.Max = lo, hi
		}
	}
	f := &Figure{rows: rows, Height: h}
	f.keyW = f.keyWidth()
	for _, g := range figs {
		f.Width += g.Width - g.keyW*vg.Length(g.Cols()) + f.keyW*vg.Length(g.Cols())
	}
	return f, nil
}

// shareBand gives the packet-flow panels of a row the widest ACK band.
func shareBand(row []*panel) {
	var band float64
	for _, p := range row {
		band = max(band, p.band)
	}
	for _, p := range row {
		if p.reband != nil && p.band != band {
			p.reband(band)
		}
	}
}

// Lane counts the ACK-only packets of one lane of a packet-flow figure as
// last rendered: how many were drawn and how many of them stand apart from
// every other mark of the lane (at least a mark's width of space between
// them, or in another row of the lane).
type Lane struct {
	// Name names the lane, e.g. "client→server ACK only".
	Name string
	// Packets counts the ACK-only packets in the plotted span; Apart
	// those drawn apart from the others; Rows the rows of the lane used.
	Packets, Apart, Rows int
}

// Lanes returns the ACK lanes of the figure's panels, row by row and left
// to right, with their counts from the last Render (zero before one).
func (f *Figure) Lanes() []Lane {
	var out []Lane
	for _, row := range f.rows {
		for _, p := range row {
			for _, l := range p.lanes {
				out = append(out, l.stats)
			}
		}
	}
	return out
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

// newPanel returns a panel with the house style.
func newPanel(title, xlabel, ylabel string) *panel {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = font.Length(11)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = font.Length(9)
	p.Y.Label.TextStyle.Font.Size = font.Length(9)
	p.Y.Tick.Marker = absTicks{}
	p.Add(plotter.NewGrid())
	th := &spaceHandler{Handler: gplot.DefaultTextHandler}
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label} {
		st.Handler = th
	}
	key := gplot.NewLegend()
	key.TextStyle.Handler = th
	key.TextStyle.Font.Size = keyFont
	key.Top, key.Left = true, true
	key.ThumbnailWidth = vg.Millimeter * 6
	notes := text.Style{Font: font.From(gplot.DefaultFont, 8), Handler: th}
	return &panel{Plot: p, key: key, text: th, noteStyle: notes}
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

// spaceHandler lays out and draws a panel's text as gonum's plain handler
// does; with nbsp set (raster and PDF output) every space is drawn as a
// no-break space: gonum's raster renderer applies the font's kerning of a
// space before some capitals (" A") so hard that the space disappears
// ("203ACKs"), and a no-break space has no kerning pairs and the same
// width. SVG keeps plain spaces: the browser kerns them right.
type spaceHandler struct {
	text.Handler
	nbsp bool
}

func (h *spaceHandler) fix(txt string) string {
	if h.nbsp {
		return strings.ReplaceAll(txt, " ", "\u00a0")
	}
	return txt
}

// Box implements text.Handler.
func (h *spaceHandler) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	return h.Handler.Box(h.fix(txt), fnt)
}

// Draw implements text.Handler.
func (h *spaceHandler) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	h.Handler.Draw(c, h.fix(txt), sty, pt)
}
