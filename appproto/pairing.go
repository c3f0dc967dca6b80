package appproto

import "time"

// txn is a transaction being assembled: its state, then its text.
type txn struct {
	txnState
	// query, host and path hold the request's text until it completes.
	query, host, path textBuf
}

// txnState is what a txn holds besides its text.
type txnState struct {
	Transaction
	id          uint64
	reqDone     bool
	respStarted bool
	respLost    bool // its response began in a gap: the capture lost its start
	reqIdx      uint64
	respIdx     uint64
	turnBased   bool   // the request ends the previous transaction (EndsPrevious)
	turn0, turn uint64 // the connection's turn count at the first and last message
}

// push appends a new transaction to the queue and returns it. Its text
// buffers are reused, not cleared: only their lengths are reset.
func (p *pairing) push(id uint64) *txn {
	if len(p.q) < cap(p.q) {
		p.q = p.q[:len(p.q)+1]
	} else {
		p.q = append(p.q, txn{})
	}
	tx := &p.q[len(p.q)-1]
	tx.txnState = txnState{id: id}
	tx.query.reset()
	tx.host.reset()
	tx.path.reset()
	return tx
}

// querySep joins the statements of one request (PostgreSQL Parse
// messages up to Sync).
var querySep = []byte("; ")

// openMsg is what pairing knows of a direction's open message.
type openMsg struct {
	txn   uint64 // the transaction it belongs to, 0 none
	ghost bool   // a response to a request beyond MaxPending
}

// pairing pairs the requests and responses of one connection from the
// messages framing reports, by their Role: it queues pending requests (at
// most maxPending with their timing), counts client turns and completes
// transactions. It sees messages only, never bytes.
type pairing struct {
	maxPending int
	proto      string  // the connection's protocol, as Conn.Protocol reports it
	h          Handler // nil: transactions are counted only

	q      []txn
	nextID uint64
	accum  uint64 // the request being sent, 0 none
	// over counts requests beyond maxPending, after those queued: their
	// responses are counted but not paired. phantom is set while such a
	// request is being sent.
	over    uint64
	phantom bool
	last    int // direction of the last message started, -1 none
	open    [2]openMsg

	// stats holds the pairing counters: Requests, Responses,
	// Transactions, Unanswered, Turns and the time sums.
	stats Stats
}

// newPairing returns the pairing state of a connection.
func newPairing(maxPending int, h Handler) pairing {
	return pairing{maxPending: maxPending, h: h, last: -1}
}

// start places a message that has just started (its Dir, Kind, Verb,
// Role, First and FirstPacket are set).
func (p *pairing) start(m *Message) {
	p.open[m.Dir] = openMsg{}
	if m.Dir == ClientToServer {
		if p.last != int(ClientToServer) {
			p.stats.Turns++
		}
		if m.Role.Has(Request) {
			p.startRequest(m)
		}
	} else {
		p.startServer(m)
	}
	p.last = int(m.Dir)
}

// startRequest joins m to the request being sent or opens a new one.
func (p *pairing) startRequest(m *Message) {
	// A request that ends the previous transaction completes the
	// responses under way; so does any request after a response whose
	// start the capture lost (one answer at a time: its end may never be
	// framed).
	if m.Role.Has(EndsPrevious) || len(p.q) > 0 && p.q[0].respLost {
		p.completeStarted()
	}
	tx := p.find(p.accum)
	if tx == nil && !p.phantom && (p.over > 0 || len(p.q) >= p.maxPending) {
		// Too many requests pending: count this one, pair it with its
		// response by order only.
		p.over++
		p.phantom = true
		p.stats.Requests++
	}
	if tx == nil && !p.phantom {
		p.nextID++
		tx = p.push(p.nextID)
		tx.Kind, tx.Verb = m.Kind, m.Verb
		tx.RequestFirst, tx.FirstPacket = m.First, m.FirstPacket
		tx.turn0 = p.stats.Turns
		tx.turnBased = m.Role.Has(EndsPrevious)
		p.stats.Requests++
		p.accum = tx.id
	}
	if tx != nil {
		p.open[ClientToServer].txn = tx.id
	}
}

// startServer closes the request being sent and gives a response message
// to the oldest request.
func (p *pairing) startServer(m *Message) {
	p.phantom = false
	if p.accum != 0 {
		if tx := p.find(p.accum); tx != nil {
			tx.reqDone = true
		}
		p.accum = 0
	}
	if m.Role&(Response|ResponseEnd|Interim) == 0 {
		return
	}
	o := &p.open[ServerToClient]
	o.ghost = len(p.q) == 0 && p.over > 0
	// The response belongs to the oldest request, once it is sent, unless
	// it began before that request: then it answers one the capture lost
	// (its bytes reach the pairing late, after a gap in its direction was
	// given up on), and stays unpaired.
	if len(p.q) > 0 && p.q[0].reqDone && !m.First.Before(p.q[0].RequestFirst) {
		tx := &p.q[0]
		if !tx.respStarted {
			tx.respStarted, tx.ResponseFirst = true, m.First
		}
		o.txn = tx.id
	}
}

// end accounts for a message that has ended.
func (p *pairing) end(m *Message) {
	o := p.open[m.Dir]
	tx := p.find(o.txn)
	switch {
	case tx == nil:
		p.endUnpaired(m, o.ghost)
	case m.Dir == ClientToServer:
		tx.turn = p.stats.Turns
		p.endRequest(tx, m)
	default:
		tx.turn = p.stats.Turns
		p.endResponse(tx, m)
	}
}

// endUnpaired accounts for a message of no queued transaction: a request
// beyond maxPending or its response.
func (p *pairing) endUnpaired(m *Message, ghost bool) {
	switch {
	case m.Dir == ClientToServer && p.phantom && m.Role.Has(NoResponse):
		p.over--
		p.phantom = false
	case m.Dir == ClientToServer && p.phantom && m.Role.Has(RequestEnd):
		p.phantom = false
	case m.Dir == ServerToClient && ghost && m.Role.Has(Interim):
		p.stats.Responses++
	case m.Dir == ServerToClient && ghost && m.Role.Has(ResponseEnd):
		p.stats.Responses++
		p.over--
	}
}

// lost accounts for n bytes of d lost in a gap outside any message, dated
// t: they belong to the transaction under way in d, if any (the request
// being sent; the oldest sent request, whose response is due). Their side
// spoke, though the capture lost what it said: for the turns, as a
// message would. A response due that had not begun begins with them (at
// t, the first byte captured after them): the capture lost its start, so
// no message of it may ever be framed, and the next request ends it (see
// startRequest).
func (p *pairing) lost(d Dir, n int64, t time.Time) {
	if d == ClientToServer && p.last != int(ClientToServer) {
		p.stats.Turns++
	}
	p.last = int(d)
	var tx *txn
	if d == ClientToServer {
		tx = p.find(p.accum)
	} else if len(p.q) > 0 && p.q[0].reqDone {
		tx = &p.q[0]
		if !tx.respStarted {
			tx.respStarted, tx.respLost, tx.ResponseFirst = true, true, t
		}
	}
	if tx != nil {
		tx.Incomplete = true
		tx.MissingBytes += n
	}
}

// missing adds what message m misses to its transaction.
func (tx *txn) missing(m *Message) {
	if m.Incomplete {
		tx.Incomplete = true
		tx.MissingBytes += m.MissingBytes
	}
}

// endRequest adds a request message to tx.
func (p *pairing) endRequest(tx *txn, m *Message) {
	tx.missing(m)
	if m.Query != nil || m.Host != nil || m.Path != nil {
		tx.takeText(m)
	}
	tx.RequestLast = m.Last
	tx.RequestBytes += m.Bytes
	tx.RequestSegments += m.Segments
	if m.Segments > 0 && m.FirstPacket == tx.reqIdx {
		tx.RequestSegments-- // the segment was counted with the previous message
	}
	tx.reqIdx = m.LastPacket
	tx.RequestMessages += 1 + m.merged
	if m.Role.Has(RequestEnd) {
		tx.reqDone = true
		if p.accum == tx.id {
			p.accum = 0
		}
	}
	if m.Role.Has(NoResponse) {
		if p.accum == tx.id {
			p.accum = 0
		}
		p.remove(tx.id)
	}
}

// takeText adds the text of request message m to tx: its statement
// after those of earlier messages, its host and path unless set.
func (tx *txn) takeText(m *Message) {
	cut := m.TextTruncated
	if len(m.Query) > 0 {
		switch {
		case len(tx.query.b) == 0:
			cut = tx.query.set(m.Query) || cut
		case tx.TextTruncated:
		default:
			cut = tx.query.add(querySep) || tx.query.add(m.Query) || cut
		}
	}
	if len(m.Host) > 0 && len(tx.host.b) == 0 {
		cut = tx.host.set(m.Host) || cut
	}
	if len(m.Path) > 0 && len(tx.path.b) == 0 {
		cut = tx.path.set(m.Path) || cut
	}
	tx.TextTruncated = tx.TextTruncated || cut
}

// endResponse adds a response message to tx, completing it at the
// response's end.
func (p *pairing) endResponse(tx *txn, m *Message) {
	tx.missing(m)
	tx.ResponseLast = m.Last
	tx.ResponseBytes += m.Bytes
	tx.ResponseSegments += m.Segments
	if m.Segments > 0 && m.FirstPacket == tx.respIdx {
		tx.ResponseSegments-- // the segment was counted with the previous message
	}
	tx.respIdx = m.LastPacket
	tx.ResponseMessages += 1 + m.merged
	if m.Role.Has(Error) {
		tx.Error = true
	}
	if m.Status != 0 {
		tx.Status = m.Status
	}
	if m.Role.Has(Interim) {
		p.stats.Responses++
		return
	}
	if m.Role.Has(ResponseEnd) {
		p.complete(tx)
	}
}

// completeStarted completes every transaction whose response has begun.
func (p *pairing) completeStarted() {
	for len(p.q) > 0 && p.q[0].respStarted {
		p.complete(&p.q[0])
	}
}

// complete reports tx and removes it from the queue. A response whose
// start the capture lost is no response seen (Stats.Responses, as tshark
// counts them), though its transaction is reported, incomplete.
func (p *pairing) complete(tx *txn) {
	if !tx.respLost {
		p.stats.Responses++
	}
	p.stats.Transactions++
	t := &tx.Transaction
	t.ID = int(p.stats.Transactions)
	t.Proto = p.proto
	if t.ResponseLast.IsZero() {
		t.ResponseLast = t.ResponseFirst
	}
	if t.RequestLast.IsZero() {
		t.RequestLast = t.RequestFirst
	}
	t.ServerTime = t.ResponseFirst.Sub(t.RequestLast)
	t.TransferTime = t.ResponseLast.Sub(t.ResponseFirst)
	t.Duration = t.ResponseLast.Sub(t.RequestFirst)
	t.LastPacket = tx.respIdx
	t.Turns = int(tx.turn-tx.turn0) + 1
	t.Query, t.Host, t.Path = tx.query.text(), tx.host.text(), tx.path.text()
	if t.Incomplete {
		p.stats.Incomplete++
	}
	p.stats.ServerTime += t.ServerTime
	p.stats.ServerTimeMax = max(p.stats.ServerTimeMax, t.ServerTime)
	p.stats.TransactionTime += t.Duration
	if p.h != nil {
		p.h.Transaction(t)
	}
	if p.accum == tx.id {
		p.accum = 0
	}
	p.remove(tx.id)
}

// close completes the responses under way and counts the requests left
// without one. A response under way whose protocol marks its end (the
// request was not turn-based) was cut by the end of the capture: its
// transaction is incomplete.
func (p *pairing) close() {
	for i := range p.q {
		if tx := &p.q[i]; tx.respStarted && !tx.turnBased {
			tx.Incomplete = true
		}
	}
	p.completeStarted()
	p.stats.Unanswered += uint64(len(p.q)) + p.over
	p.q = p.q[:0]
}

func (p *pairing) find(id uint64) *txn {
	if id == 0 {
		return nil
	}
	if len(p.q) > 0 && p.q[0].id == id {
		return &p.q[0] // the usual case: the oldest
	}
	for i := range p.q {
		if p.q[i].id == id {
			return &p.q[i]
		}
	}
	return nil
}

func (p *pairing) remove(id uint64) {
	for i := range p.q {
		if p.q[i].id == id {
			copy(p.q[i:], p.q[i+1:])
			p.q = p.q[:len(p.q)-1]
			return
		}
	}
}
