package explain_test

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
)

// A chatty PostgreSQL session (200 single-row queries) over a 150 ms,
// 2 Mbit/s path: where its time went, and what it would take at 10 ms.
func Example() {
	rep, err := explain.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"), explain.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := rep.Conns[0]
	b := c.Budget
	fmt.Printf("%s: %d turns, base RTT %.0f ms, limited by %s\n", c.Proto, c.Turns, units.Ms(c.RTT), c.Limit)
	fmt.Printf("duration %.1f s: turns %.1f s, handshake %.2f s, think %.1f s\n",
		b.Duration.Seconds(), b.RoundTrip.Seconds(), b.Handshake.Seconds(), b.Think().Seconds())
	fmt.Printf("server ACKs per client segment %.2f (%s), client segments below MSS %.0f%%\n",
		c.AcksC2S.AcksPerSegment, c.AcksC2S.Verdict, 100*c.SegmentsC2S.SmallShare)
	p := c.Project(10*time.Millisecond, 0)
	fmt.Printf("at 10 ms: %.1f s, %d round trips\n", p.Duration.Seconds(), p.RoundTrips)
	// Output:
	// postgres: 204 turns, base RTT 151 ms, limited by round_trip_bound
	// duration 31.6 s: turns 30.8 s, handshake 0.15 s, think 0.7 s
	// server ACKs per client segment 1.00 (ack_every_segment), client segments below MSS 100%
	// at 10 ms: 2.7 s, 205 round trips
}

// Two sessions side by side: the chatty one pays a round trip per query,
// the bulk one is bound by the link.
func ExampleSummarize() {
	var rows []explain.Row
	for _, name := range []string{"wan2m-pg-chatty.pcap", "wan2m-http-bulk.pcap"} {
		rep, err := explain.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name), explain.Options{})
		if err != nil {
			fmt.Println(err)
			return
		}
		rows = append(rows, explain.Summarize(name, rep.Conns, explain.WhatIf{RTT: 10 * time.Millisecond}))
	}
	for _, r := range rows {
		fmt.Printf("%-22s %5.1f s  mean segment %4.0f B  %3d round trips  %-16s  at 10 ms: %.1f s\n",
			r.Label, r.Duration.Seconds(), r.MeanSegment, r.RoundTrips, r.Limit, r.Projected.Duration.Seconds())
	}
	// Output:
	// wan2m-pg-chatty.pcap    31.6 s  mean segment  228 B  204 round trips  round_trip_bound  at 10 ms: 2.7 s
	// wan2m-http-bulk.pcap     3.2 s  mean segment 1437 B    3 round trips  bandwidth         at 10 ms: 2.5 s
}

// A download captured on a LAN (50 Mbit/s, the link's rate given)
// projected onto a 600 ms, 2 Mbit/s satellite-class path with its loss and
// queue stated (the lab's capture of the same download there,
// geo-http-bulk-s, took 4.68 s).
func ExampleConn_ProjectTo() {
	rep, err := explain.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif", "lan-http-bulk-s.pcap.gz"),
		explain.Options{CaptureRate: 50 * units.Mbps})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := rep.Conns[0]
	p := c.ProjectTo(explain.Target{RTT: 600 * time.Millisecond, Rate: 2 * units.Mbps, LossKnown: true, QueueFrames: 1000})
	fmt.Printf("on the LAN %.2f s; at 600 ms %.1f s: %d round trips, %d of them slow start\n",
		c.Budget.Duration.Seconds(), p.Duration.Seconds(), p.RoundTrips, p.SlowStartRounds)
	for _, a := range p.Assumptions {
		fmt.Println("assuming", a)
	}
	// Output:
	// on the LAN 0.05 s; at 600 ms 4.4 s: 7 round trips, 4 of them slow start
	// assuming loss given: the observed losses dropped, the target's priced
	// assuming receive window: autotuned up to 6 MB (Linux's default)
}
