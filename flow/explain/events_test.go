package explain_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// TestMidPathTNS: trex_oracle_astf_replay.pcap was captured in the middle
// of the path (tshark: SYN at 0, SYN/ACK at 54.021 ms, ACK at 113.444 ms:
// 54.0 ms to the server and back, 59.4 ms to the client and back), and
// every one of its 144 client turns starts 59.2-63.5 ms after the server's
// data passed (tshark -Y tcp.len>0: the leg to the client, not think
// time). Capture duration 16.292031 s (capinfos).
func TestMidPathTNS(t *testing.T) {
	c := one(t, filepath.Join(flowtest.CorpusDir(t, "public"), "tns", "trex_oracle_astf_replay.pcap"))
	assert.Equal(t, tcpstate.VantageMiddle, c.Vantage)
	// the legs: the smallest samples, 51.283 ms (a request's data->ACK,
	// rtt.c2s.data.min_ms) and 59.153 ms (an answer's, rtt.s2c.data.min_ms)
	assert.InDelta(t, 51.283, units.Ms(c.Legs.ToServer), 0.001)
	assert.InDelta(t, 59.153, units.Ms(c.Legs.ToClient), 0.001)
	assert.Equal(t, explain.LimitRoundTrip, c.Limit)
	assert.Equal(t, 144, c.Turns)
	assert.Equal(t, 145, c.Model.RoundTrips, "144 queries and the FIN exchange")
	assert.InDelta(t, 16.292031, c.Budget.Duration.Seconds(), 1e-6)
	assert.Less(t, c.Budget.ClientThink.Seconds(), 0.05*c.Budget.Duration.Seconds(), "client think %.3f s", c.Budget.ClientThink.Seconds())
	// projected to its own 113 ms round trip (the handshake's), it takes
	// the 16.3 s it took
	p := c.Project(113444*time.Microsecond, 0)
	assert.InDelta(t, 16.292031, p.Duration.Seconds(), 0.1*16.292031, "projected %.3f s", p.Duration.Seconds())
}

// TestSmallSegmentsAgainstEffectiveMSS: a download from a server whose
// segments are smaller than both announcements is not "small segments".
// sv_http_aptget: the server announced 1452, the client 1460, both with
// timestamps (1440 B usable), and all 183 of the server's segments carry
// 1428 B (tshark -Y 'tcp.len>0 && tcp.srcport==80' -e tcp.len); in
// ppp_example_http_mix the servers announced 1360 (1348 usable) and 2203
// of their segments carry 1348 B. Their bulk phases hold under 10 % small
// segments.
func TestSmallSegmentsAgainstEffectiveMSS(t *testing.T) {
	pub := flowtest.CorpusDir(t, "public")
	c := one(t, filepath.Join(pub, "http", "sv_http_aptget.pcap"))
	s := c.SegmentsS2C
	assert.Equal(t, 1428, s.MSS)
	assert.Equal(t, tcpstate.MSSOnWire, s.MSSSource)
	assert.EqualValues(t, 183, s.Segments)
	assert.Less(t, smallInBulk(s), 0.10)
	assert.Zero(t, s.Small, "every segment is 1428 B")

	cs, _ := explainFile(t, filepath.Join(pub, "http", "ppp_example_http_mix.pcap"))
	var bulk explain.SegmentStats
	for _, c := range cs {
		if c.Server.Port() != 80 || c.SegmentsS2C.BulkSegments == 0 {
			continue
		}
		assert.Equal(t, 1348, c.SegmentsS2C.MSS, "conn %d", c.ID)
		for i, n := range c.SegmentsS2C.SizeBins {
			bulk.SizeBins[i] += n
		}
		bulk.BulkSegments += c.SegmentsS2C.BulkSegments
	}
	assert.Greater(t, bulk.BulkSegments, uint64(2000))
	assert.Less(t, smallInBulk(bulk), 0.10, "%v", bulk.SizeBins)
}

// smallInBulk is the share of bulk-phase segments below the MSS.
func smallInBulk(s explain.SegmentStats) float64 {
	if s.BulkSegments == 0 {
		return 0
	}
	return float64(s.SizeBins[0]+s.SizeBins[1]+s.SizeBins[2]+s.SizeBins[3]) / float64(s.BulkSegments)
}

// TestZeroWindowStall: cs_tcp_zerowindowdead holds a 1344-byte segment, the
// client's zero window (frame 2, 29 us later) and three more zero-window
// answers to the server's keep-alives at 3.41, 10.19 and 23.73 s (tshark:
// tcp.analysis.zero_window on frames 2, 4, 6, 8): all of it is a zero-window
// stall. The lab's receiver that stops reading for 10.000 s
// (groundtruth.json events.zero_window.paused_s) stalls that long.
func TestZeroWindowStall(t *testing.T) {
	c := one(t, filepath.Join(flowtest.CorpusDir(t, "public"), "tcpedge", "cs_tcp_zerowindowdead.pcapng"))
	assert.InDelta(t, 23.731553, c.Budget.Duration.Seconds(), 1e-6)
	// all of it after the one data segment (the client's zero window came
	// 29 us after it; the tail is judged by the window at its end)
	assert.InDelta(t, 23.731553, c.Budget.ZeroWindow.Seconds(), 1e-6)
	assert.Equal(t, explain.LimitReceiverWindow, c.Limit)
	require.NotEmpty(t, c.Stalls)
	assert.Equal(t, explain.CauseZeroWindow, c.Stalls[0].Cause)

	b, err := os.ReadFile(filepath.Join(labDir("events"), "groundtruth.json"))
	require.NoError(t, err)
	var g struct {
		Files []struct {
			Name   string `json:"name"`
			File   string `json:"file"`
			Events struct {
				ZeroWindow struct {
					PausedS float64 `json:"paused_s"`
				} `json:"zero_window"`
			} `json:"events"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	for _, f := range g.Files {
		if f.Name != "wan2m-zero-window" {
			continue
		}
		c := one(t, filepath.Join(labDir("events"), f.File))
		want := f.Events.ZeroWindow.PausedS
		assert.InDelta(t, want, c.Budget.ZeroWindow.Seconds(), 0.05*want)
		assert.Equal(t, explain.LimitReceiverWindow, c.Limit)
	}
}

// TestRefusedIsNoSlowSession: cs_tcp_refuseconnection holds a SYN answered
// by a RST/ACK 1.316 ms later (tshark frames 1 and 2): refused, limited by
// nothing, no protocol (port 80 says nothing of what would have run).
func TestRefusedIsNoSlowSession(t *testing.T) {
	c := one(t, filepath.Join(flowtest.CorpusDir(t, "public"), "tcpedge", "cs_tcp_refuseconnection.pcapng"))
	assert.Equal(t, tcpstate.EndingRefused, c.Ending)
	assert.Equal(t, explain.LimitNone, c.Limit)
	assert.Equal(t, "none", c.Proto)
	assert.Equal(t, "no_payload", c.ProtoSource)
	assert.InDelta(t, 0.001316, c.Budget.Handshake.Seconds(), 1e-9)
}

// resendCauses returns tcpstate's cause for every retransmission with
// data in a capture, in order.
func resendCauses(t *testing.T, name string, d tcpstate.Dir) []tcpstate.Cause {
	var out []tcpstate.Cause
	_, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		if p.Analysis != nil && p.Dir == d && p.Seg.Len > 0 && p.Analysis.Retransmitted() {
			out = append(out, p.Analysis.Cause)
		}
	})}})
	require.NoError(t, err)
	return out
}

// TestBlackoutIsRTOBackoff: in the lab's 8 s blackouts (5.0-13.0 s in the
// chatty session, 0.9-8.9 s in the download) the sender backs off. Chatty,
// at the client: the request of frame 68 (5.035 s) is resent at 5.405,
// 5.789, 6.525, 7.965, 10.877 and 16.765 s (frames 69-74, tshark
// tcp.analysis.retransmission), every resend a timeout, and the waits,
// 11.730 s, are RTO time: the blackout's 8 s and the backoff past its end
// (the timer had 5.9 s to run when the path came back), which the capture
// cannot tell apart. Download, at the client: the last data before the
// blackout passed at 1.233 s (frame 238), the server's first resend that
// crossed after it at 15.773 s (frame 239, of bytes the client had
// acknowledged: its ACKs were lost): 14.539 s of RTO.
func TestBlackoutIsRTOBackoff(t *testing.T) {
	chatty := filepath.Join(labDir("events"), "wan2m-pg-chatty-blackout.pcap.gz")
	causes := resendCauses(t, chatty, tcpstate.ClientToServer)
	require.Len(t, causes, 6)
	for i, c := range causes {
		assert.Equal(t, tcpstate.CauseTimeout, c, "resend %d", i+1)
	}
	c := one(t, chatty)
	want := 16.765376 - 5.035026
	assert.InDelta(t, want, c.Budget.RTO.Seconds(), 0.05*want)
	assert.GreaterOrEqual(t, c.Budget.RTO.Seconds(), 8.0, "at least the blackout")
	assert.GreaterOrEqual(t, c.Model.RTOs, 6)
	assert.Less(t, c.Budget.LossRecovery.Seconds(), 0.1, "no fast recovery")

	bulk := one(t, filepath.Join(labDir("events"), "wan2m-http-bulk-blackout.pcap.gz"))
	want = 15.772536 - 1.233222
	assert.InDelta(t, want, bulk.Budget.RTO.Seconds(), 0.05*want)
	assert.Equal(t, explain.LimitLoss, bulk.Limit)
	causes = resendCauses(t, filepath.Join(labDir("events"), "wan2m-http-bulk-blackout.pcap.gz"), tcpstate.ServerToClient)
	require.NotEmpty(t, causes)
	assert.Equal(t, tcpstate.CauseTimeout, causes[0], "frame 239")
}

// TestScriptedRTOBackoffThenReset: captured at the server, the server
// resends one segment with doubling gaps (0.36 ... 5.8 s), hearing
// nothing, and gives up 15.56 s later with a RST (the case of the issue):
// every resend after the first (a fast retransmit on the client's SACK) is
// a timeout, and the wait before the RST is RTO too, not server think.
func TestScriptedRTOBackoffThenReset(t *testing.T) {
	b := newBuilder()
	b.Handshake(time.Millisecond, 70*time.Millisecond, flowtest.OptSACKPerm(), flowtest.OptSACKPerm())
	b.Send(c2s, 100, nil)
	b.Advance(time.Millisecond)
	first := b.Send(s2c, 1000, nil)
	b.Send(s2c, 1000, nil)
	b.Advance(72 * time.Millisecond)
	end := b.Nxt(s2c)
	b.Packet(c2s, flowtest.Seg{Ack: first, SetAck: true, Opts: flowtest.OptSACK([2]uint32{first + 1000, end})})
	b.Advance(time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: first, SetSeq: true, Len: 1000})
	gaps := []time.Duration{360, 520, 830, 1460, 2900, 5800}
	total := 0.0
	for _, gap := range gaps {
		b.Advance(gap * time.Millisecond)
		total += (gap * time.Millisecond).Seconds()
		b.Packet(s2c, flowtest.Seg{Seq: first, SetSeq: true, Len: 1000})
	}
	b.Advance(15560 * time.Millisecond)
	b.Packet(s2c, flowtest.Seg{Seq: end, SetSeq: true, Flags: tcpstate.RST | tcpstate.ACK})
	c := explainBytes(t, b.Bytes())
	assert.Equal(t, len(gaps), c.Model.RTOs)
	assert.InDelta(t, total+15.56, c.Budget.RTO.Seconds(), 1e-9)
	assert.Less(t, c.Budget.ServerThink.Seconds(), 0.01)
	assert.Equal(t, explain.LimitLoss, c.Limit)
	assert.Equal(t, tcpstate.EndingResetByServer, c.Ending)
	require.NotEmpty(t, c.Stalls)
	assert.Equal(t, explain.CauseRTO, c.Stalls[0].Cause)
	assert.InDelta(t, 15.56, c.Stalls[0].Duration.Seconds(), 1e-9)
}

// TestDuplicatesLikeClean: testdata/lab/span holds each session twice:
// captured at the client, and merged with the copy seen at the emulator's
// end of the veth, so every frame is there twice, 50 us apart
// (groundtruth.json span.duplicates: 415 and 362). The explanation of the
// doubled capture is that of the clean one, with a duplicates caveat;
// only tshark's retransmission counts count the copies (206 and 205 in
// the chatty session, groundtruth.json measured.c2s/s2c.retrans).
func TestDuplicatesLikeClean(t *testing.T) {
	for _, x := range []struct {
		name      string
		copies    uint64
		retransC2 uint64
		retransS2 uint64
	}{{"wan2m-pg-chatty", 415, 206, 205}, {"wan2m-http-bulk-s", 362, 3, 194}} {
		clean := one(t, filepath.Join(labDir("span"), x.name+".pcap.gz"))
		dup := one(t, filepath.Join(labDir("span"), x.name+"-dup.pcap.gz"))
		assert.Empty(t, clean.Caveats, x.name)
		require.NotEmpty(t, dup.Caveats, x.name)
		assert.Equal(t, tcpstate.IssueDuplicates.String(), dup.Caveats[0].Issue, x.name)
		assert.Equal(t, x.copies, dup.Caveats[0].Count, x.name)
		assert.Contains(t, dup.Caveats[0].Figures, "acks_s2c.retransmissions")
		assert.Equal(t, x.retransC2, dup.AcksC2S.Retransmissions, x.name)
		assert.Equal(t, x.retransS2, dup.AcksS2C.Retransmissions, x.name)
		assert.Equal(t, clean.Limit, dup.Limit, x.name)
		assert.Equal(t, clean.Model.RTOs, dup.Model.RTOs, x.name)
		assert.Equal(t, clean.Turns, dup.Turns, x.name)
		assert.Equal(t, clean.Model.RoundTrips, dup.Model.RoundTrips, x.name)
		assert.Equal(t, clean.AcksS2C.DataSegments, dup.AcksS2C.DataSegments, x.name)
		assert.Equal(t, clean.SegmentsS2C.SmallShare, dup.SegmentsS2C.SmallShare, x.name)
		// the copies add at most their 50 us each way to the duration
		d := clean.Budget.Duration.Seconds()
		for gi, v := range budgetGroups(clean.Budget) {
			assert.InDelta(t, v, budgetGroups(dup.Budget)[gi], 0.01*d, "%s %s", x.name, groupNames[gi])
		}
		assert.Zero(t, dup.Budget.LossRecovery.Seconds()+dup.Budget.RTO.Seconds(), x.name)
	}
}

// TestOffloadKeepsOnWireReference: a capture taken on the sending host with
// segmentation offload shows 64 kB "segments"; they are measured against
// the on-wire MSS (full size, not a reason to call the others small) and
// the explanation says the segment figures are the host stack's.
func TestOffloadKeepsOnWireReference(t *testing.T) {
	b := newBuilder()
	b.Handshake(20*time.Millisecond, 100*time.Microsecond, flowtest.OptMSS(1460), flowtest.OptMSS(1460))
	b.Send(c2s, 100, nil)
	b.Advance(20 * time.Millisecond)
	for range 8 {
		b.Send(s2c, 65160, nil) // 45 MSS at once: TSO
		b.Advance(2 * time.Millisecond)
	}
	b.Send(s2c, 700, nil)
	b.Advance(20 * time.Millisecond)
	b.Ack(c2s, nil)
	c := explainBytes(t, b.Bytes())
	s := c.SegmentsS2C
	assert.Equal(t, 1460, s.MSS)
	assert.Equal(t, tcpstate.MSSAnnounced, s.MSSSource)
	assert.EqualValues(t, 1, s.Small, "only the last 700 bytes")
	assert.EqualValues(t, 8, s.SizeBins[4])
	require.NotEmpty(t, c.Caveats)
	assert.Equal(t, tcpstate.IssueOversize.String(), c.Caveats[0].Issue)
	assert.Contains(t, c.Caveats[0].Figures, "segments_s2c.small_share")
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(c))
	assert.Contains(t, buf.String(), `"caveats":[{"issue":"segments_over_mss"`)
}
