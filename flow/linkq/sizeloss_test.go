package linkq_test

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/tcpstate"
)

// sweepResult is what a scripted sweep's loss pattern decided, per
// 100-byte bin of IP length: echoes sent and lost.
type sweepResult struct {
	sent, lost map[int]uint64
	total      uint64
}

// echoSweep writes an echo sweep as the lab's ping sweep makes it: n
// echoes of 0..1472 bytes of data spread evenly and shuffled by a seeded
// generator, one a second, answered 150 ms + serialization at 2 Mbit/s
// later. drop says whether the emulated link drops a frame of the given
// IP length travelling in direction dir (0: request, 1: reply); a
// request dropped is never answered, and a reply dropped never captured
// (the capture is at the requester).
func echoSweep(t *testing.T, n int, seed int64, drop func(dir, ipLen int) bool) ([]byte, sweepResult) {
	t.Helper()
	var buf bytes.Buffer
	w, err := flowtest.NewPcapWriter(&buf, flowtest.LinkRaw, true)
	require.NoError(t, err)
	res := sweepResult{sent: map[int]uint64{}, lost: map[int]uint64{}}
	order := rand.New(rand.NewSource(seed)).Perm(n)
	for i, k := range order {
		size := k * 1472 / (n - 1)
		ipLen := 28 + size
		at := t0.Add(time.Duration(i) * time.Second)
		req := flowtest.AppendICMPEcho(nil, hostA, hostB, false, 99, uint16(i), data(size, byte(i)))
		require.NoError(t, w.WritePacket(at, req, len(req)))
		res.sent[ipLen/100]++
		res.total++
		if drop(0, ipLen) || drop(1, ipLen) {
			res.lost[ipLen/100]++
			continue
		}
		rtt := 150*time.Millisecond + time.Duration(2*float64(ipLen+14)*8/2e6*float64(time.Second))
		rep := flowtest.AppendICMPEcho(nil, hostB, hostA, true, 99, uint16(i), data(size, byte(i)))
		require.NoError(t, w.WritePacket(at.Add(rtt), rep, len(rep)))
	}
	return buf.Bytes(), res
}

// meekRule is the lab emulator's size rule (Meek et al.'s 966-byte
// buffer): per direction, every other frame whose IP length exceeds 966
// bytes is dropped (the 2nd, 4th, ...).
func meekRule() func(dir, ipLen int) bool {
	var above [2]int
	return func(dir, ipLen int) bool {
		if ipLen <= 966 {
			return false
		}
		above[dir]++
		return above[dir]%2 == 0
	}
}

// bernoulli drops each frame with probability p, from a seeded generator.
func bernoulli(p float64, seed int64) func(dir, ipLen int) bool {
	rng := rand.New(rand.NewSource(seed))
	return func(int, int) bool { return rng.Float64() < p }
}

func echoLoss(t *testing.T, capture []byte) linkq.SizeLoss {
	t.Helper()
	rep, err := linkq.Analyze(bytes.NewReader(capture), linkq.Config{})
	require.NoError(t, err)
	require.Len(t, rep.SizeLoss, 1)
	sl := rep.SizeLoss[0]
	assert.Equal(t, linkq.SourceEcho, sl.Source)
	assert.Equal(t, hostA, sl.Src)
	assert.Equal(t, rep.Echo.Lost, sl.Lost, "the bins hold every lost echo")
	return sl
}

// checkBins compares the report's bins with the script's counts.
func checkBins(t *testing.T, sl linkq.SizeLoss, want sweepResult) {
	t.Helper()
	assert.Equal(t, linkq.DefaultLossBinWidth, sl.BinWidth)
	assert.Equal(t, want.total, sl.Sent)
	assert.Len(t, sl.LossBySize, len(want.sent))
	for _, b := range sl.LossBySize {
		assert.Equal(t, want.sent[b.Lo/100], b.Sent, "sent in [%d, %d)", b.Lo, b.Hi)
		assert.Equal(t, want.lost[b.Lo/100], b.Lost, "lost in [%d, %d)", b.Lo, b.Hi)
		assert.InDelta(t, float64(b.Lost)/float64(b.Sent), b.LossRate, 1e-12)
	}
}

// A 200-echo sweep through the 966-byte rule: no loss up to 966 bytes of
// IP length, and above it half the requests and half of the remaining
// replies dropped (3/4 of those echoes). The test flags it with the step
// found within one bin of 967, the first size dropped.
func TestSizeLossMeekRule(t *testing.T) {
	capture, want := echoSweep(t, 200, 1, meekRule())
	sl := echoLoss(t, capture)
	checkBins(t, sl, want)
	var lostBelow uint64
	for bin, n := range want.lost {
		if bin < 9 {
			lostBelow += n
		}
	}
	require.Zero(t, lostBelow, "the rule drops nothing of 966 bytes or less")

	st := sl.SizeDependentLoss
	t.Log(st.Message)
	assert.Equal(t, linkq.Fail, st.Level, st.Message)
	assert.Equal(t, linkq.SizeLossTestName, st.Test)
	assert.LessOrEqual(t, abs(st.Split-967), sl.BinWidth, "split %d within one bin of 967", st.Split)
	assert.Less(t, st.PValue, 1e-10)
	assert.Equal(t, len(want.sent)-1, st.Splits)
	assert.Equal(t, sl.Sent, st.SentBelow+st.SentAbove)
	assert.Equal(t, sl.Lost, st.LostBelow+st.LostAbove)
	// Above 966 bytes the script lost 3 echoes in 4 (requests: every
	// other; replies: every other of the rest); the step is about that.
	assert.InDelta(t, 0.75, st.LossAbove, 0.15)
	assert.InDelta(t, st.LossAbove-st.LossBelow, st.Step, 1e-12)
	assert.NotEmpty(t, st.Action)
}

// Bernoulli loss, 5 % each way (about 10 % of the echoes), does not
// depend on size: twenty seeded sweeps, none flagged.
func TestSizeLossBernoulliNotFlagged(t *testing.T) {
	minP := 1.0
	defer func() { t.Logf("smallest adjusted p-value of the 20 sweeps: %.3g", minP) }()
	for seed := int64(1); seed <= 20; seed++ {
		capture, want := echoSweep(t, 200, seed, bernoulli(0.05, 1000+seed))
		sl := echoLoss(t, capture)
		checkBins(t, sl, want)
		st := sl.SizeDependentLoss
		minP = min(minP, st.PValue)
		assert.Equal(t, linkq.Pass, st.Level, "seed %d: %s", seed, st.Message)
		assert.GreaterOrEqual(t, st.PValue, linkq.DefaultLossAlpha, "seed %d", seed)
	}
}

// The committed lab sweeps (wan2m: no loss; groundtruth.json: 200 echo
// pairs each, emulator lost 0) pass, 200 echoes in the bins.
func TestSizeLossLabSweeps(t *testing.T) {
	for _, name := range []string{"wan2m-ping-sweep.pcap", "wan2m-udp-echo.pcap"} {
		rep, err := linkq.AnalyzeFile(filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name), linkq.Config{})
		require.NoError(t, err)
		require.Len(t, rep.SizeLoss, 1, name)
		sl := rep.SizeLoss[0]
		assert.Equal(t, uint64(200), sl.Sent, name)
		assert.Zero(t, sl.Lost, name)
		assert.Equal(t, linkq.Pass, sl.SizeDependentLoss.Level, name)
		// 0..1472 bytes of data: IP lengths 28..1500, bins 0 to 1500.
		assert.Equal(t, 0, sl.LossBySize[0].Lo, name)
		assert.Equal(t, 1500, sl.LossBySize[len(sl.LossBySize)-1].Lo, name)
	}
}

// The lab's sweeps (testdata/lab/sweeps, once the lab set is merged):
// through the 966-byte rule, through 5 % Bernoulli loss each way, and
// clean. Each bin holds the requests the emulator received in that
// 100-byte bin of IP length (groundtruth.json emulator ip_len_bins) and,
// lost, those it dropped plus the replies it dropped (a dropped request
// is never answered; the capture is at the requester). The rule's sweep
// is flagged with the step within one bin of the rule's size (faults
// sizedrop_ip_len_above), the others are not.
func TestSizeLossLabRuleSweeps(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "sweeps")
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	if err != nil {
		t.Skipf("no %s (the lab's sweeps set is not merged yet)", dir)
	}
	type bin struct {
		From    int    `json:"ip_len_from"`
		Rx      uint64 `json:"rx"`
		Dropped uint64 `json:"dropped"`
	}
	var gt struct {
		Files []struct {
			File   string `json:"file"`
			Faults struct {
				SizeDrop int `json:"sizedrop_ip_len_above"`
			} `json:"faults"`
			Emulator struct {
				C2S struct {
					Bins []bin `json:"ip_len_bins"`
				} `json:"client_to_server"`
				S2C struct {
					Bins []bin `json:"ip_len_bins"`
				} `json:"server_to_client"`
			} `json:"emulator"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &gt))
	for _, f := range gt.Files {
		rep, err := linkq.AnalyzeFile(filepath.Join(dir, f.File), linkq.Config{})
		require.NoError(t, err, f.File)
		require.Len(t, rep.SizeLoss, 1, f.File)
		sl := rep.SizeLoss[0]
		want := map[int][2]uint64{}
		for _, x := range f.Emulator.C2S.Bins {
			w := want[x.From]
			want[x.From] = [2]uint64{w[0] + x.Rx, w[1] + x.Dropped}
		}
		for _, x := range f.Emulator.S2C.Bins {
			w := want[x.From]
			want[x.From] = [2]uint64{w[0], w[1] + x.Dropped}
		}
		for _, lb := range sl.LossBySize {
			assert.Equal(t, want[lb.Lo][0], lb.Sent, "%s: sent in [%d, %d)", f.File, lb.Lo, lb.Hi)
			assert.Equal(t, want[lb.Lo][1], lb.Lost, "%s: lost in [%d, %d)", f.File, lb.Lo, lb.Hi)
		}
		st := sl.SizeDependentLoss
		if f.Faults.SizeDrop > 0 {
			assert.Equal(t, linkq.Fail, st.Level, "%s: %s", f.File, st.Message)
			assert.LessOrEqual(t, abs(st.Split-(f.Faults.SizeDrop+1)), sl.BinWidth, "%s: split %d", f.File, st.Split)
			t.Logf("%s: %s", f.File, st.Message)
		} else {
			assert.Equal(t, linkq.Pass, st.Level, "%s: %s", f.File, st.Message)
		}
	}
}

// TCP data segments by size: a client sends 500- and 1400-byte segments
// in turn and every other 1400-byte one is resent (lost after the
// capture point). The bins count every transmission and, as lost, the
// retransmissions (TCPStats.Retransmitted); the test splits at the bin of
// 1440-byte IP packets (1400 + 40 bytes of headers).
func TestSizeLossTCPSegments(t *testing.T) {
	client := netip.MustParseAddrPort("10.0.0.1:40000")
	server := netip.MustParseAddrPort("10.0.0.2:5432")
	b := flowtest.NewBuilder(client, server, t0)
	b.Handshake(time.Millisecond, time.Millisecond, nil, nil)
	const rounds = 40
	var big int
	for range rounds {
		b.Advance(5 * time.Millisecond)
		b.Send(tcpstate.ClientToServer, 500, nil)
		b.Advance(5 * time.Millisecond)
		seq := b.Send(tcpstate.ClientToServer, 1400, nil)
		big++
		if big%2 == 0 {
			b.Advance(30 * time.Millisecond)
			b.Packet(tcpstate.ClientToServer, flowtest.Seg{Seq: seq, Len: 1400})
		}
		b.Ack(tcpstate.ServerToClient, nil)
	}
	rep, err := linkq.Analyze(bytes.NewReader(b.Bytes()), linkq.Config{})
	require.NoError(t, err)
	require.Len(t, rep.SizeLoss, 1, "the server sent no data")
	sl := rep.SizeLoss[0]
	assert.Equal(t, linkq.SourceTCP, sl.Source)
	assert.Equal(t, client.Addr(), sl.Src)
	require.Len(t, sl.LossBySize, 2)
	small, large := sl.LossBySize[0], sl.LossBySize[1]
	assert.Equal(t, 500, small.Lo)
	assert.Equal(t, uint64(rounds), small.Sent)
	assert.Zero(t, small.Lost)
	assert.Equal(t, 1400, large.Lo)
	assert.Equal(t, uint64(rounds+rounds/2), large.Sent, "40 originals and 20 retransmissions")
	assert.Equal(t, uint64(rounds/2), large.Lost)
	assert.Equal(t, rep.TCP.Retransmitted, sl.Lost)
	assert.Equal(t, rep.TCP.DataSegments, sl.Sent)
	st := sl.SizeDependentLoss
	assert.Equal(t, linkq.Fail, st.Level, st.Message)
	assert.Equal(t, 1400, st.Split)
	assert.Equal(t, 1, st.Splits)
	assert.InDelta(t, 20.0/60, st.LossAbove, 1e-12)
	assert.Zero(t, st.LossBelow)
}

// One size bin: nothing to compare.
func TestSizeLossOneBin(t *testing.T) {
	st := linkq.SizeDependence([]linkq.LossBin{{Lo: 100, Hi: 200, Sent: 50, Lost: 5}}, linkq.LossConfig{})
	assert.Equal(t, linkq.Info, st.Level)
	assert.Equal(t, 1.0, st.PValue)
	assert.Zero(t, st.Splits)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
