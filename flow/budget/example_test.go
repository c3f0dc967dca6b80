package budget_test

import (
	"fmt"
	"path/filepath"

	"github.com/netecology/netecology/flow/budget"
	"github.com/netecology/netecology/flow/flowtest"
)

// A budget for a session captured on a 10 ms test path, judged for the
// 150 ms production path: psql's 200 single-row queries would take 31 s
// there.
func Example() {
	spec, err := budget.Parse("budget.yaml", []byte(`
at: {rtt: 150ms, rate: 2M}
checks:
  - name: session at 150 ms and 2 Mbit/s
    check: max(projected.duration_s) <= 5s
  - name: p95 server time of SELECTs
    of: transactions
    where: {proto: postgres, verb: SELECT}
    check: p95(server_time_s) <= 40ms
  - name: no timeout retransmissions
    check: c2s.retrans_timeout + s2c.retrans_timeout == 0
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	trace := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "rtt10-pg-chatty.pcap")
	rep, err := budget.EvaluateFile(trace, spec, budget.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(r.String())
	}
	fmt.Println(rep.Passed, "passed,", rep.Failed, "failed")
	// Output:
	// FAIL  session at 150 ms and 2 Mbit/s: max(projected.duration_s) = 31.135 s at 150ms 2000 kbit/s, limit <= 5.000 s; broken by conn 1 10.77.0.1:46422 -> 10.77.0.2:5432 postgres (packets 1-417)
	// PASS  p95 server time of SELECTs: p95(server_time_s) = 13.568 ms [proto=postgres verb=SELECT], limit <= 40.000 ms
	// PASS  no timeout retransmissions: c2s.retrans_timeout + s2c.retrans_timeout = 0, limit == 0
	// 2 passed, 1 failed
}

// printTB stands for the *testing.T of a Go test, printing what the test
// would report.
type printTB struct{}

func (printTB) Helper()                           {}
func (printTB) Errorf(format string, args ...any) { fmt.Printf("error: "+format+"\n", args...) }
func (printTB) Fatalf(format string, args ...any) { fmt.Printf("fatal: "+format+"\n", args...) }

// In a Go test of the application, one call asserts the budget on the
// trace of the test run and reports each failing check through t
// (budget.Assert(t, trace, spec), or budget.AssertFile with the budget in
// a file). Here: psql's single-row queries pay a turn per row (tshark:
// 200 Data rows for 200 queries), and 6 of the 200 answers started more
// than 15 ms after their query (tshark's frame times: the slowest, 16.214
// ms, frames 62-63).
func ExampleAssert() {
	spec, err := budget.Parse("budget.yaml", []byte(`
checks:
  - name: at most one application turn per 10 rows fetched
    of: transactions
    where: {proto: postgres, verb: [SELECT, FETCH]}
    check: sum(turns) / sum(response_messages - 3) <= 10%
  - name: every answer starts within 15 ms
    of: transactions
    check: server_time_s <= 15ms
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var t printTB // a *testing.T in a real test
	budget.Assert(t, "../../testdata/lab/rtt10-pg-chatty.pcap", spec)
	// Output:
	// error: FAIL  ../../testdata/lab/rtt10-pg-chatty.pcap  at most one application turn per 10 rows fetched: sum(turns) / sum(response_messages - 3) = 100.0% [proto=postgres verb=SELECT|FETCH], limit <= 10.0%; worst conn 1 10.77.0.1:46422 -> 10.77.0.2:5432 postgres transaction 1 SELECT (packets 12-13)
	// error: FAIL  ../../testdata/lab/rtt10-pg-chatty.pcap  every answer starts within 15 ms: server_time_s = 16.214 ms (worst of 200 transactions, 6 over the limit), limit <= 15.000 ms; broken by conn 1 10.77.0.1:46422 -> 10.77.0.2:5432 postgres transaction 26 SELECT (packets 62-63)
}
