package tcpstate_test

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// The scripted captures below use the builder's ISNs: the client's is
// 1000 (its data starts at 1001), the server's 5000 (data at 5001).

// TestFactData: the payload's range starts after the SYN's own number,
// and is empty without payload and on a RST.
func TestFactData(t *testing.T) {
	b := newB()
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Len: 10}) // 1: SYN with 10 bytes of data
	b.Advance(10 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Flags: tcpstate.SYN | tcpstate.ACK}) // 2
	b.Advance(time.Millisecond)
	b.Ack(c2s, nil)                                                          // 3
	b.Send(c2s, 100, nil)                                                    // 4
	b.Send(s2c, 50, nil)                                                     // 5
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.RST | tcpstate.ACK, Len: 20}) // 6: RST with diagnostic text
	r := run(t, b)
	span := func(first uint32, n tcpstate.Size) tcpstate.Range { return tcpstate.Span(tcpstate.Seq(first), n) }
	assert.Equal(t, span(1001, 10), r.an[1].Data, "the SYN takes 1000, its data 1001-1010")
	assert.True(t, r.an[2].Data.Empty())
	assert.True(t, r.an[3].Data.Empty())
	assert.Equal(t, span(1011, 100), r.an[4].Data, "after the SYN (1) and its 10 bytes")
	assert.Equal(t, span(5001, 50), r.an[5].Data)
	assert.True(t, r.an[6].Data.Empty(), "a RST's payload is not stream data")
	assert.Equal(t, uint64(110), r.conn.C2S.UniqueBytes, "10 + 100: the RST's 20 bytes not counted")
	for _, i := range []uint64{1, 4, 5} {
		assert.Zero(t, r.an[i].Resent, "packet %d", i)
	}
}

// TestFactResent: the bytes of a payload sent before, counted against the
// highest byte sent whatever the labels: a retransmission resends all or
// part of its payload, a segment filling a hole the capture saw open
// (out-of-order to Wireshark) all of it.
func TestFactResent(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil) // 1-3: initial RTT 11 ms
	b.Send(c2s, 1000, nil)                                       // 4: 1001-2000
	b.Send(c2s, 1000, nil)                                       // 5: 2001-3000
	b.Advance(300 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: 1501, Len: 1000}) // 6: 1501-2500, all sent before
	b.Packet(c2s, flowtest.Seg{Seq: 2501, Len: 1000}) // 7: 2501-3500, of which 2501-3000 sent before
	b.Lose(c2s, 100)                                  // 3501-3600, not captured
	b.Send(c2s, 100, nil)                             // 8: 3601-3700, beyond a hole
	b.Advance(time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: 3501, Len: 100}) // 9: fills the hole 1 ms later
	b.Packet(c2s, flowtest.Seg{Seq: 3700, Len: 1})   // 10: keep-alive, the last byte again
	r := run(t, b)
	want := map[uint64]tcpstate.Size{4: 0, 5: 0, 6: 1000, 7: 500, 8: 0, 9: 100, 10: 1}
	for i, n := range want {
		assert.Equal(t, n, r.an[i].Resent, "packet %d", i)
	}
	assert.Equal(t, []uint64{6, 7}, r.labelled[tcpstate.Retransmission], "both start below SND.NXT 3001")
	assert.True(t, r.an[6].Labels.Retransmitted())
	assert.True(t, r.an[7].Labels.Retransmitted())
	assert.Equal(t, []uint64{9}, r.labelled[tcpstate.OutOfOrder], "within the initial RTT of packet 8")
	assert.False(t, r.an[9].Labels.Retransmitted(), "out-of-order is not a retransmission to Wireshark")
	assert.Equal(t, []uint64{10}, r.labelled[tcpstate.KeepAlive])
	assert.False(t, r.an[10].Labels.Retransmitted())
	assert.Equal(t, uint64(2), r.conn.C2S.Retransmissions)
}

// TestFactWindow: windows in bytes, scaled once both SYNs agreed on
// scaling, never on a SYN; unscaled (shift 0) when one side did not offer
// it; raw (shift -1) when no SYN was captured. tshark 4.0 shows the same
// tcp.window_size on these captures.
func TestFactWindow(t *testing.T) {
	ws := flowtest.OptWScale(7)
	t.Run("scaled", func(t *testing.T) {
		b := newB()
		b.Handshake(10*time.Millisecond, time.Millisecond, ws, flowtest.OptWScale(2)) // 1-3, windows 65535
		b.SetWindow(s2c, 1000)
		b.Ack(s2c, nil) // 4
		r := run(t, b)
		assert.Equal(t, uint32(65535), r.an[1].Window, "a SYN's window is never scaled")
		assert.Equal(t, int8(0), r.an[1].WindowShift)
		assert.Equal(t, uint32(65535), r.an[2].Window)
		assert.Equal(t, uint32(65535<<7), r.an[3].Window, "the client's shift 7: 8388480 bytes")
		assert.Equal(t, int8(7), r.an[3].WindowShift)
		assert.Equal(t, uint32(1000<<2), r.an[4].Window, "the server's shift 2")
		assert.Equal(t, [2]int8{7, 2}, r.live[2].shift)
		assert.Equal(t, [2]int8{7, -1}, r.live[1].shift, "before the SYN/ACK the server's scale is unknown")
		assert.Equal(t, uint64(65535<<7), r.conn.C2S.MaxWindow)
		assert.Equal(t, uint64(65535), r.conn.S2C.MaxWindow, "its SYN/ACK's 65535 exceeds 1000<<2")
	})
	t.Run("one side", func(t *testing.T) {
		b := newB()
		b.Handshake(10*time.Millisecond, time.Millisecond, ws, nil) // 1-3
		b.SetWindow(s2c, 1000)
		b.Ack(s2c, nil) // 4
		r := run(t, b)
		assert.Equal(t, uint32(65535), r.an[3].Window, "the server sent no window scale: scaling is off")
		assert.Equal(t, int8(0), r.an[3].WindowShift)
		assert.Equal(t, uint32(1000), r.an[4].Window)
		assert.Equal(t, [2]int8{0, 0}, r.live[4].shift)
	})
	t.Run("no handshake", func(t *testing.T) {
		b := newB()
		b.SetWindow(s2c, 1000)
		b.Send(c2s, 100, nil) // 1
		b.Ack(s2c, nil)       // 2
		r := run(t, b)
		assert.Equal(t, uint32(1000), r.an[2].Window, "the raw field")
		assert.Equal(t, int8(-1), r.an[2].WindowShift)
		assert.Equal(t, [2]int8{-1, -1}, r.live[2].shift)
	})
}

// TestFactAckedSizes: an ACK that times a segment names it and gives its
// sizes; an ACK of resent bytes is ambiguous (Karn's rule).
func TestFactAckedSizes(t *testing.T) {
	b := newB()
	ts := flowtest.OptTS
	b.Handshake(10*time.Millisecond, time.Millisecond, ts(1, 0), ts(2, 1)) // 1-3
	b.Send(c2s, 100, ts(3, 2))                                             // 4: TCP header 20 + 12 (timestamps)
	b.Advance(20 * time.Millisecond)
	b.Ack(s2c, ts(4, 3))  // 5
	b.Send(c2s, 300, nil) // 6: no option, a 20-byte header
	b.Advance(30 * time.Millisecond)
	b.Ack(s2c, nil) // 7
	r := run(t, b)
	a := r.an[5]
	assert.Equal(t, uint64(4), a.AckOf)
	assert.Equal(t, 20*time.Millisecond, a.RTT)
	// LINKTYPE_RAW: the frame is the IP packet, 20 + 32 + 100 bytes.
	assert.Equal(t, tcpstate.SegmentSize{Len: 100, HeaderLen: 32, WireLen: 152}, a.Acked)
	assert.False(t, a.Ambiguous)
	assert.Equal(t, uint64(6), r.an[7].AckOf)
	assert.Equal(t, tcpstate.SegmentSize{Len: 300, HeaderLen: 20, WireLen: 340}, r.an[7].Acked)
	assert.Equal(t, 30*time.Millisecond, r.an[7].RTT)
	// The SYN/ACK times the SYN: no payload, a 32-byte header (the
	// timestamps option). tshark 4.0 agrees on every figure here
	// (tcp.analysis.acks_frame, tcp.analysis.ack_rtt, tcp.len,
	// tcp.hdr_len, frame.len).
	assert.Equal(t, tcpstate.SegmentSize{Len: 0, HeaderLen: 32, WireLen: 52}, r.an[2].Acked)
}

// TestFactHandshake: the handshake's times as the pass goes; when the
// SYN was repeated the legs time the latest SYN and the round trip runs
// from the first, an upper bound.
func TestFactHandshake(t *testing.T) {
	b := newB()
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN}) // 1
	b.Advance(time.Second)
	b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Seq: 1000}) // 2: the SYN again after 1 s
	b.Advance(100 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Flags: tcpstate.SYN | tcpstate.ACK}) // 3
	b.Advance(2 * time.Millisecond)
	b.Ack(c2s, nil) // 4
	r := run(t, b)
	h1, h3, h4 := r.live[1].hs, r.live[3].hs, r.live[4].hs
	assert.True(t, h1.HaveSYN)
	assert.False(t, h1.HaveSYNACK)
	_, _, ok := h3.Legs()
	assert.False(t, ok, "no ACK yet")
	assert.True(t, h3.HaveSYNACK)
	require.True(t, h4.Complete())
	assert.Equal(t, 1, h1.SYNs)
	toServer, toClient, ok := h4.Legs()
	assert.True(t, ok)
	assert.Equal(t, 100*time.Millisecond, toServer, "from the repeated SYN")
	assert.Equal(t, 2*time.Millisecond, toClient)
	assert.Equal(t, 2, h4.SYNs)
	assert.True(t, h4.Ambiguous(), "no timestamps to tell which SYN the SYN/ACK answers")
	rtt, _ := h4.RTT()
	assert.Equal(t, 1102*time.Millisecond, rtt, "from the first SYN: the SYN/ACK may answer either (Karn's rule)")
	assert.Equal(t, t0, h4.FirstSYN)
	assert.Equal(t, tcpstate.ClientToServer, h4.Client)
	assert.Equal(t, t0.Add(time.Second), h4.SYN)
	assert.Equal(t, 1102*time.Millisecond, r.conn.RTT.Handshake, "Conn.RTT's handshake round trip runs from the first SYN too")
	assert.Equal(t, 100*time.Millisecond, r.conn.RTT.SynToSynAck, "the raw leg from the latest SYN")
	// The legs model does not trust SYN->SYN/ACK after a repeated SYN;
	// with nothing else to time the server leg it takes the upper bound
	// from the first SYN (1.1 s).
	l := r.live[4].legs
	assert.Equal(t, 1100*time.Millisecond, l.ToServer)
	assert.Equal(t, 2*time.Millisecond, l.ToClient)
	assert.Equal(t, tcpstate.LegHandshake, l.ServerFrom)

	// With timestamps the SYN/ACK's echo names the SYN it answers (RFC
	// 7323): the latest (TSval 2), or the first (TSval 1).
	for _, tc := range []struct {
		ecr            uint32
		toServer, full time.Duration
	}{{2, 100 * time.Millisecond, 102 * time.Millisecond}, {1, 1100 * time.Millisecond, 1102 * time.Millisecond}} {
		b = newB()
		b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Opts: flowtest.OptTS(1, 0)})
		b.Advance(time.Second)
		b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Seq: 1000, Opts: flowtest.OptTS(2, 0)})
		b.Advance(100 * time.Millisecond)
		b.Packet(s2c, flowtest.Seg{Flags: tcpstate.SYN | tcpstate.ACK, Opts: flowtest.OptTS(50, tc.ecr)})
		b.Advance(2 * time.Millisecond)
		b.Ack(c2s, flowtest.OptTS(3, 50))
		r = run(t, b)
		h := r.live[4].hs
		assert.True(t, h.Matched, "echo %d", tc.ecr)
		assert.False(t, h.Ambiguous())
		toServer, _, _ := h.Legs()
		assert.Equal(t, tc.toServer, toServer, "echo %d", tc.ecr)
		rtt, _ := h.RTT()
		assert.Equal(t, tc.full, rtt, "echo %d", tc.ecr)
		assert.Equal(t, tc.toServer, r.live[4].legs.ToServer, "echo %d: the legs trust the matched SYN", tc.ecr)
	}

	b = newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil) // one SYN
	r = run(t, b)
	h := r.live[3].hs
	rtt, ok = h.RTT()
	assert.True(t, ok)
	assert.Equal(t, 11*time.Millisecond, rtt)
	assert.Equal(t, 1, h.SYNs)
}

// TestFactMSS: the receiver's announced MSS, less 12 bytes when both
// SYNs carry timestamps.
func TestFactMSS(t *testing.T) {
	mss, ts := flowtest.OptMSS, flowtest.OptTS
	for _, tc := range []struct {
		name     string
		syn, sa  []byte
		c2s, s2c int
	}{
		{"timestamps", flowtest.Opts(mss(1460), ts(1, 0)), flowtest.Opts(mss(1400), ts(2, 1)), 1400 - 12, 1460 - 12},
		{"no timestamps", mss(1460), flowtest.Opts(mss(1400), ts(2, 1)), 1400, 1460},
		{"one announced", mss(1460), nil, 0, 1460},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newB()
			b.Handshake(10*time.Millisecond, time.Millisecond, tc.syn, tc.sa)
			r := run(t, b)
			assert.Equal(t, [2]int{tc.c2s, tc.s2c}, r.live[3].mss)
		})
	}
}

// TestFactEffectiveMSS: the reference size of a direction's segments is
// the smaller announcement, lowered to the size the sender uses when it
// has more to send (sv_http_aptget's server: announced 1452, sends 1428),
// never raised by offloaded super-segments.
func TestFactEffectiveMSS(t *testing.T) {
	mss, ts := flowtest.OptMSS, flowtest.OptTS
	for _, tc := range []struct {
		name    string
		syn, sa []byte
		sizes   []int // the server's segments, back to back
		want    int
		src     tcpstate.MSSSource
	}{
		// min(1460, 1452) - 12 = 1440; 1428-byte segments with more behind
		{"on the wire", flowtest.Opts(mss(1460), ts(1, 0)), flowtest.Opts(mss(1452), ts(2, 1)), []int{1428, 1428, 1428, 600}, 1428, tcpstate.MSSOnWire},
		// the client's smaller announcement bounds the server's segments
		{"smaller announcement", mss(1360), mss(1460), []int{1360, 1360, 200}, 1360, tcpstate.MSSAnnounced},
		// a lone 400-byte answer says nothing about the MSS
		{"one segment", mss(1460), mss(1460), []int{400}, 1460, tcpstate.MSSAnnounced},
		// 500 < 3/4 of 1460: application writes, not the path
		{"small writes", mss(1460), mss(1460), []int{500, 500, 500}, 1460, tcpstate.MSSAnnounced},
		// segmentation offload: 64 kB "segments" keep the on-wire reference
		{"TSO", mss(1460), mss(1460), []int{65160, 65160, 1000}, 1460, tcpstate.MSSAnnounced},
		{"no announcement", nil, nil, []int{1200, 1200, 300}, 1200, tcpstate.MSSOnWire},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newB()
			b.Handshake(10*time.Millisecond, time.Millisecond, tc.syn, tc.sa)
			b.Send(c2s, 50, nil)
			for _, n := range tc.sizes {
				b.Send(s2c, n, nil)
			}
			r := run(t, b)
			l := r.live[uint64(b.Len())]
			got, src := l.emss[1], l.emssFrom[1]
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.src, src)
		})
	}
}

// TestFactBase: relative sequence numbers start at the ISNs, or mid-stream
// at the first number seen, from a segment or from an ACK of the
// direction.
func TestFactBase(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil)
	r := run(t, b)
	assert.Equal(t, [2]tcpstate.Seq{1000, 5000}, r.live[3].base)
	assert.Equal(t, [2]bool{true, true}, r.live[2].baseOK)

	b = flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:5432"), t0)
	b.Packet(s2c, flowtest.Seg{Seq: 7000, Ack: 3000, Len: 10}) // 1: mid-stream, the server first
	b.Packet(c2s, flowtest.Seg{Seq: 3100, Ack: 7010, Len: 10}) // 2
	r = run(t, b)
	assert.Equal(t, [2]tcpstate.Seq{3000, 7000}, r.live[1].base, "the client's base from the server's ACK")
	assert.Equal(t, [2]tcpstate.Seq{3000, 7000}, r.live[2].base)
}

// TestFactInFlight: bytes in flight between segments, SACK-aware, as the
// Analysis gives them after data.
func TestFactInFlight(t *testing.T) {
	b := newB()
	b.Handshake(50*time.Millisecond, time.Millisecond, nil, nil) // 1-3
	for range 3 {
		b.Send(c2s, 1000, nil) // 4-6: 1001-4000
	}
	b.Advance(50 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Ack: 2001})                                                // 7: ACKs 1001-2000
	b.Packet(s2c, flowtest.Seg{Ack: 2001, Opts: flowtest.OptSACK([2]uint32{3001, 4001})}) // 8: holds 3001-4000
	r := run(t, b)
	for i, n := range map[uint64]uint32{4: 1000, 5: 2000, 6: 3000} {
		assert.Equal(t, n, r.an[i].InFlight, "packet %d", i)
		assert.Equal(t, n, r.live[i].inFlight[c2s], "packet %d", i)
	}
	assert.Equal(t, uint32(2000), r.live[7].inFlight[c2s], "4001 - 2001")
	assert.Equal(t, uint32(1000), r.live[8].inFlight[c2s], "less the 1000 SACKed")
	assert.Equal(t, [2]bool{true, true}, r.live[8].inFlightOK)
	assert.Zero(t, r.live[8].inFlight[s2c], "the server sent only its SYN/ACK, acknowledged")
}

// TestNamesRoundTrip: the enums tcpstate writes by name in JSON read back.
func TestNamesRoundTrip(t *testing.T) {
	type all struct {
		V tcpstate.Vantage
		S tcpstate.State
		E tcpstate.Ending
		L tcpstate.LegSource
		M tcpstate.MSSSource
		I tcpstate.Issue
	}
	in := all{tcpstate.VantageMiddle, tcpstate.StateReset, tcpstate.EndingRefused, tcpstate.LegTimestamps, tcpstate.MSSOnWire, tcpstate.IssueDuplicates}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"V":"middle","S":"reset","E":"refused","L":"timestamps","M":"on_wire","I":"duplicates"}`, string(b))
	var out all
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
	assert.Error(t, json.Unmarshal([]byte(`{"V":"nowhere"}`), &out))
}
