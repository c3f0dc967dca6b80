package flow

import (
	"sync"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/tcpstate"
)

// Batching of the work handed to the shards' goroutines.
const (
	batchEvents = 256       // events per batch
	batchBytes  = 256 << 10 // packet bytes copied per batch
	batchDepth  = 3         // batches in flight per shard
)

// batch is a run of events for one shard, with the packet bytes they
// refer to copied into its arena (the Reader's buffer is reused), and the
// application transactions they complete (event.ntx each, in order),
// their texts in the arena too.
type batch struct {
	evs   [batchEvents]event
	n     int
	arena []byte
	txs   []appproto.Transaction
}

// pendingTx is a transaction the application analysis completed on the
// Analyzer's goroutine, waiting for the event it belongs to: its texts
// are in parallel.pendText, their lengths here (-1: nil).
type pendingTx struct {
	t     appproto.Transaction
	texts [3]int
}

// endNotice is a connection a shard has finished, with its place in the
// order the connections ended.
type endNotice struct {
	seq  uint64
	conn *Conn
}

// parallel runs the shards of an Analyzer with Config.Workers > 1 on
// goroutines of their own. The Analyzer's goroutine reads, decodes and
// demultiplexes, runs the connections' application analysis (appproto:
// it needs no TCP analysis, and so the two goroutines share the work even
// when every connection is between the same two hosts, on one shard) and
// fills one batch per shard; each shard's goroutine analyses its
// connections' TCP state with its forks of the consumers, which receive
// each transaction where the application analysis found it. Finished
// connections come back and are delivered to the Analyzer and the root
// consumers (Forkers) in the order they ended, on the Analyzer's
// goroutine.
type parallel struct {
	a      *Analyzer
	roots  []Forker
	forks  [][]Consumer // per shard, one fork per root
	in     []chan *batch
	free   []chan *batch
	cur    []*batch
	wg     sync.WaitGroup
	mu     sync.Mutex
	back   []endNotice // finished, not yet taken (guarded by mu)
	taken  []endNotice
	next   uint64 // the next end to deliver
	early  map[uint64]*Conn
	closed bool
	// txh: the shards have TransactionConsumers (the application
	// analysis gets a Handler: pending, pendText).
	txh      bool
	pending  []pendingTx
	pendText []byte
}

// forkAll returns, when workers > 1 and every consumer is a Forker, the
// consumers as Forkers.
func forkAll(cons []Consumer, workers int) ([]Forker, bool) {
	if workers <= 1 {
		return nil, false
	}
	fs := make([]Forker, len(cons))
	for i, c := range cons {
		f, ok := c.(Forker)
		if !ok {
			return nil, false
		}
		fs[i] = f
	}
	return fs, true
}

func newParallel(a *Analyzer, roots []Forker) *parallel {
	n := a.cfg.Workers
	p := &parallel{a: a, roots: roots, forks: make([][]Consumer, n), in: make([]chan *batch, n),
		free: make([]chan *batch, n), cur: make([]*batch, n), early: map[uint64]*Conn{}}
	for i := range n {
		p.forks[i] = make([]Consumer, len(roots))
		for j, r := range roots {
			p.forks[i][j] = r.Fork()
		}
		p.in[i] = make(chan *batch, batchDepth)
		p.free[i] = make(chan *batch, batchDepth+1)
		for range batchDepth {
			p.free[i] <- &batch{arena: make([]byte, 0, batchBytes)}
		}
		p.cur[i] = &batch{arena: make([]byte, 0, batchBytes)}
		sh := newShard(&a.cfg, p.forks[i], p.finished)
		sh.appOut = true
		if len(sh.txc) > 0 {
			p.txh = true
		}
		p.wg.Add(1)
		go p.run(sh, p.in[i], p.free[i])
	}
	return p
}

// run is a shard's goroutine.
func (p *parallel) run(sh *shard, in <-chan *batch, free chan<- *batch) {
	defer p.wg.Done()
	for b := range in {
		tx := 0
		for i := range b.n {
			ev := &b.evs[i]
			sh.handle(ev, b.txs[tx:tx+ev.ntx])
			tx += ev.ntx
			ev.sc, ev.info, ev.seg.Payload, ev.ntx = nil, PacketInfo{}, nil, 0
		}
		b.n, b.arena, b.txs = 0, b.arena[:0], b.txs[:0]
		free <- b
	}
}

// appAdd feeds segment seg of direction d of a connection to its
// application analysis, on the Analyzer's goroutine; the transactions it
// completes wait in pending for send.
func (p *parallel) appAdd(sc *sconn, d tcpstate.Dir, seg *tcpstate.Segment) {
	sc.appAdd(d, seg, p.appOpen)
}

// appClose closes the application analysis of an ending connection; the
// transactions it completes wait in pending for send (the end's event).
// The shard reads the closed analysis's figures once the end reaches it.
func (p *parallel) appClose(sc *sconn) {
	sc.appEnd(p.appOpen)
}

func (p *parallel) appOpen(sc *sconn) {
	var h appproto.Handler
	if p.txh {
		h = p
	}
	sc.app = appproto.NewConn(&p.a.cfg.App, sc.conn.Client.Port(), sc.conn.Server.Port(), h)
}

// Transaction keeps a copy of t, with its texts, for the event being
// built (see send).
func (p *parallel) Transaction(t *appproto.Transaction) {
	pt := pendingTx{t: *t}
	for i, x := range [3]appproto.Text{t.Query, t.Host, t.Path} {
		pt.texts[i] = -1
		if x != nil {
			pt.texts[i] = len(x)
			p.pendText = append(p.pendText, x...)
		}
	}
	pt.t.Query, pt.t.Host, pt.t.Path = nil, nil, nil
	p.pending = append(p.pending, pt)
}

// finished is called by a shard's goroutine for each connection it ended.
func (p *parallel) finished(c *Conn, seq uint64) {
	p.mu.Lock()
	p.back = append(p.back, endNotice{seq, c})
	p.mu.Unlock()
}

// shardOf assigns a connection to a shard by its two addresses (FNV-1a),
// not its ports: every connection between two hosts runs on one shard,
// so that a consumer looking across them (flow/explain's cross-traffic
// queueing, per host pair) sees them all, as a single pass would.
func (p *parallel) shardOf(k connKey) int {
	h := uint64(14695981039346656037)
	a, b := k.a.Addr(), k.b.Addr()
	if b.Less(a) {
		a, b = b, a
	}
	for _, x := range [2][16]byte{a.As16(), b.As16()} {
		for _, c := range x {
			h ^= uint64(c)
			h *= 1099511628211
		}
	}
	return int(h % uint64(len(p.in)))
}

// slot returns the event to fill next for shard sh.
func (p *parallel) slot(sh int) *event { return &p.cur[sh].evs[p.cur[sh].n] }

// send commits the event filled in slot(sh): the packet bytes it refers
// to and the transactions pending are copied into the batch, which goes
// to the shard when full.
func (p *parallel) send(sh int, ev *event) {
	b := p.cur[sh]
	var l4 []byte
	if ev.kind == evPacket {
		l4 = ev.info.L4
	}
	if need := len(l4) + len(p.pendText); need > 0 {
		if len(b.arena)+need > cap(b.arena) && b.n > 0 {
			nb := p.take(sh)
			nb.evs[0] = *ev
			p.flush(sh, b)
			p.cur[sh] = nb
			b, ev = nb, &nb.evs[0]
		}
		if need > cap(b.arena) {
			b.arena = make([]byte, 0, need)
		}
	}
	p.sendTxs(b, ev)
	if ev.kind == evPacket {
		at := len(b.arena)
		b.arena = append(b.arena, l4...)
		cp := b.arena[at:len(b.arena):len(b.arena)]
		if ev.sc != nil {
			off := cap(l4) - cap(ev.seg.Payload)
			ev.seg.Payload = cp[off : off+len(ev.seg.Payload)]
		}
		ev.info.L4 = cp
	}
	b.n++
	if b.n == batchEvents {
		p.flush(sh, b)
		p.cur[sh] = p.take(sh)
		if len(p.early) > maxEarly {
			p.unstall()
		}
	}
}

// maxEarly bounds the connections that ended out of their turn and wait
// for an earlier end still in a shard's unsent batch.
const maxEarly = 2 * batchEvents

// unstall sends every shard's partly filled batch, so that an end waiting
// in a shard that gets few events (a flood hashed mostly to the other)
// is delivered and the connections that ended after it are let go:
// without it they pile up with their records (a 100,000-SYN flood held
// 330 MB of them).
func (p *parallel) unstall() {
	for sh, b := range p.cur {
		if b.n > 0 {
			p.flush(sh, b)
			p.cur[sh] = p.take(sh)
		}
	}
}

// sendTxs moves the pending transactions into batch b, as ev's, their
// texts into its arena (which has room).
func (p *parallel) sendTxs(b *batch, ev *event) {
	ev.ntx = len(p.pending)
	if ev.ntx == 0 {
		return
	}
	at := len(b.arena)
	b.arena = append(b.arena, p.pendText...)
	for i := range p.pending {
		pt := &p.pending[i]
		t := pt.t
		for j, dst := range [3]*appproto.Text{&t.Query, &t.Host, &t.Path} {
			if n := pt.texts[j]; n >= 0 {
				*dst = appproto.Text(b.arena[at : at+n : at+n])
				at += n
			}
		}
		b.txs = append(b.txs, t)
	}
	p.pending, p.pendText = p.pending[:0], p.pendText[:0]
}

// take returns an empty batch for shard sh, waiting for the shard to give
// one back if none is free, and delivers what the shards have finished.
func (p *parallel) take(sh int) *batch {
	b := <-p.free[sh]
	p.deliver()
	return b
}

func (p *parallel) flush(sh int, b *batch) { p.in[sh] <- b }

// deliver passes the finished connections on, in the order they ended, as
// far as that order is complete.
func (p *parallel) deliver() {
	p.mu.Lock()
	p.taken, p.back = p.back, p.taken[:0]
	p.mu.Unlock()
	for _, e := range p.taken {
		p.early[e.seq] = e.conn
	}
	for {
		c, ok := p.early[p.next]
		if !ok {
			return
		}
		delete(p.early, p.next)
		p.next++
		p.a.ended(c)
		for _, r := range p.roots {
			r.ConnEnd(c)
		}
	}
}

// close sends what is left, waits for the shards, delivers the last
// connections and merges the forks into their roots.
func (p *parallel) close() {
	if p.closed {
		return
	}
	p.closed = true
	for sh, b := range p.cur {
		if b.n > 0 {
			p.flush(sh, b)
		}
		close(p.in[sh])
	}
	p.wg.Wait()
	p.deliver()
	for j, r := range p.roots {
		forks := make([]Consumer, len(p.forks))
		for i := range p.forks {
			forks[i] = p.forks[i][j]
		}
		r.Merge(forks)
	}
}
