package appproto_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// analyze runs flow over a capture and collects its transactions.
func analyze(t *testing.T, path string) ([]*flow.Conn, []appproto.Transaction) {
	t.Helper()
	var tc txCollector
	res, err := flow.AnalyzeFile(path, flow.Config{KeepConns: true, Consumers: []flow.Consumer{&tc}})
	require.NotNil(t, res, "%v", err)
	return res.Conns, tc.txns
}

// txCollector keeps a copy of every transaction of a pass.
type txCollector struct{ txns []appproto.Transaction }

func (*txCollector) Packet(*flow.PacketInfo) {}
func (*txCollector) ConnEnd(*flow.Conn)      {}
func (c *txCollector) Transaction(_ *flow.Conn, t *appproto.Transaction) {
	c.txns = append(c.txns, t.Clone())
}

// TestLabGroundTruth checks application turns against the lab's ground
// truth (groundtruth.json: measured.requests counts client turns) and the
// query transactions of the chatty and FETCH_COUNT sessions against their
// scripts (200 single-row queries; 3000 rows fetched 15 at a time = 201
// FETCH commands, the last returning no row).
func TestLabGroundTruth(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var gt struct {
		Files []struct {
			File     string `json:"file"`
			Task     string `json:"task"`
			Measured struct {
				Requests int `json:"requests"`
				C2S      struct {
					Retrans int `json:"retrans"`
				} `json:"c2s"`
			} `json:"measured"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &gt))
	require.NotEmpty(t, gt.Files)
	for _, f := range gt.Files {
		t.Run(f.File, func(t *testing.T) {
			conns, txns := analyze(t, filepath.Join(dir, f.File))
			var turns, trans uint64
			for _, c := range conns {
				turns += c.App.Turns
				trans += c.App.Transactions
				assert.Equal(t, uint64(0), c.App.FramingErrors, "conn %d: %s", c.ID, c.App.FramingError)
			}
			// The ground truth counts TCP-level turns: a retransmitted
			// request after server data counts again.
			assert.InDelta(t, f.Measured.Requests, turns, float64(f.Measured.C2S.Retrans), "turns")
			switch f.Task {
			case "pg-chatty", "my-chatty", "http-chatty":
				assert.Equal(t, uint64(200), trans)
				n := 0
				for _, tx := range txns {
					if tx.Verb == "SELECT" || tx.Verb == "GET" {
						n++
					}
				}
				assert.Equal(t, 200, n, "query transactions")
			case "pg-fetch":
				n := 0
				for _, tx := range txns {
					if tx.Verb == "FETCH" {
						n++
						assert.Positive(t, tx.ServerTime.Seconds())
					}
				}
				assert.Equal(t, 201, n, "FETCH round trips")
			}
			for _, tx := range txns {
				assert.GreaterOrEqual(t, tx.ServerTime.Seconds(), 0.0)
				assert.GreaterOrEqual(t, tx.Duration.Seconds(), tx.ServerTime.Seconds())
			}
		})
	}
}

// TestChattyServerTimeIsRTT: in the chatty sessions the server answers at
// once, so each transaction's server time is the path's round trip (10,
// 50 or 150 ms base RTT per groundtruth.json) plus serialization and a
// little server work.
func TestChattyServerTimeIsRTT(t *testing.T) {
	dir := flowtest.CorpusDir(t, "lab")
	for _, tc := range []struct {
		file string
		rtt  float64
	}{{"rtt10-pg-chatty.pcap", 0.010}, {"rtt50-pg-chatty.pcap", 0.050}, {"wan2m-pg-chatty.pcap", 0.150},
		{"wan2m-my-chatty.pcap", 0.150}, {"wan2m-http-chatty.pcap", 0.150}} {
		_, txns := analyze(t, filepath.Join(dir, tc.file))
		require.NotEmpty(t, txns)
		for _, tx := range txns {
			if tx.Verb != "SELECT" && tx.Verb != "GET" {
				continue
			}
			assert.GreaterOrEqual(t, tx.ServerTime.Seconds(), tc.rtt, tc.file)
			assert.Less(t, tx.ServerTime.Seconds(), tc.rtt+0.015, tc.file)
		}
	}
}

// TestTNSSessions: the TRex Oracle session's calls pair into transactions
// with plausible server times. tshark lists 142 runs of client TNS Data
// packets answered by the server in trex_oracle.pcap (tshark -Y tns -e
// tcp.srcport -e tns.type, counting client Data packets that follow a
// server packet); the replay through TRex's TCP stack carries the same
// payloads.
func TestTNSSessions(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public/tns")
	for _, name := range []string{"trex_oracle.pcap", "trex_oracle_astf_replay.pcap"} {
		conns, txns := analyze(t, filepath.Join(dir, name))
		require.Len(t, conns, 1)
		c := conns[0]
		assert.Equal(t, "tns", c.Proto)
		assert.Equal(t, uint64(142), c.App.Transactions, name)
		require.Len(t, txns, 142)
		for _, tx := range txns {
			assert.Equal(t, "Data", tx.Kind)
			assert.GreaterOrEqual(t, tx.ServerTime.Seconds(), 0.0, name)
			assert.Less(t, tx.ServerTime.Seconds(), 0.1, name)
			assert.Positive(t, tx.RequestBytes)
			assert.Positive(t, tx.ResponseBytes)
			assert.False(t, tx.ResponseFirst.Before(tx.RequestLast), name)
		}
	}
	conns, _ := analyze(t, filepath.Join(dir, "ndpi_oracle12.pcapng"))
	require.Len(t, conns, 1)
	assert.Equal(t, "tns", conns[0].Proto)
	conns, _ = analyze(t, filepath.Join(dir, "arkime_oracle_1522.pcap"))
	require.Len(t, conns, 1)
	assert.Equal(t, "tns", conns[0].Proto, "TNS on port 1522 is identified by its Connect packet")
}

// TestTNSCallTexts: the SQL text of the TRex Oracle session's execution
// calls. tshark (tns.data_oci.id of the client's Data packets) counts 48
// bundled execution calls (0x3e) and 48 OALL7 calls (0x47); each 0x3e call
// carries its statement, and of the 0x47 calls only the one of frame 36
// (begin sys.dbms_application_info...): the others re-execute a cursor
// parsed before (tshark -x, frame 26: no string in the call). So 49
// transactions have a text. The texts below are read off tshark -x of
// frames 24 (a 0xfe-chunked text: 64 + 20 bytes), 32 (one length byte,
// 0x2e) and 36. ndpi_oracle12 ends after the session-key call (0x76) and
// arkime_oracle_1522 holds a Connect only: no statement to find.
func TestTNSCallTexts(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public/tns")
	for _, name := range []string{"trex_oracle.pcap", "trex_oracle_astf_replay.pcap"} {
		_, txns := analyze(t, filepath.Join(dir, name))
		var texts []string
		for _, tx := range txns {
			if len(tx.Query) > 0 {
				texts = append(texts, string(tx.Query))
				assert.Contains(t, []string{"SELECT", "BEGIN"}, tx.Verb, "%q", tx.Query)
				assert.False(t, tx.TextTruncated)
			}
		}
		assert.Len(t, texts, 48+1, name)
		require.GreaterOrEqual(t, len(texts), 3)
		assert.Equal(t, []string{
			"select sid from V$SESSION  where audsid = ( select USERENV('SESSIONID') from dual )\n",
			"SELECT * FROM session_roles where role='DBA' \n",
			"begin sys.dbms_application_info.set_module('T.O.A.D.', null); end; \n",
		}, texts[:3], name)
	}
	for _, name := range []string{"ndpi_oracle12.pcapng", "arkime_oracle_1522.pcap"} {
		_, txns := analyze(t, filepath.Join(dir, name))
		for _, tx := range txns {
			assert.Empty(t, tx.Query, name)
		}
	}
}

// TestRedisAndTDSCaptures: tshark's Info column lists 5 Redis requests
// (COMMAND DOCS, two SETs, two GETs) and 5 responses; the TDS 7 login
// capture holds PreLogin, Login7 and one SQL batch from the client, each
// answered by a tabular result.
func TestRedisAndTDSCaptures(t *testing.T) {
	dir := flowtest.CorpusDir(t, "public/db")
	conns, _ := analyze(t, filepath.Join(dir, "zeek_redis_large-req-resp.pcap"))
	require.Len(t, conns, 1)
	assert.Equal(t, "redis", conns[0].Proto)
	assert.Equal(t, uint64(5), conns[0].App.Requests)
	assert.Equal(t, uint64(5), conns[0].App.Transactions)
	conns, txns := analyze(t, filepath.Join(dir, "arkime_tds7.pcap"))
	require.Len(t, conns, 1)
	assert.Equal(t, "tds", conns[0].Proto)
	assert.Equal(t, uint64(3), conns[0].App.MessagesC2S)
	assert.Equal(t, uint64(3), conns[0].App.MessagesS2C)
	require.Len(t, txns, 1)
	assert.Equal(t, "SQLBatch", txns[0].Kind)
	// tshark's tds.query of frame 8 (TDS 7.0: no ALL_HEADERS).
	assert.Equal(t, "select name from master.dbo.syscharsets where id = convert(tinyint, databasepropertyex ( db_name() , 'sqlcharset'))",
		string(txns[0].Query))
	// Redis: tshark's Info column names the commands COMMAND (DOCS), SET,
	// SET, GET, GET.
	_, txns = analyze(t, filepath.Join(dir, "zeek_redis_large-req-resp.pcap"))
	var names []string
	for _, tx := range txns {
		names = append(names, string(tx.Query))
	}
	assert.Equal(t, []string{"COMMAND", "SET", "SET", "GET", "GET"}, names)
}
