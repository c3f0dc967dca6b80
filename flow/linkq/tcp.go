package linkq

import (
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// TCPStats counts what the TCP side of the analysis saw. Every figure is
// read from tcpstate's analysis of the segments (flow's
// PacketInfo.Analysis).
type TCPStats struct {
	// DataSegments counts segments carrying payload (Analysis.Data);
	// Retransmitted those whose whole payload had been sent before in
	// their direction (Analysis.Resent covers it: it ends at or before
	// the highest byte already seen).
	DataSegments  uint64 `json:"data_segments"`
	Retransmitted uint64 `json:"retransmitted"`
	// RTTSamples counts data segments timed by a pure ACK: tcpstate's
	// data→ACK samples (an ACK ending exactly at the segment) taken by
	// ACKs without payload, SYN, FIN or RST. Ambiguous counts ACKs ending
	// exactly at a segment that tcpstate did not time because a byte up
	// to it was sent twice (Karn's rule); Forgotten counts data segments
	// tcpstate could not remember for timing (1000 already
	// unacknowledged in their direction).
	RTTSamples uint64 `json:"rtt_samples"`
	Ambiguous  uint64 `json:"ambiguous"`
	Forgotten  uint64 `json:"forgotten"`
}

// tcpDir is what is tracked for one direction of a connection.
type tcpDir struct {
	data   uint64
	retx   uint64
	maxSeg int
	maxWin uint32 // largest window field as carried, SYNs excluded
	// maxBytes is the largest window in bytes as tcpstate scaled it
	// (Analysis.Window), SYNs excluded; shift the scale tcpstate applied
	// to the direction's last one (Analysis.WindowShift, -1 unknown).
	maxBytes uint32
	shift    int8
	zeroWin  uint64 // segments tcpstate labels zero window
	payload  uint64
	first    time.Time
	last     time.Time
}

// tcpConn tracks one connection.
type tcpConn struct {
	dirs [2]tcpDir
}

// tcpTracker takes the RTT samples of TCP data from tcpstate and counts
// what the verdict needs. Connections are dropped when flow reports them
// ended.
type tcpTracker struct {
	conns map[int]*tcpConn
	stats TCPStats
}

func newTCPTracker() *tcpTracker { return &tcpTracker{conns: make(map[int]*tcpConn)} }

// add takes one TCP segment of a connection, with tcpstate's analysis;
// segments without it are ignored.
func (t *tcpTracker) add(p *flow.PacketInfo, basis SizeBasis, paths *pathSet, sample bool) {
	s, an := p.Seg, p.Analysis
	if an == nil {
		return
	}
	c := t.conns[p.Conn.ID]
	if c == nil {
		c = &tcpConn{}
		t.conns[p.Conn.ID] = c
	}
	d := &c.dirs[p.Dir]
	if d.first.IsZero() {
		d.first = p.Time
	}
	d.last = p.Time
	if !s.Flags.Has(tcpstate.SYN) {
		d.maxWin = max(d.maxWin, uint32(s.Window))
		d.maxBytes, d.shift = max(d.maxBytes, an.Window), an.WindowShift
	}
	if an.Labels.Has(tcpstate.ZeroWindow) {
		d.zeroWin++
	}
	if n := an.Data.Len(); n > 0 {
		d.data++
		d.payload += uint64(s.Len)
		d.maxSeg = max(d.maxSeg, s.Len)
		t.stats.DataSegments++
		if an.Resent == n {
			d.retx++
			t.stats.Retransmitted++
		}
		if an.Untracked {
			t.stats.Forgotten++
		}
	}
	t.sample(p, basis, paths, sample)
}

// sample takes tcpstate's data→ACK sample on a pure ACK, with the size of
// the data segment it times, into the paths.
func (t *tcpTracker) sample(p *flow.PacketInfo, basis SizeBasis, paths *pathSet, sample bool) {
	s, an := p.Seg, p.Analysis
	if an.Ambiguous {
		t.stats.Ambiguous++
	}
	pure := s.Len == 0 && s.Flags&(tcpstate.SYN|tcpstate.FIN|tcpstate.RST) == 0
	if !pure || an.RTT <= 0 || an.Acked.Len == 0 || !sample {
		return
	}
	t.stats.RTTSamples++
	paths.add(pathKey{SourceTCP, p.Dst, p.Src}, EchoNone, ackedSize(basis, p, an.Acked), an.RTT, p.Time, p.Index)
}

// ackedSize is the size of the timed segment sz by basis: its frame, its
// payload, or its IP packet (the TCP length with a minimal IP header, as
// sizeOf counts it for echoes).
func ackedSize(b SizeBasis, p *flow.PacketInfo, sz tcpstate.SegmentSize) int {
	switch b {
	case SizeFrame:
		return sz.WireLen
	case SizePayload:
		return sz.Len
	}
	if p.Src.Is4() {
		return sz.HeaderLen + sz.Len + 20
	}
	return sz.HeaderLen + sz.Len + 40
}
