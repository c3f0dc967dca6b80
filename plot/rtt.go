package plot

import (
	"fmt"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/netecology/netecology/tcpstate"
)

// RTTData is what an RTT figure draws: samples, the minimum per interval,
// or both.
type RTTData struct {
	Samples RTTSampler
	Min     MinRTTer
	// Names label the two directions' samples; empty means "client→server
	// data" and "server→client data".
	Names [2]string
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
		pts[dir] = append(pts[dir], plotter.XY{X: x, Y: ms(rtt)})
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
		run = append(run, plotter.XY{X: x, Y: ms(v)})
	}
	if len(run) > 0 {
		last := x0 + float64(n)*w
		runs = append(runs, append(run, plotter.XY{X: last, Y: run[len(run)-1].Y}))
	}
	return runs, width, nil
}

// RTT draws round-trip times over time: each sample as a mark, by the
// direction of the data it timed, and the minimum per interval as steps.
func RTT(h Header, d RTTData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("rtt: %w", err)
	}
	var ext extent
	pts, err := rttPoints(h, d.Samples, &ext)
	if err != nil {
		return nil, err
	}
	mins, width, err := minRuns(h, d.Min, &ext)
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
	p := newPanel(h.title(), "time since t=0, s", "round-trip time, ms")
	shapes := [2]draw.GlyphDrawer{draw.CircleGlyph{}, draw.RingGlyph{}}
	for dir := range 2 {
		if len(pts[dir]) > 0 {
			s := scatter(pts[dir], shapes[dir], dirColor[dir], vg.Points(2))
			p.Add(s)
			p.Legend.Add(fmt.Sprintf("%s (%d samples)", names[dir], len(pts[dir])), s)
		}
	}
	for i, m := range mins {
		l := line(m, green, vg.Points(2))
		l.StepStyle = plotter.PostStep
		p.Add(l)
		if i == 0 {
			p.Legend.Add(fmt.Sprintf("minimum per %v", width), l)
		}
	}
	p.Y.Min = 0
	p.Y.Max *= 1.25
	p.X.Min = max(0, p.X.Min)
	p.X.Max = h.xMax(ext.hi)
	return newFigure([]*gplot.Plot{p}), nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
