package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow/flowtest"
)

// TestTransactionsJSON: the chatty PostgreSQL session of the lab runs 200
// single-row SELECTs, one per round trip over a 150 ms path
// (groundtruth.json); -transactions -json lists each with a server time of
// at least that round trip.
func TestTransactionsJSON(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	var out, errOut bytes.Buffer
	code := runTransactions([]string{filepath.Join(dir, "wan2m-pg-chatty.pcap")}, true, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	selects := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r struct {
			Type       string  `json:"type"`
			Proto      string  `json:"proto"`
			Verb       string  `json:"verb"`
			ServerTime float64 `json:"server_time_s"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		assert.Equal(t, "transaction", r.Type)
		assert.Equal(t, "postgres", r.Proto)
		if r.Verb == "SELECT" {
			selects++
			assert.GreaterOrEqual(t, r.ServerTime, 0.150)
		}
	}
	assert.Equal(t, 200, selects)
}

// TestTransactionsTableTNS: the table lists the TRex Oracle session's TNS
// calls, 142 answered client Data runs (see appproto's TestTNSSessions).
func TestTransactionsTableTNS(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public/tns")
	var out, errOut bytes.Buffer
	code := runTransactions([]string{filepath.Join(dir, "trex_oracle.pcap")}, false, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	n := 0
	for _, l := range strings.Split(out.String(), "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && f[2] == "tns" && f[3] == "Data" {
			n++
		}
	}
	assert.Equal(t, 142, n)
}
