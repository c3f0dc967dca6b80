package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

func lab(name string) string { return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name) }

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"2M": 250000, "512k": 64000, "1G": 125e6, "8000": 1000, "": 0} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-6, in)
	}
	for _, bad := range []string{"fast", "-2M", "M"} {
		_, err := parseRate(bad)
		assert.Error(t, err, bad)
	}
}

func TestCompareTwoCapturesJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{lab("wan2m-pg-chatty.pcap"), lab("wan2m-http-bulk.pcap")}, true, 10*time.Millisecond, "", "", &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var doc output
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
	assert.Less(t, chatty.Projected.DurationS, chatty.DurationS/8)
	assert.Greater(t, bulk.Projected.DurationS, bulk.DurationS*0.7)
	assert.Len(t, doc.Captures, 2)
}

func TestCompareTable(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{lab("wan2m-pg-chatty.pcap")}, false, 0, "512k", "proto", &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	s := out.String()
	for _, want := range []string{"postgres", "mean segment (B)", "ACKs per data segment", "application turns", "projected (s) at 512 kbit/s", "round_trip_bound"} {
		assert.True(t, strings.Contains(s, want), "missing %q in\n%s", want, s)
	}
	assert.Equal(t, 2, run([]string{lab("wan2m-pg-chatty.pcap")}, false, 0, "", "bogus", &out, &errOut))
	assert.Equal(t, 1, run([]string{lab("no-such.pcap")}, false, 0, "", "", &out, &errOut))
}
