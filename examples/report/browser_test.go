package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

// update rewrites the screenshots under testdata/figures.
var update = flag.Bool("update", false, "rewrite the report screenshots in testdata/figures")

// browser returns a Chromium to drive, or skips the test (fails it under
// CI=true, whose .ci/run installs one).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH (CI=true requires it: apt-get install -y chromium)")
	}
	t.Skip("no Chromium on PATH: the report is not rendered (apt-get install -y chromium to run this test)")
	return ""
}

// chromium runs the browser headless on the page with the given extra
// arguments and returns its standard output and error.
func chromium(t *testing.T, bin, page string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hung browser, not a timing test
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "chromium: %s", errb.String())
	return out.String(), errb.String()
}

// element is a node of the page's DOM as the browser serialised it.
type element struct {
	name     string
	attr     map[string]string
	text     string
	children []*element
}

func (e *element) class() []string { return strings.Fields(e.attr["class"]) }

func (e *element) hasClass(c string) bool {
	for _, x := range e.class() {
		if x == c {
			return true
		}
	}
	return false
}

// all returns the descendants for which f holds, in document order.
func (e *element) all(f func(*element) bool) []*element {
	var out []*element
	for _, c := range e.children {
		if f(c) {
			out = append(out, c)
		}
		out = append(out, c.all(f)...)
	}
	return out
}

// byID returns the element with the given id.
func (e *element) byID(id string) *element {
	if l := e.all(func(x *element) bool { return x.attr["id"] == id }); len(l) > 0 {
		return l[0]
	}
	return nil
}

// allText returns the text of e and its descendants.
func (e *element) allText() string {
	s := e.text
	for _, c := range e.children {
		s += c.allText()
	}
	return s
}

// parseDOM reads the browser's serialisation of the page (HTML, read
// leniently as XML: void elements close themselves).
func parseDOM(t *testing.T, s string) *element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(s, "<!DOCTYPE html>")))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	root := &element{name: "#root"}
	stack := []*element{root}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		top := stack[len(stack)-1]
		switch x := tok.(type) {
		case xml.StartElement:
			e := &element{name: strings.ToLower(x.Name.Local), attr: map[string]string{}}
			for _, a := range x.Attr {
				e.attr[strings.ToLower(a.Name.Local)] = a.Value
			}
			top.children = append(top.children, e)
			stack = append(stack, e)
		case xml.EndElement:
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			top.text += string(x)
		}
	}
	return root
}

// rendered is a report as the browser shows it.
type rendered struct {
	dom     *element
	console []string
}

// render writes the report of the captures and has the browser load it:
// its DOM, and the console messages it logged.
func render(t *testing.T, bin string, captures ...string) (string, rendered) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	var stderr bytes.Buffer
	require.Equal(t, 0, run(append([]string{"-o", out}, captures...), nil, &stderr), stderr.String())
	dom, log := chromium(t, bin, out, "--dump-dom", "--virtual-time-budget=5000")
	var console []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return out, rendered{dom: parseDOM(t, dom), console: console}
}

// checkPage checks what every report must show: no console message, no
// script and nothing fetched, the verdict lines with their levels in
// words, the budget, the tables, and every figure an SVG with a title.
func checkPage(t *testing.T, r rendered) {
	t.Helper()
	assert.Empty(t, r.console, "the page logged to the console")
	assert.Empty(t, r.dom.all(func(e *element) bool { return e.name == "script" }), "no script")
	for _, e := range r.dom.all(func(e *element) bool { return e.attr["src"] != "" || e.attr["href"] != "" }) {
		assert.Failf(t, "fetches", "<%s> refers to %q%q: the report must not fetch anything", e.name, e.attr["src"], e.attr["href"])
	}
	require.NotNil(t, r.dom.byID("conclusion"))
	assert.NotEmpty(t, strings.TrimSpace(r.dom.byID("conclusion").allText()))
	lines := r.dom.all(func(e *element) bool { return e.name == "div" && e.hasClass("line") })
	require.NotEmpty(t, lines, "verdict lines")
	for _, l := range lines {
		badge := l.all(func(e *element) bool { return e.hasClass("badge") })
		require.Len(t, badge, 1)
		word := strings.ToLower(badge[0].allText())
		assert.Contains(t, []string{"pass", "warning", "fail", "info"}, word)
		assert.True(t, l.hasClass(word), "the line's colour (class) is its word %q", word)
		q := l.all(func(e *element) bool { return e.name == "details" })
		require.Len(t, q, 1, "a ? on every line")
		assert.Contains(t, q[0].allText(), "tests")
		assert.Contains(t, q[0].allText(), "model")
	}
	bars := r.dom.all(func(e *element) bool { return e.name == "svg" && e.hasClass("bar") })
	require.NotEmpty(t, bars, "a time budget bar per connection")
	for _, f := range r.dom.all(func(e *element) bool { return e.name == "figure" }) {
		svg := f.all(func(e *element) bool { return e.name == "svg" })
		require.NotEmpty(t, svg, "figure %s", f.attr["id"])
		title := svg[0].all(func(e *element) bool { return e.name == "title" })
		require.NotEmpty(t, title, "figure %s has a title", f.attr["id"])
		assert.NotEmpty(t, strings.TrimSpace(title[0].text))
	}
	for _, s := range append(bars, r.dom.all(func(e *element) bool { return e.name == "svg" && e.hasClass("fig") })...) {
		assert.NotEmpty(t, s.all(func(e *element) bool { return e.name == "title" }), "every SVG has a title")
	}
	require.NotNil(t, r.dom.byID("whatif-table"))
	require.NotNil(t, r.dom.byID("conn-table"))
}

// ackTicks reads the ACK-only marks of a packet-flow figure back from its
// SVG in the DOM: vertical strokes of the width SVG draws by default, by
// colour (client→server blue, server→client vermillion), grouped by the
// panel they lie in (left to right, by the panel's white background).
func ackTicks(fig *element) (byPanel [][2][]tick) {
	var panels [][2]float64 // x ranges of the panels' backgrounds
	var ticks []struct {
		tick
		dir int
	}
	for _, p := range fig.all(func(e *element) bool { return e.name == "path" }) {
		d, style := p.attr["d"], p.attr["style"]
		if m := tickRE.FindStringSubmatch(d); m != nil && !strings.Contains(style, "stroke-width") {
			x0, _ := strconv.ParseFloat(m[1], 64)
			y0, _ := strconv.ParseFloat(m[2], 64)
			x1, _ := strconv.ParseFloat(m[3], 64)
			y1, _ := strconv.ParseFloat(m[4], 64)
			dir := -1
			switch {
			case strings.Contains(style, "stroke:#0072B2"):
				dir = 0
			case strings.Contains(style, "stroke:#D55E00"):
				dir = 1
			}
			if dir >= 0 && x0 == x1 {
				ticks = append(ticks, struct {
					tick
					dir int
				}{tick{x0, min(y0, y1), max(y0, y1)}, dir})
			}
		}
		if m := bgRE.FindStringSubmatch(d); m != nil && strings.Contains(style, "fill:#FFFFFF") {
			lo, _ := strconv.ParseFloat(m[1], 64)
			hi, _ := strconv.ParseFloat(m[2], 64)
			panels = append(panels, [2]float64{lo, hi})
		}
	}
	sort.Slice(panels, func(i, j int) bool { return panels[i][0] < panels[j][0] })
	var cols [][2]float64
	for _, p := range panels {
		if len(cols) == 0 || p[0] > cols[len(cols)-1][1] {
			cols = append(cols, p)
		}
	}
	byPanel = make([][2][]tick, len(cols))
	for _, tk := range ticks {
		for i, c := range cols {
			if tk.x >= c[0] && tk.x <= c[1] {
				byPanel[i][tk.dir] = append(byPanel[i][tk.dir], tk.tick)
			}
		}
	}
	return byPanel
}

type tick struct{ x, y0, y1 float64 }

var (
	tickRE = regexp.MustCompile(`^M([0-9.]+),([0-9.]+)L([0-9.]+),([0-9.]+)$`)
	bgRE   = regexp.MustCompile(`^M([0-9.]+),[0-9.]+L([0-9.]+),[0-9.]+L[0-9.]+,[0-9.]+L[0-9.]+,[0-9.]+Z$`)
)

// touching counts the marks that touch another: closer than 1.5 points
// (a mark's width and half a point of white) with overlapping heights.
func touching(ts []tick) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].x < ts[j].x })
	bad := map[int]bool{}
	for i := range ts {
		for j := i + 1; j < len(ts) && ts[j].x-ts[i].x < 1.5; j++ {
			if ts[i].y0 < ts[j].y1 && ts[j].y0 < ts[i].y1 {
				bad[i], bad[j] = true, true
			}
		}
	}
	return len(bad)
}

// connRows returns the rows of the connections table as cells.
func connRows(dom *element) [][]string {
	var out [][]string
	for _, tr := range dom.byID("conn-table").all(func(e *element) bool { return e.name == "tr" && e.hasClass("conn") }) {
		var cells []string
		for _, td := range tr.all(func(e *element) bool { return e.name == "td" }) {
			cells = append(cells, strings.TrimSpace(td.allText()))
		}
		out = append(out, cells)
	}
	return out
}

// screenshot writes the top of the rendered report as a PNG.
func screenshot(t *testing.T, bin, page, name string) {
	t.Helper()
	out := filepath.Join(flowtest.RepoRoot(), "testdata", "figures", name)
	chromium(t, bin, page, "--screenshot="+out, "--window-size=1280,2200", "--virtual-time-budget=5000")
	st, err := os.Stat(out)
	require.NoError(t, err)
	t.Logf("wrote %s (%d bytes)", out, st.Size())
}

// The report of the committed pair, as Chromium renders it. The figures
// it shows are checked against the lab's own numbers
// (testdata/lab/README.md) and tshark's.
func TestBrowserPair(t *testing.T) {
	bin := browser(t)
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab")
	page, r := render(t, bin, filepath.Join(dir, "wan2m-pg-chatty.pcap"), filepath.Join(dir, "wan2m-http-bulk.pcap"))
	checkPage(t, r)
	assert.Contains(t, r.dom.byID("conclusion").allText(), "wan2m-pg-chatty.pcap took 31.6 s, 9.9× wan2m-http-bulk.pcap's 3.2 s: "+
		"204 round trips × 150.9 ms = 30.8 s of the 31.6 s", "the lab: 204 turns, 31.6 s, handshake RTT 150.96 ms")

	// One row per connection: the lab's 204 turns and 31.630 s (chatty,
	// duration from capinfos), 2 requests and 3.183 s (bulk).
	rows := connRows(r.dom)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"wan2m-pg-chatty.pcap", "1", "postgres", "10.77.0.1:49152", "10.77.0.2:5432", "31.630"}, rows[0][:6])
	assert.Equal(t, "204", rows[0][7])
	assert.Equal(t, []string{"wan2m-http-bulk.pcap", "1", "http", "10.77.0.1:51812", "10.77.0.2:80", "3.183"}, rows[1][:6])
	assert.Equal(t, "2", rows[1][7])

	// The chatty session fails on round trips; every line of the bulk
	// download passes or informs.
	levels := map[string]string{}
	for _, l := range r.dom.all(func(e *element) bool { return e.name == "div" && e.hasClass("line") }) {
		check := l.all(func(e *element) bool { return e.hasClass("check") })[0].allText()
		levels[check] += strings.ToLower(l.all(func(e *element) bool { return e.hasClass("badge") })[0].allText()) + " "
	}
	assert.Equal(t, "fail pass ", levels["round_trips"])

	// Figure 4: every ACK-only packet of the span drawn apart. tshark -Y
	// 'tcp.len==0 && tcp.flags.syn==0 && tcp.flags.fin==0 &&
	// tcp.flags.reset==0': in the chatty session's first 3.2 s the
	// client sent 2 and the server 1; in the bulk download the client
	// 269 and the server 1.
	fig := r.dom.byID("fig4")
	require.NotNil(t, fig)
	panels := ackTicks(fig)
	require.Len(t, panels, 2, "the pair side by side")
	for i, want := range [][2]int{{2, 1}, {269, 1}} {
		for d := range 2 {
			assert.Len(t, panels[i][d], want[d], "panel %d dir %d", i, d)
			assert.Zero(t, touching(panels[i][d]), "panel %d dir %d: every mark apart", i, d)
		}
	}
	assert.Contains(t, fig.allText(), "wan2m-http-bulk.pcap #1 client→server: 269 of 269")
	if *update {
		screenshot(t, bin, page, "report-pair.png")
	}
}

// The report of a public SQL*Net capture (trex_oracle.pcap: one TNS
// connection of 302 frames, tshark -z conv,tcp).
func TestBrowserTNS(t *testing.T) {
	bin := browser(t)
	path := filepath.Join(flowtest.CorpusDir(t, "public"), "tns", "trex_oracle.pcap")
	page, r := render(t, bin, path)
	checkPage(t, r)
	rows := connRows(r.dom)
	require.Len(t, rows, 1)
	assert.Equal(t, []string{"trex_oracle.pcap", "1", "tns", "21.0.0.7:6965", "22.0.0.8:1521", "3.819"}, rows[0][:6])
	// The client's 5 and the server's 1 ACK-only packets (tshark, as
	// above), each drawn apart.
	panels := ackTicks(r.dom.byID("fig4"))
	require.Len(t, panels, 1)
	assert.Len(t, panels[0][0], 5)
	assert.Len(t, panels[0][1], 1)
	assert.Zero(t, touching(panels[0][0]))
	tx := r.dom.all(func(e *element) bool { return e.name == "tr" && e.hasClass("tx") })
	assert.NotEmpty(t, tx, "the TNS transactions")
	if *update {
		screenshot(t, bin, page, "report-tns.png")
	}
}

// Bad usage exits 2; a capture that cannot be read exits 1 with no page.
func TestUsage(t *testing.T) {
	var b bytes.Buffer
	for _, args := range [][]string{{}, {"x.pcap"}, {"-o", "r.html"}, {"-o", "r.html", "a", "b", "c"},
		{"-o", "r.html", "-top", "0", "a"}, {"-o", "r.html", "-target-rate", "fast", "a"}} {
		assert.Equal(t, 2, run(args, nil, &b), fmt.Sprint(args))
	}
	out := filepath.Join(t.TempDir(), "r.html")
	assert.Equal(t, 1, run([]string{"-o", out, filepath.Join(t.TempDir(), "missing.pcap")}, nil, &b))
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "no page for nothing read")
}

// The report is the same on one worker as on three (every consumer of its
// passes is a flow.Forker): byte for byte, on the committed pair and on
// the committed ping sweep.
func TestWorkersSameReport(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab")
	for _, files := range [][]string{
		{filepath.Join(dir, "wan2m-pg-chatty.pcap"), filepath.Join(dir, "wan2m-http-bulk.pcap")},
		{filepath.Join(dir, "wan2m-ping-sweep.pcap")},
	} {
		var pages [2]string
		for i, w := range []int{1, 3} {
			o := &options{top: 20, workers: w, files: files}
			caps, errs := analyse(o)
			require.Empty(t, errs)
			p, err := build(caps, o)
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, page.Execute(&b, p))
			pages[i] = b.String()
		}
		assert.True(t, pages[0] == pages[1], "%v: the reports differ", files)
		assert.Contains(t, pages[0], "<svg")
	}
}
