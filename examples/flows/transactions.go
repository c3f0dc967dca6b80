package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/examples/internal/top"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
)

type txnRecord struct {
	Type   string `json:"type"`
	Conn   int    `json:"conn"`
	Client string `json:"client"`
	Server string `json:"server"`
	*appproto.Transaction
}

// MarshalJSON writes the record with the transaction's fields in place (a
// promoted Transaction.MarshalJSON would write those alone).
func (r txnRecord) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r txnRecord) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// txSummary is the last JSON line of -transactions -json: the packet
// accounting and the number of lines before it.
type txSummary struct {
	Type string `json:"type"`
	flow.Summary
	Format       flow.Format `json:"format"`
	Transactions uint64      `json:"transactions"`
	Statements   int         `json:"statements"`
	Error        string      `json:"error,omitempty"`
}

// Bounds of the -transactions table: its lines are flushed every
// txFlush transactions (columns line up within such a block), and the
// closing table of connections lists the first maxConnRows by id, the
// rest counted.
const (
	txFlush     = 1000
	maxConnRows = 1000
)

// runTransactions lists every application transaction as it completes,
// with its timing, then the statements and one line per connection that
// carried any (the first maxConnRows); with -json, JSON lines and a
// summary.
func runTransactions(names []string, asJSON bool, stdin io.Reader, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	enc := json.NewEncoder(w)
	var encErr error
	if !asJSON {
		fmt.Fprintln(tw, "conn\ttxn\tproto\trequest\tstart\treq B\treq segs\tresp B\tresp segs\tturns\tserver ms\ttransfer ms\ttotal ms\tstatus\t statement")
	}
	groups := appproto.NewStatementGroups(0)
	out := &txPrinter{}
	out.tx = func(c *flow.Conn, t *appproto.Transaction) {
		groups.Add(t)
		out.n++
		if asJSON {
			if err := enc.Encode(txnRecord{"transaction", c.ID, c.Client.String(), c.Server.String(), t}); err != nil && encErr == nil {
				encErr = err
			}
			return
		}
		txRow(tw, c, t)
		if out.n%txFlush == 0 {
			tw.Flush()
		}
	}
	if !asJSON {
		out.conns = top.New(maxConnRows, func(x, y *flow.Conn) bool { return x.ID < y.ID })
	}
	res, err := analyze(names, flow.Config{Consumers: []flow.Consumer{out}}, stdin, stderr)
	if res == nil {
		return 1
	}
	stmts := groups.Groups()
	// The statements that cost the most server time first.
	slices.SortStableFunc(stmts, func(x, y appproto.StatementGroup) int { return cmp.Compare(y.ServerTime, x.ServerTime) })
	if asJSON {
		for i := range stmts {
			if err := enc.Encode(stmtRecord{"statement", &stmts[i]}); err != nil && encErr == nil {
				encErr = err
			}
		}
		s := txSummary{Type: "summary", Summary: res.Summary, Format: res.Format, Transactions: out.n, Statements: len(stmts)}
		if err != nil {
			s.Error = err.Error()
		}
		if err := enc.Encode(s); err != nil && encErr == nil {
			encErr = err
		}
	}
	if encErr != nil {
		fmt.Fprintln(stderr, "flows:", encErr)
		return 1
	}
	if !asJSON {
		tw.Flush()
		fmt.Fprintln(w)
		stmtTable(tw, stmts)
		tw.Flush()
		fmt.Fprintln(w)
		connTable(tw, out.conns.Sorted())
		tw.Flush()
		if r := out.rest; r.conns > 0 {
			fmt.Fprintf(w, "... and %d more connections (beyond the first %d by id): %d transactions, %.3f s server time\n",
				r.conns, maxConnRows, r.transactions, r.serverTime.Seconds())
		}
		fmt.Fprintln(w, "server = first response byte - last request byte (includes one network round trip); transfer = last - first response byte")
		fmt.Fprintln(w, "incomplete = bytes of the request or response missing (cut by the end of the capture, or lost in a gap)")
	}
	if err != nil {
		w.Flush()
		fmt.Fprintln(stderr, "flows:", err)
		return 1
	}
	return 0
}

// txRow writes the table line of transaction t of connection c.
func txRow(w io.Writer, c *flow.Conn, t *appproto.Transaction) {
	what := t.Kind
	if t.Verb != "" && t.Verb != t.Kind {
		what += " " + t.Verb
	}
	status := ""
	switch {
	case t.Status != 0:
		status = fmt.Sprint(t.Status)
	case t.Error:
		status = "error"
	}
	if t.Incomplete {
		status += " incomplete" // cut by the end of the capture or a gap
	}
	fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%s\t %s\n", c.ID, t.ID, t.Proto, what,
		t.RequestFirst.Format("15:04:05.000000"), t.RequestBytes, t.RequestSegments, t.ResponseBytes,
		t.ResponseSegments, t.Turns, t.ServerTime.Seconds()*1e3, t.TransferTime.Seconds()*1e3, t.Duration.Seconds()*1e3, status, txText(t))
}

// connTable writes the connections that carried application data, by id.
func connTable(w io.Writer, conns []*flow.Conn) {
	fmt.Fprintln(w, "conn\tclient\tserver\tproto\tconfidence\tturns\trequests\ttransactions\tserver s\ttransactions s\tdur s\t")
	slices.SortFunc(conns, func(x, y *flow.Conn) int { return x.ID - y.ID })
	for _, c := range conns {
		a := c.App
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%.2f\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.ID, c.Client, c.Server, c.Proto,
			c.ProtoConfidence, a.Turns, a.Requests, a.Transactions, a.ServerTime.Seconds(), a.TransactionTime.Seconds(), c.Duration.Seconds())
	}
}

// stmtRecord is the JSON line of one statement group.
type stmtRecord struct {
	Type string `json:"type"`
	*appproto.StatementGroup
}

// MarshalJSON writes the record with the group's fields in place.
func (r stmtRecord) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r stmtRecord) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// stmtTable writes the statement groups, one a line.
func stmtTable(w io.Writer, stmts []appproto.StatementGroup) {
	fmt.Fprintln(w, "proto\tcount\tturns\treq B\tresp B\terrors\tincomplete\tserver s\tp50 ms\tp95 ms\tmax ms\t statement")
	for _, s := range stmts {
		text := s.Statement
		switch {
		case s.Other:
			text = "(other statements, beyond the bound on groups)"
		case s.Proto == "http":
			text = s.Verb + " " + s.Host + " " + text
		case text == "":
			text = "(" + s.Kind + ")"
		}
		if s.TextTruncated {
			text += "…"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t %s\n", s.Proto, s.Count, s.Turns, s.RequestBytes,
			s.ResponseBytes, s.Errors, s.Incomplete, s.ServerTime.Seconds(), s.ServerTimeP50.Seconds()*1e3, s.ServerTimeP95.Seconds()*1e3, s.ServerTimeMax.Seconds()*1e3, oneLine(text))
	}
	fmt.Fprintln(w, "statements: literals replaced by ?; turns = round trips paid; p50/p95 = nearest-rank server time; most server time first")
}

// txText is what a transaction's table line shows of its text: the
// statement, or an HTTP request's host and target; … marks a cut.
func txText(t *appproto.Transaction) string {
	s := string(t.Query)
	if len(t.Path) > 0 {
		s = string(t.Host) + " " + string(t.Path)
	}
	if t.TextTruncated {
		s += "…"
	}
	return oneLine(s)
}

// oneLine replaces control characters (a statement's line breaks) by
// spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// txPrinter is the pass's consumer for -transactions: each transaction as
// it completes, and the connections that carried any for the closing
// table (the first maxConnRows by id kept, the rest counted).
type txPrinter struct {
	tx    func(*flow.Conn, *appproto.Transaction)
	n     uint64 // transactions
	conns *top.Keeper[*flow.Conn]
	rest  struct {
		conns, transactions uint64
		serverTime          time.Duration
	}
}

func (*txPrinter) Packet(*flow.PacketInfo) {}

func (p *txPrinter) ConnEnd(c *flow.Conn) {
	if a := c.App; p.conns == nil || a.MessagesC2S+a.MessagesS2C == 0 {
		return
	}
	if out, dropped := p.conns.Add(c); dropped {
		p.rest.conns++
		p.rest.transactions += out.App.Transactions
		p.rest.serverTime += out.App.ServerTime
	}
}

func (p *txPrinter) Transaction(c *flow.Conn, t *appproto.Transaction) { p.tx(c, t) }
