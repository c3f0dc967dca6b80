package main

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/hostile"
	"github.com/netecology/netecology/flow/flowtest"
)

// pageOf runs the tool and returns the page it wrote.
func pageOf(t *testing.T, stdin *os.File, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.html")
	var errOut bytes.Buffer
	require.Equal(t, 0, run(append([]string{"-o", out, "-q"}, args...), stdin, &errOut), errOut.String())
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(b)
}

// untitled removes from a page the figures' text elements that name the
// capture (whose place depends on the name's length) and names the
// capture "X" elsewhere.
func untitled(page, name string) string {
	for _, n := range []string{name, strings.ReplaceAll(template.HTMLEscapeString(name), "+", "&#43;")} { // as html/template writes it
		re := regexp.MustCompile(`<text [^>]*>[^<]*` + regexp.QuoteMeta(n) + `[^<]*</text>`)
		page = strings.ReplaceAll(re.ReplaceAllString(page, ""), n, "X")
	}
	return page
}

// Standard input (spooled for the two passes) and two rotated files
// give the page of the file, but for the capture's name.
func TestStdinAndRotated(t *testing.T) {
	path := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "wan2m-pg-chatty.pcap")
	want := untitled(pageOf(t, nil, path), "wan2m-pg-chatty.pcap")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := pageOf(t, f, "-")
	assert.Contains(t, got, "standard input")
	assert.True(t, want == untitled(got, "standard input"), "the page from standard input differs")
	a, b := hostile.Split(t, path)
	got = pageOf(t, nil, a+","+b)
	name := "cap.pcap0 (+1 files)"
	assert.Contains(t, got, name)
	assert.True(t, want == untitled(got, name), "the page from rotated files differs")
}

// Many connections: the tables list -top of them and count the rest,
// which add up to every connection (3000, 8 packets each: hostile.Flood).
func TestBounded(t *testing.T) {
	const n = 3000
	p := pageOf(t, nil, "-top", "5", hostile.Flood(t, n, 1000))
	assert.Contains(t, p, fmt.Sprintf("%d more connections", n-5))
	assert.Contains(t, p, fmt.Sprintf("%d connections", n), "the conclusion counts them all")
	assert.Contains(t, p, fmt.Sprint(8*n), "the packets")
}

// The corpus's crashers make whole pages: 1 connection of 27 and of 4
// data segments, 11 one-SYN connections with 13 packets dated outside
// the years 1-9999 (see flows' TestCrasherJSONYearTsres).
func TestCrashers(t *testing.T) {
	dir := flowtest.CorpusDir(t, "crashers")
	for _, tc := range []struct{ file, want string }{
		{"coverage-fill-oob.pcap", "#1 http"},
		{"unique-bytes-overcount.pcap", "#1 http"},
		{"json-year-tsres.pcapng", "11 connections"},
	} {
		p := pageOf(t, nil, filepath.Join(dir, tc.file))
		assert.True(t, strings.HasSuffix(strings.TrimSpace(p), "</html>"), tc.file)
		assert.Contains(t, p, tc.want, tc.file)
	}
	p := pageOf(t, nil, filepath.Join(dir, "json-year-tsres.pcapng"))
	assert.Contains(t, p, "13 packets could not be analysed (timestamp out of range)")
}

// TestMutants writes the report of each mutant of the mutation campaign
// (package examples/internal/hostile): no panic, exit status 0, a whole
// page whose capture line gives the packets read.
func TestMutants(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	packets := regexp.MustCompile(`<td class="n">(\d+)</td><td class="n">\d+</td><td class="n">\d+</td>`)
	tally := hostile.Each(t, func(m *flowtest.Mutant, path string, try func(hostile.Run) int, tally *hostile.Tally) error {
		os.Remove(out)
		var errOut bytes.Buffer
		args := []string{"-o", out, "-q", "-workers", fmt.Sprint(1 + m.Index%2)}
		if code := try(func(p string) int { return run(append(args, p), nil, &errOut) }); code != 0 {
			return fmt.Errorf("%w: %d: %s", hostile.ErrStatus, code, errOut.String())
		}
		b, err := os.ReadFile(out)
		if err != nil || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
			return fmt.Errorf("%w: the page is not whole (%v)", hostile.ErrAborted, err)
		}
		m2 := packets.FindSubmatch(b)
		if m2 == nil {
			return fmt.Errorf("%w: no capture line", hostile.ErrAborted)
		}
		if want := fmt.Sprint(hostile.Records(m.Data)); string(m2[1]) != want {
			return fmt.Errorf("%w: the page says %s packets, the capture holds %s", hostile.ErrAccounting, m2[1], want)
		}
		tally.Packets += hostile.Records(m.Data)
		return nil
	})
	t.Log(tally.Line("report"))
}
