package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
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
// if_tsresol / if_tsoffset values (0: 2^0 s, 1: 10^0 s, 2: 10^-63 s, 3:
// 2^-63 s, 4: µs with offset -2^63 s, 5: µs with offset -1 s), each with
// four packets timestamped 2^64-1, 2^63, 2^62 and 12345 units (frames 1-6,
// 7-12, 13-18, 19-24; interface = (frame-1) mod 6), each a TCP SYN of its
// own connection. Dated per the pcapng specification (unsigned units; see
// flow's TestPcapNGTimestamps for the arithmetic), 13 lie outside the
// years 1-9999 and are skipped:
//
//	frames 1, 2, 7, 8:   2^64-1 s, 2^63 s (past what a time.Time holds)
//	frames 13, 14:       2^62 s = 4611686018427387904 s
//	frames 5, 11, 17, 23: -2^63 s plus at most 18446744073709.6 s
//	frames 6, 12, 18:    18446744073708.551615, 9223372036853.775808 and
//	                     4611686018426.387904 s (all after the year 148 000)
//
// and 11 are reported, one connection each: frames 3, 9, 15, 21 at 0 s
// (10^-63 s units), 4, 10, 16, 22 at 1.999999999, 1, 0.5 and 0 s (2^-63 s
// units), 19 and 20 at 12345 s, 24 at -0.987655 s (1969-12-31T23:59:59.012345Z).
// tshark 4.0 (frame.time_epoch) agrees on every frame's range but 1 and 2,
// which it dates at -1 s, taking 2^64-1 as signed (so it has 11 out of
// range). The JSON must be complete: it once stopped after the first
// connection with "year outside of range".
func TestCrasherJSONYearTsres(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "crashers"), "json-year-tsres.pcapng")
	conns, sum := jsonLines(t, path)
	assert.Len(t, conns, 11)
	assert.EqualValues(t, 24, sum["packets"])
	assert.EqualValues(t, 11, sum["tcp_packets"])
	assert.Equal(t, map[string]any{"timestamp_out_of_range": float64(13)}, sum["skipped"])
	assert.NotContains(t, sum, "warnings", "the file's blocks are well formed")
	var first []string
	for _, c := range conns {
		first = append(first, c["first"].(string))
	}
	// In first-seen order (frames 3, 4, 9, 10, 15, 16, 19, 20, 21, 22, 24).
	assert.Equal(t, []string{
		"1970-01-01T00:00:00Z", "1970-01-01T00:00:01.999999999Z",
		"1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z",
		"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.5Z",
		"1970-01-01T03:25:45Z", "1970-01-01T03:25:45Z",
		"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59.012345Z",
	}, first)
	crasherModes(t, path)
}

// crasherModes runs the modes other than -json on a crasher: each must
// exit 0 and end with its last line.
func crasherModes(t *testing.T, path string) {
	t.Helper()
	for _, m := range []struct {
		name string
		run  func(out *bytes.Buffer) int
		last string
	}{
		{"table", func(out *bytes.Buffer) int { return run([]string{path}, false, nil, out, io.Discard) }, "* = picked up mid-stream\n"},
		{"-explain", func(out *bytes.Buffer) int { return runExplain([]string{path}, nil, out, io.Discard) }, " connections\n"},
		{"-transactions", func(out *bytes.Buffer) int { return runTransactions([]string{path}, false, nil, out, io.Discard) }, "lost in a gap)\n"},
	} {
		var out bytes.Buffer
		require.Equal(t, 0, m.run(&out), m.name)
		assert.True(t, strings.HasSuffix(out.String(), m.last), "%s ends %q", m.name, out.String()[max(0, out.Len()-60):])
	}
	var out bytes.Buffer
	require.Equal(t, 0, runTransactions([]string{path}, true, nil, &out, io.Discard))
	require.NoError(t, txLines(out.Bytes()))
}

// TestCrasherCoverageFillOOB: 27 data segments of 100 bytes with
// sequence numbers scattered over the 32-bit space once panicked in
// tcpstate's hole list in every tool. tshark -z conv,tcp: 27 frames, 4158
// bytes, one direction; the unique bytes are tcpstate's reading
// (TestCrasherCoverageFillOOB there: 2700 - 800 below the first byte
// seen = 1900). Every mode reads it to its end.
func TestCrasherCoverageFillOOB(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "crashers"), "coverage-fill-oob.pcap")
	conns, sum := jsonLines(t, path)
	require.Len(t, conns, 1)
	c := conns[0]["c2s"].(map[string]any)
	assert.EqualValues(t, 27, c["packets"])
	assert.EqualValues(t, 4158, c["wire_bytes"])
	assert.EqualValues(t, 2700, c["payload_bytes"])
	assert.EqualValues(t, 1900, c["unique_bytes"])
	assert.EqualValues(t, 0, conns[0]["s2c"].(map[string]any)["packets"])
	assert.EqualValues(t, 27, sum["packets"])
	assert.EqualValues(t, 27, sum["tcp_packets"])
	crasherModes(t, path)
}

// TestCrasherUniqueBytesOvercount: four 100-byte segments at sequence
// numbers more than 2^30 apart (tshark: 2401567355, 3612604207,
// 1125588718, 969771374; 4 frames, 616 bytes) were counted as
// 1,211,037,152 unique bytes; each counts its own 100.
func TestCrasherUniqueBytesOvercount(t *testing.T) {
	path := filepath.Join(flowtest.CorpusDir(t, "crashers"), "unique-bytes-overcount.pcap")
	conns, sum := jsonLines(t, path)
	require.Len(t, conns, 1)
	c := conns[0]["c2s"].(map[string]any)
	assert.EqualValues(t, 4, c["packets"])
	assert.EqualValues(t, 616, c["wire_bytes"])
	assert.EqualValues(t, 400, c["payload_bytes"])
	assert.EqualValues(t, 400, c["unique_bytes"])
	assert.EqualValues(t, 4, sum["packets"])
	crasherModes(t, path)
}
