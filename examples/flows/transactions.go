package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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
func runTransactions(name string, asJSON bool, stdin io.Reader, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	enc := json.NewEncoder(w)
	var encErr error
	if !asJSON {
		fmt.Fprintln(tw, "conn\ttxn\tproto\trequest\tstart\treq B\treq segs\tresp B\tresp segs\tturns\tserver ms\ttransfer ms\ttotal ms\tstatus\t")
	}
	cfg := flow.Config{OnTransaction: func(c *flow.Conn, t *appproto.Transaction) {
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
	}}
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
	if encErr != nil {
		fmt.Fprintln(stderr, "flows:", encErr)
		return 1
	}
	if !asJSON {
		tw.Flush()
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "conn\tclient\tserver\tproto\tconfidence\tturns\trequests\ttransactions\tserver s\ttransactions s\tdur s\t")
		for _, c := range res.Conns {
			a := c.App
			if a.MessagesC2S+a.MessagesS2C == 0 {
				continue
			}
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
