package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

// jsonLines runs flows -json on a capture and returns its records, failing
// the test unless every line is JSON and the last is the summary.
func jsonLines(t *testing.T, path string) (conns []map[string]any, summary map[string]any) {
	t.Helper()
	var out, errOut bytes.Buffer
	run([]string{path}, true, nil, &out, &errOut)
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		require.Nil(t, summary, "a record after the summary")
		switch m["type"] {
		case "conn":
			conns = append(conns, m)
		case "summary":
			summary = m
		default:
			t.Fatalf("record of type %v", m["type"])
		}
	}
	require.NotNil(t, summary, "no summary; stderr: %s", errOut.String())
	return conns, summary
}

// TestCrasherJSONYearTsres: a pcapng whose six interfaces declare extreme
// if_tsresol / if_tsoffset values. tshark 4.0 (frame.time_epoch) dates 12
// of its 24 frames outside the years 1-9999 (frames 5-8, 11-14, 17, 18 and
// 23; e.g. frame 6 at 18446744073708 s, frame 7 at -2^63 s); the other 12
// are single TCP packets of 12 connections. Those 12 are skipped with a
// reason, the rest reported, and the JSON is complete (it once stopped
// after the first connection with "year outside of range").
func TestCrasherJSONYearTsres(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "crashers"), "json-year-tsres.pcapng")
	conns, sum := jsonLines(t, path)
	assert.Len(t, conns, 12)
	assert.EqualValues(t, 24, sum["packets"])
	assert.EqualValues(t, 12, sum["tcp_packets"])
	assert.Equal(t, map[string]any{"timestamp_out_of_range": float64(12)}, sum["skipped"])
}
