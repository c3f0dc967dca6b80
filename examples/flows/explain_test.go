package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

// TestExplain: on the lab's lossy chatty session, tshark flags frame 341
// a spurious retransmission, 342 a duplicate ACK (carrying a D-SACK) and
// 343 a retransmission (testdata/golden/tcp); -explain lists each with its
// rule and the packet it refers to.
func TestExplain(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	var out, errOut bytes.Buffer
	code := runExplain([]string{filepath.Join(dir, "wan2m-loss-pg-chatty.pcap")}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	text := out.String()
	for _, want := range []string{
		"341\tconn 1 s2c\tspurious_retransmission\tresends bytes the receiver had already acknowledged (in packet 340)",
		"342\tconn 1 c2s\tduplicate_ack\tduplicate ACK #1: no data, same SEQ, ACK and window as packet 340",
		"342\tconn 1 c2s\tspurious_evidence\tD-SACK: the retransmission in packet 341 was unneeded",
		"343\tconn 1 c2s\tretransmission\tdoes not advance the sequence: retransmission of bytes first sent in packet 340 (cause: timeout)",
	} {
		assert.Contains(t, text, want)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	assert.Equal(t, fmt.Sprintf("%d labelled lines in 1 connections", len(lines)-2), lines[len(lines)-1])
	// The connection's line comes when it ends, after its last label.
	assert.True(t, strings.HasPrefix(lines[len(lines)-2], "conn 1 10.77.0.1:"), lines[len(lines)-2])
	assert.Contains(t, lines[len(lines)-2], "vantage near_client, handshake RTT 150.", "the lab path has a 150 ms base RTT")
}
