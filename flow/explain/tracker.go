package explain

import (
	"net/netip"
	"sync"
	"time"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Defaults for a zero Options.
const (
	DefaultTopStalls       = 5
	DefaultMinBulkSegments = 4
	DefaultSmallMessage    = 64
	DefaultMaxPhases       = 32
	defaultIW              = 10
)

// Options tunes an Explainer. Its zero value is usable.
type Options struct {
	// TopStalls is how many of the longest stalls each connection keeps.
	// Zero means DefaultTopStalls.
	TopStalls int
	// MinBulkSegments is the fewest data segments in one direction, with no
	// data the other way, that make a bulk phase. Zero means
	// DefaultMinBulkSegments.
	MinBulkSegments int
	// SmallMessage is the largest payload of a segment counted as a small
	// application message when it carries an ACK. Zero means
	// DefaultSmallMessage.
	SmallMessage int
	// MaxPhases bounds the bulk phases kept per connection for the what-if
	// model. Zero means DefaultMaxPhases.
	MaxPhases int
	// Keep keeps every connection's explanation, returned by Conns;
	// memory then grows with the connections of the capture. Without it
	// only the explanation of the connection that ended last is held
	// (Ended).
	Keep bool
	// CaptureRate is the bottleneck rate of the capture's own link when
	// the user knows it (compare's -capture-rate): each direction's
	// serialization is priced at it instead of the rate estimated from the
	// capture. Zero: estimated (Conn.RateFrom says how).
	CaptureRate units.BitRate
	// Registry names a connection's protocol by its server's port when
	// appproto did not identify it (the registry's table of well-known
	// ports). Nil means appproto.DefaultRegistry.
	Registry *appproto.Registry
}

func (o *Options) norm() {
	if o.TopStalls <= 0 {
		o.TopStalls = DefaultTopStalls
	}
	if o.MinBulkSegments <= 0 {
		o.MinBulkSegments = DefaultMinBulkSegments
	}
	if o.SmallMessage <= 0 {
		o.SmallMessage = DefaultSmallMessage
	}
	if o.MaxPhases <= 0 {
		o.MaxPhases = DefaultMaxPhases
	}
	if o.Registry == nil {
		o.Registry = appproto.DefaultRegistry()
	}
}

// Explainer explains the connections of one capture. It is a
// flow.TransactionConsumer: list it in flow.Config.Consumers. Its memory
// is bounded by the live connections (fixed per connection, and a small
// record per pair of hosts with live connections) unless Options.Keep is
// set. It is not safe for concurrent use.
//
// When a connection ends, the Explainer finishes its explanation in
// ConnEnd; consumers listed after it in flow.Config.Consumers read it with
// Ended in their own ConnEnd.
type Explainer struct {
	opts  Options
	live  map[*flow.Conn]*connState
	pairs map[hostPair]*pairState
	done  []*Conn
	ended *Conn
	spare *connState

	// With flow.Config.Workers, the root (forked) receives the
	// explanations its forks finish (root) through results.
	root   *Explainer
	forked bool
	mu     sync.Mutex
	result map[*flow.Conn]*Conn
}

var (
	_ flow.TransactionConsumer = (*Explainer)(nil)
	_ flow.Forker              = (*Explainer)(nil)
)

// New returns an Explainer.
func New(opts Options) *Explainer {
	opts.norm()
	return &Explainer{opts: opts, live: make(map[*flow.Conn]*connState), pairs: make(map[hostPair]*pairState)}
}

// Conns returns the explanations of the ended connections in the order
// they ended (empty unless Options.Keep is set).
func (e *Explainer) Conns() []*Conn { return e.done }

// Ended returns the explanation of the connection whose ConnEnd was
// delivered last (nil if no segment of it was seen, or before any
// ConnEnd). It stays valid until the next ConnEnd, or for good with
// Options.Keep.
func (e *Explainer) Ended() *Conn { return e.ended }

// Packet feeds one packet; packets that are not TCP segments of a
// connection analysed by tcpstate (PacketInfo.Analysis and TCP, which
// flow's Analyzer sets with Seg) are ignored.
func (e *Explainer) Packet(p *flow.PacketInfo) {
	if p.Conn == nil || p.Seg == nil || p.Analysis == nil || p.TCP == nil {
		return
	}
	cs := e.live[p.Conn]
	if cs == nil {
		cs = e.spare
		e.spare = nil
		if cs == nil {
			cs = new(connState)
		}
		cs.init(&e.opts, p.Conn.ID, e.pair(p.Conn.Client.Addr(), p.Conn.Server.Addr()))
		cs.pair.join(cs)
		e.live[p.Conn] = cs
	}
	cs.add(p.Dir, p.Seg, p.Analysis, p.TCP)
}

// Transaction counts an application transaction's messages that spanned
// several segments (see SegmentStats.MultiSegmentMessages).
func (e *Explainer) Transaction(c *flow.Conn, t *appproto.Transaction) {
	cs := e.live[c]
	if cs == nil {
		return
	}
	cs.message(tcpstate.ClientToServer, t.RequestSegments, t.RequestBytes)
	cs.message(tcpstate.ServerToClient, t.ResponseSegments, t.ResponseBytes)
}

func (cs *connState) message(d tcpstate.Dir, segs int, bytes int64) {
	if segs < 2 || bytes <= 0 {
		return
	}
	st := &cs.d[d].segStats
	st.MultiSegmentMessages++
	st.MessageSegments += uint64(segs)
	st.MessageBytes += uint64(bytes)
	if mss := cs.d[d].mss; mss > 0 {
		if full := (bytes + int64(mss) - 1) / int64(mss); full < int64(segs) {
			st.MessageSavedSegments += uint64(int64(segs) - full)
		}
	}
}

// ConnEnd finishes the explanation of an ended connection (see Ended).
func (e *Explainer) ConnEnd(c *flow.Conn) {
	e.ended = nil
	if e.forked {
		// The fork that saw the connection has finished it.
		e.mu.Lock()
		e.ended = e.result[c]
		delete(e.result, c)
		e.mu.Unlock()
	} else if cs := e.live[c]; cs != nil {
		delete(e.live, c)
		e.ended = cs.finish(c)
		e.release(cs.pair)
		e.spare = cs
		if r := e.root; r != nil {
			r.mu.Lock()
			r.result[c] = e.ended
			r.mu.Unlock()
			return
		}
	}
	if e.ended != nil && e.opts.Keep {
		e.done = append(e.done, e.ended)
	}
}

// Fork returns an Explainer for one shard of a parallel pass (see
// flow.Forker); its explanations reach e as their connections end. flow
// assigns every connection between two hosts to one shard, so each fork's
// record of the host pairs (cross-traffic queueing) is the whole
// capture's.
func (e *Explainer) Fork() flow.Consumer {
	e.forked = true
	if e.result == nil {
		e.result = make(map[*flow.Conn]*Conn)
	}
	return &Explainer{opts: e.opts, live: make(map[*flow.Conn]*connState), pairs: make(map[hostPair]*pairState), root: e}
}

// Merge does nothing: the forks' explanations have reached e through
// ConnEnd.
func (e *Explainer) Merge([]flow.Consumer) {}

// hostPair names the two hosts of a connection, the smaller address first.
type hostPair struct{ a, b netip.Addr }

// pair returns the record of the hosts a and b, counting one more live
// connection on it.
func (e *Explainer) pair(a, b netip.Addr) *pairState {
	if b.Less(a) {
		a, b = b, a
	}
	k := hostPair{a, b}
	p := e.pairs[k]
	if p == nil {
		p = &pairState{key: k}
		e.pairs[k] = p
	}
	p.refs++
	return p
}

// release drops a connection's hold on its host pair's record, forgetting
// the record with the pair's last live connection.
func (e *Explainer) release(p *pairState) {
	if p == nil {
		return
	}
	if p.refs--; p.refs <= 0 {
		delete(e.pairs, p.key)
	}
}

// isEvent reports whether s ends a stretch of the budget: it carries data,
// SYN, FIN or RST (pure ACKs only move the state on).
func isEvent(s *tcpstate.Segment) bool {
	return s.Len > 0 || s.Flags&(tcpstate.SYN|tcpstate.FIN|tcpstate.RST) != 0
}

// nanos returns t as Unix nanoseconds, the connection state's time.
func nanos(t time.Time) int64 { return t.UnixNano() }
