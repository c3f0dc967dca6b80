package census

import (
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
)

// Report is the census of one capture. Bytes are frame lengths on the
// wire (flow.PacketInfo.WireLen), link header included: what occupies a
// link. Every list is in a fixed order (largest first, ties by key),
// never in map order.
type Report struct {
	// Start and End are the first and last packets' timestamps;
	// Duration is End - Start.
	Start    time.Time     `json:"start"`
	End      time.Time     `json:"end"`
	Duration time.Duration `json:"duration_s"`
	// Interval is the length of the intervals: Config.Interval, doubled
	// as often as MaxIntervals required.
	Interval time.Duration `json:"interval_s"`
	// Rate is Config.Rate; Local is Config.Local.
	Rate  units.BitRate  `json:"rate_bps"`
	Local []netip.Prefix `json:"local"`
	// Total is the whole capture per direction, its rates over Duration.
	Total Traffic `json:"total"`
	// Intervals are contiguous from the first interval with traffic to
	// the last, their rates over Interval. Packets whose timestamp flow
	// could not use (flow.SkipTimestamp) are in Total only.
	Intervals []Interval `json:"intervals"`
	// Hosts and Subnets are the top talkers.
	Hosts   Top `json:"hosts"`
	Subnets Top `json:"subnets"`
	// Layers classifies every packet at each layer of the stack.
	Layers Layers `json:"layers"`
	// Services are the top TCP services (by server port, from the
	// connections flow reports) and UDP services (by port, see Service).
	Services []Service `json:"services"`
	// Protocols are the application protocols of the TCP connections
	// (flow.Conn.Proto, package appproto's identification), with the
	// redundancy of their payload.
	Protocols []Protocol `json:"protocols"`
	// ICMP counts echoes and big pings.
	ICMP ICMP `json:"icmp"`
	// Redundancy is the padding and repeats in all TCP payload, and the
	// connections that carry most.
	Redundancy RedundancyReport `json:"redundancy"`
	// Summary is flow's packet accounting, set by Analyze.
	Summary *flow.Summary `json:"summary,omitempty"`
}

// MarshalJSON writes the report with its durations in seconds.
func (r Report) MarshalJSON() ([]byte, error) { return units.MarshalJSON(r) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (r Report) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, r) }

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Report) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, r) }

// Use is the traffic of one direction: packets, frame bytes, the mean
// rate and that rate in percent of Config.Rate (zero without a rate).
type Use struct {
	Packets uint64        `json:"packets"`
	Bytes   uint64        `json:"bytes"`
	Rate    units.BitRate `json:"bps"`
	Pct     float64       `json:"pct"`
}

// MarshalJSON writes the use with its rate in bit/s.
func (u Use) MarshalJSON() ([]byte, error) { return units.MarshalJSON(u) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (u Use) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, u) }

// UnmarshalJSON reads what MarshalJSON writes.
func (u *Use) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, u) }

// Traffic is traffic per direction of the link (see Dir).
type Traffic struct {
	Out      Use `json:"out"`
	In       Use `json:"in"`
	Internal Use `json:"internal"`
	Transit  Use `json:"transit"`
	Unknown  Use `json:"unknown"`
}

// Dir returns the traffic of direction d.
func (t *Traffic) Dir(d Dir) *Use {
	switch d {
	case DirOut:
		return &t.Out
	case DirIn:
		return &t.In
	case DirInternal:
		return &t.Internal
	case DirTransit:
		return &t.Transit
	}
	return &t.Unknown
}

// Sum returns the traffic of all directions together.
func (t *Traffic) Sum() Use {
	var u Use
	for d := range numDirs {
		x := t.Dir(d)
		u.Packets += x.Packets
		u.Bytes += x.Bytes
		u.Rate += x.Rate
		u.Pct += x.Pct
	}
	return u
}

// Interval is the traffic of one interval, starting at Start.
type Interval struct {
	Start time.Time `json:"start"`
	Traffic
}

// Top is a top-talker table of hosts (prefixes of one address) or
// subnets, counted in Space-Saving summaries of at most Capacity keys:
// connections (the TCP connections flow reported, each counted once for
// each end), bytes sent and bytes received.
//
// Every count is within its Error of the truth, and every Error is at most
// W / Capacity, W the metric's total over the capture (total bytes for
// bytes, twice the connections for connections). While the capture has at
// most Capacity keys Exact is set and every Error is zero. A key whose true
// count exceeds W / Capacity is always found.
type Top struct {
	Capacity      int      `json:"capacity"`
	Exact         bool     `json:"exact"`
	ByConnections []Talker `json:"by_connections"`
	BySent        []Talker `json:"by_sent"`
	ByReceived    []Talker `json:"by_received"`
}

// Talker is one host or subnet. Each count is followed by the bound on its
// error; the packet counts are exact when the matching byte count's error
// is zero, else the packets counted while the key was kept.
type Talker struct {
	Prefix           netip.Prefix `json:"prefix"`
	Connections      uint64       `json:"connections"`
	ConnectionsError uint64       `json:"connections_error"`
	SentBytes        uint64       `json:"sent_bytes"`
	SentPackets      uint64       `json:"sent_packets"`
	SentError        uint64       `json:"sent_error"`
	ReceivedBytes    uint64       `json:"received_bytes"`
	ReceivedPackets  uint64       `json:"received_packets"`
	ReceivedError    uint64       `json:"received_error"`
	SentShare        float64      `json:"sent_share"`
	ReceivedShare    float64      `json:"received_share"`
}

// Class is one traffic class: its packets, frame bytes and share of all
// the capture's bytes.
type Class struct {
	Name    string  `json:"name"`
	Packets uint64  `json:"packets"`
	Bytes   uint64  `json:"bytes"`
	Share   float64 `json:"share"`
}

// Layers classifies the packets at each layer; within a layer the classes
// do not overlap.
type Layers struct {
	// Network: ipv4, ipv6, arp, non_ip and unanalysed (packets flow
	// skipped before their addresses: IP fragments, truncated or
	// malformed headers, unsupported link types); they add up to every
	// packet.
	Network []Class `json:"network"`
	// Transport: the IP packets by IP protocol (tcp, udp, icmp, icmpv6,
	// ospf, eigrp, igmp, gre, esp... or ip_proto_N), in protocol order.
	Transport []Class `json:"transport"`
	// Casts: IP packets to the limited broadcast address, to a subnet
	// broadcast address (of Config.Local or Config.Subnets), to IPv4 and
	// IPv6 multicast groups; and frames to the Ethernet broadcast and
	// multicast addresses, where the link layer shows them. The other
	// packets are unicast.
	Casts []Class `json:"casts"`
	// Routing: OSPF (IP protocol 89), EIGRP (88), RIP (UDP 520), RIPng
	// (UDP 521) and BGP (TCP 179), by protocol and port.
	Routing []Class `json:"routing"`
	// EtherTypes splits the non-IP frames by EtherType ("0x8137 ipx"),
	// "unknown" where the link layer was not shown.
	EtherTypes []Class `json:"ether_types"`
	// LinkKnown counts the packets whose link layer was shown.
	LinkKnown uint64 `json:"link_known"`
}

// Service is the traffic of one TCP or UDP service. A TCP service is the
// server port of the connections flow reported (Connections counts them);
// TCP segments flow could not attribute to a connection are in
// Layers.Transport only. A UDP datagram's service port is the one below
// 1024 when exactly one is, else the lower port (ephemeral ports are high).
type Service struct {
	Proto       string  `json:"proto"`
	Port        uint16  `json:"port"`
	Connections uint64  `json:"connections"`
	Packets     uint64  `json:"packets"`
	Bytes       uint64  `json:"bytes"`
	Share       float64 `json:"share"`
}

// Protocol is the traffic of the TCP connections of one application
// protocol, all their packets counted, and the redundancy of their
// payload.
type Protocol struct {
	Name        string     `json:"name"`
	Connections uint64     `json:"connections"`
	Packets     uint64     `json:"packets"`
	Bytes       uint64     `json:"bytes"`
	Share       float64    `json:"share"`
	Redundancy  Redundancy `json:"redundancy"`
}

// ICMP counts ICMP and ICMPv6 echo requests and replies, and among them
// the big pings: those whose echo payload (the ICMP length on the wire
// less the 8-byte echo header) exceeds BigPingBytes.
type ICMP struct {
	BigPingBytes int   `json:"big_ping_bytes"`
	EchoRequests Count `json:"echo_requests"`
	EchoReplies  Count `json:"echo_replies"`
	BigRequests  Count `json:"big_requests"`
	BigReplies   Count `json:"big_replies"`
	// Pingers are the top sources of big pings by bytes (their big
	// requests and the replies to them), from a Space-Saving summary
	// (see Top; PingersExact as Top.Exact).
	Pingers      []Pinger `json:"pingers"`
	PingersExact bool     `json:"pingers_exact"`
}

// Pinger is a host sending big pings: Pings big echo requests, Bytes of
// big requests and replies to them between First and Last, their mean
// rate over that span and its percent of Config.Rate, and the
// requests per second.
type Pinger struct {
	Host      netip.Addr    `json:"host"`
	Pings     uint64        `json:"pings"`
	Bytes     uint64        `json:"bytes"`
	Error     uint64        `json:"error"`
	First     time.Time     `json:"first"`
	Last      time.Time     `json:"last"`
	Rate      units.BitRate `json:"bps"`
	Pct       float64       `json:"pct"`
	PingsPerS float64       `json:"pings_per_s"`
	// ShareOfCapture is Bytes over all the capture's bytes.
	ShareOfCapture float64 `json:"share_of_capture"`
}

// MarshalJSON writes the pinger with its rate in bit/s.
func (p Pinger) MarshalJSON() ([]byte, error) { return units.MarshalJSON(p) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (p Pinger) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, p) }

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Pinger) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, p) }

// RedundancyReport is the padding and repeats of all TCP payload, and the
// top connections by redundant bytes.
type RedundancyReport struct {
	MinRun      int              `json:"min_run"`
	SampleBytes int              `json:"sample_bytes"`
	Total       Redundancy       `json:"total"`
	Conns       []ConnRedundancy `json:"conns"`
}

// ConnRedundancy is the redundancy of one TCP connection, each direction
// apart (C2S from the client) and together.
type ConnRedundancy struct {
	ID     int            `json:"id"`
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`
	Proto  string         `json:"proto"`
	C2S    Redundancy     `json:"c2s"`
	S2C    Redundancy     `json:"s2c"`
	Both   Redundancy     `json:"both"`
}
