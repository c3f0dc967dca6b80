package plot_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

var t0 = time.Date(2026, 11, 22, 13, 14, 33, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func bins(b ...uint64) plot.Bins {
	return plot.Bins{Start: t0, Width: 100 * time.Millisecond, Bytes: b}
}

func flowData() plot.FlowData {
	return plot.FlowData{
		Packets: []plot.Packet{
			{Time: at(0), Bytes: 120, Dir: tcpstate.ClientToServer},
			{Time: at(150), Bytes: 520, Dir: tcpstate.ServerToClient},
			{Time: at(151), Bytes: 66, Dir: tcpstate.ClientToServer, PureACK: true},
		},
		Conn: [2]plot.Bins{bins(120, 66), bins(0, 520)},
	}
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
		"one packet":    {h, func(d *plot.FlowData) { d.Packets = d.Packets[:1] }, plot.ErrNoData},
		"one instant":   {h, func(d *plot.FlowData) { d.Packets[1].Time, d.Packets[2].Time = t0, t0 }, plot.ErrNoData},
		"negative size": {h, func(d *plot.FlowData) { d.Packets[1].Bytes = -1 }, plot.ErrBadData},
		"before start":  {h, func(d *plot.FlowData) { d.Packets[0].Time = at(-1) }, plot.ErrBadData},
		"bad dir":       {h, func(d *plot.FlowData) { d.Packets[0].Dir = 7 }, plot.ErrBadData},
		"no conn bins":  {h, func(d *plot.FlowData) { d.Conn[1].Bytes = nil }, plot.ErrNoData},
		"zero width":    {h, func(d *plot.FlowData) { d.Conn[0].Width = 0 }, plot.ErrBadData},
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

func TestBandwidthErrors(t *testing.T) {
	h := plot.Header{Start: t0}
	l := []plot.Layer{{Name: "tcp/80", Bins: [2]plot.Bins{bins(1, 2), bins(3)}}}
	_, err := plot.Bandwidth(h, l, plot.BandwidthOptions{Rate: 2e6, Percent: true})
	require.NoError(t, err)
	for name, c := range map[string]struct {
		l    []plot.Layer
		o    plot.BandwidthOptions
		want error
	}{
		"no layers":       {nil, plot.BandwidthOptions{}, plot.ErrNoData},
		"NaN rate":        {l, plot.BandwidthOptions{Rate: math.NaN()}, plot.ErrBadData},
		"Inf rate":        {l, plot.BandwidthOptions{Rate: math.Inf(1)}, plot.ErrBadData},
		"negative rate":   {l, plot.BandwidthOptions{Rate: -1}, plot.ErrBadData},
		"percent no rate": {l, plot.BandwidthOptions{Percent: true}, plot.ErrBadData},
		"all empty":       {[]plot.Layer{{Bins: [2]plot.Bins{bins(), bins()}}}, plot.BandwidthOptions{}, plot.ErrNoData},
		"off grid": {append(l[:1:1], plot.Layer{Name: "udp", Bins: [2]plot.Bins{
			{Start: at(50), Width: 100 * time.Millisecond}, bins()}}), plot.BandwidthOptions{}, plot.ErrBadData},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := plot.Bandwidth(h, c.l, c.o)
			assert.ErrorIs(t, err, c.want)
		})
	}
}

func TestTimeSequenceErrors(t *testing.T) {
	h := plot.Header{Start: t0}
	ok := plot.TSGData{
		Data: []plot.SeqRange{{Time: at(0), First: 1, End: 1449}, {Time: at(6), First: 1449, End: 2897}},
		Ack:  []plot.SeqMark{{Time: at(150), Seq: 1449}, {Time: at(156), Seq: 2897}},
	}
	_, err := plot.TimeSequence(h, ok)
	require.NoError(t, err)

	back := ok
	back.Ack = []plot.SeqMark{{Time: at(150), Seq: 2897}, {Time: at(156), Seq: 1449}}
	_, err = plot.TimeSequence(h, back)
	assert.ErrorIs(t, err, plot.ErrBadData, "an ACK line that goes back")

	inverted := ok
	inverted.Data = []plot.SeqRange{{Time: at(0), First: 10, End: 1}}
	_, err = plot.TimeSequence(h, inverted)
	assert.ErrorIs(t, err, plot.ErrBadData)

	_, err = plot.TimeSequence(h, plot.TSGData{Ack: ok.Ack})
	assert.ErrorIs(t, err, plot.ErrNoData)

	one := ok
	one.Data = one.Data[:1]
	_, err = plot.TimeSequence(h, one)
	assert.ErrorIs(t, err, plot.ErrNoData, "one segment spans no time")
}

func TestRTTAndTimelineErrors(t *testing.T) {
	h := plot.Header{Start: t0}
	s := []plot.RTTSample{{Time: at(150), RTT: 150 * time.Millisecond}, {Time: at(400), RTT: 151 * time.Millisecond}}
	_, err := plot.RTT(h, plot.RTTData{Samples: s})
	require.NoError(t, err)
	_, err = plot.RTT(h, plot.RTTData{})
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.RTT(h, plot.RTTData{Samples: []plot.RTTSample{s[0], {Time: at(1), RTT: -1}}})
	assert.ErrorIs(t, err, plot.ErrBadData)
	_, err = plot.RTT(h, plot.RTTData{Min: plot.MinRTT{Start: t0, Width: time.Second, Min: []time.Duration{150 * time.Millisecond}}})
	assert.NoError(t, err, "a minimum alone spans its interval")

	tx := []plot.Transaction{{Request: at(0), FirstByte: at(150), LastByte: at(160)}, {Request: at(300)}}
	_, err = plot.Timeline(h, tx)
	require.NoError(t, err)
	_, err = plot.Timeline(h, nil)
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.Timeline(h, []plot.Transaction{{Request: at(10), FirstByte: at(5), LastByte: at(20)}})
	assert.ErrorIs(t, err, plot.ErrBadData)
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
	big.Packets[1].Bytes = 1514
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

	tl, err := plot.Timeline(h, []plot.Transaction{{Request: at(0), FirstByte: at(150), LastByte: at(160)}})
	require.NoError(t, err)
	_, err = plot.Beside(a, tl)
	assert.Error(t, err, "2 rows beside 1")
	_, err = plot.Beside()
	assert.ErrorIs(t, err, plot.ErrNoData)
}

func TestEchoFit(t *testing.T) {
	// Points on RTT = 150 ms + 8 µs/B·size, as on a 2 Mbit/s link.
	var d plot.EchoFitData
	for size := 28.0; size <= 1500; size += 98 {
		d.Points = append(d.Points, plot.EchoPoint{Size: size, RTTms: 150 + 0.008*size})
	}
	d.Lines = []plot.FitLine{{Name: "least squares", InterceptMs: 150, SlopeUsPerByte: 8, RMSms: 0.1}}
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
	_, err = plot.EchoFit(h, plot.EchoFitData{Points: d.Points[:1]})
	assert.ErrorIs(t, err, plot.ErrNoData)
	_, err = plot.EchoFit(h, plot.EchoFitData{Points: []plot.EchoPoint{{Size: 100, RTTms: 1}, {Size: 100, RTTms: 2}}})
	assert.Error(t, err, "one size only: no line can be drawn")
	for _, bad := range []plot.EchoPoint{{Size: -1, RTTms: 1}, {Size: 1, RTTms: 0}, {Size: math.NaN(), RTTms: 1}, {Size: 1, RTTms: math.Inf(1)}} {
		_, err = plot.EchoFit(h, plot.EchoFitData{Points: []plot.EchoPoint{{Size: 10, RTTms: 1}, bad}})
		assert.ErrorIs(t, err, plot.ErrBadData, "%+v", bad)
	}
	_, err = plot.EchoFit(h, plot.EchoFitData{Points: d.Points, Lines: []plot.FitLine{{SlopeUsPerByte: math.NaN()}}})
	assert.ErrorIs(t, err, plot.ErrBadData)
}
