package tcpstate

import (
	"encoding/binary"
	"testing"
	"time"
)

// segmentsFrom decodes a fuzz input into a segment sequence: 16 bytes a
// segment (direction and flags, sequence and ACK deltas that may jump
// anywhere, length, window, window scale, time step that may go
// backwards, options).
func segmentsFrom(data []byte, fn func(Dir, *Segment)) {
	var seq, ack [2]Seq
	seq[1] = 0x80000000
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var s Segment
	for i := uint64(1); len(data) >= 16; i++ {
		b := data[:16]
		data = data[16:]
		d := Dir(b[0] & 1)
		s = Segment{Index: i, Flags: Flags(b[1])}
		seq[d] = seq[d].Add(Size(int32(binary.BigEndian.Uint16(b[2:])) - 0x4000))
		if b[0]&2 != 0 {
			seq[d] = Seq(binary.BigEndian.Uint32(b[4:])) // an arbitrary jump
		}
		ack[d] = seq[d.Reverse()].Add(Size(int8(b[8])))
		s.Seq, s.Ack = seq[d], ack[d]
		s.Len = int(b[9]) * 8
		s.Payload = make([]byte, min(s.Len, int(b[10])))
		s.Window = binary.BigEndian.Uint16(b[11:])
		s.Opts.HasWScale, s.Opts.WScale = b[0]&4 != 0, b[13]
		s.Opts.HasMSS, s.Opts.MSS = b[0]&8 != 0, uint16(b[13])*16
		s.Opts.HasTimestamps = b[0]&16 != 0
		s.Opts.TSVal, s.Opts.TSEcr = uint32(i)*uint32(b[14]), uint32(b[15])
		s.Opts.Malformed = b[0]&32 != 0
		if b[0]&64 != 0 {
			s.Opts.NSACK = int(b[14] % 5)
			for k := range s.Opts.NSACK {
				s.Opts.SACK[k] = SACKBlock{seq[d.Reverse()].Sub(Size(b[15])), seq[d.Reverse()].Add(Size(k * 100))}
			}
		}
		now = now.Add(time.Duration(int8(b[15])) * time.Millisecond)
		s.Time = now
		fn(d, &s)
		seq[d] = seq[d].Add(s.SeqLen())
	}
}

// FuzzConn feeds arbitrary segment sequences to a Conn: it must never
// panic, never report a negative or disordered RTT, and keep its counters
// consistent.
func FuzzConn(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef"))
	f.Add(make([]byte, 16*8))
	hs := []byte{
		0x0c, byte(SYN), 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 7, 0, 10,
		0x0d, byte(SYN | ACK), 0x40, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 20, 0, 50,
		0x00, byte(ACK), 0x40, 0, 0, 0, 0, 0, 1, 0, 0, 0x10, 0, 0, 0, 1,
		0x00, byte(ACK | PSH), 0x40, 0, 0, 0, 0, 0, 1, 100, 0, 0x10, 0, 0, 0, 1,
		0x01, byte(ACK), 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 30,
		0x00, byte(ACK | PSH), 0x3c, 0, 0, 0, 0, 0, 1, 100, 0, 0x10, 0, 0, 0, 0xf0,
	}
	f.Add(hs)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewConn()
		var n [2]uint64
		segmentsFrom(data, func(d Dir, s *Segment) {
			checkAnalysis(t, s, c.Add(d, s))
			n[d]++
			if l, w := c.Legs(), c.computeLegs(); l != w {
				t.Fatalf("cached legs %+v, computed %+v", l, w)
			}
		})
		for d := range c.Stats {
			st := &c.Stats[d]
			if st.Packets != n[d] {
				t.Fatalf("packets %d, fed %d", st.Packets, n[d])
			}
			if st.Retransmissions > st.Packets || st.DupAcks > st.Packets || st.DataSegments+st.PureAcks > st.Packets {
				t.Fatalf("counters beyond packets: %+v", st)
			}
			if st.UniqueBytes > st.PayloadBytes {
				t.Fatalf("unique bytes %d beyond the payload %d", st.UniqueBytes, st.PayloadBytes)
			}
		}
		r := c.RTT()
		for _, s := range []RTTSummary{r.RTTSummary, r.C2S.Data, r.C2S.TS, r.S2C.Data, r.S2C.TS} {
			if s.Samples > 0 && !(0 <= s.Min && s.Min <= s.Median && s.Median <= s.P95 && s.P95 <= s.Max) {
				t.Fatalf("disordered RTT summary %+v", s)
			}
		}
		if r.Handshake < 0 || r.SynToSynAck < 0 || r.SynAckToAck < 0 {
			t.Fatalf("negative handshake RTT %+v", r)
		}
		_ = c.Vantage()
		_ = c.Quality()
	})
}

// checkAnalysis holds one segment's analysis to the invariants any input
// keeps.
func checkAnalysis(t *testing.T, s *Segment, a *Analysis) {
	t.Helper()
	if a.RTT < 0 || a.TSRTT < 0 {
		t.Fatalf("negative RTT sample %v %v", a.RTT, a.TSRTT)
	}
	if a.InFlight >= 1<<30 {
		t.Fatalf("in flight %d", a.InFlight)
	}
	if a.Resent > a.Data.Len() || (s.Flags.Has(RST) || s.Len == 0) != a.Data.Empty() {
		t.Fatalf("data %v resent %d of segment %+v", a.Data, a.Resent, s)
	}
	if a.Window < uint32(s.Window) || a.WindowShift > 14 || (a.WindowShift <= 0) != (a.Window == uint32(s.Window)) && s.Window != 0 {
		t.Fatalf("window %d shift %d from %d", a.Window, a.WindowShift, s.Window)
	}
	if a.AckOf == 0 && a.Acked != (SegmentSize{}) || a.Ambiguous && a.AckOf != 0 {
		t.Fatalf("acked %d %+v ambiguous %v", a.AckOf, a.Acked, a.Ambiguous)
	}
	for l := Label(0); l < NumLabels; l++ {
		if a.Ref[l] >= s.Index {
			t.Fatalf("label %s refers to packet %d, not earlier than %d", l, a.Ref[l], s.Index)
		}
		_ = a.Explain(l)
	}
}
