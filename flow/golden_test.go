package flow_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// convGolden is one file written by testdata/golden/gen_conv.py from
// tshark's per-stream frame counts.
type convGolden struct {
	File          string `json:"file"`
	Tshark        string `json:"tshark"`
	Packets       uint64 `json:"packets"`
	TsharkError   string `json:"tshark_error"`
	Conversations []struct {
		Stream   int    `json:"stream"`
		A        string `json:"a"`
		B        string `json:"b"`
		FramesAB uint64 `json:"frames_ab"`
		BytesAB  uint64 `json:"bytes_ab"`
		FramesBA uint64 `json:"frames_ba"`
		BytesBA  uint64 `json:"bytes_ba"`
	} `json:"conversations"`
}

// convKnown lists the captures where we deliberately differ from tshark's
// conversations, with the reason; see testdata/golden/CONV-DIFFERENCES.md.
var convKnown = map[string]string{
	"public_ppp_tcp-malformed.pcap.json": "TCP data offset (28 B) beyond the segment's length (20 B): we skip both packets as malformed, tshark tracks a stream",
}

// TestConvGolden checks, for every capture with a golden file, that each
// connection's packets and wire bytes per direction equal tshark's.
func TestConvGolden(t *testing.T) {
	root := flowtest.RepoRoot()
	files, err := filepath.Glob(filepath.Join(root, "testdata", "golden", "conv", "*.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Fatal("no golden files in testdata/golden/conv; run python3 testdata/golden/gen_conv.py")
	}
	checked := 0
	for _, gf := range files {
		var g convGolden
		raw, err := os.ReadFile(gf)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &g), gf)
		name := filepath.Base(gf)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			path := filepath.Join(root, g.File)
			if strings.HasPrefix(g.File, "../shared/corpus/") {
				rel := strings.TrimPrefix(g.File, "../shared/corpus/")
				flowtest.CorpusDir(t, strings.SplitN(rel, "/", 2)[0])
			}
			res, err := flow.AnalyzeFile(path, flow.Config{KeepConns: true})
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			diffs := compareConv(&g, res)
			if why, ok := convKnown[name]; ok {
				assert.NotEmpty(t, diffs, "%s is listed as differing (%s) but now agrees: remove it", name, why)
				return
			}
			if assert.Empty(t, diffs, "differences from tshark") {
				checked++
			}
		})
	}
	t.Logf("%d captures agree with tshark on every connection", checked)
}

// compareConv matches our connections to tshark's streams by endpoint pair,
// in order of appearance, and lists every difference.
func compareConv(g *convGolden, res *flow.Result) []string {
	type dirs struct{ fab, bab, fba, bba uint64 }
	key := func(a, b string) string {
		if a > b {
			a, b = b, a
		}
		return a + " " + b
	}
	want := map[string][]struct {
		a string
		d dirs
	}{}
	for _, c := range g.Conversations {
		k := key(c.A, c.B)
		want[k] = append(want[k], struct {
			a string
			d dirs
		}{c.A, dirs{c.FramesAB, c.BytesAB, c.FramesBA, c.BytesBA}})
	}
	got := map[string][]*flow.Conn{}
	for _, c := range res.Conns {
		k := key(c.Client.String(), c.Server.String())
		got[k] = append(got[k], c)
	}
	var diffs []string
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, gs := want[k], got[k]
		if len(w) != len(gs) {
			diffs = append(diffs, fmt.Sprintf("%s: tshark has %d conversations, we have %d", k, len(w), len(gs)))
			continue
		}
		for i := range w {
			c := gs[i]
			var d dirs
			if c.Client.String() == w[i].a {
				d = dirs{c.C2S.Packets, c.C2S.WireBytes, c.S2C.Packets, c.S2C.WireBytes}
			} else {
				d = dirs{c.S2C.Packets, c.S2C.WireBytes, c.C2S.Packets, c.C2S.WireBytes}
			}
			if d != w[i].d {
				diffs = append(diffs, fmt.Sprintf("%s #%d: tshark a→b %d/%d b→a %d/%d, we %d/%d %d/%d",
					k, i, w[i].d.fab, w[i].d.bab, w[i].d.fba, w[i].d.bba, d.fab, d.bab, d.fba, d.bba))
			}
		}
	}
	return diffs
}
