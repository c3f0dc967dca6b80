// Command flows lists the TCP connections of a packet capture.
//
//	go run ./examples/flows [-json | -explain | -transactions] [-q] FILE...|-
//
// FILE is a pcap or pcapng capture, possibly gzip-compressed; "-" reads
// standard input. Several files are read as one capture (the rotated files
// of tcpdump -C or -G), their packets merged by timestamp. The default
// output is a table, one connection a line, then the packet accounting.
// With -json it prints JSON lines: one object of type "conn" per
// connection, then one of type "summary" (the schema is in the project
// README). Records come out as connections end, in first-seen order (by
// id) as long as no more than 2048 ended connections wait for an earlier
// one still open; past that the rest come in the order they end (the
// summary's "order" says "first_seen" or "end"). With -explain it lists
// each packet carrying a TCP analysis label (retransmission, duplicate ACK,
// ...) with the rule that fired and the earlier packet it refers to, and
// each connection's vantage, RTT and capture-quality issues as it ends,
// then the count of lines.
// With -transactions it lists each application transaction (an HTTP
// request and its response, a PostgreSQL query up to ReadyForQuery, a
// MySQL command and its result, a TNS Data call and the server's reply...)
// with its bytes, segments, server time, transfer time and text (the SQL
// statement, the HTTP host and path, the Redis command), like Packetbeat,
// then the statements (appproto.StatementGroups: transactions grouped by
// statement, literals replaced by ?, with their count, round trips, bytes
// and server time p50/p95), then the turns and transactions of each
// connection (the first 1000 by id, the rest counted); add -json for JSON
// lines of type "transaction", then "statement", then one "summary" (the
// packet accounting, as with -json, and the transaction and statement
// counts).
//
// Every mode writes as it reads, in memory bounded by flow.Config (the
// live connections), whatever the capture holds: an endless stream on
// standard input gives output continuously.
//
// On a terminal, a progress line on standard error shows how far the
// reading has got (-q turns it off). A capture damaged part-way is
// analysed up to the damage; the error is printed to standard error (and
// in the summary's "error" field) and the exit status is 1.
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
	"runtime/debug"
	"slices"
	"sync"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

type connRecord struct {
	Type string `json:"type"`
	*flow.Conn
	// Explain is why the connection took the time it did (package
	// flow/explain).
	Explain *explain.Conn `json:"explain,omitempty"`
}

// MarshalJSON writes the record with the connection's fields in place (a
// promoted Conn.MarshalJSON would write those alone).
func (r connRecord) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r connRecord) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

type summaryRecord struct {
	Type string `json:"type"`
	flow.Summary
	Format flow.Format `json:"format"`
	// Order is the order of the conn records: "first_seen" (by id) or
	// "end" (as the connections ended, once too many waited).
	Order string `json:"order"`
	Error string `json:"error,omitempty"`
}

func main() {
	asJSON := flag.Bool("json", false, "print JSON lines instead of a table")
	transactions := flag.Bool("transactions", false, "list each application transaction (request and response) with its timing; with -json as JSON lines")
	explain := flag.Bool("explain", false, "list each packet with a TCP analysis label, the rule that fired and the packet it refers to")
	quiet := flag.Bool("q", false, "no progress line on standard error")
	flag.IntVar(&maxConns, "max-conns", 0, cli.MaxConnsUsage)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: flows [-json | -explain | -transactions] [-q] FILE...|-")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	progress = !*quiet
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	switch {
	case *explain:
		os.Exit(runExplain(flag.Args(), os.Stdin, os.Stdout, os.Stderr))
	case *transactions:
		os.Exit(runTransactions(flag.Args(), *asJSON, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(flag.Args(), *asJSON, os.Stdin, os.Stdout, os.Stderr))
}

// gcPercent is the tool's garbage collection target (GOGC) unless the
// GOGC environment variable sets one: the heap may grow 25 % past the
// live data between collections instead of Go's default 100 %. Most of
// the heap is the live connections' state, which stays live for the
// whole pass while little is allocated per connection, so collections
// stay few: on the big lab capture (2,984,956 packets, 1,581 connections
// live at most, 38 MB live) 22 instead of 5, for a peak RSS of 69 instead
// of 105 MB, at 5.5 % more instructions for the whole run (callgrind,
// GOMAXPROCS=1: 30.80 against 29.19 billion). See the README's "Memory".
const gcPercent = 25

// workers is how many goroutines analyse connections (flow.Config.Workers):
// one per processor the Go runtime uses.
var workers = runtime.GOMAXPROCS(0)

// progress enables the progress line (when standard error is a terminal).
var progress = true

// maxConns bounds the live connections (flow.Config.MaxConns).
var maxConns int

// analyze opens the captures named and runs the pass over them, with a
// progress line on stderr when it is a terminal. It returns nil (having
// said why on stderr) if the input cannot be read at all.
func analyze(names []string, cfg flow.Config, stdin io.Reader, stderr io.Writer) (*flow.Result, error) {
	in, err := cli.Open(names, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "flows:", err)
		return nil, err
	}
	defer in.Close()
	cfg.MaxConns = maxConns
	if f, ok := stderr.(*os.File); ok {
		defer in.Progress(f, !progress, "flows")()
	}
	return in.Analyze(cfg)
}

func run(names []string, asJSON bool, stdin io.Reader, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	cfg := flow.Config{Workers: workers}
	var out connOutput
	if asJSON {
		j := newJSONWriter(w)
		cfg.Consumers = []flow.Consumer{j}
		out = j
	} else {
		t := &tableWriter{w: w}
		t.order.Emit = t.emit
		cfg.Consumers = []flow.Consumer{t}
		out = t
	}
	res, err := analyze(names, cfg, stdin, stderr)
	if res == nil {
		return 1
	}
	werr := out.finish(res, err)
	if werr != nil {
		fmt.Fprintln(stderr, "flows:", werr)
		return 1
	}
	if err != nil {
		w.Flush()
		fmt.Fprintln(stderr, "flows:", err)
		return 1
	}
	return 0
}

// connOutput writes the connection list as connections end; finish
// writes what follows the last (the summary) and returns the first
// write error.
type connOutput interface {
	flow.Consumer
	finish(res *flow.Result, err error) error
}

// tableWriter is the pass's consumer for the table: it writes each
// connection's row as soon as every connection seen before it has ended,
// so the rows come in first-seen order while the pass runs; once more
// than cli.DefaultWindow wait, it writes the rest as they end.
type tableWriter struct {
	w      io.Writer
	order  cli.Reorder[*flow.Conn]
	header bool // the table's header is written
	err    error
}

func (t *tableWriter) emit(c *flow.Conn) {
	if t.err != nil {
		return
	}
	if !t.header {
		t.header = true
		tableHeader(t.w)
	}
	t.err = tableRow(t.w, c)
}

func (*tableWriter) Packet(*flow.PacketInfo) {}

// Fork returns a consumer that does nothing: the rows are written by the
// tableWriter itself, as connections end (see flow.Forker).
func (*tableWriter) Fork() flow.Consumer { return flow.ConnFunc(func(*flow.Conn) {}) }

// Merge does nothing.
func (*tableWriter) Merge([]flow.Consumer) {}

func (t *tableWriter) ConnEnd(c *flow.Conn) { t.order.Add(c.ID, c) }

func (t *tableWriter) finish(res *flow.Result, _ error) error {
	t.order.Flush()
	if t.err == nil {
		if !t.header {
			tableHeader(t.w)
		}
		tableSummary(t.w, res, t.order.Order())
	}
	return t.err
}

// jsonWriter is the pass's consumer for -json: it explains each
// connection (flow/explain) and encodes its record where the connection
// was analysed (in its shard's fork in a parallel pass, see flow.Forker),
// and writes the records as soon as every connection seen before has
// ended, in first-seen order, until more than cli.DefaultWindow wait;
// then as they end.
type jsonWriter struct {
	w     io.Writer
	ex    *explain.Explainer
	order cli.Reorder[encoded]
	err   error
	// A parallel pass's forks leave each record here for ConnEnd.
	forked bool
	mu     sync.Mutex
	done   map[*flow.Conn]encoded
}

// encoded is a connection's record as json.Encoder writes it, or the
// error encoding it.
type encoded struct {
	b   []byte
	err error
}

func newJSONWriter(w io.Writer) *jsonWriter {
	j := &jsonWriter{w: w, ex: explain.New(explain.Options{}), done: map[*flow.Conn]encoded{}}
	j.order.Emit = j.emit
	return j
}

// encodeConn encodes the record of connection c with its explanation x,
// in a slice of its own length: a record may wait in the reorder window
// (thousands of them behind a connection still open).
func encodeConn(c *flow.Conn, x *explain.Conn) encoded {
	scratch := encodeBufs.Get().(*[]byte)
	b, err := connRecord{Type: "conn", Conn: c, Explain: x}.AppendJSON((*scratch)[:0])
	out := append(make([]byte, 0, len(b)+1), b...)
	*scratch = b
	encodeBufs.Put(scratch)
	return encoded{append(out, '\n'), err}
}

// encodeBufs holds the buffers encodeConn encodes into (one per
// goroutine encoding at once: a parallel pass's forks encode in their
// shards).
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (j *jsonWriter) emit(r encoded) {
	switch {
	case j.err != nil:
	case r.err != nil:
		j.err = r.err
	default:
		_, j.err = j.w.Write(r.b)
	}
}

func (j *jsonWriter) Packet(p *flow.PacketInfo) { j.ex.Packet(p) }

func (j *jsonWriter) Transaction(c *flow.Conn, t *appproto.Transaction) { j.ex.Transaction(c, t) }

func (j *jsonWriter) ConnEnd(c *flow.Conn) {
	j.ex.ConnEnd(c)
	var b encoded
	if j.forked {
		j.mu.Lock()
		b = j.done[c]
		delete(j.done, c)
		j.mu.Unlock()
	} else {
		b = encodeConn(c, j.ex.Ended())
	}
	j.order.Add(c.ID, b)
}

// Fork returns the consumer of one shard: a fork of the explainer, which
// encodes each record as its connection ends.
func (j *jsonWriter) Fork() flow.Consumer {
	j.forked = true
	return &jsonFork{root: j, ex: j.ex.Fork().(*explain.Explainer)}
}

// Merge merges the explainer's forks.
func (j *jsonWriter) Merge(forks []flow.Consumer) {
	exs := make([]flow.Consumer, len(forks))
	for i, f := range forks {
		exs[i] = f.(*jsonFork).ex
	}
	j.ex.Merge(exs)
}

func (j *jsonWriter) finish(res *flow.Result, err error) error {
	j.order.Flush()
	s := summaryRecord{Type: "summary", Summary: res.Summary, Format: res.Format, Order: j.order.Order()}
	if err != nil {
		s.Error = err.Error()
	}
	if j.err == nil {
		j.err = json.NewEncoder(j.w).Encode(s)
	}
	return j.err
}

// jsonFork is a jsonWriter's consumer in one shard of a parallel pass.
type jsonFork struct {
	root *jsonWriter
	ex   *explain.Explainer
}

func (f *jsonFork) Packet(p *flow.PacketInfo) { f.ex.Packet(p) }

func (f *jsonFork) Transaction(c *flow.Conn, t *appproto.Transaction) { f.ex.Transaction(c, t) }

func (f *jsonFork) ConnEnd(c *flow.Conn) {
	f.ex.ConnEnd(c)
	b := encodeConn(c, f.ex.Ended())
	f.root.mu.Lock()
	f.root.done[c] = b
	f.root.mu.Unlock()
}

const tableFormat = "%6s  %21s  %21s  %12s  %9s  %9s  %8s  %10s  %10s  %8s  %10s  %10s\n"

func tableHeader(w io.Writer) {
	fmt.Fprintf(w, tableFormat, "id", "client", "server", "start", "dur s", "state", "c2s pkts", "c2s bytes", "c2s data", "s2c pkts", "s2c bytes", "s2c data")
}

func tableRow(w io.Writer, c *flow.Conn) error {
	state := c.State.String()
	if c.Midstream && c.State != tcpstate.StateMidstream {
		state += "*"
	}
	u := func(v uint64) string { return fmt.Sprint(v) }
	_, err := fmt.Fprintf(w, tableFormat, fmt.Sprint(c.ID), c.Client, c.Server, c.First.Format("15:04:05.000"),
		fmt.Sprintf("%.3f", c.Duration.Seconds()), state, u(c.C2S.Packets), u(c.C2S.WireBytes), u(c.C2S.UniqueBytes),
		u(c.S2C.Packets), u(c.S2C.WireBytes), u(c.S2C.UniqueBytes))
	return err
}

func tableSummary(w io.Writer, res *flow.Result, order string) {
	s := res.Summary
	fmt.Fprintf(w, "\n%d packets (%s): %d TCP in %d connections", s.Packets, res.Format, s.TCPPackets, s.Connections)
	for _, k := range slices.Sorted(maps.Keys(s.Other)) {
		fmt.Fprintf(w, ", %d %s", s.Other[k], k)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Skipped)) {
		fmt.Fprintf(w, ", %d skipped (%s)", s.Skipped[k], k)
	}
	fmt.Fprintln(w)
	if s.EvictedEstablished > 0 {
		fmt.Fprintf(w, "warning: %d of the %d connections evicted to stay within -max-conns were established (their later packets start new mid-stream connections: reported in pieces): raise -max-conns\n",
			s.EvictedEstablished, s.Evicted)
	}
	if order == "end" {
		fmt.Fprintln(w, "rows in the order connections ended (too many waited for an earlier one still open); id gives first-seen order")
	}
	fmt.Fprintln(w, "bytes are frame bytes on the wire; data is unique TCP payload (retransmissions once); * = picked up mid-stream")
}
