package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/netecology/netecology/flow/census"
	"github.com/netecology/netecology/flow/units"
)

// findings are the census's headlines: who sends most, who pings big,
// what routing, broadcast and non-IP traffic the link carries, the busiest
// interval, the most padded connection.
func findings(r *fileReport, rate units.BitRate) []string {
	var out []string
	ofRate := func(r units.BitRate) string {
		if rate <= 0 {
			return ""
		}
		return fmt.Sprintf(" (%.1f%% of %s)", 100*float64(r)/float64(rate), rate)
	}
	top := ""
	if h := r.Hosts.BySent; len(h) > 0 {
		top = talkerKey(h[0].Prefix)
		s := fmt.Sprintf("top talker: %s sent %d bytes, %s%% of all", top, h[0].SentBytes, pct(h[0].SentShare))
		if len(h) > 1 {
			s += fmt.Sprintf(" (next %s, %s%%)", talkerKey(h[1].Prefix), pct(h[1].SentShare))
		}
		out = append(out, s)
	}
	for i, p := range r.ICMP.Pingers {
		if i == 3 {
			break
		}
		s := fmt.Sprintf("big pings: %s sent %d echo requests with more than %d bytes of payload; with their replies %d bytes, %s kbit/s over %.1f s%s",
			p.Host, p.Pings, r.ICMP.BigPingBytes, p.Bytes, kbps(p.Rate), p.Last.Sub(p.First).Seconds(), ofRate(p.Rate))
		if p.Host.String() == top {
			s += ", the top talker"
		}
		out = append(out, s)
	}
	if s := classSummary("routing protocols", r.Layers.Routing); s != "" {
		out = append(out, s)
	}
	if s := classSummary("broadcasts and multicasts", r.Layers.Casts); s != "" {
		out = append(out, s)
	}
	if s := classSummary("non-IP frames", r.Layers.EtherTypes); s != "" {
		if r.Layers.LinkKnown == 0 {
			s += " (flow does not show their EtherType)"
		}
		out = append(out, s)
	}
	if s := busiest(r, ofRate); s != "" {
		out = append(out, s)
	}
	if c := r.Redundancy.Conns; len(c) > 0 && c[0].Both.RedundantShare >= 0.2 {
		x := &c[0].Both
		out = append(out, fmt.Sprintf("padding and repeats: connection %d %s → %s (%s): %s%% of its %d payload bytes redundant (runs %s%%: spaces %d, zeros %d, other %d)",
			c[0].ID, c[0].Client, c[0].Server, c[0].Proto, pct(x.RedundantShare), x.CapturedBytes, pct(x.RunShare),
			x.SpaceRunBytes, x.ZeroRunBytes, x.OtherRunBytes))
	}
	return out
}

// classSummary sums the classes with packets: "name: N packets, B bytes
// (x% of bytes): a n, b m".
func classSummary(name string, cs []census.Class) string {
	var parts []string
	var pk, by uint64
	var share float64
	for _, c := range cs {
		if c.Packets == 0 {
			continue
		}
		pk += c.Packets
		by += c.Bytes
		share += c.Share
		parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Packets))
	}
	if pk == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d packets, %d bytes (%s%% of bytes): %s", name, pk, by, pct(share), strings.Join(parts, ", "))
}

// busiest names the interval with the most bytes one way across the link.
func busiest(r *fileReport, ofRate func(units.BitRate) string) string {
	best, dir, bps := -1, "", units.BitRate(0)
	for i, iv := range r.Intervals {
		for _, d := range []struct {
			name string
			u    census.Use
		}{{"out", iv.Out}, {"in", iv.In}} {
			if d.u.Rate > bps {
				best, dir, bps = i, d.name, d.u.Rate
			}
		}
	}
	if best < 0 || len(r.Local) == 0 {
		return ""
	}
	return fmt.Sprintf("busiest %s interval: %s from %s, %s kbit/s%s", r.Interval, dir,
		r.Intervals[best].Start.Format(time.RFC3339), kbps(bps), ofRate(bps))
}
