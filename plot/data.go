package plot

import (
	"time"

	"github.com/netecology/netecology/tcpstate"
)

// The figures read their data through these small interfaces, in the
// manner of gonum's plotter.XYer and plotter.Valuer, so that results plug
// in as they are: package flow/series implements them (Bins, MinRTT,
// Points, RTTSamples, SeqRanges, SeqMarks, Turns), and package flow/linkq
// the echo fit's (its Points are a plotter.XYer, its NamedLines a
// FitLiner). A constructor reads each value once, validates it and copies
// what it draws; it keeps no reference to the data. A nil interface is no
// data.

// ByteBinner is a series of byte counts in consecutive fixed-width time
// bins: bin i covers [start+i·width, start+(i+1)·width).
type ByteBinner interface {
	// Len returns the number of bins.
	Len() int
	// Grid returns the left edge of bin 0 and the width of every bin.
	Grid() (start time.Time, width time.Duration)
	// BinBytes returns the bytes counted in bin i, 0 ≤ i < Len().
	BinBytes(i int) uint64
}

// MinRTTer is the smallest RTT per interval: interval i covers
// [start+i·width, start+(i+1)·width).
type MinRTTer interface {
	// Len returns the number of intervals.
	Len() int
	// Grid returns the start of interval 0 and the width of every
	// interval.
	Grid() (start time.Time, width time.Duration)
	// BinMin returns interval i's smallest RTT, zero when it had no
	// sample.
	BinMin(i int) time.Duration
}

// Packeter is the packets of the connection a packet-flow figure shows.
type Packeter interface {
	// Len returns the number of packets.
	Len() int
	// Packet returns packet i: when it was captured, its size on the wire
	// (whole frame), its TCP payload length, its direction
	// (ClientToServer packets are drawn above the axis, ServerToClient
	// below) and its TCP flags. A RST, a SYN and a FIN (tested in that
	// order) are drawn as marks of their own, a segment with payload as a
	// triangle, any other as a tick in its direction's ACK lane.
	Packet(i int) (at time.Time, wireBytes, payload int, dir tcpstate.Dir, flags tcpstate.Flags)
}

// packetKind is how a packet-flow figure draws a packet.
type packetKind uint8

const (
	packetData packetKind = iota
	packetACK
	packetSYN
	packetFIN
	packetRST
)

// kindOf returns how a packet with the flags and payload is drawn.
func kindOf(payload int, flags tcpstate.Flags) packetKind {
	switch {
	case flags.Has(tcpstate.RST):
		return packetRST
	case flags.Has(tcpstate.SYN):
		return packetSYN
	case flags.Has(tcpstate.FIN):
		return packetFIN
	case payload > 0:
		return packetData
	}
	return packetACK
}

// RTTSampler is a list of round-trip times.
type RTTSampler interface {
	// Len returns the number of samples.
	Len() int
	// RTTSample returns sample i: when the ACK that ended it was
	// captured, the round-trip time and the direction of the data timed.
	RTTSample(i int) (at time.Time, rtt time.Duration, dir tcpstate.Dir)
}

// SeqRanger is a list of ranges [first, end) of relative sequence numbers
// (bytes) at a time: data segments or SACK blocks.
type SeqRanger interface {
	// Len returns the number of ranges.
	Len() int
	// SeqRange returns range i.
	SeqRange(i int) (at time.Time, first, end int64)
}

// SeqMarker is a list of relative sequence numbers at a time: ACKs, the
// right edge of the receive window, zero-window advertisements.
type SeqMarker interface {
	// Len returns the number of marks.
	Len() int
	// SeqMark returns mark i.
	SeqMark(i int) (at time.Time, seq int64)
}

// Transactioner is a list of application requests and their responses.
type Transactioner interface {
	// Len returns the number of transactions.
	Len() int
	// Transaction returns when transaction i's request was sent and when
	// the first and the last byte of its response came; the last two are
	// zero for an unanswered request.
	Transaction(i int) (request, firstByte, lastByte time.Time)
}

// FitLiner is a list of named straight lines RTT = intercept +
// slope·size fitted to an echo figure's points.
type FitLiner interface {
	// Len returns the number of lines.
	Len() int
	// FitLine returns line i: its name in the legend, the intercept in
	// milliseconds, the slope in microseconds per byte and the RMS
	// residual in milliseconds (shown when positive).
	FitLine(i int) (name string, interceptMs, slopeUsPerByte, rmsMs float64)
}

// length returns l.Len(), zero for a nil l.
func length(l interface{ Len() int }) int {
	if l == nil {
		return 0
	}
	return l.Len()
}
