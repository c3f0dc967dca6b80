package linkq

import (
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/tcpstate"
)

// maxInFlight bounds the data segments remembered per direction of a
// connection for RTT sampling; older ones are forgotten unsampled.
const maxInFlight = 256

// TCPStats counts what the TCP side of the analysis saw.
type TCPStats struct {
	// DataSegments counts segments carrying payload; Retransmitted those
	// whose data ended at or before the highest sequence number already
	// seen in their direction.
	DataSegments  uint64 `json:"data_segments"`
	Retransmitted uint64 `json:"retransmitted"`
	// RTTSamples counts data segments timed by the pure ACK of exactly
	// their end; Ambiguous counts ACKs of retransmitted data, not timed
	// (Karn's rule); Forgotten counts segments dropped when more than 256
	// were in flight.
	RTTSamples uint64 `json:"rtt_samples"`
	Ambiguous  uint64 `json:"ambiguous"`
	Forgotten  uint64 `json:"forgotten"`
}

// sent is a data segment awaiting its ACK.
type sent struct {
	first, end tcpstate.Seq
	index      uint64 // packet index
	t          time.Time
	size       int
	retx       bool
}

// tcpDir is what is tracked for one direction of a connection.
type tcpDir struct {
	hi       tcpstate.Seq // end of the highest data seen
	hasHi    bool
	data     uint64
	retx     uint64
	maxSeg   int
	maxWin   uint32 // largest window field, unscaled, SYNs excluded
	zeroWin  uint64 // segments advertising a zero window (not RST)
	payload  uint64
	first    time.Time
	last     time.Time
	inflight []sent // oldest first
}

// tcpConn tracks one connection.
type tcpConn struct {
	dirs [2]tcpDir
}

// tcpTracker samples RTTs from TCP data and ACKs and counts what the
// verdict needs. Connections are dropped when flow reports them ended.
type tcpTracker struct {
	conns map[int]*tcpConn
	stats TCPStats
}

func newTCPTracker() *tcpTracker { return &tcpTracker{conns: make(map[int]*tcpConn)} }

func (t *tcpTracker) add(p *flow.PacketInfo, basis SizeBasis, paths *pathSet, sample bool) {
	s := p.Seg
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
		if s.Window == 0 && !s.Flags.Has(tcpstate.RST) {
			d.zeroWin++
		}
	}
	if s.Len > 0 && !s.Flags.Has(tcpstate.RST) {
		first := s.Seq
		if s.Flags.Has(tcpstate.SYN) {
			first = first.Add(1)
		}
		end := first.Add(tcpstate.Size(s.Len))
		d.data++
		d.payload += uint64(s.Len)
		d.maxSeg = max(d.maxSeg, s.Len)
		t.stats.DataSegments++
		if d.hasHi && end.LessThanEq(d.hi) {
			d.retx++
			t.stats.Retransmitted++
			for i := range d.inflight {
				f := &d.inflight[i]
				if f.first.LessThan(end) && first.LessThan(f.end) {
					f.retx = true
				}
			}
		} else {
			if len(d.inflight) == maxInFlight {
				copy(d.inflight, d.inflight[1:])
				d.inflight = d.inflight[:maxInFlight-1]
				t.stats.Forgotten++
			}
			retx := d.hasHi && first.LessThan(d.hi) // partly resent
			d.inflight = append(d.inflight, sent{first: first, end: end, index: p.Index, t: p.Time, size: sizeOf(basis, p, s.Len), retx: retx})
			d.hi, d.hasHi = end, true
		}
	}
	if !s.Flags.Has(tcpstate.ACK) {
		return
	}
	// The ACK acknowledges data of the other direction.
	r := &c.dirs[p.Dir.Reverse()]
	pure := s.Len == 0 && !s.Flags.Has(tcpstate.SYN) && !s.Flags.Has(tcpstate.FIN) && !s.Flags.Has(tcpstate.RST)
	n := 0
	an := p.Analysis
	for n < len(r.inflight) && r.inflight[n].end.LessThanEq(s.Ack) {
		f := &r.inflight[n]
		if f.end == s.Ack {
			rtt := p.Time.Sub(f.t)
			ok := !f.retx && rtt >= 0
			if an != nil {
				// tcpstate's sample, under its Karn rule, when flow
				// gives it: for the segment it names.
				rtt, ok = an.RTT, an.RTT > 0 && an.AckOf == f.index
			}
			switch {
			case f.retx:
				t.stats.Ambiguous++
			case ok && pure && sample:
				t.stats.RTTSamples++
				paths.add(pathKey{SourceTCP, p.Dst, p.Src}, EchoNone, f.size, rtt)
			}
		}
		n++
	}
	if n > 0 {
		r.inflight = append(r.inflight[:0], r.inflight[n:]...)
	}
}
