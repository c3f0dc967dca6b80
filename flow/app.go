package flow

import (
	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// appGlue feeds the application analysis (package appproto) from the
// Analyzer: one appproto.Conn per connection, fed every segment after
// tcpstate, closed when the connection ends. Transactions go to the
// Consumers that implement TransactionConsumer.
type appGlue struct {
	ready bool
	cfg   appproto.Config
	txc   []TransactionConsumer
	cur   *Conn // the connection being fed
}

// appOpen creates the application state of a new connection.
func (a *Analyzer) appOpen(l *live) {
	g := &a.app
	if !g.ready {
		g.ready = true
		g.cfg = a.cfg.App
		if g.cfg.Registry == nil {
			g.cfg.Registry = appproto.DefaultRegistry()
		}
		for _, c := range a.cfg.Consumers {
			if t, ok := c.(TransactionConsumer); ok {
				g.txc = append(g.txc, t)
			}
		}
		if len(g.txc) > 0 {
			g.cfg.OnTransaction = func(t *appproto.Transaction) {
				for _, c := range g.txc {
					c.Transaction(g.cur, t)
				}
			}
		}
	}
	l.app = appproto.NewConn(&g.cfg, l.conn.Client.Port(), l.conn.Server.Port())
}

// appAdd feeds one segment of l travelling in direction d.
func (a *Analyzer) appAdd(l *live, d tcpstate.Dir, seg *tcpstate.Segment) {
	a.app.cur = l.conn
	l.app.Add(d, seg)
}

// appFinish ends l's application analysis and fills its report.
func (a *Analyzer) appFinish(l *live) {
	a.app.cur = l.conn
	l.app.Close()
	c := l.conn
	c.Proto = l.app.Protocol()
	c.ProtoConfidence = l.app.Confidence()
	c.App = l.app.Stats()
}
