package linkq

import (
	"fmt"
	"net/netip"
)

// IP protocol numbers of the transports the echo parser reads.
const (
	protoICMP   = 1
	protoUDP    = 17
	protoICMPv6 = 58
)

// EchoKind names the echo protocol a packet belongs to.
type EchoKind uint8

// Echo protocols.
const (
	EchoNone   EchoKind = iota
	EchoICMP            // ICMP echo (RFC 792, types 8 and 0)
	EchoICMPv6          // ICMPv6 echo (RFC 4443, types 128 and 129)
	EchoUDP             // UDP echo service (RFC 862, port 7)
	numEchoKinds
)

var echoKindNames = [numEchoKinds]string{"none", "icmp", "icmpv6", "udp"}

// String returns the kind's name as used in reports.
func (k EchoKind) String() string {
	if k < numEchoKinds {
		return echoKindNames[k]
	}
	return "unknown"
}

// MarshalText makes an EchoKind appear by name in JSON.
func (k EchoKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseResult classifies a transport packet for echo matching.
type ParseResult uint8

// Outcomes of ParseEcho.
const (
	// ParseNotEcho: a well-formed packet that is neither an echo nor an
	// ICMP error quoting one.
	ParseNotEcho ParseResult = iota
	// ParseRequest and ParseReply: an echo request or reply; the Echo is
	// filled in.
	ParseRequest
	ParseReply
	// ParseErrorQuotingEcho: an ICMP or ICMPv6 error message (destination
	// unreachable, time exceeded, ...) whose quoted packet is an echo
	// request. Such a message is not a reply. The Echo describes the
	// quoted request: Kind, ID, Seq, PayloadLen (UDP only), and Quoted
	// holds its addresses; Payload is empty.
	ParseErrorQuotingEcho
	// ParseTruncated: the capture holds too few bytes for the headers.
	ParseTruncated
	// ParseMalformed: a length field contradicts the packet.
	ParseMalformed
)

// Echo is one echo request or reply as parsed from its transport bytes.
// Payload aliases the packet's bytes: valid only as long as they are.
type Echo struct {
	Kind EchoKind
	// ID and Seq are the ICMP identifier and sequence number; for UDP
	// they are the source and destination ports.
	ID, Seq uint16
	// Payload holds the captured echo data (after the ICMP or UDP
	// header); PayloadLen is its length on the wire, which is larger when
	// the capture cut the packet.
	Payload    []byte
	PayloadLen int
	// Quoted holds the source and destination addresses of the request
	// an ICMP error quotes (ParseErrorQuotingEcho only).
	Quoted [2]netip.Addr
}

// ParseEcho classifies the transport bytes l4 of an IP packet of protocol
// proto whose transport length on the wire is l4Len (len(l4) may be
// shorter when the capture cut the packet). udpPorts lists the UDP echo
// ports (RFC 862: 7): a UDP packet to one of them is a request, from one
// of them a reply; between two echo ports it is not classified. Every read
// is bounds-checked: any input is safe.
func ParseEcho(proto uint8, l4 []byte, l4Len int, udpPorts []uint16) (Echo, ParseResult) {
	var e Echo
	if l4Len < len(l4) {
		l4Len = len(l4)
	}
	switch proto {
	case protoICMP, protoICMPv6:
		if len(l4) < 8 {
			if l4Len >= 8 {
				return e, ParseTruncated
			}
			return e, ParseMalformed
		}
		typ := l4[0]
		req, rep := uint8(8), uint8(0)
		e.Kind = EchoICMP
		if proto == protoICMPv6 {
			req, rep = 128, 129
			e.Kind = EchoICMPv6
		}
		switch {
		case typ == req || typ == rep:
			e.ID = be16(l4, 4)
			e.Seq = be16(l4, 6)
			e.Payload = l4[8:]
			e.PayloadLen = l4Len - 8
			if typ == req {
				return e, ParseRequest
			}
			return e, ParseReply
		case isICMPError(proto, typ):
			return quotedEcho(l4[8:], udpPorts)
		}
		return Echo{}, ParseNotEcho
	case protoUDP:
		if len(l4) < 8 {
			if l4Len >= 8 {
				return e, ParseTruncated
			}
			return e, ParseMalformed
		}
		ulen := int(be16(l4, 4))
		// The UDP length must cover its header and fit in the IP
		// payload (RFC 768); 0 is allowed for IPv6 jumbograms only.
		if ulen < 8 || ulen > l4Len {
			return e, ParseMalformed
		}
		sport, dport := be16(l4, 0), be16(l4, 2)
		sEcho, dEcho := hasPort(udpPorts, sport), hasPort(udpPorts, dport)
		if sEcho == dEcho {
			return e, ParseNotEcho
		}
		e.Kind = EchoUDP
		e.ID, e.Seq = sport, dport
		end := min(ulen, len(l4))
		e.Payload = l4[8:end]
		e.PayloadLen = ulen - 8
		if dEcho {
			return e, ParseRequest
		}
		return e, ParseReply
	}
	return e, ParseNotEcho
}

// isICMPError reports whether an ICMP (or ICMPv6) type is an error message
// that quotes the packet that caused it.
func isICMPError(proto, typ uint8) bool {
	if proto == protoICMPv6 {
		return typ >= 1 && typ <= 4 // unreachable, too big, time exceeded, parameter problem
	}
	switch typ {
	case 3, 4, 5, 11, 12: // unreachable, source quench, redirect, time exceeded, parameter problem
		return true
	}
	return false
}

// quotedEcho looks inside the packet quoted by an ICMP error (an IP header
// and at least 8 bytes of its transport header) for an echo request.
func quotedEcho(q []byte, udpPorts []uint16) (Echo, ParseResult) {
	var e Echo
	if len(q) < 1 {
		return e, ParseNotEcho
	}
	var proto uint8
	var l4 []byte
	switch q[0] >> 4 {
	case 4:
		if len(q) < 20 {
			return e, ParseNotEcho
		}
		ihl := int(q[0]&0x0f) * 4
		if ihl < 20 || len(q) < ihl {
			return e, ParseNotEcho
		}
		proto, l4 = q[9], q[ihl:]
		e.Quoted[0] = netip.AddrFrom4([4]byte(q[12:16]))
		e.Quoted[1] = netip.AddrFrom4([4]byte(q[16:20]))
	case 6:
		if len(q) < 40 {
			return e, ParseNotEcho
		}
		proto, l4 = q[6], q[40:]
		e.Quoted[0] = netip.AddrFrom16([16]byte(q[8:24]))
		e.Quoted[1] = netip.AddrFrom16([16]byte(q[24:40]))
	default:
		return e, ParseNotEcho
	}
	if len(l4) < 8 {
		return Echo{}, ParseNotEcho
	}
	switch proto {
	case protoICMP:
		if l4[0] != 8 {
			return Echo{}, ParseNotEcho
		}
		e.Kind = EchoICMP
	case protoICMPv6:
		if l4[0] != 128 {
			return Echo{}, ParseNotEcho
		}
		e.Kind = EchoICMPv6
	case protoUDP:
		if !hasPort(udpPorts, be16(l4, 2)) {
			return Echo{}, ParseNotEcho
		}
		e.Kind = EchoUDP
		e.PayloadLen = max(int(be16(l4, 4))-8, 0)
	default:
		return Echo{}, ParseNotEcho
	}
	e.ID, e.Seq = be16(l4, 0), be16(l4, 2)
	if e.Kind != EchoUDP {
		e.ID, e.Seq = be16(l4, 4), be16(l4, 6)
	}
	return e, ParseErrorQuotingEcho
}

func hasPort(ports []uint16, p uint16) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}

// be16 reads a big-endian uint16 at b[i:]; the caller has checked the
// bounds.
func be16(b []byte, i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }

// UnmarshalText reads an EchoKind by name.
func (k *EchoKind) UnmarshalText(t []byte) error {
	for i, n := range echoKindNames {
		if n == string(t) {
			*k = EchoKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown echo kind %q", t)
}
