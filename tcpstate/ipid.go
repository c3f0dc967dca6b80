package tcpstate

import "time"

// Packets the capture did not see. A sender that numbers its packets
// (Linux gives each TCP socket its own IPv4 ID counter, one step per
// packet sent) shows by a skip in the IDs that it sent packets the
// capture does not hold: lost between the sender and the capture point,
// or dropped by the capture. At a capture near the receiver, a tail
// segment lost on the way and resent on a timeout then looks like the
// sender pausing in the middle of its answer; the skip says it was a
// resend (see Analysis.Unseen).
const (
	// idTrust is how many steps of one in a row a sender's IDs must take
	// before a skip is believed: a sender with random IDs, or one counter
	// shared by all its connections, rarely makes that many.
	idTrust = 8
	// idMaxSkip is the largest skip read as unseen packets; a larger one
	// says the IDs are not the connection's own count.
	idMaxSkip = 8
	// MinRTO is the shortest retransmission timeout of the stacks met in
	// practice (Linux's; RFC 6298 asks 1 s, Windows uses 300 ms): a
	// silence at least this long before a resend of unseen data is a
	// timeout (Analysis.UnseenTimeout).
	MinRTO = 200 * time.Millisecond
)

// idTrack follows the IPv4 IDs of one direction's packets.
type idTrack struct {
	last    uint16
	lastLen int   // payload of the packet that carried last
	lastT   int64 // capture time of last, Unix nanoseconds
	run     uint8
	ok      bool
}

// unseen returns how many packets the sender of s sent, by its IP IDs,
// between the direction's previous packet and s that the capture does
// not hold (0 when the IDs cannot tell), whether s then ends a silence of
// at least MinRTO with data (a timeout's resend), and remembers s's ID.
// mss is the
// sender's largest segment: after a larger one (an offloaded
// super-segment, whose segments each took an ID on the wire) the next
// step is not judged.
func (t *idTrack) unseen(s *Segment, mss int) (uint16, bool) {
	if !s.HasIPID || s.IPID == 0 {
		// no ID (IPv6), or the zero some stacks put on SYN/ACKs and
		// on packets with DF set
		t.ok, t.run = false, 0
		return 0, false
	}
	var n uint16
	if mss <= 0 {
		mss = 1460 // no SYN seen: Ethernet's
	}
	if t.ok && t.lastLen <= mss {
		switch step := s.IPID - t.last; {
		case step == 1:
			t.run = min(t.run+1, 255)
		case step > 1 && step <= idMaxSkip && t.run >= idTrust:
			n = step - 1
		default:
			t.run = 0
		}
	}
	now := s.Time.UnixNano()
	timeout := n > 0 && s.Len > 0 && time.Duration(now-t.lastT) >= MinRTO
	t.last, t.lastLen, t.lastT, t.ok = s.IPID, s.Len, now, true
	return n, timeout
}
