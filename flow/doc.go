// Package flow reads packet captures and rebuilds their TCP connections.
//
// # Reading
//
// NewReader recognises pcap (either byte order, microsecond or nanosecond
// timestamps) and pcapng (several interfaces with different link types in
// one file), each possibly gzip-compressed, by magic number. It streams one
// record at a time from any io.Reader; Packet.Data is owned by the Reader
// and valid until the next call to Next. A record that cannot be read (file
// cut short, a length beyond any snap length, a corrupt block) ends reading
// with a *ReadError naming the record index and byte offset; everything
// before it has been delivered. Record lengths are checked before any
// allocation: a record claiming gigabytes is an error, not an allocation,
// and records longer than 256 KiB are read into a buffer the Reader keeps.
//
// pcapng files are framed block by block: both copies of a block's length,
// a packet's lengths against its block, at most MaxPcapNGInterfaces
// interfaces per section and MaxPcapNGBlock bytes per block. Flaws that
// leave the packet trustworthy (a trailing length that differs, an original
// length below the captured one, more bytes than the snap length) are
// counted in Reader.Warnings (Summary.Warnings) and the packet delivered as
// documented there. Timestamps follow the pcapng specification exactly: an
// unsigned count of if_tsresol units (10^-n or 2^-n s) plus the signed
// if_tsoffset; times outside the years 1 to 9999 are skipped by the
// Analyzer.
//
// Link types: Ethernet (802.1Q and QinQ tags), Linux SLL and SLL2, raw IP
// (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6), BSD null/loopback in either byte
// order, OpenBSD loop, and NFLOG. IPv4 and IPv6 (extension headers walked).
//
// # Accounting
//
// Every packet read is counted exactly once: as a TCP segment attributed to
// a connection (Summary.TCPPackets), as another kind (Summary.Other: udp,
// icmp, icmpv6, arp, ip_other, non_ip), or as skipped with a reason
// (Summary.Skipped: truncated, malformed, unsupported_link_type,
// ip_fragment). IP fragments are not reassembled. A TCP segment whose
// payload or options the snap length cut is still analysed for what it
// holds and counted in Summary.TruncatedTCP.
//
// # Connections
//
// Connections are keyed by the four-tuple. The client is the sender of the
// SYN (or the receiver of the SYN/ACK). A connection picked up mid-stream is
// marked Midstream and its client chosen by a fixed rule: the end on a
// well-known port (below 1024, or named by the protocol registry of
// Config.App: appproto.Registry.IsServerPort) is the server when
// exactly one end has one; otherwise the sender of the first packet seen is
// the client. A SYN carrying a new initial sequence number on a four-tuple
// whose connection has seen a FIN or RST starts a new connection
// (EndPortReuse); so does any packet after the old one was ended for
// idleness.
//
// Memory is bounded by the live connections, not by the capture: Config
// limits how many are tracked (at the limit the connection that closed
// longest ago is ended, else the least recently active is evicted; either
// is reported) and ends connections idle for longer
// than a timeout measured in capture time; a connection that has closed
// (FIN both ways, or RST) is ended once quiet for Config.CloseLinger (one
// minute by default), so closed connections do not wait for the idle
// timeout. Ended connections are reported, never dropped: to every
// Consumer in Config.Consumers as they end, and, with Config.KeepConns,
// kept and returned by Analyzer.Conns in first-seen order (by ID).
//
// # Consumers
//
// Figures, explanations, link quality and a tool's output share the one
// pass over a capture as Consumers (see Consumer for the order of calls):
// each receives every packet with its TCP analysis, the application
// transactions when it implements TransactionConsumer, and every
// connection as it ends.
//
// # Decoding
//
// google/gopacket's DecodingLayerParser decodes link and network layers
// into layer structs the Analyzer owns, so the per-packet path does not
// allocate. The gopacket/gopacket fork's pcapgo reads pcap files; pcapng
// blocks are read by this package (ngblock.go says why). Both gopacket
// modules live in adapter.go alone. TCP headers are parsed by this package (bounds-checked)
// so that a header whose options the snap length cut, or whose options are
// malformed, still yields its ports and sequence numbers.
//
// An Analyzer is not safe for concurrent use; run one per goroutine.
package flow
