package plot

import (
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// clockSpan is the shortest time axis labelled with the time of day
// rather than seconds.
const clockSpan = 2 * time.Hour

// setTimeAxis labels p's horizontal axis, whose range is set, in seconds
// since h.Start or, when it spans clockSpan or more, with the time of day
// (UTC) of h.Start plus those seconds.
func setTimeAxis(p *panel, h Header) {
	if p.X.Max-p.X.Min < clockSpan.Seconds() {
		p.X.Label.Text = "time since t=0, s"
		return
	}
	p.X.Label.Text = "time of day, UTC"
	p.X.Tick.Marker = clockTicks{start: h.Start}
}

// clockSteps are the tick intervals of a time-of-day axis.
var clockSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// clockTicks marks an axis of seconds since start at round times of day
// (UTC): "15:00", with the date where it changes ("Nov 23 00:00"), or
// dates alone for steps of a day or more.
type clockTicks struct{ start time.Time }

// Ticks implements gonum's plot.Ticker.
func (c clockTicks) Ticks(lo, hi float64) []gplot.Tick {
	t0 := c.start.Add(time.Duration(lo * float64(time.Second))).UTC()
	t1 := c.start.Add(time.Duration(hi * float64(time.Second))).UTC()
	step := clockSteps[len(clockSteps)-1]
	for _, s := range clockSteps {
		if t1.Sub(t0)/s <= 8 {
			step = s
			break
		}
	}
	var ticks []gplot.Tick
	first := true
	lastDay := -1
	for t := t0.Truncate(step); !t.After(t1); t = t.Add(step) {
		if half := t.Add(step / 2); !half.Before(t0) && !half.After(t1) {
			ticks = append(ticks, gplot.Tick{Value: half.Sub(c.start).Seconds()})
		}
		if t.Before(t0) {
			continue
		}
		label := t.Format("15:04")
		switch {
		case step >= 24*time.Hour:
			label = t.Format("Jan 2")
		case first || t.YearDay() != lastDay:
			label = t.Format("Jan 2 15:04")
		}
		first, lastDay = false, t.YearDay()
		ticks = append(ticks, gplot.Tick{Value: t.Sub(c.start).Seconds(), Label: label})
	}
	return ticks
}

// rateAxis is a panel's vertical axis of rates, drawn in kbit/s, Mbit/s or
// Gbit/s: its series are kept so that the unit can change after they are
// made.
type rateAxis struct {
	div    float64 // kbit/s per unit drawn: 1, 1e3 or 1e6
	label  func(unit string) string
	series []plotter.XYs
	bases  [][]float64
}

// rateUnits are the units a rate axis chooses from, by kbit/s per unit.
var rateUnits = []struct {
	div  float64
	name string
}{{1, "kbit/s"}, {1e3, "Mbit/s"}, {1e6, "Gbit/s"}}

// unit returns the name of the axis's unit.
func (r *rateAxis) unit() string {
	for _, u := range rateUnits {
		if u.div == r.div {
			return u.name
		}
	}
	return "kbit/s"
}

// setRateAxis makes p's vertical axis a rate axis over series (in kbit/s,
// bases included), choosing the unit in which its largest value is below
// 10 000 and setting the label from it. Call it once the range is set.
func setRateAxis(p *panel, label func(unit string) string, series []plotter.XYs, bases [][]float64) {
	r := &rateAxis{div: 1, label: label, series: series, bases: bases}
	m := max(p.Y.Max, -p.Y.Min)
	for _, u := range rateUnits[1:] {
		if m/u.div >= 10 {
			r.div = u.div
		}
	}
	p.rate = r
	r.scale(p, 1/r.div)
}

// scale multiplies the axis's values and p's range by f and labels it.
func (r *rateAxis) scale(p *panel, f float64) {
	if f != 1 {
		for _, xy := range r.series {
			for i := range xy {
				xy[i].Y *= f
			}
		}
		for _, b := range r.bases {
			for i := range b {
				b[i] *= f
			}
		}
		p.Y.Min, p.Y.Max = p.Y.Min*f, p.Y.Max*f
	}
	p.Y.Label.Text = r.label(r.unit())
}

// shareRateUnit draws the rate panels of a row in the largest unit any of
// them chose.
func shareRateUnit(row []*panel) {
	div := 0.0
	for _, p := range row {
		if p.rate != nil {
			div = max(div, p.rate.div)
		}
	}
	for _, p := range row {
		if r := p.rate; r != nil && r.div != div {
			f := r.div / div
			r.div = div
			r.scale(p, f)
		}
	}
}
