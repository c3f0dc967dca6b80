package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/series"
	"github.com/netecology/netecology/plot"
)

// What the pass keeps of the connections gives the capture-wide figures
// what series.CaptureNetworkDir and series.ClassLabel give from every
// connection kept (flow.Config.KeepConns), on the committed lab captures
// and the corpus's mixed capture.
func TestConnFactsAreSeries(t *testing.T) {
	files, err := flowtest.LabCaptures()
	require.NoError(t, err)
	files = append(files, lab(t, "wan512-mixed.pcap"))
	for _, f := range files {
		facts := &connFacts{want: 1, ports: map[uint16]*portProto{}}
		col := series.NewCollector(series.Config{})
		res, err := flow.AnalyzeFile(f, flow.Config{Consumers: []flow.Consumer{col, facts}, KeepConns: true})
		require.NoError(t, err)
		assert.Equal(t, len(res.Conns), facts.n, f)
		assert.Equal(t, series.CaptureNetworkDir(res.Conns), facts.networkDir(), f)
		for _, cl := range col.Result().Classes {
			assert.Equal(t, series.ClassLabel(cl.Name, res.Conns), facts.classLabel(cl.Name), "%s %s", f, cl.Name)
		}
	}
	// A port whose connections disagree keeps its name.
	facts := &connFacts{ports: map[uint16]*portProto{}}
	for i, p := range []string{"http", "tls", "http"} {
		facts.ConnEnd(&flow.Conn{ID: i + 1, Server: netipPort(443), Proto: p})
	}
	assert.Equal(t, "tcp/443", facts.classLabel("tcp/443"))
	assert.Equal(t, "udp/53", facts.classLabel("udp/53"))
}

// svgOf runs the tool and returns the figure it wrote (SVG).
func svgOf(t *testing.T, stdin *os.File, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fig.svg")
	var errOut bytes.Buffer
	require.Equal(t, 0, run(append([]string{"-o", out, "-q"}, args...), stdin, &errOut), errOut.String())
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(b)
}

// untitled removes from an SVG the text elements that name the capture
// (whose place depends on the name's length).
func untitled(svg, name string) string {
	re := regexp.MustCompile(`<text [^>]*>[^<]*` + regexp.QuoteMeta(name) + `[^<]*</text>`)
	return re.ReplaceAllString(svg, "")
}

// Standard input and two rotated files give the figure of the file (but
// for the name in its title).
func TestStdinAndRotated(t *testing.T) {
	path := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap")
	a, b := hostile.Split(t, path)
	for _, kind := range []string{"flow", "bandwidth"} {
		want := untitled(svgOf(t, nil, "-kind", kind, path), "wan2m-pg-chatty.pcap")
		f, err := os.Open(path)
		require.NoError(t, err)
		got := svgOf(t, f, "-kind", kind, "-")
		f.Close()
		assert.Contains(t, got, "standard input")
		assert.True(t, want == untitled(got, "standard input"), "%s from standard input differs", kind)
		for _, args := range [][]string{{a, b}, {a + "," + b}} {
			got = svgOf(t, nil, append([]string{"-kind", kind}, args...)...)
			assert.Contains(t, got, "cap.pcap0 (+1 files)")
			assert.True(t, want == untitled(got, "cap.pcap0 (+1 files)"), "%s from %v differs", kind, args)
		}
	}
}

// The corpus's crashers: every kind is drawn or says there is nothing to
// draw (each connection is one direction of data, or a single SYN), never
// a panic.
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, name := range []string{"coverage-fill-oob.pcap", "unique-bytes-overcount.pcap", "json-year-tsres.pcapng"} {
		for _, o := range []options{{kind: "flow", conn: 1}, {kind: "tsg", conn: 1, dir: "c2s"}, {kind: "rtt", conn: 1},
			{kind: "timeline", conn: 1}, {kind: "bandwidth"}, {kind: "rtt", conn: 0}} {
			o.workers = 2
			f, err := draw(filepath.Join(dir, name), o)
			if err != nil {
				assert.ErrorIs(t, err, plot.ErrNoData, "%s %s", name, o.kind)
				continue
			}
			var b bytes.Buffer
			require.NoError(t, f.Render(&b, "svg"), "%s %s", name, o.kind)
			assert.True(t, strings.HasSuffix(strings.TrimSpace(b.String()), "</svg>"), "%s %s", name, o.kind)
		}
	}
	// The 27 segments of coverage-fill-oob.pcap are drawn.
	f, err := draw(filepath.Join(dir, "coverage-fill-oob.pcap"), options{kind: "flow", conn: 1})
	require.NoError(t, err)
	assert.NotNil(t, f)
}

// kinds are the figures the campaign draws, two per mutant in turn.
var kinds = [][]string{{"-kind", "flow"}, {"-kind", "bandwidth"}, {"-kind", "tsg"}, {"-kind", "rtt", "-conn", "0"},
	{"-kind", "timeline"}, {"-kind", "rtt"}}

// TestMutants draws two kinds of figure (in turn, all six across the
// campaign) of each mutant of the mutation campaign (package
// examples/internal/hostile): no panic; either a whole SVG file, or exit
// status 1 saying there is nothing to draw.
func TestMutants(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fig.svg")
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		var errs []error
		for _, k := range [][]string{kinds[m.Index%len(kinds)], kinds[(m.Index+3)%len(kinds)]} {
			os.Remove(out)
			var errOut bytes.Buffer
			args := append([]string{"-o", out, "-q", "-workers=" + fmt.Sprint(1+m.Index%2)}, k...)
			code := try(func(p string) int { return run(append(args, p), nil, &errOut) })
			switch code {
			case 0:
				b, err := os.ReadFile(out)
				if err != nil || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</svg>")) {
					errs = append(errs, fmt.Errorf("%w: %v: the figure is not whole (%v)", hostile.ErrAborted, k, err))
				}
			case 1:
				if s := errOut.String(); !strings.Contains(s, "no data to draw") && !strings.Contains(s, "no connection") && !strings.Contains(s, "no packets") {
					errs = append(errs, fmt.Errorf("%w: %v: %s", hostile.ErrStatus, k, s))
				}
			default:
				errs = append(errs, fmt.Errorf("%w: %v: %d: %s", hostile.ErrStatus, k, code, errOut.String()))
			}
		}
		return errors.Join(errs...)
	})
	t.Log(tally.Line("figures"))
}

func netipPort(p uint16) netip.AddrPort { return netip.AddrPortFrom(netip.IPv4Unspecified(), p) }
