package linkq_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// groundTruth is the part of the lab's groundtruth.json the tests use.
type groundTruth struct {
	Profiles map[string]struct {
		OneWayDelayMs float64 `json:"one_way_delay_ms"`
		RateKbit      float64 `json:"rate_kbit_each_way"`
		BDPBytes      int64   `json:"bdp_bytes"`
	} `json:"profiles"`
	Files []struct {
		File     string `json:"file"`
		Profile  string `json:"profile"`
		Measured struct {
			ICMP    *echoFit `json:"icmp"`
			UDPEcho *echoFit `json:"udp_echo"`
		} `json:"measured"`
		Emulator struct {
			C2S emuDir `json:"client_to_server"`
			S2C emuDir `json:"server_to_client"`
		} `json:"emulator"`
	} `json:"files"`
}

type echoFit struct {
	Pairs          int     `json:"pairs"`
	SlopeUsPerByte float64 `json:"slope_us_per_byte"`
	InterceptMs    float64 `json:"intercept_ms"`
}

type emuDir struct {
	RxFrames int    `json:"rx_frames"`
	RxBytes  uint64 `json:"rx_bytes"`
	TxFrames int    `json:"tx_frames"`
	TxBytes  uint64 `json:"tx_bytes"`
	Lost     int    `json:"lost"`
}

func readGroundTruth(t *testing.T, dir string) *groundTruth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var gt groundTruth
	require.NoError(t, json.Unmarshal(b, &gt))
	return &gt
}

// echoCaptures returns the lab's echo sweeps: the shared corpus's ping
// sweeps and the project's own lab set (ping and UDP echo).
type labFile struct {
	path string
	gt   *groundTruth
	i    int // index in gt.Files
}

func labFiles(t *testing.T, dir string, match func(name string) bool) []labFile {
	gt := readGroundTruth(t, dir)
	var out []labFile
	for i, f := range gt.Files {
		if match(f.File) {
			if _, err := os.Stat(filepath.Join(dir, f.File)); err == nil {
				out = append(out, labFile{filepath.Join(dir, f.File), gt, i})
			}
		}
	}
	return out
}

// projectLab is the project's own lab set, committed under testdata/lab.
func projectLab(t *testing.T) string {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab")
	if _, err := os.Stat(filepath.Join(dir, "groundtruth.json")); err != nil {
		t.Skipf("no %s", dir)
	}
	return dir
}

func isSweep(name string) bool {
	return strings.Contains(name, "ping-sweep") || strings.Contains(name, "udp-echo")
}

// checkSweep fits one echo sweep and compares it with the emulated link:
// RTT(N) = 2·delay + 2·(N+42)·8/rate for N bytes of echo data, i.e. slope
// 16/rate s/byte and, over IP lengths (N+28), intercept 2·delay +
// 2·14·8/rate.
func checkSweep(t *testing.T, lf labFile) {
	f := lf.gt.Files[lf.i]
	prof := lf.gt.Profiles[f.Profile]
	rate := prof.RateKbit * 1000
	wantSlope := 16 / rate * 1e6 // µs/byte
	wantIcptIP := 2*prof.OneWayDelayMs + 2*14*8/rate*1000
	wantIcptPayload := 2*prof.OneWayDelayMs + 2*42*8/rate*1000
	fit := f.Measured.ICMP
	if fit == nil {
		fit = f.Measured.UDPEcho
	}
	require.NotNil(t, fit, "ground truth has no echo fit")

	rep, err := linkq.AnalyzeFile(lf.path, linkq.Config{Fit: linkq.FitConfig{LineSpeeds: []units.BitRate{units.BitRate(rate)}}})
	require.NoError(t, err)
	e := rep.Echo
	assert.Equal(t, uint64(f.Emulator.C2S.RxFrames), e.Requests)
	assert.Equal(t, uint64(f.Emulator.S2C.TxFrames), e.Replies)
	assert.Equal(t, uint64(f.Emulator.C2S.Lost+f.Emulator.S2C.Lost), e.Lost)
	assert.Equal(t, uint64(fit.Pairs), e.Matched)
	assert.Zero(t, e.Corrupted+e.Orphans+e.Late+e.Duplicates)
	require.Len(t, rep.Paths, 1)
	p := rep.Paths[0]
	assert.Equal(t, fit.Pairs, p.Samples)
	assert.InDelta(t, wantSlope, p.EstimatedSlopeUsPerByte, 1e-9)
	for name, l := range map[string]linkq.Line{"fit": p.Fit, "robust": p.Robust, "min_fit": p.MinFit} {
		require.True(t, l.OK, name)
		assert.InEpsilon(t, wantSlope, l.SlopeUsPerByte, 0.05, "%s slope", name)
		assert.InDelta(t, wantIcptIP, units.Ms(l.Intercept), 1, "%s intercept", name)
	}
	t.Logf("%s: slope %.4f µs/B (link %.4f), intercept %.4f ms (link %.4f), rms %.3f ms; min-fit %.4f µs/B %.4f ms rms %.3f",
		filepath.Base(lf.path), p.Fit.SlopeUsPerByte, wantSlope, units.Ms(p.Fit.Intercept), wantIcptIP, units.Ms(p.Fit.RMSResid),
		p.MinFit.SlopeUsPerByte, units.Ms(p.MinFit.Intercept), units.Ms(p.MinFit.RMSResid))

	// Over echo data lengths, the least-squares line is the one the lab
	// computed from the same capture, and the intercept moves to N = 0.
	rep, err = linkq.AnalyzeFile(lf.path, linkq.Config{Fit: linkq.FitConfig{Size: linkq.SizePayload}})
	require.NoError(t, err)
	require.Len(t, rep.Paths, 1)
	l := rep.Paths[0].Fit
	assert.InDelta(t, fit.SlopeUsPerByte, l.SlopeUsPerByte, 0.0005)
	assert.InDelta(t, fit.InterceptMs, units.Ms(l.Intercept), 0.0005)
	assert.InDelta(t, wantIcptPayload, units.Ms(l.Intercept), 1)
	assert.InDelta(t, p.Fit.SlopeUsPerByte, l.SlopeUsPerByte, 1e-6, "the slope does not depend on the size basis")
}

func TestLabEchoSweeps(t *testing.T) {
	files := labFiles(t, flowtest.CorpusDir(t, "lab"), isSweep)
	require.NotEmpty(t, files)
	for _, lf := range files {
		t.Run(filepath.Base(lf.path), func(t *testing.T) { checkSweep(t, lf) })
	}
}

func TestProjectLabEchoSweeps(t *testing.T) {
	files := labFiles(t, projectLab(t), isSweep)
	require.NotEmpty(t, files)
	var udp int
	for _, lf := range files {
		if strings.Contains(lf.path, "udp") {
			udp++
		}
		t.Run(filepath.Base(lf.path), func(t *testing.T) { checkSweep(t, lf) })
	}
	assert.Equal(t, 1, udp, "the UDP echo capture")
}

// TestLabEchoLoss drops every tenth reply of a real sweep before matching
// (each echo of the sweep is its own ping run, so all have sequence 1):
// those requests must be counted lost and the fit must not move much.
func TestLabEchoLoss(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "lab"), "wan2m-ping-sweep.pcap")
	a := linkq.New(linkq.Config{})
	var replies, dropped uint64
	_, err := flow.AnalyzeFile(path, flow.Config{Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
		if _, res := linkq.ParseEcho(p.Proto, p.L4, p.L4Len, nil); res == linkq.ParseReply {
			replies++
			if replies%10 == 3 {
				dropped++
				return
			}
		}
		a.Packet(p)
	}), flow.ConnFunc(a.ConnEnd)}})
	require.NoError(t, err)
	rep := a.Report()
	require.Equal(t, uint64(20), dropped)
	assert.Equal(t, dropped, rep.Echo.Lost)
	assert.Equal(t, uint64(180), rep.Echo.Matched)
	require.Len(t, rep.Paths, 1)
	assert.InEpsilon(t, 8.0, rep.Paths[0].Fit.SlopeUsPerByte, 0.05)
	assert.Equal(t, &linkq.PathEchoes{Requests: 200, Matched: 180, Lost: 20}, rep.Paths[0].Echoes)
}

// TestLabLinkUse checks the bytes per direction against the lab
// emulator's counters: the capture is on the client, so client-to-server
// frames are counted before the emulator (its received bytes) and
// server-to-client frames after it (its sent bytes).
func TestLabLinkUse(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	gt := readGroundTruth(t, dir)
	for _, name := range []string{"wan2m-ping-sweep.pcap", "wan2m-loss-pg-bulk.pcap", "wan512-http-bulk.pcap", "wan2m-pg-bulk-s96.pcap"} {
		t.Run(name, func(t *testing.T) {
			var emu *struct{ c2s, s2c emuDir }
			for _, f := range gt.Files {
				if f.File == name {
					emu = &struct{ c2s, s2c emuDir }{f.Emulator.C2S, f.Emulator.S2C}
				}
			}
			require.NotNil(t, emu)
			rep, err := linkq.AnalyzeFile(filepath.Join(dir, name), linkq.Config{Use: linkq.UseConfig{Interval: time.Second, Rate: 2e6}})
			require.NoError(t, err)
			require.Len(t, rep.Use.Pairs, 1)
			pu := rep.Use.Pairs[0]
			assert.Equal(t, "10.77.0.1", pu.A.String())
			var ab, ba uint64
			for i, b := range pu.Bins {
				ab += b.BytesAB
				ba += b.BytesBA
				assert.InDelta(t, float64(b.BytesAB)*8, float64(b.RateAB), 1e-6)
				assert.InDelta(t, 100*float64(b.RateBA)/2e6, b.PctBA, 1e-9)
				if i > 0 {
					assert.Equal(t, time.Second, b.Start.Sub(pu.Bins[i-1].Start))
				}
			}
			assert.Equal(t, emu.c2s.RxBytes, ab)
			assert.Equal(t, emu.s2c.TxBytes, ba)
			assert.Equal(t, pu.Bins[0].Start, pu.Bins[0].Start.Truncate(time.Second))
		})
	}
}

// goldenConn is one connection of testdata/golden/linkq/linkq.json
// (tshark's view; see gen_linkq.py).
type goldenConn struct {
	DataSrc               string `json:"data_src"`
	DataSegments          uint64 `json:"data_segments"`
	TsharkRetransmissions int    `json:"tshark_retransmissions"`
	ReceiverMaxWindow     int64  `json:"receiver_max_window"`
	MSS                   int    `json:"mss"`
}

func readGolden(t *testing.T) map[string]struct {
	TCP []goldenConn `json:"tcp"`
} {
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "linkq", "linkq.json"))
	require.NoError(t, err)
	var g map[string]struct {
		TCP []goldenConn `json:"tcp"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	return g
}

// TestLabVerdict judges the lab's 2 Mbit/s captures for a target of
// 2 Mbit/s at 150 ms: the lossy ones fail the loss test, the clean ones
// pass it. The figures are checked against the emulator's drop counters,
// tshark (window, segments, MSS) and the Mathis formula.
func TestLabVerdict(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	gt := readGroundTruth(t, dir)
	golden := readGolden(t)
	target := linkq.Target{RTT: 150 * time.Millisecond, Rate: 2e6}
	// lossDir names the direction whose emulator drops were all data
	// segments, so that its net retransmissions (spurious ones removed)
	// must equal them; the other direction lost only pure ACKs (or
	// nothing), so it has no net retransmission. "" for the clean files.
	cases := map[string]string{
		"wan2m-loss-pg-bulk.pcap": "s2c", "wan2m-loss-http-bulk.pcap": "s2c", "wan2m-loss-pg-chatty.pcap": "c2s",
		"wan2m-pg-bulk.pcap": "", "wan2m-http-bulk.pcap": "",
	}
	for _, f := range gt.Files {
		lossDir, ok := cases[f.File]
		if !ok {
			continue
		}
		delete(cases, f.File)
		t.Run(f.File, func(t *testing.T) {
			g := golden[f.File].TCP
			require.Len(t, g, 1)
			rep, err := linkq.AnalyzeFile(filepath.Join(dir, f.File), linkq.Config{Target: target})
			require.NoError(t, err)
			require.Len(t, rep.Verdicts, 1)
			v := rep.Verdicts[0]
			assert.Equal(t, "s2c", v.DataDir)
			assert.Equal(t, g[0].DataSrc, v.Server.Addr().String())
			assert.Equal(t, g[0].DataSegments, v.DataSegments)
			assert.Equal(t, uint64(g[0].TsharkRetransmissions), v.TsharkRetransmissions)
			assert.Equal(t, g[0].MSS-12, v.MSS) // timestamps on
			assert.Equal(t, g[0].ReceiverMaxWindow, v.MaxWindow)
			assert.Equal(t, gt.Profiles[f.Profile].BDPBytes, v.NeededWindow)
			x := math.Sqrt(1.5) * float64(v.MSS) / (0.150 * 2e6 / 8)
			assert.InDelta(t, x*x, v.MaxLoss, 1e-15)
			emu := map[string]int{"c2s": f.Emulator.C2S.Lost, "s2c": f.Emulator.S2C.Lost}
			failed := 0
			for _, c := range v.Checks {
				switch c.Name {
				case "loss":
					assert.Equal(t, c.Limit, v.MaxLoss)
					var data, retx, spur uint64
					_, err := fmt.Sscanf(c.Message, c.Dir+" loss %f%% (%d of %d segments", new(float64), &retx, &data)
					require.NoError(t, err, c.Message)
					fmt.Sscanf(c.Message[strings.Index(c.Message, "retransmitted")+13:], ", %d of them needlessly", &spur)
					want := 0
					if c.Dir == lossDir {
						want = emu[c.Dir]
						require.NotZero(t, want)
					}
					assert.Equal(t, uint64(want), retx-spur, "%s net retransmissions", c.Dir)
					assert.InDelta(t, float64(want)/float64(data), c.Measured, 1e-12)
					assert.Contains(t, c.Message, pct(c.Measured)+" ("+fmt.Sprint(retx)+" of")
					assert.Contains(t, c.Message, pct(x*x)+" that 2 Mbit/s at 150ms allows with MSS 1448")
					if c.Measured > x*x {
						failed++
						assert.Equal(t, linkq.Fail, c.Level)
						assert.Contains(t, c.Action, "must stay below 0.2236% (1 in 448 segments)")
					} else {
						assert.Equal(t, linkq.Pass, c.Level)
						assert.Empty(t, c.Action)
					}
				case "window", "mss":
					assert.Equal(t, linkq.Pass, c.Level, c.Name)
				}
			}
			if lossDir != "" {
				assert.Equal(t, 1, failed)
				assert.Equal(t, linkq.Fail, v.Overall)
			} else {
				assert.Zero(t, failed)
				assert.Equal(t, linkq.Pass, v.Overall)
			}
			t.Logf("%s: %s, data-direction loss %d/%d (%d spurious) = %.3f%% (max %.3f%%), window %d (need %d)", f.File, v.Overall,
				v.Retransmitted, v.DataSegments, v.Spurious, 100*v.LossRate, 100*v.MaxLoss, v.MaxWindow, v.NeededWindow)
		})
	}
	assert.Empty(t, cases, "captures missing from the ground truth")
}

// pct formats a rate as the verdict's messages do.
func pct(p float64) string { return fmt.Sprintf("%.3f%%", 100*p) }

// TestPublicEchoes holds the echo counters on the public corpus's echo
// captures (pings, ICMPv6, traceroutes, an ICMP tunnel) to tshark's
// (testdata/golden/linkq/echo.json, made by gen_linkq.py).
func TestPublicEchoes(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public/echo")
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "linkq", "echo.json"))
	require.NoError(t, err)
	var golden map[string]struct {
		Requests          uint64 `json:"requests"`
		Replies           uint64 `json:"replies"`
		Matched           uint64 `json:"matched"`
		ErrorsQuotingEcho uint64 `json:"errors_quoting_echo"`
	}
	require.NoError(t, json.Unmarshal(b, &golden))
	require.NotEmpty(t, golden)
	for name, g := range golden {
		t.Run(name, func(t *testing.T) {
			rep, err := linkq.AnalyzeFile(filepath.Join(dir, name), linkq.Config{})
			require.NoError(t, err)
			e := rep.Echo
			assert.Equal(t, g.Requests, e.Requests, "requests")
			assert.Equal(t, g.Replies, e.Replies, "replies")
			assert.Equal(t, g.Matched, e.Matched, "matched")
			assert.Equal(t, g.ErrorsQuotingEcho, e.ICMPErrors, "errors")
			// Each traceroute error answers one probe.
			assert.Equal(t, e.ICMPErrors, e.Errored)
			assert.Equal(t, e.Requests, e.Matched+e.Corrupted+e.Late+e.Errored+e.Lost+e.DuplicateRequests)
			assert.Equal(t, e.Replies, e.Matched+e.Corrupted+e.Late+e.Duplicates+e.Orphans)
			if g.Matched > 0 {
				require.Len(t, rep.Paths, 1)
				assert.Equal(t, int(g.Matched), rep.Paths[0].Samples)
			}
			t.Logf("%s: %+v", name, e)
		})
	}
}
