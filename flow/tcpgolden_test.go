package flow_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// tcpGolden is one file written by testdata/golden/tcp/gen_tcp.py: per
// tshark stream and direction, the frames carrying each tcp.analysis flag.
type tcpGolden struct {
	File    string   `json:"file"`
	Tshark  string   `json:"tshark"`
	Labels  []string `json:"labels"`
	Streams []struct {
		Stream int                     `json:"stream"`
		A      string                  `json:"a"`
		B      string                  `json:"b"`
		AB     map[string]goldenFrames `json:"ab"`
		BA     map[string]goldenFrames `json:"ba"`
		ABRTT  *goldenRTT              `json:"ab_ack_rtt"`
		MaxBIF struct {
			AB, BA uint32
			SACK   bool
		} `json:"max_bif"`
		BARTT *goldenRTT `json:"ba_ack_rtt"`
	} `json:"streams"`
}

// goldenRTT is tshark's tcp.analysis.ack_rtt for one direction's data:
// count and nearest-rank median.
type goldenRTT struct {
	N        uint64  `json:"n"`
	MedianMs float64 `json:"median_ms"`
}

type goldenFrames struct {
	N      uint64   `json:"n"`
	Frames []uint64 `json:"frames"`
}

// tcpAgreementBar is the share of (connection, direction, label) cells
// that must agree with tshark.
const tcpAgreementBar = 0.995

// labelCount returns our counter for a golden label name.
func labelCount(s *tcpstate.DirStats, name string) (uint64, bool) {
	m := map[string]uint64{
		"retransmissions": s.Retransmissions, "fast_retransmissions": s.FastRetransmissions,
		"spurious_retransmissions": s.SpuriousRetransmissions, "out_of_order": s.OutOfOrder,
		"dup_acks": s.DupAcks, "zero_windows": s.ZeroWindows, "zero_window_probes": s.ZeroWindowProbes,
		"zero_window_probe_acks": s.ZeroWindowProbeAcks, "window_full": s.WindowFull,
		"window_updates": s.WindowUpdates, "keepalives": s.KeepAlives, "keepalive_acks": s.KeepAliveAcks,
		"lost_segments": s.LostSegments, "acked_unseen": s.AckedUnseen,
	}
	v, ok := m[name]
	return v, ok
}

// labelOf maps a golden label name to the labels whose packets it counts.
var labelOf = map[string][]tcpstate.Label{
	"retransmissions":          {tcpstate.Retransmission, tcpstate.FastRetransmission, tcpstate.SpuriousRetransmission},
	"fast_retransmissions":     {tcpstate.FastRetransmission},
	"spurious_retransmissions": {tcpstate.SpuriousRetransmission},
	"out_of_order":             {tcpstate.OutOfOrder},
	"dup_acks":                 {tcpstate.DupAck},
	"zero_windows":             {tcpstate.ZeroWindow},
	"zero_window_probes":       {tcpstate.ZeroWindowProbe},
	"zero_window_probe_acks":   {tcpstate.ZeroWindowProbeAck},
	"window_full":              {tcpstate.WindowFull},
	"window_updates":           {tcpstate.WindowUpdate},
	"keepalives":               {tcpstate.KeepAlive},
	"keepalive_acks":           {tcpstate.KeepAliveAck},
	"lost_segments":            {tcpstate.LostSegment},
	"acked_unseen":             {tcpstate.AckedUnseen},
}

// knownTCPDiff is one row of testdata/golden/tcp/DIFFERENCES.md.
type knownTCPDiff struct {
	file, dir, label string
	stream           int
}

// readKnownTCPDiffs parses the table rows "| golden | stream | dir | label
// | tshark | ours | reason |" of DIFFERENCES.md.
func readKnownTCPDiffs(t *testing.T, path string) map[knownTCPDiff]string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[knownTCPDiff]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "|"), "|")
		require.GreaterOrEqual(t, len(cols), 7, "bad row %q", line)
		for i := range cols {
			cols[i] = strings.Trim(strings.TrimSpace(cols[i]), "`")
		}
		st, err := strconv.Atoi(cols[1])
		require.NoError(t, err, "row %q", line)
		out[knownTCPDiff{cols[0], cols[2], cols[3], st}] = cols[6]
	}
	require.NoError(t, sc.Err())
	return out
}

// TestTCPGolden compares, for every capture with a golden file, each
// connection's per-direction label counts with tshark's tcp.analysis
// flags. Aggregate agreement over (connection, direction, label) cells
// must reach tcpAgreementBar, and every differing cell must be listed in
// DIFFERENCES.md with its reason (and every listed one must still differ).
func TestTCPGolden(t *testing.T) {
	root := flowtest.RepoRoot()
	dir := filepath.Join(root, "testdata", "golden", "tcp")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no goldens; run python3 testdata/golden/tcp/gen_tcp.py")
	known := readKnownTCPDiffs(t, filepath.Join(dir, "DIFFERENCES.md"))
	// Every capture of the corpus has its golden: a new capture needs
	// gen_tcp.py run again.
	for _, sub := range []string{"public", "lab"} {
		cdir := flowtest.CorpusDir(t, sub)
		for _, p := range flowtest.Captures(t, cdir) {
			rel, err := filepath.Rel(filepath.Dir(cdir), p)
			require.NoError(t, err)
			name := strings.ReplaceAll(filepath.ToSlash(rel), "/", "_") + ".json"
			assert.FileExists(t, filepath.Join(dir, name), "no golden for %s: run python3 testdata/golden/tcp/gen_tcp.py", p)
		}
	}
	seen := map[knownTCPDiff]bool{}
	var cells, agree, labelled, labelledAgree int
	var unlisted []string
	checked := 0
	var rttDirs, rttSame, rttKarn int
	var bifDirs, bifSame int
	var bifDiff []string
	for _, gf := range files {
		var g tcpGolden
		raw, err := os.ReadFile(gf)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &g), gf)
		name := filepath.Base(gf)
		rel := strings.TrimPrefix(g.File, "../shared/corpus/")
		flowtest.CorpusDir(t, strings.SplitN(rel, "/", 2)[0])
		frames := map[[3]int][]uint64{} // (conn ID, dir, label) -> packet indexes
		res, _ := flow.AnalyzeFile(filepath.Join(root, g.File), flow.Config{KeepConns: true, Consumers: []flow.Consumer{flow.PacketFunc(func(p *flow.PacketInfo) {
			if p.Analysis == nil || p.Analysis.Labels == 0 {
				return
			}
			for l := tcpstate.Label(0); l < tcpstate.NumLabels; l++ {
				if p.Analysis.Labels.Has(l) {
					k := [3]int{p.Conn.ID, int(p.Dir), int(l)}
					frames[k] = append(frames[k], p.Index)
				}
			}
		})}})
		require.NotNil(t, res, g.File)
		checked++
		byPair := map[string][]*flow.Conn{}
		for _, c := range res.Conns {
			k := pairKey(c.Client.String(), c.Server.String())
			byPair[k] = append(byPair[k], c)
		}
		used := map[string]int{}
		for _, s := range g.Streams {
			k := pairKey(s.A, s.B)
			i := used[k]
			used[k]++
			var c *flow.Conn
			if i < len(byPair[k]) {
				c = byPair[k][i]
			}
			for _, d := range []string{"ab", "ba"} {
				want := s.AB
				if d == "ba" {
					want = s.BA
				}
				var st *tcpstate.DirStats
				our := tcpstate.ClientToServer
				if c != nil {
					st = &c.C2S
					if (c.Client.String() == s.A) != (d == "ab") {
						st, our = &c.S2C, tcpstate.ServerToClient
					}
				}
				if c != nil && !s.MaxBIF.SACK && len(s.AB)+len(s.BA) == 0 {
					// No SACK and no label on the stream: our SACK-aware
					// bytes in flight must equal tshark's.
					bifDirs++
					w := s.MaxBIF.AB
					if d == "ba" {
						w = s.MaxBIF.BA
					}
					if st.MaxInFlight == w {
						bifSame++
					} else {
						key := knownTCPDiff{name, d, "max_in_flight", s.Stream}
						seen[key] = true
						if _, ok := known[key]; !ok {
							bifDiff = append(bifDiff, fmt.Sprintf("| `%s` | %d | %s | max_in_flight | %d | %d | ? |", name, s.Stream, d, w, st.MaxInFlight))
						}
					}
				}
				if c != nil {
					rttDirs++
					gr := s.ABRTT
					if d == "ba" {
						gr = s.BARTT
					}
					ours := c.RTT.C2S.Data
					if our == tcpstate.ServerToClient {
						ours = c.RTT.S2C.Data
					}
					var wn uint64
					var wmed float64
					if gr != nil {
						wn, wmed = gr.N, gr.MedianMs
					}
					retx := want["retransmissions"].N + want["out_of_order"].N + want["keepalives"].N
					switch {
					case ours.Samples == wn && (wn == 0 || math.Abs(units.Ms(ours.Median)-wmed) < 0.0015):
						rttSame++
					case retx > 0 && ours.Samples < wn:
						// Karn's rule: we take no sample from an ACK of
						// data sent more than once (retransmitted,
						// out-of-order, a keep-alive's byte); tshark does.
						rttKarn++
					default:
						key := knownTCPDiff{name, d, "ack_rtt", s.Stream}
						seen[key] = true
						if _, ok := known[key]; !ok {
							unlisted = append(unlisted, fmt.Sprintf("| `%s` | %d | %s | ack_rtt | %d (median %.3f ms) | %d (median %.3f ms) | ? |",
								name, s.Stream, d, wn, wmed, ours.Samples, units.Ms(ours.Median)))
						}
					}
				}
				for _, lab := range g.Labels {
					w := want[lab].N
					var got uint64
					if st != nil {
						got, _ = labelCount(st, lab)
					}
					cells++
					if w > 0 || got > 0 {
						labelled++
					}
					key := knownTCPDiff{name, d, lab, s.Stream}
					framesDiffer := false
					if got == w && c != nil && w > 0 && uint64(len(want[lab].Frames)) == w {
						// Same count: the very same packets too.
						var ours []uint64
						for _, l := range labelOf[lab] {
							ours = append(ours, frames[[3]int{c.ID, int(our), int(l)}]...)
						}
						slices.Sort(ours)
						if !slices.Equal(slices.Compact(ours), want[lab].Frames) {
							framesDiffer = true
						}
					}
					if got == w && !framesDiffer {
						agree++
						if w > 0 {
							labelledAgree++
						}
						continue
					}
					seen[key] = true
					if _, ok := known[key]; ok {
						continue
					}
					var ours []uint64
					if c != nil {
						for _, l := range labelOf[lab] {
							ours = append(ours, frames[[3]int{c.ID, int(our), int(l)}]...)
						}
						slices.Sort(ours)
						ours = slices.Compact(ours)
					}
					unlisted = append(unlisted, fmt.Sprintf("| `%s` | %d | %s | %s | %d | %d | frames tshark %v ours %v |",
						name, s.Stream, d, lab, w, got, want[lab].Frames, firstFrames(ours)))
				}
			}
		}
	}
	for k, why := range known {
		assert.True(t, seen[k], "DIFFERENCES.md lists %v (%s) but it now agrees with tshark: remove the row", k, why)
	}
	t.Logf("data→ACK RTT per connection direction: %d compared, %d same sample count and median as tshark's ack_rtt, %d fewer samples by Karn's rule after retransmissions",
		rttDirs, rttSame, rttKarn)
	t.Logf("max bytes in flight on directions of streams with no SACK and no label: %d compared, %d equal to tshark's", bifDirs, bifSame)
	assert.Empty(t, bifDiff, "max bytes in flight differs from tshark's, not listed in DIFFERENCES.md:\n%s", strings.Join(bifDiff, "\n"))
	share := float64(agree) / float64(max(cells, 1))
	t.Logf("%d captures, %d cells, %d agree (%.3f %%); cells where either side has a label: %d, both equal and non-zero: %d",
		checked, cells, agree, 100*share, labelled, labelledAgree)
	assert.GreaterOrEqual(t, share, tcpAgreementBar, "aggregate agreement with tshark below the bar")
	assert.Empty(t, unlisted, "differences from tshark not listed in testdata/golden/tcp/DIFFERENCES.md:\n%s", strings.Join(unlisted, "\n"))
}

// firstFrames trims a frame list for a message.
func firstFrames(f []uint64) []uint64 {
	if len(f) > 64 {
		return f[:64]
	}
	return f
}

func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}

// labTruth is the part of ../shared/corpus/lab/groundtruth.json the RTT
// tests read.
type labTruth struct {
	Profiles map[string]struct {
		BaseRTTMs float64 `json:"base_rtt_ms"`
		RateKbit  float64 `json:"rate_kbit_each_way"`
	} `json:"profiles"`
	Files []struct {
		Name     string `json:"name"`
		File     string `json:"file"`
		Profile  string `json:"profile"`
		Measured struct {
			C2S struct {
				DataSegs uint64  `json:"data_segs"`
				MeanSeg  float64 `json:"mean_seg"`
			} `json:"c2s"`
			S2C struct {
				DataSegs uint64  `json:"data_segs"`
				MeanSeg  float64 `json:"mean_seg"`
			} `json:"s2c"`
			HandshakeRTTMs []float64 `json:"handshake_rtt_ms"`
		} `json:"measured"`
	} `json:"files"`
}

func readLabTruth(t *testing.T) (string, *labTruth) {
	dir := flowtest.CorpusDir(t, "lab")
	raw, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var gt labTruth
	require.NoError(t, json.Unmarshal(raw, &gt))
	require.NotEmpty(t, gt.Files)
	return dir, &gt
}

// frameOverhead is the bytes a lab frame adds to its TCP payload:
// Ethernet 14 + IPv4 20 + TCP 20 + timestamp option 12.
const frameOverhead = 66

// TestLabHandshakeRTT checks the handshake RTT of every lab capture
// against the emulator's profile. The SYN and SYN/ACK frames (74 bytes
// each) are serialized at the profile's rate on top of the base RTT, which
// at 2 Mbit/s and a 10 ms base RTT alone is 6 % of it; so the reference is
// the profile's SYN/SYN-ACK RTT, base + (74+74)·8/rate, as the lab README
// tabulates it. The capture point is the client's interface, so the
// network round trip is the SYN→SYN/ACK leg (the SYN/ACK→ACK leg, under
// 0.2 ms here, is the client host's own turnaround); the vantage must be
// inferred as near the client. The fastest connection of each capture must be within 2 %
// of it (wan512-mixed's second connection waits behind a bulk transfer's
// queue by design), and each connection's SYN→SYN/ACK time must match the
// lab's own measurement.
func TestLabHandshakeRTT(t *testing.T) {
	dir, gt := readLabTruth(t)
	checked := 0
	for _, f := range gt.Files {
		if len(f.Measured.HandshakeRTTMs) == 0 {
			continue // ping sweeps: no TCP
		}
		t.Run(f.Name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, f.File)); err != nil {
				t.Skipf("%s listed in groundtruth.json but not in the corpus", f.File)
			}
			p := gt.Profiles[f.Profile]
			require.NotZero(t, p.RateKbit)
			want := p.BaseRTTMs + 148*8/p.RateKbit
			res, err := flow.AnalyzeFile(filepath.Join(dir, f.File), flow.Config{KeepConns: true})
			require.NoError(t, err)
			require.NotEmpty(t, res.Conns)
			best := 0.0
			var legs []float64
			for _, c := range res.Conns {
				require.Positive(t, c.RTT.Handshake, "conn %d has no handshake RTT", c.ID)
				assert.InDelta(t, units.Ms(c.RTT.Handshake), units.Ms(c.RTT.SynToSynAck+c.RTT.SynAckToAck), 0.0015)
				if best == 0 || units.Ms(c.RTT.SynToSynAck) < best {
					best = units.Ms(c.RTT.SynToSynAck)
				}
				legs = append(legs, units.Ms(c.RTT.SynToSynAck))
				assert.Equal(t, tcpstate.VantageClient, c.Vantage, "the lab captures at the client")
			}
			assert.InEpsilon(t, want, best, 0.02, "handshake RTT %.3f ms vs profile %.3f ms", best, want)
			slices.Sort(legs)
			assert.InDelta(t, f.Measured.HandshakeRTTMs[0], legs[0], 0.002, "SYN→SYN/ACK vs the lab's measurement")
			assert.InDelta(t, f.Measured.HandshakeRTTMs[2], legs[len(legs)-1], 0.002, "SYN→SYN/ACK vs the lab's measurement")
			checked++
		})
	}
	assert.Greater(t, checked, 30)
}

// TestLabChattyRTT checks the median data→ACK RTT of the chatty lab
// captures, where each request is answered by one response segment that
// acknowledges it. The expected round trip is the lab's formula:
// 2·delay + (request frame + response frame)·8/rate, with the mean
// payload per direction from groundtruth.json plus frameOverhead.
func TestLabChattyRTT(t *testing.T) {
	dir, gt := readLabTruth(t)
	checked := 0
	for _, f := range gt.Files {
		if !strings.Contains(f.Name, "chatty") {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, f.File)); err != nil {
				t.Skipf("%s listed in groundtruth.json but not in the corpus", f.File)
			}
			p := gt.Profiles[f.Profile]
			m := f.Measured
			want := p.BaseRTTMs + (m.C2S.MeanSeg+m.S2C.MeanSeg+2*frameOverhead)*8/p.RateKbit
			res, err := flow.AnalyzeFile(filepath.Join(dir, f.File), flow.Config{KeepConns: true})
			require.NoError(t, err)
			require.Len(t, res.Conns, 1)
			r := res.Conns[0].RTT
			assert.Greater(t, r.Samples, m.C2S.DataSegs*9/10, "about one sample per request")
			assert.InEpsilon(t, want, units.Ms(r.Median), 0.05, "median data→ACK RTT %.3f ms vs expected %.3f ms", units.Ms(r.Median), want)
			assert.InEpsilon(t, units.Ms(r.C2S.Data.Median), units.Ms(r.C2S.TS.Median), 0.05, "timestamp echoes agree with data→ACK")
			assert.LessOrEqual(t, r.Min, r.Median)
			assert.LessOrEqual(t, r.Median, r.P95)
			assert.LessOrEqual(t, r.P95, r.Max)
			checked++
		})
	}
	assert.GreaterOrEqual(t, checked, 10)
}
