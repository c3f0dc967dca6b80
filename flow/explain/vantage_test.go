package explain_test

import (
	"bytes"
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
	"github.com/netecology/netecology/tcpstate"
)

// vantageTruth is the part of testdata/lab/vantage/groundtruth.json these
// tests use: each file's capture point, the one-way delays from it to each
// end, and the hops (their delay and rate).
type vantageTruth struct {
	Files []struct {
		Name         string `json:"name"`
		File         string `json:"file"`
		Session      string `json:"session"`
		CapturePoint struct {
			Point string `json:"point"`
		} `json:"capture_point"`
		ToClientMs float64 `json:"one_way_delay_to_client_ms"`
		ToServerMs float64 `json:"one_way_delay_to_server_ms"`
		Legs       []struct {
			Side     string  `json:"side"`
			DelayMs  float64 `json:"one_way_delay_ms"`
			RateKbit float64 `json:"rate_kbit"`
		} `json:"legs"`
		Queue struct {
			S2C struct {
				MaxDelayMs float64 `json:"max_queue_delay_ms"`
			} `json:"s2c"`
		} `json:"queue"`
	} `json:"files"`
}

func labDir(sub string) string { return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", sub) }

func loadVantageTruth(t *testing.T, sub string) *vantageTruth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labDir(sub), "groundtruth.json"))
	require.NoError(t, err)
	var g vantageTruth
	require.NoError(t, json.Unmarshal(b, &g))
	return &g
}

// budgetGroups are the budget parts the three captures of a session must
// agree on: round trips (handshake and turns), client think, server think,
// transfer, window (congestion, receiver, zero), loss and RTO, queueing.
func budgetGroups(b explain.Budget) [7]float64 {
	return [7]float64{b.Handshake.Seconds() + b.RoundTrip.Seconds(), b.ClientThink.Seconds(), b.ServerThink.Seconds(), b.Transfer.Seconds(),
		b.WindowWait.Seconds() + b.ReceiverWindow.Seconds() + b.ZeroWindow.Seconds(), b.LossRecovery.Seconds() + b.RTO.Seconds(), b.QueueSelf.Seconds() + b.QueueCross.Seconds()}
}

var groupNames = [7]string{"round trips", "client think", "server think", "transfer", "window", "loss", "queueing"}

// expectedLeg is the emulator's leg from the capture point to one end and
// back: twice the one-way delay, plus a SYN's and a SYN/ACK's
// serialization (74 + 74 bytes) on the rate-limited hops in between
// (README: "SYN/SYN-ACK RTT (74+74 B)").
func expectedLeg(delayMs float64, hops []float64) float64 {
	ms := 2 * delayMs
	for _, kbit := range hops {
		if kbit > 0 {
			ms += 148 * 8 / kbit
		}
	}
	return ms
}

// TestVantagesAgree: every session of testdata/lab/vantage was captured at
// the client, in the middle (20 ms from the client, 55 ms and the 2 Mbit/s
// bottleneck from the server) and at the server at once. The three
// explanations of each connection agree: the same turns and round trips
// paid, the same limit, each budget part within 5 % of the duration of
// the others; and the vantage and both legs are the emulator's within
// max(2 %, 0.3 ms).
func TestVantagesAgree(t *testing.T) {
	g := loadVantageTruth(t, "vantage")
	sessions := map[string][3]*explain.Report{}
	points := map[string]int{"client": 0, "mid": 1, "server": 2}
	wantVantage := [3]tcpstate.Vantage{tcpstate.VantageClient, tcpstate.VantageMiddle, tcpstate.VantageServer}
	for _, f := range g.Files {
		rep, err := explain.AnalyzeFile(filepath.Join(labDir("vantage"), f.File), explain.Options{})
		require.NoError(t, err, f.Name)
		p := points[f.CapturePoint.Point]
		r := sessions[f.Session]
		r[p] = rep
		sessions[f.Session] = r
		// the emulator's legs: hop 1 is on the client's side of the middle
		var toClient, toServer []float64
		for _, l := range f.Legs {
			if l.Side == "client" && p >= 1 || l.Side == "server" && p == 2 {
				toClient = append(toClient, l.RateKbit)
			} else {
				toServer = append(toServer, l.RateKbit)
			}
		}
		wantC, wantS := expectedLeg(f.ToClientMs, toClient), expectedLeg(f.ToServerMs, toServer)
		for _, c := range rep.Conns {
			assert.Equal(t, wantVantage[p], c.Vantage, "%s conn %d", f.Name, c.ID)
			assert.InDelta(t, wantC, units.Ms(c.Legs.ToClient), max(0.02*wantC, 0.3), "%s conn %d leg to the client", f.Name, c.ID)
			assert.InDelta(t, wantS, units.Ms(c.Legs.ToServer), max(0.02*wantS, 0.3), "%s conn %d leg to the server", f.Name, c.ID)
		}
	}
	require.Len(t, sessions, 6)
	var table strings.Builder
	for name, reps := range sessions {
		require.Len(t, reps[1].Conns, len(reps[0].Conns), name)
		require.Len(t, reps[2].Conns, len(reps[0].Conns), name)
		for k := range reps[0].Conns {
			cs := [3]*explain.Conn{reps[0].Conns[k], reps[1].Conns[k], reps[2].Conns[k]}
			dur := cs[0].Budget.Duration.Seconds()
			for i := 1; i < 3; i++ {
				assert.Equal(t, cs[0].Server.Port(), cs[i].Server.Port(), "%s conn %d", name, k+1)
				assert.Equal(t, cs[0].Turns, cs[i].Turns, "%s conn %d turns", name, k+1)
				assert.Equal(t, cs[0].Model.RoundTrips, cs[i].Model.RoundTrips, "%s conn %d round trips paid", name, k+1)
				assert.Equal(t, cs[0].Limit, cs[i].Limit, "%s conn %d limit", name, k+1)
				assert.InDelta(t, dur, cs[i].Budget.Duration.Seconds(), 0.05*dur, "%s conn %d duration", name, k+1)
			}
			table.WriteString(name)
			for gi := range groupNames {
				worst := 0.0
				for i := 0; i < 3; i++ {
					for j := i + 1; j < 3; j++ {
						d := math.Abs(budgetGroups(cs[i].Budget)[gi] - budgetGroups(cs[j].Budget)[gi])
						assert.Less(t, d, 0.05*dur, "%s conn %d %s: %v vs %v", name, k+1, groupNames[gi], cs[i].Budget, cs[j].Budget)
						worst = max(worst, d/dur)
					}
				}
				table.WriteString("\t" + groupNames[gi] + " " + ftoa(100*worst) + "%")
			}
			table.WriteString("\n")
		}
	}
	t.Logf("largest difference between two captures of a session, share of its duration:\n%s", table.String())
}

// TestProjectionFromAnyVantage projects each clean session of the vantage
// set, from each of its three capture points, to the 600 ms path of
// testdata/lab/whatif's geo profile (the same 2 Mbit/s, 1000-frame queue;
// the RTT projected to is the ground truth's SYN/SYN-ACK RTT: 600 ms plus
// 148 bytes at 2 Mbit/s) and compares with the lab's capture of the same
// workload there: within 10 %. (The vt-loss sessions have no lossy
// counterpart at another RTT and the same rate.)
func TestProjectionFromAnyVantage(t *testing.T) {
	rtt := time.Duration((600 + 148*8/2000.0) * float64(time.Millisecond))
	var table strings.Builder
	for _, w := range []string{"pg-chatty", "pg-fetch15", "http-bulk-s", "mixed-s"} {
		geo, err := explain.AnalyzeFile(filepath.Join(labDir("whatif"), "geo-"+w+".pcap.gz"), explain.Options{})
		require.NoError(t, err)
		for _, p := range []string{"client", "mid", "server"} {
			rep, err := explain.AnalyzeFile(filepath.Join(labDir("vantage"), "vt-"+w+"-"+p+".pcap.gz"), explain.Options{})
			require.NoError(t, err)
			require.Len(t, rep.Conns, len(geo.Conns), w)
			for k, c := range rep.Conns {
				want := geo.Conns[k].Budget.Duration.Seconds()
				got := c.Project(rtt, 0).Duration.Seconds()
				errPct := 100 * (got - want) / want
				table.WriteString(strings.Join([]string{w, p, c.Proto, ftoa(want), ftoa(got), ftoa(errPct) + "%"}, "\t") + "\n")
				assert.Less(t, math.Abs(errPct), 10.0, "%s from the %s, conn %d", w, p, k+1)
			}
		}
	}
	t.Logf("workload\tfrom\tproto\tgeo_s\tprojected_s\terror\n%s", table.String())
}

// TestBulkQueueMatchesEmulator: the largest queueing delay of each lab
// bulk download, from its round trips under load, is the emulator's
// longest wait in the server-to-client queue (groundtruth.json
// queue.s2c.max_queue_delay_ms) within 10 %, at every capture point.
func TestBulkQueueMatchesEmulator(t *testing.T) {
	n := 0
	for _, set := range []string{"vantage", "span", "events"} {
		g := loadVantageTruth(t, set)
		for _, f := range g.Files {
			if !strings.Contains(f.Name, "bulk") && !strings.Contains(f.Name, "mixed") && !strings.Contains(f.Name, "flood") {
				continue
			}
			rep, err := explain.AnalyzeFile(filepath.Join(labDir(set), f.File), explain.Options{})
			require.NoError(t, err)
			c := rep.Conns[0] // the download (the first connection of mixed and flood)
			require.Equal(t, uint16(80), c.Server.Port(), f.Name)
			want := f.Queue.S2C.MaxDelayMs
			assert.InDelta(t, want, units.Ms(c.Queue.MaxDelay), 0.1*want, "%s", f.Name)
			assert.InDelta(t, units.Ms(c.RTT)+units.Ms(c.Queue.MaxDelay), units.Ms(c.Queue.LoadedRTT), 1e-5, "%s", f.Name)
			assert.InDelta(t, units.Ms(c.Queue.MaxDelay)/1000*c.Rate.BytesPerSecond(), c.Queue.MaxBytes, 1e-6, "%s", f.Name)
			n++
		}
	}
	assert.Equal(t, 6+3+2+2, n, "vantage: 6 bulk and 3 mixed; span: 2; events: blackout and flood")
}

// truncateAfterTurns writes a copy of capture name holding its packets
// before the client's turn number turns+1 (client data after server data).
func truncateAfterTurns(t *testing.T, name string, turns int) []byte {
	t.Helper()
	cut := uint64(0)
	n := 0
	var last tcpstate.Dir = tcpstate.ServerToClient
	_, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		if p.Seg == nil || p.Seg.Len == 0 || cut != 0 {
			return
		}
		if p.Dir == tcpstate.ClientToServer && last == tcpstate.ServerToClient {
			if n++; n == turns+1 {
				cut = p.Index
			}
		}
		last = p.Dir
	})}})
	require.NoError(t, err)
	require.NotZero(t, cut)
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	rd, err := flow.NewReader(f)
	require.NoError(t, err)
	var buf bytes.Buffer
	var w *flowtest.PcapWriter
	for {
		p, err := rd.Next()
		if err != nil || p.Index >= cut {
			break
		}
		if w == nil {
			w, err = flowtest.NewPcapWriter(&buf, uint32(p.LinkType), true)
			require.NoError(t, err)
		}
		require.NoError(t, w.WritePacket(p.Time, p.Data, p.Length))
	}
	return buf.Bytes()
}

// TestMixedChattyCrossTraffic: in the mixed session (a download, and 0.5 s
// later psql's 40 single-row queries on the same path) the queries that
// wait behind the download's queue are cross-traffic queueing, at every
// capture point; the server's think time is then what it is in the same
// workload run alone: vt-pg-chatty's first 43 turns (login and the same 40
// queries; groundtruth.json sql.statements) at the same capture point,
// within 10 %.
func TestMixedChattyCrossTraffic(t *testing.T) {
	for _, p := range []string{"client", "mid", "server"} {
		rep, err := explain.AnalyzeFile(filepath.Join(labDir("vantage"), "vt-mixed-s-"+p+".pcap.gz"), explain.Options{})
		require.NoError(t, err)
		require.Len(t, rep.Conns, 2)
		chatty := rep.Conns[1]
		require.Equal(t, "postgres", chatty.Proto)
		require.Equal(t, 44, chatty.Turns)
		alone, err := explain.Analyze(bytes.NewReader(truncateAfterTurns(t, filepath.Join(labDir("vantage"), "vt-pg-chatty-"+p+".pcap.gz"), 43)), explain.Options{})
		require.NoError(t, err)
		require.Len(t, alone.Conns, 1)
		a := alone.Conns[0]
		require.Equal(t, 43, a.Turns)
		// the download's queue reached 316 ms while the queries ran
		assert.Greater(t, chatty.Budget.QueueCross.Seconds(), 0.3, p)
		assert.Zero(t, a.Budget.QueueCross.Seconds(), p)
		assert.InDelta(t, a.Budget.ServerThink.Seconds(), chatty.Budget.ServerThink.Seconds(), 0.1*a.Budget.ServerThink.Seconds(),
			"%s: server think %.3f s mixed, %.3f s alone", p, chatty.Budget.ServerThink.Seconds(), a.Budget.ServerThink.Seconds())
		t.Logf("%s: queue_cross %.3f s; server think %.3f s mixed, %.3f s alone", p, chatty.Budget.QueueCross.Seconds(), chatty.Budget.ServerThink.Seconds(), a.Budget.ServerThink.Seconds())
	}
}
