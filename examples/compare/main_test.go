package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/units"
)

func lab(name string) string { return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name) }

func TestParseRate(t *testing.T) {
	// bytes per second: 2 Mbit/s is 250,000 B/s
	for in, want := range map[string]float64{"2M": 250000, "512k": 64000, "1G": 125e6, "8000": 1000, "": 0} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got.BytesPerSecond(), 1e-6, in)
	}
	for _, bad := range []string{"fast", "-2M", "M"} {
		_, err := parseRate(bad)
		assert.Error(t, err, bad)
	}
}

func TestCompareTwoCapturesJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{lab("wan2m-pg-chatty.pcap"), lab("wan2m-http-bulk.pcap")}, options{asJSON: true, rtt: 10 * time.Millisecond, sortBy: "lost", workers: 3}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var doc struct {
		output
		Captures []struct {
			File    string          `json:"file"`
			Conns   []*explain.Conn `json:"conns"`
			Summary flow.Summary    `json:"summary"`
		} `json:"captures"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	require.Len(t, doc.Subjects, 2)
	chatty, bulk := doc.Subjects[0], doc.Subjects[1]
	assert.Equal(t, "round_trip_bound", chatty.Limit.String())
	assert.Equal(t, "bandwidth", bulk.Limit.String())
	// the chatty session pays ~204 round trips, the bulk one a handful
	assert.InDelta(t, 204, chatty.RoundTrips, 2)
	assert.Less(t, bulk.RoundTrips, 6)
	require.NotNil(t, chatty.Projected)
	// at 10 ms the chatty session shrinks ~10x, the bulk one hardly
	assert.Less(t, chatty.Projected.Duration.Seconds(), chatty.Duration.Seconds()/8)
	assert.Greater(t, bulk.Projected.Duration.Seconds(), bulk.Duration.Seconds()*0.7)
	assert.Len(t, doc.Captures, 2)
	assert.True(t, strings.HasPrefix(doc.Conclusion, "wan2m-pg-chatty.pcap took 31.6 s, 9.9× wan2m-http-bulk.pcap's 3.2 s: 204 round trips × 150.9 ms"), doc.Conclusion)
	assert.Empty(t, doc.Caveats, "the lab captures are complete")
}

func TestCompareTable(t *testing.T) {
	var out, errOut bytes.Buffer
	o := options{rate: "512k", by: "proto", sortBy: "lost", n: 20}
	code := run([]string{lab("wan2m-pg-chatty.pcap")}, o, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	s := out.String()
	for _, want := range []string{"conclusion: 204 round trips × 150.9 ms = 30.8 s of the 31.6 s", "postgres", "seg B", "ACK/seg",
		"turns", "at 512 kbit/s s", "round_trip_bound", "\nprojected (s) at 512 kbit/s  "} {
		assert.True(t, strings.Contains(s, want), "missing %q in\n%s", want, s)
	}
	for _, bad := range []options{{by: "bogus", sortBy: "lost"}, {sortBy: "size"}, {sortBy: "lost", n: -1}} {
		assert.Equal(t, 2, run([]string{lab("wan2m-pg-chatty.pcap")}, bad, nil, &out, &errOut), "%+v", bad)
	}
	assert.Equal(t, 1, run([]string{lab("no-such.pcap")}, options{sortBy: "lost"}, nil, &out, &errOut))
}

// Two captures side by side: a ratio only where both figures are
// non-zero (the chatty session has no transfer time), "<0.01x" where it
// would read as zero (the bulk download's server think, 1 ms: the gap from
// the request to the first answer less the 150.684 ms leg to the server,
// against the chatty session's 0.544 s), "-" for a bottleneck not
// measured.
func TestCompareColumns(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{lab("wan2m-pg-chatty.pcap"), lab("wan2m-http-bulk.pcap")}, options{sortBy: "lost"}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	for _, l := range strings.Split(out.String(), "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "  ") && strings.Contains(l, "server think (s)"):
			assert.Equal(t, []string{"server", "think", "(s)", "0.544", "0.001", "<0.01x"}, f)
		case strings.Contains(l, "transfer (s)"):
			assert.Equal(t, "-", f[len(f)-1])
		case strings.Contains(l, "bottleneck (kbit/s)"):
			assert.Equal(t, []string{"bottleneck", "(kbit/s)", "-", "2001", "-"}, f, "the lab link: 2000 kbit/s")
		}
		assert.NotContains(t, l, "0.00x", "no ratio to or of zero")
	}
}

// One capture of many connections: one row per connection, sorted by the
// time lost, the first -n and a line for the rest, all within 120
// columns. public/http/ppp_example_http_mix.pcap has 66 connections
// (tshark -z conv,tcp).
func TestCompareRowsFit(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "public"), "http", "ppp_example_http_mix.pcap")
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{path}, options{sortBy: "lost", n: 20, workers: 3}, nil, &out, &errOut), errOut.String())
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	var rows []string
	for _, l := range lines {
		assert.LessOrEqual(t, len([]rune(l)), 120, "%q", l)
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			rows = append(rows, l)
		}
	}
	assert.Len(t, rows, 20)
	assert.Contains(t, out.String(), "... and 46 more:")
	assert.Contains(t, out.String(), "all 66: ")
	assert.True(t, strings.HasPrefix(lines[0], "conclusion: 66 connections"), lines[0])
	// sorted by the time lost, largest first
	var prev float64 = 1e18
	for _, r := range rows {
		var lost float64
		_, err := fmt.Sscan(strings.Fields(r)[4], &lost)
		require.NoError(t, err, r)
		assert.LessOrEqual(t, lost, prev)
		prev = lost
	}
	// the one connection picked up without its handshake is a caveat
	assert.Contains(t, out.String(), "no_handshake (1, on #66)")
}

// doc is compare's -json document as a program reads it.
type doc struct {
	output
	Captures []struct {
		File    string          `json:"file"`
		Conns   []*explain.Conn `json:"conns"`
		Summary *flow.Summary   `json:"summary"`
		Error   string          `json:"error"`
	} `json:"captures"`
}

func runJSON(t *testing.T, args []string, o options, stdin io.Reader) (doc, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.asJSON = true
	if o.sortBy == "" {
		o.sortBy = "lost"
	}
	code := run(args, o, stdin, &out, &errOut)
	var d doc
	require.NoError(t, json.Unmarshal(out.Bytes(), &d), "stderr: %s", errOut.String())
	return d, code
}

// A capture on standard input, and a capture in two rotated files read
// as one, give what the file gives.
func TestCompareStdinAndRotated(t *testing.T) {
	path := lab("wan2m-pg-chatty.pcap")
	want, code := runJSON(t, []string{path}, options{rtt: 10 * time.Millisecond, n: 20}, nil)
	require.Equal(t, 0, code)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, code := runJSON(t, []string{"-"}, options{rtt: 10 * time.Millisecond, n: 20}, f)
	require.Equal(t, 0, code)
	assert.Equal(t, "-", got.Captures[0].File)
	got.Captures[0].File = want.Captures[0].File
	assert.Equal(t, want, got)

	a, b := hostile.Split(t, path)
	rot, code := runJSON(t, []string{a + "," + b}, options{rtt: 10 * time.Millisecond, n: 20}, nil)
	require.Equal(t, 0, code)
	assert.Equal(t, want.Conclusion, rot.Conclusion)
	assert.Equal(t, want.Subjects[0].Label, rot.Subjects[0].Label)
	assert.Equal(t, want.Captures[0].Conns, rot.Captures[0].Conns)
	assert.Equal(t, uint64(415), rot.Captures[0].Summary.Packets, "flows counts 415 packets")
}

// Many connections, more than flow tracks at once and more than the
// table shows: every connection's explanation is in the document, the
// table keeps -n rows by the time lost and sums the rest, whose count
// and durations add up to the whole.
func TestCompareBounded(t *testing.T) {
	const n = 3000 // 8 packets each (hostile.Flood)
	path := hostile.Flood(t, n, 1000)
	d, code := runJSON(t, []string{path}, options{n: 5, workers: 2}, nil)
	require.Equal(t, 0, code)
	require.Len(t, d.Captures, 1)
	c := d.Captures[0]
	assert.Len(t, c.Conns, n)
	assert.Equal(t, uint64(8*n), c.Summary.Packets)
	assert.Equal(t, n, c.Summary.Connections)
	require.Len(t, d.Subjects, 5)
	require.NotNil(t, d.SubjectsRest)
	assert.Equal(t, n-5, d.SubjectsRest.Conns)
	var dur float64
	for _, r := range d.Subjects {
		dur += r.Duration.Seconds()
	}
	var all float64
	for _, x := range c.Conns {
		all += x.Budget.Duration.Seconds()
	}
	assert.InDelta(t, all, dur+d.SubjectsRest.Duration.Seconds(), 1e-9)
	for i, x := range c.Conns {
		require.Equal(t, i+1, x.ID, "first-seen order")
	}

	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{path}, options{n: 5, sortBy: "lost"}, nil, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), fmt.Sprintf("... and %d more: ", n-5))
	assert.Contains(t, out.String(), fmt.Sprintf("all %d: ", n))
}

func TestParseLossAndBytes(t *testing.T) {
	for in, want := range map[string]float64{"0.01": 0.01, "1%": 0.01, "0": 0, "100%": 1, " 2.5% ": 0.025} {
		got, known, err := parseLoss(in)
		require.NoError(t, err, in)
		assert.True(t, known, in)
		assert.InDelta(t, want, got, 1e-12, in)
	}
	_, known, err := parseLoss("")
	assert.NoError(t, err)
	assert.False(t, known, "unset: unknown")
	for _, bad := range []string{"lots", "-1%", "1.5", "NaN"} {
		_, _, err := parseLoss(bad)
		assert.Error(t, err, bad)
	}
	o := options{loss: "2%,0.1%"}
	w, err := target(&o)
	require.NoError(t, err)
	assert.True(t, w.LossKnown && w.LossS2CKnown)
	assert.InDelta(t, 0.02, w.Loss, 1e-12)
	assert.InDelta(t, 0.001, w.LossS2C, 1e-12)
	assert.Equal(t, "2%/0.1% loss (c2s/s2c)", whatIfName(w))
	w, err = target(&options{loss: "1%"})
	require.NoError(t, err)
	assert.True(t, w.LossKnown)
	assert.False(t, w.LossS2CKnown, "one figure: both ways")
	assert.Equal(t, "1% loss", whatIfName(w))
	for _, bad := range []string{"1%,", ",1%", "1%,2", "1%,x"} {
		_, err := target(&options{loss: bad})
		assert.Error(t, err, bad)
	}
	for in, want := range map[string]int{"65535": 65535, "512k": 512 << 10, "6M": 6 << 20, "": 0} {
		got, err := parseBytes(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"big", "-1", "1G", "99999M"} {
		_, err := parseBytes(bad)
		assert.Error(t, err, bad)
	}
}

// TestCompareWhatIfTarget: the LAN capture of the lab's chatty session
// (testdata/lab/whatif, 50 Mbit/s link) projected onto its lossy link (50 ms,
// 5 Mbit/s, 1 % each way) with the capture's own rate given: the table's
// projection is explain's ProjectTo on the same capture, with its range,
// losses and assumptions under it; -json carries them.
func TestCompareWhatIfTarget(t *testing.T) {
	f := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "whatif", "lan-pg-chatty.pcap.gz")
	o := options{rtt: 50 * time.Millisecond, rate: "5M", loss: "1%", queue: 1000, captureRate: "50M", sortBy: "lost", n: 20}
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{f}, o, nil, &out, &errOut), errOut.String())
	e := explain.New(explain.Options{Keep: true, CaptureRate: 50 * units.Mbps})
	_, err := flow.AnalyzeFile(f, flow.Config{Consumers: []flow.Consumer{e}})
	require.NoError(t, err)
	require.Len(t, e.Conns(), 1)
	p := e.Conns()[0].ProjectTo(explain.Target{RTT: 50 * time.Millisecond, Rate: 5 * units.Mbps, Loss: 0.01, LossKnown: true, QueueFrames: 1000})
	// 203 + 204 data segments at 1 %: 4.1 losses, none in bulk phases
	assert.InDelta(t, 4.07, p.Losses, 0.01)
	assert.Less(t, p.Best.Seconds(), p.Duration.Seconds())
	assert.Greater(t, p.Worst.Seconds(), p.Duration.Seconds())
	s := out.String()
	for _, want := range []string{
		fmt.Sprintf("projected (s) at 50ms 5000 kbit/s 1%% loss queue 1000  %.3f", p.Duration.Seconds()),
		fmt.Sprintf("  range (s)  %.3f to %.3f", p.Best.Seconds(), p.Worst.Seconds()),
		"  losses priced  4.1",
		"  assuming loss given: the observed losses dropped, the target's priced",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "capture's rate unknown", "-capture-rate gave it")

	doc, code := runJSON(t, []string{f}, o, nil)
	require.Equal(t, 0, code)
	require.NotNil(t, doc.WhatIf)
	assert.True(t, doc.WhatIf.LossKnown)
	assert.Equal(t, 1000, doc.WhatIf.QueueFrames)
	require.NotNil(t, doc.Subjects[0].Projected)
	assert.InDelta(t, p.Worst.Seconds(), doc.Subjects[0].Projected.Worst.Seconds(), 1e-9)

	for _, bad := range []options{{loss: "2", sortBy: "lost"}, {queue: -1, sortBy: "lost"}, {rwnd: "x", sortBy: "lost"}, {captureRate: "fast", sortBy: "lost"}} {
		assert.Equal(t, 2, run([]string{f}, bad, nil, &out, &errOut), "%+v", bad)
	}
}
