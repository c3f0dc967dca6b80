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

// RTTSample is one round-trip time, dated by the ACK that ended it, for
// data sent in direction Dir.
type RTTSample struct {
	Time time.Time
	RTT  time.Duration
	Dir  tcpstate.Dir
}

// MinRTT is the smallest RTT per interval: interval i covers
// [Start+i*Width, Start+(i+1)*Width); a zero Min[i] means no sample.
type MinRTT struct {
	Start time.Time
	Width time.Duration
	Min   []time.Duration
}

// RTTData is what an RTT figure draws: samples, the minimum per interval,
// or both.
type RTTData struct {
	Samples []RTTSample
	Min     MinRTT
	// Names label the two directions' samples; empty means "client→server
	// data" and "server→client data".
	Names [2]string
}

// RTT draws round-trip times over time: each sample as a mark, by the
// direction of the data it timed, and the minimum per interval as steps.
func RTT(h Header, d RTTData) (*Figure, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("rtt: %w", err)
	}
	var pts [2]plotter.XYs
	first := true
	var lo, hi float64
	extend := func(x float64) {
		if first {
			lo, hi, first = x, x, false
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	for i, s := range d.Samples {
		if s.Time.Before(h.Start) || s.RTT < 0 || s.Dir > tcpstate.ServerToClient {
			return nil, fmt.Errorf("rtt: %w: sample %d (%v, %v, dir %d)", ErrBadData, i, s.Time, s.RTT, s.Dir)
		}
		x := h.seconds(s.Time)
		extend(x)
		pts[s.Dir] = append(pts[s.Dir], plotter.XY{X: x, Y: ms(s.RTT)})
	}
	var mins []plotter.XYs // runs of intervals with a sample
	if len(d.Min.Min) > 0 {
		if d.Min.Width <= 0 || d.Min.Start.IsZero() {
			return nil, fmt.Errorf("rtt: %w: minimum per interval has width %v, start %v", ErrBadData, d.Min.Width, d.Min.Start)
		}
		w := d.Min.Width.Seconds()
		x0 := h.seconds(d.Min.Start)
		var run plotter.XYs
		for i, m := range d.Min.Min {
			if m < 0 {
				return nil, fmt.Errorf("rtt: %w: minimum %d is %v", ErrBadData, i, m)
			}
			x := x0 + float64(i)*w
			if m == 0 {
				if len(run) > 0 {
					mins = append(mins, append(run, plotter.XY{X: x, Y: run[len(run)-1].Y}))
					run = nil
				}
				continue
			}
			extend(x)
			extend(x + w)
			run = append(run, plotter.XY{X: x, Y: ms(m)})
		}
		if len(run) > 0 {
			last := x0 + float64(len(d.Min.Min))*w
			mins = append(mins, append(run, plotter.XY{X: last, Y: run[len(run)-1].Y}))
		}
	}
	if first {
		return nil, fmt.Errorf("rtt: %w: no sample", ErrNoData)
	}
	if err := span("rtt", lo, hi); err != nil {
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
			p.Legend.Add(fmt.Sprintf("minimum per %v", d.Min.Width), l)
		}
	}
	p.Y.Min = 0
	p.Y.Max *= 1.25
	p.X.Min = max(0, p.X.Min)
	p.X.Max = h.xMax(hi)
	return newFigure([]*gplot.Plot{p}), nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
