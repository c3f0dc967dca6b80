package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// figFormat returns the figure format named by the file's extension.
func figFormat(name string) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
	switch ext {
	case "png", "svg", "pdf":
		return ext, nil
	}
	return "", fmt.Errorf("-fig %s: the name must end in .png, .svg or .pdf", name)
}

// drawFigure draws the traffic out and in per interval, in kbit/s, as
// steps over time since the first interval, with the rate as a line. It
// uses gonum/plot directly; the project's plot package will take it over.
func drawFigure(name string, r fileReport) error {
	format, err := figFormat(name)
	if err != nil {
		return err
	}
	if len(r.Intervals) == 0 {
		return fmt.Errorf("%s: no traffic to draw", r.File)
	}
	p := plot.New()
	p.Title.Text = "census: " + filepath.Base(r.File)
	p.X.Label.Text = fmt.Sprintf("time since %s, s", r.Intervals[0].Start.Format("2006-01-02 15:04:05Z07:00"))
	p.Y.Label.Text = fmt.Sprintf("kbit/s per %g s", r.Interval.Seconds())
	t0 := r.Intervals[0].Start
	series := []struct {
		name string
		clr  color.RGBA
		bps  func(i int) float64
	}{
		{"out", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, func(i int) float64 { return float64(r.Intervals[i].Out.Rate) }},
		{"in", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, func(i int) float64 { return float64(r.Intervals[i].In.Rate) }},
	}
	if len(r.Local) == 0 {
		series = series[:0]
		series = append(series, struct {
			name string
			clr  color.RGBA
			bps  func(i int) float64
		}{"all (no -local)", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, func(i int) float64 { return float64(r.Intervals[i].Traffic.Sum().Rate) }})
	}
	end := r.Intervals[len(r.Intervals)-1].Start.Sub(t0).Seconds() + r.Interval.Seconds()
	top := float64(r.Rate) / 1e3
	for _, s := range series {
		pts := make(plotter.XYs, 0, len(r.Intervals)+1)
		for i, iv := range r.Intervals {
			pts = append(pts, plotter.XY{X: iv.Start.Sub(t0).Seconds(), Y: s.bps(i) / 1e3})
			top = max(top, s.bps(i)/1e3)
		}
		pts = append(pts, plotter.XY{X: end, Y: pts[len(pts)-1].Y})
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.Color = s.clr
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	if r.Rate > 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: float64(r.Rate) / 1e3}, {X: end, Y: float64(r.Rate) / 1e3}})
		if err != nil {
			return err
		}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Color = color.RGBA{A: 0xff}
		p.Add(l)
		p.Legend.Add("rate "+r.Rate.String(), l)
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 1.25*top // room for the legend above the rate line
	wt, err := p.WriterTo(8*vg.Inch, 4*vg.Inch, format)
	if err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
