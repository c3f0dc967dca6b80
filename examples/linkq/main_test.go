package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-json", "-csv", "x.pcap"},
		{"-mode", "nope", "x.pcap"},
		{"-rate", "fast", "x.pcap"},
		{"-rate", "-2M", "x.pcap"},
		{"-line-speeds", "2M,,", "x.pcap"},
		{"-size", "bits", "x.pcap"},
		{"-target-rtt", "150ms", "x.pcap"},
		{"-mode", "verdict", "x.pcap"},
		{"-interval", "0s", "x.pcap"},
	} {
		code, _, stderr := runArgs(args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, stderr, "linkq:", "%v", args)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pcap")
	require.NoError(t, os.WriteFile(junk, []byte("not a capture at all"), 0o644))
	code, out, stderr := runArgs(junk, filepath.Join(dir, "missing.pcap"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "junk.pcap")
	assert.Contains(t, stderr, "missing.pcap")
	assert.Contains(t, out, "RTT against packet size")
}

// labTruth reads the emulator's drop counters and tshark's data segment
// count for one lab capture.
func labTruth(t *testing.T, dir, file string) (lostS2C int, dataSegs int) {
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var gt struct {
		Files []struct {
			File     string `json:"file"`
			Measured struct {
				S2C struct {
					DataSegs int `json:"data_segs"`
				} `json:"s2c"`
			} `json:"measured"`
			Emulator struct {
				S2C struct {
					Lost int `json:"lost"`
				} `json:"server_to_client"`
			} `json:"emulator"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &gt))
	for _, f := range gt.Files {
		if f.File == file {
			return f.Emulator.S2C.Lost, f.Measured.S2C.DataSegs
		}
	}
	t.Fatalf("%s not in the ground truth", file)
	return 0, 0
}

func TestLabText(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	sweep := filepath.Join(dir, "wan2m-ping-sweep.pcap")
	lossy := filepath.Join(dir, "wan2m-loss-pg-bulk.pcap")
	clean := filepath.Join(dir, "wan2m-pg-bulk.pcap")
	code, out, stderr := runArgs("-line-speeds", "2M", "-rate", "2M", "-target-rtt", "150ms", "-target-rate", "2M", sweep, lossy, clean)
	// The lossy bulk transfer fails its loss check (the emulator dropped
	// its segments): exit status 1, as a script gating on it needs.
	require.Equal(t, 1, code, stderr)
	assert.Equal(t, "linkq: 1 connection(s) failed the verdict\n", stderr)
	// The sweep's row: 200 echoes, slope near the link's 8 µs/byte.
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, sweep) && strings.Contains(l, " echo ") {
			row = l
		}
	}
	require.NotEmpty(t, row, out)
	f := strings.Fields(row)
	assert.Equal(t, "200", f[5])
	assert.Equal(t, "28-1500", f[6])
	assert.True(t, strings.HasPrefix(f[8], "7.98"), f[8])  // slope µs/byte
	assert.True(t, strings.HasPrefix(f[7], "150.1"), f[7]) // intercept ms
	assert.Equal(t, "8.0000", f[11])                       // estimated

	lost, segs := labTruth(t, dir, "wan2m-loss-pg-bulk.pcap")
	want := fmt.Sprintf("fail    loss        s2c loss %.3f%% (%d of %d segments retransmitted) exceeds the 0.224%% that 2 Mbit/s at 150ms allows with MSS 1448",
		100*float64(lost)/float64(segs), lost, segs)
	assert.Contains(t, out, want)
	assert.Contains(t, out, lossy+" conn 1 ")
	assert.Contains(t, out, "target 2 Mbit/s at 150ms: FAIL")
	_, segs = labTruth(t, dir, "wan2m-pg-bulk.pcap")
	assert.Contains(t, out, fmt.Sprintf("pass    loss        s2c loss 0.000%% (0 of %d segments retransmitted) is within the 0.224%%", segs))
	assert.Contains(t, out, "target 2 Mbit/s at 150ms: PASS")
}

func TestLabJSONAndCSV(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	sweep := filepath.Join(dir, "wan512-ping-sweep.pcap")
	code, out, stderr := runArgs("-json", "-points", sweep)
	require.Equal(t, 0, code, stderr)
	var rep struct {
		File  string `json:"file"`
		Paths []struct {
			Samples int `json:"samples"`
			Fit     struct {
				SlopeUsPerByte float64 `json:"slope_us_per_byte"`
			} `json:"fit"`
			Points []struct {
				Size  int     `json:"size"`
				RTTms float64 `json:"rtt_ms"`
			} `json:"points"`
		} `json:"paths"`
		Echo struct {
			Matched int `json:"matched"`
		} `json:"echo"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, sweep, rep.File)
	require.Len(t, rep.Paths, 1)
	assert.Equal(t, 200, rep.Echo.Matched)
	assert.Len(t, rep.Paths[0].Points, 200)
	assert.InEpsilon(t, 31.25, rep.Paths[0].Fit.SlopeUsPerByte, 0.05)

	code, out, stderr = runArgs("-csv", "-mode", "use", "-interval", "1m", "-rate", "512k", sweep)
	require.Equal(t, 0, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 1)
	assert.Equal(t, []string{"file", "start", "src", "dst", "bytes", "packets", "bps", "pct"}, rows[0])
	var bytesC2S int
	for _, r := range rows[1:] {
		if r[2] == "10.77.0.1" {
			var n int
			fmt.Sscan(r[4], &n)
			bytesC2S += n
		}
	}
	assert.Equal(t, 155600, bytesC2S) // the emulator's client-to-server bytes

	code, out, stderr = runArgs("-csv", sweep)
	require.Equal(t, 0, code, stderr)
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"file", "source", "src", "dst", "size", "n", "size_min", "size_max",
		"intercept_ms", "slope_us_per_byte", "slope_s_per_bit", "rms_ms", "estimated_us_per_byte",
		"min_intercept_ms", "min_slope_us_per_byte", "min_rms_ms", "theil_sen_slope_us_per_byte",
		"echo_requests", "echo_lost", "echo_corrupted"}, rows[0])
	assert.Equal(t, "200", rows[1][5])
}

func TestUseFigure(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	out := filepath.Join(t.TempDir(), "use.png")
	code, _, stderr := runArgs("-mode", "use", "-interval", "200ms", "-rate", "2M", "-fig", out, filepath.Join(dir, "wan2m-pg-bulk.pcap"))
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(b[:4]))

	code, _, stderr = runArgs("-mode", "use", "-fig", "use.gif", "x.pcap")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, ".png, .svg or .pdf")
	code, _, _ = runArgs("-fig", "use.png", "x.pcap")
	assert.Equal(t, 2, code, "-fig needs -mode use or fit")
}

// TestFitFigure draws Figure 1 (RTT against size with the fitted lines)
// from the committed ping sweep; -fig must not leak the points into the
// printed report.
func TestFitFigure(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fit.svg")
	sweep := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-ping-sweep.pcap")
	code, stdout, stderr := runArgs("-json", "-mode", "fit", "-no-tcp", "-fig", out, sweep)
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	svg := string(b)
	assert.True(t, strings.HasPrefix(svg, "<?xml"))
	// The legend carries the least-squares line's figures, the same the
	// report prints (slope 8.0027 µs/B against the link's 8).
	var r linkq.FileReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &r))
	require.NotEmpty(t, r.Paths)
	fit := r.Paths[0].Fit
	assert.InDelta(t, 8.0, fit.SlopeUsPerByte, 0.4)
	assert.Contains(t, svg, fmt.Sprintf("least squares: %.3f ms + %.4f µs/B", units.Ms(fit.Intercept), fit.SlopeUsPerByte))
	assert.Empty(t, r.Paths[0].Points, "points only with -points")

	code, _, stderr = runArgs("-mode", "fit", "-no-tcp", "-fig", out, filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no path with a fit to draw")
}

// A clean transfer passes (exit status 0), the same over a lossy link
// fails (1).
func TestVerdictExitStatus(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	code, out, stderr := runArgs("-mode", "verdict", "-target-rtt", "150ms", "-target-rate", "2M", filepath.Join(dir, "wan2m-pg-bulk.pcap"))
	assert.Equal(t, 0, code, stderr)
	assert.NotContains(t, out, "fail ")
	code, out, stderr = runArgs("-mode", "verdict", "-target-rtt", "150ms", "-target-rate", "2M", filepath.Join(dir, "wan2m-loss-pg-bulk.pcap"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "fail")
	assert.Contains(t, stderr, "failed the verdict")
}

func TestLabVerdictCSVAndJSON(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	f := filepath.Join(dir, "wan2m-loss-pg-chatty.pcap")
	code, out, stderr := runArgs("-csv", "-mode", "verdict", "-target-rtt", "150ms", "-target-rate", "2M", "-delayed-ack", f)
	require.Equal(t, 1, code, "the client's loss fails: %s", stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"file", "conn", "client", "server", "data_dir", "check", "dir", "level", "measured", "limit",
		"message", "action"}, rows[0])
	levels := map[string]string{}
	for _, r := range rows[1:] {
		assert.Equal(t, "s2c", r[4])
		levels[r[5]+" "+r[6]] = r[7] // check, its direction
		if r[5] == "loss" {
			assert.Equal(t, "0.001118", r[9][:8], "Mathis bound with C=0.87: (0.866·1448/37500)²")
		}
	}
	// The server's one resend was needless (D-SACK); the client lost one
	// request in 206.
	assert.Equal(t, "pass", levels["loss s2c"])
	assert.Equal(t, "fail", levels["loss c2s"])
	assert.Equal(t, "pass", levels["window "])
	assert.Equal(t, "warning", levels["timeouts "])

	code, out, _ = runArgs("-json", "-target-rtt", "150ms", "-target-rate", "2M", f)
	require.Equal(t, 1, code, "a failed verdict")
	var r linkq.FileReport
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Len(t, r.Verdicts, 1)
	v := r.Verdicts[0]
	assert.Equal(t, "fail", v.Overall.String())
	assert.Equal(t, 150.0, units.Ms(v.TargetRTT))
	assert.Equal(t, 2e6, float64(v.TargetRate))
	assert.Equal(t, uint64(1), v.Spurious)
}

// -loss-bin sets the width of the loss-by-size bins in the JSON: the
// committed ping sweep's 200 echoes (groundtruth.json: no loss) in
// 500-byte bins of IP length 28..1500, all passed.
func TestLossBin(t *testing.T) {
	code, out, stderr := runArgs("-json", "-loss-bin", "500", filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-ping-sweep.pcap"))
	require.Equal(t, 0, code, stderr)
	var r struct {
		SizeLoss []linkq.SizeLoss `json:"size_loss"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Len(t, r.SizeLoss, 1)
	assert.Equal(t, 500, r.SizeLoss[0].BinWidth)
	assert.Equal(t, uint64(200), r.SizeLoss[0].Sent)
	assert.Len(t, r.SizeLoss[0].LossBySize, 4, "bins at 0, 500, 1000 and 1500")
	assert.Equal(t, linkq.Pass, r.SizeLoss[0].SizeDependentLoss.Level)
}
