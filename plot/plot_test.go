package plot_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"

	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

var t0 = time.Date(2026, 11, 22, 13, 14, 33, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func bins(b ...uint64) series.Bins {
	return series.Bins{Start: t0, Width: 100 * time.Millisecond, Bytes: b}
}

// flowPackets are a request, its answer and the pure ACK of the answer
// (no payload).
func flowPackets() series.Points {
	return series.Points{
		{Time: at(0), WireLen: 120, Len: 66, Dir: tcpstate.ClientToServer, End: 66, Flags: tcpstate.ACK},
		{Time: at(150), WireLen: 520, Len: 466, Dir: tcpstate.ServerToClient, End: 466, Flags: tcpstate.ACK},
		{Time: at(151), WireLen: 66, Dir: tcpstate.ClientToServer, Seq: 66, End: 66, Flags: tcpstate.ACK},
	}
}

func flowData() plot.FlowData {
	return plot.FlowData{Packets: flowPackets(), Conn: [2]plot.ByteBinner{bins(120, 66), bins(0, 520)}}
}

func TestPacketFlowErrors(t *testing.T) {
	h := plot.Header{Title: "t", Start: t0}
	_, err := plot.PacketFlow(h, flowData())
	require.NoError(t, err)

	for name, c := range map[string]struct {
		h    plot.Header
		edit func(*plot.FlowData)
		want error
	}{
		"empty":         {h, func(d *plot.FlowData) { d.Packets = nil }, plot.ErrNoData},
		"no points":     {h, func(d *plot.FlowData) { d.Packets = series.Points{} }, plot.ErrNoData},
		"one packet":    {h, func(d *plot.FlowData) { d.Packets = flowPackets()[:1] }, plot.ErrNoData},
		"one instant":   {h, editPackets(func(p series.Points) { p[1].Time, p[2].Time = t0, t0 }), plot.ErrNoData},
		"negative size": {h, editPackets(func(p series.Points) { p[1].WireLen = -1 }), plot.ErrBadData},
		"before start":  {h, editPackets(func(p series.Points) { p[0].Time = at(-1) }), plot.ErrBadData},
		"bad dir":       {h, editPackets(func(p series.Points) { p[0].Dir = 7 }), plot.ErrBadData},
		"no conn bins":  {h, func(d *plot.FlowData) { d.Conn[1] = bins() }, plot.ErrNoData},
		"nil conn bins": {h, func(d *plot.FlowData) { d.Conn[1] = nil }, plot.ErrNoData},
		"zero width":    {h, func(d *plot.FlowData) { d.Conn[0] = series.Bins{Start: t0, Bytes: []uint64{1}} }, plot.ErrBadData},
		"bad link bins": {h, func(d *plot.FlowData) { d.Link[0] = series.Bins{Width: time.Second, Bytes: []uint64{1}} }, plot.ErrBadData},
		"zero start":    {plot.Header{}, func(*plot.FlowData) {}, plot.ErrBadData},
		"end <= start":  {plot.Header{Start: t0, End: t0}, func(*plot.FlowData) {}, plot.ErrBadData},
	} {
		t.Run(name, func(t *testing.T) {
			d := flowData()
			c.edit(&d)
			f, err := plot.PacketFlow(c.h, d)
			assert.ErrorIs(t, err, c.want)
			assert.Nil(t, f)
		})
	}
}

// editPackets returns an edit of a FlowData's packets.
func editPackets(f func(series.Points)) func(*plot.FlowData) {
	return func(d *plot.FlowData) {
		p := flowPackets()
		f(p)
		d.Packets = p
	}
}

func TestBandwidthErrors(t *testing.T) {
	h := plot.Header{Start: t0}
	l := []plot.Layer{{Name: "tcp/80", Bins: [2]plot.ByteBinner{bins(1, 2), bins(3)}}}
	_, err := plot.Bandwidth(h, l, plot.BandwidthOptions{Rate: 2e6, Percent: true})
	require.NoError(t, err)
	for name, c := range map[string]struct {
		l    []plot.Layer
		o    plot.BandwidthOptions
		want error
	}{
		"no layers":       {nil, plot.BandwidthOptions{}, plot.ErrNoData},
		"NaN rate":        {l, plot.BandwidthOptions{Rate: units.BitRate(math.NaN())}, plot.ErrBadData},
		"Inf rate":        {l, plot.BandwidthOptions{Rate: units.BitRate(math.Inf(1))}, plot.ErrBadData},
		"negative rate":   {l, plot.BandwidthOptions{Rate: -1}, plot.ErrBadData},
		"percent no rate": {l, plot.BandwidthOptions{Percent: true}, plot.ErrBadData},
		"all empty":       {[]plot.Layer{{Bins: [2]plot.ByteBinner{bins(), bins()}}}, plot.BandwidthOptions{}, plot.ErrNoData},
		"all nil":         {[]plot.Layer{{Name: "udp"}}, plot.BandwidthOptions{}, plot.ErrNoData},
		"off grid": {append(l[:1:1], plot.Layer{Name: "udp", Bins: [2]plot.ByteBinner{
			series.Bins{Start: at(50), Width: 100 * time.Millisecond}, bins()}}), plot.BandwidthOptions{}, plot.ErrBadData},
		"no grid": {[]plot.Layer{{Name: "udp", Bins: [2]plot.ByteBinner{series.Bins{Bytes: []uint64{1}}}}},
			plot.BandwidthOptions{}, plot.ErrBadData},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := plot.Bandwidth(h, c.l, c.o)
			assert.ErrorIs(t, err, c.want)
		})
	}
}

func TestTimeSequenceErrors(t *testing.T) {
	h := plot.Header{Start: t0}
	data := series.SeqRanges{{Time: at(0), First: 1, End: 1449}, {Time: at(6), First: 1449, End: 2897}}
	ok := plot.TSGData{Data: data, Ack: series.SeqMarks{{Time: at(150), Seq: 1449}, {Time: at(156), Seq: 2897}}}
	_, err := plot.TimeSequence(h, ok)
	require.NoError(t, err)

	back := ok
	back.Ack = series.SeqMarks{{Time: at(150), Seq: 2897}, {Time: at(156), Seq: 1449}}
	_, err = plot.TimeSequence(h, back)
	assert.ErrorIs(t, err, plot.ErrBadData, "an ACK line that goes back")

	inverted := ok
	inverted.Data = series.SeqRanges{{Time: at(0), First: 10, End: 1}}
	_, err = plot.TimeSequence(h, inverted)
	assert.ErrorIs(t, err, plot.ErrBadData)

	early := ok
	early.ZeroWindow = series.SeqMarks{{Time: at(-1), Seq: 1}}
	_, err = plot.TimeSequence(h, early)
	assert.ErrorIs(t, err, plot.ErrBadData, "a mark before the start")

	_, err = plot.TimeSequence(h, plot.TSGData{Ack: ok.Ack})
	assert.ErrorIs(t, err, plot.ErrNoData)

	one := ok
	one.Data = data[:1]
	_, err = plot.TimeSequence(h, one)
	assert.ErrorIs(t, err, plot.ErrNoData, "one segment spans no time")
}

func TestRTTAndTimelineErrors(t *testing.T) {
	h := plot.Header{Start: t0}
	s := series.RTTSamples{{Time: at(150), RTT: 150 * time.Millisecond}, {Time: at(400), RTT: 151 * time.Millisecond}}
	_, err := plot.RTT(h, plot.RTTData{Samples: s})
	require.NoError(t, err)
	_, err = plot.RTT(h, plot.RTTData{})
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.RTT(h, plot.RTTData{Samples: series.RTTSamples{s[0], {Time: at(1), RTT: -1}}})
	assert.ErrorIs(t, err, plot.ErrBadData)
	mins := series.MinRTT{Start: t0, Width: time.Second, Min: []time.Duration{150 * time.Millisecond}}
	_, err = plot.RTT(h, plot.RTTData{Min: mins})
	assert.NoError(t, err, "a minimum alone spans its interval")
	_, err = plot.RTT(h, plot.RTTData{Min: series.MinRTT{Start: t0, Min: mins.Min}})
	assert.ErrorIs(t, err, plot.ErrBadData, "intervals without a width")
	_, err = plot.RTT(h, plot.RTTData{Min: series.MinRTT{Start: t0, Width: time.Second, Min: []time.Duration{-1}}})
	assert.ErrorIs(t, err, plot.ErrBadData)

	tx := series.Turns{{Request: at(0), FirstResponse: at(150), LastResponse: at(160)}, {Request: at(300)}}
	_, err = plot.Timeline(h, tx)
	require.NoError(t, err)
	_, err = plot.Timeline(h, nil)
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.Timeline(h, series.Turns{{Request: at(10), FirstResponse: at(5), LastResponse: at(20)}})
	assert.ErrorIs(t, err, plot.ErrBadData)
	_, err = plot.Timeline(h, series.Turns{{Request: at(10), LastResponse: at(20)}})
	assert.ErrorIs(t, err, plot.ErrBadData, "a last byte without a first")
}

func TestRender(t *testing.T) {
	f, err := plot.PacketFlow(plot.Header{Title: "10.0.0.1:40000 → 10.0.0.2:5432", Start: t0}, flowData())
	require.NoError(t, err)
	for format, magic := range map[string]string{"png": "\x89PNG", "svg": "<?xml", "pdf": "%PDF"} {
		var b bytes.Buffer
		require.NoError(t, f.Render(&b, format))
		assert.True(t, strings.HasPrefix(b.String(), magic), "%s starts %q", format, b.String()[:8])
	}
	var b bytes.Buffer
	assert.Error(t, f.Render(&b, "gif"))
	assert.Zero(t, b.Len(), "nothing written on error")
}

func TestBeside(t *testing.T) {
	h := plot.Header{Start: t0}
	a, err := plot.PacketFlow(h, flowData())
	require.NoError(t, err)
	big := flowData()
	pk := flowPackets()
	pk[1].WireLen = 1514
	big.Packets = pk
	big.Conn[1] = bins(0, 15140)
	b, err := plot.PacketFlow(h, big)
	require.NoError(t, err)
	p, err := plot.Beside(a, b)
	require.NoError(t, err)
	assert.Equal(t, 2, p.Rows())
	assert.Equal(t, 2, p.Cols())
	assert.Equal(t, a.Width+b.Width, p.Width)
	for row := range 2 {
		lo0, hi0 := p.YRange(row, 0)
		lo1, hi1 := p.YRange(row, 1)
		assert.Equal(t, [2]float64{lo0, hi0}, [2]float64{lo1, hi1}, "row %d shares its scale", row)
	}
	lo, _ := p.YRange(0, 0)
	assert.Less(t, lo, -1514.0, "the shared size scale holds the 1514-byte frame")

	tl, err := plot.Timeline(h, series.Turns{{Request: at(0), FirstResponse: at(150), LastResponse: at(160)}})
	require.NoError(t, err)
	_, err = plot.Beside(a, tl)
	assert.Error(t, err, "2 rows beside 1")
	_, err = plot.Beside()
	assert.ErrorIs(t, err, plot.ErrNoData)
}

func TestEchoFit(t *testing.T) {
	// Points on RTT = 150 ms + 8 µs/B·size, as on a 2 Mbit/s link.
	var pts linkq.Points
	for size := 28; size <= 1500; size += 98 {
		pts = append(pts, linkq.Point{Size: size, RTT: 150*time.Millisecond + 8*time.Microsecond*time.Duration(size)})
	}
	line := linkq.Line{OK: true, Intercept: 150 * time.Millisecond, SlopeUsPerByte: 8, RMSResid: 100 * time.Microsecond}
	d := plot.EchoFitData{Points: pts, Lines: linkq.NamedLines{{Name: "least squares", Line: line}}}
	f, err := plot.EchoFit(plot.Header{Title: "echo 10.0.0.1 → 10.0.0.2", Start: t0}, d)
	require.NoError(t, err)
	lo, hi := f.YRange(0, 0)
	assert.LessOrEqual(t, lo, 150+0.008*28)
	assert.GreaterOrEqual(t, hi, 150+0.008*1498)
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	assert.Contains(t, b.String(), "least squares: 150.000 ms + 8.0000 µs/B, RMS 0.100 ms")
	assert.Contains(t, b.String(), "2026-11-22 13:14 UTC")

	h := plot.Header{Title: "x"}
	_, err = plot.EchoFit(h, plot.EchoFitData{Points: pts[:1]})
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.EchoFit(h, plot.EchoFitData{})
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.EchoFit(h, plot.EchoFitData{Points: plotter.XYs{{X: 100, Y: 1}, {X: 100, Y: 2}}})
	assert.Error(t, err, "one size only: no line can be drawn")
	for _, bad := range []plotter.XY{{X: -1, Y: 1}, {X: 1, Y: 0}, {X: math.NaN(), Y: 1}, {X: 1, Y: math.Inf(1)}} {
		_, err = plot.EchoFit(h, plot.EchoFitData{Points: plotter.XYs{{X: 10, Y: 1}, bad}})
		assert.ErrorIs(t, err, plot.ErrBadData, "%+v", bad)
	}
	nan := linkq.NamedLines{{Name: "nan", Line: linkq.Line{OK: true, SlopeUsPerByte: math.NaN()}}}
	_, err = plot.EchoFit(h, plot.EchoFitData{Points: pts, Lines: nan})
	assert.ErrorIs(t, err, plot.ErrBadData)
}
