package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/netlog"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func lab(name string) string { return filepath.Join(flowtest.RepoRoot(), "testdata", "lab", name) }

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-conn", "2", "x.pcap"},
		{"-span", "1s", "x.pcap"},
		{"-fig", "x.gif", "x.pcap"},
		{"-fig", "x.png", "-conn", "-1", "x.pcap"},
		{"-fig", "x.png", "-span", "-1s", "x.pcap"},
		{"-nope", "x.pcap"},
	} {
		code, _, stderr := runArgs(args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, stderr, "netlog", "%v", args)
	}
}

func TestBadFile(t *testing.T) {
	code, out, stderr := runArgs(filepath.Join(t.TempDir(), "missing.pcap"))
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "missing.pcap")
}

// The committed bulk HTTP session (groundtruth.json: 1 connection, 2
// requests): 15 ULM lines (SYN, SYN/ACK, handshake ACK, 4 per request, 2
// FINs), the same with one worker and with two, the same events as JSON
// lines, and the summary on standard error.
func TestULMAndJSON(t *testing.T) {
	code, ulm, stderr := runArgs("-workers", "1", lab("wan2m-http-bulk.pcap"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, `"app.request.start":2`)
	lines := strings.Split(strings.TrimSuffix(ulm, "\n"), "\n")
	require.Len(t, lines, 3+4*2+2)
	var events []netlog.Event
	for _, l := range lines {
		e, prog, err := netlog.ParseULM(l)
		require.NoError(t, err, l)
		assert.Equal(t, netlog.DefaultProg, prog)
		events = append(events, e)
	}
	assert.Equal(t, netlog.SYN, events[0].Name)
	assert.Equal(t, netlog.FIN, events[len(events)-1].Name)

	code, ulm2, _ := runArgs("-workers", "2", "-q", lab("wan2m-http-bulk.pcap"))
	require.Equal(t, 0, code)
	assert.Equal(t, ulm, ulm2)

	code, js, stderr := runArgs("-json", "-q", "-prog", "other", lab("wan2m-http-bulk.pcap"))
	require.Equal(t, 0, code)
	assert.Empty(t, stderr, "-q: no summary")
	sc := bufio.NewScanner(strings.NewReader(js))
	i := 0
	for sc.Scan() {
		var e netlog.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		assert.Equal(t, events[i], e, "line %d", i+1)
		i++
	}
	assert.Equal(t, len(events), i)
}

// -fig draws the chatty PostgreSQL session's lifelines (its only
// connection, 200 transactions) as a PNG; -conn picks a connection that
// must exist.
func TestFigure(t *testing.T) {
	fig := filepath.Join(t.TempDir(), "lifelines.png")
	code, _, stderr := runArgs("-q", "-fig", fig, "-span", "2s", lab("wan2m-pg-chatty.pcap"))
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(fig)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG")))

	code, _, stderr = runArgs("-q", "-fig", fig, "-conn", "7", lab("wan2m-pg-chatty.pcap"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no connection 7")
	code, _, stderr = runArgs("-q", "-fig", fig, lab("wan2m-ping-sweep.pcap"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no TCP connection")
}
