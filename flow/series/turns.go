package series

import (
	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
)

// TurnLog keeps the application transactions of one connection, as
// appproto paired an application protocol's requests and responses, as
// Turns: the timeline of a protocol appproto frames (SplitTurns finds the
// turns of any other in the segments). It is a flow.TransactionConsumer:
// list it in flow.Config.Consumers.
type TurnLog struct {
	conn       int
	limit      int
	turns      Turns
	disordered int
}

var _ flow.TransactionConsumer = (*TurnLog)(nil)

// NewTurnLog returns a TurnLog for the connection with the given ID
// (flow.Conn.ID) that keeps its first limit transactions (limit ≤ 0:
// DefaultMaxPoints).
func NewTurnLog(conn, limit int) *TurnLog {
	if limit <= 0 {
		limit = DefaultMaxPoints
	}
	return &TurnLog{conn: conn, limit: limit}
}

// Packet does nothing.
func (*TurnLog) Packet(*flow.PacketInfo) {}

// ConnEnd does nothing.
func (*TurnLog) ConnEnd(*flow.Conn) {}

// Transaction keeps t if it is of the log's connection and there is
// room: its request's first byte, its response's first and last bytes
// (zero when unanswered) and the bytes each way. A transaction whose
// response is dated before its request, or whose last response byte
// before its first, is left out and counted (Disordered): the request's
// bytes were completed by a segment captured after the answer (a
// reordering or a damaged sequence number), and a lifeline cannot fall
// upwards.
func (l *TurnLog) Transaction(c *flow.Conn, t *appproto.Transaction) {
	if c.ID != l.conn || len(l.turns) >= l.limit {
		return
	}
	if !t.ResponseFirst.IsZero() && (t.ResponseFirst.Before(t.RequestFirst) || t.ResponseLast.Before(t.ResponseFirst)) {
		l.disordered++
		return
	}
	l.turns = append(l.turns, Turn{Request: t.RequestFirst, RequestBytes: t.RequestBytes,
		FirstResponse: t.ResponseFirst, LastResponse: t.ResponseLast, ResponseBytes: t.ResponseBytes})
}

// Turns returns the transactions kept, in the order they completed.
func (l *TurnLog) Turns() Turns { return l.turns }

// Disordered returns how many of the connection's transactions were left
// out because their events are out of time order.
func (l *TurnLog) Disordered() int { return l.disordered }
