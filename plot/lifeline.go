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

// Rows of a Lifeline figure, bottom to top: the components a request
// crosses on its way from the client to the server.
const (
	RowClient = iota
	RowCapture
	RowServer
	numRows
)

// Lifeliner is a set of NetLogger lifelines: each the path of one object
// (a handshake, a transaction) through the components of a connection,
// a polyline through the rows at the times the object was there.
type Lifeliner interface {
	// Len returns the number of lifelines.
	Len() int
	// Lifeline returns lifeline i's kind (lines of one kind share a
	// colour and an entry in the legend, e.g. "handshake",
	// "transaction") and how many points it has.
	Lifeline(i int) (kind string, points int)
	// LifelinePoint returns point j of lifeline i: its row (RowClient,
	// RowCapture or RowServer) and time.
	LifelinePoint(i, j int) (row int, at time.Time)
}

// LifeMarker is a list of single events marked on the rows of a
// Lifeline figure (retransmissions, zero windows, resets).
type LifeMarker interface {
	// Len returns the number of marks.
	Len() int
	// LifeMark returns mark i: its kind (marks of one kind share a glyph
	// and a legend entry), row and time.
	LifeMark(i int) (kind string, row int, at time.Time)
}

// LifelineOptions names the rows; zero names are "client", "capture
// point" and "server".
type LifelineOptions struct {
	Rows [numRows]string
}

// lifelineData is what a Lifeline figure draws, in seconds since the
// header's start: the lines and marks of each kind, kinds in first-seen
// order.
type lifelineData struct {
	kinds     []string
	lines     [][]plotter.XYs // by kind
	markKinds []string
	marks     []plotter.XYs // by mark kind
	lo, hi    float64
	n, nMarks int
}

func kindIndex(kinds *[]string, k string) int {
	for i, x := range *kinds {
		if x == k {
			return i
		}
	}
	*kinds = append(*kinds, k)
	return len(*kinds) - 1
}

// point validates one point and returns it on the figure's axes.
func (d *lifelineData) point(h Header, what string, row int, at time.Time) (plotter.XY, error) {
	switch {
	case row < 0 || row >= numRows:
		return plotter.XY{}, fmt.Errorf("lifeline: %w: %s has row %d", ErrBadData, what, row)
	case at.IsZero() || at.Before(h.Start):
		return plotter.XY{}, fmt.Errorf("lifeline: %w: %s at %v, before the start %v", ErrBadData, what, at, h.Start)
	}
	x := h.seconds(at)
	if d.n+d.nMarks == 0 {
		d.lo, d.hi = x, x
	}
	d.lo, d.hi = min(d.lo, x), max(d.hi, x)
	return plotter.XY{X: x, Y: float64(row)}, nil
}

func readLifelines(h Header, lines Lifeliner, marks LifeMarker) (*lifelineData, error) {
	d := &lifelineData{}
	for i := range length(lines) {
		kind, n := lines.Lifeline(i)
		if n < 2 {
			return nil, fmt.Errorf("lifeline: %w: lifeline %d has %d points", ErrBadData, i, n)
		}
		xy := make(plotter.XYs, n)
		for j := range n {
			row, at := lines.LifelinePoint(i, j)
			p, err := d.point(h, fmt.Sprintf("lifeline %d point %d", i, j), row, at)
			if err != nil {
				return nil, err
			}
			xy[j] = p
			d.n++
		}
		k := kindIndex(&d.kinds, kind)
		for len(d.lines) <= k {
			d.lines = append(d.lines, nil)
		}
		d.lines[k] = append(d.lines[k], xy)
	}
	for i := range length(marks) {
		kind, row, at := marks.LifeMark(i)
		p, err := d.point(h, fmt.Sprintf("mark %d", i), row, at)
		if err != nil {
			return nil, err
		}
		d.nMarks++
		k := kindIndex(&d.markKinds, kind)
		for len(d.marks) <= k {
			d.marks = append(d.marks, nil)
		}
		d.marks[k] = append(d.marks[k], p)
	}
	if d.n+d.nMarks == 0 {
		return nil, fmt.Errorf("lifeline: %w: no lifeline and no mark", ErrNoData)
	}
	if err := span("lifeline", d.lo, d.hi); err != nil {
		return nil, err
	}
	return d, nil
}

// markGlyphs are the shapes of the mark kinds, in first-seen order.
var markGlyphs = []draw.GlyphDrawer{draw.CrossGlyph{}, draw.BoxGlyph{}, draw.RingGlyph{}, draw.TriangleGlyph{},
	draw.PlusGlyph{}, draw.PyramidGlyph{}, draw.SquareGlyph{}, draw.CircleGlyph{}}

// Lifeline draws a connection's events as NetLogger draws a distributed
// application's: one row per component (client, capture point, server,
// bottom to top) and time across, each lifeline a line through the rows
// at the times its object passed them — a transaction's request leaving
// the client, crossing the capture point, reaching the server, the
// server's answer coming back — so that the legs of the path, the
// server's time and the transfers show as the slopes and the flats of
// the lines. Single events (lost segments, zero windows, resets) are
// marked on their rows. Each kind of line and of mark has its colour or
// glyph and a legend entry.
func Lifeline(h Header, lines Lifeliner, marks LifeMarker, o LifelineOptions) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("lifeline: %w", err)
	}
	d, err := readLifelines(h, lines, marks)
	if err != nil {
		return nil, err
	}
	names := o.Rows
	for i, def := range [numRows]string{"client", "capture point", "server"} {
		if names[i] == "" {
			names[i] = def
		}
	}
	p := newPanel(h.title(), "", "")
	p.Y.Tick.Marker = gplot.ConstantTicks{
		{Value: RowClient, Label: names[RowClient]},
		{Value: RowCapture, Label: names[RowCapture]},
		{Value: RowServer, Label: names[RowServer]},
	}
	for k, kind := range d.kinds {
		clr := palette[k%len(palette)]
		for i, xy := range d.lines[k] {
			l := line(xy, clr, vg.Points(0.8))
			p.Add(l)
			if i == 0 {
				p.add(fmt.Sprintf("%s (%d)", kind, len(d.lines[k])), l)
			}
		}
		p.Add(scatter(vertices(d.lines[k]), draw.CircleGlyph{}, clr, vg.Points(1.2)))
	}
	for k, kind := range d.markKinds {
		clr := color.Color(palette[(len(d.kinds)+k)%len(palette)])
		s := scatter(d.marks[k], markGlyphs[k%len(markGlyphs)], clr, vg.Points(3))
		p.Add(s)
		p.add(fmt.Sprintf("%s (%d)", kind, len(d.marks[k])), s)
	}
	p.Title.Text += fmt.Sprintf("\n%d lifelines, %d marked events", d.count(), d.nMarks)
	p.Y.Min, p.Y.Max = -0.4, float64(numRows)-0.6
	p.X.Min = max(h.xMin(), d.lo-0.01*(d.hi-d.lo))
	p.X.Max = h.xMax(d.hi)
	setTimeAxis(p, h)
	return newFigure([]*panel{p}), nil
}

func (d *lifelineData) count() int {
	n := 0
	for _, ls := range d.lines {
		n += len(ls)
	}
	return n
}

// vertices returns every point of the lines, for their dots.
func vertices(ls []plotter.XYs) plotter.XYs {
	var out plotter.XYs
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}
