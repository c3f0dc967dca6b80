package tcpstate

import "time"

// Handshake is a connection's three-way handshake as the capture saw it
// (RFC 9293 section 3.5): when the SYN, the SYN/ACK answering it and the
// ACK of the SYN/ACK passed the capture point. A SYN/ACK counts only if it
// acknowledges the SYN (SEG.ACK = ISN+1) and comes from the other side,
// the ACK only if it acknowledges the SYN/ACK and comes from the SYN's
// sender. Until a SYN/ACK is seen a repeated SYN replaces the first, so
// the legs time the latest SYN; SYNs counts them, and when there were
// several (a retransmission, or one packet captured twice), which one the
// SYN/ACK answers is unknown unless its timestamp echo tells (Matched).
type Handshake struct {
	// Client is the direction of the SYN (ClientToServer in flow, which
	// names the SYN's sender the client).
	Client Dir
	// SYN, SYNACK and ACK are the capture times, valid when HaveSYN,
	// HaveSYNACK and HaveACK are set.
	SYN, SYNACK, ACK             time.Time
	HaveSYN, HaveSYNACK, HaveACK bool
	// SYNs counts the SYNs the client sent before the SYN/ACK (1 when
	// it was not repeated); FirstSYN is when the first of them passed.
	SYNs     int
	FirstSYN time.Time
	// Matched is set when the SYN/ACK's timestamp echo (RFC 7323) names
	// the SYN it answers, the first or the latest: SYN is then that
	// SYN's time, and the handshake times a round trip even though the
	// SYN was repeated.
	Matched bool
	// SYNWire, SYNACKWire and ACKWire are the three frames' lengths on
	// the wire (Segment.WireLen, clamped to 65,535): a bottleneck between
	// the capture point and an end serialized them inside the legs.
	SYNWire, SYNACKWire, ACKWire uint16
}

// Complete reports whether all three segments were seen.
func (h *Handshake) Complete() bool { return h.HaveSYN && h.HaveSYNACK && h.HaveACK }

// Legs returns the two round trips the capture point splits the
// handshake into: toServer from the capture point to the SYN's receiver
// and back (SYN → SYN/ACK), toClient to the SYN's sender and back
// (SYN/ACK → ACK); ok when the handshake is complete. A leg is negative
// only when the capture's clock stepped back.
func (h *Handshake) Legs() (toServer, toClient time.Duration, ok bool) {
	if !h.Complete() {
		return 0, 0, false
	}
	return h.SYNACK.Sub(h.SYN), h.ACK.Sub(h.SYNACK), true
}

// RTT returns the handshake's whole round trip, from the SYN to the ACK
// (the two legs together, at any capture point), never negative; ok when
// the handshake is complete. When the SYN was repeated and the SYN/ACK's
// timestamp echo does not say which copy it answers (Matched), it may
// answer any (Karn's rule, RFC 6298), so the round trip is timed from the
// first: an upper bound, never too short (a copy captured twice costs
// nothing, a retransmission's wait is counted in).
func (h *Handshake) RTT() (time.Duration, bool) {
	if !h.Complete() {
		return 0, false
	}
	from := h.FirstSYN
	if h.Matched {
		from = h.SYN
	}
	return max(0, h.ACK.Sub(from)), true
}

// Ambiguous reports whether the SYN was repeated and which copy the
// SYN/ACK answers is unknown: SYN→SYN/ACK then times no round trip.
func (h *Handshake) Ambiguous() bool { return h.SYNs > 1 && !h.Matched }

// handshake is the Handshake and the sequence numbers that match its
// segments.
type handshake struct {
	Handshake
	synSeq, synAckSeq Seq
	// The first and latest SYN's TSval, when they carried timestamps.
	firstTS, lastTS     uint32
	firstHasTS, lastHas bool
}

// Handshake returns the handshake as seen so far. It is cheap (a copy,
// no allocation) and may be called during the pass.
func (c *Conn) Handshake() Handshake { return c.hs.Handshake }

// trackHandshake records the SYN, SYN/ACK and ACK times.
func (c *Conn) trackHandshake(d Dir, s *Segment) {
	hs := &c.hs
	switch {
	case s.Flags.Has(SYN) && !s.Flags.Has(ACK):
		if !hs.HaveSYNACK {
			if hs.HaveSYN && d == hs.Client {
				hs.SYNs++
			} else {
				hs.SYNs, hs.FirstSYN = 1, s.Time
				hs.firstTS, hs.firstHasTS = s.Opts.TSVal, s.Opts.HasTimestamps
			}
			hs.SYN, hs.synSeq, hs.Client, hs.HaveSYN = s.Time, s.Seq, d, true
			hs.SYNWire = clampWire(s.WireLen)
			hs.lastTS, hs.lastHas = s.Opts.TSVal, s.Opts.HasTimestamps
			c.hsGen++
		}
	case s.Flags.Has(SYN | ACK):
		if hs.HaveSYN && !hs.HaveSYNACK && d != hs.Client && s.Ack == hs.synSeq.Add(1) {
			hs.SYNACK, hs.synAckSeq, hs.HaveSYNACK = s.Time, s.Seq, true
			hs.SYNACKWire = clampWire(s.WireLen)
			hs.matchSYN(s)
			c.hsGen++
		}
	case s.Flags.Has(ACK):
		if hs.HaveSYNACK && !hs.HaveACK && d == hs.Client && s.Ack == hs.synAckSeq.Add(1) {
			hs.ACK, hs.HaveACK = s.Time, true
			hs.ACKWire = clampWire(s.WireLen)
			c.hsGen++
		}
	}
}

// matchSYN tells from the SYN/ACK's timestamp echo which SYN it answers
// when the SYN was repeated: the latest (the legs are right as timed),
// or the first (SYN moves back to it).
func (hs *handshake) matchSYN(s *Segment) {
	if hs.SYNs <= 1 || !s.Opts.HasTimestamps {
		return
	}
	switch ecr := s.Opts.TSEcr; {
	case hs.lastHas && ecr == hs.lastTS && !(hs.firstHasTS && hs.firstTS == ecr):
		hs.Matched = true
	case hs.firstHasTS && ecr == hs.firstTS && !(hs.lastHas && hs.lastTS == ecr):
		hs.Matched, hs.SYN = true, hs.FirstSYN
	}
}

// MSS returns the largest payload direction d's sender may put in one
// segment, as the handshake set it: the MSS the receiver announced in its
// SYN (RFC 9293 section 3.7.1), less the 12 bytes the timestamp option
// (RFC 7323) then takes in every segment when both SYNs carried it; 0
// when the receiver's SYN was not captured or announced no MSS. Segments
// larger than it were merged by the capture host (see IssueOversize).
func (c *Conn) MSS(d Dir) int {
	m := int(c.Options[d.Reverse()].MSS)
	if m > 12 && c.Options[0].Timestamps && c.Options[1].Timestamps {
		m -= 12
	}
	return m
}

// MSSSource says what an effective MSS rests on.
type MSSSource uint8

// MSS sources.
const (
	// MSSNone: no segment and no announcement.
	MSSNone MSSSource = iota
	// MSSAnnounced: the handshake's announcements.
	MSSAnnounced
	// MSSOnWire: the largest segment the sender sent with more data
	// right behind it.
	MSSOnWire
	// MSSMaxSeen: the largest segment seen, nothing better known.
	MSSMaxSeen
)

var mssSourceNames = [...]string{"none", "announced", "on_wire", "max_seen"}

// String returns the source's name as written in reports.
func (s MSSSource) String() string {
	if int(s) < len(mssSourceNames) {
		return mssSourceNames[s]
	}
	return "unknown"
}

// MarshalText makes an MSSSource appear by name in JSON.
func (s MSSSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// EffectiveMSS returns the full segment size of direction d's data, the
// reference for "small" and "full-size" segments. It is the smaller of
// the two sides' MSS announcements (each less the timestamp option's 12
// bytes when both SYNs carried it: a sender puts no more than its own
// interface allows either), lowered to the largest segment the sender
// sent with more of its data right behind it (a segment that was not the
// last of its burst: the sender had more to send and chose that size)
// when that is within a quarter below the announcement: the path MTU or
// options took those bytes. Segments larger than the announcement (TSO or
// GRO on the capture host, IssueOversize) do not raise it: the reference
// stays the on-wire MSS. Without announcements it is the largest such
// segment, else the largest segment seen. It is cheap and may be called
// during the pass.
func (c *Conn) EffectiveMSS(d Dir) (int, MSSSource) {
	ann := c.MSS(d)
	if own := c.MSS(d.Reverse()); own > 0 && (ann == 0 || own < ann) {
		ann = own
	}
	full := int(c.h[d].maxFull)
	switch {
	case ann > 0 && full > 0 && full < ann && 4*full >= 3*ann:
		return full, MSSOnWire
	case ann > 0:
		return ann, MSSAnnounced
	case full > 0:
		return full, MSSOnWire
	case c.Stats[d].MaxSegment > 0:
		return int(min(c.Stats[d].MaxSegment, 1<<30)), MSSMaxSeen
	}
	return 0, MSSNone
}

// WindowShift returns the window scale applied to the windows direction
// d's sender advertises after its SYN: 0 to 14 (clamped, RFC 7323 section
// 2.3), 0 when scaling is off (a SYN without the option); -1 while it is
// unknown (no SYN of d captured), when windows are given unscaled. A
// SYN's own window is never scaled (Analysis.WindowShift is 0 on it).
func (c *Conn) WindowShift(d Dir) int8 {
	switch ws := c.h[d].winScale; {
	case ws == -1:
		return -1
	case ws < 0:
		return 0
	default:
		return ws
	}
}

// Base returns the base of direction d's relative sequence numbers: the
// first sequence number its segments showed (its ISN when the capture
// starts with the SYN) or, when the other side's ACK came first, the
// number that ACK acknowledged. ok is false until either was seen.
func (c *Conn) Base(d Dir) (Seq, bool) { return c.base[d], c.hasBase[d] }
