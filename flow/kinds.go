package flow

// Kind is what a packet carried, for the accounting of packets that are
// not TCP segments of a connection.
type Kind uint8

// Packet kinds. KindTCP packets are attributed to connections; the others
// are counted in Summary.Other under their String name.
const (
	KindUnknown Kind = iota
	KindTCP
	KindUDP
	KindICMP
	KindICMPv6
	KindOtherIP // an IP packet of another protocol (IGMP, GRE, ESP, SCTP...)
	KindARP
	KindNonIP // a link-layer frame carrying neither IP nor ARP (LLDP, STP...)
	numKinds
)

var kindNames = [numKinds]string{"unknown", "tcp", "udp", "icmp", "icmpv6", "ip_other", "arp", "non_ip"}

// String returns the kind's name as used in reports.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

func kindOfProto(p uint8) Kind {
	switch p {
	case 6:
		return KindTCP
	case 17:
		return KindUDP
	case 1:
		return KindICMP
	case 58:
		return KindICMPv6
	}
	return KindOtherIP
}

// LinkDst is how a frame's link layer addressed its destination.
type LinkDst uint8

// Link-layer destinations.
const (
	// LinkDstUnknown: the link type shows no destination (raw IP,
	// loopback, NFLOG), or the link header could not be read.
	LinkDstUnknown LinkDst = iota
	// LinkDstUnicast: one station (an Ethernet MAC with the I/G bit
	// clear; SLL packet types host, otherhost and outgoing).
	LinkDstUnicast
	// LinkDstMulticast: a group (the I/G bit set; SLL packet type
	// multicast).
	LinkDstMulticast
	// LinkDstBroadcast: every station (ff:ff:ff:ff:ff:ff; SLL packet type
	// broadcast).
	LinkDstBroadcast
)

var linkDstNames = [...]string{"unknown", "unicast", "multicast", "broadcast"}

// String returns the destination's name.
func (l LinkDst) String() string {
	if int(l) < len(linkDstNames) {
		return linkDstNames[l]
	}
	return "unknown"
}

// SkipReason says why a packet could not be analysed.
type SkipReason uint8

// Reasons a packet is skipped. Every packet read is either attributed to a
// TCP connection, counted as another Kind, or skipped with one of these.
const (
	SkipNone SkipReason = iota
	// SkipTruncated: the capture cut the packet before the headers needed
	// to attribute it (snap length).
	SkipTruncated
	// SkipMalformed: a header is invalid (bad length fields, bad TCP data
	// offset, an unknown IP version).
	SkipMalformed
	// SkipUnsupportedLink: the packet's link type is not decoded.
	SkipUnsupportedLink
	// SkipFragment: an IPv4 or IPv6 fragment; fragments are not reassembled.
	SkipFragment
	// SkipTimestamp: the packet's timestamp lies outside the years 1 to
	// 9999 (a pcapng interface's time resolution or offset, or damage,
	// can say so), where no time arithmetic or report can follow it.
	SkipTimestamp
	numSkips
)

var skipNames = [numSkips]string{"", "truncated", "malformed", "unsupported_link_type", "ip_fragment", "timestamp_out_of_range"}

// String returns the reason's name as used in reports.
func (r SkipReason) String() string {
	if r < numSkips {
		return skipNames[r]
	}
	return "unknown"
}
