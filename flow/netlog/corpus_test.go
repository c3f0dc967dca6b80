package netlog_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
	"github.com/netecology/netecology/flow/netlog"
	"github.com/netecology/netecology/flow/units"
)

// tsharkCounts is one capture's entry in testdata/golden/netlog/counts.json
// (made by gen_netlog.py).
type tsharkCounts struct {
	SYN            uint64 `json:"syn"`
	SYNACK         uint64 `json:"synack"`
	HandshakeACK   uint64 `json:"handshake_ack"`
	FIN            uint64 `json:"fin"`
	RST            uint64 `json:"rst"`
	Retransmission uint64 `json:"retransmission"`
	ZeroWindow     uint64 `json:"zero_window"`
	Error          string `json:"tshark_error"`
}

type countsGolden struct {
	Tshark   string                  `json:"tshark"`
	Captures map[string]tsharkCounts `json:"captures"`
}

func readCountsGolden(t *testing.T) countsGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "netlog", "counts.json"))
	require.NoError(t, err)
	var g countsGolden
	require.NoError(t, json.Unmarshal(b, &g))
	return g
}

// fileCounts runs a Logger over a capture and returns its counts, with
// the connections' RTO and transaction totals from flow.
type fileCounts struct {
	netlog.Counts
	rto, txns uint64
}

func logFile(t *testing.T, path string, workers int, h netlog.Handler) (fileCounts, error) {
	t.Helper()
	var fc fileCounts
	tally := netlog.HandlerFunc(func(c *flow.Conn, _ []netlog.Event) error {
		fc.rto += c.C2S.RetransTimeout + c.S2C.RetransTimeout
		fc.txns += c.App.Transactions
		return nil
	})
	if h != nil {
		tally = netlog.HandlerFunc(netlog.Handlers(tally, h).Events)
	}
	lg := netlog.New(netlog.Config{}, tally)
	_, err := flow.AnalyzeFile(path, flow.Config{Consumers: []flow.Consumer{lg}, Workers: workers})
	require.NoError(t, lg.Err())
	fc.Counts = lg.Counts()
	return fc, err
}

// goldenFiles returns the golden's captures, those of testdata/lab
// first; the shared corpus's are left out (with a message) when it is
// missing, except under CI=true.
func goldenFiles(t *testing.T, g countsGolden) (keys []string, paths map[string]string) {
	t.Helper()
	paths = map[string]string{}
	var corpus []string
	for k := range g.Captures {
		if strings.HasPrefix(k, "testdata/") {
			keys = append(keys, k)
			paths[k] = filepath.Join(flowtest.RepoRoot(), k)
		} else {
			corpus = append(corpus, k)
		}
	}
	sort.Strings(keys)
	sort.Strings(corpus)
	t.Run("corpus", func(t *testing.T) {
		dir := flowtest.CorpusDir(t, "")
		for _, k := range corpus {
			paths[k] = filepath.Join(dir, k)
		}
	})
	for _, k := range corpus {
		if paths[k] != "" {
			keys = append(keys, k)
		}
	}
	return keys, paths
}

// Every capture of testdata/lab and of the shared corpus: each count of
// events equals the packets tshark counts for it (counts.json, made by
// gen_netlog.py with tshark 4.0.17): SYN, SYN/ACK, handshake ACK, FIN,
// RST, tcp.analysis.retransmission and tcp.analysis.zero_window; the RTO
// events equal tcpstate's retransmissions after a timeout
// (DirStats.RetransTimeout) and each kind of request and response event
// appproto's transactions (Stats.Transactions).
func TestEventCountsTshark(t *testing.T) {
	g := readCountsGolden(t)
	keys, paths := goldenFiles(t, g)
	var total [netlog.NumNames]uint64
	for _, k := range keys {
		want := g.Captures[k]
		got, _ := logFile(t, paths[k], 1, nil)
		e := got.Events
		for _, c := range []struct {
			name      string
			got, want uint64
		}{
			{"syn", e[netlog.SYN], want.SYN}, {"synack", e[netlog.SYNACK], want.SYNACK},
			{"handshake_ack", e[netlog.HandshakeACK], want.HandshakeACK}, {"fin", e[netlog.FIN], want.FIN},
			{"rst", e[netlog.RST], want.RST}, {"retransmission", e[netlog.Retransmission], want.Retransmission},
			{"zero_window", e[netlog.ZeroWindow], want.ZeroWindow},
		} {
			assert.Equal(t, c.want, c.got, "%s: %s events against tshark's packets", k, c.name)
		}
		assert.Equal(t, got.rto, e[netlog.RTO], "%s: RTO events against tcpstate's timeouts", k)
		for _, n := range []netlog.Name{netlog.RequestStart, netlog.RequestEnd, netlog.ResponseStart, netlog.ResponseEnd} {
			assert.Equal(t, got.txns, e[n], "%s: %s events against appproto's transactions", k, n)
		}
		assert.Zero(t, e[netlog.Truncated], k)
		for n := range total {
			total[n] += e[n]
		}
	}
	require.NotEmpty(t, keys)
	t.Logf("%d captures; events: %v", len(keys), total)
}

// The lab's own counts: curl's HTTP requests (groundtruth.json
// measured.requests: 200 chatty, 2 bulk) are the request events of the
// HTTP sessions, and psql's 200 queries (README: 200 single-row queries)
// those of the chatty PostgreSQL sessions.
func TestRequestEventsLab(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab")
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	require.NoError(t, err)
	var gt struct {
		Files []struct {
			File     string `json:"file"`
			Measured struct {
				Requests uint64 `json:"requests"`
			} `json:"measured"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &gt))
	n := 0
	for _, f := range gt.Files {
		path := filepath.Join(dir, f.File)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		var want uint64
		switch {
		case strings.Contains(f.File, "-http-"):
			want = f.Measured.Requests
		case strings.Contains(f.File, "-pg-chatty"):
			want = 200
		default:
			continue
		}
		got, err := logFile(t, path, 1, nil)
		require.NoError(t, err)
		assert.Equal(t, want, got.Events[netlog.RequestStart], f.File)
		n++
	}
	assert.Equal(t, 7, n, "the committed lab set's HTTP and chatty PostgreSQL sessions")
}

// Every capture's events: the same ULM bytes with one worker and with
// four (flow.Forker) when it has several connections (the ULM lines carry
// every field, so the events and their JSON are the same too), and the
// ULM and JSON lines read back to the events.
func TestOutputWorkersAndParseBack(t *testing.T) {
	g := readCountsGolden(t)
	keys, paths := goldenFiles(t, g)
	multi := 0
	for _, k := range keys {
		var one, four bytes.Buffer
		var blocks [][]netlog.Event
		_, _ = logFile(t, paths[k], 1, netlog.Handlers(netlog.NewULMWriter(&one, ""),
			netlog.HandlerFunc(func(_ *flow.Conn, evs []netlog.Event) error {
				blocks = append(blocks, append([]netlog.Event(nil), evs...))
				return nil
			})))
		if len(blocks) > 1 {
			_, _ = logFile(t, paths[k], 4, netlog.NewULMWriter(&four, ""))
			require.Equal(t, one.String(), four.String(), "%s: ULM with 1 and 4 workers", k)
			multi++
		}
		parseBack(t, k, blocks)
	}
	t.Logf("%d captures read back, %d of several connections compared with 4 workers", len(keys), multi)
}

// The lab's vantage set (testdata/lab/vantage, once the lab set is
// merged): sessions captured at the client, in the middle and at the
// server at once, over legs of 20 ms (client side) and 55 ms (server
// side). Each file's first connection, whose handshake met empty queues,
// has legs within 1 ms of the one-way delays from the capture point to
// each end (groundtruth.json one_way_delay_to_client_ms and _server_ms;
// the rest is the SYN's and SYN/ACK's serialization at 2 Mbit/s, 0.3 ms,
// and the emulator's scheduling). A connection opened while another
// fills the queue (the mixed sessions' second) has its handshake, and so
// its legs, lengthened by the queue.
func TestLegsLabVantage(t *testing.T) {
	dir := filepath.Join(flowtest.RepoRoot(), "testdata", "lab", "vantage")
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	if err != nil {
		t.Skipf("no %s (the lab's vantage set is not merged yet)", dir)
	}
	var gt struct {
		Files []struct {
			File     string   `json:"file"`
			ToClient *float64 `json:"one_way_delay_to_client_ms"`
			ToServer *float64 `json:"one_way_delay_to_server_ms"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &gt))
	n := 0
	for _, f := range gt.Files {
		if f.ToClient == nil || f.ToServer == nil {
			continue
		}
		var legs *netlog.Legs
		_, err := logFile(t, filepath.Join(dir, f.File), 1, netlog.HandlerFunc(func(c *flow.Conn, evs []netlog.Event) error {
			if c.ID == 1 && len(evs) > 0 {
				legs = evs[0].Legs
			}
			return nil
		}))
		require.NoError(t, err, f.File)
		require.NotNil(t, legs, "%s: connection 1 has legs", f.File)
		assert.InDelta(t, *f.ToClient, units.Ms(legs.Client), 1, "%s: client leg", f.File)
		assert.InDelta(t, *f.ToServer, units.Ms(legs.Server), 1, "%s: server leg", f.File)
		n++
	}
	assert.NotZero(t, n)
}
