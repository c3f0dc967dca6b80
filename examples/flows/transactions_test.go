package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
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
	selects, txns := 0, 0
	sc := bufio.NewScanner(&out)
	var summary map[string]any
	for sc.Scan() {
		var r struct {
			Type       string  `json:"type"`
			Proto      string  `json:"proto"`
			Verb       string  `json:"verb"`
			ServerTime float64 `json:"server_time_s"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		require.Nil(t, summary, "a line after the summary")
		switch r.Type {
		case "statement":
			continue // see TestStatementsLab
		case "summary":
			require.NoError(t, json.Unmarshal(sc.Bytes(), &summary))
			continue
		}
		txns++
		assert.Equal(t, "transaction", r.Type)
		assert.Equal(t, "postgres", r.Proto)
		if r.Verb == "SELECT" {
			selects++
			assert.GreaterOrEqual(t, r.ServerTime, 0.150)
		}
	}
	assert.Equal(t, 200, selects)
	// The summary comes last, with the packet accounting (415 TCP
	// packets in one connection, as flows -json says) and the count.
	require.NotNil(t, summary, "no summary line")
	assert.EqualValues(t, 415, summary["packets"])
	assert.EqualValues(t, 415, summary["tcp_packets"])
	assert.EqualValues(t, 1, summary["connections"])
	assert.EqualValues(t, txns, summary["transactions"])
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

// TestStatementsLab: -transactions -json ends with one line of type
// "statement" per normalised statement. The lab's workloads
// (corpus/lab/README.md) fix what they must be: 200 single-row
// "SELECT * FROM orders WHERE order_id = N" (psql appends ";", MariaDB's
// client does not; nginx serves /row/N.csv); the FETCH_COUNT=15 cursor
// (BEGIN, DECLARE ... FOR <the bulk query>, 201 FETCH FORWARD 15, CLOSE,
// COMMIT); the bulk query alone. Every transaction's text must be what
// was sent; each group's count, turns, bytes and quantiles must equal
// those computed here from the transaction lines (nearest rank).
func TestStatementsLab(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	bulk := "SELECT * FROM orders WHERE order_id <= ? ORDER BY order_id"
	for _, tc := range []struct {
		file  string
		query *regexp.Regexp // every transaction's text
		want  map[string]int // statement -> count
	}{
		{"wan2m-pg-chatty.pcap", regexp.MustCompile(`^SELECT \* FROM orders WHERE order_id = \d+;$`),
			map[string]int{"SELECT * FROM orders WHERE order_id = ?": 200}},
		{"rtt10-my-chatty.pcap", regexp.MustCompile(`^SELECT \* FROM orders WHERE order_id = \d+$`),
			map[string]int{"SELECT * FROM orders WHERE order_id = ?": 200}},
		{"wan2m-http-chatty.pcap", regexp.MustCompile(`^10\.77\.0\.2 /row/\d+\.csv$`),
			map[string]int{"GET 10.77.0.2 /row/?.csv": 200}},
		{"wan2m-pg-fetch15.pcap", regexp.MustCompile(`^(BEGIN|COMMIT|CLOSE _psql_cursor|FETCH FORWARD 15 FROM _psql_cursor|DECLARE _psql_cursor NO SCROLL CURSOR FOR\nSELECT \* FROM orders WHERE order_id <= 3000 ORDER BY order_id)$`),
			map[string]int{"BEGIN": 1, "DECLARE _psql_cursor NO SCROLL CURSOR FOR " + bulk: 1, "FETCH FORWARD ? FROM _psql_cursor": 201,
				"CLOSE _psql_cursor": 1, "COMMIT": 1}},
		{"wan2m-pg-bulk.pcap", regexp.MustCompile(`^SELECT \* FROM orders WHERE order_id <= 3000 ORDER BY order_id$`),
			map[string]int{bulk: 1}},
		{"wan2m-my-bulk.pcap", regexp.MustCompile(`^SELECT \* FROM orders WHERE order_id <= 3000 ORDER BY order_id$`),
			map[string]int{bulk: 1}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runTransactions([]string{filepath.Join(dir, tc.file)}, true, nil, &out, &errOut)
			require.Equal(t, 0, code, errOut.String())
			type tx struct {
				Verb       string  `json:"verb"`
				Query      string  `json:"query"`
				Host       string  `json:"host"`
				Path       string  `json:"path"`
				Turns      int     `json:"turns"`
				ReqBytes   int64   `json:"request_bytes"`
				RespBytes  int64   `json:"response_bytes"`
				ServerTime float64 `json:"server_time_s"`
			}
			byStmt := map[string][]tx{}
			got := map[string]int{}
			sc := bufio.NewScanner(&out)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var r struct {
					Type string `json:"type"`
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
				switch r.Type {
				case "transaction":
					var x tx
					require.NoError(t, json.Unmarshal(sc.Bytes(), &x))
					text := x.Query
					if x.Path != "" {
						text = x.Host + " " + x.Path
					}
					assert.Regexp(t, tc.query, text)
					key := string(appproto.NormalizeSQL(nil, []byte(x.Query), false))
					if x.Path != "" {
						key = x.Verb + " " + x.Host + " " + string(appproto.NormalizePath(nil, []byte(x.Path)))
					}
					byStmt[key] = append(byStmt[key], x)
				case "statement":
					var s appproto.StatementGroup
					require.NoError(t, json.Unmarshal(sc.Bytes(), &s))
					key := s.Statement
					if s.Proto == "http" {
						key = s.Verb + " " + s.Host + " " + s.Statement
					}
					got[key] = s.Count
					members := byStmt[key]
					require.Len(t, members, s.Count, key)
					var turns int
					var req, resp int64
					var times []float64
					for _, m := range members {
						turns += m.Turns
						req += m.ReqBytes
						resp += m.RespBytes
						times = append(times, m.ServerTime)
					}
					slices.Sort(times)
					rank := func(p float64) float64 { return times[int(math.Ceil(p*float64(len(times))))-1] }
					assert.Equal(t, turns, s.Turns, key)
					assert.Equal(t, req, s.RequestBytes, key)
					assert.Equal(t, resp, s.ResponseBytes, key)
					assert.InDelta(t, rank(0.5), s.ServerTimeP50.Seconds(), 1e-9, key)
					assert.InDelta(t, rank(0.95), s.ServerTimeP95.Seconds(), 1e-9, key)
					assert.InDelta(t, times[len(times)-1], s.ServerTimeMax.Seconds(), 1e-9, key)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
