package plot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"

	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

var t0 = time.Date(2026, 11, 22, 13, 14, 33, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// Bins become kbit/s steps on seconds since the header's start: 250 bytes
// in 100 ms is 20 kbit/s; a bin that ends before the start is left out,
// one that straddles it is kept (the axis clips it).
func TestBinsSteps(t *testing.T) {
	b := series.Bins{Start: at(-150), Width: 100 * time.Millisecond, Bytes: []uint64{999, 250, 0, 1250}}
	got := steps(b, Header{Start: t0}, -1)
	want := plotter.XYs{{X: -0.05, Y: -20}, {X: 0.05, Y: 0}, {X: 0.15, Y: -100}, {X: 0.25, Y: -100}}
	require.Len(t, got, len(want))
	for i := range want {
		assert.InDelta(t, want[i].X, got[i].X, 1e-9, "x %d", i)
		assert.InDelta(t, want[i].Y, got[i].Y, 1e-9, "y %d", i)
	}
}

func TestFlowPoints(t *testing.T) {
	h := Header{Start: t0}
	// A SYN, the SYN/ACK, the handshake's ACK (no payload: an ACK-only
	// packet), a request, its answer, a FIN and a RST.
	pk := series.Points{
		{Time: at(0), WireLen: 74, Dir: tcpstate.ClientToServer, End: 1, Flags: tcpstate.SYN},
		{Time: at(150), WireLen: 74, Dir: tcpstate.ServerToClient, End: 1, Flags: tcpstate.SYN | tcpstate.ACK},
		{Time: at(151), WireLen: 66, Dir: tcpstate.ClientToServer, Seq: 1, End: 1, Flags: tcpstate.ACK},
		{Time: at(152), WireLen: 120, Len: 54, Dir: tcpstate.ClientToServer, Seq: 1, End: 55, Flags: tcpstate.ACK},
		{Time: at(302), WireLen: 520, Len: 454, Dir: tcpstate.ServerToClient, Seq: 1, End: 455, Flags: tcpstate.ACK},
		{Time: at(303), WireLen: 66, Dir: tcpstate.ClientToServer, Seq: 55, End: 56, Flags: tcpstate.FIN | tcpstate.ACK},
		{Time: at(304), WireLen: 54, Dir: tcpstate.ServerToClient, Seq: 455, End: 455, Flags: tcpstate.RST},
	}
	m, err := flowPoints(h, pk)
	require.NoError(t, err)
	assert.Equal(t, plotter.XYs{{X: 0.152, Y: 120}}, m.data[0])
	assert.Equal(t, plotter.XYs{{X: 0.302, Y: 520}}, m.data[1])
	assert.Equal(t, [2]plotter.XYs{{{X: 0, Y: 74}}, {{X: 0.15, Y: 74}}}, m.syn)
	assert.Equal(t, plotter.XYs{{X: 0.303, Y: 66}}, m.fin[0])
	assert.Equal(t, plotter.XYs{{X: 0.304, Y: 54}}, m.rst[1], "a RST is drawn as such, not as an ACK")
	assert.Equal(t, []float64{0.151}, m.acks[0])
	assert.Empty(t, m.acks[1])
	assert.Equal(t, 520.0, m.maxSize)

	// A zoom keeps the packets from From to End, on the same time axis.
	m, err = flowPoints(Header{Start: t0, From: at(151), End: at(302)}, pk)
	require.NoError(t, err)
	assert.Equal(t, []float64{0.151}, m.acks[0])
	assert.Equal(t, plotter.XYs{{X: 0.152, Y: 120}}, m.data[0])
	assert.Equal(t, plotter.XYs{{X: 0.302, Y: 520}}, m.data[1])
	assert.Empty(t, m.syn[0])
}

func TestLayerSteps(t *testing.T) {
	g := func(b ...uint64) [2]ByteBinner {
		return [2]ByteBinner{series.Bins{Start: t0, Width: time.Second, Bytes: b}, series.Bins{Start: t0, Width: time.Second}}
	}
	layers := []Layer{{Name: "a", Bins: g(1000, 2000)}, {Name: "b", Bins: g(500)}}
	// 1000 bytes/s = 8 kbit/s.
	st := layerSteps(layers, 0, 2, 0, 1, 1, true)
	assert.Equal(t, plotter.XYs{{X: 0, Y: 8}, {X: 1, Y: 16}, {X: 2, Y: 16}}, st[0])
	assert.Equal(t, plotter.XYs{{X: 0, Y: 12}, {X: 1, Y: 16}, {X: 2, Y: 16}}, st[1], "stacked on a")
	ln := layerSteps(layers, 0, 2, 0, 1, 1, false)
	assert.Equal(t, plotter.XYs{{X: 0, Y: 4}, {X: 1, Y: 0}, {X: 2, Y: 0}}, ln[1], "lines are not stacked")
	// As percent of 16 kbit/s: scale = 16/100 kbit/s per unit.
	pc := layerSteps(layers, 0, 2, 0, 1, 0.16, true)
	assert.InDelta(t, 100.0, pc[1][1].Y, 1e-9)
}
