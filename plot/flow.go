package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/netecology/netecology/tcpstate"
)

// FlowData is what a packet-flow figure draws.
type FlowData struct {
	// Packets are the connection's packets; at least two, spanning time.
	Packets Packeter
	// Conn is the connection's bandwidth, by direction; required.
	Conn [2]ByteBinner
	// Link is the whole capture's bandwidth, by direction; drawn as
	// shaded areas behind Conn when it has bins.
	Link [2]ByteBinner
	// Names label the two directions; empty means "client→server" and
	// "server→client".
	Names [2]string
	// MSS is the full segment size (payload bytes) of each direction's
	// sender, and FullFrame the frame such a segment makes on the wire;
	// where FullFrame is positive a dashed line marks it, so that
	// segments below the MSS show.
	MSS, FullFrame [2]int
	// Notes are lines of text drawn in a box beside the figure (e.g. ACKs
	// per data segment, mean segment, turns, round trips).
	Notes []string
}

func (d *FlowData) names() [2]string {
	n := d.Names
	if n[0] == "" {
		n[0] = "client→server"
	}
	if n[1] == "" {
		n[1] = "server→client"
	}
	return n
}

// flowMarks are the packets of the top panel of a packet-flow figure, as
// seconds since the start and frame sizes (not yet placed above or below
// the ACK lanes), by direction.
type flowMarks struct {
	data, syn, fin, rst [2]plotter.XYs
	// acks are the times of the ACK-only packets.
	acks [2][]float64
	// maxSize is the largest frame.
	maxSize float64
}

// flowPoints reads and validates the packets, keeping those from h's
// From to its End.
func flowPoints(h Header, pk Packeter) (m flowMarks, err error) {
	n := length(pk)
	if n < 2 {
		return m, fmt.Errorf("packet flow: %w: %d packet(s), need two or more", ErrNoData, n)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range n {
		t, size, payload, dir, flags := pk.Packet(i)
		kind := kindOf(payload, flags)
		x := h.seconds(t)
		switch {
		case t.Before(h.Start):
			return m, fmt.Errorf("packet flow: %w: packet %d at %.6f s, before the start", ErrBadData, i, x)
		case size < 0 || payload < 0:
			return m, fmt.Errorf("packet flow: %w: packet %d has size %d", ErrBadData, i, size)
		case dir > tcpstate.ServerToClient:
			return m, fmt.Errorf("packet flow: %w: packet %d has direction %d", ErrBadData, i, dir)
		case t.Before(h.from()) || !h.End.IsZero() && t.After(h.End):
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
		xy := plotter.XY{X: x, Y: float64(size)}
		switch kind {
		case packetACK:
			m.acks[dir] = append(m.acks[dir], x)
			continue
		case packetSYN:
			m.syn[dir] = append(m.syn[dir], xy)
		case packetFIN:
			m.fin[dir] = append(m.fin[dir], xy)
		case packetRST:
			m.rst[dir] = append(m.rst[dir], xy)
		default:
			m.data[dir] = append(m.data[dir], xy)
		}
		m.maxSize = max(m.maxSize, xy.Y)
	}
	if math.IsInf(lo, 1) {
		return m, fmt.Errorf("packet flow: %w: no packet in the span shown", ErrNoData)
	}
	return m, span("packet flow", lo, hi)
}

// ackBand returns the height, in bytes of the size axis, of the two ACK
// lanes around the axis of a packet-flow figure whose largest frame is
// maxSize: a third of a full Ethernet frame, or more for larger frames.
func ackBand(maxSize float64) float64 { return 0.36 * max(1514, maxSize) }

// PacketFlow draws the packet-flow figure of "Wide Area Network Ecology":
// on top, the size of every packet of one connection over time, one
// direction above the axis and the other below, data as triangles and
// SYN, FIN and RST as marks of their own; the ACK-only packets of each
// direction as ticks in a lane of their own next to the axis, spread over
// the lane's rows so that each stays visible; a dashed line at each
// sender's full-size frame (FlowData.FullFrame). Below, on the same time
// axis, the bandwidth per interval of the connection in both directions
// (lines) and of the whole capture (shaded). The key and FlowData.Notes
// are drawn beside the panels.
func PacketFlow(h Header, d FlowData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("packet flow: %w", err)
	}
	m, err := flowPoints(h, d.Packets)
	if err != nil {
		return nil, err
	}
	for dir, b := range d.Conn {
		if err := validBins("packet flow", "connection "+tcpstate.Dir(dir).String(), b); err != nil {
			return nil, err
		}
	}
	for dir := range 2 {
		if d.MSS[dir] < 0 || d.FullFrame[dir] < 0 {
			return nil, fmt.Errorf("packet flow: %w: MSS %d, full frame %d", ErrBadData, d.MSS[dir], d.FullFrame[dir])
		}
	}
	names := d.names()
	top, xmax := flowTop(h, d, m, names)
	bot, err := flowBandwidth(h, d, names)
	if err != nil {
		return nil, err
	}
	// One time axis for both panels.
	xmax = h.xMax(xmax)
	for _, p := range []*panel{top, bot} {
		p.X.Min, p.X.Max = h.xMin(), xmax
		setTimeAxis(p, h)
	}
	top.X.Label.Text = ""
	for _, p := range []*panel{top, bot} {
		p.Add(&hline{sty: draw.LineStyle{Color: black, Width: vg.Points(0.5)}})
	}
	bot.notes = d.Notes
	f := newFigure([]*panel{top}, []*panel{bot})
	f.Height = PanelHeight * 2.3
	return f, nil
}

// flowPanel is the packet panel of a packet-flow figure while it is made:
// the series placed above and below the ACK lanes, which a change of the
// lanes' height moves.
type flowPanel struct {
	*panel
	placed []plotter.XYs
	hlines []*hline
}

// place returns xy (frame sizes) placed beyond the ACK lane on side s
// (1 above, -1 below).
func (t *flowPanel) place(xy plotter.XYs, s float64) plotter.XYs {
	out := make(plotter.XYs, len(xy))
	for i, p := range xy {
		out[i] = plotter.XY{X: p.X, Y: s * (p.Y + t.band)}
	}
	t.placed = append(t.placed, out)
	return out
}

// line adds a horizontal line across the panel at y.
func (t *flowPanel) line(y float64, sty draw.LineStyle) *hline {
	l := &hline{y: y, sty: sty}
	t.hlines = append(t.hlines, l)
	t.Add(l)
	return l
}

// rebandTo moves everything placed to lanes of another height.
func (t *flowPanel) rebandTo(band float64) {
	shift := band - t.band
	move := func(y *float64) {
		if *y >= 0 {
			*y += shift
		} else {
			*y -= shift
		}
	}
	for _, xy := range t.placed {
		for i := range xy {
			move(&xy[i].Y)
		}
	}
	for _, l := range t.hlines {
		move(&l.y)
	}
	t.Y.Min, t.Y.Max = t.Y.Min-shift*1.06, t.Y.Max+shift*1.06
	t.band = band
}

// addFlags marks the SYN, FIN and RST segments, one key entry each.
func (t *flowPanel) addFlags(m flowMarks) {
	sign := [2]float64{1, -1}
	for _, f := range []struct {
		xy    [2]plotter.XYs
		name  string
		shape draw.GlyphDrawer
		clr   func(int) color.Color
		r     vg.Length
	}{
		{m.syn, "SYN", draw.PyramidGlyph{}, func(d int) color.Color { return dirColor[d] }, vg.Points(3)},
		{m.fin, "FIN", draw.BoxGlyph{}, func(d int) color.Color { return dirColor[d] }, vg.Points(2.5)},
		{m.rst, "RST", draw.CrossGlyph{}, func(int) color.Color { return black }, vg.Points(4)},
	} {
		var thumbs []gplot.Thumbnailer
		n := 0
		for dir := range 2 {
			if len(f.xy[dir]) > 0 {
				s := scatter(t.place(f.xy[dir], sign[dir]), f.shape, f.clr(dir), f.r)
				t.Add(s)
				thumbs = append(thumbs, s)
				n += len(f.xy[dir])
			}
		}
		if n > 0 {
			t.add(fmt.Sprintf("%s (%d)", f.name, n), thumbs[0])
		}
	}
}

// flowTop makes the packet panel and returns it with the time of its
// last mark.
func flowTop(h Header, d FlowData, m flowMarks, names [2]string) (*panel, float64) {
	top := &flowPanel{panel: newPanel(h.title(), "", "frame size, bytes\n"+names[0]+" above, "+names[1]+" below")}
	maxSize := max(m.maxSize, float64(max(d.FullFrame[0], d.FullFrame[1])))
	top.band = ackBand(maxSize)
	top.Y.Tick.Marker = laneTicks{top.panel}
	sign := [2]float64{1, -1}
	for _, s := range sign { // the edges of the lanes
		top.line(s*top.band, draw.LineStyle{Color: light(grey, 110), Width: vg.Points(0.4)})
	}
	shapes := [2]draw.GlyphDrawer{upGlyph{}, downGlyph{}}
	same := d.FullFrame[0] == d.FullFrame[1] && d.MSS[0] == d.MSS[1]
	for dir := range 2 {
		if ff := d.FullFrame[dir]; ff > 0 {
			l := top.line(sign[dir]*(float64(ff)+top.band), draw.LineStyle{Color: dirColor[dir],
				Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}})
			switch {
			case !same:
				top.add(fmt.Sprintf("%s full-size frame: %d B (MSS %d)", names[dir], ff, d.MSS[dir]), l)
			case dir == 0:
				top.add(fmt.Sprintf("full-size frame: %d B (MSS %d)", ff, d.MSS[dir]), l)
			}
		}
		if len(m.data[dir]) > 0 {
			s := scatter(top.place(m.data[dir], sign[dir]), shapes[dir], dirColor[dir], vg.Points(2.5))
			top.Add(s)
			top.add(fmt.Sprintf("%s data (%d)", names[dir], len(m.data[dir])), s)
		}
		l := &ackLane{x: m.acks[dir], sign: sign[dir], p: top.panel, clr: dirColor[dir]}
		l.stats.Name = names[dir] + " ACK only"
		top.lanes = append(top.lanes, l)
		top.Add(l)
		if len(m.acks[dir]) > 0 {
			top.add(fmt.Sprintf("%s ACK only (%d)", names[dir], len(m.acks[dir])), l)
		}
	}
	top.addFlags(m)
	ymax := top.band + maxSize
	top.Y.Min, top.Y.Max = -ymax*1.06, ymax*1.06
	top.reband = top.rebandTo
	_, hi := xRange(m.data, m.syn, m.fin, m.rst)
	for _, a := range m.acks {
		if len(a) > 0 {
			hi = max(hi, a[len(a)-1])
		}
	}
	return top.panel, hi
}

// flowBandwidth makes the bandwidth panel of a packet-flow figure.
func flowBandwidth(h Header, d FlowData, names [2]string) (*panel, error) {
	_, width := d.Conn[0].Grid()
	bot := newPanel("", "", "")
	sign := [2]float64{1, -1}
	var series []plotter.XYs
	var bases [][]float64
	for dir := range 2 {
		if length(d.Link[dir]) == 0 {
			continue
		}
		if err := validBins("packet flow", "capture "+tcpstate.Dir(dir).String(), d.Link[dir]); err != nil {
			return nil, err
		}
		a := &area{XYs: steps(d.Link[dir], h, sign[dir]), Color: light(dirColor[dir], 60)}
		series = append(series, a.XYs)
		bot.Add(a)
		bot.add(names[dir]+", whole capture", a)
	}
	for dir := range 2 {
		l := line(steps(d.Conn[dir], h, sign[dir]), dirColor[dir], vg.Points(1))
		l.StepStyle = plotter.PostStep
		series = append(series, l.XYs)
		bot.Add(l)
		bot.add(names[dir]+", this connection", l)
	}
	symmetric(bot)
	setRateAxis(bot, func(unit string) string {
		return fmt.Sprintf("%s per %v\n%s above, %s below", unit, width, names[0], names[1])
	}, series, bases)
	return bot, nil
}

// xRange returns the smallest and largest x of the series.
func xRange(sets ...[2]plotter.XYs) (lo, hi float64) {
	first := true
	for _, s := range sets {
		for _, xy := range s {
			for _, p := range xy {
				if first {
					lo, hi, first = p.X, p.X, false
				}
				lo, hi = min(lo, p.X), max(hi, p.X)
			}
		}
	}
	return lo, hi
}

// symmetric makes a mirrored panel's vertical range symmetric about zero.
func symmetric(p *panel) {
	m := max(-p.Y.Min, p.Y.Max)
	if m <= 0 {
		m = 1
	}
	p.Y.Min, p.Y.Max = -m*1.1, m*1.1
}

// laneTicks marks the size axis of a packet-flow panel: frame sizes from
// the edge of each ACK lane outwards, and the lanes themselves.
type laneTicks struct{ p *panel }

// Ticks implements gonum's plot.Ticker.
func (l laneTicks) Ticks(lo, hi float64) []gplot.Tick {
	band := l.p.band
	m := max(hi, -lo) - band
	if m <= 0 {
		m = 1
	}
	var out []gplot.Tick
	for _, t := range (gplot.DefaultTicks{}).Ticks(0, m) {
		if t.Value < 0 {
			continue
		}
		label := ""
		if t.Label != "" {
			label = strconv.FormatFloat(t.Value, 'g', -1, 64)
		}
		out = append(out, gplot.Tick{Value: t.Value + band, Label: label}, gplot.Tick{Value: -t.Value - band, Label: label})
	}
	return append(out, gplot.Tick{Value: band / 2, Label: "ACK"}, gplot.Tick{Value: -band / 2, Label: "ACK"})
}

// Lane layout: the most rows an ACK lane splits into, the space between
// marks of one row and the marks' width.
const (
	laneRows  = 8
	laneSep   = vg.Length(2.5)
	laneWidth = vg.Length(1)
)

// ackLane draws the ACK-only packets of one direction as ticks in the
// lane between the axis and the edge of the band (above it for sign 1,
// below for -1): each tick goes to the lowest row of the lane whose last
// tick is at least laneSep to its left, so that ticks closer together
// than that stack up rather than merge. The lane has as few rows as that
// needs (one at least, laneRows at most, the fewer the taller the ticks).
// A tick for which no row has room goes where it overlaps least and is
// not counted apart.
type ackLane struct {
	x     []float64
	sign  float64
	p     *panel
	clr   color.RGBA
	stats Lane
}

func (l *ackLane) reset() { l.stats = Lane{Name: l.stats.Name} }

// place assigns the ticks at px (in order) to rows, and returns each
// tick's row and the rows' ticks.
func place(px []vg.Length) (row []int, rows [laneRows][]vg.Length) {
	for _, x := range px {
		r := -1
		for k := range laneRows {
			if n := len(rows[k]); n == 0 || x-rows[k][n-1] >= laneSep {
				r = k
				break
			}
		}
		if r < 0 { // no room: the row whose last tick is farthest back
			r = 0
			for k := range laneRows {
				if rows[k][len(rows[k])-1] < rows[r][len(rows[r])-1] {
					r = k
				}
			}
		}
		rows[r] = append(rows[r], x)
		row = append(row, r)
	}
	return row, rows
}

// Plot implements gonum's plot.Plotter.
func (l *ackLane) Plot(c draw.Canvas, p *gplot.Plot) {
	l.reset()
	trX, trY := p.Transforms(&c)
	var px []vg.Length
	for _, x := range l.x {
		if x >= p.X.Min && x <= p.X.Max {
			px = append(px, trX(x))
		}
	}
	row, rows := place(px)
	for _, r := range row {
		l.stats.Rows = max(l.stats.Rows, r+1)
	}
	y0, y1 := trY(0), trY(l.sign*l.p.band)
	h := (y1 - y0) / vg.Length(l.sign) // lane height, positive
	margin := h * 0.08
	rowH := (h - 2*margin) / vg.Length(max(l.stats.Rows, 2))
	sty := draw.LineStyle{Color: l.clr, Width: laneWidth}
	for i, x := range px {
		lo := margin + vg.Length(row[i])*rowH + rowH*0.1
		hi := lo + rowH*0.8
		c.StrokeLine2(sty, x, y0+vg.Length(l.sign)*lo, x, y0+vg.Length(l.sign)*hi)
	}
	l.stats.Packets = len(px)
	for k := range laneRows {
		r := rows[k]
		for i := range r {
			if (i == 0 || r[i]-r[i-1] >= laneSep) && (i == len(r)-1 || r[i+1]-r[i] >= laneSep) {
				l.stats.Apart++
			}
		}
	}
}

// DataRange implements gonum's plot.DataRanger: the lane spans the band.
func (l *ackLane) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	if len(l.x) > 0 {
		xmin, xmax = l.x[0], l.x[len(l.x)-1]
	}
	return xmin, xmax, min(0, l.sign*l.p.band), max(0, l.sign*l.p.band)
}

// Thumbnail implements gonum's plot.Thumbnailer for the key (its ticks
// a little thinner than the lane's, so that the lane's can be told apart
// in the drawing).
func (l *ackLane) Thumbnail(c *draw.Canvas) {
	sty := draw.LineStyle{Color: l.clr, Width: laneWidth * 0.8}
	for i := range 3 {
		x := c.Min.X + (c.Max.X-c.Min.X)*vg.Length(i+1)/4
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
	}
}
