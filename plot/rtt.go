package plot

import (
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// RTTData is what an RTT figure draws: samples, the minimum per interval,
// or both, from TCP and from echoes.
type RTTData struct {
	// Samples are TCP's data→ACK samples and Min their minimum per
	// interval.
	Samples RTTSampler
	Min     MinRTTer
	// Names label the two directions' samples; empty means "client→server
	// data" and "server→client data".
	Names [2]string
	// Echo holds round trips measured by echoes (ICMP, UDP echo; the
	// direction is ignored) and EchoMin their minimum per interval, drawn
	// in a colour of their own.
	Echo    RTTSampler
	EchoMin MinRTTer
	// EchoName names the echoes; empty means "echo".
	EchoName string
}

// extent is the smallest and largest of the x values added.
type extent struct {
	lo, hi float64
	set    bool
}

func (e *extent) add(x float64) {
	if !e.set {
		e.lo, e.hi, e.set = x, x, true
	}
	e.lo, e.hi = min(e.lo, x), max(e.hi, x)
}

// rttPoints reads and validates the samples: per direction of the data
// timed, (seconds since the start, RTT in ms).
func rttPoints(h Header, s RTTSampler, ext *extent) (pts [2]plotter.XYs, err error) {
	for i := range length(s) {
		t, rtt, dir := s.RTTSample(i)
		if t.Before(h.Start) || rtt < 0 || dir > tcpstate.ServerToClient {
			return pts, fmt.Errorf("rtt: %w: sample %d (%v, %v, dir %d)", ErrBadData, i, t, rtt, dir)
		}
		x := h.seconds(t)
		ext.add(x)
		pts[dir] = append(pts[dir], plotter.XY{X: x, Y: units.Ms(rtt)})
	}
	return pts, nil
}

// minRuns reads and validates the minimum per interval as post-step lines,
// one per run of intervals with a sample, and returns the intervals'
// width.
func minRuns(h Header, m MinRTTer, ext *extent) (runs []plotter.XYs, width time.Duration, err error) {
	n := length(m)
	if n == 0 {
		return nil, 0, nil
	}
	start, width := m.Grid()
	if width <= 0 || start.IsZero() {
		return nil, 0, fmt.Errorf("rtt: %w: minimum per interval has width %v, start %v", ErrBadData, width, start)
	}
	w := width.Seconds()
	x0 := h.seconds(start)
	var run plotter.XYs
	for i := range n {
		v := m.BinMin(i)
		if v < 0 {
			return nil, 0, fmt.Errorf("rtt: %w: minimum %d is %v", ErrBadData, i, v)
		}
		x := x0 + float64(i)*w
		if v == 0 {
			if len(run) > 0 {
				runs = append(runs, append(run, plotter.XY{X: x, Y: run[len(run)-1].Y}))
				run = nil
			}
			continue
		}
		ext.add(x)
		ext.add(x + w)
		run = append(run, plotter.XY{X: x, Y: units.Ms(v)})
	}
	if len(run) > 0 {
		last := x0 + float64(n)*w
		runs = append(runs, append(run, plotter.XY{X: last, Y: run[len(run)-1].Y}))
	}
	return runs, width, nil
}

// RTT draws round-trip times over time: each sample as a mark, by the
// direction of the data it timed (echoes apart), and the minimum per
// interval as steps. Over a span of hours or more the time axis gives the
// time of day.
func RTT(h Header, d RTTData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("rtt: %w", err)
	}
	var ext extent
	pts, err := rttPoints(h, d.Samples, &ext)
	if err != nil {
		return nil, err
	}
	echo, err := rttPoints(h, d.Echo, &ext)
	if err != nil {
		return nil, err
	}
	mins, width, err := minRuns(h, d.Min, &ext)
	if err != nil {
		return nil, err
	}
	emins, ewidth, err := minRuns(h, d.EchoMin, &ext)
	if err != nil {
		return nil, err
	}
	if !ext.set {
		return nil, fmt.Errorf("rtt: %w: no sample", ErrNoData)
	}
	if err := span("rtt", ext.lo, ext.hi); err != nil {
		return nil, err
	}
	names := d.Names
	if names[0] == "" {
		names[0] = "client→server data"
	}
	if names[1] == "" {
		names[1] = "server→client data"
	}
	en := d.EchoName
	if en == "" {
		en = "echo"
	}
	p := newPanel(h.title(), "", "round-trip time, ms")
	shapes := [2]draw.GlyphDrawer{draw.CircleGlyph{}, draw.RingGlyph{}}
	for dir := range 2 {
		if len(pts[dir]) > 0 {
			s := scatter(pts[dir], shapes[dir], dirColor[dir], vg.Points(2))
			p.Add(s)
			p.add(fmt.Sprintf("%s (%d samples)", names[dir], len(pts[dir])), s)
		}
	}
	if all := append(echo[0], echo[1]...); len(all) > 0 {
		s := scatter(all, draw.SquareGlyph{}, purple, vg.Points(1.8))
		p.Add(s)
		p.add(fmt.Sprintf("%s (%d samples)", en, len(all)), s)
	}
	addMins(p, mins, green, fmt.Sprintf("minimum per %v", width))
	addMins(p, emins, black, fmt.Sprintf("%s minimum per %v", en, ewidth))
	p.Y.Min = 0
	p.Y.Max *= 1.1
	p.X.Min = h.xMin()
	p.X.Max = h.xMax(ext.hi)
	setTimeAxis(p, h)
	return newFigure([]*panel{p}), nil
}

// addMins draws runs of minima per interval as steps, with one key entry.
func addMins(p *panel, runs []plotter.XYs, clr color.RGBA, name string) {
	for i, m := range runs {
		l := line(m, clr, vg.Points(2))
		l.StepStyle = plotter.PostStep
		p.Add(l)
		if i == 0 {
			p.add(name, l)
		}
	}
}
