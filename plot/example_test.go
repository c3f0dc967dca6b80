package plot_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/plot"
	"github.com/netecology/netecology/tcpstate"
)

// Draw the packet-flow figure of one short exchange and write it as SVG
// to memory: a tool would write to a file named by its user. The data is
// what package flow/series collects (series.Points, series.Bins), made by
// hand here; it plugs in as it is.
func ExamplePacketFlow() {
	start := time.Date(2026, 11, 22, 13, 14, 33, 0, time.UTC)
	ms := func(n int) time.Time { return start.Add(time.Duration(n) * time.Millisecond) }
	grid := func(b ...uint64) series.Bins {
		return series.Bins{Start: start, Width: 100 * time.Millisecond, Bytes: b}
	}
	packets := series.Points{
		{Time: ms(0), WireLen: 120, Dir: tcpstate.ClientToServer, Len: 66, End: 66, Flags: tcpstate.ACK},
		{Time: ms(150), WireLen: 520, Dir: tcpstate.ServerToClient, Len: 466, End: 466, Flags: tcpstate.ACK},
		{Time: ms(151), WireLen: 66, Dir: tcpstate.ClientToServer, Seq: 66, End: 66, Flags: tcpstate.ACK}, // pure ACK
	}
	d := plot.FlowData{Packets: packets, Conn: [2]plot.ByteBinner{grid(120, 66), grid(0, 520)}}
	fig, err := plot.PacketFlow(plot.Header{Title: "10.0.0.1:40000 → 10.0.0.2:5432", Start: start}, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	var svg bytes.Buffer
	if err := fig.Render(&svg, "svg"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d panels, %.0fx%.0f points, SVG: %v\n", fig.Rows()*fig.Cols(), float64(fig.Width), float64(fig.Height),
		bytes.Contains(svg.Bytes(), []byte("<svg")))

	// A one-packet connection cannot span a time axis: an error, no file.
	d.Packets = packets[:1]
	_, err = plot.PacketFlow(plot.Header{Start: start}, d)
	fmt.Println(err, errors.Is(err, plot.ErrNoData))
	// Output:
	// 2 panels, 701x530 points, SVG: true
	// packet flow: no data to draw: 1 packet(s), need two or more true
}

// Stack two traffic classes against a 512 kbit/s link, in percent of it.
func ExampleBandwidth() {
	start := time.Date(2026, 11, 22, 13, 15, 7, 0, time.UTC)
	grid := func(b ...uint64) series.Bins { return series.Bins{Start: start, Width: time.Second, Bytes: b} }
	layers := []plot.Layer{
		{Name: "tcp/80", Bins: [2]plot.ByteBinner{grid(2000, 1000), grid(60000, 64000)}},
		{Name: "tcp/5432", Bins: [2]plot.ByteBinner{grid(500), grid(1000, 0)}},
	}
	fig, err := plot.Bandwidth(plot.Header{Title: "mixed", Start: start}, layers,
		plot.BandwidthOptions{Rate: 512e3, Percent: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, hi := fig.YRange(1, 0)
	fmt.Printf("%dx%d panels; the axis reaches %.0f%% of the rate\n", fig.Rows(), fig.Cols(), hi)
	// Output:
	// 2x1 panels; the axis reaches 110% of the rate
}
