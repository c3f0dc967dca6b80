package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netecology/netecology/flow/census"
	"github.com/netecology/netecology/flow/units"
)

func u(v uint64) string           { return strconv.FormatUint(v, 10) }
func f1(v float64) string         { return strconv.FormatFloat(v, 'f', 1, 64) }
func f3(v float64) string         { return strconv.FormatFloat(v, 'f', 3, 64) }
func pct(share float64) string    { return strconv.FormatFloat(100*share, 'f', 1, 64) }
func kbps(r units.BitRate) string { return strconv.FormatFloat(float64(r)/1e3, 'f', 1, 64) }

// table is a header and rows, printed as CSV (with the file name first)
// or as text.
type table struct {
	header []string
	rows   func(r fileReport) [][]string
}

var dirNames = []string{"out", "in", "internal", "transit", "unknown"}

func uses(t *census.Traffic) []census.Use {
	return []census.Use{t.Out, t.In, t.Internal, t.Transit, t.Unknown}
}

func talkerKey(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// talkerRows lists a top table's three lists, each row named by its list.
func talkerRows(t *census.Top) [][]string {
	var rows [][]string
	for _, l := range []struct {
		by   string
		rows []census.Talker
	}{{"sent", t.BySent}, {"received", t.ByReceived}, {"connections", t.ByConnections}} {
		for i, h := range l.rows {
			rows = append(rows, []string{l.by, strconv.Itoa(i + 1), talkerKey(h.Prefix), u(h.SentBytes), u(h.SentPackets),
				u(h.SentError), pct(h.SentShare), u(h.ReceivedBytes), u(h.ReceivedPackets), u(h.ReceivedError),
				pct(h.ReceivedShare), u(h.Connections), u(h.ConnectionsError)})
		}
	}
	return rows
}

var talkerHeader = []string{"by", "rank", "key", "sent_bytes", "sent_packets", "sent_error", "sent_pct",
	"received_bytes", "received_packets", "received_error", "received_pct", "connections", "connections_error"}

func redRow(r *census.Redundancy) []string {
	return []string{u(r.CapturedBytes), u(r.SpaceRunBytes), u(r.ZeroRunBytes), u(r.OtherRunBytes), pct(r.RunShare),
		u(r.SampledBytes), pct(r.MatchShare), f3(r.Ratio), u(r.RedundantBytes), pct(r.RedundantShare)}
}

var redHeader = []string{"payload_bytes", "space_run_bytes", "zero_run_bytes", "other_run_bytes", "run_pct",
	"sampled_bytes", "match_pct", "lz_ratio", "redundant_bytes", "redundant_pct"}

var tablesByName = map[string]table{
	"intervals": {
		header: []string{"start", "direction", "packets", "bytes", "kbps", "pct_of_rate"},
		rows: func(r fileReport) [][]string {
			var rows [][]string
			for _, iv := range r.Intervals {
				for d, x := range uses(&iv.Traffic) {
					rows = append(rows, []string{iv.Start.Format(time.RFC3339), dirNames[d], u(x.Packets), u(x.Bytes), kbps(x.Rate), f3(x.Pct)})
				}
			}
			return rows
		},
	},
	"hosts":   {header: talkerHeader, rows: func(r fileReport) [][]string { return talkerRows(&r.Hosts) }},
	"subnets": {header: talkerHeader, rows: func(r fileReport) [][]string { return talkerRows(&r.Subnets) }},
	"classes": {
		header: []string{"layer", "class", "packets", "bytes", "pct_of_bytes"},
		rows: func(r fileReport) [][]string {
			var rows [][]string
			l := &r.Layers
			for _, g := range []struct {
				name string
				cs   []census.Class
			}{{"network", l.Network}, {"transport", l.Transport}, {"cast", l.Casts}, {"routing", l.Routing}, {"ethertype", l.EtherTypes}} {
				for _, c := range g.cs {
					rows = append(rows, []string{g.name, c.Name, u(c.Packets), u(c.Bytes), pct(c.Share)})
				}
			}
			return rows
		},
	},
	"services": {
		header: []string{"proto", "port", "connections", "packets", "bytes", "pct_of_bytes"},
		rows: func(r fileReport) [][]string {
			var rows [][]string
			for _, s := range r.Services {
				rows = append(rows, []string{s.Proto, strconv.Itoa(int(s.Port)), u(s.Connections), u(s.Packets), u(s.Bytes), pct(s.Share)})
			}
			return rows
		},
	},
	"protocols": {
		header: append([]string{"protocol", "connections", "packets", "bytes", "pct_of_bytes"}, redHeader...),
		rows: func(r fileReport) [][]string {
			var rows [][]string
			for _, p := range r.Protocols {
				rows = append(rows, append([]string{p.Name, u(p.Connections), u(p.Packets), u(p.Bytes), pct(p.Share)}, redRow(&p.Redundancy)...))
			}
			return rows
		},
	},
	"pingers": {
		header: []string{"host", "big_pings", "bytes", "error", "first", "last", "kbps", "pct_of_rate", "pings_per_s", "pct_of_bytes"},
		rows: func(r fileReport) [][]string {
			var rows [][]string
			for _, p := range r.ICMP.Pingers {
				rows = append(rows, []string{p.Host.String(), u(p.Pings), u(p.Bytes), u(p.Error), p.First.Format(time.RFC3339Nano),
					p.Last.Format(time.RFC3339Nano), kbps(p.Rate), f3(p.Pct), f3(p.PingsPerS), pct(p.ShareOfCapture)})
			}
			return rows
		},
	},
	"redundancy": {
		header: append([]string{"conn", "client", "server", "protocol", "dir"}, redHeader...),
		rows: func(r fileReport) [][]string {
			var rows [][]string
			for _, c := range r.Redundancy.Conns {
				for _, d := range []struct {
					name string
					r    *census.Redundancy
				}{{"c2s", &c.C2S}, {"s2c", &c.S2C}, {"both", &c.Both}} {
					rows = append(rows, append([]string{strconv.Itoa(c.ID), c.Client.String(), c.Server.String(), c.Proto, d.name}, redRow(d.r)...))
				}
			}
			return rows
		},
	},
}

func writeCSV(w io.Writer, name string, reps []fileReport) error {
	t := tablesByName[name]
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"file"}, t.header...)); err != nil {
		return err
	}
	for _, r := range reps {
		for _, row := range t.rows(r) {
			if err := cw.Write(append([]string{r.File}, row...)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeText prints each file's findings, then its tables.
func writeText(w io.Writer, o *options, reps []fileReport) error {
	for i, r := range reps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "== %s: %s to %s (%.3f s), %d packets, %d bytes\n", r.File, r.Start.Format(time.RFC3339Nano),
			r.End.Format(time.RFC3339Nano), r.Duration.Seconds(), r.Total.Sum().Packets, r.Total.Sum().Bytes)
		if r.Error != "" {
			fmt.Fprintf(w, "   read up to an error: %s\n", r.Error)
		}
		for _, f := range findings(&r, o.cfg.Rate) {
			fmt.Fprintln(w, "*", f)
		}
		if err := textTables(w, o, r); err != nil {
			return err
		}
	}
	return nil
}

func textTables(w io.Writer, o *options, r fileReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(cols ...string) { fmt.Fprintln(tw, strings.Join(cols, "\t")) }
	local := "no -local: directions unknown"
	if len(r.Local) > 0 {
		local = "local " + prefixList(r.Local)
	}
	rate := ""
	if r.Rate > 0 {
		rate = ", percent of " + r.Rate.String()
	}
	ofRate := func(p float64) string {
		if r.Rate <= 0 {
			return "-"
		}
		return f1(p)
	}
	fmt.Fprintf(tw, "\nTraffic by direction (%s%s):\n", local, rate)
	line("direction", "packets", "bytes", "kbit/s", "% of rate")
	for d, x := range uses(&r.Total) {
		line(dirNames[d], u(x.Packets), u(x.Bytes), kbps(x.Rate), ofRate(x.Pct))
	}
	fmt.Fprintf(tw, "\nPer %s interval (kbit/s, %% of rate):\n", r.Interval)
	line("start", "out", "out %", "in", "in %", "internal", "transit", "unknown")
	for _, iv := range r.Intervals {
		line(iv.Start.Format(time.RFC3339), kbps(iv.Out.Rate), ofRate(iv.Out.Pct), kbps(iv.In.Rate), ofRate(iv.In.Pct),
			kbps(iv.Internal.Rate), kbps(iv.Transit.Rate), kbps(iv.Unknown.Rate))
	}
	for _, s := range []struct {
		name string
		t    *census.Top
	}{{"hosts", &r.Hosts}, {"subnets", &r.Subnets}} {
		exact := "exact"
		if !s.t.Exact {
			exact = fmt.Sprintf("within the ± shown: more than %d keys", s.t.Capacity)
		}
		fmt.Fprintf(tw, "\nTop %s (%s):\n", s.name, exact)
		line("by", "#", s.name[:len(s.name)-1], "sent", "±", "sent %", "received", "±", "received %", "conns")
		for _, row := range talkerRows(s.t) {
			line(row[0], row[1], row[2], row[3], row[5], row[6], row[7], row[9], row[10], row[11])
		}
	}
	fmt.Fprintln(tw, "\nClasses (bytes % of all):")
	line("layer", "class", "packets", "bytes", "%")
	for _, row := range tablesByName["classes"].rows(r) {
		if row[2] != "0" {
			line(row...)
		}
	}
	fmt.Fprintln(tw, "\nServices:")
	line(tablesByName["services"].header...)
	for _, row := range tablesByName["services"].rows(r) {
		line(row...)
	}
	fmt.Fprintln(tw, "\nApplication protocols (TCP; runs: padding of ≥", o.cfg.MinRun, "equal bytes; repeats: LZ estimate on a sample):")
	line("protocol", "conns", "packets", "bytes", "%", "payload", "spaces", "zeros", "other runs", "runs %", "repeats %", "redundant %")
	for _, p := range r.Protocols {
		x := &p.Redundancy
		line(p.Name, u(p.Connections), u(p.Packets), u(p.Bytes), pct(p.Share), u(x.CapturedBytes), u(x.SpaceRunBytes),
			u(x.ZeroRunBytes), u(x.OtherRunBytes), pct(x.RunShare), pct(x.MatchShare), pct(x.RedundantShare))
	}
	e := &r.ICMP
	fmt.Fprintf(tw, "\nEchoes: %d requests, %d replies; big (payload > %d B): %d requests, %d replies\n",
		e.EchoRequests.Packets, e.EchoReplies.Packets, e.BigPingBytes, e.BigRequests.Packets, e.BigReplies.Packets)
	if len(e.Pingers) > 0 {
		line("pinger", "big pings", "bytes", "kbit/s", "% of rate", "pings/s", "% of bytes")
		for _, p := range e.Pingers {
			line(p.Host.String(), u(p.Pings), u(p.Bytes), kbps(p.Rate), ofRate(p.Pct), f1(p.PingsPerS), pct(p.ShareOfCapture))
		}
	}
	fmt.Fprintln(tw, "\nConnections with the most redundant payload:")
	line("conn", "client", "server", "protocol", "payload", "runs %", "repeats %", "redundant bytes")
	for _, c := range r.Redundancy.Conns {
		line(strconv.Itoa(c.ID), c.Client.String(), c.Server.String(), c.Proto, u(c.Both.CapturedBytes),
			pct(c.Both.RunShare), pct(c.Both.MatchShare), u(c.Both.RedundantBytes))
	}
	return tw.Flush()
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
