package plot

import (
	"fmt"

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

// flowPoints splits the packets into the four scatter series of the top
// panel: data and pure ACKs of each direction, as (seconds since start,
// signed bytes). It validates the packets.
func flowPoints(h Header, pk Packeter) (data, acks [2]plotter.XYs, err error) {
	n := length(pk)
	if n < 2 {
		return data, acks, fmt.Errorf("packet flow: %w: %d packet(s), need two or more", ErrNoData, n)
	}
	first, _, _, _ := pk.Packet(0)
	lo, hi := h.seconds(first), h.seconds(first)
	for i := range n {
		t, size, dir, pure := pk.Packet(i)
		x := h.seconds(t)
		switch {
		case t.Before(h.Start):
			return data, acks, fmt.Errorf("packet flow: %w: packet %d at %.6f s, before the start", ErrBadData, i, x)
		case size < 0:
			return data, acks, fmt.Errorf("packet flow: %w: packet %d has size %d", ErrBadData, i, size)
		case dir > tcpstate.ServerToClient:
			return data, acks, fmt.Errorf("packet flow: %w: packet %d has direction %d", ErrBadData, i, dir)
		}
		lo, hi = min(lo, x), max(hi, x)
		y := float64(size)
		if dir == tcpstate.ServerToClient {
			y = -y
		}
		if pure {
			acks[dir] = append(acks[dir], plotter.XY{X: x, Y: y})
		} else {
			data[dir] = append(data[dir], plotter.XY{X: x, Y: y})
		}
	}
	return data, acks, span("packet flow", lo, hi)
}

// PacketFlow draws the packet-flow figure of "Wide Area Network Ecology":
// on top, the size of every packet of one connection over time, one
// direction above the axis and the other below, data as triangles and
// pure ACKs as rings, so that back-to-back packets and the ACK pattern
// show; below, on the same time axis, the bandwidth per interval of the
// connection in both directions (lines) and of the whole capture (shaded).
func PacketFlow(h Header, d FlowData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("packet flow: %w", err)
	}
	data, acks, err := flowPoints(h, d.Packets)
	if err != nil {
		return nil, err
	}
	for dir, b := range d.Conn {
		if err := validBins("packet flow", "connection "+tcpstate.Dir(dir).String(), b); err != nil {
			return nil, err
		}
	}
	names := d.names()
	top := newPanel(h.title(), "", "frame size, bytes\n"+names[0]+" above, "+names[1]+" below")
	zero := line(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: 0}}, black, vg.Points(0.5))
	top.Add(zero)
	shapes := [2]draw.GlyphDrawer{upGlyph{}, downGlyph{}}
	for dir := range 2 {
		if len(data[dir]) > 0 {
			s := scatter(data[dir], shapes[dir], dirColor[dir], vg.Points(2.5))
			top.Add(s)
			top.Legend.Add(names[dir]+" data", s)
		}
		if len(acks[dir]) > 0 {
			s := scatter(acks[dir], draw.RingGlyph{}, dirColor[dir], vg.Points(2.5))
			top.Add(s)
			top.Legend.Add(names[dir]+" ACK only", s)
		}
	}
	top.Legend.Left = false

	_, width := d.Conn[0].Grid()
	bot := newPanel("", "time since t=0, s", fmt.Sprintf("kbit/s per %v\n%s above, %s below", width, names[0], names[1]))
	sign := [2]float64{1, -1}
	for dir := range 2 {
		if length(d.Link[dir]) == 0 {
			continue
		}
		if err := validBins("packet flow", "capture "+tcpstate.Dir(dir).String(), d.Link[dir]); err != nil {
			return nil, err
		}
		a := &area{XYs: steps(d.Link[dir], h, sign[dir]), Color: light(dirColor[dir], 60)}
		bot.Add(a)
		bot.Legend.Add(names[dir]+", whole capture", a)
	}
	for dir := range 2 {
		l := line(steps(d.Conn[dir], h, sign[dir]), dirColor[dir], vg.Points(1))
		l.StepStyle = plotter.PostStep
		bot.Add(l)
		bot.Legend.Add(names[dir]+", this connection", l)
	}

	// One time axis for both panels: from t=0 to the last packet.
	_, xmax := xRange(data, acks)
	xmax = h.xMax(xmax)
	for _, p := range []*gplot.Plot{top, bot} {
		p.X.Min, p.X.Max = 0, xmax
	}
	// Extend the zero lines across.
	zero.XYs[1].X = xmax
	bot.Add(line(plotter.XYs{{X: 0, Y: 0}, {X: xmax, Y: 0}}, black, vg.Points(0.5)))
	symmetric(top)
	symmetric(bot)
	f := newFigure([]*gplot.Plot{top}, []*gplot.Plot{bot})
	return f, nil
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

// symmetric makes a mirrored panel's vertical range symmetric about zero,
// with head room for the legend.
func symmetric(p *gplot.Plot) {
	m := max(-p.Y.Min, p.Y.Max)
	if m <= 0 {
		m = 1
	}
	p.Y.Min, p.Y.Max = -m*1.1, m*1.45
}
