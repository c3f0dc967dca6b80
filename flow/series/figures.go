package series

import (
	"strconv"
	"strings"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// This file turns a Result into the data of each figure, in the types
// package plot draws from without conversion (its ByteBinner, MinRTTer,
// Packeter, RTTSampler, SeqRanger, SeqMarker and Transactioner).

// Window is a span of capture time a figure shows, both ends included; a
// zero From or To leaves that end open.
type Window struct {
	From, To time.Time
}

// Contains reports whether t lies in the window.
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.From) && (w.To.IsZero() || !t.After(w.To))
}

// Points is a list of points, as ConnSeries.Points holds them. It
// implements plot.Packeter.
type Points []Point

// Len returns the number of points.
func (ps Points) Len() int { return len(ps) }

// Packet returns point i as a packet-flow figure draws it: when it was
// captured, its size on the wire, its payload length, its direction and
// its flags.
func (ps Points) Packet(i int) (at time.Time, wireBytes, payload int, dir tcpstate.Dir, flags tcpstate.Flags) {
	p := &ps[i]
	return p.Time, p.WireLen, p.Len, p.Dir, p.Flags
}

// Within returns the points captured in w, in order.
func (ps Points) Within(w Window) Points {
	var out Points
	for _, p := range ps {
		if w.Contains(p.Time) {
			out = append(out, p)
		}
	}
	return out
}

// sackBlocks returns the point's SACK blocks.
func (p *Point) sackBlocks() [][2]int64 {
	return p.SACK[:min(max(p.NSACK, 0), len(p.SACK))]
}

// Labeled reports whether the points carry tcpstate's analysis (some
// point has a label or an RTT sample): the flow Analyzer passed it
// (flow.PacketInfo.Analysis).
func Labeled(points []Point) bool {
	for _, p := range points {
		if p.Labels != 0 || p.RTT > 0 {
			return true
		}
	}
	return false
}

// SeqRange is a range [First, End) of relative sequence numbers (bytes)
// at a time: a data segment or a SACK block.
type SeqRange struct {
	Time  time.Time `json:"time"`
	First int64     `json:"first"`
	End   int64     `json:"end"`
}

// SeqRanges is a list of sequence ranges. It implements plot.SeqRanger.
type SeqRanges []SeqRange

// Len returns the number of ranges.
func (rs SeqRanges) Len() int { return len(rs) }

// SeqRange returns range i.
func (rs SeqRanges) SeqRange(i int) (at time.Time, first, end int64) {
	return rs[i].Time, rs[i].First, rs[i].End
}

// SeqMark is a relative sequence number at a time: an ACK, the right edge
// of the receive window, a zero-window advertisement.
type SeqMark struct {
	Time time.Time `json:"time"`
	Seq  int64     `json:"seq"`
}

// SeqMarks is a list of sequence marks. It implements plot.SeqMarker.
type SeqMarks []SeqMark

// Len returns the number of marks.
func (ms SeqMarks) Len() int { return len(ms) }

// SeqMark returns mark i.
func (ms SeqMarks) SeqMark(i int) (at time.Time, seq int64) { return ms[i].Time, ms[i].Seq }

// TimeSeq is the data of a time-sequence graph (tcptrace, Stevens) of one
// direction's data: the segments sent that way, sorted by kind, and the
// receiver's ACKs, window edges, SACK blocks and zero windows.
type TimeSeq struct {
	// Data holds the first transmissions; Retrans the retransmitted
	// segments; OutOfOrder the segments tcpstate found out of order
	// (below the highest sequence number but not seen before: their first
	// copy was lost before the capture point, or the network reordered
	// them).
	Data, Retrans, OutOfOrder SeqRanges
	// Ack is the receiver's ACK line, kept monotone: an ACK that goes
	// back (one reordered in the network) is left out of it.
	Ack SeqMarks
	// Window holds the right edge of the receive window (ACK plus the
	// advertised window) at every ACK.
	Window SeqMarks
	// SACK holds the SACK blocks the receiver reported (those whose
	// right edge is after their left).
	SACK SeqRanges
	// ZeroWindow marks the ACKs that advertised a zero window.
	ZeroWindow SeqMarks
}

// TimeSequence sorts one connection's points in w into the time-sequence
// graph of the data sent in direction d. RST segments are left out. With
// tcpstate's analysis (Labeled) its labels decide: out of order, or a
// retransmission (fast, spurious or plain), or a first transmission; a
// zero window is its ZeroWindow label. Without it, Point.Retrans marks
// the retransmissions (no segment is out of order) and an ACK advertising
// a zero window without SYN or FIN is a zero window.
func TimeSequence(points []Point, d tcpstate.Dir, w Window) TimeSeq {
	var t TimeSeq
	labeled := Labeled(points)
	var lastAck int64
	for i := range points {
		p := &points[i]
		if !w.Contains(p.Time) || p.Flags.Has(tcpstate.RST) {
			continue
		}
		if p.Dir == d {
			if p.End > p.Seq {
				t.addSegment(p, labeled)
			}
			continue
		}
		if !p.Flags.Has(tcpstate.ACK) {
			continue
		}
		if len(t.Ack) == 0 || p.Ack >= lastAck {
			t.Ack = append(t.Ack, SeqMark{Time: p.Time, Seq: p.Ack})
			lastAck = p.Ack
		}
		t.Window = append(t.Window, SeqMark{Time: p.Time, Seq: p.Ack + p.Window})
		zero := p.Window == 0 && !p.Flags.Has(tcpstate.SYN) && !p.Flags.Has(tcpstate.FIN)
		if labeled {
			zero = p.Labels.Has(tcpstate.ZeroWindow)
		}
		if zero {
			t.ZeroWindow = append(t.ZeroWindow, SeqMark{Time: p.Time, Seq: p.Ack})
		}
		for _, b := range p.sackBlocks() {
			if b[1] > b[0] { // a block whose right edge is not after its left is none (RFC 2018)
				t.SACK = append(t.SACK, SeqRange{Time: p.Time, First: b[0], End: b[1]})
			}
		}
	}
	return t
}

// addSegment files a segment that occupies sequence space by its kind.
func (t *TimeSeq) addSegment(p *Point, labeled bool) {
	r := SeqRange{Time: p.Time, First: p.Seq, End: p.End}
	l := p.Labels
	switch {
	case labeled && l.Has(tcpstate.OutOfOrder):
		t.OutOfOrder = append(t.OutOfOrder, r)
	case labeled && l.Retransmitted():
		t.Retrans = append(t.Retrans, r)
	case !labeled && p.Retrans:
		t.Retrans = append(t.Retrans, r)
	default:
		t.Data = append(t.Data, r)
	}
}

// SamplesOf returns one connection's RTT samples in capture order:
// tcpstate's data→ACK samples the points carry (Point.RTT, dated by the
// ACK, for the data sent the other way; Seq is the ACK, where the timed
// segment ends).
func SamplesOf(points []Point) RTTSamples {
	var out RTTSamples
	for _, p := range points {
		if p.RTT > 0 {
			out = append(out, RTTSample{Time: p.Time, RTT: p.RTT, Dir: p.Dir.Reverse(), Seq: p.Ack})
		}
	}
	return out
}

// NetworkDir returns the direction of the data whose RTT samples are
// network round trips: the data sent by the host the capture was taken
// near, by tcpstate's vantage (ClientToServer near the client,
// ServerToClient near the server). When the vantage says neither (unknown
// or in the middle), it is the direction whose samples have the larger
// median, ClientToServer on a tie. The other direction's samples are the
// near host's own ACK delay.
func NetworkDir(v tcpstate.Vantage, samples []RTTSample) tcpstate.Dir {
	switch v {
	case tcpstate.VantageServer:
		return tcpstate.ServerToClient
	case tcpstate.VantageClient:
		return tcpstate.ClientToServer
	}
	var by [2]RTTSamples
	for _, s := range samples {
		if s.Dir <= tcpstate.ServerToClient {
			by[s.Dir] = append(by[s.Dir], s)
		}
	}
	if MedianRTT(by[1]) > MedianRTT(by[0]) {
		return tcpstate.ServerToClient
	}
	return tcpstate.ClientToServer
}

// CaptureNetworkDir returns NetworkDir for a whole capture, by its
// connections' vantage: ServerToClient when more of them were captured
// near the server than near the client, else ClientToServer.
func CaptureNetworkDir(conns []*flow.Conn) tcpstate.Dir {
	var client, server int
	for _, c := range conns {
		switch c.Vantage {
		case tcpstate.VantageClient:
			client++
		case tcpstate.VantageServer:
			server++
		}
	}
	if server > client {
		return tcpstate.ServerToClient
	}
	return tcpstate.ClientToServer
}

// ConnRTT is the data of one connection's RTT figure.
type ConnRTT struct {
	// Samples are the connection's RTT samples in the window (SamplesOf),
	// both directions, in capture order.
	Samples RTTSamples
	// Net is the direction whose samples are network round trips
	// (NetworkDir).
	Net tcpstate.Dir
	// Min is the smallest of Net's samples per interval.
	Min MinRTT
}

// RTTIn gathers one connection's RTT figure: the samples of its points in
// w, the network direction by the connection's vantage v, and that
// direction's minimum per interval of the given width from w.From (from
// the first sample when From is zero). It fails as MinPerInterval does.
func RTTIn(points []Point, v tcpstate.Vantage, w Window, width time.Duration) (ConnRTT, error) {
	var r ConnRTT
	for _, s := range SamplesOf(points) {
		if w.Contains(s.Time) {
			r.Samples = append(r.Samples, s)
		}
	}
	r.Net = NetworkDir(v, r.Samples)
	var net RTTSamples
	for _, s := range r.Samples {
		if s.Dir == r.Net {
			net = append(net, s)
		}
	}
	start := w.From
	if start.IsZero() && len(net) > 0 {
		start = net[0].Time
	}
	m, err := MinPerInterval(net, start, width)
	r.Min = m
	return r, err
}

// ClassLabel names a traffic class of the capture-wide bins (Class.Name)
// by the application protocol appproto identified on its connections,
// when they agree: "postgres (tcp/5432)". Other names, and TCP classes
// with no protocol or with several, are returned as they are.
func ClassLabel(name string, conns []*flow.Conn) string {
	port, ok := strings.CutPrefix(name, "tcp/")
	if !ok {
		return name
	}
	proto := ""
	for _, c := range conns {
		if strconv.Itoa(int(c.Server.Port())) != port || c.Proto == "" || c.Proto == "unknown" {
			continue
		}
		if proto != "" && proto != c.Proto {
			return name
		}
		proto = c.Proto
	}
	if proto == "" {
		return name
	}
	return proto + " (" + name + ")"
}

// FrameOverhead returns the bytes a frame of direction d adds to its
// segment's payload (link, IP and TCP headers with options): the most
// common difference between wire length and payload among the
// direction's data segments, the smaller on a tie; 0 when it has none.
// A full-size segment of MSS bytes makes a frame of MSS plus this.
func FrameOverhead(points []Point, d tcpstate.Dir) int {
	counts := map[int]int{}
	for i := range points {
		p := &points[i]
		if p.Dir == d && p.Len > 0 && p.WireLen > p.Len {
			counts[p.WireLen-p.Len]++
		}
	}
	best, n := 0, 0
	for o, c := range counts {
		if c > n || c == n && o < best {
			best, n = o, c
		}
	}
	return best
}
