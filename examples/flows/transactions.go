package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
)

type txnRecord struct {
	Type   string `json:"type"`
	Conn   int    `json:"conn"`
	Client string `json:"client"`
	Server string `json:"server"`
	*appproto.Transaction
}

// runTransactions lists every application transaction as it completes,
// with its timing, then one line per connection that carried any.
func runTransactions(names []string, asJSON bool, stdin io.Reader, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	enc := json.NewEncoder(w)
	var encErr error
	if !asJSON {
		fmt.Fprintln(tw, "conn\ttxn\tproto\trequest\tstart\treq B\treq segs\tresp B\tresp segs\tturns\tserver ms\ttransfer ms\ttotal ms\tstatus\t")
	}
	out := &txPrinter{}
	out.tx = func(c *flow.Conn, t *appproto.Transaction) {
		if asJSON {
			if err := enc.Encode(txnRecord{"transaction", c.ID, c.Client.String(), c.Server.String(), t}); err != nil && encErr == nil {
				encErr = err
			}
			return
		}
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
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%s\t\n", c.ID, t.ID, t.Proto, what,
			t.RequestFirst.Format("15:04:05.000000"), t.RequestBytes, t.RequestSegments, t.ResponseBytes,
			t.ResponseSegments, t.Turns, t.ServerTime*1e3, t.TransferTime*1e3, t.Duration*1e3, status)
	}
	if !asJSON {
		out.end = func(c *flow.Conn) {
			if a := c.App; a.MessagesC2S+a.MessagesS2C > 0 {
				out.conns = append(out.conns, c)
			}
		}
	}
	cfg := flow.Config{Consumers: []flow.Consumer{out}}
	res, err := analyze(names, cfg, stdin, stderr)
	if res == nil {
		return 1
	}
	if encErr != nil {
		fmt.Fprintln(stderr, "flows:", encErr)
		return 1
	}
	if !asJSON {
		tw.Flush()
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "conn\tclient\tserver\tproto\tconfidence\tturns\trequests\ttransactions\tserver s\ttransactions s\tdur s\t")
		slices.SortFunc(out.conns, func(x, y *flow.Conn) int { return x.ID - y.ID })
		for _, c := range out.conns {
			a := c.App
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.2f\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.ID, c.Client, c.Server, c.Proto,
				c.ProtoConfidence, a.Turns, a.Requests, a.Transactions, a.ServerTime, a.TransactionTime, c.Duration)
		}
		tw.Flush()
		fmt.Fprintln(w, "server = first response byte - last request byte (includes one network round trip); transfer = last - first response byte")
	}
	if err != nil {
		w.Flush()
		fmt.Fprintln(stderr, "flows:", err)
		return 1
	}
	return 0
}

// txPrinter is the pass's consumer for -transactions: each transaction as
// it completes, and the connections that carried any for the closing
// table.
type txPrinter struct {
	tx    func(*flow.Conn, *appproto.Transaction)
	end   func(*flow.Conn)
	conns []*flow.Conn
}

func (*txPrinter) Packet(*flow.PacketInfo) {}

func (p *txPrinter) ConnEnd(c *flow.Conn) {
	if p.end != nil {
		p.end(c)
	}
}

func (p *txPrinter) Transaction(c *flow.Conn, t *appproto.Transaction) { p.tx(c, t) }
