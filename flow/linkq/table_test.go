package linkq_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/linkq"
	"github.com/netecology/netecology/flow/units"
)

// committed returns the path of a lab capture committed in testdata/lab.
func committed(name string) string {
	return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name)
}

func analyzeFile(t *testing.T, path string, cfg linkq.Config) linkq.FileReport {
	t.Helper()
	rep, err := linkq.AnalyzeFile(path, cfg)
	require.NoError(t, err)
	return linkq.FileReport{File: filepath.Base(path), Report: rep}
}

// column returns the named column of a table.
func column(t *testing.T, tb linkq.Table, name string) []string {
	t.Helper()
	for i, h := range tb.Header {
		if h == name {
			var out []string
			for _, r := range tb.Rows {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %q in %v", name, tb.Header)
	return nil
}

// The committed ping sweep (testdata/lab/README.md): 200 echoes of IP
// length 28 to 1500 bytes (tshark -e ip.len), none lost, on a 2 Mbit/s
// link of 150 ms. The lab's least-squares fit over the payload has slope
// 8.0027 µs/B and intercept 150.4249 ms; over IP lengths (payload + 28)
// the slope is the same and the intercept 150.4249 - 28·0.0080027 =
// 150.201 ms. The slope 2 Mbit/s predicts is 16/rate = 8 µs/B.
func TestFitTables(t *testing.T) {
	cfg := linkq.Config{NoTCPSamples: true, Fit: linkq.FitConfig{LineSpeeds: []units.BitRate{2e6}}}
	reps := []linkq.FileReport{analyzeFile(t, committed("wan2m-ping-sweep.pcap"), cfg)}
	tb := linkq.FitTable(reps)
	require.Len(t, tb.Rows, 1)
	require.Len(t, tb.Header, 20)
	for _, r := range tb.Rows {
		require.Len(t, r, len(tb.Header))
	}
	cell := func(name string) string { return column(t, tb, name)[0] }
	assert.Equal(t, "wan2m-ping-sweep.pcap", cell("file"))
	assert.Equal(t, "echo", cell("source"))
	assert.Equal(t, "10.77.0.1", cell("src"))
	assert.Equal(t, "10.77.0.2", cell("dst"))
	assert.Equal(t, "ip", cell("size"))
	assert.Equal(t, "200", cell("n"))
	assert.Equal(t, "28", cell("size_min"))
	assert.Equal(t, "1500", cell("size_max"))
	assert.Equal(t, "8.0027", cell("slope_us_per_byte"))
	assert.Equal(t, "150.201", cell("intercept_ms"))
	assert.Equal(t, "8.0000", cell("estimated_us_per_byte"))
	assert.Equal(t, []string{"200", "0", "0"}, []string{cell("echo_requests"), cell("echo_lost"), cell("echo_corrupted")})

	sum := linkq.FitSummaryTable(reps)
	require.Len(t, sum.Rows, 1)
	assert.Equal(t, []string{"file", "source", "path", "n", "sizes", "intercept ms", "slope µs/B", "slope s/bit",
		"rms ms", "est µs/B", "min-line ms", "min-line µs/B", "Theil-Sen µs/B", "lost"}, sum.Header)
	row := sum.Rows[0]
	assert.Equal(t, "10.77.0.1 -> 10.77.0.2", row[2])
	assert.Equal(t, "28-1500", row[4])
	assert.Equal(t, "0/200", row[13])
	for _, name := range []string{"intercept_ms", "slope_us_per_byte", "slope_s_per_bit", "rms_ms", "estimated_us_per_byte",
		"min_intercept_ms", "min_slope_us_per_byte", "theil_sen_slope_us_per_byte"} {
		assert.Contains(t, row, cell(name), "the summary shows %s as the full table does", name)
	}

	echo := linkq.EchoTable(reps)
	require.Len(t, echo.Rows, 1)
	for _, name := range []string{"requests", "replies", "matched"} {
		assert.Equal(t, []string{"200"}, column(t, echo, name), name)
	}
	for _, name := range []string{"lost", "late", "corrupted", "duplicates", "orphans"} {
		assert.Equal(t, []string{"0"}, column(t, echo, name), name)
	}

	// A TCP path has no echo counters: empty cells, "-" lost; a path
	// without a line (one size only) has dashes.
	tcp := analyzeFile(t, committed("wan2m-pg-chatty.pcap"), linkq.Config{})
	tb = linkq.FitTable([]linkq.FileReport{tcp})
	require.NotEmpty(t, tb.Rows)
	assert.Equal(t, "tcp", column(t, tb, "source")[0])
	assert.Equal(t, "", column(t, tb, "echo_requests")[0])
	assert.Equal(t, "-", column(t, linkq.FitSummaryTable([]linkq.FileReport{tcp}), "lost")[0])
	for i, n := range column(t, tb, "n") {
		if n == "1" {
			assert.Equal(t, "-", column(t, tb, "intercept_ms")[i])
			assert.Equal(t, "-", column(t, tb, "theil_sen_slope_us_per_byte")[i])
		}
	}

	// A file that could not be read adds no row.
	assert.Empty(t, linkq.FitTable([]linkq.FileReport{{File: "missing.pcap"}}).Rows)
}

// Link use of the committed PostgreSQL bulk session in one-minute
// intervals: the emulator passed 15679 bytes in 233 frames from the
// client and 397550 in 269 from the server (groundtruth.json); the
// capture's 2.6 s lie in one interval or two.
func TestUseTableAndGrid(t *testing.T) {
	r := analyzeFile(t, committed("wan2m-pg-bulk.pcap"), linkq.Config{Use: linkq.UseConfig{Interval: time.Minute, Rate: 2e6}})
	tb := linkq.UseTable([]linkq.FileReport{r})
	assert.Equal(t, []string{"file", "start", "src", "dst", "bytes", "packets", "bps", "pct"}, tb.Header)
	var bytesBy, pktsBy = map[string]int{}, map[string]int{}
	for _, row := range tb.Rows {
		b, err := strconv.Atoi(row[4])
		require.NoError(t, err)
		p, err := strconv.Atoi(row[5])
		require.NoError(t, err)
		bytesBy[row[2]] += b
		pktsBy[row[2]] += p
		_, err = time.Parse(time.RFC3339, row[1])
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{"10.77.0.1": 15679, "10.77.0.2": 397550}, bytesBy)
	assert.Equal(t, map[string]int{"10.77.0.1": 233, "10.77.0.2": 269}, pktsBy)
	assert.Contains(t, []int{2, 4}, len(tb.Rows), "two rows per interval")

	// The same bins on one grid, for a stacked figure.
	grid := r.Use.OnGrid()
	require.Len(t, grid, 1)
	g := grid[0]
	assert.Equal(t, "10.77.0.1 ↔ 10.77.0.2", g.String())
	assert.Equal(t, [2]uint64{15679, 397550}, [2]uint64{g.Bins[0].TotalBytes(), g.Bins[1].TotalBytes()})
	assert.Equal(t, [2]uint64{233, 269}, [2]uint64{g.Bins[0].TotalPackets(), g.Bins[1].TotalPackets()})
	assert.Equal(t, time.Minute, g.Bins[0].Width)
	assert.Equal(t, r.Use.Pairs[0].Bins[0].Start, g.Bins[0].Start)
	assert.Empty(t, linkq.UseReport{}.OnGrid())
}

// Every host pair of the lab's mixed capture (a chatty PostgreSQL session
// and an HTTP download beside it, plus UDP) on one grid: the earliest
// bin's start, the interval's width, all bytes kept.
func TestOnGridMixed(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	r := analyzeFile(t, filepath.Join(dir, "wan512-mixed.pcap"), linkq.Config{Use: linkq.UseConfig{Interval: time.Second}})
	grid := r.Use.OnGrid()
	require.Len(t, grid, len(r.Use.Pairs))
	start := grid[0].Bins[0].Start
	var total, want uint64
	for i, g := range grid {
		assert.Equal(t, r.Use.Pairs[i].A, g.A)
		for d := range 2 {
			assert.Equal(t, start, g.Bins[d].Start)
			assert.Equal(t, time.Second, g.Bins[d].Width)
			total += g.Bins[d].TotalBytes()
		}
		assert.False(t, r.Use.Pairs[i].Bins[0].Start.Before(start))
		for _, b := range r.Use.Pairs[i].Bins {
			want += b.BytesAB + b.BytesBA
		}
	}
	assert.Equal(t, want, total)
	assert.Equal(t, uint64(356008), total, "every frame of the capture is IP: capinfos -M -d gives 356008 bytes")
}

// The verdict of the committed PostgreSQL bulk session against 2 Mbit/s at
// 150 ms: MSS 1460 in both SYNs (tshark tcp.options.mss_val), no loss in
// 266 server and 5 client data segments (groundtruth.json), the Mathis
// bound (1.2247·1448/37500)² = 0.002236, the client's largest window
// 586752 bytes (tshark tcp.window_size) against 37500, 379788 payload
// bytes carried; no data frame lost either way, so the duplex check
// passes.
func TestVerdictTableAndText(t *testing.T) {
	r := analyzeFile(t, committed("wan2m-pg-bulk.pcap"), linkq.Config{Target: linkq.Target{RTT: 150 * time.Millisecond, Rate: 2e6}})
	reps := []linkq.FileReport{r}
	tb := linkq.VerdictTable(reps)
	assert.Equal(t, []string{"file", "conn", "client", "server", "data_dir", "check", "dir", "level", "measured", "limit",
		"message", "action"}, tb.Header)
	var got []string
	for _, row := range tb.Rows {
		got = append(got, strings.Join([]string{row[5], row[6], row[7], row[8], row[9]}, " "))
		assert.Equal(t, "s2c", row[4])
	}
	assert.Equal(t, []string{
		"mss  pass 1460 1460",
		"loss s2c pass 0 0.002236",
		"loss c2s pass 0 0.002236",
		"window  pass 5.868e+05 3.75e+04",
		"rate  info 1.223e+06 2e+06",
		"duplex  pass 0 0",
	}, got)

	var b bytes.Buffer
	require.NoError(t, linkq.WriteVerdicts(&b, reps, 150*time.Millisecond))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 1+6, "a line per connection, one per check, no action to take")
	assert.Regexp(t, `^wan2m-pg-bulk.pcap conn 1 10\.77\.0\.1:\d+ -> 10\.77\.0\.2:5432 \(data s2c\), target 2 Mbit/s at 150ms: PASS$`, lines[0])
	assert.Equal(t, "  pass    window      largest receive window 586752 bytes covers the 37500 bytes (rate × RTT) the target needs", lines[4])
	assert.Equal(t, "  info    rate        data direction carried 379788 payload bytes in 2.485 s: 1.22 Mbit/s (target 2 Mbit/s)", lines[5])

	// Writing stops at the first failed write and says why.
	err := linkq.WriteVerdicts(failWriter{}, reps, 150*time.Millisecond)
	assert.ErrorIs(t, err, errFull)
}

var errFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

// Tables write as CSV that reads back, and as aligned text.
func TestTableWrite(t *testing.T) {
	tb := linkq.Table{Header: []string{"a", "long header"}, Rows: [][]string{{"1,5", "x"}, {"22", `say "hi"`}}}
	var b bytes.Buffer
	require.NoError(t, tb.WriteCSV(&b))
	back, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, append([][]string{tb.Header}, tb.Rows...), back)
	b.Reset()
	require.NoError(t, tb.WriteText(&b))
	assert.Equal(t, "a    long header\n1,5  x\n22   say \"hi\"\n", b.String())
	assert.ErrorIs(t, tb.WriteCSV(failWriter{}), errFull)
	assert.ErrorIs(t, tb.WriteText(failWriter{}), errFull)
}

// The figure of the committed ping sweep: its echo path, 200 points at
// the IP lengths the sweep sent, and the three fitted lines by name.
func TestFigurePath(t *testing.T) {
	r := analyzeFile(t, committed("wan2m-ping-sweep.pcap"), linkq.Config{NoTCPSamples: true})
	p := r.FigurePath()
	require.NotNil(t, p)
	assert.Equal(t, linkq.SourceEcho, p.Source)
	pts := linkq.Points(p.Points)
	require.Equal(t, 200, pts.Len())
	lo, hi := 1e9, 0.0
	for i := range pts.Len() {
		size, rtt := pts.XY(i)
		lo, hi = min(lo, size), max(hi, size)
		assert.InDelta(t, units.Ms(p.Fit.At(size)), rtt, 1.2, "within the lab's largest residual (1.1208 ms)")
	}
	assert.Equal(t, [2]float64{28, 1500}, [2]float64{lo, hi})
	lines := p.Lines()
	require.Equal(t, 3, lines.Len())
	for i, want := range []linkq.Line{p.Fit, p.MinFit, p.Robust} {
		name, icpt, slope, rms := lines.FitLine(i)
		assert.Equal(t, []string{"least squares", "through per-bin minima", "Theil–Sen"}[i], name)
		assert.Equal(t, [3]float64{units.Ms(want.Intercept), want.SlopeUsPerByte, units.Ms(want.RMSResid)}, [3]float64{icpt, slope, rms})
	}
	assert.InDelta(t, 8.0027, lines[0].Line.SlopeUsPerByte, 5e-5)

	// No echo and no TCP sample: nothing to draw.
	none := analyzeFile(t, committed("wan2m-pg-chatty.pcap"), linkq.Config{NoTCPSamples: true})
	assert.Nil(t, none.FigurePath())
	assert.Empty(t, (&linkq.PathFit{}).Lines())
}
