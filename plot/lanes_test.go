package plot_test

import (
	"bytes"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

// tick is one ACK mark as drawn in an SVG: a vertical stroke 1 point wide
// (SVG's default width, so the style names none; the key's thumbnails are
// thinner).
type tick struct{ x, y0, y1 float64 }

var tickRE = regexp.MustCompile(`<path d="M([0-9.]+),([0-9.]+)L([0-9.]+),([0-9.]+)" style="fill:none;stroke:#([0-9A-F]{6})" />`)

// ticks returns the ACK marks of colour clr in an SVG of a packet-flow
// figure, read back from the drawing itself.
func ticks(svg []byte, clr string) []tick {
	var out []tick
	for _, m := range tickRE.FindAllSubmatch(svg, -1) {
		x0, _ := strconv.ParseFloat(string(m[1]), 64)
		y0, _ := strconv.ParseFloat(string(m[2]), 64)
		x1, _ := strconv.ParseFloat(string(m[3]), 64)
		y1, _ := strconv.ParseFloat(string(m[4]), 64)
		if string(m[5]) == clr && x0 == x1 {
			out = append(out, tick{x0, min(y0, y1), max(y0, y1)})
		}
	}
	return out
}

// overlapping counts the marks that touch another: closer than 1.5
// points (their own width and half a point of white) with overlapping
// heights.
func overlapping(ts []tick) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].x < ts[j].x })
	bad := map[int]bool{}
	for i := range ts {
		for j := i + 1; j < len(ts) && ts[j].x-ts[i].x < 1.5; j++ {
			if ts[i].y0 < ts[j].y1 && ts[j].y0 < ts[i].y1 {
				bad[i], bad[j] = true, true
			}
		}
	}
	return len(bad)
}

// A bulk transfer's ACKs, one for every two 1514-byte segments arriving
// every 6 ms (2 Mbit/s): 300 ACKs 12 ms apart over 3.6 s, and a burst of
// 4 ACKs 1 ms apart (0.14 points apart on this axis: four rows). On the 8-inch panel they cannot stand in one row,
// so they stack; the SVG drawn shows every one apart from the others, and
// Lanes counts them so.
func TestACKLanesApart(t *testing.T) {
	var pts series.Points
	for i := range 600 {
		at := t0.Add(time.Duration(i) * 6 * time.Millisecond)
		pts = append(pts, series.Point{Time: at, WireLen: 1514, Len: 1448, Dir: tcpstate.ServerToClient, Flags: tcpstate.ACK})
		if i%2 == 1 {
			pts = append(pts, series.Point{Time: at.Add(time.Millisecond), WireLen: 66, Dir: tcpstate.ClientToServer, Flags: tcpstate.ACK})
		}
	}
	for i := range 4 {
		pts = append(pts, series.Point{Time: t0.Add(4*time.Second + time.Duration(i)*time.Millisecond), WireLen: 66,
			Dir: tcpstate.ClientToServer, Flags: tcpstate.ACK})
	}
	d := plot.FlowData{Packets: pts, Conn: [2]plot.ByteBinner{bins(1), bins(1)}, MSS: [2]int{1448, 1448}, FullFrame: [2]int{1514, 1514}}
	f, err := plot.PacketFlow(plot.Header{Title: "bulk", Start: t0}, d)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	lanes := f.Lanes()
	require.Len(t, lanes, 2)
	assert.Equal(t, plot.Lane{Name: "client→server ACK only", Packets: 304, Apart: 304, Rows: 4}, lanes[0])

	assert.Equal(t, 0, lanes[1].Packets, "the server sent no ACK-only packet")
	drawn := ticks(b.Bytes(), "0072B2")
	assert.Len(t, drawn, 304, "one mark per ACK-only packet")
	assert.Zero(t, overlapping(drawn))
	assert.Contains(t, b.String(), ">full-size frame: 1514 B (MSS 1448)<", "one entry for both directions' line")
	d.FullFrame[1] = 1526
	f, err = plot.PacketFlow(plot.Header{Title: "bulk", Start: t0}, d)
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, f.Render(&b, "svg"))
	assert.Contains(t, b.String(), ">server→client full-size frame: 1526 B (MSS 1448)<")
	w := f.Width
	f.SetPanelWidth(plot.PanelWidth / 2)
	assert.InDelta(t, float64(w-plot.PanelWidth/2), float64(f.Width), 1e-9, "the key keeps its width")

	// Too many for the lane: 400 ACKs within 40 ms (5.6 points). They are all drawn,
	// and Lanes says how many cannot be told apart.
	var dense series.Points
	for i := range 400 {
		dense = append(dense, series.Point{Time: t0.Add(time.Duration(i) * 100 * time.Microsecond), WireLen: 66,
			Dir: tcpstate.ClientToServer, Flags: tcpstate.ACK})
	}
	dense = append(dense, series.Point{Time: t0.Add(3 * time.Second), WireLen: 1514, Len: 1448, Dir: tcpstate.ServerToClient})
	d.Packets = dense
	f, err = plot.PacketFlow(plot.Header{Title: "dense", Start: t0}, d)
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, f.Render(&b, "svg"))
	l := f.Lanes()[0]
	drawn = ticks(b.Bytes(), "0072B2")
	assert.Len(t, drawn, 400)
	assert.Equal(t, 400, l.Packets)
	assert.Equal(t, 400-overlapping(drawn), l.Apart, "Lanes counts what the drawing shows")
	assert.Less(t, l.Apart, 400)
}

// -from/-to zooms keep the capture's time axis: a figure from 0.15 s
// shows 0.15 s at its left end, not 0.
func TestZoomKeepsTime(t *testing.T) {
	h := plot.Header{Start: t0, From: at(150), End: at(152)}
	f, err := plot.PacketFlow(h, flowData())
	require.NoError(t, err)
	lo, hi := f.XRange(0, 0)
	assert.InDelta(t, 0.150, lo, 1e-9)
	assert.InDelta(t, 0.152, hi, 1e-9)
	_, err = plot.PacketFlow(plot.Header{Start: t0, From: at(-1)}, flowData())
	assert.ErrorIs(t, err, plot.ErrBadData, "from before the start")
	_, err = plot.PacketFlow(plot.Header{Start: t0, From: at(200), End: at(300)}, flowData())
	assert.ErrorIs(t, err, plot.ErrNoData, "nothing in the span")
}

// Rates are drawn in the unit that keeps them below 10 000: 250 Mbit/s
// (3 125 000 bytes in 100 ms) in Mbit/s; beside a panel in kbit/s, both
// in Mbit/s.
func TestRateUnits(t *testing.T) {
	fast := flowData()
	fast.Conn[1] = bins(0, 3125000)
	f, err := plot.PacketFlow(plot.Header{Start: t0}, fast)
	require.NoError(t, err)
	lo, hi := f.YRange(1, 0)
	assert.InDelta(t, 250*1.1, hi, 1e-9)
	assert.InDelta(t, -250*1.1, lo, 1e-9)
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	assert.Contains(t, b.String(), "Mbit/s per 100ms")

	slow, err := plot.PacketFlow(plot.Header{Start: t0}, flowData()) // 520 bytes per 100 ms: 41.6 kbit/s
	require.NoError(t, err)
	_, hi = slow.YRange(1, 0)
	assert.InDelta(t, 41.6*1.1, hi, 1e-9)
	p, err := plot.Beside(slow, f)
	require.NoError(t, err)
	_, hi0 := p.YRange(1, 0)
	_, hi1 := p.YRange(1, 1)
	assert.InDelta(t, 250*1.1, hi0, 1e-9, "the kbit/s panel rescaled to Mbit/s")
	assert.Equal(t, hi0, hi1)
}

// Over three days the time axis gives the time of day: a minimum RTT per
// hour of a ping every hour.
func TestClockAxis(t *testing.T) {
	m := series.MinRTT{Start: t0, Width: time.Hour}
	for i := range 72 {
		m.Min = append(m.Min, time.Duration(150+i%5)*time.Millisecond)
	}
	f, err := plot.RTT(plot.Header{Title: "ping", Start: t0}, plot.RTTData{EchoMin: m, EchoName: "ICMP echo"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	s := b.String()
	assert.Contains(t, s, "time of day, UTC")
	for _, day := range []string{"Nov 23", "Nov 24", "Nov 25"} { // t0 is Nov 22 13:14:33
		assert.Contains(t, s, ">"+day+" 00:00<", "a tick at midnight of %s", day)
	}
	assert.Contains(t, s, ">12:00<")
	assert.Contains(t, s, "ICMP echo minimum per 1h0m0s")
	assert.False(t, strings.Contains(s, "time since t=0"))
}
