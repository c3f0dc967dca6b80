package appproto_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// queryGolden is testdata/golden/app/queries.json, written by
// gen_queries.py from tshark's dissectors.
type queryGolden struct {
	Captures map[string][]struct {
		Stream   int    `json:"stream"`
		Client   string `json:"client"`
		Server   string `json:"server"`
		Requests []struct {
			Proto string `json:"proto"`
			Text  string `json:"text"`
			Host  string `json:"host"`
			Path  string `json:"path"`
		} `json:"requests"`
		TNSCalls map[string]int `json:"tns_calls"`
	} `json:"captures"`
}

// queryDifferences lists the connections whose texts differ from
// tshark's on purpose, each explained in testdata/golden/app/DIFFERENCES.md.
var queryDifferences = map[string]string{
	"public/http/ppp_example_http_mix.pcap#26": "SUBSCRIBE (UPnP GENA) is no HTTP method netecology knows: the connection is unknown data",
}

// connTxns collects the transactions of a pass by connection.
type connTxns map[int][]appproto.Transaction

func (connTxns) Packet(*flow.PacketInfo) {}
func (connTxns) ConnEnd(*flow.Conn)      {}
func (m connTxns) Transaction(c *flow.Conn, t *appproto.Transaction) {
	m[c.ID] = append(m[c.ID], t.Clone())
}

// TestQueryGolden compares the text of every transaction (Query; Host and
// Path for HTTP) with the request texts tshark decodes (pgsql.query,
// mysql.query, tds.query, http.host and http.request.uri), connection by
// connection and in request order. A request tshark lists that has no
// transaction (unanswered, or beyond Config.MaxPending) may be missing; a
// text we cut at MaxText bytes must begin tshark's.
func TestQueryGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(flowtest.RepoRoot(), "testdata", "golden", "app", "queries.json"))
	require.NoError(t, err)
	var g queryGolden
	require.NoError(t, json.Unmarshal(b, &g))
	require.NotEmpty(t, g.Captures)
	corpus := flowtest.CorpusDir(t, ".")
	for rel, want := range g.Captures {
		t.Run(rel, func(t *testing.T) {
			txns := connTxns{}
			res, err := flow.AnalyzeFile(filepath.Join(corpus, rel), flow.Config{KeepConns: true, Consumers: []flow.Consumer{txns}})
			require.NotNil(t, res, "%v", err)
			byEnds := map[[2]string]*flow.Conn{}
			for _, c := range res.Conns {
				byEnds[[2]string{c.Client.String(), c.Server.String()}] = c
				byEnds[[2]string{c.Server.String(), c.Client.String()}] = c
			}
			for _, w := range want {
				c := byEnds[[2]string{w.Client, w.Server}]
				require.NotNil(t, c, "tshark stream %d %s-%s not found", w.Stream, w.Client, w.Server)
				if why, ok := queryDifferences[rel+"#"+strconv.Itoa(w.Stream)]; ok {
					t.Logf("%s#%d: deliberate difference: %s", rel, w.Stream, why)
					continue
				}
				var got []string
				ours := txns[c.ID]
				slices.SortFunc(ours, func(x, y appproto.Transaction) int { return int(x.FirstPacket) - int(y.FirstPacket) })
				for _, tx := range ours {
					switch {
					case len(tx.Path) > 0:
						got = append(got, cutMark("http "+string(tx.Host)+" "+string(tx.Path), tx.TextTruncated))
					case len(tx.Query) > 0 && tx.Proto != "tns" && tx.Proto != "redis":
						got = append(got, cutMark(tx.Proto+" "+string(tx.Query), tx.TextTruncated))
					}
				}
				var exp []string
				for _, r := range w.Requests {
					if r.Proto == "http" {
						exp = append(exp, "http "+r.Host+" "+r.Path)
					} else {
						exp = append(exp, r.Proto+" "+r.Text)
					}
				}
				// Requests unanswered, or beyond MaxPending, are not reported.
				checkTexts(t, rel, w.Stream, exp, got, int(c.App.Requests-c.App.Transactions))
			}
		})
	}
}

func cutMark(s string, cut bool) string {
	if cut {
		return s + "…"
	}
	return s
}

// checkTexts matches our texts, in order, against tshark's, skipping at
// most unanswered of tshark's.
func checkTexts(t *testing.T, rel string, stream int, exp, got []string, unanswered int) {
	t.Helper()
	i := 0
	for _, s := range got {
		cut := strings.HasSuffix(s, "…")
		s = strings.TrimSuffix(s, "…")
		for i < len(exp) && !(exp[i] == s || cut && strings.HasPrefix(exp[i], s)) && unanswered > 0 {
			i++ // a request left unanswered has no transaction
			unanswered--
		}
		if !assert.Less(t, i, len(exp), "%s#%d: %q has no match in tshark's requests", rel, stream, s) {
			return
		}
		if !assert.True(t, exp[i] == s || cut && strings.HasPrefix(exp[i], s), "%s#%d request %d: tshark %q, netecology %q", rel, stream, i, exp[i], s) {
			return
		}
		i++
	}
	assert.LessOrEqual(t, len(exp)-i, unanswered, "%s#%d: tshark lists %d more requests", rel, stream, len(exp)-i)
}
