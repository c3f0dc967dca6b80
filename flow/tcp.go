package flow

import (
	"encoding/binary"

	"github.com/netecology/netecology/tcpstate"
)

// tcpResult is how far parseTCP got.
type tcpResult uint8

const (
	tcpOK tcpResult = iota
	// tcpTruncated: fewer than 20 header bytes were captured.
	tcpTruncated
	// tcpMalformed: the data offset is below 5 words or beyond the
	// segment's wire length.
	tcpMalformed
)

// parseTCP reads a TCP header (RFC 9293 section 3.1) from b, the captured
// transport bytes, into seg; wire is the transport length on the wire.
//
// TCP is parsed here rather than by gopacket's layers.TCP because that
// decoder rejects a whole header whose options are cut by the snap length
// or malformed, which would lose the segment's ports and sequence numbers;
// here such a segment is analysed with the options it has, flagged
// Opts.Malformed. Every read is bounds-checked.
func parseTCP(b []byte, wire int, seg *tcpstate.Segment) (src, dst uint16, r tcpResult) {
	if len(b) < 20 {
		return 0, 0, tcpTruncated
	}
	src = binary.BigEndian.Uint16(b[0:])
	dst = binary.BigEndian.Uint16(b[2:])
	seg.Seq = tcpstate.Seq(binary.BigEndian.Uint32(b[4:]))
	seg.Ack = tcpstate.Seq(binary.BigEndian.Uint32(b[8:]))
	off := int(b[12]>>4) * 4
	seg.Flags = tcpstate.Flags(b[13])
	seg.Window = binary.BigEndian.Uint16(b[14:])
	if off < 20 || off > wire {
		return src, dst, tcpMalformed
	}
	seg.Len = wire - off
	seg.HeaderLen = off
	opts := b[20:min(off, len(b))]
	seg.Opts = tcpstate.Options{}
	parseOptions(opts, &seg.Opts)
	if len(b) < off {
		seg.Opts.Malformed = true // options cut by the snap length
		seg.Payload = b[len(b):]
	} else {
		seg.Payload = b[off:min(len(b), wire)]
	}
	return src, dst, tcpOK
}

// parseOptions reads the TCP options the analysis uses (RFC 9293, RFC 7323,
// RFC 2018). It stops at the first fault and sets o.Malformed.
func parseOptions(b []byte, o *tcpstate.Options) {
	for len(b) > 0 {
		kind := b[0]
		if kind == 0 { // end of option list
			return
		}
		if kind == 1 { // no-operation
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			o.Malformed = true
			return
		}
		n := int(b[1])
		v := b[2:n]
		switch kind {
		case 2:
			if n != 4 {
				o.Malformed = true
				return
			}
			o.MSS, o.HasMSS = binary.BigEndian.Uint16(v), true
		case 3:
			if n != 3 {
				o.Malformed = true
				return
			}
			o.WScale, o.HasWScale = v[0], true
		case 4:
			o.SACKPermitted = true
		case 5:
			if (n-2)%8 != 0 {
				o.Malformed = true
				return
			}
			for i := 0; i+8 <= len(v) && o.NSACK < tcpstate.MaxSACKBlocks; i += 8 {
				o.SACK[o.NSACK] = tcpstate.SACKBlock{
					Left:  tcpstate.Seq(binary.BigEndian.Uint32(v[i:])),
					Right: tcpstate.Seq(binary.BigEndian.Uint32(v[i+4:])),
				}
				o.NSACK++
			}
		case 8:
			if n != 10 {
				o.Malformed = true
				return
			}
			o.TSVal = binary.BigEndian.Uint32(v)
			o.TSEcr = binary.BigEndian.Uint32(v[4:])
			o.HasTimestamps = true
		}
		b = b[n:]
	}
}
