// Package census tells who and what uses the wire in a packet capture, in
// the manner of Meek, Eichert and Takayama, "Wide Area Network Ecology"
// (LISA '98, "What's on the wire? Who's using the wire?"): a link
// saturated by another division's big pings, routing broadcasts, a
// protocol the link was not meant to carry, browsers left on
// auto-refreshing pages, a print job half of whose bytes were trailing
// spaces.
//
// It consumes what package flow's Analyzer classified, as a flow.Consumer
// and flow.Forker (Analyze and AnalyzeFile list it in flow.Config.Consumers);
// it reads ICMP, TCP and UDP headers itself with bounds-checked reads and
// never imports gopacket. Bytes are frame lengths on the wire
// (flow.PacketInfo.WireLen), what occupies the link.
//
// # What it counts
//
// Directions. With the local side of the link given as prefixes
// (Config.Local), every IP packet is outbound, inbound, internal (local to
// local) or transit (neither end local); packets without IP addresses have
// no direction (Dir). The whole capture and each interval (Config.Interval,
// 5 minutes by default, aligned to the epoch) give packets, bytes, the mean
// rate and its percent of a given rate (Config.Rate) per direction.
//
// Top talkers. Hosts and subnets (/24 and /64, or Config.Subnets) by TCP
// connections, bytes sent and bytes received, from Space-Saving summaries
// of at most Config.MaxHosts and MaxSubnets keys (see Top for the error
// bound; while a capture has no more keys than that, every count is exact).
//
// Classes across the stack (Layers): IPv4, IPv6, ARP, non-IP and the
// packets flow could not analyse; IP protocols; broadcasts (limited and
// subnet) and multicasts; routing protocols (OSPF, EIGRP, RIP, RIPng, BGP)
// by protocol number and port; non-IP frames by EtherType. TCP and UDP
// services by port (Service), application protocols as package appproto
// identified each TCP connection (flow.Conn.Proto, Protocol). ICMP and
// ICMPv6 echoes, with big pings (payload above Config.BigPing) and the
// top sources of big pings with their rate (ICMP, Pinger).
//
// Redundancy. The share of TCP payload that is padding (runs of equal
// bytes, spaces and zeros apart) or repeats (a greedy LZ77 parse of a
// bounded sample), per connection (the top connections by redundant
// bytes), per application protocol and in all (see Redundancy).
//
// # Link layer
//
// flow.PacketInfo does not carry the link layer's EtherType or destination
// address: non-IP frames are counted under an unknown EtherType and the
// Ethernet broadcast and multicast rows stay zero (Layers.LinkKnown counts
// the packets whose link layer was shown, zero today). The classification
// is written for the fields described in link.go and is tested with them.
//
// # Memory and sharding
//
// Memory is bounded by the Config's limits (summaries, intervals; at most
// 2·65536 services) and by the connections flow keeps live (a few dozen
// bytes of payload-scan state each, and a 32 KiB hash table for the LZ
// parse per Census). The per-packet path does not allocate once the
// summaries are full and the live connections' state exists. A Census is
// not safe for concurrent use; in a parallel pass (flow.Config.Workers)
// each shard has its fork, and the merged Report is identical to one
// worker's (see Census for how).
//
// Results come in a fixed order (largest first, ties by key), never in map
// order. Bad input never panics: headers are read only as far as the
// captured bytes go, and what cannot be read is counted as flow classified
// it.
package census
