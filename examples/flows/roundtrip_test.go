package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow/explain"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/tcpstate"
)

// roundTrip decodes raw into a new T and encodes it again.
func roundTrip[T any](t *testing.T, raw json.RawMessage) string {
	var v T
	require.NoError(t, json.Unmarshal(raw, &v))
	out, err := json.Marshal(&v)
	require.NoError(t, err)
	return string(out)
}

// TestJSONRoundTrip reads the objects of the committed lab goldens whose
// Go types hold typed durations and rates (the conn's app and rtt, the
// explanation's budget, evidence and queue) back into those types and
// writes them again: byte for byte the same JSON, so a figure loses
// nothing between the JSON and the Go API.
func TestJSONRoundTrip(t *testing.T) {
	gs, err := filepath.Glob(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "flows", "lab", "*.jsonl.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, gs)
	n := 0
	for _, g := range gs {
		data, err := readGz(g)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rec struct {
				Type    string          `json:"type"`
				App     json.RawMessage `json:"app"`
				RTT     json.RawMessage `json:"rtt"`
				Explain *struct {
					Budget   json.RawMessage `json:"budget"`
					Evidence json.RawMessage `json:"evidence"`
					Queue    json.RawMessage `json:"queue"`
				} `json:"explain"`
			}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), g)
			if rec.Type != "conn" {
				continue
			}
			assert.Equal(t, string(rec.App), roundTrip[appproto.Stats](t, rec.App), g)
			assert.Equal(t, string(rec.RTT), roundTrip[tcpstate.RTT](t, rec.RTT), g)
			if x := rec.Explain; x != nil {
				assert.Equal(t, string(x.Budget), roundTrip[explain.Budget](t, x.Budget), g)
				assert.Equal(t, string(x.Evidence), roundTrip[explain.Evidence](t, x.Evidence), g)
				assert.Equal(t, string(x.Queue), roundTrip[explain.Queue](t, x.Queue), g)
			}
			n++
		}
		require.NoError(t, sc.Err())
	}
	assert.Greater(t, n, 100, "conn records read back")
}
