package appproto_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/flowtest"
)

// twinConns feeds every TCP segment of a pass to two appproto.Conns per
// connection: one whose Handler only takes transactions (so framing
// reports runs of plain responses to pairing as one message), one whose
// Handler takes every message too (so each message is reported).
type twinConns struct {
	reg   *appproto.Registry
	conns map[int]*twin
	order []int
}

type twin struct {
	plain, each *appproto.Conn
	a, b        txList
}

// txList records transactions; msgList also records messages.
type txList struct{ txns []appproto.Transaction }

func (l *txList) Transaction(t *appproto.Transaction) { l.txns = append(l.txns, t.Clone()) }

type msgList struct{ *txList }

func (l msgList) Message(*appproto.Message) {}

func (tc *twinConns) Packet(p *flow.PacketInfo) {
	if p.Seg == nil || p.Conn == nil {
		return
	}
	tw := tc.conns[p.Conn.ID]
	if tw == nil {
		tw = &twin{}
		cfg := appproto.Config{Registry: tc.reg}
		cp, sp := p.Conn.Client.Port(), p.Conn.Server.Port()
		tw.plain = appproto.NewConn(&cfg, cp, sp, &tw.a)
		tw.each = appproto.NewConn(&cfg, cp, sp, msgList{txList: &tw.b})
		tc.conns[p.Conn.ID] = tw
		tc.order = append(tc.order, p.Conn.ID)
	}
	tw.plain.Add(p.Dir, p.Seg)
	tw.each.Add(p.Dir, p.Seg)
}

func (*twinConns) ConnEnd(*flow.Conn) {}

// TestCoalesceSameResults runs every corpus capture through both kinds of
// Conn and requires the same Stats and the same transactions: reporting a
// run of plain responses as one message changes nothing pairing computes.
func TestCoalesceSameResults(t *testing.T) {
	corpus := flowtest.CorpusDir(t, ".")
	files := flowtest.Captures(t, filepath.Join(corpus, "public"))
	files = append(files, flowtest.Captures(t, filepath.Join(corpus, "lab"))...)
	require.NotEmpty(t, files)
	total, txns := 0, 0
	for _, f := range files {
		if strings.Contains(f, "/big/") {
			continue // 6.8 MB of echo connections: no application protocol
		}
		tc := &twinConns{reg: appproto.DefaultRegistry(), conns: map[int]*twin{}}
		if _, err := flow.AnalyzeFile(f, flow.Config{Consumers: []flow.Consumer{tc}}); err != nil && len(tc.conns) == 0 {
			continue // not a capture flow reads (the broken ones)
		}
		total += len(tc.order)
		for _, id := range tc.order {
			tw := tc.conns[id]
			tw.plain.Close()
			tw.each.Close()
			require.Equal(t, tw.each.Stats(), tw.plain.Stats(), "%s conn %d", f, id)
			require.Equal(t, tw.b.txns, tw.a.txns, "%s conn %d", f, id)
			txns += len(tw.a.txns)
		}
	}
	t.Logf("%d captures, %d connections, %d transactions", len(files), total, txns)
	require.Greater(t, txns, 4000)
}
