package linkq_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// Fit RTT against packet size from echoes in a capture: ten pings of
// growing size over a path with 30 ms of fixed delay and a 1 Mbit/s link
// each way, one of them lost.
func ExampleAnalyze() {
	var pkts [][]byte
	var at []time.Duration
	for i := range 10 {
		n := 100 * i
		req := ipv4(hostA, hostB, 1, icmpEcho(8, 1, uint16(i), data(n, 0)))
		pkts, at = append(pkts, req), append(at, time.Duration(i)*time.Second)
		if i == 4 {
			continue // lost
		}
		rep := ipv4(hostB, hostA, 1, icmpEcho(0, 1, uint16(i), data(n, 0)))
		pkts, at = append(pkts, rep), append(at, time.Duration(i)*time.Second+linkRTT(30*time.Millisecond, 1e6, len(rep)))
	}
	rep, err := linkq.Analyze(bytes.NewReader(rawPcap(pkts, at)), linkq.Config{
		Fit: linkq.FitConfig{LineSpeeds: []units.BitRate{1e6}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d requests, %d matched, %d lost\n", rep.Echo.Requests, rep.Echo.Matched, rep.Echo.Lost)
	for _, p := range rep.Paths {
		fmt.Printf("%s %s -> %s: %d samples, intercept %.3f ms, slope %.2f µs/byte (estimated %.2f), rms %.3f ms\n",
			p.Source, p.Src, p.Dst, p.Samples, units.Ms(p.Fit.Intercept), p.Fit.SlopeUsPerByte, p.EstimatedSlopeUsPerByte, units.Ms(p.Fit.RMSResid))
	}
	// Output:
	// 10 requests, 9 matched, 1 lost
	// echo 10.0.0.1 -> 10.0.0.2: 9 samples, intercept 30.224 ms, slope 16.00 µs/byte (estimated 16.00), rms 0.000 ms
}

// Judge a connection against what an application needs: the largest loss
// the Mathis model allows for 2 Mbit/s at 150 ms with 1448-byte segments.
func ExampleMathisMaxLoss() {
	p := linkq.MathisMaxLoss(1448, 150*time.Millisecond, 2e6, linkq.MathisC)
	fmt.Printf("at most %.3f%% loss (1 segment in %.0f)\n", 100*p, 1/p)
	p = linkq.MathisMaxLoss(1448, 150*time.Millisecond, 2e6, linkq.MathisCDelayedACK)
	fmt.Printf("with delayed ACKs: at most %.3f%%\n", 100*p)
	// Output:
	// at most 0.224% loss (1 segment in 447)
	// with delayed ACKs: at most 0.112%
}

// Share one pass over a capture with other consumers: wire an Analyzer's
// Packet and Conn methods into flow's Config.
func ExampleNew() {
	var pkts [][]byte
	var at []time.Duration
	for i := range 3 {
		pkts = append(pkts, ipv4(hostA, hostB, 17, udpDatagram(40000, 7, data(200*i, 1))),
			ipv4(hostB, hostA, 17, udpDatagram(7, 40000, data(200*i, 1))))
		at = append(at, time.Duration(i)*time.Second, time.Duration(i)*time.Second+time.Duration(20+i)*time.Millisecond)
	}
	lq := linkq.New(linkq.Config{Fit: linkq.FitConfig{Size: linkq.SizePayload}})
	res, err := flow.Analyze(bytes.NewReader(rawPcap(pkts, at)), flow.Config{Consumers: []flow.Consumer{lq}})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := lq.Report()
	fmt.Println(res.Summary.Packets, "packets;", rep.Echo.Matched, "UDP echoes matched")
	for _, p := range rep.Paths {
		for _, pt := range p.Points {
			fmt.Printf("%d bytes: %.1f ms\n", pt.Size, units.Ms(pt.RTT))
		}
		fmt.Printf("intercept %.1f ms, slope %.1f µs/byte\n", units.Ms(p.Fit.Intercept), p.Fit.SlopeUsPerByte)
	}
	// Output:
	// 6 packets; 3 UDP echoes matched
	// 0 bytes: 20.0 ms
	// 200 bytes: 21.0 ms
	// 400 bytes: 22.0 ms
	// intercept 20.0 ms, slope 5.0 µs/byte
}
