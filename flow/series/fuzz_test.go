package series_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/tcpstate"
)

// FuzzCollector feeds a Collector segments decoded from arbitrary bytes
// (times that may go back, any sequence and ACK numbers, flags, windows,
// SACK blocks) and checks its invariants: the bins add up to the bytes
// fed, every series is on one bounded grid, points hold sane ranges, and
// the derived RTT samples, minimums and turns never panic or go negative.
func FuzzCollector(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 100, 0, 0, 0})
	f.Add([]byte("\xff\xff\xff\xf0\x01\x00\x00\x00\x05\x00\x00\x00\x01\x12\x05\xdc\x00\x10\x01"))
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	{
		c := &flow.Conn{ID: 1, Client: client, Server: server}
		col := series.NewCollector(series.Config{Conns: []int{1}, Width: time.Millisecond, MaxBins: 64, MaxPoints: 32})
		var fed [2]uint64
		now := t0
		const rec = 18
		for len(data) >= rec {
			r := data[:rec]
			data = data[rec:]
			now = now.Add(time.Duration(int16(binary.BigEndian.Uint16(r[0:]))) * time.Millisecond)
			d := tcpstate.Dir(r[2] & 1)
			seg := &tcpstate.Segment{
				Seq:    tcpstate.Seq(binary.BigEndian.Uint32(r[3:])),
				Ack:    tcpstate.Seq(binary.BigEndian.Uint32(r[7:])),
				Flags:  tcpstate.Flags(r[11]),
				Len:    int(binary.BigEndian.Uint16(r[12:])),
				Window: binary.BigEndian.Uint16(r[14:]),
			}
			if r[16]&1 != 0 {
				seg.Opts.HasWScale, seg.Opts.WScale = true, r[17]
			}
			if n := int(r[16]>>1) % 5; n > 0 {
				seg.Opts.NSACK = n
				for i := range n {
					seg.Opts.SACK[i] = tcpstate.SACKBlock{Left: seg.Ack + tcpstate.Seq(i*100), Right: seg.Ack + tcpstate.Seq(i*100+50)}
				}
			}
			wire := 54 + seg.Len
			fed[d] += uint64(wire)
			var p *flow.PacketInfo
			if r[2]&2 != 0 {
				p = packet(nil, now.Sub(t0), wire, 0, nil)
				if d == tcpstate.ServerToClient {
					p.Src, p.Dst = p.Dst, p.Src
				}
			} else {
				p = packet(c, now.Sub(t0), wire, d, seg)
			}
			col.Packet(p)
		}
		r := col.Result()
		require.Equal(t, fed[0]+fed[1], r.Link[0].TotalBytes()+r.Link[1].TotalBytes())
		n := r.Link[0].Len()
		require.LessOrEqual(t, n, 64)
		for d := range 2 {
			require.Equal(t, n, r.Link[d].Len())
			require.Len(t, r.MinRTT[d], n)
		}
		if cs := r.Conn(1); cs != nil {
			require.LessOrEqual(t, len(cs.Points), 32)
			require.Equal(t, uint64(len(cs.Points))+cs.Dropped, cs.Packets[0]+cs.Packets[1])
			for d := range 2 {
				require.Equal(t, cs.WireBytes[d], cs.Bins[d].TotalBytes())
			}
			for _, p := range cs.Points {
				require.LessOrEqual(t, p.Seq, p.End)
				require.GreaterOrEqual(t, p.Window, int64(0))
			}
			m, err := series.MinPerInterval(series.SamplesOf(cs.Points), r.Start, time.Second)
			require.NoError(t, err)
			require.LessOrEqual(t, len(m.Min), series.MaxIntervals)
			for _, tn := range series.SplitTurns(cs.Points) {
				require.Positive(t, tn.RequestBytes)
			}
		}
	}
}
