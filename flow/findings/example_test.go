package findings_test

import (
	"fmt"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
)

// The conclusion and the failing verdict line of the committed chatty
// PostgreSQL session: 200 one-row queries over a 150 ms, 2 Mbit/s link.
func ExampleConclusion() {
	rep, err := explain.AnalyzeFile("../../testdata/lab/wan2m-pg-chatty.pcap", explain.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := rep.Conns[0]
	fmt.Println(findings.Conclusion(c))
	for _, f := range findings.Checks(c) {
		if f.Level.String() == "fail" {
			fmt.Printf("%s %s: %s\n", f.Level, f.Check, f.Message)
		}
	}
	// Output:
	// 204 round trips × 150.9 ms = 30.8 s of the 31.6 s; segments are small (mean 228 B, 100% below the MSS) and each is acknowledged
	// fail round_trips: the handshake and 204 turns that each waited a round trip took 30.9 s, 98% of the 31.6 s
}
