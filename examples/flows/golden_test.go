package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden/flows from the current output")

// goldenSets are the capture folders whose `flows -json` output is frozen
// in testdata/golden/flows/<name>/: the committed lab captures, and the
// shared corpus when it is present (crashers excepted: they have their own
// regression tests).
var goldenSets = []struct {
	name   string
	corpus string // sub-folder of ../shared/corpus, "" for committed
}{
	{"lab", ""},
	{"corpus-lab", "lab"},
	{"corpus-public", "public"},
}

// TestJSONGolden holds the output of `flows -json` to the golden files byte
// for byte: a refactoring must not change a figure, a field or the order of
// the output. A change of output that is meant is made with
// `go test ./examples/flows -run JSONGolden -update` and explained in the
// commit.
func TestJSONGolden(t *testing.T) {
	root := flowtest.RepoRoot()
	for _, set := range goldenSets {
		t.Run(set.name, func(t *testing.T) {
			dir := filepath.Join(root, "testdata", "lab")
			if set.corpus != "" {
				dir = flowtest.CorpusDir(t, set.corpus)
			}
			gdir := filepath.Join(root, "testdata", "golden", "flows", set.name)
			files := flowtest.Captures(t, dir)
			require.NotEmpty(t, files, dir)
			seen := map[string]bool{}
			for _, f := range files {
				rel, err := filepath.Rel(dir, f)
				require.NoError(t, err)
				gname := strings.ReplaceAll(rel, string(filepath.Separator), "__") + ".jsonl.gz"
				seen[gname] = true
				t.Run(rel, func(t *testing.T) {
					var out, errOut bytes.Buffer
					run([]string{f}, true, nil, &out, &errOut)
					gpath := filepath.Join(gdir, gname)
					if *update {
						require.NoError(t, os.MkdirAll(gdir, 0o755))
						require.NoError(t, writeGz(gpath, out.Bytes()))
						return
					}
					want, err := readGz(gpath)
					require.NoError(t, err, "no golden for %s: run go test ./examples/flows -run JSONGolden -update", rel)
					if d := firstDiff(want, out.Bytes()); d != "" {
						t.Errorf("%s: output differs from %s:\n%s", rel, gpath, d)
					}
				})
			}
			if *update {
				return
			}
			// Every golden file stands for a capture that still exists.
			gs, err := filepath.Glob(filepath.Join(gdir, "*.jsonl.gz"))
			require.NoError(t, err)
			for _, g := range gs {
				if !seen[filepath.Base(g)] {
					t.Errorf("golden %s has no capture in %s", g, dir)
				}
			}
		})
	}
}

// firstDiff describes the first line where got differs from want, or
// returns "" when they are equal.
func firstDiff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			k := 0
			for k < len(w) && k < len(g) && w[k] == g[k] {
				k++
			}
			from := max(0, k-80)
			return fmt.Sprintf("line %d, byte %d:\n want ...%s\n got  ...%s", i+1, k,
				w[from:min(len(w), k+120)], g[from:min(len(g), k+120)])
		}
	}
	return "same lines, different bytes"
}

func writeGz(path string, b []byte) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// TestWorkersSameOutput runs `flows -json` with one worker (everything on
// one goroutine) and with three (connections sharded over goroutines) on
// every committed lab capture and every corpus capture, and requires the
// same bytes.
func TestWorkersSameOutput(t *testing.T) {
	defer func(w int) { workers = w }(workers)
	root := flowtest.RepoRoot()
	for _, set := range goldenSets {
		t.Run(set.name, func(t *testing.T) {
			dir := filepath.Join(root, "testdata", "lab")
			if set.corpus != "" {
				dir = flowtest.CorpusDir(t, set.corpus)
			}
			for _, f := range flowtest.Captures(t, dir) {
				var one, three bytes.Buffer
				workers = 1
				run([]string{f}, true, nil, &one, io.Discard)
				workers = 3
				run([]string{f}, true, nil, &three, io.Discard)
				if d := firstDiff(one.Bytes(), three.Bytes()); d != "" {
					t.Errorf("%s: 3 workers differ from 1:\n%s", f, d)
				}
			}
		})
	}
}

// TestRotatedHalves splits each committed lab capture in two at its middle
// record, as tcpdump -C would rotate it (or editcap -c), and requires
// `flows -json` of the two halves read as one capture to equal the
// output for the whole file: connections that span the files are counted
// once.
func TestRotatedHalves(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab")
	for _, f := range flowtest.Captures(t, dir) {
		if filepath.Ext(f) != ".pcap" {
			continue
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		a, b := splitPcap(t, raw)
		tmp := t.TempDir()
		pa, pb := filepath.Join(tmp, "a.pcap"), filepath.Join(tmp, "b.pcap")
		require.NoError(t, os.WriteFile(pa, a, 0o644))
		require.NoError(t, os.WriteFile(pb, b, 0o644))
		var whole, halves bytes.Buffer
		run([]string{f}, true, nil, &whole, io.Discard)
		run([]string{pa, pb}, true, nil, &halves, io.Discard)
		if d := firstDiff(whole.Bytes(), halves.Bytes()); d != "" {
			t.Errorf("%s: two halves differ from the whole:\n%s", f, d)
		}
	}
}

// splitPcap cuts a little-endian pcap file into two files at its middle
// record, each with the file header.
func splitPcap(t *testing.T, raw []byte) ([]byte, []byte) {
	t.Helper()
	require.Equal(t, []byte{0xd4, 0xc3, 0xb2, 0xa1}, raw[:4], "little-endian microsecond pcap expected")
	var offs []int
	for off := 24; off+16 <= len(raw); {
		offs = append(offs, off)
		off += 16 + int(binary.LittleEndian.Uint32(raw[off+8:]))
	}
	require.Greater(t, len(offs), 2)
	mid := offs[len(offs)/2]
	a := append([]byte(nil), raw[:mid]...)
	b := append(append([]byte(nil), raw[:24]...), raw[mid:]...)
	return a, b
}
