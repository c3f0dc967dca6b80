package tcpstate

import (
	"fmt"
	"strings"
	"time"
)

// Label is one of the per-segment labels of TCP sequence analysis, named
// after the tcp.analysis fields of Wireshark whose documented rules they
// follow (Wireshark User's Guide, "TCP Analysis").
type Label uint8

// The labels, in the order Wireshark tries its rules.
const (
	// ZeroWindowProbe: one byte at SND.NXT while the receiver advertises
	// a zero window.
	ZeroWindowProbe Label = iota
	// ZeroWindow: a segment (not SYN, FIN or RST) advertising a zero
	// receive window.
	ZeroWindow
	// LostSegment: the segment starts beyond the highest sequence number
	// seen so far in its direction ("previous segment not captured").
	LostSegment
	// KeepAlive: zero or one byte starting one before SND.NXT.
	KeepAlive
	// WindowUpdate: no data, same SEQ and ACK as before, a new non-zero
	// window.
	WindowUpdate
	// WindowFull: the segment fills the receiver's advertised window to
	// its right edge.
	WindowFull
	// KeepAliveAck: repeats the previous ACK right after a keep-alive
	// from the other side.
	KeepAliveAck
	// ZeroWindowProbeAck: repeats the previous ACK and zero window right
	// after a zero-window probe from the other side.
	ZeroWindowProbeAck
	// DupAck: no data, same SEQ, ACK and non-zero window as the previous
	// segment of the direction.
	DupAck
	// AckedUnseen: acknowledges bytes the capture never showed ("ACKed
	// segment that wasn't captured").
	AckedUnseen
	// SpuriousRetransmission: data that the receiver had already
	// acknowledged.
	SpuriousRetransmission
	// FastRetransmission: resends the byte at least two duplicate ACKs
	// asked for, within 20 ms of the last of them.
	FastRetransmission
	// OutOfOrder: does not advance SND.NXT and comes within the initial
	// RTT (3 ms without a handshake) of the segment that did.
	OutOfOrder
	// Retransmission: does not advance SND.NXT and is none of the above.
	Retransmission

	// NumLabels is the number of labels.
	NumLabels
)

var labelNames = [NumLabels]string{
	"zero_window_probe", "zero_window", "lost_segment", "keep_alive", "window_update",
	"window_full", "keep_alive_ack", "zero_window_probe_ack", "duplicate_ack",
	"ack_lost_segment", "spurious_retransmission", "fast_retransmission", "out_of_order",
	"retransmission",
}

// String returns the label's name, the suffix of Wireshark's field
// (tcp.analysis.<name>).
func (l Label) String() string {
	if l < NumLabels {
		return labelNames[l]
	}
	return "unknown"
}

// Labels is a set of labels.
type Labels uint16

// Has reports whether l is in the set.
func (ls Labels) Has(l Label) bool { return ls&(1<<l) != 0 }

// With returns the set with l added.
func (ls Labels) With(l Label) Labels { return ls | 1<<l }

// Retransmitted reports whether the set marks a retransmission as
// Wireshark's tcp.analysis.retransmission does: Retransmission,
// FastRetransmission or SpuriousRetransmission (Wireshark puts the field
// on fast and spurious retransmissions too; out-of-order segments are not
// retransmissions to it).
func (ls Labels) Retransmitted() bool {
	const retx = 1<<Retransmission | 1<<FastRetransmission | 1<<SpuriousRetransmission
	return ls&retx != 0
}

// String lists the labels in the set, comma-separated.
func (ls Labels) String() string {
	var b strings.Builder
	for l := Label(0); l < NumLabels; l++ {
		if ls.Has(l) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.String())
		}
	}
	return b.String()
}

// Cause is why a retransmission was sent, as far as the capture tells.
type Cause uint8

// Retransmission causes.
const (
	// CauseNone: not a retransmission.
	CauseNone Cause = iota
	// CauseFast: fast retransmit or SACK-driven recovery: the receiver had
	// sent duplicate ACKs or SACK blocks above the resent data (RFC 5681,
	// RFC 6675) since the bytes' previous transmission, and the sender
	// answered them sooner than any timer (within SRTT + 200 ms).
	CauseFast
	// CauseTLP: a tail-loss probe (RFC 8985): the last segment sent again,
	// before a retransmission timeout could have expired, with no
	// duplicate ACK.
	CauseTLP
	// CauseTimeout: the retransmission timer expired (RFC 6298): the first
	// unacknowledged byte sent again 200 ms or more after the later of its
	// previous transmission and the receiver's last ACK that moved (the
	// timer's start, sections 5.1 and 5.3), not driven by duplicate ACKs
	// or SACKs as CauseFast is (or bytes the capture saw acknowledged: the
	// ACKs were lost after it).
	CauseTimeout
	// CauseUnknown: none of the above could be told.
	CauseUnknown
)

var causeNames = [...]string{"", "fast", "tlp", "timeout", "unknown"}

// String returns the cause's name.
func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "unknown"
}

// Anomaly marks input a sane TCP would not produce, or a capture fault,
// found on one segment.
type Anomaly uint8

// Anomalies.
const (
	// AnomalyTimeBackwards: the capture timestamp is earlier than the
	// previous segment's of the connection.
	AnomalyTimeBackwards Anomaly = 1 << iota
	// AnomalySeqJump: the segment starts more than 2^30 bytes away from
	// SND.NXT, which no real window (at most 2^30, RFC 7323) allows.
	AnomalySeqJump
	// AnomalyWScale: a window scale option above 14, clamped to 14
	// (RFC 7323 section 2.3).
	AnomalyWScale
	// AnomalyOptions: malformed or truncated TCP options.
	AnomalyOptions
)

// Analysis is what the sequence analysis found on one segment. Conn.Add
// returns a pointer to one held by the Conn, valid until the next Add.
type Analysis struct {
	// Index is the segment's packet index (Segment.Index).
	Index uint64
	// Labels are the labels the segment carries.
	Labels Labels
	// Ref holds, per label, the packet index of the earlier segment the
	// label refers to (0 if none is known); see Explain.
	Ref [NumLabels]uint64
	// DupAckNum is the duplicate ACK's number (1 for the first) when
	// Labels has DupAck.
	DupAckNum uint32
	// Cause is why a retransmission was sent (CauseNone if the segment is
	// not one).
	Cause Cause
	// Data is the sequence range of the segment's payload (Segment.Data):
	// it starts after the SYN's own number on a SYN, and is empty when the
	// segment has no payload and on a RST.
	Data Range
	// Resent is how many bytes of Data were sent before: those below the
	// highest byte the direction's earlier segments carried, whether
	// retransmitted or filling a hole the capture saw open. Resent > 0
	// means a byte was sent again (or arrived late), Resent == Data.Len()
	// that the whole payload was. It is a byte count, independent of the
	// labels, which judge the segment by Wireshark's rules (see
	// Retransmitted).
	Resent Size
	// Window is the receive window the segment advertises, in bytes:
	// SEG.WND shifted by WindowShift when that is positive. WindowShift is
	// the sender's window scale (RFC 7323; see Conn.WindowShift), 0 on a
	// SYN (never scaled) and when scaling is off, and -1 when the scale is
	// unknown (the sender's SYN was not captured): Window is then the raw
	// field.
	Window      uint32
	WindowShift int8
	// AckOf is the packet index of the segment this one acknowledges
	// exactly, if any; RTT is the data→ACK time it gave under Karn's rule
	// (zero if no sample), and Acked the sizes of that segment. Ambiguous
	// is set instead when the ACK matches the end of a segment but a byte
	// up to it was sent more than once: Karn's rule (RFC 6298) takes no
	// sample. Nor does an ACK of a segment the receiver had already
	// reported held in a SACK block: it times the repair of the hole
	// before it (RTT stays zero, Ambiguous unset).
	AckOf     uint64
	RTT       time.Duration
	Acked     SegmentSize
	Ambiguous bool
	// Untracked is set on a segment occupying sequence space that was not
	// remembered, its direction already having 1000 segments
	// unacknowledged: its ACK can give no RTT sample.
	Untracked bool
	// TSRTT is the time from the TSval this segment's TSecr echoes first
	// (RFC 7323) to this segment, both at the capture point: the leg from
	// the capture point to this segment's sender and back, under load
	// (zero if no sample). TSEchoAck is set when that TSval was first
	// sent on a pure ACK: a segment of new data echoing it was sent when
	// the ACK arrived (ACK clocking), so the sample holds no think time.
	// (A pure ACK's TSval echoed by anything but new data gives no
	// sample.)
	TSRTT     time.Duration
	TSEchoAck bool
	// InFlight is the bytes sent and not yet acknowledged in the
	// segment's direction after it, minus those the receiver reported
	// holding in SACK blocks; valid when the segment carries data.
	InFlight uint32
	// SACKHole is the first hole the segment's SACK blocks report in the
	// other direction's data: from SEG.ACK up to the lowest left edge
	// above it (the bytes the segment's sender is missing); empty when no
	// block lies above SEG.ACK (or within 2^30 bytes of it).
	SACKHole Range
	// Anomaly marks bad input found on the segment.
	Anomaly Anomaly
	// Unneeded is the packet index of an earlier retransmission of the
	// other direction that this segment shows was unneeded, and Evidence
	// how (EvidenceNone when it shows none).
	Unneeded uint64
	Evidence Evidence
	// Duplicate is set when the segment is a second copy of one the
	// capture already holds (see IssueDuplicates): same header fields,
	// options and IP ID, within a few milliseconds. Its labels are the
	// ones tshark gives the copy and are counted, but it leaves the
	// connection's facts (RTT samples, retransmission causes, the
	// segments remembered) as they were.
	Duplicate bool
	// Unseen counts the packets the segment's sender sent just before it
	// that the capture does not hold, as its IPv4 IDs show (a sender
	// whose IDs had stepped by one for a while, then skipped): lost
	// between the sender and the capture point, or dropped by the
	// capture. Such a segment is new to the capture and not labelled a
	// retransmission (tshark does not see one either), but when it ends a
	// pause of the sender it is the resend of what was lost.
	Unseen uint16
	// UnseenTimeout is set on a segment with data that has Unseen set
	// and ends a silence of its sender of at least MinRTO (nothing of that
	// direction in the capture for that long): the resend, on a timeout,
	// of a tail segment lost before the capture point, which the receiver
	// could not ask for. A shorter silence says nothing (the capture's own
	// drops, or a sender whose IDs count more than this connection).
	UnseenTimeout bool
}

// Retransmitted reports whether the segment is a retransmission as
// Wireshark counts them: see Labels.Retransmitted.
func (a *Analysis) Retransmitted() bool { return a.Labels.Retransmitted() }

// SegmentSize is the size of a segment three ways.
type SegmentSize struct {
	// Len is the TCP payload length (Segment.Len), HeaderLen the TCP
	// header's (Segment.HeaderLen, 0 when unknown), WireLen the frame's on
	// the wire (Segment.WireLen).
	Len, HeaderLen, WireLen int
}

// Evidence is how an ACK shows that a retransmission was unneeded.
type Evidence uint8

// Kinds of evidence of a spurious retransmission.
const (
	// EvidenceNone: none.
	EvidenceNone Evidence = iota
	// EvidenceDSACK: a D-SACK block reports the retransmitted bytes as
	// received twice (RFC 2883).
	EvidenceDSACK
	// EvidenceTS: the first ACK covering the retransmission echoes a
	// timestamp older than the retransmission's: the original arrived
	// (Eifel detection, RFC 3522).
	EvidenceTS
)

// ExplainEvidence says which retransmission the segment shows was
// unneeded, and how; "" when it shows none.
func (a *Analysis) ExplainEvidence() string {
	switch a.Evidence {
	case EvidenceDSACK:
		return fmt.Sprintf("D-SACK: the retransmission in packet %d was unneeded (the bytes arrived twice)", a.Unneeded)
	case EvidenceTS:
		return fmt.Sprintf("timestamp echo older than the retransmission in packet %d: the original arrived, the retransmission was unneeded", a.Unneeded)
	}
	return ""
}

// Explain says, in one line, why the segment carries label l and which
// earlier packet it refers to. It returns "" if the segment does not carry
// l. It allocates; it is meant for reports, not the per-packet path.
func (a *Analysis) Explain(l Label) string {
	if !a.Labels.Has(l) {
		return ""
	}
	ref := a.Ref[l]
	pkt := func(format string) string {
		if ref == 0 {
			return ""
		}
		return fmt.Sprintf(format, ref)
	}
	switch l {
	case ZeroWindowProbe:
		return "one byte at the next sequence number while the receiver's window is zero" + pkt(" (zero window advertised in packet %d)")
	case ZeroWindow:
		return "advertises a zero receive window"
	case LostSegment:
		return "starts beyond the highest byte seen so far" + pkt(" (sent in packet %d)") + ": previous segment not captured"
	case KeepAlive:
		return "0 or 1 byte starting one before the next sequence number" + pkt(" (set by packet %d)")
	case WindowUpdate:
		return "no data, same SEQ/ACK as before, new window" + pkt(" (previous window in packet %d)")
	case WindowFull:
		return "fills the receiver's window to its right edge" + pkt(" (window advertised in packet %d)")
	case KeepAliveAck:
		return "repeats the previous ACK right after a keep-alive" + pkt(" (packet %d)")
	case ZeroWindowProbeAck:
		return "repeats the previous ACK and zero window right after a zero-window probe" + pkt(" (packet %d)")
	case DupAck:
		return fmt.Sprintf("duplicate ACK #%d: no data, same SEQ, ACK and window", a.DupAckNum) + pkt(" as packet %d")
	case AckedUnseen:
		return "acknowledges bytes beyond any captured segment of the other side" + pkt(" (highest seen in packet %d)")
	case SpuriousRetransmission:
		return "resends bytes the receiver had already acknowledged" + pkt(" (in packet %d)") + a.cause()
	case FastRetransmission:
		return "resends the byte duplicate ACKs asked for, within 20 ms" + pkt(" of packet %d")
	case OutOfOrder:
		return "does not advance the sequence and comes within the initial RTT" + pkt(" of packet %d, which did")
	case Retransmission:
		return "does not advance the sequence: retransmission" + pkt(" of bytes first sent in packet %d") + a.cause()
	}
	return ""
}

func (a *Analysis) cause() string {
	if a.Cause == CauseNone {
		return ""
	}
	return " (cause: " + a.Cause.String() + ")"
}
