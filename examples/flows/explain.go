package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/netecology/netecology/examples/internal/cli"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// runExplain prints every packet that carries a TCP analysis label, one
// line per label: the packet, its connection and direction, the label,
// the rule that fired and the earlier packet it refers to; and, as each
// connection ends (in first-seen order, see connWriter), one line with
// its vantage, RTT and capture-quality issues. Last, the count of lines.
func runExplain(names []string, stdin io.Reader, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	x := &explainer{w: w}
	x.order.Emit = x.connLine
	res, err := analyze(names, flow.Config{Consumers: []flow.Consumer{x}}, stdin, stderr)
	if res == nil {
		return 1
	}
	x.order.Flush()
	fmt.Fprintf(w, "%d labelled lines in %d connections\n", x.lines, res.Summary.Connections)
	if x.order.EndOrder() {
		fmt.Fprintln(w, "connection lines in the order connections ended (too many waited for an earlier one still open)")
	}
	if err != nil {
		w.Flush()
		fmt.Fprintln(stderr, "flows:", err)
		return 1
	}
	return 0
}

// explainer is the pass's consumer for -explain.
type explainer struct {
	w     io.Writer
	lines uint64
	order cli.Reorder[*flow.Conn]
}

func (x *explainer) Packet(p *flow.PacketInfo) {
	a := p.Analysis
	if a == nil || (a.Labels == 0 && a.Anomaly == 0 && a.Evidence == tcpstate.EvidenceNone) {
		return
	}
	for l := tcpstate.Label(0); l < tcpstate.NumLabels; l++ {
		if a.Labels.Has(l) {
			x.lines++
			fmt.Fprintf(x.w, "%d\tconn %d %s\t%s\t%s\n", p.Index, p.Conn.ID, p.Dir, l, a.Explain(l))
		}
	}
	if a.Evidence != tcpstate.EvidenceNone {
		x.lines++
		fmt.Fprintf(x.w, "%d\tconn %d %s\tspurious_evidence\t%s\n", p.Index, p.Conn.ID, p.Dir, a.ExplainEvidence())
	}
	if a.Anomaly != 0 {
		x.lines++
		fmt.Fprintf(x.w, "%d\tconn %d %s\tanomaly\t%s\n", p.Index, p.Conn.ID, p.Dir, anomalies(a.Anomaly))
	}
}

func (x *explainer) ConnEnd(c *flow.Conn) { x.order.Add(c.ID, c) }

func (x *explainer) connLine(c *flow.Conn) {
	fmt.Fprintf(x.w, "conn %d %s -> %s: vantage %s, handshake RTT %.3f ms, data RTT median %.3f ms (%d samples)",
		c.ID, c.Client, c.Server, c.Vantage, units.Ms(c.RTT.Handshake), units.Ms(c.RTT.Median), c.RTT.Samples)
	for _, q := range c.Quality {
		fmt.Fprintf(x.w, "; %s x%d: %s", q.Issue, q.Count, q.Affects)
	}
	fmt.Fprintln(x.w)
}

func anomalies(a tcpstate.Anomaly) string {
	s := ""
	add := func(bit tcpstate.Anomaly, what string) {
		if a&bit != 0 {
			if s != "" {
				s += "; "
			}
			s += what
		}
	}
	add(tcpstate.AnomalyTimeBackwards, "capture time went backwards")
	add(tcpstate.AnomalySeqJump, "sequence number jumps more than 2^30 bytes")
	add(tcpstate.AnomalyWScale, "window scale above 14, clamped to 14")
	add(tcpstate.AnomalyOptions, "malformed or truncated TCP options")
	return s
}
