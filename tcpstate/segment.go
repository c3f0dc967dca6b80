package tcpstate

import (
	"strings"
	"time"
)

// Dir is the direction of a segment within a connection.
type Dir uint8

const (
	// ClientToServer is the direction from the connection's client (the
	// sender of the SYN) to its server.
	ClientToServer Dir = iota
	// ServerToClient is the reverse direction.
	ServerToClient
)

// String returns "c2s" or "s2c".
func (d Dir) String() string {
	if d == ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// Reverse returns the opposite direction.
func (d Dir) Reverse() Dir { return d ^ 1 }

// Flags holds the TCP header control bits (RFC 9293 section 3.1, RFC 3168).
type Flags uint8

// TCP control bits, in header order.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Has reports whether every bit of f2 is set in f.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// String returns the set bits as a comma-separated list, e.g. "SYN,ACK".
func (f Flags) String() string {
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	var b strings.Builder
	for i, n := range names {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// SACKBlock is one selective-acknowledgment block (RFC 2018): the
// half-open range [Left, Right) of sequence space the receiver holds.
type SACKBlock struct {
	Left, Right Seq
}

// MaxSACKBlocks is the most SACK blocks a TCP header can carry.
const MaxSACKBlocks = 4

// Options holds the TCP options of one segment that the analysis uses.
// The zero value means no options.
type Options struct {
	MSS           uint16 // maximum segment size (kind 2), valid if HasMSS
	WScale        uint8  // window scale shift count (kind 3), valid if HasWScale
	HasMSS        bool
	HasWScale     bool
	SACKPermitted bool // kind 4
	HasTimestamps bool // kind 8: TSVal and TSEcr are valid
	TSVal, TSEcr  uint32
	NSACK         int // number of valid entries in SACK
	SACK          [MaxSACKBlocks]SACKBlock
	// Malformed is set when the option list could not be parsed to its end
	// (bad length, option cut by the header end); options before the fault
	// are kept.
	Malformed bool
}

// Segment is one TCP segment as the analysis sees it: plain values, no
// link-layer or capture-format detail. The caller owns Payload; tcpstate
// does not retain it after Add returns.
type Segment struct {
	Index  uint64    // 1-based index of the packet in its capture
	Time   time.Time // capture timestamp
	Seq    Seq       // SEG.SEQ
	Ack    Seq       // SEG.ACK, valid when Flags has ACK
	Flags  Flags
	Window uint16 // SEG.WND as carried in the header, unscaled
	// Len is the TCP payload length on the wire, from the IP length fields.
	Len int
	// Payload holds the captured payload bytes; shorter than Len when the
	// capture's snap length cut the packet.
	Payload []byte
	// WireLen is the frame's original length on the wire.
	WireLen int
	// HeaderLen is the TCP header's length in bytes, options included
	// (the data offset times 4); 0 when unknown. With Len it gives the
	// TCP length the IP header carries.
	HeaderLen int
	Opts      Options
	// IPID is the IPv4 header's identification field (RFC 791), valid
	// when HasIPID is set (IPv4; an ID of zero, which some stacks put on
	// every packet with DF set, counts as none). Copies of one packet in
	// a capture share it; a retransmission does not.
	IPID    uint16
	HasIPID bool
}

// SeqLen returns the sequence space the segment occupies: its payload plus
// one for SYN and one for FIN (RFC 9293 section 3.4).
func (s *Segment) SeqLen() Size {
	n := Size(s.Len)
	if s.Flags.Has(SYN) {
		n++
	}
	if s.Flags.Has(FIN) {
		n++
	}
	return n
}

// Data returns the sequence range of the segment's payload: Len bytes
// from SEG.SEQ, or from SEG.SEQ+1 on a SYN, whose own number comes first
// (RFC 9293 section 3.4). It is empty for a segment without payload and
// for a RST, whose payload is diagnostic text, not stream data (RFC 9293
// section 3.5.3).
func (s *Segment) Data() Range {
	first := s.Seq
	if s.Flags.Has(SYN) {
		first = first.Add(1)
	}
	if s.Flags.Has(RST) || s.Len <= 0 {
		return Range{first, first}
	}
	return Span(first, Size(s.Len))
}

// Truncated reports whether the capture holds less payload than was sent.
func (s *Segment) Truncated() bool { return len(s.Payload) < s.Len }
