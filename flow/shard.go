package flow

import (
	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// evKind is what an event asks of a shard.
type evKind uint8

const (
	// evPacket: a packet, of the connection sc or of none.
	evPacket evKind = iota
	// evEnd: the connection sc has ended (why).
	evEnd
)

// event is one unit of work the demultiplexer hands a shard: a packet
// with its classification and, for a TCP segment, the parsed segment; or
// the end of a connection.
type event struct {
	kind evKind
	sc   *sconn
	dir  tcpstate.Dir
	why  EndReason
	seq  uint64 // evEnd: how many connections ended before this one
	ntx  int    // parallel: transactions the Analyzer's goroutine found
	info PacketInfo
	seg  tcpstate.Segment
}

// sconn is a shard's state of one live connection: its report, TCP state
// and application analysis, created at its first segment. It is the
// appproto.Handler of its application analysis when the shard has
// TransactionConsumers (txc): each transaction reaches them with its own
// connection. In a parallel pass the application analysis (app) belongs
// to the Analyzer's goroutine, which feeds it and closes it before the
// connection's end reaches the shard (see parallel.appAdd). Either way it
// is closed and released as soon as both byte streams are complete
// (done), so that a closed connection waiting out Config.CloseLinger does
// not hold its buffers.
type sconn struct {
	conn *Conn
	tcp  *tcpstate.Conn
	app  *appproto.Conn
	// done holds the application analysis's figures once both byte
	// streams are complete (appproto.Conn.Done): it is closed then and
	// released, and later segments skip it.
	done *appResult
	txc  []TransactionConsumer
}

// appResult is what a connection's report takes from its closed
// application analysis.
type appResult struct {
	proto string
	conf  float64
	stats appproto.Stats
}

// resultOf returns the figures of the closed application analysis a.
func resultOf(a *appproto.Conn) *appResult {
	return &appResult{proto: a.Protocol(), conf: a.Confidence(), stats: a.Stats()}
}

// appAdd feeds segment seg of direction d to sc's application analysis,
// creating it with newApp at the first; once both streams are complete
// the analysis is closed (its transactions delivered now) and released.
func (sc *sconn) appAdd(d tcpstate.Dir, seg *tcpstate.Segment, newApp func(*sconn)) {
	if sc.done != nil {
		return
	}
	if sc.app == nil {
		newApp(sc)
	}
	sc.app.Add(d, seg)
	if sc.app.Done() {
		sc.closeApp()
	}
}

// appEnd closes sc's application analysis, if still open, and returns
// its figures.
func (sc *sconn) appEnd(newApp func(*sconn)) *appResult {
	if sc.done == nil {
		if sc.app == nil {
			newApp(sc)
		}
		sc.closeApp()
	}
	return sc.done
}

// closeApp closes sc's application analysis and keeps only its figures.
func (sc *sconn) closeApp() {
	sc.app.Close()
	sc.done, sc.app = resultOf(sc.app), nil
}

// Transaction passes t, a transaction of sc, to the TransactionConsumers.
func (sc *sconn) Transaction(t *appproto.Transaction) {
	for _, c := range sc.txc {
		c.Transaction(sc.conn, t)
	}
}

// shard analyses the connections assigned to it: their TCP state,
// application analysis and the consumers' work. With one worker the
// Analyzer's only shard runs on the caller's goroutine with the
// Consumers themselves; with several, each runs on its own goroutine with
// the consumers' forks.
type shard struct {
	cons  []Consumer
	txc   []TransactionConsumer
	app   appproto.Config
	ended func(c *Conn, seq uint64)
	// appOut: the application analysis runs on the Analyzer's goroutine
	// (a parallel pass), its transactions come with the events.
	appOut bool
}

func newShard(cfg *Config, cons []Consumer, ended func(*Conn, uint64)) *shard {
	s := &shard{cons: cons, app: cfg.App, ended: ended}
	if s.app.Registry == nil {
		s.app.Registry = appproto.DefaultRegistry()
	}
	for _, c := range cons {
		if t, ok := c.(TransactionConsumer); ok {
			s.txc = append(s.txc, t)
		}
	}
	return s
}

// handle does what ev asks; txs are the transactions the event completes
// when the application analysis runs outside the shard (appOut).
func (s *shard) handle(ev *event, txs []appproto.Transaction) {
	if ev.kind == evEnd {
		s.finish(ev.sc, ev.why, ev.seq, txs)
		return
	}
	in := &ev.info
	if sc := ev.sc; sc != nil {
		if sc.tcp == nil {
			s.open(sc)
		}
		an := sc.tcp.Add(ev.dir, &ev.seg)
		if s.appOut {
			for i := range txs {
				sc.Transaction(&txs[i])
			}
		} else {
			sc.appAdd(ev.dir, &ev.seg, s.openApp)
		}
		sc.conn.LastPacket = ev.seg.Index
		in.Conn, in.Dir, in.Seg, in.Analysis, in.TCP = sc.conn, ev.dir, &ev.seg, an, sc.tcp
	}
	for _, c := range s.cons {
		c.Packet(in)
	}
}

// open creates the TCP and application state of a new connection.
func (s *shard) open(sc *sconn) {
	sc.tcp = tcpstate.NewConn()
	if len(s.txc) > 0 {
		sc.txc = s.txc
	}
	if !s.appOut {
		s.openApp(sc)
	}
}

// openApp creates sc's application analysis (a shard that runs it).
func (s *shard) openApp(sc *sconn) {
	var h appproto.Handler
	if len(s.txc) > 0 {
		h = sc
	}
	sc.app = appproto.NewConn(&s.app, sc.conn.Client.Port(), sc.conn.Server.Port(), h)
}

// finish fills the report of an ended connection from its TCP state and
// application analysis, passes it to the consumers and releases the state.
// With appOut the application analysis is closed already and txs are the
// transactions its closing completed.
func (s *shard) finish(sc *sconn, why EndReason, seq uint64, txs []appproto.Transaction) {
	if sc.tcp == nil {
		s.open(sc)
	}
	c, t := sc.conn, sc.tcp
	c.First, c.Last = t.First, t.Last
	c.Duration = t.Last.Sub(t.First)
	c.State = t.State()
	c.End = why
	c.C2S, c.S2C = t.Stats[0], t.Stats[1]
	c.ClientOptions, c.ServerOptions = t.Options[0], t.Options[1]
	var res *appResult
	if s.appOut {
		for i := range txs {
			sc.Transaction(&txs[i])
		}
		res = sc.done // the Analyzer's goroutine ended it (parallel.appClose)
	} else {
		res = sc.appEnd(s.openApp)
	}
	c.Proto, c.ProtoConfidence, c.App = res.proto, res.conf, res.stats
	c.RTT, c.Vantage, c.Quality = t.RTT(), t.Vantage(), t.Quality()
	if c.Quality == nil {
		c.Quality = []tcpstate.Quality{}
	}
	sc.tcp, sc.app, sc.done = nil, nil, nil
	for _, x := range s.cons {
		x.ConnEnd(c)
	}
	s.ended(c, seq)
}
