package explain_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

func explainWith(t *testing.T, name string, o explain.Options) []*explain.Conn {
	t.Helper()
	e := explain.New(o)
	_, err := flow.AnalyzeFile(name, flow.Config{Consumers: []flow.Consumer{e}})
	require.NoError(t, err)
	return e.Conns()
}

// whatIfProfiles are testdata/lab/whatif's link profiles, fastest first.
var whatIfProfiles = []string{"lan", "m20", "loss1", "shallow", "dsl512", "geo"}

// whatIfWorkloads are its nine workloads.
var whatIfWorkloads = []string{"pg-chatty", "pg-fetch15", "pg-fetch100", "my-chatty", "http-chatty", "http-bulk-s", "pg-bulk", "http-many", "mixed-s"}

// whatIfSession picks the connection a workload's figure is about: the
// only one, or in mixed-s the chatty PostgreSQL session sharing the path
// with the download (server port 5432).
func whatIfSession(t *testing.T, cs []*explain.Conn, name string) *explain.Conn {
	t.Helper()
	if len(cs) == 1 {
		return cs[0]
	}
	for _, c := range cs {
		if c.Server.Port() == 5432 {
			return c
		}
	}
	require.Fail(t, "no session", name)
	return nil
}

// carriesThink reports whether p names the think time it carries from
// the capture among its assumptions.
func carriesThink(p explain.Projection) bool {
	return slices.ContainsFunc(p.Assumptions, func(s string) bool { return strings.HasPrefix(s, "think time as captured") })
}

// TestWhatIfLab projects every workload of testdata/lab/whatif from each
// link profile to every other (9 workloads x 30 ordered pairs) and compares
// the projected duration with the workload's own capture on the target
// link (the lab's ground truth: groundtruth.json's profiles give the
// target's base RTT, rate, loss and queue).
func TestWhatIfLab(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif")
	g := loadTruth(t, dir)
	conns := map[string]*explain.Conn{}
	hsRTT := map[string]float64{}
	realized := map[string][2]float64{}
	for _, f := range g.Files {
		hsRTT[f.Name] = f.Measured.HandshakeRTTms[0]
		for d, k := range []string{"client_to_server", "server_to_client"} {
			if em := f.Emulator[k]; em.RX > 0 {
				r := realized[f.Name]
				r[d] = float64(em.Lost) / float64(em.RX)
				realized[f.Name] = r
			}
		}
		// the capture's own link rate, as compare -capture-rate gives it
		rate := units.BitRate(g.Profiles[f.Profile].RateKbit) * units.Kbps
		cs := explainWith(t, filepath.Join(dir, f.File), explain.Options{Keep: true, CaptureRate: rate})
		conns[f.Name] = whatIfSession(t, cs, f.Name)
	}
	var table strings.Builder
	var raw, model, drawn []float64
	lossy, inRange, thinkNamed := 0, 0, 0
	for _, w := range whatIfWorkloads {
		for _, from := range whatIfProfiles {
			for _, to := range whatIfProfiles {
				a, b := conns[from+"-"+w], conns[to+"-"+w]
				if from == to {
					continue
				}
				require.NotNil(t, a, from+"-"+w)
				require.NotNil(t, b, to+"-"+w)
				pr := g.Profiles[to]
				// the target as the user states it: its RTT as tshark
				// measured the handshake there (the lab's LAN adds
				// emulator time to the nominal 0.52 ms, see its README),
				// its rate, loss and queue limit from the profile
				rtt := time.Duration(hsRTT[to+"-"+w] * float64(time.Millisecond))
				p := a.ProjectTo(explain.Target{RTT: rtt, Rate: units.BitRate(pr.RateKbit) * units.Kbps,
					Loss: pr.Loss, LossKnown: true, QueueFrames: pr.Queue})
				if os.Getenv("WHATIF_DEBUG") == from+"-"+w+">"+to {
					pb, _ := json.Marshal(p)
					bb, _ := json.Marshal(b.Budget)
					ab, _ := json.Marshal(a.Model)
					sb, _ := json.Marshal(a.Stalls)
					t.Logf("projected %s\nmeasured %s\nmodel %s\nstalls %s", pb, bb, ab, sb)
				}
				want := b.Budget.Duration.Seconds()
				e := 100 * (p.Duration.Seconds() - want) / want
				// the model's own error: the same projection with the
				// hosts' think time the target's capture measured in
				// place of the source's (what the hosts spent differs
				// from run to run: see thinkTable)
				sub := p.Duration.Seconds() - p.Budget.Think().Seconds() + b.Budget.Think().Seconds()
				e2 := 100 * (sub - want) / want
				raw, model = append(raw, e), append(model, e2)
				if pr.Loss > 0 {
					// the loss the target's capture drew, each way: the
					// emulator drops at random, and a session of 400
					// segments at 1 % draws 0 to 8 losses (loss1-http-many:
					// 1 where 3.3 were expected)
					r := realized[to+"-"+w]
					tg := explain.Target{RTT: rtt, Rate: units.BitRate(pr.RateKbit) * units.Kbps,
						Loss: r[0], LossKnown: true, LossS2C: r[1], LossS2CKnown: true, QueueFrames: pr.Queue}
					pd := a.ProjectTo(tg)
					drawn = append(drawn, 100*(pd.Duration.Seconds()-pd.Budget.Think().Seconds()+b.Budget.Think().Seconds()-want)/want)
				} else {
					drawn = append(drawn, e2)
				}
				if pr.Loss > 0 {
					// into the lossy link: is the measured duration, with
					// the target's think, within the projection's range?
					lossy++
					if lo, hi := p.Best.Seconds()-p.Budget.Think().Seconds()+b.Budget.Think().Seconds(), p.Worst.Seconds()-p.Budget.Think().Seconds()+b.Budget.Think().Seconds(); want >= lo*0.98 && want <= hi*1.02 {
						inRange++
					}
				}
				fmt.Fprintf(&table, "%s\t%s->%s\t%.3f\t%.3f\t%+.1f%%\t%.3f\t%+.1f%%\t%+.1f%%\n", w, from, to, want, p.Duration.Seconds(), e, sub, e2, drawn[len(drawn)-1])
				if k := hsRTT[to+"-"+w] / hsRTT[from+"-"+w]; k > 0.6 && k < 1.6 {
					// a target of about the same RTT: the think carried
					// is the one the target's hosts would have
					assert.False(t, carriesThink(p), "%s %s -> %s: the think assumption in %q", w, from, to, p.Assumptions)
				}
				if math.Abs(e) > 25 {
					// every raw miss over 25 % is one where the hosts'
					// think, carried from another idle time, is off
					// (TestThinkFollowsIdle): the projection says so
					assert.True(t, carriesThink(p), "%s %s -> %s (%+.1f %%): the think assumption in %q", w, from, to, e, p.Assumptions)
					thinkNamed++
				}
				if (w == "http-bulk-s" || w == "pg-bulk") && to == "geo" {
					// bulk downloads onto the 600 ms path
					assert.Less(t, math.Abs(e), 10.0, "%s %s -> geo", w, from)
				}
			}
		}
	}
	t.Logf("workload\tprojection\tmeasured_s\tprojected_s\terror\twith_target_think_s\terror\tand_drawn_loss_error\n%s", table.String())
	rs, ms, ds := errStats(raw), errStats(model), errStats(drawn)
	t.Logf("projections: %s", rs)
	t.Logf("with the target's think time: %s", ms)
	t.Logf("with the target's think time and, into the lossy link, the loss its capture drew each way: %s", ds)
	t.Logf("over 25 %% raw, all naming the think they carry: %d", thinkNamed)
	t.Logf("into the lossy link: %d of %d within the projection's range (2 %% slack), the target's think time in place", inRange, lossy)
	t.Logf("think time per capture (s), client + server:\n%s", thinkTable(conns))
	require.Len(t, raw, 270)
	// floors of what the model reaches today, on the take of the lab set
	// committed 2026-12-02 on an idle machine (the bar: 90 %
	// within 10 %, none over 25 %, median 3 %). With the target's think
	// time in place the bar holds (251 within 10 %, none over 25 %); as
	// projected, the nineteen over 25 % are all onto the LAN, whose
	// sessions are 40 % think time: the hosts' think differs between
	// captures by a few tenths of a millisecond a turn (thinkTable:
	// pg-chatty 0.114 s on the LAN, 0.211 s at m20; TestThinkBothEnds
	// times the server's at its own interface). Until the turns' round
	// trips left out the serialization of the frames that timed the legs
	// (2.3 ms a turn at 512 kbit/s), that bias took think time away on the
	// slow links and hid part of the difference: 236 within 10 %, 7 over
	// 25 %, with the target's think 250 and a median of 1.0 %.
	assert.GreaterOrEqual(t, rs.within10, 226)
	assert.LessOrEqual(t, rs.median, 1.55)
	assert.LessOrEqual(t, rs.over25, 19)
	// with the target's think time in place of the source's
	assert.GreaterOrEqual(t, ms.within10, 251)
	assert.LessOrEqual(t, ms.median, 0.85)
	assert.Zero(t, ms.over25)
	// and with the loss the lossy target's capture drew each way (the
	// emulator's drops, groundtruth.json) given as -loss P,Q: what is
	// left is the model's own error (19 misses, three causes; see the
	// README's What-if)
	assert.GreaterOrEqual(t, ds.within10, 251)
	assert.LessOrEqual(t, ds.median, 0.65)
	assert.Zero(t, ds.over25)
	assert.GreaterOrEqual(t, inRange, 44, "of %d into the lossy link", lossy)
}

// TestProjectLossEachWay: the lab's chatty session (lan-pg-chatty: 204
// requests and 203 answers, each a lone data segment, groundtruth.json's
// data_segs) projected onto a 50 ms path that loses 1 % one way only. The
// losses priced are 1 % of that direction's segments, each a lone loss
// waiting for a timeout of 200 ms plus two RTTs; the two directions add up
// to the loss given both ways.
func TestProjectLossEachWay(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif")
	g := loadTruth(t, dir)
	var c2s, s2c int
	for _, f := range g.Files {
		if f.Name == "lan-pg-chatty" {
			c2s, s2c = f.Measured.C2S.DataSegs, f.Measured.S2C.DataSegs
		}
	}
	require.Equal(t, [2]int{204, 203}, [2]int{c2s, s2c})
	c := explainWith(t, filepath.Join(dir, "lan-pg-chatty.pcap.gz"), explain.Options{Keep: true, CaptureRate: 50 * units.Mbps})[0]
	at := func(p, q float64) explain.Projection {
		return c.ProjectTo(explain.Target{RTT: 50 * time.Millisecond, Rate: 5 * units.Mbps, QueueFrames: 1000,
			Loss: p, LossKnown: true, LossS2C: q, LossS2CKnown: true})
	}
	up, down, both := at(0.01, 0), at(0, 0.01), at(0.01, 0.01)
	assert.InDelta(t, 0.01*float64(c2s), up.Losses, 1e-9)
	assert.InDelta(t, 0.01*float64(s2c), down.Losses, 1e-9)
	assert.InDelta(t, 0.01*float64(c2s)*(0.2+2*0.05), up.Budget.RTO.Seconds(), 1e-6)
	assert.InDelta(t, 0.01*float64(s2c)*(0.2+2*0.05), down.Budget.RTO.Seconds(), 1e-6)
	assert.InDelta(t, up.Losses+down.Losses, both.Losses, 1e-9)
	// Loss alone is both ways
	same := c.ProjectTo(explain.Target{RTT: 50 * time.Millisecond, Rate: 5 * units.Mbps, QueueFrames: 1000, Loss: 0.01, LossKnown: true})
	assert.Equal(t, both, same)
	assert.Zero(t, at(0, 0).Losses)
}

// The session that shares its path with a download (testdata/lab/whatif
// mixed-s: curl fetches rows.csv, 278 KB, and 0.5 s after its start psql
// runs 40 queries over the same link) lists the download as cross
// traffic, and the projection replays it at the target: on the LAN
// capture the download is over before the queries begin, at 512 kbit/s it
// lasts seconds and the answers wait behind its queue. Projected from the
// LAN onto the dsl512 and shallow links, the session lands within 15 % and
// 5 % of those links' own captures (without the replay: -40 % and -14 %).
func TestCrossTrafficReplayed(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif")
	g := loadTruth(t, dir)
	session := func(name string) *explain.Conn {
		rate := units.BitRate(g.Profiles[strings.SplitN(name, "-", 2)[0]].RateKbit) * units.Kbps
		return whatIfSession(t, explainWith(t, filepath.Join(dir, name+".pcap.gz"), explain.Options{Keep: true, CaptureRate: rate}), name)
	}
	lan := session("lan-mixed-s")
	require.Len(t, lan.Cross, 1)
	dl := lan.Cross[0]
	// the download: rows.csv's 277,254 bytes (groundtruth's payload of
	// http-bulk-s), begun about half a second before the session
	assert.InDelta(t, 277254, float64(dl.BytesS2C), 2000)
	assert.InDelta(t, -0.5, dl.Offset.Seconds(), 0.1)
	for _, x := range []struct {
		to  string
		tol float64
	}{{"dsl512", 0.15}, {"shallow", 0.05}} {
		pr := g.Profiles[x.to]
		want := session(x.to + "-mixed-s").Budget.Duration.Seconds()
		p := lan.ProjectTo(explain.Target{RTT: time.Duration(pr.BaseRTTms * float64(time.Millisecond)), Rate: units.BitRate(pr.RateKbit) * units.Kbps,
			Loss: pr.Loss, LossKnown: true, QueueFrames: pr.Queue})
		assert.InEpsilon(t, want, p.Duration.Seconds(), x.tol, "lan -> %s", x.to)
		assert.Contains(t, strings.Join(p.Assumptions, "; "), "cross traffic")
	}
}

type stats struct {
	n, within10, over25 int
	median, worst       float64
}

func (s stats) String() string {
	return fmt.Sprintf("%d: median |error| %.1f %%, %d within 10 %%, %d over 25 %%, worst %.1f %%", s.n, s.median, s.within10, s.over25, s.worst)
}

func errStats(errs []float64) stats {
	abs := make([]float64, len(errs))
	s := stats{n: len(errs)}
	for i, e := range errs {
		abs[i] = math.Abs(e)
		if abs[i] <= 10 {
			s.within10++
		}
		if abs[i] > 25 {
			s.over25++
		}
	}
	sort.Float64s(abs)
	if len(abs) > 0 {
		s.median, s.worst = abs[len(abs)/2], abs[len(abs)-1]
	}
	return s
}

// thinkTable lists each chatty capture's think time, client and server
// (the budget's), beside the same workload's on the LAN.
func thinkTable(conns map[string]*explain.Conn) string {
	var b strings.Builder
	for _, w := range []string{"pg-chatty", "my-chatty", "http-chatty", "mixed-s"} {
		fmt.Fprintf(&b, "%s", w)
		for _, p := range whatIfProfiles {
			c := conns[p+"-"+w]
			fmt.Fprintf(&b, "\t%s %.3f + %.3f (%.2f ms/turn)", p, c.Budget.ClientThink.Seconds(), c.Budget.ServerThink.Seconds(),
				1000*c.Budget.Think().Seconds()/float64(max(c.Model.RoundTrips, 1)))
		}
		b.WriteString("\n")
	}
	return b.String()
}
