package tcpstate_test

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

const (
	c2s = tcpstate.ClientToServer
	s2c = tcpstate.ServerToClient
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newB() *flowtest.Builder {
	return flowtest.NewBuilder(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:5432"), t0)
}

// result is a scripted capture run through flow.
type result struct {
	conn     *flow.Conn
	an       map[uint64]tcpstate.Analysis // by packet index, labelled or sampled packets
	labelled map[tcpstate.Label][]uint64
	live     map[uint64]live // by packet index: the live queries after it
}

// live holds what the live queries on the connection (flow's
// PacketInfo.TCP) answered right after one packet.
type live struct {
	hs         tcpstate.Handshake
	legs       tcpstate.Legs
	ending     tcpstate.Ending
	inFlight   [2]uint32
	inFlightOK [2]bool
	shift      [2]int8
	mss        [2]int
	emss       [2]int
	emssFrom   [2]tcpstate.MSSSource
	base       [2]tcpstate.Seq
	baseOK     [2]bool
}

// run analyses the builder's capture. With NETECOLOGY_TSHARK=1 and tshark
// installed it also checks every label against tshark's on the same bytes.
func run(t *testing.T, b *flowtest.Builder) *result {
	t.Helper()
	r := &result{an: map[uint64]tcpstate.Analysis{}, labelled: map[tcpstate.Label][]uint64{}, live: map[uint64]live{}}
	data := b.Bytes()
	res, err := flow.Analyze(bytes.NewReader(data), flow.Config{KeepConns: true, Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		if p.Analysis == nil {
			return
		}
		r.an[p.Index] = *p.Analysis
		var l live
		l.hs = p.TCP.Handshake()
		l.legs = p.TCP.Legs()
		l.ending = p.TCP.Ending()
		for d := range 2 {
			l.inFlight[d], l.inFlightOK[d] = p.TCP.InFlight(tcpstate.Dir(d))
			l.shift[d] = p.TCP.WindowShift(tcpstate.Dir(d))
			l.mss[d] = p.TCP.MSS(tcpstate.Dir(d))
			l.emss[d], l.emssFrom[d] = p.TCP.EffectiveMSS(tcpstate.Dir(d))
			l.base[d], l.baseOK[d] = p.TCP.Base(tcpstate.Dir(d))
		}
		r.live[p.Index] = l
		for l := tcpstate.Label(0); l < tcpstate.NumLabels; l++ {
			if p.Analysis.Labels.Has(l) {
				r.labelled[l] = append(r.labelled[l], p.Index)
			}
		}
	})}})
	require.NoError(t, err)
	require.Len(t, res.Conns, 1)
	r.conn = res.Conns[0]
	if os.Getenv("NETECOLOGY_TSHARK") == "1" {
		crossCheck(t, data, r)
	}
	return r
}

// crossCheck compares our labels with tshark's, packet by packet.
func crossCheck(t *testing.T, data []byte, r *result) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: no cross-check")
		return
	}
	f := filepath.Join(t.TempDir(), "s.pcap")
	require.NoError(t, os.WriteFile(f, data, 0o644))
	args := []string{"-n", "-r", f, "-T", "fields", "-e", "frame.number"}
	for l := tcpstate.Label(0); l < tcpstate.NumLabels; l++ {
		args = append(args, "-e", "tcp.analysis."+l.String())
	}
	out, err := exec.Command("tshark", args...).Output()
	require.NoError(t, err)
	theirs := map[tcpstate.Label][]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		v := strings.Split(line, "\t")
		n, _ := strconv.ParseUint(v[0], 10, 64)
		for i, x := range v[1:] {
			if x != "" {
				theirs[tcpstate.Label(i)] = append(theirs[tcpstate.Label(i)], n)
			}
		}
	}
	ours := map[tcpstate.Label][]uint64{}
	for l, v := range r.labelled {
		ours[l] = v
	}
	// tshark puts tcp.analysis.retransmission on fast and spurious ones too.
	for _, l := range []tcpstate.Label{tcpstate.FastRetransmission, tcpstate.SpuriousRetransmission} {
		ours[tcpstate.Retransmission] = append(ours[tcpstate.Retransmission], ours[l]...)
	}
	for l := tcpstate.Label(0); l < tcpstate.NumLabels; l++ {
		assert.ElementsMatch(t, theirs[l], ours[l], "tshark vs ours on %s", l)
	}
}

func hsOpts() ([]byte, []byte) {
	syn := flowtest.Opts(flowtest.OptMSS(1460), flowtest.OptSACKPerm(), flowtest.OptWScale(7))
	return syn, syn
}

func TestLabelRetransmissionTimeout(t *testing.T) {
	b := newB()
	so, sa := hsOpts()
	b.Handshake(100*time.Millisecond, time.Millisecond, so, sa) // packets 1-3
	b.Advance(10 * time.Millisecond)
	seq := b.Send(c2s, 100, nil) // 4
	b.Advance(400 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: seq, Len: 100}) // 5: resent after a silence longer than SRTT + 200 ms
	b.Advance(100 * time.Millisecond)
	b.Ack(s2c, nil) // 6
	r := run(t, b)
	assert.Equal(t, []uint64{5}, r.labelled[tcpstate.Retransmission])
	a := r.an[5]
	assert.Equal(t, uint64(4), a.Ref[tcpstate.Retransmission], "refers to the original")
	assert.Equal(t, tcpstate.CauseTimeout, a.Cause)
	assert.Equal(t, "does not advance the sequence: retransmission of bytes first sent in packet 4 (cause: timeout)", a.Explain(tcpstate.Retransmission))
	assert.Equal(t, uint64(1), r.conn.C2S.Retransmissions)
	assert.Equal(t, uint64(1), r.conn.C2S.RetransTimeout)
	// Karn's rule: the ACK of retransmitted data gives no sample; the
	// direction's only sample is the SYN's.
	assert.Zero(t, r.an[6].RTT)
	assert.Zero(t, r.an[6].AckOf)
	assert.True(t, r.an[6].Ambiguous, "it matches packet 5's end, but packet 4 sent the same bytes")
	assert.Equal(t, uint64(1), r.conn.RTT.C2S.Data.Samples)
	assert.Equal(t, 100*time.Millisecond, r.conn.RTT.C2S.Data.Max)
}

func TestLabelLostAndOutOfOrder(t *testing.T) {
	b := newB()
	so, sa := hsOpts()
	b.Handshake(20*time.Millisecond, time.Millisecond, so, sa)
	b.Advance(5 * time.Millisecond)
	seq := b.Nxt(c2s)
	b.Lose(c2s, 100)      // the first segment arrives late at the capture point
	b.Send(c2s, 100, nil) // 4: previous segment not captured
	b.Advance(time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: seq, Len: 100}) // 5: within the initial RTT
	r := run(t, b)
	assert.Equal(t, []uint64{4}, r.labelled[tcpstate.LostSegment])
	assert.Equal(t, []uint64{5}, r.labelled[tcpstate.OutOfOrder])
	assert.Equal(t, uint64(4), r.an[5].Ref[tcpstate.OutOfOrder])
	assert.Empty(t, r.labelled[tcpstate.Retransmission])
	assert.Equal(t, uint64(1), r.conn.C2S.OutOfOrder)
	assert.Equal(t, uint64(1), r.conn.C2S.LostSegments)
	assert.Empty(t, r.conn.Quality, "the hole was filled: no capture loss")
}

func TestLabelFastRetransmissionAndDupAcks(t *testing.T) {
	b := newB()
	so, sa := hsOpts()
	b.Handshake(50*time.Millisecond, time.Millisecond, so, sa) // 1-3
	var seqs []uint32
	for range 4 {
		seqs = append(seqs, b.Send(c2s, 1000, nil)) // 4-7
	}
	b.Advance(50 * time.Millisecond)
	lost := seqs[1]
	b.Packet(s2c, flowtest.Seg{Ack: lost}) // 8: ACKs the first only
	for i := range 3 {                     // 9-11: three duplicates with SACK
		b.Advance(time.Millisecond)
		b.Packet(s2c, flowtest.Seg{Ack: lost, Opts: flowtest.OptSACK([2]uint32{seqs[2], seqs[2] + uint32(1000*(i/2+1))})})
	}
	b.Advance(time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: lost, Len: 1000}) // 12: fast retransmission
	r := run(t, b)
	assert.Equal(t, []uint64{9, 10, 11}, r.labelled[tcpstate.DupAck])
	assert.Equal(t, uint32(3), r.an[11].DupAckNum)
	assert.Equal(t, uint64(8), r.an[9].Ref[tcpstate.DupAck], "duplicates of packet 8")
	assert.Equal(t, []uint64{12}, r.labelled[tcpstate.FastRetransmission])
	assert.Equal(t, tcpstate.CauseFast, r.an[12].Cause)
	assert.Equal(t, uint64(3), r.conn.S2C.DupAcks)
	assert.Equal(t, uint64(1), r.conn.C2S.FastRetransmissions)
	assert.Equal(t, uint64(1), r.conn.C2S.Retransmissions, "fast retransmissions are retransmissions, as in tshark")
	// Bytes in flight after packet 12: 4000 sent, 1000 acked, 2000 SACKed.
	assert.Equal(t, uint32(1000), r.an[12].InFlight)
	assert.Equal(t, uint32(4000), r.conn.C2S.MaxInFlight)
}

func TestLabelSpuriousRetransmissionDSACK(t *testing.T) {
	b := newB()
	so, sa := hsOpts()
	b.Handshake(50*time.Millisecond, time.Millisecond, so, sa) // 1-3
	seq := b.Send(c2s, 500, nil)                               // 4
	b.Advance(50 * time.Millisecond)
	b.Ack(s2c, nil) // 5
	b.Advance(time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: seq, Len: 500}) // 6: already acknowledged
	b.Advance(50 * time.Millisecond)
	b.Ack(s2c, flowtest.OptSACK([2]uint32{seq, seq + 500})) // 7: D-SACK
	r := run(t, b)
	assert.Equal(t, []uint64{6}, r.labelled[tcpstate.SpuriousRetransmission])
	assert.Equal(t, uint64(5), r.an[6].Ref[tcpstate.SpuriousRetransmission])
	assert.Equal(t, uint64(1), r.conn.C2S.SpuriousRetransmissions)
	assert.Equal(t, uint64(1), r.conn.C2S.Retransmissions)
	assert.Equal(t, uint64(1), r.conn.C2S.SpuriousDSACK)
	assert.Equal(t, uint64(6), r.an[7].Unneeded)
	ev := r.an[7]
	assert.Equal(t, "D-SACK: the retransmission in packet 6 was unneeded (the bytes arrived twice)", ev.ExplainEvidence())
	// Packet 5 acknowledged packet 4 exactly: a 50 ms sample.
	assert.Equal(t, uint64(4), r.an[5].AckOf)
	assert.Equal(t, 50*time.Millisecond, r.an[5].RTT)
}

func TestSpuriousByTimestamps(t *testing.T) {
	b := newB()
	ts := flowtest.OptTS
	so := flowtest.Opts(flowtest.OptMSS(1460), ts(100, 0))
	sa := flowtest.Opts(flowtest.OptMSS(1460), ts(900, 100))
	b.Handshake(50*time.Millisecond, time.Millisecond, so, sa) // 1-3
	seq := b.Send(c2s, 500, ts(151, 900))                      // 4
	b.Advance(400 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: seq, Len: 500, Opts: ts(551, 900)}) // 5: timeout retransmission
	b.Advance(time.Millisecond)
	b.Ack(s2c, ts(1000, 151)) // 6: echoes the original's TSval: it had arrived
	r := run(t, b)
	assert.Equal(t, []uint64{5}, r.labelled[tcpstate.Retransmission])
	assert.Equal(t, uint64(1), r.conn.C2S.SpuriousTS)
	assert.Equal(t, tcpstate.EvidenceTS, r.an[6].Evidence)
	assert.Equal(t, uint64(5), r.an[6].Unneeded)
	assert.Equal(t, 401*time.Millisecond, r.an[6].TSRTT, "echo of TSval 151 sent in packet 4")
}

func TestLabelZeroWindowProbeAndUpdate(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 100, nil)                                        // 4
	b.Advance(10 * time.Millisecond)
	b.SetWindow(s2c, 0)
	b.Ack(s2c, nil) // 5: zero window
	probe := b.Nxt(c2s)
	ack := b.Nxt(s2c)
	b.Advance(200 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Len: 1}) // 6: zero-window probe
	b.Advance(10 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Ack: probe}) // 7: repeats the ACK and zero window
	b.Advance(100 * time.Millisecond)
	b.SetWindow(s2c, 8000)
	b.Packet(s2c, flowtest.Seg{Ack: probe, Seq: ack}) // 8: window update
	b.Packet(c2s, flowtest.Seg{Seq: probe, Len: 100}) // 9: data resumes at the probe's byte
	r := run(t, b)
	assert.Equal(t, []uint64{5, 7}, r.labelled[tcpstate.ZeroWindow])
	assert.Equal(t, []uint64{6}, r.labelled[tcpstate.ZeroWindowProbe])
	assert.Equal(t, uint64(5), r.an[6].Ref[tcpstate.ZeroWindowProbe])
	assert.Equal(t, []uint64{7}, r.labelled[tcpstate.ZeroWindowProbeAck])
	assert.Equal(t, []uint64{8}, r.labelled[tcpstate.WindowUpdate])
	assert.Empty(t, r.labelled[tcpstate.Retransmission], "the probe does not advance SND.NXT")
	s := r.conn
	assert.Equal(t, uint64(2), s.S2C.ZeroWindows)
	assert.Equal(t, uint64(1), s.C2S.ZeroWindowProbes)
	assert.Equal(t, uint64(1), s.S2C.ZeroWindowProbeAcks)
	assert.Equal(t, uint64(1), s.S2C.WindowUpdates)
}

func TestLabelWindowFull(t *testing.T) {
	b := newB()
	b.SetWindow(s2c, 1000)
	// wscale 2 both ways: the server's window of 1000 means 4000 bytes.
	o := flowtest.OptWScale(2)
	b.Handshake(10*time.Millisecond, time.Millisecond, o, o) // 1-3
	b.Ack(s2c, nil)                                          // 4: window 1000<<2
	b.Send(c2s, 3000, nil)                                   // 5
	b.Send(c2s, 1000, nil)                                   // 6: reaches the right edge
	r := run(t, b)
	assert.Equal(t, []uint64{6}, r.labelled[tcpstate.WindowFull])
	assert.Equal(t, uint64(4), r.an[6].Ref[tcpstate.WindowFull])
	assert.Equal(t, uint64(4000), r.conn.S2C.MaxWindow)
	assert.Equal(t, uint64(1), r.conn.C2S.WindowFull)
}

func TestLabelKeepAlive(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 10, nil)                                         // 4
	b.Ack(s2c, nil)                                              // 5
	b.Advance(time.Minute)
	b.Packet(c2s, flowtest.Seg{Seq: b.Nxt(c2s) - 1}) // 6: keep-alive
	b.Advance(10 * time.Millisecond)
	b.Ack(s2c, nil) // 7: its ACK
	r := run(t, b)
	assert.Equal(t, []uint64{6}, r.labelled[tcpstate.KeepAlive])
	assert.Equal(t, []uint64{7}, r.labelled[tcpstate.KeepAliveAck])
	assert.Empty(t, r.labelled[tcpstate.DupAck], "a keep-alive's ACK is not a duplicate ACK")
	assert.Equal(t, uint64(1), r.conn.C2S.KeepAlives)
	assert.Equal(t, uint64(1), r.conn.S2C.KeepAliveAcks)
}

func TestLabelAckedUnseen(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 100, nil)                                        // 4
	b.Lose(c2s, 100)                                             // never captured
	b.Advance(10 * time.Millisecond)
	b.Ack(s2c, nil) // 5: acknowledges it
	r := run(t, b)
	assert.Equal(t, []uint64{5}, r.labelled[tcpstate.AckedUnseen])
	assert.Equal(t, uint64(1), r.conn.S2C.AckedUnseen)
	require.NotEmpty(t, r.conn.Quality)
	assert.Equal(t, tcpstate.IssueCaptureLoss, r.conn.Quality[0].Issue)
	assert.Equal(t, uint64(1), r.conn.Quality[0].Count)
}

// TestSequenceWrap runs a transfer across the 2^32 wrap of both sides'
// sequence numbers: no label, exact byte counts and one RTT sample per
// segment; a retransmission across the wrap is still one.
func TestSequenceWrap(t *testing.T) {
	b := newB()
	b.SetISN(c2s, 0xffffff00)
	b.SetISN(s2c, 0xfffffff0)
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil)
	for range 10 {
		b.Send(c2s, 100, nil)
		b.Advance(time.Millisecond)
		b.Send(s2c, 10, nil) // the server's data ACKs the client's
		b.Advance(5 * time.Millisecond)
		b.Ack(c2s, nil)
	}
	wrapSeq := uint32(0xffffffc0)
	b.Advance(300 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: wrapSeq, Len: 200}) // spans the wrap; long acknowledged
	r := run(t, b)
	assert.Equal(t, uint64(1000), r.conn.C2S.UniqueBytes)
	assert.Equal(t, uint64(100), r.conn.S2C.UniqueBytes)
	assert.Equal(t, []uint64{34}, r.labelled[tcpstate.SpuriousRetransmission])
	for l := tcpstate.Label(0); l < tcpstate.NumLabels; l++ {
		if l != tcpstate.SpuriousRetransmission {
			assert.Empty(t, r.labelled[l], "%s", l)
		}
	}
	assert.Equal(t, uint64(11), r.conn.RTT.C2S.Data.Samples, "10 segments and the SYN")
	assert.Equal(t, uint64(11), r.conn.RTT.S2C.Data.Samples)
}

func TestRTTAndVantage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		leg1, leg2 time.Duration
		want       tcpstate.Vantage
	}{
		{"client", 100 * time.Millisecond, time.Millisecond, tcpstate.VantageClient},
		{"server", time.Millisecond, 100 * time.Millisecond, tcpstate.VantageServer},
		{"middle", 50 * time.Millisecond, 50 * time.Millisecond, tcpstate.VantageMiddle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newB()
			b.Handshake(tc.leg1, tc.leg2, nil, nil)
			for i := range 20 {
				b.Send(c2s, 50, nil)
				b.Advance(tc.leg1 + time.Duration(i)*time.Millisecond)
				b.Send(s2c, 400, nil)
				b.Advance(tc.leg2)
				b.Ack(c2s, nil)
			}
			r := run(t, b)
			rt := r.conn.RTT
			assert.Equal(t, tc.want, r.conn.Vantage)
			// The legs: the handshake's split is the smallest sample of
			// each (the requests' samples are leg1 + 0..19 ms, the
			// answers' leg2).
			l := r.live[uint64(b.Len())].legs
			assert.Equal(t, tc.leg1, l.ToServer)
			assert.Equal(t, tc.leg2, l.ToClient)
			assert.Equal(t, tcpstate.LegHandshake, l.ServerFrom)
			assert.Equal(t, tc.want, l.Vantage)
			assert.Equal(t, tc.leg1+tc.leg2, rt.Handshake)
			assert.Equal(t, tc.leg1, rt.SynToSynAck)
			assert.Equal(t, uint64(21), rt.C2S.Data.Samples, "20 requests and the SYN")
			assert.Equal(t, tc.leg1, rt.C2S.Data.Min)
			assert.Equal(t, tc.leg1+19*time.Millisecond, rt.C2S.Data.Max)
			// Nearest-rank median of leg1 + 0..19 ms is leg1 + 9 ms.
			assert.Equal(t, tc.leg1+9*time.Millisecond, rt.C2S.Data.Median)
			assert.Equal(t, tc.leg1+18*time.Millisecond, rt.C2S.Data.P95)
			assert.Equal(t, tc.leg2, rt.S2C.Data.Median)
			// The connection's round trip adds the other leg to the far
			// direction's samples.
			far, other := rt.C2S.Data, tc.leg2
			if tc.leg2 > tc.leg1 {
				far, other = rt.S2C.Data, tc.leg1
			}
			assert.Equal(t, far.Median+other, rt.Median)
		})
	}
}

// TestLegsWithoutHandshake: picked up mid-stream, the legs come from the
// data->ACK samples of each direction: 30 ms to the server and back, 70 ms
// to the client and back, the capture in the middle.
func TestLegsWithoutHandshake(t *testing.T) {
	b := newB()
	b.SetISN(c2s, 1000)
	b.SetISN(s2c, 5000)
	// No SYN: the ACK numbers are given (the builder ACKs only after one).
	send := func(d tcpstate.Dir, n int) {
		b.Packet(d, flowtest.Seg{Len: n, Ack: b.Nxt(d.Reverse()), SetAck: true, Flags: tcpstate.ACK | tcpstate.PSH})
	}
	for range 5 {
		send(c2s, 50)
		b.Advance(30 * time.Millisecond)
		send(s2c, 400) // acknowledges the request 30 ms after it passed
		b.Advance(70 * time.Millisecond)
		b.Packet(c2s, flowtest.Seg{Ack: b.Nxt(s2c), SetAck: true}) // acknowledges the answer 70 ms after it passed
		b.Advance(5 * time.Millisecond)
	}
	r := run(t, b)
	l := r.live[uint64(b.Len())].legs
	assert.Equal(t, 30*time.Millisecond, l.ToServer)
	assert.Equal(t, 70*time.Millisecond, l.ToClient)
	assert.Equal(t, tcpstate.LegData, l.ServerFrom)
	assert.Equal(t, tcpstate.LegData, l.ClientFrom)
	assert.Equal(t, 100*time.Millisecond, l.RTT())
	assert.Equal(t, tcpstate.VantageMiddle, l.Vantage)
	assert.Equal(t, tcpstate.VantageMiddle, r.conn.Vantage)
}

func TestQualityFlags(t *testing.T) {
	b := newB()
	b.Snaplen = 60
	b.Handshake(10*time.Millisecond, time.Millisecond, flowtest.Opts(flowtest.OptMSS(536), flowtest.OptWScale(15)), flowtest.Opts(flowtest.OptMSS(536), flowtest.OptWScale(15)))
	b.Send(c2s, 2000, nil) // larger than the MSS: TSO on the capture host
	b.Advance(-5 * time.Millisecond)
	b.Ack(s2c, []byte{8, 40}) // time backwards; a timestamps option whose length overruns
	r := run(t, b)
	var got []tcpstate.Issue
	for _, q := range r.conn.Quality {
		got = append(got, q.Issue)
		assert.NotEmpty(t, q.Affects)
	}
	assert.Equal(t, []tcpstate.Issue{tcpstate.IssueSnaplen, tcpstate.IssueOversize, tcpstate.IssueTimeBackwards,
		tcpstate.IssueBadOptions, tcpstate.IssueWScale}, got)
	assert.Equal(t, int8(14), clampedShift(r))
}

// clampedShift reads the shift the analysis used from the window figure:
// the server advertised 65535 with a clamped scale of 14.
func clampedShift(r *result) int8 {
	for s := int8(0); s < 20; s++ {
		if r.conn.S2C.MaxWindow == 65535<<uint(s) {
			return s
		}
	}
	return -1
}

func TestOneSided(t *testing.T) {
	b := newB()
	b.Send(c2s, 100, nil)
	b.Send(c2s, 100, nil)
	r := run(t, b)
	require.Len(t, r.conn.Quality, 2)
	assert.Equal(t, tcpstate.IssueOneSided, r.conn.Quality[0].Issue)
	assert.Equal(t, tcpstate.IssueNoHandshake, r.conn.Quality[1].Issue)
	assert.Equal(t, tcpstate.VantageUnknown, r.conn.Vantage)
	assert.Zero(t, r.conn.RTT.Samples)
}

func TestSeqJump(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, nil, nil)        // 1-3
	b.Send(c2s, 100, nil)                                               // 4
	b.Packet(c2s, flowtest.Seg{Seq: b.Nxt(c2s) + 0x70000000, Len: 100}) // 5: impossible jump
	r := run(t, b)
	assert.Equal(t, tcpstate.AnomalySeqJump, r.an[5].Anomaly)
	assert.Equal(t, []uint64{5}, r.labelled[tcpstate.LostSegment], "labelled as tshark does")
	var issues []tcpstate.Issue
	for _, q := range r.conn.Quality {
		issues = append(issues, q.Issue)
	}
	assert.Contains(t, issues, tcpstate.IssueSeqJump)
}

func TestIPv6DupAck(t *testing.T) {
	b := flowtest.NewBuilder(netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443"), t0)
	b.Handshake(30*time.Millisecond, time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 1000, nil)                                       // 4
	b.Lose(c2s, 1000)
	b.Send(c2s, 1000, nil) // 5: previous segment not captured
	b.Advance(30 * time.Millisecond)
	una := b.Nxt(c2s) - 2000
	b.Packet(s2c, flowtest.Seg{Ack: una}) // 6
	b.Packet(s2c, flowtest.Seg{Ack: una}) // 7: duplicate
	r := run(t, b)
	assert.Equal(t, "[2001:db8::1]:40000", r.conn.Client.String())
	assert.Equal(t, []uint64{5}, r.labelled[tcpstate.LostSegment])
	assert.Equal(t, []uint64{7}, r.labelled[tcpstate.DupAck])
	assert.Equal(t, uint64(6), r.an[7].Ref[tcpstate.DupAck])
}

// TestCauseTLP: the last of several outstanding segments sent again after
// about two round trips, before any retransmission timeout (at least SRTT
// + 200 ms) could expire, is a tail-loss probe (RFC 8985).
func TestCauseTLP(t *testing.T) {
	b := newB()
	b.Handshake(50*time.Millisecond, time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 1000, nil)                                       // 4
	last := b.Send(c2s, 1000, nil)                               // 5
	b.Advance(110 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Seq: last, Len: 1000}) // 6: the tail again
	r := run(t, b)
	assert.Equal(t, []uint64{6}, r.labelled[tcpstate.Retransmission])
	assert.Equal(t, tcpstate.CauseTLP, r.an[6].Cause)
	assert.Equal(t, uint64(5), r.an[6].Ref[tcpstate.Retransmission])
	assert.Equal(t, uint64(1), r.conn.C2S.RetransTLP)
}

// TestCauseRTOBackoff: captured at the server, the client's SACK asks for
// the first segment again (a fast retransmit); that copy is lost too, and
// the server resends it with doubling gaps, hearing nothing, then gives up
// with a RST. The client's SACK is older than each later resend, so they
// are timeouts, not fast retransmits, though the last ACK carried SACK.
func TestCauseRTOBackoff(t *testing.T) {
	b := newB()
	b.Handshake(time.Millisecond, 70*time.Millisecond, nil, flowtest.OptSACKPerm()) // 1-3
	b.Send(c2s, 100, nil)                                                           // 4: request
	b.Advance(time.Millisecond)
	first := b.Send(s2c, 1000, nil) // 5: lost after the capture point
	b.Send(s2c, 1000, nil)          // 6
	b.Advance(72 * time.Millisecond)
	end := b.Nxt(s2c)
	// 7: the client holds segment 6 only
	b.Packet(c2s, flowtest.Seg{Ack: first, SetAck: true, Opts: flowtest.OptSACK([2]uint32{first + 1000, end})})
	b.Advance(time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: first, SetSeq: true, Len: 1000}) // 8: fast retransmit
	for _, gap := range []time.Duration{360, 520, 830, 1460, 2900, 5800} {
		b.Advance(gap * time.Millisecond)
		b.Packet(s2c, flowtest.Seg{Seq: first, SetSeq: true, Len: 1000}) // 9..14: backoff
	}
	b.Advance(15560 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: end, SetSeq: true, Flags: tcpstate.RST | tcpstate.ACK}) // 15
	r := run(t, b)
	assert.Equal(t, tcpstate.CauseFast, r.an[8].Cause, "the SACK came after the server's last send")
	for i := uint64(9); i <= 14; i++ {
		assert.Equal(t, tcpstate.CauseTimeout, r.an[i].Cause, "resend %d", i)
	}
	assert.Equal(t, uint64(6), r.conn.S2C.RetransTimeout)
	assert.Equal(t, uint64(1), r.conn.S2C.RetransFast)
}

// TestNoSampleFromSackedData: a segment the receiver reported in a SACK
// block is not timed by the cumulative ACK that later reaches it: that ACK
// times the hole's repair (here the capture missed the first segment and
// the receiver waited 200 ms for it).
func TestNoSampleFromSackedData(t *testing.T) {
	b := newB()
	b.Handshake(10*time.Millisecond, time.Millisecond, flowtest.OptSACKPerm(), flowtest.OptSACKPerm()) // 1-3
	hole := b.Nxt(c2s)
	b.Lose(c2s, 100)
	b.Send(c2s, 100, nil) // 4
	b.Send(c2s, 100, nil) // 5
	b.Advance(10 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Ack: hole, SetAck: true, Opts: flowtest.OptSACK([2]uint32{hole + 100, b.Nxt(c2s)})}) // 6
	b.Advance(200 * time.Millisecond)
	b.Ack(s2c, nil) // 7: the cumulative ACK, once the first segment arrived
	r := run(t, b)
	assert.Equal(t, uint64(5), r.an[7].AckOf, "the ACK ends at segment 5")
	assert.Zero(t, r.an[7].RTT, "which the receiver held for 200 ms")
	assert.False(t, r.an[7].Ambiguous, "no byte was sent twice")
}

// TestEnding: who refused or reset a connection, as Zeek's conn_state
// tells REJ, RSTO, RSTR, S0 and SF apart.
func TestEnding(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(b *flowtest.Builder)
		want   tcpstate.Ending
	}{
		{"refused", func(b *flowtest.Builder) {
			b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN})
			b.Advance(1300 * time.Microsecond)
			b.Packet(s2c, flowtest.Seg{Flags: tcpstate.RST | tcpstate.ACK, Seq: 0, SetSeq: true})
		}, tcpstate.EndingRefused},
		{"unanswered", func(b *flowtest.Builder) {
			b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN})
			b.Advance(time.Second)
			b.Packet(c2s, flowtest.Seg{Flags: tcpstate.SYN, Seq: 1000, SetSeq: true})
		}, tcpstate.EndingUnanswered},
		{"reset by the server", func(b *flowtest.Builder) {
			b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
			b.Send(c2s, 10, nil)
			b.Packet(s2c, flowtest.Seg{Flags: tcpstate.RST | tcpstate.ACK})
		}, tcpstate.EndingResetByServer},
		{"reset by the client", func(b *flowtest.Builder) {
			b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
			b.Send(s2c, 10, nil)
			b.Packet(c2s, flowtest.Seg{Flags: tcpstate.RST | tcpstate.ACK})
		}, tcpstate.EndingResetByClient},
		{"closed", func(b *flowtest.Builder) {
			b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
			b.Packet(c2s, flowtest.Seg{Flags: tcpstate.FIN | tcpstate.ACK})
			b.Packet(s2c, flowtest.Seg{Flags: tcpstate.FIN | tcpstate.ACK})
			b.Ack(c2s, nil)
		}, tcpstate.EndingClosed},
		{"half closed", func(b *flowtest.Builder) {
			b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
			b.Packet(c2s, flowtest.Seg{Flags: tcpstate.FIN | tcpstate.ACK})
		}, tcpstate.EndingHalfClosed},
		{"open", func(b *flowtest.Builder) {
			b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
			b.Send(c2s, 10, nil)
		}, tcpstate.EndingOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newB()
			tc.script(b)
			r := run(t, b)
			assert.Equal(t, tc.want, r.live[uint64(b.Len())].ending)
		})
	}
}

// TestCauseStalledSACKRecovery: captured at the server, two segments are
// lost after it; the client's SACK draws a fast retransmit of the first,
// its partial ACK then asks for the second, and the server sends it only
// a second later: the SACK recovery stalled and the timer resent it, a
// timeout though SACK blocks came since its first sending (the pattern of
// sv_syn_retransmit_with_ts.pcap's frame 239, 0.999 s after frame 238).
func TestCauseStalledSACKRecovery(t *testing.T) {
	b := newB()
	b.Handshake(time.Millisecond, 20*time.Millisecond, flowtest.OptSACKPerm(), flowtest.OptSACKPerm()) // 1-3
	b.Send(c2s, 100, nil)                                                                              // 4: request
	b.Advance(time.Millisecond)
	a := b.Send(s2c, 1000, nil)  // 5: lost after the capture point
	bb := b.Send(s2c, 1000, nil) // 6: lost too
	b.Send(s2c, 1000, nil)       // 7
	end := b.Nxt(s2c)
	b.Advance(21 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Ack: a, SetAck: true, Opts: flowtest.OptSACK([2]uint32{bb + 1000, end})}) // 8
	b.Advance(100 * time.Microsecond)
	b.Packet(s2c, flowtest.Seg{Seq: a, SetSeq: true, Len: 1000}) // 9: fast retransmit
	b.Advance(21 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Ack: bb, SetAck: true, Opts: flowtest.OptSACK([2]uint32{bb + 1000, end})}) // 10: partial ACK
	b.Advance(time.Second)
	b.Packet(s2c, flowtest.Seg{Seq: bb, SetSeq: true, Len: 1000}) // 11: on the timer
	r := run(t, b)
	assert.Equal(t, tcpstate.CauseFast, r.an[9].Cause, "answers the SACK at once")
	assert.Equal(t, tcpstate.CauseTimeout, r.an[11].Cause, "a second after the partial ACK")
}

// TestCauseAckDrivenAfterRTO: after a timeout resend, the client's ACK of
// it asks for the next lost segment, 300 ms later, and the server sends
// that at once: the ACK drove it (recovery after the RTO), not a timer,
// though the server had been silent 300 ms (the pattern of
// mlab_ndt_wan_small.pcap's frame 330, 16 µs after the client's frame 329).
func TestCauseAckDrivenAfterRTO(t *testing.T) {
	b := newB()
	b.Handshake(time.Millisecond, 20*time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 100, nil)                                        // 4: request
	b.Advance(time.Millisecond)
	a := b.Send(s2c, 1000, nil)  // 5: lost after the capture point
	bb := b.Send(s2c, 1000, nil) // 6: lost too
	b.Advance(250 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: a, SetSeq: true, Len: 1000}) // 7: timeout
	b.Advance(300 * time.Millisecond)
	b.Packet(c2s, flowtest.Seg{Ack: bb, SetAck: true}) // 8: ACKs the resend
	b.Advance(20 * time.Microsecond)
	b.Packet(s2c, flowtest.Seg{Seq: bb, SetSeq: true, Len: 1000}) // 9
	r := run(t, b)
	assert.Equal(t, tcpstate.CauseTimeout, r.an[7].Cause)
	assert.NotEqual(t, tcpstate.CauseTimeout, r.an[9].Cause, "20 µs after the ACK that asked for it")
}

// TestCauseTimerOfFirstByte: the server resends its first unacknowledged
// segment on a timeout, sends new data 30 ms later, and 228 ms after the
// resend sends the first byte again in a larger segment (repacketized with
// the new data): a timeout, since that byte's timer ran 228 ms, though the
// server's last segment was 198 ms before (the pattern of
// mlab_ndt_wan_small.pcap's frame 16, 0.228 s after frame 13).
func TestCauseTimerOfFirstByte(t *testing.T) {
	b := newB()
	b.Handshake(time.Millisecond, 14*time.Millisecond, nil, nil) // 1-3
	b.Send(c2s, 100, nil)                                        // 4: request
	b.Advance(time.Millisecond)
	a := b.Send(s2c, 200, nil) // 5: lost after the capture point
	b.Advance(217 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: a, SetSeq: true, Len: 200}) // 6: timeout
	b.Advance(30 * time.Millisecond)
	b.Send(s2c, 1000, nil) // 7: new data
	b.Advance(198 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: a, SetSeq: true, Len: 1200}) // 8
	r := run(t, b)
	assert.Equal(t, tcpstate.CauseTimeout, r.an[6].Cause)
	assert.Equal(t, tcpstate.CauseTimeout, r.an[8].Cause, "the first byte's timer ran 228 ms")
}
