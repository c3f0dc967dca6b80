package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/plot"
)

func lab(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(flowtest.CorpusDir(t, "lab"), name)
}

// Every kind renders from the lab captures, and the pair puts two
// connections side by side.
func TestKinds(t *testing.T) {
	for _, c := range []struct {
		file string
		o    options
	}{
		{"wan2m-pg-chatty.pcap", options{kind: "flow", conn: 1}},
		{"wan2m-http-bulk.pcap", options{kind: "flow", conn: 1, from: 0.5, to: 1.5}},
		{"wan512-mixed.pcap", options{kind: "bandwidth", rate: 512e3, percent: true}},
		{"wan2m-loss-http-bulk.pcap", options{kind: "tsg", conn: 1, dir: "s2c"}},
		{"wan2m-pg-chatty.pcap", options{kind: "tsg", conn: 1, dir: "c2s"}},
		{"wan2m-pg-chatty.pcap", options{kind: "rtt", conn: 1}},
		{"wan2m-http-chatty.pcap", options{kind: "timeline", conn: 1, max: 20}},
		{"wan512-mixed.pcap", options{kind: "rtt", conn: 0}},
	} {
		t.Run(c.o.kind+"/"+c.file, func(t *testing.T) {
			f, err := draw(lab(t, c.file), c.o)
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, f.Render(&b, "png"))
			assert.Greater(t, b.Len(), 1000)
		})
	}
	dir := flowtest.CorpusDir(t, "lab")
	f, err := drawPair(filepath.Join(dir, "wan2m-pg-chatty.pcap")+":1,"+filepath.Join(dir, "wan2m-http-bulk.pcap")+":1",
		options{kind: "flow", to: 3.3})
	require.NoError(t, err)
	assert.Equal(t, [2]int{2, 2}, [2]int{f.Rows(), f.Cols()})
}

// The time-sequence graph takes -dir; its data is series.TimeSequence's
// (tested there against tshark's flags on this capture).
func TestTSGDir(t *testing.T) {
	c, err := load([]string{lab(t, "wan2m-loss-http-bulk.pcap")}, options{kind: "tsg", conn: 1})
	require.NoError(t, err)
	h := c.header(options{})
	for _, dir := range []string{"s2c", "c2s"} {
		_, err = drawTSG(c, h, options{dir: dir})
		require.NoError(t, err, dir)
	}
	_, err = drawTSG(c, h, options{dir: "up"})
	assert.ErrorContains(t, err, "bad -dir")
}

// The timeline draws appproto's transactions when the pass gives some
// (the chatty PostgreSQL session's 200 queries), else the turns in the
// segments; -max caps them.
func TestTimeline(t *testing.T) {
	c, err := load([]string{lab(t, "wan2m-pg-chatty.pcap")}, options{kind: "timeline", conn: 1})
	require.NoError(t, err)
	assert.Len(t, c.turns, int(c.conn.App.Transactions))
	f, err := drawTimeline(c, c.header(options{}), options{max: 20})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	assert.Contains(t, b.String(), "20 transactions")

	c, err = load([]string{lab(t, "wan2m-pg-chatty.pcap")}, options{kind: "flow", conn: 1})
	require.NoError(t, err)
	assert.Empty(t, c.turns, "transactions only kept for a timeline")
	f, err = drawTimeline(c, c.header(options{}), options{})
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, f.Render(&b, "svg"))
	assert.Contains(t, b.String(), "204 transactions", "the lab's 204 client turns (testdata/lab/README.md)")
}

// pcap writes a capture of raw IPv4 packets (LINKTYPE_RAW), 1 ms apart.
func pcap(t *testing.T, pkts ...[]byte) []byte {
	var b bytes.Buffer
	w, err := flowtest.NewPcapWriter(&b, flowtest.LinkRaw, false)
	require.NoError(t, err)
	for i, p := range pkts {
		require.NoError(t, w.WritePacket(time.Unix(1700000000, int64(i)*1e6), p, len(p)))
	}
	return b.Bytes()
}

// syn is an IPv4 TCP SYN 10.0.0.1:40000 -> 10.0.0.2:80.
func syn() []byte {
	return flowtest.AppendIP(nil, &flowtest.TCP{Src: netip.MustParseAddrPort("10.0.0.1:40000"),
		Dst: netip.MustParseAddrPort("10.0.0.2:80"), Seq: 1000, Flags: 0x02, Window: 65535})
}

// Captures too small to draw give a clear error, never a figure.
func TestTooLittle(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	one := write("one.pcap", pcap(t, syn()))
	empty := write("empty.pcap", pcap(t))

	for _, kind := range []string{"flow", "tsg", "rtt", "timeline"} {
		_, err := draw(one, options{kind: kind, conn: 1, dir: "c2s"})
		assert.ErrorIs(t, err, plot.ErrNoData, kind)
	}
	_, err := draw(one, options{kind: "flow", conn: 2})
	assert.ErrorContains(t, err, "no connection 2")
	_, err = draw(empty, options{kind: "flow", conn: 1})
	assert.ErrorContains(t, err, "no connection 1")
	_, err = draw(empty, options{kind: "bandwidth"})
	assert.ErrorContains(t, err, "no packets")
	_, err = draw(one, options{kind: "bandwidth"})
	assert.ErrorIs(t, err, plot.ErrNoData, "one packet spans no time")
	_, err = draw(one, options{kind: "pie", conn: 1})
	assert.ErrorContains(t, err, "unknown -kind")
	_, err = drawPair(one, options{kind: "flow"})
	assert.ErrorContains(t, err, "FILE:CONN")
}

// Capture-wide figures are coarsened to a round interval unless -width
// sets one: wan512-mixed spans 10.687 s (capinfos -u), so bins of 200 ms
// (107 of 100 ms would be too many). The grid is aligned on the epoch:
// tshark's frame.time_epoch gives 1795353307.105880 for the first packet
// and 1795353317.792828 for the last, so the grid starts at 07.000 and the
// last packet falls in bin 53: 54 bins.
func TestCaptureWide(t *testing.T) {
	o := options{kind: "rtt", conn: 0}
	c, err := load([]string{lab(t, "wan512-mixed.pcap")}, o)
	require.NoError(t, err)
	_, err = c.draw(o)
	require.NoError(t, err)
	assert.Equal(t, 200*time.Millisecond, c.ser.Width)
	assert.Equal(t, time.Unix(1795353307, 0).UTC(), c.ser.Start)
	assert.Equal(t, 54, c.ser.Link[0].Len())
	assert.Equal(t, 54, len(c.ser.MinRTT[0]))
	c, err = load([]string{lab(t, "wan512-mixed.pcap")}, options{kind: "bandwidth", width: 250 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, c.ser.Width)
}

// A pair shares the span, the interval and the scales: the chatty
// session (31.6 s) is drawn over the first 3.2 s, the bulk download's
// whole length (3.183 s, testdata/lab/README.md), both per 50 ms (fewer
// than 80 intervals in 3.2 s).
func TestPairShares(t *testing.T) {
	dir := flowtest.RepoRoot() + "/testdata/lab/"
	f, err := drawPair(dir+"wan2m-pg-chatty.pcap:1,"+dir+"wan2m-http-bulk.pcap:1", options{kind: "flow"})
	require.NoError(t, err)
	for row := range 2 {
		lo0, hi0 := f.XRange(row, 0)
		lo1, hi1 := f.XRange(row, 1)
		assert.Equal(t, [2]float64{lo0, hi0}, [2]float64{lo1, hi1})
		assert.InDelta(t, 3.183*1.01, hi0, 0.01)
	}
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	assert.Equal(t, 2, bytes.Count(b.Bytes(), []byte("kbit/s per 50ms")), "one interval for both")
	lanes := f.Lanes()
	require.Len(t, lanes, 4)
	// ACK-only packets, from tshark -Y 'tcp.len==0 && tcp.flags.syn==0
	// && tcp.flags.fin==0 && tcp.flags.reset==0': the bulk download's
	// client sent 269 (the lab README's 270 pure ACKs count its FIN), its
	// server 1; the chatty session's client 2 and server 1 in its first
	// 3.2 s (and the client one more at 31.63 s, outside the span).
	assert.Equal(t, []int{2, 1, 269, 1}, []int{lanes[0].Packets, lanes[1].Packets, lanes[2].Packets, lanes[3].Packets})
	assert.Equal(t, lanes[2].Packets, lanes[2].Apart, "every one drawn apart")
}

// -from and -to keep the connection's time: a zoom from 0.5 s to 1.5 s
// shows 0.5 to 1.5 s.
func TestZoomAbsolute(t *testing.T) {
	f, err := draw(lab(t, "wan2m-http-bulk.pcap"), options{kind: "flow", conn: 1, from: 0.5, to: 1.5})
	require.NoError(t, err)
	lo, hi := f.XRange(0, 0)
	assert.InDelta(t, 0.5, lo, 1e-9)
	assert.InDelta(t, 1.5, hi, 1e-9)
}

// Figure 3 from echoes: the ping sweep has no TCP, and its minimum RTT
// per interval comes from the echoes (once it failed with "no sample").
func TestEchoRTT(t *testing.T) {
	f, err := draw(flowtest.RepoRoot()+"/testdata/lab/wan2m-ping-sweep.pcap", options{kind: "rtt", conn: 0})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "svg"))
	assert.Contains(t, b.String(), "echo (ICMP, UDP) minimum per 1s")
}

// Every kind of figure is the same drawn from one worker's pass as from
// three (the pass's consumers are flow.Forkers).
func TestWorkersSameFigure(t *testing.T) {
	dir := flowtest.RepoRoot() + "/testdata/lab/"
	for _, c := range []struct {
		file string
		o    options
	}{
		{"wan2m-pg-chatty.pcap", options{kind: "flow", conn: 1}},
		{"wan2m-http-bulk.pcap", options{kind: "tsg", conn: 1, dir: "s2c"}},
		{"wan2m-http-bulk.pcap", options{kind: "rtt", conn: 1}},
		{"wan2m-pg-chatty.pcap", options{kind: "timeline", conn: 1}},
		{"wan2m-ping-sweep.pcap", options{kind: "rtt", conn: 0}},
		{"wan2m-udp-echo.pcap", options{kind: "bandwidth"}},
	} {
		var out [2]string
		for i, w := range []int{1, 3} {
			o := c.o
			o.workers = w
			f, err := draw(dir+c.file, o)
			require.NoError(t, err, c.o.kind)
			var b bytes.Buffer
			require.NoError(t, f.Render(&b, "svg"))
			out[i] = b.String()
		}
		assert.True(t, out[0] == out[1], "%s %s differs", c.o.kind, c.file)
	}
}
