package linkq_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/netecology/netecology/flow/linkq"
)

// Print the fit of a capture as a text table, as the linkq tool does:
// five pings of growing size over 30 ms of fixed delay and a 1 Mbit/s
// link each way, so a slope of 16/rate = 16 µs per byte and an intercept
// of 30 ms plus the Ethernet header's 2·14·8/rate = 0.224 ms.
func ExampleFitSummaryTable() {
	var pkts [][]byte
	var at []time.Duration
	for i := range 5 {
		n := 200 * i
		req := ipv4(hostA, hostB, 1, icmpEcho(8, 1, uint16(i), data(n, 0)))
		rep := ipv4(hostB, hostA, 1, icmpEcho(0, 1, uint16(i), data(n, 0)))
		pkts = append(pkts, req, rep)
		at = append(at, time.Duration(i)*time.Second, time.Duration(i)*time.Second+linkRTT(30*time.Millisecond, 1e6, len(rep)))
	}
	rep, err := linkq.Analyze(bytes.NewReader(rawPcap(pkts, at)), linkq.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	reps := []linkq.FileReport{{File: "pings.pcap", Report: rep}}
	t := linkq.FitSummaryTable(reps)
	t.Header, t.Rows[0] = t.Header[:7], t.Rows[0][:7] // the first columns
	if err := t.WriteText(os.Stdout); err != nil {
		fmt.Println(err)
	}
	full := linkq.FitTable(reps)
	fmt.Println(len(full.Header), "CSV columns, from", full.Header[0], "to", full.Header[len(full.Header)-1])
	// Output:
	// file        source  path                  n  sizes   intercept ms  slope µs/B
	// pings.pcap  echo    10.0.0.1 -> 10.0.0.2  5  28-828  30.224        16.0000
	// 20 CSV columns, from file to echo_corrupted
}
