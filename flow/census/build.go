package census

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/netecology/netecology/flow/units"
)

// Report returns the census so far; call it after flow's Analyzer was
// closed. It may be called more than once.
func (c *Census) Report() *Report {
	cfg := &c.cfg
	r := &Report{Rate: cfg.Rate, Local: slices.Clone(cfg.Local), Start: c.start, End: c.end}
	if r.Local == nil {
		r.Local = []netip.Prefix{}
	}
	if c.hasTime {
		r.Duration = c.end.Sub(c.start)
	}
	r.Interval = time.Duration(c.bins.width()) * time.Microsecond
	r.Total = c.traffic(c.total, r.Duration.Seconds())
	r.Intervals = make([]Interval, len(c.bins.b))
	w := c.bins.width()
	for j, b := range c.bins.b {
		r.Intervals[j] = Interval{Start: time.UnixMicro((c.bins.first + int64(j)) * w).UTC(), Traffic: c.traffic(b, float64(w)/1e6)}
	}
	all := c.allBytes()
	r.Hosts = c.top(&c.hosts, cfg.MaxHosts, all)
	r.Subnets = c.top(&c.subnets, cfg.MaxSubnets, all)
	r.Layers = c.layers(all)
	r.Services = c.serviceRows(all)
	r.Protocols = c.protocolRows(all)
	r.ICMP = c.icmpReport(all)
	r.Redundancy = RedundancyReport{MinRun: cfg.MinRun, SampleBytes: cfg.SampleBytes, Total: c.redTotal,
		Conns: slices.Clone(c.topConns)}
	r.Redundancy.Total.finish()
	if r.Redundancy.Conns == nil {
		r.Redundancy.Conns = []ConnRedundancy{}
	}
	return r
}

func (c *Census) allBytes() uint64 {
	var n uint64
	for _, t := range c.total {
		n += t.Bytes
	}
	return n
}

// traffic turns per-direction counts into rates over secs seconds.
func (c *Census) traffic(counts [numDirs]Count, secs float64) Traffic {
	var t Traffic
	for d := range numDirs {
		u := t.Dir(d)
		u.Packets, u.Bytes = counts[d].Packets, counts[d].Bytes
		if secs > 0 {
			u.Rate = units.BitRate(float64(u.Bytes) * 8 / secs)
		}
		if c.cfg.Rate > 0 {
			u.Pct = 100 * float64(u.Rate) / float64(c.cfg.Rate)
		}
	}
	return t
}

func share(n, all uint64) float64 {
	if all == 0 {
		return 0
	}
	return float64(n) / float64(all)
}

// value reads key k's count of one metric from the summaries of both
// sources: the sum of the counts kept, the packets, and the bound on the
// error (the kept entries' errors, and for a summary that does not keep k
// but has evicted keys, its minimum).
func value(k netip.Prefix, hs ...*heavy) (count, pkts, errb uint64) {
	for _, h := range hs {
		if e, ok := h.get(k); ok {
			count += e.count
			pkts += e.pkts
			errb += e.err
		} else if h.evicted() {
			errb += h.min()
		}
	}
	return count, pkts, errb
}

// top builds a top-talker table.
func (c *Census) top(t *talkers, capacity int, all uint64) Top {
	out := Top{Capacity: capacity, Exact: true}
	for m := range numMetrics {
		if t.pkt[m].evicted() || t.conn[m].evicted() {
			out.Exact = false
		}
	}
	row := func(k netip.Prefix) Talker {
		r := Talker{Prefix: k}
		r.Connections, _, r.ConnectionsError = value(k, t.conn[mConns])
		r.SentBytes, r.SentPackets, r.SentError = value(k, t.pkt[mSent], t.conn[mSent])
		r.ReceivedBytes, r.ReceivedPackets, r.ReceivedError = value(k, t.pkt[mRecv], t.conn[mRecv])
		r.SentShare, r.ReceivedShare = share(r.SentBytes, all), share(r.ReceivedBytes, all)
		return r
	}
	list := func(hs ...*heavy) []Talker {
		var keys []netip.Prefix
		for _, h := range hs {
			for _, e := range h.ents {
				keys = append(keys, e.key)
			}
		}
		slices.SortFunc(keys, comparePrefix)
		keys = slices.Compact(keys)
		rows := make([]Talker, 0, len(keys))
		for _, k := range keys {
			rows = append(rows, row(k))
		}
		return rows
	}
	by := func(rows []Talker, f func(*Talker) uint64) []Talker {
		rows = slices.Clone(rows)
		slices.SortStableFunc(rows, func(a, b Talker) int { return cmp.Compare(f(&b), f(&a)) })
		return rows[:min(len(rows), c.cfg.TopN)]
	}
	out.ByConnections = by(list(t.conn[mConns]), func(r *Talker) uint64 { return r.Connections })
	out.BySent = by(list(t.pkt[mSent], t.conn[mSent]), func(r *Talker) uint64 { return r.SentBytes })
	out.ByReceived = by(list(t.pkt[mRecv], t.conn[mRecv]), func(r *Talker) uint64 { return r.ReceivedBytes })
	return out
}

func classes(names []string, counts []Count, all uint64) []Class {
	out := make([]Class, 0, len(names))
	for i, n := range names {
		out = append(out, Class{Name: n, Packets: counts[i].Packets, Bytes: counts[i].Bytes, Share: share(counts[i].Bytes, all)})
	}
	return out
}

// ipProtoNames names the IP protocols of Layers.Transport (IANA).
var ipProtoNames = map[uint8]string{
	0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 43: "ipv6_route",
	44: "ipv6_frag", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 59: "ipv6_nonxt", 60: "ipv6_opts",
	88: "eigrp", 89: "ospf", 103: "pim", 112: "vrrp", 115: "l2tp", 132: "sctp", 136: "udplite",
}

// IPProtoName returns the name of IP protocol p in Layers.Transport.
func IPProtoName(p uint8) string {
	if n, ok := ipProtoNames[p]; ok {
		return n
	}
	return fmt.Sprintf("ip_proto_%d", p)
}

func (c *Census) layers(all uint64) Layers {
	l := Layers{LinkKnown: c.linkKnown}
	l.Network = classes(netNames[:], c.network[:], all)
	l.Transport = []Class{}
	for p, n := range c.transport {
		if n.Packets > 0 {
			l.Transport = append(l.Transport, Class{Name: IPProtoName(uint8(p)), Packets: n.Packets, Bytes: n.Bytes, Share: share(n.Bytes, all)})
		}
	}
	l.Casts = classes(castNames[:], c.casts[:], all)
	l.Routing = classes(routingNames[:], c.routing[:], all)
	l.EtherTypes = []Class{}
	types := make([]uint16, 0, len(c.etherTypes))
	for t := range c.etherTypes {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		n := c.etherTypes[t]
		l.EtherTypes = append(l.EtherTypes, Class{Name: etherTypeName(t), Packets: n.Packets, Bytes: n.Bytes, Share: share(n.Bytes, all)})
	}
	if c.unknownEth.Packets > 0 {
		n := c.unknownEth
		l.EtherTypes = append(l.EtherTypes, Class{Name: "unknown", Packets: n.Packets, Bytes: n.Bytes, Share: share(n.Bytes, all)})
	}
	return l
}

var protoNames = map[uint8]string{protoTCP: "tcp", protoUDP: "udp"}

func (c *Census) serviceRows(all uint64) []Service {
	out := make([]Service, 0, len(c.services))
	for k, v := range c.services {
		out = append(out, Service{Proto: protoNames[k.proto], Port: k.port, Connections: v.conns,
			Packets: v.Packets, Bytes: v.Bytes, Share: share(v.Bytes, all)})
	}
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	return out[:min(len(out), c.cfg.TopN)]
}

func (c *Census) protocolRows(all uint64) []Protocol {
	out := make([]Protocol, 0, len(c.protos))
	for name, v := range c.protos {
		p := Protocol{Name: name, Connections: v.conns, Packets: v.Packets, Bytes: v.Bytes, Share: share(v.Bytes, all), Redundancy: v.red}
		p.Redundancy.finish()
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Protocol) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func (c *Census) icmpReport(all uint64) ICMP {
	r := ICMP{BigPingBytes: c.cfg.BigPing, EchoRequests: c.echo[0], EchoReplies: c.echo[1],
		BigRequests: c.echo[2], BigReplies: c.echo[3], PingersExact: !c.pingers.evicted(), Pingers: []Pinger{}}
	ents := slices.Clone(c.pingers.ents)
	slices.SortFunc(ents, func(a, b heavyEnt) int {
		return cmp.Or(cmp.Compare(b.count, a.count), comparePrefix(a.key, b.key))
	})
	for _, e := range ents[:min(len(ents), c.cfg.TopN)] {
		p := Pinger{Host: e.key.Addr(), Pings: e.pkts, Bytes: e.count, Error: e.err,
			First: time.UnixMicro(e.first).UTC(), Last: time.UnixMicro(e.last).UTC(), ShareOfCapture: share(e.count, all)}
		if span := p.Last.Sub(p.First).Seconds(); span > 0 {
			p.Rate = units.BitRate(float64(p.Bytes) * 8 / span)
			p.PingsPerS = float64(p.Pings) / span
		}
		if c.cfg.Rate > 0 {
			p.Pct = 100 * float64(p.Rate) / float64(c.cfg.Rate)
		}
		r.Pingers = append(r.Pingers, p)
	}
	return r
}
