package explain_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
)

// groundTruth is the part of the lab's groundtruth.json the tests use.
type groundTruth struct {
	Profiles map[string]struct {
		BaseRTTms float64 `json:"base_rtt_ms"`
		RateKbit  float64 `json:"rate_kbit_each_way"`
		Loss      float64 `json:"loss_each_way"`
		Queue     int     `json:"queue_limit_frames"`
	} `json:"profiles"`
	Files []struct {
		Name     string  `json:"name"`
		File     string  `json:"file"`
		Profile  string  `json:"profile"`
		Duration float64 `json:"duration_s"`
		Measured struct {
			C2S struct {
				DataSegs int `json:"data_segs"`
				PureAcks int `json:"pure_acks"`
				Retrans  int `json:"retrans"`
			} `json:"c2s"`
			S2C struct {
				DataSegs int `json:"data_segs"`
				Retrans  int `json:"retrans"`
			} `json:"s2c"`
			Requests       int       `json:"requests"`
			HandshakeRTTms []float64 `json:"handshake_rtt_ms"`
		} `json:"measured"`
		// Emulator is what the lab's link emulator did to the capture's
		// frames, per direction ("client_to_server", "server_to_client").
		Emulator map[string]struct {
			RX   int `json:"rx_frames"`
			Lost int `json:"lost"`
		} `json:"emulator"`
	} `json:"files"`
}

func loadTruth(t *testing.T, dir string) *groundTruth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var g groundTruth
	require.NoError(t, json.Unmarshal(b, &g))
	return &g
}

// explainFile explains a capture and also returns flow's own connections.
func explainFile(t *testing.T, name string) ([]*explain.Conn, []*flow.Conn) {
	t.Helper()
	e := explain.New(explain.Options{Keep: true})
	var fcs []*flow.Conn
	_, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{e, flow.ConnFunc(func(c *flow.Conn) { fcs = append(fcs, c) })}})
	require.NoError(t, err)
	return e.Conns(), fcs
}

func one(t *testing.T, name string) *explain.Conn {
	t.Helper()
	cs, _ := explainFile(t, name)
	require.Len(t, cs, 1, name)
	return cs[0]
}

// TestBudgetAddsUpOnEveryLabCapture: on every lab capture (the committed
// ones, and the shared lab corpus when present) each connection's budget
// parts add up to its duration, none negative.
func TestBudgetAddsUpOnEveryLabCapture(t *testing.T) {
	check := func(t *testing.T, dir string) int {
		n := 0
		for _, f := range flowtest.Captures(t, dir) {
			cs, fcs := explainFile(t, f)
			require.Len(t, cs, len(fcs), f)
			for i, c := range cs {
				b := c.Budget
				assert.InDelta(t, fcs[i].Duration.Seconds(), b.Duration.Seconds(), 1e-6, "%s conn %d duration", f, c.ID)
				assert.InDelta(t, b.Duration.Seconds(), b.Sum().Seconds(), 0.01*b.Duration.Seconds()+1e-9, "%s conn %d: parts %+v", f, c.ID, b)
				for cause := explain.CauseTransfer; cause <= explain.CauseRTO; cause++ {
					assert.GreaterOrEqual(t, b.Part(cause), time.Duration(0), "%s %s", f, cause)
				}
				n++
			}
		}
		return n
	}
	t.Run("committed", func(t *testing.T) {
		// testdata/lab holds 8 TCP captures of one connection each (and
		// two echo sweeps without TCP); see testdata/lab/README.md.
		assert.GreaterOrEqual(t, check(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab")), 8)
	})
	t.Run("corpus", func(t *testing.T) {
		// ../shared/corpus/lab: 33 TCP captures, one connection each.
		assert.GreaterOrEqual(t, check(t, flowtest.CorpusDir(t, "lab")), 33)
	})
}

func TestChattyIsRoundTripBound(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	g := loadTruth(t, dir)
	for _, name := range []string{"wan2m-pg-fetch15", "wan2m-pg-chatty", "wan512-pg-fetch15", "wan2m-my-chatty", "wan2m-http-chatty"} {
		for _, f := range g.Files {
			if f.Name != name {
				continue
			}
			c := one(t, filepath.Join(dir, f.File))
			assert.Equal(t, explain.LimitRoundTrip, c.Limit, name)
			// turns as the lab measured them (client data after server data)
			assert.Equal(t, f.Measured.Requests, c.Turns, name)
			assert.Greater(t, c.Evidence.RoundTripShare, 0.75, name)
			base := g.Profiles[f.Profile].BaseRTTms
			assert.InDelta(t, base, units.Ms(c.RTT), 3, "%s base RTT", name)
			// time waiting on round trips ~ turns x RTT
			assert.InDelta(t, float64(c.Turns)*base/1000, c.Budget.RoundTrip.Seconds(), 0.05*c.Budget.RoundTrip.Seconds(), name)
		}
	}
	// each FETCH answer is one message in a 1448-byte and a ~700-byte
	// segment: several segments, but no segment to save
	for _, f := range g.Files {
		if f.Name == "wan2m-pg-fetch15" {
			c := one(t, filepath.Join(dir, f.File))
			s := c.SegmentsS2C
			assert.GreaterOrEqual(t, s.MultiSegmentMessages, uint64(200))
			assert.Equal(t, 2*s.MultiSegmentMessages, s.MessageSegments)
			assert.Zero(t, s.MessageSavedSegments)
			assert.InDelta(t, 2100, float64(s.MessageBytes)/float64(s.MultiSegmentMessages), 150)
		}
	}
	// the committed copy
	c := one(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"))
	assert.Equal(t, explain.LimitRoundTrip, c.Limit)
	assert.InDelta(t, 204, c.Turns, 2)
}

func TestBulkIsBandwidthBoundWithDelayedAcks(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	g := loadTruth(t, dir)
	for _, name := range []string{"wan2m-http-bulk", "wan2m-pg-bulk", "wan512-http-bulk", "rtt10-pg-bulk"} {
		for _, f := range g.Files {
			if f.Name != name {
				continue
			}
			c := one(t, filepath.Join(dir, f.File))
			assert.Contains(t, []explain.Limit{explain.LimitBandwidth, explain.LimitCongestionWindow}, c.Limit, name)
			a := c.AcksS2C
			assert.Equal(t, explain.AckDelayed, a.Verdict, name)
			assert.Equal(t, explain.CarrierPureTCP, a.Carrier, name)
			assert.EqualValues(t, f.Measured.S2C.DataSegs, a.DataSegments, name)
			// every pure ACK of the client but the handshake's and FIN's
			// moves the ACK of the server's data
			assert.InDelta(t, f.Measured.C2S.PureAcks, a.Advances, 0.02*float64(f.Measured.C2S.PureAcks)+3, name)
			assert.Positive(t, a.Covered[1], name) // ACKs covering two segments
			rate := g.Profiles[f.Profile].RateKbit * 1000 / 8
			assert.InDelta(t, rate, c.Rate.BytesPerSecond(), 0.03*rate, "%s bottleneck rate", name)
			s := c.SegmentsS2C
			assert.Equal(t, 1448, s.MSS, name)
			assert.Less(t, s.NonFinalSmallShare, 0.02, name)
			assert.Greater(t, c.Evidence.TransferShare, 0.5, name)
			// each bulk transfer kept the 2 Mbit/s link busy
			require.NotEmpty(t, c.Model.Phases, name)
			for _, ph := range c.Model.Phases {
				assert.True(t, ph.FromServer, name)
				assert.Equal(t, explain.LimitBandwidth, ph.Limit, name)
				assert.Greater(t, ph.Utilisation, 0.85, name)
			}
		}
	}
}

func TestLossIsPricedOnLossyCaptures(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	g := loadTruth(t, dir)
	for _, f := range g.Files {
		if !strings.HasPrefix(f.Name, "wan2m-") || strings.Contains(f.Name, "ping") || strings.Contains(f.Name, "udp") {
			continue
		}
		c := one(t, filepath.Join(dir, f.File))
		// retransmissions as tshark counts them (tcpstate's labels)
		assert.EqualValues(t, f.Measured.C2S.Retrans, c.AcksC2S.Retransmissions, f.Name)
		assert.EqualValues(t, f.Measured.S2C.Retrans, c.AcksS2C.Retransmissions, f.Name)
		lossTime := c.Budget.LossRecovery.Seconds() + c.Budget.RTO.Seconds()
		if f.Measured.C2S.Retrans+f.Measured.S2C.Retrans == 0 {
			assert.Zero(t, lossTime, f.Name)
			continue
		}
		assert.Positive(t, lossTime, f.Name)
		assert.Less(t, lossTime, 0.1*c.Budget.Duration.Seconds(), f.Name)
	}
	// a lost request or answer in a chatty session waits for a timeout
	for _, f := range g.Files {
		if f.Name == "wan2m-loss-pg-chatty" {
			c := one(t, filepath.Join(dir, f.File))
			assert.Positive(t, c.Model.RTOs, f.Name)
			assert.Greater(t, c.Budget.RTO.Seconds(), 0.3, f.Name)
		}
	}
}

// goldenAcks is a file written by testdata/golden/explain/gen_acks.py.
type goldenAcks struct {
	File    string `json:"file"`
	Streams []struct {
		C2S, S2C struct {
			DataSegments    uint64 `json:"data_segments"`
			Retransmissions uint64 `json:"retransmissions"`
			SmallSegments   uint64 `json:"small_segments"`
			AckAdvances     uint64 `json:"ack_advances"`
		}
	} `json:"streams"`
}

func TestTNSAckBehaviourAgainstTshark(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public")
	goldens, err := filepath.Glob(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "explain", "tns_*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, goldens)
	for _, gf := range goldens {
		b, err := os.ReadFile(gf)
		require.NoError(t, err)
		var g goldenAcks
		require.NoError(t, json.Unmarshal(b, &g))
		cs, _ := explainFile(t, filepath.Join(dir, g.File))
		require.Len(t, cs, len(g.Streams), g.File)
		for i, s := range g.Streams {
			c := cs[i]
			for _, x := range []struct {
				name string
				a    explain.AckStats
				seg  explain.SegmentStats
				want struct {
					DataSegments    uint64 `json:"data_segments"`
					Retransmissions uint64 `json:"retransmissions"`
					SmallSegments   uint64 `json:"small_segments"`
					AckAdvances     uint64 `json:"ack_advances"`
				}
			}{{"c2s", c.AcksC2S, c.SegmentsC2S, s.C2S}, {"s2c", c.AcksS2C, c.SegmentsS2C, s.S2C}} {
				assert.Equal(t, x.want.DataSegments, x.a.DataSegments, "%s %s", g.File, x.name)
				assert.Equal(t, x.want.Retransmissions, x.a.Retransmissions, "%s %s", g.File, x.name)
				assert.Equal(t, x.want.AckAdvances, x.a.Advances, "%s %s", g.File, x.name)
				assert.Equal(t, x.want.SmallSegments, x.seg.Small, "%s %s", g.File, x.name)
				// SQL*Net: every data segment gets its own ACK
				assert.Equal(t, explain.AckEverySegment, x.a.Verdict, "%s %s", g.File, x.name)
				assert.Greater(t, x.seg.SmallShare, 0.95, "%s %s", g.File, x.name)
			}
			assert.Equal(t, "tns", c.Proto)
		}
	}
}

// TestWhatIfMatchesOtherRTTs projects each lab session to the RTT of its
// sibling capture (same workload, same 2 Mbit/s link, another base RTT)
// and compares with the sibling's measured duration. The RTT projected to
// is the ground truth's small-frame RTT: base RTT plus the serialization of
// a SYN and a SYN/ACK (148 bytes).
func TestWhatIfMatchesOtherRTTs(t *testing.T) {
	t.Run("committed", func(t *testing.T) {
		// testdata/lab: pg-chatty and http-bulk at 10, 50 and 150 ms: 2
		// workloads x 6 ordered pairs.
		whatIfPairs(t, "testdata", filepath.Join(flowtest.RepoRoot(), "testdata", "lab"), []string{"pg-chatty", "http-bulk"}, 12)
	})
	t.Run("corpus", func(t *testing.T) {
		whatIfPairs(t, "corpus", flowtest.CorpusDir(t, "lab"), []string{"pg-chatty", "pg-fetch15", "http-chatty", "my-chatty", "http-bulk", "pg-bulk"}, 36)
	})
}

// whatIfPairs projects every workload of dir between each pair of the
// 10/50/150 ms profiles and requires each within 10 % and at least want
// pairs checked.
func whatIfPairs(t *testing.T, name, dir string, workloads []string, want int) {
	profiles := []string{"rtt10", "rtt50", "wan2m"}
	var table strings.Builder
	checked := 0
	for _, s := range []struct {
		name, dir string
		workloads []string
	}{{name, dir, workloads}} {
		g := loadTruth(t, s.dir)
		for _, w := range s.workloads {
			conns := map[string]*explain.Conn{}
			for _, p := range profiles {
				f := filepath.Join(s.dir, p+"-"+w+".pcap")
				if _, err := os.Stat(f); err != nil {
					continue
				}
				conns[p] = one(t, f)
			}
			for _, from := range profiles {
				for _, to := range profiles {
					a, b := conns[from], conns[to]
					if from == to || a == nil || b == nil {
						continue
					}
					pr := g.Profiles[to]
					rtt := pr.BaseRTTms + 148*8/pr.RateKbit
					p := a.Project(time.Duration(rtt*float64(time.Millisecond)), 0)
					want := b.Budget.Duration.Seconds()
					errPct := 100 * (p.Duration.Seconds() - want) / want
					table.WriteString(strings.Join([]string{s.name, w, from + "->" + to,
						ftoa(want), ftoa(p.Duration.Seconds()), ftoa(errPct) + "%"}, "\t") + "\n")
					assert.Less(t, math.Abs(errPct), 10.0, "%s %s -> %s", w, from, to)
					checked++
				}
			}
		}
	}
	t.Logf("set\tworkload\tprojection\tmeasured_s\tprojected_s\terror\n%s", table.String())
	assert.GreaterOrEqual(t, checked, want)
}

func ftoa(f float64) string {
	b, _ := json.Marshal(math.Round(f*1000) / 1000)
	return string(b)
}

func TestProjectionScalesRoundTripsAndRate(t *testing.T) {
	c := one(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"))
	same := c.Project(0, 0)
	assert.InDelta(t, c.Budget.Duration.Seconds(), same.Duration.Seconds(), 1e-9, "projecting to the observed RTT and rate changes nothing")
	fast := c.Project(time.Millisecond, 0)
	// think times stay; the turns shrink by 150x
	assert.InDelta(t, c.Budget.Think().Seconds(), fast.Budget.Think().Seconds(), 1e-9)
	assert.InDelta(t, c.Budget.RoundTrip.Seconds()*1/units.Ms(c.RTT), fast.Budget.RoundTrip.Seconds(), 1e-9)
	assert.Less(t, fast.Duration.Seconds(), c.Budget.Duration.Seconds()/10)
	assert.Equal(t, c.Model.RoundTrips+1, fast.RoundTrips)

	bulk := one(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-http-bulk.pcap"))
	half := bulk.Project(0, units.BytesPerSecond(bulk.Rate.BytesPerSecond()/2))
	assert.InDelta(t, 2*bulk.Budget.Transfer.Seconds(), half.Budget.Transfer.Seconds(), 1e-9, "transfer doubles at half the rate")
	// a longer RTT costs slow-start rounds for a bulk transfer
	far := bulk.Project(500*time.Millisecond, 0)
	assert.Greater(t, far.SlowStartRounds, 0)
	assert.Greater(t, far.Budget.WindowWait.Seconds(), bulk.Budget.WindowWait.Seconds())
}

func TestStallsAreBoundedAndSorted(t *testing.T) {
	c := one(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"))
	require.Len(t, c.Stalls, explain.DefaultTopStalls)
	for i := 1; i < len(c.Stalls); i++ {
		assert.GreaterOrEqual(t, c.Stalls[i-1].Duration.Seconds(), c.Stalls[i].Duration.Seconds())
	}
	for _, s := range c.Stalls {
		assert.InDelta(t, s.End.Sub(s.Start).Seconds(), s.Duration.Seconds(), 1e-9)
		assert.NotEqual(t, explain.CauseTransfer, s.Cause)
	}
}

func TestEnumsMarshalByName(t *testing.T) {
	b, err := json.Marshal(struct {
		C explain.Cause
		L explain.Limit
		V explain.AckVerdict
		A explain.AckCarrier
		P explain.RateSource
		Q explain.Cause
	}{explain.CauseRTO, explain.LimitRoundTrip, explain.AckDelayed, explain.CarrierApplication, explain.RateACKClock, explain.CauseQueueCross})
	require.NoError(t, err)
	assert.JSONEq(t, `{"C":"rto","L":"round_trip_bound","V":"delayed_ack","A":"application","P":"ack_clock","Q":"queue_cross"}`, string(b))
	assert.Equal(t, "unknown", explain.Cause(200).String())
}

func TestBudgetAddsUpOnPublicCaptures(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public")
	n := 0
	for _, f := range flowtest.Captures(t, dir) {
		rep, err := explain.AnalyzeFile(f, explain.Options{})
		if rep == nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		for _, c := range rep.Conns {
			b := c.Budget
			assert.InDelta(t, b.Duration.Seconds(), b.Sum().Seconds(), 0.01*b.Duration.Seconds()+1e-6, "%s conn %d: %+v", f, c.ID, b)
			for k := explain.CauseTransfer; k <= explain.CauseRTO; k++ {
				assert.GreaterOrEqual(t, b.Part(k), time.Duration(0), "%s conn %d %s", f, c.ID, k)
			}
			p := c.Project(100*time.Millisecond, 1*units.Mbps) // 125000 bytes/s
			assert.False(t, math.IsNaN(p.Duration.Seconds()) || p.Duration.Seconds() < 0, "%s conn %d projection %+v", f, c.ID, p)
			n++
		}
	}
	t.Logf("%d connections", n)
	assert.Positive(t, n)
}

// The LISA '98 comparison: SQL*Net (small segments, an ACK for each) next
// to HTTP (full-size segments, an ACK for two), attributed by protocol.
func TestByProtocolComparesTNSWithHTTP(t *testing.T) {
	pub := flowtest.CorpusDir(t, "public")
	tns, _ := explainFile(t, filepath.Join(pub, "tns", "trex_oracle.pcap"))
	web, _ := explainFile(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-http-bulk.pcap"))
	pg, _ := explainFile(t, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"))
	all := append(append(append([]*explain.Conn{}, tns...), web...), pg...)
	rows := explain.ByProtocol(all, explain.WhatIf{RTT: 150 * time.Millisecond})
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"tns", "http", "postgres"}, []string{rows[0].Label, rows[1].Label, rows[2].Label})
	r, h := rows[0], rows[1]
	assert.EqualValues(t, 147+145, r.Segments) // tshark: tcp.len > 0 frames
	assert.Less(t, r.MeanSegment, 200.0)
	assert.Greater(t, h.MeanSegment, 1400.0)
	assert.InDelta(t, 1.0, r.AcksPerSegment, 0.05)
	assert.InDelta(t, 0.66, h.AcksPerSegment, 0.05)
	assert.Greater(t, r.SmallShare, 0.95)
	assert.Less(t, h.SmallShare, 0.02)
	// priced at 150 ms, every one of the TNS session's turns costs a round trip
	require.NotNil(t, r.Projected)
	assert.Greater(t, r.Projected.Duration.Seconds(), float64(r.RoundTrips)*0.150)
	assert.Equal(t, explain.LimitRoundTrip, rows[2].Limit)
}

// TestWhatIfMatchesOtherRates projects the 150 ms sessions at 2 Mbit/s to
// 512 kbit/s and back and compares with the lab's captures at that rate.
func TestWhatIfMatchesOtherRates(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	g := loadTruth(t, dir)
	find := func(name string) string {
		for _, f := range g.Files {
			if f.Name == name {
				return filepath.Join(dir, f.File)
			}
		}
		return ""
	}
	var table strings.Builder
	for _, w := range []string{"pg-chatty", "pg-fetch15", "http-chatty", "my-chatty", "http-bulk", "pg-bulk", "my-bulk"} {
		fa, fb := find("wan2m-"+w), find("wan512-"+w)
		require.NotEmpty(t, fa, w)
		require.NotEmpty(t, fb, w)
		a, b := one(t, fa), one(t, fb)
		for _, x := range []struct {
			from, to *explain.Conn
			name     string
			rate     float64
		}{{a, b, "2M->512k", g.Profiles["wan512"].RateKbit * 1000 / 8}, {b, a, "512k->2M", g.Profiles["wan2m"].RateKbit * 1000 / 8}} {
			p := x.from.Project(0, units.BytesPerSecond(x.rate))
			want := x.to.Budget.Duration.Seconds()
			errPct := 100 * (p.Duration.Seconds() - want) / want
			table.WriteString(strings.Join([]string{w, x.name, ftoa(want), ftoa(p.Duration.Seconds()), ftoa(errPct) + "%"}, "\t") + "\n")
			assert.Less(t, math.Abs(errPct), 10.0, "%s %s", w, x.name)
		}
	}
	t.Logf("workload\tprojection\tmeasured_s\tprojected_s\terror\n%s", table.String())
}
