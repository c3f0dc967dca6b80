package findings_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/findings"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

func conn(t *testing.T, name string) *explain.Conn {
	t.Helper()
	rep, err := explain.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name), explain.Options{})
	require.NoError(t, err)
	require.Len(t, rep.Conns, 1)
	return rep.Conns[0]
}

// The sentences of the two lab sessions, with the numbers the lab knows
// (testdata/lab/README.md): the chatty session's 204 turns at a 150.96 ms
// handshake RTT in 31.6 s, 204 client segments of 49.6 B and 203 server
// segments of 406.9 B on average (227.8 B together), all below the MSS of
// 1448 and each acknowledged; the bulk download's 405 full-size segments
// at the 2000 kbit/s link rate, the client ACKing every one or two (270
// pure ACKs).
func TestConclusion(t *testing.T) {
	chatty, bulk := conn(t, "wan2m-pg-chatty.pcap"), conn(t, "wan2m-http-bulk.pcap")
	assert.Equal(t, "204 round trips × 150.9 ms = 30.8 s of the 31.6 s; segments are small (mean 228 B, 100% below the MSS) "+
		"and each is acknowledged", findings.Conclusion(chatty))
	assert.Equal(t, "transfer at the bottleneck (2 Mbit/s) took 2.4 s of the 3.2 s; segments are full-size, one ACK per 1.5",
		findings.Conclusion(bulk))
	assert.Equal(t, "wan2m-pg-chatty.pcap took 31.6 s, 9.9× wan2m-http-bulk.pcap's 3.2 s: "+findings.Conclusion(chatty)+
		"; wan2m-http-bulk.pcap: "+findings.Conclusion(bulk),
		findings.Compare("wan2m-pg-chatty.pcap", []*explain.Conn{chatty}, "wan2m-http-bulk.pcap", []*explain.Conn{bulk}))
	two := findings.Capture([]*explain.Conn{chatty, bulk})
	assert.Contains(t, two, "2 connections, 34.8 s of connection time")
	assert.Contains(t, two, "the connection that lost most, #1 postgres: 204 round trips")

	// Time lost to the network: everything but transfer and think time.
	b := &chatty.Budget
	assert.InDelta(t, b.Duration.Seconds()-b.Transfer.Seconds()-b.ClientThink.Seconds()-b.ServerThink.Seconds(), findings.TimeLost(b).Seconds(), 1e-9)
	assert.InDelta(t, 30.9, findings.TimeLost(b).Seconds(), 0.05, "the handshake and 204 turns")
}

// Every cause of the budget is walked and named; the parts add up.
func TestCauses(t *testing.T) {
	c := conn(t, "wan2m-http-bulk.pcap")
	sum := 0.0
	for _, k := range findings.Causes() {
		sum += c.Budget.Part(k).Seconds()
		assert.NotContains(t, findings.CauseLabel(k), "_", "a label of its own")
	}
	assert.Len(t, findings.Causes(), 12, "explain's twelve causes today")
	assert.InDelta(t, c.Budget.Duration.Seconds(), sum, 1e-6)
}

// The verdict lines of the chatty session fail on round trips and say
// what to do; the bulk download passes them and sends full-size
// segments.
func TestChecks(t *testing.T) {
	level := func(fs []findings.Finding) map[string]linkq.Level {
		out := map[string]linkq.Level{}
		for _, f := range fs {
			out[f.Check] = f.Level
			assert.NotEmpty(t, f.Tests, f.Check)
			assert.NotEmpty(t, f.Model, f.Check)
			assert.NotEmpty(t, f.Figures, f.Check)
			if f.Level >= linkq.Warning {
				assert.NotEmpty(t, f.Action, f.Check)
			}
		}
		return out
	}
	chatty := findings.Checks(conn(t, "wan2m-pg-chatty.pcap"))
	assert.Equal(t, map[string]linkq.Level{"round_trips": linkq.Fail, "segments": linkq.Info, "acks": linkq.Pass,
		"think": linkq.Pass, "what_if": linkq.Info}, level(chatty))
	assert.Equal(t, "the handshake and 204 turns that each waited a round trip took 30.9 s, 98% of the 31.6 s", chatty[0].Message)
	// The lab's own 10 ms capture of the session took 2.71 s.
	assert.Contains(t, chatty[0].Action, "at 10.0 ms RTT (a LAN) this session takes 2.7 s")
	bulk := findings.Checks(conn(t, "wan2m-http-bulk.pcap"))
	assert.Equal(t, map[string]linkq.Level{"round_trips": linkq.Pass, "segments": linkq.Pass, "acks": linkq.Pass,
		"think": linkq.Pass, "what_if": linkq.Info}, level(bulk))
	assert.Contains(t, bulk[2].Message, "268 ACKs for 405 segments (0.66 per segment, delayed ack)")
}

// The annotation of a packet-flow figure.
func TestFlowNotes(t *testing.T) {
	n := findings.FlowNotes(conn(t, "wan2m-http-bulk.pcap"), [2]string{"c→s", "s→c"})
	assert.Equal(t, []string{
		"whole connection, 3.2 s:",
		"c→s: 2 segments, mean 81 B; 2 ACKs (1.00 per segment)",
		"s→c: 405 segments, mean 1444 B; 268 ACKs (0.66 per segment, up to 2 per ACK)",
		"2 turns, 3 round trips paid: 0.602 s", // 0.603 s before the turns left out the handshake frames' serialization at 2 Mbit/s (0.6 ms each)
		// the legs together: 150.7 ms to the server, 0.03 ms to the client
		"base RTT 150.7 ms; limited by the bottleneck's rate",
	}, n)
}

// A what-if table: as captured, at 10 ms (the lab's rtt10 capture of the
// same session took 2.71 s, README), at twice the rate.
func TestWhatIfs(t *testing.T) {
	rows := findings.WhatIfs([]*explain.Conn{conn(t, "wan2m-pg-chatty.pcap")}, []time.Duration{10 * time.Millisecond}, []units.BitRate{4 * units.Mbps}) // 500,000 bytes/s
	require.Len(t, rows, 3)
	assert.Equal(t, "as captured", rows[0].Label)
	assert.InDelta(t, 31.63, rows[0].Duration.Seconds(), 0.01)
	assert.Equal(t, "RTT 10.0 ms", rows[1].Label)
	assert.InDelta(t, 2.71, rows[1].Duration.Seconds(), 0.1*2.71)
	assert.Equal(t, "rate 4 Mbit/s", rows[2].Label)
}

// The sentence of an echo capture, against the lab's ping sweep
// (testdata/lab/README.md): 200 echoes over the 2 Mbit/s, 150 ms link,
// RTT 150.379 to 162.153 ms, least squares 150.201 ms + 8.0027 µs/B with
// RMS 0.130 ms (README's fit table); 16/slope is 2.0 Mbit/s.
func TestEchoes(t *testing.T) {
	r, err := linkq.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-ping-sweep.pcap"), linkq.Config{NoTCPSamples: true})
	require.NoError(t, err)
	assert.Equal(t, "200 echoes, 200 answered; RTT 150.4 to 162.2 ms; RTT = 150.2 ms + 8.00 µs per byte: a fixed delay of 150.2 ms "+
		"and the serialization of a 2 Mbit/s link each way, RMS 0.130 ms", findings.Echoes(r))
	assert.Empty(t, findings.Echoes(&linkq.Report{}))
}

// The queue-space checks on the lab's shallow-queue path (testdata/lab/whatif
// groundtruth.json, profile shallow: 25 ms each way, 2 Mbit/s, a 20-frame
// queue): a bulk download fills the queue, 20 full frames of 6.056 ms each
// at the link rate = 121 ms of queueing at most, more than half the 50 ms
// target RTT (bufferbloat fails), and the largest queue in bytes is the 20
// frames of 1514 B, more than the target's 12,500 B (no loss: the queue is
// not too small); the chatty PostgreSQL session never builds a queue (one
// small exchange at a time): no RTT under load, so no check is made.
func TestFromQueue(t *testing.T) {
	byName := func(fs []findings.Finding) map[string]findings.Finding {
		out := map[string]findings.Finding{}
		for _, f := range fs {
			out[f.Check] = f
			assert.NotEmpty(t, f.Tests, f.Check)
			assert.NotEmpty(t, f.Model, f.Check)
		}
		return out
	}
	bulk := byName(findings.FromQueue(conn(t, "whatif/shallow-http-bulk-s.pcap.gz"), 50*time.Millisecond, 2e6))
	require.Contains(t, bulk, "bufferbloat")
	bb := bulk["bufferbloat"]
	assert.Equal(t, linkq.Fail, bb.Level, bb.Message)
	assert.NotEmpty(t, bb.Action)
	ms, err := strconv.ParseFloat(bb.Figures[0].Value, 64)
	require.NoError(t, err)
	assert.InDelta(t, 20*6.056, ms, 0.15*20*6.056, "the largest queueing delay: the 20-frame queue full, within 15 %%")
	qs := bulk["queue_too_small"]
	assert.Equal(t, linkq.Pass, qs.Level, qs.Message)
	b, err := strconv.ParseFloat(qs.Figures[0].Value, 64)
	require.NoError(t, err)
	assert.InDelta(t, 20*1514, b, 0.05*20*1514)
	assert.Empty(t, findings.FromQueue(conn(t, "whatif/shallow-pg-chatty.pcap.gz"), 50*time.Millisecond, 2e6))
}

// A browser's parallel downloads from one server (the public
// ppp_example_http_mix.pcap): during connection 2's 2.72 s, 13 other
// connections to 212.199.202.9 carried 2.54 MB against its own 0.34 MB
// (counted from flows -json's first/last and s2c unique_bytes), so its
// round trips wait behind them; the conclusion says so with the seconds.
func TestConclusionQueueBehindOthers(t *testing.T) {
	rep, err := explain.AnalyzeFile(filepath.Join(flowtest.CorpusDir(t, "public"), "http", "ppp_example_http_mix.pcap"), explain.Options{})
	require.NoError(t, err)
	var c *explain.Conn
	for _, x := range rep.Conns {
		if x.ID == 2 {
			c = x
		}
	}
	require.NotNil(t, c)
	require.Greater(t, c.Budget.QueueCross.Seconds(), 0.1*c.Budget.Duration.Seconds())
	s := findings.Conclusion(c)
	assert.Contains(t, s, "more in the bottleneck's queue behind other connections between the same hosts", s)
	assert.Contains(t, s, findings.Secs(c.Budget.Queue()), s)
}
