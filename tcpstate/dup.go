package tcpstate

import "time"

// Capture duplicates: a SPAN port mirroring both directions of two ports,
// or two taps merged, put some packets in the capture two or more times,
// microseconds apart. A copy carries the same header fields, options and
// IP ID as the packet it copies; a retransmission gets a new IP ID and
// comes at least a round trip later.
const (
	// dupWithID is the longest interval between copies told by the IP ID.
	dupWithID = 20 * time.Millisecond
	// dupNoID is the longest interval between copies without an IP ID
	// (IPv6, or an ID of zero): shorter than any retransmission could
	// follow its original. Pure ACKs and RSTs without an IP ID are never
	// taken for copies: a burst of duplicate ACKs, or the RSTs answering
	// each segment of a closed connection, can be identical and that
	// close (ppp_example_http_mix frames 4620 and 4622, 0.7 ms apart).
	dupNoID = time.Millisecond
	// dupRecent is how many of a direction's latest segments a copy is
	// compared with.
	dupRecent = 4
)

// segSig is what a copy shares with its original.
type segSig struct {
	t    int64 // capture time, Unix nanoseconds
	h    uint32
	ipid uint16
	id   bool
}

// dupRing holds a direction's latest segments' signatures.
type dupRing struct {
	e    [dupRecent]segSig
	next uint8
	n    uint8
}

// signature hashes the header fields and options of s a copy repeats
// (a multiply-xorshift over their values a 64-bit word at a time, folded
// to 32 bits: it is compared with four segments only, within
// milliseconds, and a match is then held to the segments' times and IP
// IDs).
func signature(s *Segment) uint32 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		h = (h ^ v) * 0x9e3779b97f4a7c15
		h ^= h >> 29
	}
	mix(uint64(s.Seq)<<32 | uint64(s.Ack))
	mix(uint64(s.Flags)<<48 | uint64(s.Window)<<32 | uint64(uint32(s.Len)))
	o := &s.Opts
	if o.HasTimestamps {
		mix(uint64(o.TSVal)<<32 | uint64(o.TSEcr))
	}
	for i := 0; i < min(o.NSACK, MaxSACKBlocks); i++ {
		mix(uint64(o.SACK[i].Left)<<32 | uint64(o.SACK[i].Right))
	}
	return uint32(h ^ h>>32)
}

// duplicate reports whether s copies one of the direction's latest
// segments, and remembers s when it does not.
func (r *dupRing) duplicate(s *Segment) bool {
	sig := segSig{t: s.Time.UnixNano(), h: signature(s), ipid: s.IPID, id: s.HasIPID && s.IPID != 0}
	// No payload, SYN or FIN: a pure ACK or a RST, which a stack repeats
	// identically (duplicate ACKs, a RST for each segment arriving).
	pure := s.Len == 0 && s.Flags&(SYN|FIN) == 0
	for i := uint8(0); i < r.n; i++ {
		e := &r.e[i]
		if e.h != sig.h {
			continue
		}
		dt := time.Duration(sig.t - e.t)
		if dt < 0 {
			dt = -dt
		}
		switch {
		case sig.id && e.id:
			if e.ipid == sig.ipid && dt <= dupWithID {
				return true
			}
		case !pure && dt <= dupNoID:
			return true
		}
	}
	r.e[r.next] = sig
	r.next = (r.next + 1) % dupRecent
	r.n = min(r.n+1, dupRecent)
	return false
}
