package linkq_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand"
	"net/netip"
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
	"github.com/netecology/netecology/tcpstate"
)

// duplexWant is what a scripted session holds, counted as it is written.
type duplexWant struct {
	twoWayFrames, oneWayFrames uint64 // data frames written in each kind of phase
	twoWayLost, oneWayLost     uint64 // data segments lost in each kind of phase
	twoWaySlots, oneWaySlots   uint64
}

const (
	phaseSteps = 80 // steps of 5 ms: 40 slots of 10 ms
	segLen     = 1000
)

// duplexSession scripts one TCP connection whose data flows in phases of
// 400 ms: 'c' (client data, the server answering with pure ACKs), 's'
// (server data) and 'b' (both directions at once, each segment carrying
// the ACK of the other direction). Each step of 5 ms every sending
// direction sends a 1000-byte segment. lose says whether the k-th new
// segment of a direction in a phase is lost; a lost segment is resent
// three steps (15 ms) later, and until then the receiver acknowledges
// only the bytes before it (duplicate ACKs). The first two and the last
// four segments of a phase are never lost, so that a phase's losses are
// resent in it and the packet a fast retransmission's label refers to
// (the ACK the duplicate ACKs repeat, sent a step before the loss) is in
// it too. With captured set the lost
// segment is in the capture (lost after the capture point), else not.
func duplexSession(t *testing.T, phases string, captured bool, lose func(phase byte, d tcpstate.Dir, k int) bool) ([]byte, duplexWant) {
	t.Helper()
	return duplexSessionOn(t, 40000, 0, phases, captured, lose)
}

// duplexSessionOn is duplexSession from client port port, every packet
// shifted by shift.
func duplexSessionOn(t *testing.T, port uint16, shift time.Duration, phases string, captured bool,
	lose func(phase byte, d tcpstate.Dir, k int) bool) ([]byte, duplexWant) {
	t.Helper()
	client := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port)
	server := netip.MustParseAddrPort("10.0.0.2:5432")
	b := flowtest.NewBuilder(client, server, t0.Add(shift))
	b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
	var want duplexWant
	seq := [2]uint32{1001, 5001} // after the SYNs (ISNs 1000 and 5000)
	acked := seq                 // what the receiver of each direction holds in order
	type hole struct {
		seq uint32
		due int
		on  bool
	}
	var holes [2]hole
	step := 0
	at := func(i int, k int) time.Time { // step i starts at 10 ms, packets 0.1 ms apart
		return t0.Add(shift + 10*time.Millisecond + time.Duration(i)*5*time.Millisecond + time.Duration(k)*100*time.Microsecond)
	}
	for _, ph := range []byte(phases) {
		senders := map[byte][]tcpstate.Dir{'c': {tcpstate.ClientToServer}, 's': {tcpstate.ServerToClient},
			'b': {tcpstate.ClientToServer, tcpstate.ServerToClient}}[ph]
		frames, lost := &want.oneWayFrames, &want.oneWayLost
		if ph == 'b' {
			frames, lost = &want.twoWayFrames, &want.twoWayLost
			want.twoWaySlots += phaseSteps / 2
		} else {
			want.oneWaySlots += phaseSteps / 2
		}
		var count [2]int
		for range phaseSteps {
			k := 0
			send := func(d tcpstate.Dir, s flowtest.Seg) {
				b.Advance(at(step, k).Sub(b.Now()))
				k++
				s.SetSeq, s.SetAck = true, true
				b.Packet(d, s)
			}
			for _, d := range senders {
				r := d.Reverse()
				if h := &holes[d]; h.on && h.due == step {
					send(d, flowtest.Seg{Seq: h.seq, Ack: acked[r], Len: segLen})
					*frames++
					h.on = false
					acked[d] = seq[d]
				}
				s := seq[d]
				seq[d] += segLen
				if !holes[d].on && count[d] >= 2 && count[d] < phaseSteps-4 && lose(ph, d, count[d]) {
					holes[d] = hole{seq: s, due: step + 3, on: true}
					*lost++
					if captured {
						send(d, flowtest.Seg{Seq: s, Ack: acked[r], Len: segLen})
						*frames++
					}
				} else {
					send(d, flowtest.Seg{Seq: s, Ack: acked[r], Len: segLen})
					*frames++
					if !holes[d].on {
						acked[d] = seq[d]
					}
				}
				count[d]++
			}
			if len(senders) == 1 { // the receiver's pure ACK
				d := senders[0]
				send(d.Reverse(), flowtest.Seg{Seq: seq[d.Reverse()], Ack: acked[d]})
			}
			step++
		}
		require.False(t, holes[0].on || holes[1].on, "a loss at the end of phase %c", ph)
	}
	return b.Bytes(), want
}

func duplexReport(t *testing.T, capture []byte, cfg linkq.Config) (*linkq.Report, linkq.DuplexReport) {
	t.Helper()
	rep, err := linkq.Analyze(bytes.NewReader(capture), cfg)
	require.NoError(t, err)
	require.Len(t, rep.Duplex, 1)
	return rep, rep.Duplex[0]
}

func checkCounts(t *testing.T, d linkq.DuplexReport, want duplexWant) {
	t.Helper()
	assert.Equal(t, want.twoWayFrames, d.TwoWayFrames, "two-way data frames")
	assert.Equal(t, want.oneWayFrames, d.OneWayFrames, "one-way data frames")
	assert.Equal(t, want.twoWayLost, d.TwoWayLost, "losses in two-way slots")
	assert.Equal(t, want.oneWayLost, d.OneWayLost, "losses in one-way slots")
	assert.Equal(t, want.twoWaySlots, d.TwoWaySlots)
	assert.Equal(t, want.oneWaySlots, d.OneWaySlots)
	assert.Zero(t, d.Unplaced)
}

const phases = "cbsbcbsb" // 3.2 s: 160 two-way and 160 one-way slots

// Losses only while both directions send (every 8th segment of each
// direction in the 'b' phases), lost after the capture point or before
// it: the check fails and says what to check.
func TestDuplexFlagsTwoWayLoss(t *testing.T) {
	for _, captured := range []bool{true, false} {
		capture, want := duplexSession(t, phases, captured, func(ph byte, _ tcpstate.Dir, k int) bool {
			return ph == 'b' && k%8 == 3
		})
		// 4 phases × 2 directions × 10 losses; none one way.
		require.Equal(t, uint64(80), want.twoWayLost)
		rep, d := duplexReport(t, capture, linkq.Config{Target: linkq.Target{RTT: 10 * time.Millisecond, Rate: 1e6}})
		checkCounts(t, d, want)
		assert.Equal(t, linkq.Fail, d.Check.Level, d.Check.Message)
		assert.Equal(t, linkq.DuplexAction, d.Check.Action)
		assert.Less(t, d.PValue, 1e-6)
		assert.Equal(t, linkq.DuplexTestName, d.Test)
		assert.InDelta(t, 10.0, units.Ms(d.Slot), 1e-12)
		// the connection's verdict carries the check
		require.Len(t, rep.Verdicts, 1)
		var dx *linkq.Check
		for i := range rep.Verdicts[0].Checks {
			if rep.Verdicts[0].Checks[i].Name == "duplex" {
				dx = &rep.Verdicts[0].Checks[i]
			}
		}
		require.NotNil(t, dx, "verdict has a duplex check")
		assert.Equal(t, linkq.Fail, dx.Level)
		assert.Equal(t, linkq.Fail, rep.Verdicts[0].Overall)
	}
}

// The same session with losses spread evenly (every 8th segment in every
// phase) or at random (5 %, seeded): the loss does not depend on traffic
// both ways, the check passes.
func TestDuplexUniformLossNotFlagged(t *testing.T) {
	capture, want := duplexSession(t, phases, true, func(_ byte, _ tcpstate.Dir, k int) bool { return k%8 == 3 })
	_, d := duplexReport(t, capture, linkq.Config{})
	checkCounts(t, d, want)
	assert.Equal(t, linkq.Pass, d.Check.Level, d.Check.Message)
	assert.Greater(t, d.PValue, 0.1)
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		capture, want := duplexSession(t, phases, seed%2 == 0, func(byte, tcpstate.Dir, int) bool { return rng.Float64() < 0.05 })
		_, d := duplexReport(t, capture, linkq.Config{})
		checkCounts(t, d, want)
		assert.Equal(t, linkq.Pass, d.Check.Level, "seed %d: %s", seed, d.Check.Message)
	}
}

// No loss: the check passes; with traffic one way only it cannot judge a
// loss.
func TestDuplexCleanAndOneWay(t *testing.T) {
	capture, want := duplexSession(t, phases, true, func(byte, tcpstate.Dir, int) bool { return false })
	_, d := duplexReport(t, capture, linkq.Config{})
	checkCounts(t, d, want)
	assert.Equal(t, linkq.Pass, d.Check.Level)
	assert.Zero(t, d.TwoWayLost+d.OneWayLost)

	capture, want = duplexSession(t, "cs", true, func(_ byte, _ tcpstate.Dir, k int) bool { return k%8 == 3 })
	_, d = duplexReport(t, capture, linkq.Config{})
	checkCounts(t, d, want)
	assert.Equal(t, linkq.Info, d.Check.Level, d.Check.Message)
}

// The lab's duplex-mismatch capture and its clean twin (testdata/lab/events,
// made by testdata/lab/make-captures.sh, LAB_SET=events): psql uploads a
// 3.85 MB CSV and, 1 s later, curl downloads it, both hosts sending at
// most 8 Mbit/s over a 10 Mbit/s link. In dpx10m-duplex the emulator loses
// a frame that overlaps one in the other direction with probability 0.05;
// dpx10m-duplex-clean is the same workload without collisions. The
// expected values come from the set's groundtruth.json: the emulator's
// list of the frames it dropped, tshark's retransmissions per direction
// (measured.*.retrans: frames flagged tcp.analysis.retransmission or
// fast_retransmission) and the data frames sent inside and outside the
// periods when both directions carried data (events.two_way, from the
// capture).
func TestDuplexLabCollisions(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "events")
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	if err != nil {
		t.Skipf("no %s (the lab's events set is not merged yet)", dir)
	}
	type frames struct {
		TwoWay uint64 `json:"two_way"`
		OneWay uint64 `json:"one_way"`
	}
	type dirStats struct {
		Retrans uint64 `json:"retrans"`
	}
	var gt struct {
		Files []struct {
			File     string `json:"file"`
			Measured struct {
				C2S dirStats `json:"c2s"`
				S2C dirStats `json:"s2c"`
			} `json:"measured"`
			Events struct {
				TwoWay struct {
					DataFrames struct {
						C2S frames `json:"c2s"`
						S2C frames `json:"s2c"`
					} `json:"data_frames"`
				} `json:"two_way"`
			} `json:"events"`
			Dropped []struct {
				Direction string `json:"direction"`
				Cause     string `json:"cause"`
				TCPLen    int    `json:"tcp_len"`
			} `json:"dropped_frames"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &gt))
	n := 0
	for _, f := range gt.Files {
		if !strings.HasPrefix(f.File, "dpx10m-duplex") {
			continue
		}
		n++
		lost := map[string]int{} // data frames lost to collisions, by direction
		for _, d := range f.Dropped {
			if d.Cause == "collision" && d.TCPLen > 0 {
				lost[d.Direction]++
			}
		}
		rep, err := linkq.AnalyzeFile(filepath.Join(dir, f.File), linkq.Config{})
		require.NoError(t, err, f.File)
		require.Len(t, rep.Duplex, 1, f.File)
		d := rep.Duplex[0]
		t.Logf("%s: data frames lost to collisions c2s %d, s2c %d; %s", f.File, lost["client_to_server"], lost["server_to_client"], d.Check.Message)
		// The slots of 10 ms the check calls two-way hold the data frames
		// the ground truth's two-way periods hold (a direction's data
		// frames up to 0.1 s apart), but for the frames at the periods'
		// edges and in pauses of 10-100 ms: on the committed takes 4078
		// against 4084 (collisions) and 4098 against 4093 (clean).
		tw := f.Events.TwoWay.DataFrames
		assert.InEpsilon(t, tw.C2S.TwoWay+tw.S2C.TwoWay, d.TwoWayFrames, 0.01, f.File)
		assert.Equal(t, tw.C2S.TwoWay+tw.S2C.TwoWay+tw.C2S.OneWay+tw.S2C.OneWay, d.TwoWayFrames+d.OneWayFrames, f.File)
		// Every loss the check counts is a segment tshark flags as a
		// retransmission: 75 c2s + 50 s2c on the committed take. The
		// emulator dropped 75 client data frames (72 segments, 3 of them
		// twice), all captured, and resent 75 times; and 76 server data
		// frames (72 segments, 4 twice), lost before the capture point, so
		// the client sees each segment once more, tshark calling 50 of
		// those retransmissions and 22 out-of-order (the check too).
		assert.Equal(t, f.Measured.C2S.Retrans+f.Measured.S2C.Retrans, d.TwoWayLost+d.OneWayLost, f.File)
		if f.File == "dpx10m-duplex-clean.pcap.gz" {
			require.Empty(t, f.Dropped, "the clean twin lost nothing")
			assert.Equal(t, linkq.Pass, d.Check.Level, d.Check.Message)
			continue
		}
		require.GreaterOrEqual(t, lost["client_to_server"], 10, "data frames both ways lost to collisions")
		require.GreaterOrEqual(t, lost["server_to_client"], 10, "data frames both ways lost to collisions")
		// On the committed take 125 of 4078 two-way data frames lost, 0
		// of 1332 one-way: the one-sided Fisher test's p-value is the
		// hypergeometric tail P(X >= 125), N = 5410, K = 125, n = 4078:
		// 2.814e-16 (Python: sum(comb(125,k)*comb(5285,4078-k) for k in
		// range(125,126))/comb(5410,4078)).
		assert.Equal(t, linkq.Fail, d.Check.Level, d.Check.Message)
		assert.Less(t, d.PValue, 1e-6, f.File)
		assert.Equal(t, linkq.DuplexAction, d.Check.Action)
	}
	assert.Equal(t, 2, n, "the duplex capture and its clean twin")
}

// Two connections between the same hosts, sending at the same moments
// (the second 1 ms behind), with losses in the two-way phases only. In a
// parallel pass flow puts connections in shards by a hash of their
// four-tuples: of the four choices of ports, flow's FNV-1a puts 40006 and
// 40007 in different shards of three. The forks' slots are put together,
// so the report
// on three workers is the one of one worker — the frames and losses of
// both connections, flagged.
func TestDuplexAcrossShards(t *testing.T) {
	lose := func(ph byte, _ tcpstate.Dir, k int) bool { return ph == 'b' && k%8 == 3 }
	for port := uint16(40000); port < 40008; port += 2 {
		c1, w1 := duplexSessionOn(t, port, 0, phases, true, lose)
		c2, w2 := duplexSessionOn(t, port+1, time.Millisecond, phases, false, lose)
		report := func(workers int) *linkq.Report {
			m, err := flow.NewMultiReader([]string{"one", "two"}, []io.Reader{bytes.NewReader(c1), bytes.NewReader(c2)})
			require.NoError(t, err)
			a := linkq.New(linkq.Config{Target: linkq.Target{RTT: 10 * time.Millisecond, Rate: 1e6}})
			_, err = flow.AnalyzeSource(m, flow.Config{Workers: workers, Consumers: []flow.Consumer{a}})
			require.NoError(t, err)
			return a.Report()
		}
		one, three := report(1), report(3)
		assert.Equal(t, one, three, "ports %d, %d", port, port+1)
		require.Len(t, one.Duplex, 1)
		d := one.Duplex[0]
		assert.Equal(t, w1.twoWayLost+w2.twoWayLost, d.TwoWayLost)
		assert.Equal(t, w1.twoWayFrames+w2.twoWayFrames, d.TwoWayFrames)
		assert.Equal(t, w1.oneWayFrames+w2.oneWayFrames, d.OneWayFrames)
		assert.Zero(t, d.OneWayLost)
		assert.Equal(t, linkq.Fail, d.Check.Level, d.Check.Message)
		require.Len(t, one.Verdicts, 2)
		for _, v := range one.Verdicts {
			assert.Equal(t, "duplex", v.Checks[len(v.Checks)-1].Name)
			assert.Equal(t, linkq.Fail, v.Overall)
		}
	}
}
