// Command flows lists the TCP connections of a packet capture.
//
//	go run ./examples/flows [-json | -explain] FILE|-
//
// FILE is a pcap or pcapng capture, possibly gzip-compressed; "-" reads
// standard input. The default output is a table, one connection a line,
// then the packet accounting. With -json it prints JSON lines: one object
// of type "conn" per connection in first-seen order, then one of type
// "summary" (the schema is in the project README). With -explain it lists
// each packet carrying a TCP analysis label (retransmission, duplicate ACK,
// ...) with the rule that fired and the earlier packet it refers to.
// With -transactions it lists each application transaction (an HTTP
// request and its response, a PostgreSQL query up to ReadyForQuery, a
// MySQL command and its result, a TNS Data call and the server's reply...)
// with its bytes, segments, server time and transfer time, like
// Packetbeat, then the turns and transactions of each connection; add
// -json for JSON lines of type "transaction".
//
// A capture damaged part-way is analysed up to the damage; the error is
// printed to standard error (and in the summary's "error" field) and the
// exit status is 1.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/tcpstate"
)

type connRecord struct {
	Type string `json:"type"`
	*flow.Conn
	// Explain is why the connection took the time it did (package
	// flow/explain).
	Explain *explain.Conn `json:"explain,omitempty"`
}

type summaryRecord struct {
	Type string `json:"type"`
	flow.Summary
	Format flow.Format `json:"format"`
	Error  string      `json:"error,omitempty"`
}

func main() {
	asJSON := flag.Bool("json", false, "print JSON lines instead of a table")
	transactions := flag.Bool("transactions", false, "list each application transaction (request and response) with its timing; with -json as JSON lines")
	explain := flag.Bool("explain", false, "list each packet with a TCP analysis label, the rule that fired and the packet it refers to")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: flows [-json] FILE|-")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *explain {
		os.Exit(runExplain(flag.Arg(0), os.Stdin, os.Stdout, os.Stderr))
	}
	if *transactions {
		os.Exit(runTransactions(flag.Arg(0), *asJSON, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(flag.Arg(0), *asJSON, os.Stdin, os.Stdout, os.Stderr))
}

// workers is how many goroutines analyse connections (flow.Config.Workers):
// one per processor the Go runtime uses.
var workers = runtime.GOMAXPROCS(0)

func run(name string, asJSON bool, stdin io.Reader, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	cfg := flow.Config{Workers: workers}
	var jw *jsonWriter
	if asJSON {
		ex := explain.New(explain.Options{})
		jw = &jsonWriter{enc: json.NewEncoder(w), ex: ex, pending: map[int]connRecord{}, next: 1}
		cfg.Consumers = []flow.Consumer{ex, jw}
	} else {
		cfg.KeepConns = true
	}
	var (
		res *flow.Result
		err error
	)
	if name == "-" {
		res, err = flow.Analyze(stdin, cfg)
	} else {
		res, err = flow.AnalyzeFile(name, cfg)
	}
	if res == nil {
		fmt.Fprintln(stderr, "flows:", err)
		return 1
	}
	if asJSON {
		jw.flush()
		s := summaryRecord{Type: "summary", Summary: res.Summary, Format: res.Format}
		if err != nil {
			s.Error = err.Error()
		}
		if jw.err == nil {
			jw.err = jw.enc.Encode(s)
		}
		if jw.err != nil {
			fmt.Fprintln(stderr, "flows:", jw.err)
			return 1
		}
	} else {
		printTable(w, res)
	}
	if err != nil {
		w.Flush()
		fmt.Fprintln(stderr, "flows:", err)
		return 1
	}
	return 0
}

// jsonWriter is the pass's consumer for -json: it writes each connection,
// with its explanation, as soon as every connection seen before it has
// ended, so the records come in first-seen order (by id) while the pass
// runs.
type jsonWriter struct {
	enc     *json.Encoder
	ex      *explain.Explainer
	pending map[int]connRecord
	next    int
	err     error
}

func (*jsonWriter) Packet(*flow.PacketInfo) {}

// Fork returns a consumer that does nothing: the records are written by
// the jsonWriter itself, as connections end (see flow.Forker).
func (*jsonWriter) Fork() flow.Consumer { return flow.ConnFunc(func(*flow.Conn) {}) }

// Merge does nothing.
func (*jsonWriter) Merge([]flow.Consumer) {}

func (j *jsonWriter) ConnEnd(c *flow.Conn) {
	j.pending[c.ID] = connRecord{"conn", c, j.ex.Ended()}
	for {
		r, ok := j.pending[j.next]
		if !ok {
			return
		}
		delete(j.pending, j.next)
		j.next++
		if j.err == nil {
			j.err = j.enc.Encode(r)
		}
	}
}

// flush writes what is still pending, in id order.
func (j *jsonWriter) flush() {
	ids := make([]int, 0, len(j.pending))
	for id := range j.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if j.err == nil {
			j.err = j.enc.Encode(j.pending[id])
		}
	}
	clear(j.pending)
}

func printTable(w io.Writer, res *flow.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "id\tclient\tserver\tstart\tdur s\tstate\tc2s pkts\tc2s bytes\tc2s data\ts2c pkts\ts2c bytes\ts2c data\t")
	for _, c := range res.Conns {
		state := c.State.String()
		if c.Midstream && c.State != tcpstate.StateMidstream {
			state += "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.3f\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n",
			c.ID, c.Client, c.Server, c.First.Format("15:04:05.000"), c.Duration, state,
			c.C2S.Packets, c.C2S.WireBytes, c.C2S.UniqueBytes,
			c.S2C.Packets, c.S2C.WireBytes, c.S2C.UniqueBytes)
	}
	tw.Flush()
	s := res.Summary
	fmt.Fprintf(w, "\n%d packets (%s): %d TCP in %d connections", s.Packets, res.Format, s.TCPPackets, s.Connections)
	for _, k := range slices.Sorted(maps.Keys(s.Other)) {
		fmt.Fprintf(w, ", %d %s", s.Other[k], k)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Skipped)) {
		fmt.Fprintf(w, ", %d skipped (%s)", s.Skipped[k], k)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "bytes are frame bytes on the wire; data is unique TCP payload (retransmissions once); * = picked up mid-stream")
}
